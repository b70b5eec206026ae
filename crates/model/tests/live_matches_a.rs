//! Live comparison of the conntrack, state, icmp, multiport, iprange and
//! mac matches with the real iptables (nft backend): every command runs
//! through the real `iptables` in a private namespace and through the
//! model on one ruleset; both must succeed or fail alike (same exit code,
//! same message for parameter errors), and at the end `-S`, `-L`,
//! `-L -n -v` (prot column normalized) and the save must be identical, and
//! the real save must restore into the model unchanged.

use ironwall_lab::{kernel_tests, normalize_prot, strip_comments, Netns};
use ironwall_model::addr::Family;
use ironwall_model::restore::{self, RestoreOpts};
use ironwall_model::ruleset::Ruleset;
use ironwall_model::{run_iptables, save, Kind};

/// Commands, one per line, words separated by blanks (no quoting).
const COMMANDS: &str = "
-N macchain
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -m conntrack ! --ctstate new,inv
-A INPUT -m conntrack --ctstate E,R
-A INPUT -m conntrack --ctstate SNAT,DNAT,UNTRACKED --ctproto 0
-A INPUT -m conntrack --ctproto tcp ! --ctorigsrc 10.1.2.3/24 --ctorigdst 1.2.3.4/255.0.255.0 --ctreplsrc 0.0.0.0/0 --ctrepldst localhost
-A INPUT -m conntrack --ctorigsrc 1.2.3.4/255.255.0.0 --ctorigdst 1.2.3.4/33 --ctreplsrc 10.0.0.1/0 --ctrepldst 1.2
-A INPUT -m conntrack --ctorigsrcport 80 ! --ctorigdstport 1:2 --ctreplsrcport :5 --ctrepldstport 7: --ctstatus ASSURED,expected --ctexpire 5:10 --ctdir reply
-A INPUT -m conntrack ! --ctstatus NONE ! --ctexpire 7 --ctdir original
-A INPUT -m conntrack --ctstatus seen_reply,CONFIRMED --ctexpire 5:
-A INPUT -m conntrack --ctexpire :5
-A INPUT -m conntrack --ctexpire 9:5
-A INPUT -m conntrack --ctexpire 0x10
-A INPUT -m conntrack --ctorigsrcport 5:4
-A INPUT -m conntrack --ctorigsrcport http --ctrepldstport :0
-A INPUT -m conntrack ! --ctproto 0
-A INPUT -m conntrack --ctproto 0 ! --ctstatus ASSURED
-A INPUT -m conntrack ! --ctstatus ASSURED --ctproto 0
-A INPUT -m conntrack --ctstate NEW --ctstate NEW
-A INPUT -m conntrack --ctdir x
-A INPUT -m conntrack ! --ctdir REPLY
-A INPUT -m conntrack --ctdir REPLY --ctdir ORIGINAL
-A INPUT -m conntrack --ctstate NEW,
-A INPUT -m conntrack --ctstate ,NEW
-A INPUT -m conntrack --ctstate wrong,NEW
-A INPUT -m conntrack --ctstatus x
-A INPUT -m conntrack --ctstatus NONE,
-A INPUT -m conntrack --ctexpire 1:2:3
-A INPUT -m conntrack --ctexpire -1
-A INPUT -m conntrack --ctexpire 4294967296
-A INPUT -m conntrack --ctexpire 5x
-A INPUT -m conntrack --ctorigsrcport 1:2:3
-A INPUT -m conntrack --ctorigsrcport 70000
-A INPUT -m conntrack --ctorigsrcport 4294967296
-A INPUT -m conntrack --ctorigsrcport 2147483648
-A INPUT -m conntrack --ctorigsrcport 0x10
-A INPUT -m conntrack --ctorigsrcport 010:+7
-A INPUT -m conntrack --ctorigsrcport -1
-A INPUT -p udp --sport 1 --sport 2
-A INPUT -p udp -m multiport --sports 1 --source-ports 2
-A INPUT -m conntrack --ctorigsrc 1.2.3.4/x
-A INPUT -m conntrack --ctproto nosuchproto
-A INPUT -m conntrack --ctorigsrc ::1
-A INPUT -m conntrack --ctorigsrc 1.2.3.4/::
-A INPUT -m conntrack
-A INPUT -p tcp -m conntrack --ctstate NEW -m tcp --dport 22 -j ACCEPT
-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
-A INPUT -m state --sta NEW
-A INPUT -m state --state U
-A INPUT -m conntrack --ctstate S --ctstatus S
-A INPUT -m conntrack --ctstate D --ctstatus N
-A INPUT -m conntrack --ctstat NEW
-A INPUT -m conntrack --ctdi REPLY
-A INPUT -m conntrack --ctorigsrc localhost/8
-A INPUT -p tcp -m multiport --dpo 80
-A INPUT -p tcp -m multiport --dports tftp
-A INPUT -p udp -m multiport --dports tftp
-A INPUT -p tcp -m multiport --dports 80 -m tcp --dport 22
-A INPUT -p tcp --dport 22 -m multiport --sports 1024:65535
-A INPUT -m mac --mac 00:11:22:33:44:55
-A INPUT -p icmp --icmp echo-reply
-A INPUT -p icmp -m icmp --icmp-type echo-request -m icmp --icmp-type echo-reply
-C INPUT -p icmp -m icmp --icmp-type 8 -j ACCEPT
-D INPUT -p icmp -m icmp --icmp-type ping -j ACCEPT
-D INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT
-I INPUT 2 -m conntrack --ctstate INVALID -j DROP
-A INPUT -m state ! --state new
-A INPUT -m state --state inv,unt
-A INPUT -m state --state E,R
-A INPUT -m state --state SNAT
-A INPUT -m state --state NEW,
-A INPUT -m state --state ,NEW
-A INPUT -m state
-A INPUT -m state --state NEW --state NEW
-A INPUT -p icmp -m icmp --icmp-type any
-A INPUT -p icmp -m icmp --icmp-type echo-request -j ACCEPT
-A INPUT -p icmp -m icmp ! --icmp-type 8
-A INPUT -p icmp -m icmp --icmp-type 3/3
-A INPUT -p icmp -m icmp --icmp-type 3/1:2
-A INPUT -p icmp -m icmp --icmp-type 3/0:255
-A INPUT -p icmp -m icmp --icmp-type 3/0
-A INPUT -p icmp -m icmp --icmp-type 5/2
-A INPUT -p icmp -m icmp --icmp-type 200
-A INPUT -p icmp -m icmp ! --icmp-type 200/4
-A INPUT -p icmp -m icmp --icmp-type ping
-A INPUT -p icmp -m icmp --icmp-type PORT-UNREACHABLE
-A INPUT -p icmp -m icmp --icmp-type port-unr
-A INPUT -p icmp -m icmp --icmp-type 0x8
-A INPUT -p icmp -m icmp ! --icmp-type any
-A INPUT -p icmp --icmp-type 0
-A INPUT -p 1 --icmp-type 11/1
-A INPUT -p icmp -m icmp --icmp-type echo-re
-A INPUT -p icmp -m icmp --icmp-type 8:9
-A INPUT -p icmp -m icmp --icmp-type 8x
-A INPUT -p icmp -m icmp --icmp-type 8/x
-A INPUT -p icmp -m icmp --icmp-type 8/1x
-A INPUT -p icmp -m icmp --icmp-type 256
-A INPUT -p icmp -m icmp --icmp-type nosuch
-A INPUT -p icmp -m icmp
-A INPUT -m icmp --icmp-type 8
-A INPUT -p tcp -m icmp --icmp-type 8
-A INPUT ! -p icmp -m icmp --icmp-type 8
-A INPUT -p tcp -m multiport --dports 80,443 -j ACCEPT
-A INPUT -p tcp -m multiport ! --sports http,1:1023
-A INPUT -p udp -m multiport --ports 53,domain
-A INPUT -p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
-A INPUT -p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14:15
-A INPUT -p tcp -m multiport --source-ports 22
-A INPUT -p tcp -m multiport --destination-ports 22,ssh
-A INPUT -p sctp -m multiport --dports 80
-A INPUT -p udplite -m multiport --sports 1:2
-A INPUT -p dccp -m multiport --ports 7
-A INPUT -p 6 -m multiport --dports 0x16
-A INPUT -m multiport --dports 80
-A INPUT ! -p tcp -m multiport --dports 80
-A INPUT -p icmp -m multiport --dports 80
-A INPUT -p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16
-A INPUT -p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15:16
-A INPUT -p tcp -m multiport --dports 5:5
-A INPUT -p tcp -m multiport --dports 6:5
-A INPUT -p tcp -m multiport --dports 80 --sports 80
-A INPUT -p tcp -m multiport --dports 80 --dports 81
-A INPUT -p tcp -m multiport --dports 80,
-A INPUT -p tcp -m multiport --dports 70000
-A INPUT -p tcp -m multiport
-A INPUT -m multiport --dports 80 -p tcp
-C INPUT -p tcp -m multiport --dports 80,443 -j ACCEPT
-C INPUT -p tcp -m multiport --dports 443,80 -j ACCEPT
-A INPUT -m iprange --src-range 1.1.1.1-1.1.1.10 ! --dst-range 2.2.2.2
-A INPUT -m iprange --src-range 1.1.1.10-1.1.1.1
-A INPUT -m iprange --src-range 1-2
-A INPUT -m iprange ! --src-range 10.0.0.0-10.255.255.255 -j DROP
-A INPUT -m iprange --dst-range 0x1.2.3.4-1.2.3.010
-A INPUT -m iprange --src-range 1.1.1.300
-A INPUT -m iprange --src-range 1.1.1.1-
-A INPUT -m iprange --src-range a-b
-A INPUT -m iprange --src-range 1.1.1.1 --src-range 1.1.1.2
-A INPUT -m iprange
-A INPUT -m mac --mac-source 42:01:02:03:04:05
-A INPUT -m mac ! --mac-source aa:BB:c:d:e:f
-A FORWARD -m mac --mac-source 0:0:0:0:0:1 -j DROP
-A macchain -m mac --mac-source 42:01:02:03:04:05
-t mangle -A PREROUTING -m mac --mac-source 42:01:02:03:04:05
-A OUTPUT -m mac --mac-source 42:01:02:03:04:05
-t mangle -A POSTROUTING -m mac --mac-source 42:01:02:03:04:05
-N macout
-A macout -m mac --mac-source 0:0:0:0:0:1
-A OUTPUT -j macout
-N m2
-A OUTPUT -g m2
-A m2 -m mac --mac-source 0:0:0:0:0:1
-N m3
-A INPUT -j m3
-N m4
-A m3 -j m4
-A m4 -m mac --mac-source 0:0:0:0:0:2
-A OUTPUT -j m3
-A FORWARD -j m3
-t nat -A OUTPUT -m mac --mac-source 0:0:0:0:0:1
-t raw -A PREROUTING -m mac --mac-source 0:0:0:0:0:1
-C OUTPUT -m mac --mac-source 0:0:0:0:0:1
-A INPUT -m mac --mac-source 42:01:02:03:04
-A INPUT -m mac --mac-source 42:01:02:03:04:05:06
-A INPUT -m mac --mac-source 420:1:2:3:4:5
-A INPUT -m mac --mac-source 4g:1:2:3:4:5
-A INPUT -m mac
-A INPUT -m mac --mac-source 0x1:2:3:4:5:6
-A INPUT -m mac --mac-source +1:2:3:4:5:6
-A INPUT -m mac --mac-source -1:2:3:4:5:6
-A INPUT -m mac --mac-source :::::
-A INPUT -p icmp -m icmp --icmp-type 3/256
-A INPUT -p icmp -m icmp --icmp-type /3
-A INPUT -p icmp -m icmp --icmp-type 3/
-A INPUT -p icmp -m icmp --icmp-type 3:
-A INPUT -p icmp -m icmp --icmp-type 3/4:
-A INPUT -p icmp -m icmp --icmp-type 3/2:1
-A INPUT -p icmp -m icmp --icmp-type ttl
-A INPUT -p icmp -m icmp --icmp-type tos-HOST-r
-A INPUT -m conntrack --ctproto 300
-A INPUT -m conntrack --ctproto all
-A INPUT -m conntrack --ctstatus SEEN --ctstate es,re
-A INPUT -m conntrack --ctexpire 010
-A INPUT -m conntrack --ctexpire 5::
-A INPUT -m conntrack --ctexpire ::
-A INPUT -p udp -m multiport --dports 1:65535,0:1,0x10
-A INPUT -p tcp -m multiport --dports 1:2:3
-A INPUT -m iprange --src-range 1.2.3.4-5.6.7.8-9.9.9.9
-A INPUT -m iprange --src-range 010.0x10.1.1
";

