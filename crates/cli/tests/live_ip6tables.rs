//! Live differential test of the `ip6tables` command: each scenario runs in
//! a fresh namespace with the real ip6tables-nft and with `ironwall
//! ip6tables --rules F`; after every command the exit code, stdout, stderr
//! (version prefix normalised) and the `ip6tables-save` output must agree,
//! and a failed command must leave the rules file byte-identical.

mod common;

use common::{run_scenarios, Scenario};

/// Scenarios: a name and the commands (arguments after `ip6tables`).
const SCENARIOS: &[Scenario] = &[
    (
        "default-deny-host",
        &[
            "-P INPUT DROP",
            "-P FORWARD DROP",
            "-A INPUT -i lo -j ACCEPT",
            "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
            "-A INPUT -m conntrack --ctstate INVALID -j DROP",
            "-A INPUT -p ipv6-icmp -j ACCEPT",
            "-A INPUT -p icmpv6 --icmpv6-type neighbour-solicitation -j ACCEPT",
            "-A INPUT -p tcp --dport 22 -s 2001:db8::/32 -j ACCEPT",
            "-A INPUT -s fe80::/10 -p udp --dport 546 -j ACCEPT",
            "-A INPUT -j LOG --log-prefix 'ip6 drop: '",
            "-A INPUT -j REJECT --reject-with icmp6-adm-prohibited",
            "-L",
            "-L -n",
            "-vnL",
            "-S",
            "-L --line-numbers",
            "-L -n -v -x",
            "-S INPUT 3",
            "-L INPUT 4 -n",
        ],
    ),
    (
        "chains",
        &[
            "-N A",
            "-N A",
            "-A INPUT -j A",
            "-X A",
            "-E A B",
            "-L",
            "-P B DROP",
            "-F",
            "-X",
            "-Z",
        ],
    ),
    (
        "addresses",
        &[
            "-A INPUT -s 2001:db8::1 -j ACCEPT",
            "-A INPUT -d 2001:db8::/64 -j DROP",
            "-A INPUT -s 2001:db8::/ffff:ffff:0:ffff:: -j DROP",
            "-A INPUT ! -s ::1/128 -j DROP",
            "-A INPUT -s ::/0 -d ::ffff:1.2.3.4 -j ACCEPT",
            "-A INPUT -s ::1.2.3.4 -j ACCEPT",
            "-A INPUT -s 2001:db8::1,2001:db8::2 -j ACCEPT",
            "-A INPUT -s 2001:db8::1/129 -j ACCEPT",
            "-A INPUT -s 1.2.3.4 -j ACCEPT",
            "-A INPUT -s 2001:db8::/0 -j ACCEPT",
            "-A INPUT -s 2001:db8::/64 -d fe80::1/ffff:: -j ACCEPT",
            "-L",
            "-L -n",
            "-S",
        ],
    ),
    (
        "icmpv6",
        &[
            "-A INPUT -p icmpv6 --icmpv6-type echo-request -j ACCEPT",
            "-A INPUT -p ipv6-icmp --icmpv6-type 128 -j ACCEPT",
            "-A INPUT -p icmp6 --icmpv6-type 1/3 -j ACCEPT",
            "-A INPUT -p 58 ! --icmpv6-type router-advertisement -j ACCEPT",
            "-A INPUT -p icmpv6 --icmpv6-type neighbor-advertisement -j ACCEPT",
            "-A INPUT -p icmpv6 --icmpv6-type destination-unreachable -j ACCEPT",
            "-A INPUT -p icmpv6 --icmpv6-type no-route -j ACCEPT",
            "-A INPUT -p icmpv6 --icmpv6-type bogus -j ACCEPT",
            "-A INPUT -p icmpv6 --icmpv6-type 300 -j ACCEPT",
            "-A INPUT -p icmpv6 --icmpv6-type 1/2/3 -j ACCEPT",
            "-A INPUT -p icmp --icmp-type 8 -j ACCEPT",
            "-A INPUT -p tcp -m icmp6 --icmpv6-type 1 -j ACCEPT",
            "-L",
            "-L -n",
            "-S",
        ],
    ),
    (
        "reject",
        &[
            "-A INPUT -j REJECT",
            "-A INPUT -j REJECT --reject-with icmp6-no-route",
            "-A INPUT -j REJECT --reject-with no-route",
            "-A INPUT -j REJECT --reject-with icmp6-addr-unreachable",
            "-A INPUT -j REJECT --reject-with port-unreach",
            "-A INPUT -p tcp -j REJECT --reject-with tcp-reset",
            "-A INPUT -j REJECT --reject-with tcp-reset",
            "-A INPUT -j REJECT --reject-with icmp6-policy-fail",
            "-A INPUT -j REJECT --reject-with reject-route",
            "-A INPUT -j REJECT --reject-with icmp-port-unreachable",
            "-A INPUT -j REJECT --reject-with echo-reply",
            "-L",
            "-S",
        ],
    ),
    (
        "log",
        &[
            "-A INPUT -j LOG",
            "-A INPUT -j LOG --log-level 4 --log-prefix x",
            "-A INPUT -j LOG --log-tcp-sequence --log-tcp-options --log-ip-options --log-uid --log-macdecode",
            "-L",
            "-S",
        ],
    ),
    (
        "fragments-and-families",
        &[
            "-A INPUT -f -j DROP",
            "-A INPUT ! -f -j DROP",
            "-4 -A INPUT -j DROP",
            "-6 -A INPUT -j DROP",
            "-A INPUT -p tcp -m tcp --syn -j DROP",
            "-S",
        ],
    ),
    (
        "errors-and-help",
        &[
            "-A INPUT -p icmpv6 --icmp-type 8 -j ACCEPT",
            "-A INPUT -m icmp --icmp-type 8",
            "-A NOPE -j ACCEPT",
            "-t nat -A POSTROUTING -j MASQUERADE",
            "-V",
            "-h",
            "--bogus",
            "-L NOPE",
        ],
    ),
];

#[test]
fn live_ip6tables() {
    if !ironwall_lab::kernel_tests("live_ip6tables") {
        return;
    }
    let failures = run_scenarios("ip6tables", SCENARIOS);
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
