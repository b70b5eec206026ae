//! Live differential test of the `ip6tables` command: each scenario runs in
//! a fresh namespace with the real ip6tables-nft and with `ironwall
//! ip6tables --rules F`; after every command the exit code, stdout, stderr
//! (version prefix normalised) and the `ip6tables-save` output must agree,
//! and a failed command must leave the rules file byte-identical.

mod common;

use common::{normalize_prefix, run_scenarios, Scenario, Twin};
use ironwall_lab::{strip_comments, triple};

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
            "--fragment -A INPUT",
            "-A INPUT --frag",
            "--ipv4 -L",
            "--ipv6 -S",
            "-A INPUT -p ipv6-nonxt -j DROP",
            "-A INPUT -p 41 -j DROP",
            "-A INPUT -p ipv6-opts -j DROP",
            "-A INPUT ! -p ipv6-frag -j DROP",
            "-L",
            "-L -n",
            "-A INPUT -p tcp -m tcp --syn -j DROP",
            "-S",
        ],
    ),
    (
        "icmpv6-forms",
        &[
            "-A INPUT -m icmpv6 -p icmpv6 --icmpv6-type ping -j ACCEPT",
            "-A INPUT -p ipv6-icmp -m ipv6-icmp --icmpv6-type pong -j ACCEPT",
            "-A INPUT -p icmpv6 -m icmp6 --icmpv6-type neighbour -j ACCEPT",
            "-A INPUT -p icmpv6 --icmpv6-type ttl-zero-during-reassembly -j ACCEPT",
            "-A INPUT -p icmpv6 --icmpv6-type 4/2 -j ACCEPT",
            "-A INPUT -p icmpv6 --icmpv6-type 4:5 -j ACCEPT",
            "-A INPUT -p icmpv6 --icmpv6-type 4/x -j ACCEPT",
            "-A INPUT -p icmpv6 -j ACCEPT",
            "-A INPUT -p icmpv6 -m icmp6 -j ACCEPT",
            "-A INPUT ! -p icmpv6 -m icmp6 --icmpv6-type 1 -j ACCEPT",
            "-A INPUT -p icmpv6 --icmpv6-type 1 --icmpv6-type 2 -j ACCEPT",
            "-A INPUT -p icmpv6 --icmp-type 1 -j ACCEPT",
            "-L -n",
            "-L",
            "-S",
            "-D INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT",
            "-C INPUT -p icmpv6 --icmpv6-type 4/2 -j ACCEPT",
            "-S",
        ],
    ),
    (
        "odd-masks-and-names",
        &[
            "-A INPUT -s 2001:db8::1/ffff:0:ffff:: -j ACCEPT",
            "-A INPUT -d ::/ffff:: -j ACCEPT",
            "-A INPUT -s 2001:db8::/ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe -j ACCEPT",
            "-A INPUT -s ::1 -d ::2/127 -j ACCEPT",
            "-A INPUT -s ip6-localhost -j ACCEPT",
            "-A INPUT -s localhost -j ACCEPT",
            "-A INPUT -s 2001:db8::/64x -j ACCEPT",
            "-A INPUT -s 2001:db8::/-1 -j ACCEPT",
            "-A INPUT -s 2001:db8::/0x40 -j ACCEPT",
            "-A INPUT -s 2001:db8:::1 -j ACCEPT",
            "-A INPUT -s [2001:db8::1] -j ACCEPT",
            "-A INPUT -s ::ffff:10.0.0.1/96 -j ACCEPT",
            "-L",
            "-L -n",
            "-L -v",
            "-S",
            "-L -x -v --line-numbers",
        ],
    ),
    (
        "nat6",
        &[
            "-t nat -A POSTROUTING -o eth0 -j MASQUERADE",
            "-t nat -A POSTROUTING -o eth0 -s fd00::/8 -j SNAT --to-source 2001:db8::1",
            "-t nat -A PREROUTING -p tcp --dport 80 -j DNAT --to-destination [2001:db8::2]:8080",
            "-t nat -A PREROUTING -p tcp --dport 81 -j DNAT --to-destination 2001:db8::2",
            "-t nat -A PREROUTING -p tcp --dport 82 -j DNAT --to-destination [2001:db8::2]-[2001:db8::9]:80-90",
            "-t nat -A PREROUTING -p tcp --dport 83 -j DNAT --to-destination 2001:db8::2:80",
            "-t nat -A PREROUTING -p tcp --dport 84 -j REDIRECT --to-ports 8080",
            "-t nat -A POSTROUTING -p udp -j MASQUERADE --to-ports 1000-2000 --random",
            "-t nat -L",
            "-t nat -L -n",
            "-t nat -S",
        ],
    ),
    (
        "list-odd",
        &[
            "-A INPUT -p tcp ! --syn -j DROP",
            "-A INPUT ! -p udp -j DROP",
            "-A INPUT -i eth+ ! -o eth0 -j DROP",
            "-A INPUT -p esp -j ACCEPT",
            "-A INPUT -p ah -j ACCEPT",
            "-A INPUT ! -p AH -j ACCEPT",
            "-A INPUT -p 44 -j ACCEPT",
            "-A INPUT -p ipv6-route -j ACCEPT",
            "-A INPUT -p mh -j ACCEPT",
            "-A INPUT -p 0 -j ACCEPT",
            "-A INPUT -p 255 -j ACCEPT",
            "-L -v",
            "-L -n -v",
            "-S",
            "-v -A INPUT -s 2001:db8::1 -p tcp -j ACCEPT",
            "-v -D INPUT -s 2001:db8::1 -p tcp -j ACCEPT",
            "-Z INPUT 1",
            "-L -Z",
            "-A INPUT -c 5 6 -j DROP",
            "-I INPUT 2 -c 7 8 -s 2001:db8::5 -j ACCEPT",
            "-R INPUT 1 -c 9 10 -j ACCEPT",
            "-S -v",
            "-L -v -x",
        ],
    ),
    (
        "more-errors",
        &[
            "-A INPUT -s 1.2.3.4/8 -j DROP",
            "-A INPUT -d 2001:db8::1,10.0.0.1 -j DROP",
            "-A INPUT ! -s 2001:db8::1,2001:db8::2 -j DROP",
            "-A INPUT -p tcp -f",
            "-A INPUT -j REJECT --reject-with tcp-rst",
            "-A INPUT -p tcp -j REJECT --reject-with tcp-reset",
            "-A OUTPUT -j REJECT --reject-with addr-unreach",
            "-t nat -A OUTPUT -j REJECT",
            "-t mangle -A PREROUTING -j LOG --log-level bogus",
            "-4 -L",
            "-6 -L",
            "--version",
            "-S",
        ],
    ),
    (
        "hl",
        &[
            "-A INPUT -m hl",
            "-A INPUT -m hl --hl-eq 42",
            "-A INPUT -m hl ! --hl-eq 42",
            "-A INPUT -m hl --hl-lt 42",
            "-A INPUT -m hl --hl-gt 0x10",
            "-A INPUT -m hl --hl 255",
            "-A INPUT -m hl --hl 256",
            "-A INPUT -m hl ! --hl-lt 1",
            "-A INPUT -m hl --hl-gt 42 --hl-eq 42",
            "-A INPUT -m hl --hl-gt",
            "-L",
            "-S",
        ],
    ),
    (
        "frag",
        &[
            "-A INPUT -m frag",
            "-A INPUT -m frag --fragid 1:42",
            "-A INPUT -m frag --fragid 7 --fraglen 42",
            "-A INPUT -m frag ! --fragid 1 ! --fraglen 42 --fragres --fragfirst",
            "-A INPUT -m frag --fragfirst --fragmore",
            "-A INPUT -m frag --fraglast",
            "-A INPUT -m frag --fraglast --fragmore",
            "-A INPUT -m frag --fragid :5",
            "-A INPUT -m frag --fragid 5:",
            "-A INPUT -m frag --fragid 9:3",
            "-A INPUT -m frag --fragid 1:2:3",
            "-A INPUT -m frag --fragid x",
            "-A INPUT -m frag --fragid 4294967296",
            "-A INPUT -m frag --fragid 1x",
            "-A INPUT -d ff02::fb/128 -p udp -m udp --dport 5353 -m frag --fragmore",
            "-L",
            "-L -n",
            "-S",
        ],
    ),
    (
        "ah-eui64",
        &[
            "-A INPUT -m ah",
            "-A INPUT -m ah --ahspi 0",
            "-A INPUT -m ah --ahspi 4294967295",
            "-A INPUT -m ah --ahspi 0:4294967295",
            "-A INPUT -m ah ! --ahspi 0",
            "-A INPUT -m ah --ahres --ahlen 32",
            "-A INPUT -m ah ! --ahlen 0",
            "-A INPUT -m ah --ahspi -1",
            "-A INPUT -m ah --ahspi 0:invalid",
            "-A INPUT -m ah --ahspi",
            "-A INPUT -m eui64",
            "-A FORWARD -m eui64 -j DROP",
            "-A OUTPUT -m eui64",
            "-t raw -A PREROUTING -m eui64",
            "-N C",
            "-A C -m eui64",
            "-A OUTPUT -j C",
            "-L",
            "-L -n -v",
            "-S",
        ],
    ),
    (
        "ipv6header",
        &[
            "-A INPUT -m ipv6header --header hop",
            "-A INPUT -m ipv6header ! --header route,frag --soft",
            "-A INPUT -m ipv6header --header ipv6-opts,ah,esp,none,prot",
            "-A INPUT -m ipv6header --header 0,60,43,44,51,50,59,255",
            "-A INPUT -m ipv6header --header hop-by-hop,,dst,",
            "-A INPUT -m ipv6header --header tcp",
            "-A INPUT -m ipv6header --header bogus",
            "-A INPUT -m ipv6header --header ,",
            "-A INPUT -m ipv6header --soft",
            "-A INPUT -m ipv6header --header HOPOPT",
            "-L",
            "-L -n",
            "-S",
        ],
    ),
    (
        "rt",
        &[
            "-A INPUT -m rt",
            "-A INPUT -m rt --rt-type 2 --rt-segsleft 1:23 --rt-len 8",
            "-A INPUT -m rt ! --rt-type 4294967295 ! --rt-segsleft 5 ! --rt-len 0",
            "-A INPUT -m rt --rt-type 0 --rt-0-res --rt-0-addrs 2001:db8::1,::1 --rt-0-not-strict",
            "-A INPUT -m rt --rt-type 0 --rt-0-addrs ::ffff:1.2.3.4",
            "-A INPUT -m rt --rt-0-res",
            "-A INPUT -m rt --rt-type 1 --rt-0-addrs ::1",
            "-A INPUT -m rt ! --rt-type 0 --rt-0-res",
            "-A INPUT -m rt --rt-type 0 --rt-0-not-strict",
            "-A INPUT -m rt --rt-type 0 --rt-0-addrs ::1,bogus",
            "-A INPUT -m rt --rt-type 0 --rt-0-addrs ::1,",
            "-A INPUT -m rt --rt-type 0 --rt-0-addrs ::1,::2,::3,::4,::5,::6,::7,::8,::9,::10,::11,::12,::13,::14,::15,::16,::17",
            "-A INPUT -m rt --rt-type 0 --rt-0-addrs ::1,::2,::3,::4,::5,::6,::7,::8,::9,::10,::11,::12,::13,::14,::15,::16",
            "-A INPUT -m rt --rt-segsleft 3:",
            "-L",
            "-L -n",
            "-S",
        ],
    ),
    (
        "hbh-dst",
        &[
            "-A INPUT -m hbh",
            "-A INPUT -m hbh --hbh-len 8 --hbh-opts 1:2,5",
            "-A INPUT -m hbh ! --hbh-len 0 --hbh-opts 0x10:0x20,0377",
            "-A INPUT -m dst --dst-len 16 --dst-opts 3",
            "-A INPUT -m dst --dst-opts 1:255,-1,256:257",
            "-A INPUT -m dst --dst-opts 0:4",
            "-A INPUT -m hbh --hbh-opts 0:4",
            "-A INPUT -m hbh --hbh-opts x",
            "-A INPUT -m hbh --hbh-opts 1x",
            "-A INPUT -m dst --dst-opts 1:",
            "-A INPUT -m dst --dst-opts ,",
            "-A INPUT -m dst --dst-opts 99999999999999999999999",
            "-A INPUT -m dst --dst-opts 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16",
            "-A INPUT -m dst --dst-opts 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17",
            "-A INPUT -m dst --dst-opts 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16:1",
            "-A INPUT -m hbh --hbh-len x",
            "-L",
            "-S",
        ],
    ),
    (
        "readme-default-deny",
        &[
            "-P INPUT DROP",
            "-P FORWARD DROP",
            "-A INPUT -i lo -j ACCEPT",
            "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
            "-A INPUT -m conntrack --ctstate INVALID -j DROP",
            "-A INPUT -p ipv6-icmp --icmpv6-type neighbour-solicitation -j ACCEPT",
            "-A INPUT -p ipv6-icmp --icmpv6-type neighbour-advertisement -j ACCEPT",
            "-A INPUT -p ipv6-icmp --icmpv6-type router-advertisement -m hl --hl-eq 255 -j ACCEPT",
            "-A INPUT -p ipv6-icmp --icmpv6-type echo-request -j ACCEPT",
            "-A INPUT -s 2001:db8::/32 -p tcp --dport 22 -j ACCEPT",
            "-A INPUT -j LOG --log-prefix 'ip6 drop: '",
            "-A INPUT -j REJECT --reject-with icmp6-adm-prohibited",
            "-vnL",
        ],
    ),
    (
        "xt-matches-v6",
        &[
            "-A INPUT -m conntrack --ctorigsrc 2001:db8::1 --ctorigdst 2001:db8::/64 --ctreplsrc ::1 ! --ctrepldst fe80::/10 -j ACCEPT",
            "-A INPUT -m conntrack --ctorigsrc 1.2.3.4 -j ACCEPT",
            "-A INPUT -m conntrack --ctexpire -0",
            "-A INPUT -m conntrack --ctexpire 5:",
            "-A INPUT -m conntrack ! --ctexpire :7",
            "-A INPUT -m state --state NEW,ESTABLISHED -j ACCEPT",
            "-A INPUT -m iprange --src-range 2001:db8::1-2001:db8::9 ! --dst-range ::1-::2 -j ACCEPT",
            "-A INPUT -m multiport -p tcp --dports 22,80:90 -j ACCEPT",
            "-A INPUT -m mac --mac-source 00:11:22:33:44:55 -j ACCEPT",
            "-A INPUT -m limit --limit 3/s --limit-burst 5 -j ACCEPT",
            "-A INPUT -m comment --comment 'v6 rule' -j ACCEPT",
            "-A INPUT -m recent --name v6 --set --mask ffff:ffff:ffff:ffff::",
            "-A INPUT -m recent --name v6 --rcheck --seconds 60 --mask 255.255.255.0",
            "-A INPUT -m addrtype --src-type LOCAL --dst-type MULTICAST",
            "-A INPUT -m addrtype --src-type BLACKHOLE",
            "-A INPUT -m addrtype --dst-type BROADCAST",
            "-A INPUT -m mark --mark 0x1/0xff",
            "-A OUTPUT -m owner --uid-owner 0 -j ACCEPT",
            "-A INPUT -p udp -m udp --sport 547 --dport 546 -j ACCEPT",
            "-A INPUT -p sctp --dport 9 -j ACCEPT",
            "-L",
            "-L -n -v",
            "-S",
        ],
    ),
    (
        "xt-targets-v6",
        &[
            "-t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu",
            "-t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 65495",
            "-t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 65496",
            "-t mangle -A PREROUTING -j MARK --set-mark 7",
            "-t mangle -A POSTROUTING -p udp -j CHECKSUM --checksum-fill",
            "-t raw -A PREROUTING -j CT --notrack",
            "-t raw -A OUTPUT -j NOTRACK",
            "-A INPUT -j NFLOG --nflog-group 3 --nflog-prefix v6",
            "-A INPUT -j LOG --log-level debug --log-uid",
            "-t nat -A POSTROUTING -j SNAT --to-source 10.0.0.1",
            "-t nat -A POSTROUTING -j SNAT --to-source [2001:db8::1]",
            "-t nat -A POSTROUTING -p tcp -j SNAT --to-source [2001:db8::1]:1000-2000",
            "-t nat -A POSTROUTING -j SNAT --to-source 2001:db8::1-2001:db8::5",
            "-t nat -A PREROUTING -j DNAT --to-destination [2001:db8::1]:80",
            "-t nat -A PREROUTING -p tcp -j DNAT --to-destination [2001:db8::1",
            "-t nat -A OUTPUT -p tcp -j REDIRECT --to-ports 3128",
            "-t mangle -L",
            "-t raw -S",
            "-t nat -L -n",
            "-t nat -S",
        ],
    ),
    (
        "mh",
        &[
            "-A INPUT -p mh --mh-type binding-update",
            "-A INPUT -p mh ! --mh-type 1:4",
            "-A INPUT -p mh --mh-type b",
            "-A INPUT -p mh --mh-type BE",
            "-A INPUT -p mh --mh-type home-test",
            "-A INPUT -p mh --mh-type :cot",
            "-A INPUT -p mh --mh-type 3:",
            "-A INPUT -p mh --mh-type 9:8",
            "-A INPUT -p mh --mh-type 200",
            "-A INPUT -p mh --mh-type 256",
            "-A INPUT -p mh --mh-type bogus",
            "-A INPUT -p mh --mh-type 0:255",
            "-A INPUT -p mh -m mh",
            "-A INPUT -p ipv6-mh -m mh --mh-type 2",
            "-A INPUT -p ipv6-mh --mh-type 2",
            "-A INPUT -p 135 --mh-type 2",
            "-A INPUT -m mh --mh-type 2",
            "-A INPUT -p tcp -m mh --mh-type 2",
            "-L",
            "-L -n",
            "-S",
        ],
    ),
    (
        "hl-target",
        &[
            "-t mangle -A PREROUTING -j HL --hl-set 42",
            "-t mangle -A FORWARD -j HL --hl-inc 1",
            "-t mangle -A POSTROUTING -j HL --hl-dec 1",
            "-t mangle -A OUTPUT -j HL --hl-set 256",
            "-t mangle -A OUTPUT -j HL --hl-inc 0",
            "-t mangle -A OUTPUT -j HL --hl-dec 0",
            "-t mangle -A OUTPUT -j HL --hl-dec 1 --hl-inc 1",
            "-t mangle -A OUTPUT -j HL --hl-set --hl-inc 1",
            "-t mangle -A OUTPUT -j HL",
            "-A INPUT -j HL --hl-set 1",
            "-t mangle -L",
            "-t mangle -S",
        ],
    ),
    (
        "address-forms",
        &[
            "-A INPUT -s fe80::1%eth0 -j ACCEPT",
            "-A INPUT -s fe80::1%1 -j ACCEPT",
            "-A INPUT -s fe80::2%lo -j ACCEPT",
            "-A INPUT -s 2001:db8::2%lo -j ACCEPT",
            "-A INPUT -s 2001:db8::3%4294967295 -j ACCEPT",
            "-A INPUT -s 2001:db8::3%4294967296 -j ACCEPT",
            "-A INPUT -s 2001:db8::3%+1 -j ACCEPT",
            "-A INPUT -s 2001:db8::3% -j ACCEPT",
            "-A INPUT -s ff02::1%lo -j ACCEPT",
            "-A INPUT -s ff05::1%lo -j ACCEPT",
            "-A INPUT -s ::1/ -j ACCEPT",
            "-A INPUT -s /64 -j ACCEPT",
            "-A INPUT -s 2001:DB8::A -j ACCEPT",
            "-A INPUT -s 2001:db8::1/ffff::ffff -j ACCEPT",
            "-A INPUT -d ::ffff:1.2.3.4/120 -j ACCEPT",
            "-A INPUT -s ip6-allnodes -j ACCEPT",
            "-A INPUT -s ip6-localnet -j ACCEPT",
            "-A INPUT -s 2001:db8::1/128,2001:db8::/48 -d ::1,::2 -j ACCEPT",
            "-A INPUT -s 2001:db8:0:0:0:0:0:1 -j ACCEPT",
            "-A INPUT -s 2001:0db8::0001/0128 -j ACCEPT",
            "-A INPUT -s 2001:db8::1/ 64 -j ACCEPT",
            "-A INPUT -s 2001:db8::1/+64 -j ACCEPT",
            "-A INPUT -s ::/::",
            "-A INPUT -d ff02::1:ff00:0/104 -j ACCEPT",
            "-A INPUT -d 1:2:3:4:5:6:7:8/ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff -j ACCEPT",
            "-L",
            "-L -n",
            "-L -v",
            "-S",
            "-D INPUT -s 2001:db8::a/128 -j ACCEPT",
            "-C INPUT -s 2001:db8::1/128 -d ::2 -j ACCEPT",
        ],
    ),
    (
        "npt",
        &[
            "-t mangle -A PREROUTING -j DNPT --src-pfx dead::/64 --dst-pfx 1c3::/64",
            "-t mangle -A PREROUTING -j DNPT --src-pfx dead::beef --dst-pfx 1c3::/64",
            "-t mangle -A PREROUTING -j DNPT --src-pfx dead::beef/64 --dst-pfx 1c3::/64",
            "-t mangle -A PREROUTING -j DNPT --src-pfx dead::/48 --dst-pfx 1c3::/ffff:ffff:ffff::",
            "-t mangle -A PREROUTING -j DNPT --src-pfx dead::/65 --dst-pfx 1c3::/64",
            "-t mangle -A PREROUTING -j DNPT --src-pfx dead::/64",
            "-t mangle -A PREROUTING -j DNPT --dst-pfx dead::/64",
            "-t mangle -A PREROUTING -j DNPT",
            "-t mangle -A PREROUTING -j DNPT --src-pfx dead::/x --dst-pfx 1c3::/64",
            "-t mangle -A PREROUTING -j DNPT --src-pfx 1.2.3.4/8 --dst-pfx 1c3::/64",
            "-t mangle -A INPUT -j DNPT --src-pfx dead::/64 --dst-pfx 1c3::/64",
            "-t mangle -A POSTROUTING -j SNPT --src-pfx dead::/64 --dst-pfx 1c3::/64",
            "-t mangle -A INPUT -j SNPT --src-pfx dead::/64 --dst-pfx 1c3::/64",
            "-t mangle -A OUTPUT -j SNPT --src-pfx dead::/64 --dst-pfx 1c3::/64",
            "-A INPUT -j SNPT --src-pfx dead::/64 --dst-pfx 1c3::/64",
            "-t mangle -L",
            "-t mangle -S",
        ],
    ),
    (
        "netmap",
        &[
            "-t nat -A PREROUTING -j NETMAP --to dead::/64",
            "-t nat -A POSTROUTING -j NETMAP --to dead::beef",
            "-t nat -A INPUT -j NETMAP --to dead::beef/56",
            "-t nat -A OUTPUT -j NETMAP --to dead::beef/ffff:ffff::",
            "-t nat -A OUTPUT -j NETMAP --to dead::beef/ffff::ffff",
            "-t nat -A OUTPUT -j NETMAP --to dead::/129",
            "-t nat -A OUTPUT -j NETMAP --to ::/0",
            "-t nat -A OUTPUT -j NETMAP --to 1.2.3.4/8",
            "-t nat -A OUTPUT -j NETMAP",
            "-A INPUT -j NETMAP --to dead::/64",
            "-t nat -L",
            "-t nat -S",
        ],
    ),
    (
        "srh",
        &[
            "-A INPUT -m srh",
            "-A INPUT -m srh --srh-next-hdr 17 --srh-segs-left-eq 1 --srh-last-entry-eq 4 --srh-tag 0",
            "-A INPUT -m srh ! --srh-next-hdr 17 ! --srh-segs-left-eq 0 --srh-tag 0",
            "-A INPUT -m srh --srh-hdr-len-eq 8 --srh-hdr-len-gt 9 ! --srh-hdr-len-lt 10",
            "-A INPUT -m srh ! --srh-segs-left-gt 1 --srh-segs-left-lt 7 --srh-last-entry-gt 2 ! --srh-last-entry-lt 3",
            "-A INPUT -m srh --srh-tag 65535",
            "-A INPUT -m srh --srh-tag 65536",
            "-A INPUT -m srh --srh-next-hdr 256",
            "-A INPUT -m srh --srh-psid a::/64 --srh-nsid b::/128 --srh-lsid c::/0",
            "-A INPUT -m srh ! --srh-psid a::1/64 ! --srh-nsid b::2 ! --srh-lsid c::/ffff::",
            "-A INPUT -m srh --srh-psid 1.2.3.4",
            "-A INPUT -m srh --srh-psid a::/129",
            "-L",
            "-L -n",
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

/// An IPv6 default-deny host as guides write it, in ip6tables-save form.
const HOST6: &str = "*filter
:INPUT DROP [10:2000]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [5:400]
:LOGDROP - [0:0]
[1:80] -A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 135 -j ACCEPT
-A INPUT -p icmpv6 --icmpv6-type neighbor-advertisement -j ACCEPT
-A INPUT -p ipv6-icmp -m icmp6 ! --icmpv6-type 1/4 -j ACCEPT
-A INPUT -s 2001:db8::/32 -d 2001:db8::1/128 -p tcp -m tcp --dport 22 -j ACCEPT
-A INPUT -s fe80::/ffff:ffff:: -p udp --dport 546 -j ACCEPT
-A INPUT -j LOGDROP
-A LOGDROP -m limit --limit 5/min -j LOG --log-prefix \"ip6 drop \" --log-level 6
-A LOGDROP -p tcp -j REJECT --reject-with tcp-reset
-A LOGDROP -j REJECT --reject-with icmp6-adm-prohibited
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -p tcp --dport 80 -j DNAT --to-destination [2001:db8::2]:8080
-A POSTROUTING -o eth0 -j MASQUERADE
COMMIT
";

/// (name, restore arguments, input).
const RESTORES: &[(&str, &[&str], &str)] = &[
    ("host6", &[], HOST6),
    ("host6-counters", &["-c"], HOST6),
    (
        "family-lines",
        &[],
        "*filter\n-4 -A INPUT -s 1.2.3.4 -j ACCEPT\n-6 -A INPUT -s ::1 -j DROP\nCOMMIT\n",
    ),
    (
        "ipv4-address",
        &[],
        "*filter\n-A INPUT -s ::1 -j DROP\n-A INPUT -s 10.0.0.1 -j DROP\nCOMMIT\n",
    ),
    (
        "icmp-in-ipv6",
        &[],
        "*filter\n-A INPUT -p icmp -m icmp --icmp-type 8 -j ACCEPT\nCOMMIT\n",
    ),
    (
        "bad-icmpv6-type",
        &[],
        "*filter\n-A INPUT -p icmpv6 --icmpv6-type bogus -j ACCEPT\nCOMMIT\n",
    ),
    (
        "fragment-option",
        &[],
        "*filter\n-A INPUT -f -j DROP\nCOMMIT\n",
    ),
    (
        "reject-ipv4-type",
        &[],
        "*filter\n-A INPUT -j REJECT --reject-with icmp-host-prohibited\nCOMMIT\n",
    ),
    (
        "table-option",
        &[],
        "*filter\n-t nat -A INPUT -j ACCEPT\nCOMMIT\n",
    ),
    ("help", &["-h"], ""),
    ("test-only", &["-t"], HOST6),
    (
        "noflush",
        &["-n"],
        "*filter\n-A INPUT -s ::1 -j ACCEPT\nCOMMIT\n",
    ),
    ("table-filter", &["-T", "nat"], HOST6),
    ("version", &["-V"], ""),
    ("bad-option", &["--bogus"], ""),
];

/// ip6tables-restore through the real tool and ironwall: exit code,
/// stdout and stderr agree; after a success `ip6tables-save -c`, `-S` and
/// `-L -n -v` agree; after a failure the rules file is unchanged.
#[test]
fn live_ip6tables_restore_save() {
    if !ironwall_lab::kernel_tests("live_ip6tables_restore_save") {
        return;
    }
    let mut bad = Vec::new();
    for (name, args, input) in RESTORES {
        let twin = Twin::of("ip6tables", "rs6");
        let before = twin.rules_bytes();
        let (c, o, e) = triple(twin.ns.run("ip6tables-restore", args, Some(input)));
        let real = (c, normalize_prefix(&o), normalize_prefix(&e));
        let ours = twin.ours_sub("ip6tables-restore", args, Some(input));
        if real != ours {
            bad.push(format!(
                "[{name}] restore\n  real: {real:?}\n  ours: {ours:?}"
            ));
            continue;
        }
        if real.0 != 0 {
            if twin.rules_bytes() != before {
                bad.push(format!("[{name}] failed restore changed the rules file"));
            }
            continue;
        }
        let views: &[&[&str]] = &[&["-S"], &["-L", "-n", "-v"], &["-t", "nat", "-S"]];
        for view in views {
            let (real, ours) = (twin.real(view), twin.ours(view));
            if real != ours {
                bad.push(format!(
                    "[{name}] {view:?}\n  real: {real:?}\n  ours: {ours:?}"
                ));
            }
        }
        let save_runs: &[&[&str]] = &[
            &["-c"],
            &["-t", "nat"],
            &["-t", "mangle"],
            &["-t", "bogus"],
            &["-V"],
            &["-x"],
            &["--bogus"],
            &["extra"],
        ];
        for save_args in save_runs {
            let (c, o, e) = triple(twin.ns.run("ip6tables-save", save_args, None));
            let real = (
                c,
                strip_comments(&normalize_prefix(&o)),
                normalize_prefix(&e),
            );
            let (c, o, e) = twin.ours_sub("ip6tables-save", save_args, None);
            let ours = (c, strip_comments(&o), e);
            if real != ours {
                bad.push(format!(
                    "[{name}] save {save_args:?}\n  real: {real:?}\n  ours: {ours:?}"
                ));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}