/// The listings compared at the end, per table.
const LISTINGS: &[&[&str]] = &[
    &["-S"],
    &["-L"],
    &["-L", "-n", "-v"],
    &["-t", "mangle", "-S"],
    &["-t", "mangle", "-L", "-n", "-v"],
    &["-t", "raw", "-S"],
    &["-t", "nat", "-S"],
];

/// The message of a real parameter error: the first line after
/// `iptables v1.8.9 (nf_tables): `.
fn real_message(stderr: &str) -> &str {
    let first = stderr.lines().next().unwrap_or("");
    first.split_once("): ").map_or(first, |(_, m)| m)
}

/// IPv6 commands for `ip6tables`, as [`COMMANDS`].
const COMMANDS6: &str = "
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -m conntrack --ctproto ipv6-icmp ! --ctorigsrc 2001:db8::1/64 --ctorigdst ::1 --ctreplsrc ::/0 --ctrepldst fe80::1/ffff:ffff::
-A INPUT -m conntrack --ctorigsrc ::ffff:1.2.3.4 --ctorigdst 2001:db8::/129 --ctexpire 3 --ctdir REPLY
-A INPUT -m conntrack --ctorigsrc 1.2.3.4
-A INPUT -m conntrack --ctorigsrcport 22 --ctstatus ASSURED
-A INPUT -m state --state NEW,UNTRACKED
-A INPUT -p tcp -m multiport --dports 22,80:90
-A INPUT -p ipv6-icmp -m multiport --dports 22
-A INPUT -m iprange --src-range 2001:db8::1-2001:db8::ff ! --dst-range ::1
-A INPUT -m iprange --src-range ::ffff:1.2.3.4-::ffff:1.2.3.5
-A INPUT -m iprange --src-range 1.2.3.4-1.2.3.5
-A INPUT -m iprange --dst-range fe80::1-fe80::
-A INPUT -m mac --mac-source 42:01:02:03:04:05
-A OUTPUT -m mac --mac-source 42:01:02:03:04:05
-A INPUT -p icmp -m icmp --icmp-type 8
-A INPUT -p ipv6-icmp -m icmp --icmp-type 8
";

