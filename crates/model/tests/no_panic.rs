//! Bad input never panics: random bytes and random token soups fed to
//! `iptables-restore` ([`restore::restore`]) and to the command line
//! ([`parse::parse`], [`run_iptables`]) must come back as `Ok` or `Err`.
//! The fuzz targets in `crates/model/fuzz/` run the same entry points
//! without a bound.

use ironwall_model::addr::Family;
use ironwall_model::ext::Role;
use ironwall_model::parse::{self, ParseEnv};
use ironwall_model::restore::{restore, RestoreOpts};
use ironwall_model::ruleset::Ruleset;
use ironwall_model::run_iptables;
use proptest::prelude::*;

/// Words the token generator draws from: real options and commands of the
/// base parser and of the registered extensions, `!`, numbers, addresses,
/// quotes and junk.
const WORDS: &[&str] = &[
    "-A",
    "-D",
    "-C",
    "-I",
    "-R",
    "-L",
    "-S",
    "-F",
    "-Z",
    "-N",
    "-X",
    "-E",
    "-P",
    "-s",
    "-d",
    "-p",
    "-i",
    "-o",
    "-j",
    "-g",
    "-t",
    "-m",
    "-n",
    "-v",
    "-x",
    "-f",
    "-c",
    "-w",
    "-W",
    "-h",
    "-V",
    "-M",
    "-vnL",
    "-nvxL",
    "-Lnv",
    "-4",
    "-6",
    "--append",
    "--delete",
    "--check",
    "--insert",
    "--replace",
    "--list",
    "--list-rules",
    "--flush",
    "--zero",
    "--new-chain",
    "--delete-chain",
    "--rename-chain",
    "--policy",
    "--source",
    "--destination",
    "--src",
    "--dst",
    "--protocol",
    "--in-interface",
    "--out-interface",
    "--jump",
    "--goto",
    "--table",
    "--match",
    "--numeric",
    "--verbose",
    "--exact",
    "--fragments",
    "--line-numbers",
    "--set-counters",
    "--wait=1",
    "--modprobe",
    "--help",
    "--version",
    "--dport",
    "--sport",
    "--destination-port",
    "--source-port",
    "--tcp-flags",
    "--syn",
    "--tcp-option",
    "--comment",
    "--dport=22",
    "--so",
    "--de",
    "--in",
    "--",
    "!",
    "!!",
    "INPUT",
    "OUTPUT",
    "FORWARD",
    "PREROUTING",
    "POSTROUTING",
    "ACCEPT",
    "DROP",
    "RETURN",
    "QUEUE",
    "LOG",
    "DNAT",
    "MASQUERADE",
    "filter",
    "nat",
    "mangle",
    "raw",
    "security",
    "bogus",
    "tcp",
    "udp",
    "icmp",
    "all",
    "sctp",
    "6",
    "0",
    "255",
    "256",
    "-1",
    "0x10",
    "010",
    "65535",
    "65536",
    "1:2",
    "2:1",
    ":",
    "1:",
    ":9",
    "18446744073709551616",
    "SYN,ACK",
    "ALL",
    "NONE",
    "FIN,SYN,RST,PSH,ACK,URG",
    "1.2.3.4",
    "1.2.3.4/8",
    "1.2.3.4/255.0.255.0",
    "10.0.0.0/33",
    "0/0",
    "::1",
    "::/0",
    "fe80::1%eth0",
    "1.2.3",
    "1.2.3.4.5",
    "1.2.3.4,5.6.7.8",
    "localhost",
    ",",
    "/",
    "/32",
    "eth+",
    "+",
    "eth0",
    "a_very_long_interface_name",
    "\"",
    "\"quoted text\"",
    "\"unterminated",
    "'",
    "\\",
    "\\\"",
    "é",
    "ü\u{301}",
    "\u{0}",
    "\t",
    " ",
    "",
    "=",
    "--=",
    "-=",
    "x",
    "comment",
    "-m tcp",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(WORDS).prop_map(str::to_string),
        1 => "[ -~]{0,12}",
        1 => any::<String>().prop_map(|s| s.chars().take(12).collect()),
    ]
}

fn words() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec(word(), 0..14)
}

/// `-m NAME` / `-j NAME` of a registered extension followed by some of its
/// own options (maybe inverted) with random values: coverage grows as
/// extensions land.
fn ext_phrase() -> impl Strategy<Value = Vec<String>> {
    let defs = ironwall_model::ext::registry();
    (
        proptest::sample::select(defs),
        proptest::collection::vec(
            (
                any::<bool>(),
                any::<prop::sample::Index>(),
                proptest::option::of(word()),
            ),
            0..4,
        ),
    )
        .prop_map(|(def, opts)| {
            let mut out = vec![
                match def.role {
                    Role::Match => "-m",
                    Role::Target => "-j",
                }
                .to_string(),
                def.name.to_string(),
            ];
            for (invert, which, value) in opts {
                let Some(o) = (!def.opts.is_empty()).then(|| which.get(def.opts)) else {
                    break;
                };
                if invert {
                    out.push("!".to_string());
                }
                out.push(format!("--{}", o.name));
                out.extend(value);
            }
            out
        })
}

