//! Every real-world ruleset in `../shared/rulesets/{iptables-upstream,
//! iptables_semantics,net-network}/`, loaded in a fresh namespace by the
//! real iptables-restore (iptables-nft 1.8.9) and by `ironwall
//! iptables-restore --rules F FILE`: both must accept, or both refuse with
//! the same exit code and message (so the same line). When accepted, the
//! `iptables-save` outputs (without `#` lines) must be identical and equal
//! to the canonical `roundtrip-1.8.9/nft/` file, and for every table in the
//! save the listings `-L -n -v`, `-L` and `-S` must be identical (the
//! installed 1.8.9 prints protocol numbers under `-n`; that column is
//! mapped to names, DECISIONS.md 4).

mod restore_lab;

use ironwall_lab::{kernel_tests, normalize_prot, shared, triple, Netns};
use restore_lab::{normalize_prefix, real_restore, rulesets, supported_part, Rules};
use std::path::{Path, PathBuf};

/// The listings compared per table: (arguments, verbose) — all numeric
/// ones with `-n`.
const LISTINGS: &[(&[&str], bool)] = &[
    (&["-L", "-n", "-v"], true),
    (&["-L"], false),
    (&["-S"], false),
];

/// What is restored: a file given by name, or text on stdin.
enum Source<'a> {
    File(&'a Path),
    Text(&'a str),
}

/// Compares one ruleset; `Err` says how they differ. `golden` is the
/// canonical save, when there is one to compare with.
fn check(source: Source, golden: Option<&Path>) -> Result<(), String> {
    let ns = Netns::new("rset");
    let ours = Rules::new();
    let (real, got) = match source {
        Source::File(file) => {
            let path = file.to_str().ok_or("path is not UTF-8")?;
            let (rc, ro, re) = triple(ns.run("iptables-restore", &[path], None));
            let real = (rc, ro, normalize_prefix(&re));
            (real, ours.run("iptables-restore", &[path], None))
        }
        Source::Text(text) => (
            real_restore(&ns, &[], text.as_bytes()),
            ours.restore(&[], text.as_bytes()),
        ),
    };
    if real != got {
        return Err(format!("restore: real {real:?}, ours {got:?}"));
    }
    if real.0 != 0 {
        return Ok(());
    }
    let real_save = ns.save(&[]);
    let our_save = ours.save(&[]);
    first_diff("iptables-save", &real_save, &our_save)?;
    if let Some(golden) = golden {
        let canon = std::fs::read_to_string(golden).map_err(|e| format!("{golden:?}: {e}"))?;
        first_diff("roundtrip file", &canon, &our_save)?;
    }
    let tables: Vec<&str> = our_save
        .lines()
        .filter_map(|l| l.strip_prefix('*'))
        .collect();
    for table in tables {
        for (args, verbose) in LISTINGS {
            let mut full = vec!["-t", table];
            full.extend_from_slice(args);
            let (c, o, e) = ns.iptables(&full);
            let numeric = args.contains(&"-n");
            let o = if numeric {
                normalize_prot(&o, *verbose, false, false)
            } else {
                o
            };
            let real = (c, o, e);
            let got = ours.run("iptables", &full, None);
            if real.0 != got.0 || real.2 != got.2 {
                return Err(format!(
                    "{full:?}: real {:?} {:?}, ours {:?} {:?}",
                    real.0, real.2, got.0, got.2
                ));
            }
            first_diff(&format!("{full:?}"), &real.1, &got.1)?;
        }
    }
    Ok(())
}

/// `Err` naming the first differing line.
fn first_diff(what: &str, want: &str, got: &str) -> Result<(), String> {
    if want == got {
        return Ok(());
    }
    let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
    let n = (0..w.len().max(g.len()))
        .find(|&i| w.get(i) != g.get(i))
        .unwrap_or(0);
    Err(format!(
        "{what} differs at line {}: want {:?}, got {:?}",
        n + 1,
        w.get(n),
        g.get(n)
    ))
}

/// Runs `check` on every item on two workers; prints one PASS/FAIL line
/// each and fails if any differs.
fn run_all<T: Sync>(items: &[(String, T)], check: impl Fn(&T) -> Result<(), String> + Sync) {
    let (a, b): (Vec<_>, Vec<_>) = items.iter().enumerate().partition(|(i, _)| i % 2 == 0);
    let run = |part: Vec<(usize, &(String, T))>| -> Vec<(String, Result<(), String>)> {
        part.into_iter()
            .map(|(_, (name, item))| (name.clone(), check(item)))
            .collect()
    };
    let mut results = std::thread::scope(|s| {
        let h = s.spawn(|| run(b));
        let mut r = run(a);
        r.extend(h.join().expect("worker"));
        r
    });
    results.sort_by(|x, y| x.0.cmp(&y.0));
    let mut failed = Vec::new();
    for (name, r) in &results {
        match r {
            Ok(()) => eprintln!("PASS {name}"),
            Err(e) => {
                eprintln!("FAIL {name}: {e}");
                failed.push(name.as_str());
            }
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} rulesets differ: {failed:?}",
        failed.len(),
        results.len()
    );
}

#[test]
fn rulesets_match_iptables_nft() {
    if !kernel_tests("live_rulesets") {
        return;
    }
    let Some(root) = shared("live_rulesets") else {
        return;
    };
    let all = rulesets(&root);
    assert!(
        all.len() >= 30,
        "expected the shared rulesets, found {}",
        all.len()
    );
    let items: Vec<(String, (PathBuf, PathBuf))> =
        all.into_iter().map(|(n, f, g)| (n, (f, g))).collect();
    run_all(&items, |(f, g)| check(Source::File(f), Some(g)));
}

#[test]
fn supported_rules_of_rulesets_match_iptables_nft() {
    if !kernel_tests("live_rulesets supported part") {
        return;
    }
    let Some(root) = shared("live_rulesets supported part") else {
        return;
    };
    let items: Vec<(String, String)> = rulesets(&root)
        .into_iter()
        .filter_map(|(name, f, _)| {
            let text = String::from_utf8_lossy(&std::fs::read(&f).ok()?).into_owned();
            Some((name, supported_part(&text)))
        })
        .collect();
    run_all(&items, |text| check(Source::Text(text), None));
}
