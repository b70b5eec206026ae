//! The target extensions (LOG, REJECT, DNAT, SNAT, MASQUERADE, REDIRECT,
//! MARK, NFLOG, CT, NOTRACK, TCPMSS, CHECKSUM, SET) against the real
//! iptables-nft: each case runs its commands through `iptables` in a fresh
//! network namespace and through the model on a fresh ruleset, and the
//! exit codes, the first line of each error message (program prefix
//! aside), `-S`, `-L`, `-L -v`, `-L -n` and `-L -n -v` must be identical (the prot
//! column of the real `-n` listings mapped to names, DECISIONS.md 4).
//!
//! `CASES6` do the same with ip6tables.
//!
//! Needs root and the kernel: runs under `ironwall_lab::kernel_tests`.

use ironwall_lab::{kernel_tests, normalize_prot, shell_split, triple, Netns};
use ironwall_model::addr::Family;
use ironwall_model::ext::set::IpSet;
use ironwall_model::ruleset::Ruleset;
use ironwall_model::run_iptables;

/// One case: commands run in order. A command starting with `ipset ` runs
/// the real ipset (and names the set for the model); the others are
/// iptables arguments. The listings compared are of the table of the last
/// command.
const CASES: &[&[&str]] = &[
    // LOG
    &[r#"-A INPUT -p tcp -j LOG --log-prefix "tcp.in.dropped ""#],
    &[r#"-A OUTPUT -j LOG --log-level panic --log-macdecode --log-uid --log-ip-options --log-tcp-options --log-tcp-sequence --log-prefix 'a"b\c'"#],
    &[
        "-A INPUT -j LOG --log-level alert",
        "-A INPUT -j LOG --log-level crit",
        "-A INPUT -j LOG --log-level debug",
        "-A INPUT -j LOG --log-level emerg",
        "-A INPUT -j LOG --log-level error",
        "-A INPUT -j LOG --log-level info",
        "-A INPUT -j LOG --log-level notice",
        "-A INPUT -j LOG --log-level warning",
        "-A INPUT -j LOG --log-level 0x3",
        "-A INPUT -j LOG --log-level 7 --log-uid",
        "-A INPUT -j LOG --log-level warn",
        "-A INPUT -j LOG --log-level 8",
        "-A INPUT -j LOG --log-prefix ''",
        "-A INPUT -j LOG --log-prefix 123456789012345678901234567890",
        "-A INPUT -j LOG --log-uid --log-uid",
        "-t nat -A POSTROUTING -j LOG",
        "-A INPUT -j LOG --log-level -0",
        "-A INPUT -j LOG --log-level ' +3'",
    ],
    // REJECT
    &[
        "-A INPUT -j REJECT",
        "-A INPUT -j REJECT --reject-with icmp-net-unreachable",
        "-A INPUT -j REJECT --reject-with host-unreach",
        "-A INPUT -j REJECT --reject-with icmp-proto-unreachable",
        "-A FORWARD -j REJECT --reject-with port-unreach",
        "-A FORWARD -j REJECT --reject-with net-prohib",
        "-A OUTPUT -j REJECT --reject-with icmp-host-prohibited",
        "-A OUTPUT -j REJECT --reject-with ADMIN",
        "-A OUTPUT -j REJECT --reject-with ''",
        "-A OUTPUT -p tcp -j REJECT --reject-with tcp-rst",
        "-A OUTPUT -j REJECT --reject-with bogus",
        "-A INPUT -j REJECT --reject-with tcp-reset",
        "-I INPUT -p udp -j REJECT --reject-with tcp-reset",
        "-R INPUT 1 ! -p tcp -j REJECT --reject-with tcp-reset",
    ],
    // Matches kept as xt matches go through the same kernel checks.
    &["-A INPUT -m tcp -j ACCEPT", "-I INPUT ! -p tcp -m tcp --tcp-option 5", "-A NOSUCH -m udp"],
    &["-t mangle -A INPUT -j REJECT"],
    &["-t raw -A OUTPUT -j REJECT"],
    &["-t nat -A INPUT -j REJECT"],
    &["-N U", "-A U -j REJECT", "-A INPUT -j U", "-A FORWARD -g U"],
    // DNAT
    &[
        "-t nat -A PREROUTING ! -s 10.137.0.0/24 -p tcp -m tcp --dport 22 -j DNAT --to-destination 172.17.0.4:8022",
        "-t nat -A PREROUTING -j DNAT --to-destination 1.1.1.1-1.1.1.10",
        "-t nat -A OUTPUT -p tcp -j DNAT --to-destination :80 --random --persistent",
        "-t nat -A OUTPUT -p udp -j DNAT --to-destination 1.1.1.1-1.1.1.10:10-20/0x10",
        "-t nat -A OUTPUT -p tcp -j DNAT --to-destination 1.1.1.1:ssh",
        "-t nat -A OUTPUT -p sctp -j DNAT --to-destination 1.1.1.1:0x10-0x20/ftp",
        "-t nat -A OUTPUT -p tcp -j DNAT --to-destination 1.1.1.1:10-20/5x",
        "-t nat -A PREROUTING -j DNAT --to-destination 1.1.1.1:80",
        "-t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.1.1.1:80:90",
        "-t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.1.1.1:80x",
        "-t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.1.1.1:90-80",
        "-t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.1.1.1:80-90x",
        "-t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.1.1.1:80-90/0",
        "-t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.1.1.1:",
        "-t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.1.1.1:echo-ssh",
        "-t nat -A PREROUTING -j DNAT --to-destination 1.2.3",
        "-t nat -A PREROUTING -j DNAT --to-destination [1.2.3.4]:5",
        "-t nat -A PREROUTING -j DNAT --to-destination 1.1.1.1--1.1.1.2",
        "-t nat -A PREROUTING -j DNAT --to-destination 1.1.1.1 --random-fully",
        "-t nat -A PREROUTING -j DNAT",
        "-t nat -A POSTROUTING -j DNAT --to-destination 1.1.1.1",
        "-t nat -A INPUT -j DNAT --to-destination 1.1.1.1",
        "-t nat -A PREROUTING -j DNAT --to-destination 1.1.1.1:80 -p tcp",
        "-t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.1.1.1:-0",
        "-t nat -A PREROUTING -p tcp -j DNAT --to-destination ' 1.1.1.1'",
    ],
    &["-A INPUT -j DNAT --to-destination 1.1.1.1"],
    &[
        "-t nat -N U",
        "-t nat -A U -j DNAT --to-destination 1.2.3.4",
        "-t nat -A POSTROUTING -j U",
        "-t nat -A PREROUTING -j U",
        "-t nat -N V",
        "-t nat -A POSTROUTING -j V",
        "-t nat -I V -j DNAT --to-destination 1.2.3.4",
        "-t nat -N W",
        "-t nat -A W -j U",
        "-t nat -A INPUT -g W",
        "-t nat -A OUTPUT -g W",
        "-t nat -A V -j SNAT --to-source 1.2.3.4",
    ],
    // SNAT, MASQUERADE, REDIRECT
    &[
        "-t nat -A POSTROUTING -j SNAT --to-source 1.1.1.1 --random-fully --persistent --random",
        "-t nat -A POSTROUTING -p icmp -j SNAT --to-source 1.1.1.1-1.1.1.9:5",
        "-t nat -A POSTROUTING -p tcp -j SNAT --to-source :5-6",
        "-t nat -A INPUT -p tcp -j SNAT --to-source 1.1.1.1:10-20/30",
        "-t nat -A POSTROUTING -j SNAT --to-source 1.1.1.1:1025",
        "-t nat -A POSTROUTING -j SNAT --to-source 1.1.1.1 --to-source 1.1.1.2",
        "-t nat -A OUTPUT -j SNAT --to-source 1.1.1.1",
        "-t nat -A POSTROUTING -j MASQUERADE",
        "-t nat -A POSTROUTING -p udp -j MASQUERADE --to-ports 1000-2000 --random --random-fully",
        "-t nat -A POSTROUTING -p tcp -j MASQUERADE --to-ports 10-20/30",
        "-t nat -A POSTROUTING -p tcp -j MASQUERADE --to-ports 1.1.1.1",
        "-t nat -A POSTROUTING -p tcp -j MASQUERADE --to-ports -1",
        "-t nat -A INPUT -j MASQUERADE",
        "-t nat -A PREROUTING -p tcp -j REDIRECT --to-ports 1000-2000 --random",
        "-t nat -A OUTPUT -p udp -j REDIRECT --to-ports ftp-data",
        "-t nat -A OUTPUT -j REDIRECT",
        "-t nat -A OUTPUT -p tcp -j REDIRECT --to-ports 10-20/30",
        "-t nat -A OUTPUT -p tcp -j REDIRECT --to-ports 10-ssh",
        "-t nat -A OUTPUT -j REDIRECT --to-ports 42",
        "-t nat -A POSTROUTING -j REDIRECT",
    ],
    // MARK
    &[
        "-A INPUT -j MARK --set-mark 1",
        "-A INPUT -j MARK --set-mark 0x10/0xf0",
        "-A INPUT -j MARK --set-xmark 1/3",
        "-A INPUT -j MARK --set-xmark 4294967295",
        "-A INPUT -j MARK --and-mark 0xff",
        "-A INPUT -j MARK --or-mark 0x4",
        "-A INPUT -j MARK --xor-mark 0x8",
        "-A INPUT -j MARK --and-mark 0xffffffff",
        "-A INPUT -j MARK --set-xmark 4294967296",
        "-A INPUT -j MARK --set-xmark 1/0xg",
        "-A INPUT -j MARK --set-xmark 1x",
        "-A INPUT -j MARK --or-mark 1 --and-mark 2",
        "-A INPUT -j MARK --or-mark 1 --or-mark 2",
        "-A INPUT -j MARK",
        "-A INPUT -j MARK --set-xmark -0",
        "-A INPUT -j MARK --set-xmark ' 5/ 6'",
        "-A INPUT -j MARK --xor-mark -0",
    ],
    &["-t nat -A PREROUTING -j MARK --set-mark 7"],
    // NFLOG
    &[
        "-A INPUT -j NFLOG",
        "-A INPUT -j NFLOG --nflog-group 65535 --nflog-threshold 1",
        "-A INPUT -j NFLOG --nflog-threshold 0",
        "-A INPUT -j NFLOG --nflog-range 5",
        "-A INPUT -j NFLOG --nflog-size 0 --nflog-prefix 'a b'",
        "-A INPUT -j NFLOG --nflog-prefix xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "-A INPUT -j NFLOG --nflog-size 1 --nflog-range 2",
        "-A INPUT -j NFLOG --nflog-group 65536",
        "-A INPUT -j NFLOG --nflog-prefix ''",
        "-A INPUT -j NFLOG --nflog-group -0",
    ],
    // CT, NOTRACK
    &[
        "-t raw -A PREROUTING -j CT --notrack",
        "-t raw -A PREROUTING -j NOTRACK",
        "-t raw -A OUTPUT -j CT",
        "-t raw -A OUTPUT -p tcp -j CT --helper ftp",
        "-t raw -A OUTPUT -p udp -j CT --helper tftp --zone 3",
        "-t raw -A OUTPUT -j CT --helper ftp",
        "-t raw -A OUTPUT -p udp -j CT --helper ftp",
        "-t raw -A OUTPUT ! -p tcp -j CT --helper ftp",
        "-t raw -A OUTPUT -j CT --timeout foo",
        "-t raw -A OUTPUT -j CT --notrack --helper nosuch --zone 0",
        "-t raw -A OUTPUT -j CT --zone-orig mark --ctevents new,related,destroy,reply,assured,protoinfo,helper,mark,natseqinfo,secmark --expevents new",
        "-t raw -A OUTPUT -j CT --zone 5 --zone-orig 7",
        "-t raw -A OUTPUT -j CT --zone-orig 7 --zone-reply 8",
        "-t raw -A OUTPUT -j CT --zone-reply 65535",
        "-t raw -A OUTPUT -j CT --zone 65536",
        "-t raw -A OUTPUT -j CT --ctevents new,",
        "-t raw -A OUTPUT -j NOTRACK --zone 1",
        "-t raw -A OUTPUT -j CT --zone -0",
        "-t raw -A OUTPUT -j CT --zone ' 5'",
    ],
    &["-A INPUT -j CT --notrack"],
    &["-t mangle -A PREROUTING -j NOTRACK"],
    // TCPMSS
    &[
        "-t mangle -A POSTROUTING -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j TCPMSS --clamp-mss-to-pmtu",
        "-t mangle -A FORWARD -p tcp -j TCPMSS --set-mss 65515",
        "-t mangle -A PREROUTING -p tcp -j TCPMSS --clamp-mss-to-pmtu --set-mss 42",
        "-t mangle -A PREROUTING -p tcp -j TCPMSS --set-mss 42 --clamp-mss-to-pmtu",
        "-t mangle -A PREROUTING -p tcp -j TCPMSS --set-mss 65516",
        "-t mangle -A OUTPUT -j TCPMSS --set-mss 5",
        "-t mangle -A OUTPUT ! -p tcp -j TCPMSS --set-mss 5",
        "-t mangle -A OUTPUT -p tcp -j TCPMSS",
        "-t mangle -N T",
        "-t mangle -A T -p tcp -j TCPMSS --clamp-mss-to-pmtu",
        "-t mangle -A INPUT -j T",
    ],
    &["-A INPUT -p tcp -j TCPMSS --clamp-mss-to-pmtu"],
    // CHECKSUM
    &[
        "-t mangle -A POSTROUTING -p udp -j CHECKSUM --checksum-fill",
        "-t mangle -A POSTROUTING -j CHECKSUM",
    ],
    &["-A OUTPUT -j CHECKSUM --checksum-fill"],
    // SET
    &[
        "ipset create foo hash:ip",
        "ipset create bar hash:ip,port",
        "ipset create m hash:ip skbinfo",
        "-A INPUT -j SET --add-set foo src",
        "-A INPUT -j SET --add-set foo srcx,dstfoo,src --exist --timeout 5 --del-set bar dst,src",
        "-A INPUT -j SET --del-set bar dst --exist",
        "-A INPUT -j SET --add-set nosuch src",
        "-A INPUT -j SET --add-set foo",
        "-A INPUT -j SET --add-set foo sr",
        "-A INPUT -j SET --add-set foo src,src,src,src,src,src,src",
        "-A INPUT -j SET --add-set foo src --add-set foo dst",
        "-A INPUT -j SET --add-set foo src --timeout 4294967295",
        "-A INPUT -j SET",
        "-A INPUT -j SET --map-set m src --map-mark",
        "-A INPUT -j SET --map-set m src",
        "-t mangle -A INPUT -j SET --map-set m src --map-queue",
        "-t mangle -A OUTPUT -j SET --map-set m src,dst --map-prio --map-mark",
        "-t mangle -N S",
        "-t mangle -A S -j SET --map-set m src --map-queue",
        "-t mangle -A INPUT -j S",
        "-t raw -N R",
        "-t raw -A R -p udp -j CT --helper snmp",
        "-t raw -A OUTPUT -g R",
    ],
];

/// Cases for ip6tables, in the same form.
const CASES6: &[&[&str]] = &[
    &[
        "-A INPUT -j REJECT",
        "-A INPUT -j REJECT --reject-with icmp6-no-route",
        "-A INPUT -j REJECT --reject-with adm-prohibited",
        "-A INPUT -j REJECT --reject-with icmp6-addr-unreachable",
        "-A FORWARD -j REJECT --reject-with policy-fail",
        "-A FORWARD -j REJECT --reject-with icmp6-reject-route",
        "-A FORWARD -j REJECT --reject-with icmp6-",
        "-A OUTPUT -p tcp -j REJECT --reject-with tcp-reset",
        "-A OUTPUT -j REJECT --reject-with tcp-reset",
        "-A OUTPUT -j REJECT --reject-with icmp-port-unreachable",
        "-A OUTPUT -j REJECT --reject-with not-neighbor",
        "-A OUTPUT -j LOG --log-prefix v6 --log-level 6 --log-tcp-options",
        "-A OUTPUT -j MARK --or-mark 3",
    ],
    &["-t mangle -A INPUT -j REJECT"],
    &[
        "-t nat -A PREROUTING -j DNAT --to-destination dead::beef",
        "-t nat -A PREROUTING -j DNAT --to-destination dead::beef-dead::fee7",
        "-t nat -A PREROUTING -p tcp -j DNAT --to-destination [dead::beef]:1025-65535",
        "-t nat -A PREROUTING -p tcp -j DNAT --to-destination [dead::beef-dead::fee7]:1000-2000/1000",
        "-t nat -A PREROUTING -p tcp -j DNAT --to-destination [::ffff:1.2.3.4]:80 --random",
        "-t nat -A OUTPUT -p udp -j DNAT --to-destination :53",
        "-t nat -A OUTPUT -j DNAT --to-destination ::1.2.3.4",
        "-t nat -A OUTPUT -j DNAT --to-destination dead::beef:80",
        "-t nat -A PREROUTING -j DNAT --to-destination [dead::beef]:1025-65535",
        "-t nat -A PREROUTING -p tcp -j DNAT --to-destination [dead::beef",
        "-t nat -A PREROUTING -p tcp -j DNAT --to-destination []:80",
        "-t nat -A PREROUTING -p tcp -j DNAT --to-destination [dead::beef]:80:90",
        "-t nat -A PREROUTING -j DNAT --to-destination 1.2.3.4",
        "-t nat -A POSTROUTING -j SNAT --to-source dead::beef --random --random-fully --persistent",
        "-t nat -A POSTROUTING -p tcp -j SNAT --to-source [dead::beef-dead::fee7]:1025-65535/7",
        "-t nat -A POSTROUTING -p tcp -j MASQUERADE --to-ports 1024 --random",
        "-t nat -A PREROUTING -p tcp -j REDIRECT --to-ports 42-1234",
        "-t nat -A POSTROUTING -j DNAT --to-destination dead::beef",
    ],
    &[
        "-t mangle -A FORWARD -p tcp -j TCPMSS --set-mss 65495",
        "-t mangle -A FORWARD -p tcp -j TCPMSS --set-mss 65496",
        "-t mangle -A INPUT -p tcp -j TCPMSS --clamp-mss-to-pmtu",
        "-t mangle -A POSTROUTING -j CHECKSUM --checksum-fill",
    ],
];

/// The first line of an error message without the program prefix
/// (warnings iptables prints before it aside: the model has none).
fn message(stderr: &str) -> String {
    let line = stderr
        .lines()
        .find(|l| !l.starts_with("warn: "))
        .unwrap_or("");
    for prog in ["iptables", "ip6tables"] {
        for version in ["v1.8.9 (nf_tables)", "v1.8.11 (ironwall)"] {
            if let Some(rest) = line.strip_prefix(&format!("{prog} {version}: ")) {
                return rest.to_string();
            }
        }
    }
    line.to_string()
}

/// Runs one case in `family`; returns its differences.
fn run_case(family: Family, case: &[&str]) -> Vec<String> {
    let ns = Netns::new("tg");
    let prog = family.prog();
    let mut rs = Ruleset::new(family);
    let mut sets: Vec<IpSet> = Vec::new();
    let mut diffs = Vec::new();
    let mut table = "filter".to_string();
    for cmd in case {
        let words = shell_split(cmd);
        if words[0] == "ipset" {
            let args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
            let out = ns.run("ipset", &args, None);
            assert!(out.status.success(), "{cmd}: {out:?}");
            // The cases make IPv4 hash sets.
            sets.push(IpSet::new(&words[2], Some(Family::V4)));
            continue;
        }
        if let Some(i) = words.iter().position(|w| w == "-t") {
            table = words[i + 1].clone();
        }
        let args: Vec<&str> = words.iter().map(String::as_str).collect();
        let (code, _, err) = triple(ns.run(prog, &args, None));
        let (mcode, merr) = match run_iptables(&mut rs, &words, &sets) {
            Ok(_) => (0, String::new()),
            Err(e) => (e.exit_code(), e.render(prog)),
        };
        let (real, model) = if code == 0 {
            (String::new(), String::new())
        } else {
            (message(&err), message(&merr))
        };
        if (code, &real) != (mcode, &model) {
            diffs.push(format!(
                "{prog} {cmd}\n    real:  {code} {real}\n    model: {mcode} {model}"
            ));
        }
    }
    for list in [
        &["-S"][..],
        &["-L"],
        &["-L", "-v"],
        &["-L", "-n"],
        &["-L", "-n", "-v"],
    ] {
        let mut args = vec!["-t", table.as_str()];
        args.extend_from_slice(list);
        let (_, real, _) = triple(ns.run(prog, &args, None));
        let real = if list.contains(&"-n") {
            normalize_prot(&real, list.contains(&"-v"), false, false)
        } else {
            real
        };
        let words: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let model = run_iptables(&mut rs, &words, &sets)
            .map(|o| o.stdout)
            .unwrap_or_else(|e| e.msg);
        if real != model {
            diffs.push(format!(
                "after {case:?}, {prog} {}:\n--- real\n{real}--- model\n{model}",
                args.join(" ")
            ));
        }
    }
    diffs
}

#[test]
fn targets_match_real_iptables() {
    if !kernel_tests("live target extension comparison") {
        return;
    }
    let all: Vec<(Family, &[&str])> = CASES
        .iter()
        .map(|c| (Family::V4, *c))
        .chain(CASES6.iter().map(|c| (Family::V6, *c)))
        .collect();
    let (a, b) = all.split_at(all.len() / 2);
    let diffs: Vec<String> = std::thread::scope(|s| {
        let ha = s.spawn(|| {
            a.iter()
                .flat_map(|(f, c)| run_case(*f, c))
                .collect::<Vec<_>>()
        });
        let hb = s.spawn(|| {
            b.iter()
                .flat_map(|(f, c)| run_case(*f, c))
                .collect::<Vec<_>>()
        });
        let mut d = ha.join().expect("thread");
        d.extend(hb.join().expect("thread"));
        d
    });
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}