/// Runs `commands` through the real `prog` in `ns` and through the model
/// on `rs`, then compares the listings; returns the differences.
fn compare(ns: &Netns, prog: &str, rs: &mut Ruleset, commands: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for line in commands.lines().filter(|l| !l.trim().is_empty()) {
        let words: Vec<&str> = line.split_whitespace().collect();
        let (code, _, stderr) = ironwall_lab::triple(ns.run(prog, &words, None));
        let args: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        let model = run_iptables(rs, &args, &[]);
        match &model {
            Ok(_) if code == 0 => {}
            Ok(_) => problems.push(format!("{line}\n  real exit {code}: {stderr}  model: ok")),
            Err(e) if e.exit_code() != code => problems.push(format!(
                "{line}\n  real exit {code}: {stderr}  model exit {}: {}",
                e.exit_code(),
                e.msg
            )),
            Err(e) if e.kind == Kind::Parameter => {
                let want = real_message(&stderr);
                let got = e.msg.lines().next().unwrap_or("");
                if want != got {
                    problems.push(format!("{line}\n  real: {want}\n  model: {got}"));
                }
            }
            Err(_) => {}
        }
    }
    for args in LISTINGS {
        let (code, real, _) = ironwall_lab::triple(ns.run(prog, args, None));
        assert_eq!(code, 0, "real {prog} {args:?}");
        let real = if args.contains(&"-n") {
            normalize_prot(&real, true, false, false)
        } else {
            real
        };
        let owned: Vec<String> = args.iter().map(|w| w.to_string()).collect();
        let model = run_iptables(rs, &owned, &[]).map(|o| o.stdout);
        match model {
            Ok(m) if m == real => {}
            Ok(m) => problems.push(format!(
                "{prog} {args:?} differs:\n--- real\n{real}--- model\n{m}"
            )),
            Err(e) => problems.push(format!("{prog} {args:?}: model failed: {}", e.msg)),
        }
    }
    // iptables-save, and the real save restored into a fresh model.
    let (_, real_save, _) = ironwall_lab::triple(ns.run(&format!("{prog}-save"), &[], None));
    let real_save = strip_comments(&real_save);
    assert!(
        real_save.contains("\n-A INPUT "),
        "real {prog}-save: {real_save}"
    );
    let ours = strip_comments(&save::save(rs, None, false, &format!("{prog}-save"), "-"));
    if ours != real_save {
        problems.push(format!(
            "{prog}-save differs:\n--- real\n{real_save}--- model\n{ours}"
        ));
    }
    let mut fresh = Ruleset::new(rs.family);
    match restore::restore(&mut fresh, &real_save, &RestoreOpts::default(), &[]) {
        Ok(()) => {
            let again = strip_comments(&save::save(&fresh, None, false, prog, "-"));
            if again != real_save {
                problems.push(format!(
                    "{prog}: restoring the real save gives:\n{again}--- real\n{real_save}"
                ));
            }
        }
        Err(e) => problems.push(format!(
            "{prog}: model cannot restore the real save: {}",
            e.message
        )),
    }
    problems
}

#[test]
fn matches_a_agree_with_real_iptables() {
    if !kernel_tests("live conntrack/state/icmp/multiport/iprange/mac") {
        return;
    }
    let ns = Netns::new("matches-a");
    let mut rs = Ruleset::new(Family::V4);
    let mut problems = compare(&ns, "iptables", &mut rs, COMMANDS);
    let mut rs6 = Ruleset::new(Family::V6);
    problems.extend(compare(&ns, "ip6tables", &mut rs6, COMMANDS6));
    assert!(
        problems.is_empty(),
        "{} differences:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
