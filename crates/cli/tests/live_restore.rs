//! Live differential test of `iptables-restore` and `iptables-save`: each
//! case runs the real iptables-nft 1.8.9 in a fresh namespace and `ironwall
//! iptables-restore --rules F` on a fresh rules file (both first loaded with
//! the same setup, if any). Exit code, stdout and stderr (version words
//! normalised) must agree; on success the `iptables-save -c` outputs must
//! agree; on failure ironwall's rules file must be byte-identical to before
//! (DECISIONS.md 3: all or nothing).

mod restore_lab;

use ironwall_lab::{kernel_tests, Netns};
use restore_lab::{real_restore, Rules};

/// A ruleset loaded (with `-c`) before some cases.
const SETUP: &str = "*filter\n:INPUT DROP [1:2]\n:FOO - [0:0]\n[3:4] -A INPUT -j FOO\n[5:6] -A FOO -j ACCEPT\nCOMMIT\n*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j ACCEPT\nCOMMIT\n";

/// (name, load SETUP first, restore arguments, input).
const CASES: &[(&str, bool, &[&str], &str)] = &[
    // Errors and the line they name.
    ("jump-missing-chain-names-commit", false, &[], "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j NOPE\nCOMMIT\n"),
    ("rule-on-missing-chain", false, &[], "*filter\n:INPUT ACCEPT [0:0]\n-A FOO -j ACCEPT\nCOMMIT\n"),
    ("first-prepare-error-wins", false, &[], "*filter\n-A FOO -j ACCEPT\n-A INPUT -j NOPE\nCOMMIT\n"),
    ("chain-declared-after-use", false, &[], "*filter\n-A INPUT -j FOO\n:FOO - [0:0]\nCOMMIT\n"),
    ("chain-declared-after-rule", false, &[], "*filter\n-A FOO -j ACCEPT\n:FOO - [0:0]\nCOMMIT\n"),
    ("missing-commit", false, &[], "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\n"),
    ("garbage-outside-table", false, &[], "garbage\n"),
    ("chain-outside-table", false, &[], ":INPUT ACCEPT\n"),
    ("commit-outside-table", false, &[], "COMMIT\n"),
    ("garbage-after-commit", false, &[], "*filter\n-A INPUT -j ACCEPT\nCOMMIT\ngarbage\n"),
    ("bad-policy", false, &[], "*filter\n:INPUT BOGUS [0:0]\nCOMMIT\n"),
    ("user-chain-twice-bogus-policy", false, &[], "*filter\n:FOO BOGUS [0:0]\n:FOO - [0:0]\nCOMMIT\n"),
    ("builtin-name-in-other-table", false, &[], "*nat\n:FORWARD ACCEPT [0:0]\nCOMMIT\n"),
    ("chain-named-like-target", false, &[], "*filter\n:LOG - [0:0]\n-A INPUT -j LOG\nCOMMIT\n"),
    ("chain-named-like-target-options", false, &[], "*filter\n:LOG - [0:0]\n-A INPUT -j LOG --log-prefix x\nCOMMIT\n"),
    ("chain-named-like-target-other-table", false, &[], "*nat\n:MASQUERADE - [0:0]\nCOMMIT\n*filter\n:MASQUERADE - [0:0]\n-A INPUT -j MASQUERADE\nCOMMIT\n"),
    ("chain-name-with-cr", false, &[], "*filter\n:FOO\r - [0:0]\nCOMMIT\n"),
    ("chain-clashes-with-verdict", false, &[], "*filter\n:ACCEPT - [0:0]\nCOMMIT\n"),
    ("table-name-missing", false, &[], "*\n"),
    ("table-name-bad", false, &[], "*bogus\nCOMMIT\n"),
    ("table-name-after-blank", false, &[], "* filter\nCOMMIT\n"),
    ("table-line-extra-words", false, &[], "*filter extra\nCOMMIT\n"),
    ("chain-name-missing", false, &[], "*filter\n:\nCOMMIT\n"),
    ("policy-missing", false, &[], "*filter\n:FOO\nCOMMIT\n"),
    ("table-inside-table", false, &[], "*filter\n*nat\nCOMMIT\n"),
    ("kernel-refuses-rule", false, &[], "*filter\n-A INPUT -m tcp -j ACCEPT\n-A INPUT -m udp -j ACCEPT\nCOMMIT\n"),
    ("prepare-error-before-kernel", false, &[], "*filter\n-A INPUT -m tcp -j ACCEPT\n-A FOO -j ACCEPT\nCOMMIT\n"),
    ("parse-error-line", false, &[], "*filter\n-A INPUT --bogus\nCOMMIT\n"),
    ("second-table-fails", false, &[], "*nat\n-A PREROUTING -j ACCEPT\nCOMMIT\n*filter\n-A NOPE -j ACCEPT\nCOMMIT\n"),
    // Line shapes.
    ("crlf", false, &[], "# x\r\n*nat\r\n:PREROUTING ACCEPT [0:0]\r\nCOMMIT\r\n"),
    ("crlf-rule", false, &[], "*filter\n-A INPUT -j ACCEPT\r\nCOMMIT\n"),
    ("no-newline-after-commit", false, &[], "*filter\n-A INPUT -j ACCEPT\nCOMMIT"),
    ("commit-with-space", false, &[], "*filter\n-A INPUT -j ACCEPT\nCOMMIT \n"),
    ("commitx", false, &[], "*filter\nCOMMITX\n"),
    ("comments-and-blank-lines", false, &[], "# a\n\n*filter\n# b\n\n-A INPUT -j ACCEPT\nCOMMIT\n# c\n"),
    ("indented-comment", false, &[], "*filter\n # hi\nCOMMIT\n"),
    ("spaces-line-in-table", false, &[], "*filter\n   \nCOMMIT\n"),
    ("tab-line-in-table", false, &[], "*filter\n\t\nCOMMIT\n"),
    ("spaces-line-outside", false, &[], "   \n"),
    ("empty-input", false, &[], ""),
    ("quoting", false, &[], "*filter\n-A INPUT -m comment --comment \"a b \\\" c\\\\d\" -j ACCEPT\n-A INPUT -m comment --comment \"x\" -j DROP\nCOMMIT\n"),
    ("quote-mid-word", false, &[], "*filter\n-A INPUT -m comment --comment a\"b c\"d -j ACCEPT\nCOMMIT\n"),
    ("ipv4-and-ipv6-lines", false, &[], "*filter\n-4 -A INPUT -j ACCEPT\n-6 -A INPUT -j DROP\nCOMMIT\n"),
    // Counters.
    ("rule-counters", false, &["-c"], "*filter\n:INPUT ACCEPT [7:8]\n[1:2] -A INPUT -j ACCEPT\n[3:4]-A INPUT -j DROP\nCOMMIT\n"),
    ("rule-counters-ignored", false, &[], "*filter\n:INPUT ACCEPT [7:8]\n[1:2] -A INPUT -j ACCEPT\nCOMMIT\n"),
    ("counters-need-close", false, &["-c"], "*filter\n[1:2 -A INPUT -j ACCEPT\nCOMMIT\n"),
    ("counters-need-colon", false, &["-c"], "*filter\n[12] -A INPUT -j ACCEPT\nCOMMIT\n"),
    ("counters-empty", false, &[], "*filter\n[:] -A INPUT -j ACCEPT\nCOMMIT\n"),
    ("counters-no-bytes", false, &[], "*filter\n[1:] -A INPUT -j ACCEPT\nCOMMIT\n"),
    ("counters-not-numeric", false, &["-c"], "*filter\n[a:b] -A INPUT -j ACCEPT\nCOMMIT\n"),
    ("counters-not-numeric-ignored", false, &[], "*filter\n[a:b] -A INPUT -j ACCEPT\nCOMMIT\n"),
    ("counters-negative-hex", false, &["-c"], "*filter\n[-1:0x10] -A INPUT -j ACCEPT\nCOMMIT\n"),
    ("counters-colon-in-rule", false, &["-c"], "*filter\n[12] -A INPUT -m comment --comment a:b -j ACCEPT\nCOMMIT\n"),
    ("policy-counters-sscanf", false, &["-c"], "*filter\n:INPUT ACCEPT [1:2\n:FORWARD DROP [-1:+5]xx\n:OUTPUT ACCEPT [99999999999999999999:-5]\nCOMMIT\n"),
    ("policy-counters-bad", false, &["-c"], "*filter\n:INPUT ACCEPT [ 1:2]\nCOMMIT\n"),
    ("policy-counters-hex", false, &["-c"], "*filter\n:INPUT ACCEPT [0x1:2]\nCOMMIT\n"),
    ("policy-counters-missing", false, &["-c"], "*filter\n:INPUT ACCEPT\nCOMMIT\n"),
    ("user-chain-counters-ignored", false, &["-c"], "*filter\n:FOO - garbage\nCOMMIT\n"),
    // Flushing, -n, -T, -t.
    ("table-flush-deletes-table", true, &[], "*filter\nCOMMIT\n"),
    ("noflush-keeps-table", true, &["-n"], "*filter\nCOMMIT\n"),
    ("noflush-redeclared-chain-flushed", true, &["-n"], "*filter\n:FOO - [0:0]\nCOMMIT\n"),
    ("noflush-new-chain", true, &["-n"], "*filter\n:BAR - [0:0]\n-A BAR -j ACCEPT\nCOMMIT\n"),
    ("noflush-policy-resets-counters", true, &["-n"], "*filter\n:INPUT ACCEPT [7:8]\nCOMMIT\n"),
    ("noflush-policy-counters", true, &["-n", "-c"], "*filter\n:INPUT - [7:8]\nCOMMIT\n"),
    ("noflush-rename", true, &["-n"], "*filter\n-E FOO BAZ\nCOMMIT\n"),
    ("noflush-rename-declared", true, &["-n"], "*filter\n:FOO - [0:0]\n-E FOO BAZ\n-A BAZ -j DROP\nCOMMIT\n"),
    ("rename-new-chain", false, &[], "*filter\n-N FOO\n-E FOO BAZ\nCOMMIT\n"),
    ("noflush-replace", true, &["-n"], "*filter\n-R FOO 1 -j DROP\nCOMMIT\n"),
    ("noflush-new-chain-exists", true, &["-n"], "*filter\n-N FOO\nCOMMIT\n"),
    ("noflush-policy-command-resets-counters", true, &["-n"], "*filter\n-P INPUT ACCEPT\nCOMMIT\n"),
    ("noflush-zero", true, &["-n"], "*filter\n-Z\nCOMMIT\n"),
    ("one-table", true, &["-T", "filter"], "*nat\n-A PREROUTING -j DROP\nCOMMIT\n*filter\n-A INPUT -j ACCEPT\nCOMMIT\n"),
    ("one-table-long", true, &["--table=nat"], "*nat\n-A PREROUTING -j ACCEPT\nCOMMIT\n*filter\n-A BOGUS -j ACCEPT\nCOMMIT\n"),
    ("one-table-bad-name-elsewhere", true, &["-T", "nat"], "*filter\nCOMMIT\n*bogus\n"),
    ("one-table-other-lacks-commit", false, &["-T", "filter"], "*filter\n-A INPUT -j ACCEPT\nCOMMIT\n*nat\n-A PREROUTING -j ACCEPT\n"),
    ("one-table-garbage-first", false, &["-T", "filter"], "garbage\n*filter\nCOMMIT\n"),
    ("one-table-garbage-after-other", false, &["-T", "filter"], "*nat\nCOMMIT\ngarbage\n"),
    ("test-only", true, &["-t"], "*filter\n-A INPUT -j ACCEPT\nCOMMIT\n"),
    ("test-skips-commit-checks", true, &["--test"], "*filter\n-A INPUT -j NOPE\n-A NOPE -j ACCEPT\nCOMMIT\n"),
    ("test-parse-error", true, &["-t"], "*filter\n-A INPUT --bogus\nCOMMIT\n"),
    // Commands inside a restore file.
    ("commands", false, &[], "*filter\n-N FOO\n-A FOO -j ACCEPT\n-I INPUT -j FOO\n-I INPUT 1 -j DROP\n-P FORWARD DROP\n-D INPUT 1\n-A OUTPUT -j ACCEPT\n-F OUTPUT\n-N BAR\n-X BAR\nCOMMIT\n"),
    ("listing-inside", false, &[], "*filter\n-A INPUT -j ACCEPT\n-S\n-L INPUT\nCOMMIT\n"),
    ("new-chain-twice", false, &[], "*filter\n-N FOO\n-N FOO\nCOMMIT\n"),
    ("delete-missing-rule", false, &[], "*filter\n-D INPUT -j ACCEPT\nCOMMIT\n"),
    ("insert-too-big", false, &[], "*filter\n-A INPUT -j ACCEPT\n-I INPUT 3 -j DROP\nCOMMIT\n"),
    ("delete-num-too-big", false, &[], "*filter\n-A INPUT -j ACCEPT\n-D INPUT 2\nCOMMIT\n"),
    ("replace-too-big", false, &[], "*filter\n-R INPUT 1 -j DROP\nCOMMIT\n"),
    ("zero-num-too-big", true, &["-n"], "*filter\n-Z FOO 5\nCOMMIT\n"),
    ("policy-user-chain", true, &["-n"], "*filter\n-P FOO DROP\nCOMMIT\n"),
    ("policy-bogus", false, &[], "*filter\n-P INPUT BOGUS\nCOMMIT\n"),
    ("policy-nat-drop", false, &[], "*nat\n-P PREROUTING DROP\nCOMMIT\n"),
    ("delete-builtin-chain", false, &[], "*filter\n-X INPUT\nCOMMIT\n"),
    ("delete-missing-chain", false, &[], "*filter\n-X NOPE\nCOMMIT\n"),
    ("rename-builtin", false, &[], "*filter\n-E INPUT X\nCOMMIT\n"),
    ("rename-to-existing", true, &["-n"], "*filter\n-N BAR\n-E FOO BAR\nCOMMIT\n"),
    ("flush-missing-chain", false, &[], "*filter\n-F NOPE\nCOMMIT\n"),
    ("list-missing-chain", false, &[], "*filter\n-S NOPE\nCOMMIT\n"),
    ("new-chain-bad-name", false, &[], "*filter\n-N -bad\nCOMMIT\n"),
    ("table-option-in-restore", false, &[], "*filter\n-t nat -A INPUT -j ACCEPT\nCOMMIT\n"),
    ("check-inside", true, &["-n"], "*filter\n-C FOO -j ACCEPT\n-C FOO -j DROP\nCOMMIT\n"),
    ("delete-referenced-chain", true, &["-n"], "*filter\n-X FOO\nCOMMIT\n"),
    ("goto-missing-chain", false, &[], "*filter\n-A INPUT -g NOPE\nCOMMIT\n"),
    ("many-kernel-refusals", false, &[], "*filter\n-A INPUT -m tcp -j ACCEPT\n-A INPUT -m tcp -j ACCEPT\n-A INPUT -m tcp -j ACCEPT\n-A INPUT -m tcp -j ACCEPT\n-A INPUT -m tcp -j ACCEPT\n-A INPUT -m tcp -j ACCEPT\n-A INPUT -m tcp -j ACCEPT\n-A INPUT -m tcp -j ACCEPT\n-A INPUT -m tcp -j ACCEPT\n-A INPUT -m tcp -j ACCEPT\n-A INPUT -m tcp -j ACCEPT\n-A INPUT -m tcp -j ACCEPT\n-A INPUT -m tcp -j ACCEPT\n-A INPUT -m tcp -j ACCEPT\n-A INPUT -m tcp -j ACCEPT\n-A INPUT -m tcp -j ACCEPT\n-A INPUT -m tcp -j ACCEPT\n-A INPUT -m tcp -j ACCEPT\n-A INPUT -m tcp -j ACCEPT\n-A INPUT -m tcp -j ACCEPT\n-A INPUT -m tcp -j ACCEPT\n-A INPUT -m tcp -j ACCEPT\n-A INPUT -m tcp -j ACCEPT\n-A INPUT -m tcp -j ACCEPT\n-A INPUT -m tcp -j ACCEPT\nCOMMIT\n"),
    ("insert-kernel-refusal", false, &[], "*filter\n-I INPUT -m udp -j ACCEPT\nCOMMIT\n"),
    ("verbose-echoes-comments", false, &["-v", "-n"], "# hello\n*filter\n-A INPUT -j ACCEPT\n# mid\nCOMMIT\n# bye\n"),
    ("nul-byte-ends-line", false, &[], "*filter\n-A INPUT -j ACCEPT\0-j DROP\nCOMMIT\0x\n"),
    ("table-twice", false, &[], "*filter\n-A INPUT -j ACCEPT\nCOMMIT\n*filter\n-A OUTPUT -j DROP\nCOMMIT\n"),
    ("table-twice-noflush", false, &["-n"], "*filter\n-A INPUT -j ACCEPT\nCOMMIT\n*filter\n-A OUTPUT -j DROP\nCOMMIT\n"),
    ("verbose-flush-keeps-builtins", true, &["-v"], "*filter\nCOMMIT\n"),
    ("verbose-flush-redeclare", true, &["-v"], "# c\n*filter\n:FOO - [0:0]\n:INPUT - [0:0]\nCOMMIT\n"),
    ("verbose-flush-fresh", false, &["-v"], "*filter\nCOMMIT\n*nat\n:X - [0:0]\nCOMMIT\n"),
    ("verbose-rule-resets-policy", true, &["-v"], "*filter\n-A INPUT -j ACCEPT\n-A FORWARD -j DROP\n:FORWARD DROP [0:0]\n-A FORWARD -j DROP\nCOMMIT\n"),
    // Options.
    ("opt-version", false, &["-V"], ""),
    ("opt-help", false, &["-h"], ""),
    ("opt-invalid", false, &["-x"], ""),
    ("opt-unrecognized", false, &["--bogus"], ""),
    ("opt-ambiguous", false, &["--t"], ""),
    ("opt-missing-arg", false, &["-T"], ""),
    ("opt-two-files", false, &["a", "b"], ""),
    ("opt-missing-file", false, &["/nonexistent/x"], ""),
    ("opt-wait-skips-word", false, &["-w", "5"], "*filter\nCOMMIT\n"),
    ("opt-binary", false, &["-b"], ""),
    ("opt-ipv4-long", false, &["--ipv4"], ""),
];