/// A rule-ish command: a command and chain, random words, extension
/// phrases.
fn rule_words() -> impl Strategy<Value = Vec<String>> {
    (
        proptest::sample::select(&["-A", "-I", "-D", "-C", "-R"][..]),
        proptest::sample::select(&["INPUT", "OUTPUT", "PREROUTING", "POSTROUTING", "FORWARD"][..]),
        proptest::option::of(proptest::sample::select(
            &["nat", "mangle", "raw", "filter"][..],
        )),
        proptest::collection::vec(word(), 0..4),
        proptest::collection::vec(ext_phrase(), 0..3),
    )
        .prop_map(|(cmd, chain, table, pre, phrases)| {
            let mut out: Vec<String> = Vec::new();
            if let Some(t) = table {
                out.extend(["-t".to_string(), t.to_string()]);
            }
            out.extend([cmd.to_string(), chain.to_string()]);
            if matches!(cmd, "-I" | "-R") {
                out.push("1".to_string());
            }
            out.extend(pre);
            out.extend(phrases.into_iter().flatten());
            out
        })
}

fn any_words() -> impl Strategy<Value = Vec<String>> {
    prop_oneof![words(), rule_words()]
}

fn env(family: Family, restore: bool) -> ParseEnv<'static> {
    ParseEnv {
        family,
        restore,
        table: "filter",
        sets: &[],
    }
}

fn family() -> impl Strategy<Value = Family> {
    prop_oneof![Just(Family::V4), Just(Family::V6)]
}

/// Restore-like lines: table headers, chain lines, counters, rules made of
/// token soup, COMMIT, comments.
fn restore_line() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(&["*filter", "*nat", "*mangle", "*raw", "*bogus", "*", "* "][..])
            .prop_map(str::to_string),
        proptest::sample::select(
            &[
                ":INPUT ACCEPT [0:0]",
                ":FOO - [0:0]",
                ":INPUT DROP [1:2",
                ":INPUT",
                ":",
                ": x",
                ":OUTPUT bogus [x:y]",
                ":FORWARD ACCEPT [18446744073709551616:0]",
            ][..]
        )
        .prop_map(str::to_string),
        Just("COMMIT".to_string()),
        Just("COMMITX".to_string()),
        Just("# comment".to_string()),
        Just(String::new()),
        words().prop_map(|w| w.join(" ")),
        (words(), "\\[[0-9a-z:]{0,6}\\]?")
            .prop_map(|(w, c)| format!("{c} -A INPUT {}", w.join(" "))),
        words().prop_map(|w| format!("-A INPUT {}", w.join(" "))),
        rule_words().prop_map(|w| w.join(" ")),
    ]
}

fn restore_opts() -> impl Strategy<Value = RestoreOpts> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        proptest::option::of(prop_oneof![
            Just("filter".to_string()),
            Just("nat".to_string()),
            Just("x".to_string())
        ]),
        0u32..3,
    )
        .prop_map(|(counters, noflush, test, table, verbose)| RestoreOpts {
            counters,
            noflush,
            table,
            test,
            verbose,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn restore_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300), opts in restore_opts(), f in family()) {
        let text = String::from_utf8_lossy(&bytes);
        let mut rs = Ruleset::new(f);
        let _ = restore(&mut rs, &text, &opts, &[]);
    }

    #[test]
    fn restore_random_lines(lines in proptest::collection::vec(restore_line(), 0..12), opts in restore_opts(), f in family()) {
        let text = lines.join("\n");
        let mut rs = Ruleset::new(f);
        if restore(&mut rs, &text, &opts, &[]).is_ok() {
            // Whatever was restored saves, restores again and lists.
            let saved = ironwall_model::save::save(&rs, None, true, "iptables-save", "-");
            let again = RestoreOpts { counters: true, ..RestoreOpts::default() };
            let mut rs2 = Ruleset::new(f);
            prop_assert!(restore(&mut rs2, &saved, &again, &[]).is_ok(), "{}", saved);
            for table in ["filter", "nat", "mangle", "raw"] {
                let l: Vec<String> = ["-t", table, "-vnxL", "--line-numbers"].iter().map(|s| s.to_string()).collect();
                let _ = run_iptables(&mut rs2, &l, &[]);
            }
        }
    }

    #[test]
    fn parse_random_tokens(args in any_words(), f in family(), in_restore in any::<bool>()) {
        let _ = parse::parse(&args, env(f, in_restore));
    }

    #[test]
    fn run_iptables_random_tokens(setup in proptest::collection::vec(any_words(), 0..4), args in any_words(), f in family()) {
        let mut rs = Ruleset::new(f);
        for s in &setup {
            let _ = run_iptables(&mut rs, s, &[]);
        }
        let _ = run_iptables(&mut rs, &args, &[]);
        // Whatever was built, listing it must not panic either.
        for l in [&["-S"][..], &["-L"], &["-vnxL", "--line-numbers"]] {
            let l: Vec<String> = l.iter().map(|s| s.to_string()).collect();
            let _ = run_iptables(&mut rs, &l, &[]);
        }
    }
}
