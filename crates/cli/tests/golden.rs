//! The golden outputs of the real iptables-nft 1.8.9 for the guide's final
//! ruleset (`../shared/golden`, see its README): the ruleset is loaded with
//! `ironwall iptables-restore` (`-c` for the one with counters) and every
//! listing is compared byte for byte; `-n` listings after mapping 1.8.9's
//! protocol numbers to names, saves without their `#` lines.

mod common;

use common::Ours;
use ironwall_lab::{normalize_prot, shared, strip_comments};
use std::path::Path;

/// Golden file name (without `.txt`) → the command that printed it.
const LISTINGS: &[(&str, &[&str])] = &[
    ("L", &["-L"]),
    ("L-line-numbers", &["-L", "--line-numbers"]),
    ("nL", &["-nL"]),
    ("vL", &["-vL"]),
    ("vnL", &["-vnL"]),
    ("vnL-line-numbers", &["-vnL", "--line-numbers"]),
    ("vxnL", &["-vxnL"]),
    ("S", &["-S"]),
    ("vS", &["-vS"]),
    ("nL-STDIN", &["-L", "STDIN", "-n"]),
    ("vnL-INPUT-rule3", &["-L", "INPUT", "3", "-vn"]),
    ("S-STDOUT", &["-S", "STDOUT"]),
    ("S-INPUT-rule1", &["-S", "INPUT", "1"]),
    ("nat-L", &["-t", "nat", "-L"]),
    ("nat-L-line-numbers", &["-t", "nat", "-L", "--line-numbers"]),
    ("nat-nL", &["-t", "nat", "-nL"]),
    ("nat-vL", &["-t", "nat", "-vL"]),
    ("nat-vnL", &["-t", "nat", "-vnL"]),
    (
        "nat-vnL-line-numbers",
        &["-t", "nat", "-vnL", "--line-numbers"],
    ),
    ("nat-vxnL", &["-t", "nat", "-vxnL"]),
    ("nat-S", &["-t", "nat", "-S"]),
    ("nat-vS", &["-t", "nat", "-vS"]),
];

/// Golden save file name → the `iptables-save` arguments.
const SAVES: &[(&str, &[&str])] = &[
    ("save", &[]),
    ("save-c", &["-c"]),
    ("save-table", &["-t", "filter"]),
    ("save-c-table", &["-t", "filter", "-c"]),
    ("nat-save-table", &["-t", "nat"]),
    ("nat-save-c-table", &["-t", "nat", "-c"]),
];

#[test]
fn golden_plain() {
    check("golden_plain", "ruleset.save", "plain", &[]);
}

#[test]
fn golden_counters() {
    check(
        "golden_counters",
        "ruleset-counters.save",
        "counters",
        &["-c"],
    );
}

/// Loads `ruleset` with `restore_args` and compares every golden file of
/// `nft/<folder>`; reports all differences at once.
fn check(what: &str, ruleset: &str, folder: &str, restore_args: &[&str]) {
    let Some(dir) = shared(what) else {
        return;
    };
    let golden = dir.join("golden");
    let input = std::fs::read_to_string(golden.join(ruleset)).expect("reading the ruleset");
    let ours = Ours::new();
    let loaded = ours.run("iptables-restore", restore_args, Some(&input));
    assert_eq!(
        loaded,
        (0, String::new(), String::new()),
        "loading {ruleset}"
    );
    let expected = |name: &str| read(&golden.join("nft").join(folder).join(format!("{name}.txt")));
    let mut bad = Vec::new();
    for (name, args) in LISTINGS {
        let want = expected(name);
        let numeric = args
            .iter()
            .any(|a| a.starts_with('-') && !a.starts_with("--") && a.contains('n'));
        let want = if numeric {
            let verbose = args.iter().any(|a| a.starts_with('-') && a.contains('v'));
            let exact = args
                .iter()
                .any(|a| a.starts_with('-') && !a.starts_with("--") && a.contains('x'));
            let lines = args.contains(&"--line-numbers");
            normalize_prot(&want, verbose, exact, lines)
        } else {
            want
        };
        let got = ours.run("iptables", args, None);
        if got != (0, want.clone(), String::new()) {
            bad.push(format!(
                "{folder}/{name}.txt (iptables {}):\n  want: {want:?}\n  got:  {got:?}",
                args.join(" ")
            ));
        }
    }
    for (name, args) in SAVES {
        let want = strip_comments(&expected(name));
        let (code, out, err) = ours.run("iptables-save", args, None);
        let got = (code, strip_comments(&out), err);
        if got != (0, want.clone(), String::new()) {
            bad.push(format!(
                "{folder}/{name}.txt (iptables-save {}):\n  want: {want:?}\n  got:  {got:?}",
                args.join(" ")
            ));
        }
    }
    assert!(
        bad.is_empty(),
        "{} differences:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}
