//! Bad input to the target extensions never panics: any text as an
//! option's argument gives a result or an error.

use ironwall_model::addr::Family;
use ironwall_model::ext::set::IpSet;
use ironwall_model::ruleset::Ruleset;
use ironwall_model::run_iptables;
use proptest::prelude::*;

/// (table, chain, protocol, target, option) for each option that takes an
/// argument.
const OPTIONS: &[(&str, &str, &str, &str, &str)] = &[
    ("filter", "INPUT", "all", "LOG", "--log-level"),
    ("filter", "INPUT", "all", "LOG", "--log-prefix"),
    ("filter", "INPUT", "tcp", "REJECT", "--reject-with"),
    ("nat", "PREROUTING", "tcp", "DNAT", "--to-destination"),
    ("nat", "POSTROUTING", "udp", "SNAT", "--to-source"),
    ("nat", "POSTROUTING", "sctp", "MASQUERADE", "--to-ports"),
    ("nat", "OUTPUT", "tcp", "REDIRECT", "--to-ports"),
    ("mangle", "INPUT", "all", "MARK", "--set-xmark"),
    ("mangle", "INPUT", "all", "MARK", "--and-mark"),
    ("filter", "INPUT", "all", "NFLOG", "--nflog-prefix"),
    ("filter", "INPUT", "all", "NFLOG", "--nflog-size"),
    ("raw", "OUTPUT", "tcp", "CT", "--helper"),
    ("raw", "OUTPUT", "all", "CT", "--zone"),
    ("raw", "OUTPUT", "all", "CT", "--ctevents"),
    ("mangle", "FORWARD", "tcp", "TCPMSS", "--set-mss"),
    ("filter", "INPUT", "all", "SET", "--add-set"),
    ("filter", "INPUT", "all", "SET", "--timeout"),
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn target_options_never_panic(
        which in 0..OPTIONS.len(),
        arg in "[-0-9a-fx:/,.\\[\\] +!é\"'\\\\]{0,40}",
        extra in "[-0-9a-z:,]{0,12}",
    ) {
        let (table, chain, proto, target, opt) = OPTIONS[which];
        let mut args: Vec<String> = ["-t", table, "-A", chain, "-p", proto, "-j", target, opt, &arg]
            .iter()
            .map(|s| s.to_string())
            .collect();
        if target == "SET" {
            // The set flags word, and the option only --add-set allows.
            args.extend([extra, "--timeout".to_string(), "1".to_string()]);
        }
        let mut rs = Ruleset::new(Family::V4);
        let sets = vec![IpSet::new("foo", None)];
        let _ = run_iptables(&mut rs, &args, &sets);
        for list in [&["-S"][..], &["-L", "-n", "-v"], &["-L"]] {
            let mut l = vec!["-t".to_string(), table.to_string()];
            l.extend(list.iter().map(|s| s.to_string()));
            prop_assert!(run_iptables(&mut rs, &l, &sets).is_ok());
        }
    }
}