/// Inputs too long to write out: lines past fgets' 10239 bytes are read
/// as several lines.
fn long_cases() -> Vec<(&'static str, bool, &'static [&'static str], String)> {
    let pad = " ".repeat(10_300);
    vec![
        (
            "line-split-at-10239-bytes",
            false,
            &[],
            format!("*filter\n-A INPUT{pad}-j ACCEPT\nCOMMIT\n"),
        ),
        (
            "comment-split-at-10239-bytes",
            false,
            &[],
            format!("#{pad}*nat\n*filter\nCOMMIT\n"),
        ),
        (
            "many-words",
            false,
            &[],
            format!("*filter\n-A INPUT{}\nCOMMIT\n", " -s 1.2.3.4".repeat(130)),
        ),
    ]
}

#[test]
fn restore_matches_iptables_nft() {
    if !kernel_tests("live_restore") {
        return;
    }
    let mut failures = Vec::new();
    let long = long_cases();
    let all = CASES
        .iter()
        .map(|(n, s, a, i)| (*n, *s, *a, i.to_string()))
        .chain(long);
    for (name, setup, args, input) in all {
        let ns = Netns::new("rs");
        let ours = Rules::new();
        if setup {
            let real = real_restore(&ns, &["-c"], SETUP.as_bytes());
            assert_eq!(real.0, 0, "{name}: setup {real:?}");
            let o = ours.restore(&["-c"], SETUP.as_bytes());
            assert_eq!(o.0, 0, "{name}: setup {o:?}");
        }
        let before = ours.bytes();
        let real = real_restore(&ns, args, input.as_bytes());
        let got = ours.restore(args, input.as_bytes());
        if real != got {
            failures.push(format!("{name}: real {real:?}\n        ours {got:?}"));
            continue;
        }
        if real.0 == 0 {
            let (r, o) = (ns.save(&["-c"]), ours.save(&["-c"]));
            if r != o {
                failures.push(format!("{name}: save differs\nreal:\n{r}ours:\n{o}"));
            }
        } else if ours.bytes() != before {
            failures.push(format!("{name}: failed restore changed the rules file"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        CASES.len() + long_cases().len(),
        failures.join("\n")
    );
}

/// `iptables-save` options and the table order and shape, against the real
/// one on the same ruleset.
#[test]
fn save_matches_iptables_nft() {
    if !kernel_tests("live_save") {
        return;
    }
    let all = "*security\n-A INPUT -j ACCEPT\nCOMMIT\n*nat\n-A OUTPUT -j ACCEPT\nCOMMIT\n*raw\n:OUTPUT DROP [0:0]\nCOMMIT\n*filter\n:ZED - [0:0]\n:ABC - [0:0]\n:abc - [0:0]\n[9:10] -A ZED -j RETURN\nCOMMIT\n*mangle\n-A POSTROUTING -j ACCEPT\nCOMMIT\n";
    let runs: &[&[&str]] = &[
        &[],
        &["-c"],
        &["-t", "nat"],
        &["--table=raw", "-c"],
        &["-t", "filter", "-t", "mangle"],
        &["--t", "security"],
        &["-t", "bogus"],
        &["-t"],
        &["-x"],
        &["--bogus"],
        &["extra"],
        &["-V"],
        &["-d"],
        &["-M", "x", "-b"],
    ];
    let ns = Netns::new("sv");
    let ours = Rules::new();
    let fresh_ns = Netns::new("sv0");
    let fresh = Rules::new();
    assert_eq!(real_restore(&ns, &["-c"], all.as_bytes()).0, 0);
    assert_eq!(ours.restore(&["-c"], all.as_bytes()).0, 0);
    let mut failures = Vec::new();
    for args in runs {
        for (ns, ours, what) in [(&ns, &ours, "loaded"), (&fresh_ns, &fresh, "fresh")] {
            let (c, o, e) = ironwall_lab::triple(ns.run("iptables-save", args, None));
            let real = (
                c,
                ironwall_lab::strip_comments(&restore_lab::normalize_prefix(&o)),
                restore_lab::normalize_prefix(&e),
            );
            let (c, o, e) = ours.run("iptables-save", args, None);
            let got = (c, ironwall_lab::strip_comments(&o), e);
            if real != got {
                failures.push(format!("{what} {args:?}: real {real:?}\n  ours {got:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
