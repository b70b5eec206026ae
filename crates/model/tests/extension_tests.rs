//! iptables' own extension tests (`../shared/iptables-tests/v1.8.9/*.t`),
//! run against the model: every OK line must be accepted and saved as the
//! file says, every FAIL line refused, every NOMATCH line accepted with a
//! different save text. The format is described in that folder's README.
//!
//! `FILES` lists the test files of the extensions ironwall implements;
//! `EXCEPTIONS` lists lines whose result depends on kernel state, each
//! with its reason.
//!
//! As upstream's iptables-test.py runs them, `libxt_*` files are run as
//! `ip6tables` too (`iptables.t` and `libipt_*` only as `iptables`);
//! `EXCEPTIONS6` lists their lines that are IPv4-only (upstream later moved
//! them to `libipt_*` files), each with its reason. The `libip6t_*` files
//! are not in the shared test data.

use ironwall_model::addr::Family;
use ironwall_model::ruleset::Ruleset;
use ironwall_model::{run_iptables, save};

/// The test files run here.
const FILES: &[&str] = &[
    "iptables.t",
    "libxt_standard.t",
    "libxt_tcp.t",
    "libxt_udp.t",
    "libxt_comment.t",
    "libxt_conntrack.t",
    "libxt_state.t",
    "libipt_icmp.t",
    "libxt_multiport.t",
    "libxt_iprange.t",
    "libxt_mac.t",
    "libipt_LOG.t",
    "libipt_REJECT.t",
    "libipt_DNAT.t",
    "libipt_SNAT.t",
    "libipt_MASQUERADE.t",
    "libipt_NETMAP.t",
    "libxt_REDIRECT.t",
    "libxt_MARK.t",
    "libxt_NFLOG.t",
    "libxt_CT.t",
    "libxt_NOTRACK.t",
    "libxt_TCPMSS.t",
    "libxt_CHECKSUM.t",
    "libxt_SET.t",
    "libxt_limit.t",
    "libxt_mark.t",
    "libxt_recent.t",
    "libxt_addrtype.t",
    "libxt_set.t",
    "libxt_owner.t",
    "libxt_physdev.t",
    "libxt_rpfilter.t",
    "libxt_sctp.t",
];

/// (file, line number, reason) of lines not held to their expected result.
const EXCEPTIONS: &[(&str, usize, &str)] = &[
    (
        "libxt_NFLOG.t",
        18,
        "expects the 64-byte xt prefix; iptables-nft keeps up to 127 bytes (checked live)",
    ),
    (
        "libxt_TCPMSS.t",
        4,
        "FAIL;LEGACY with an empty save text: on nft the rule loads and no save line can match",
    ),
    (
        "libxt_recent.t",
        7,
        "--hitcount 999 is expected to fail, but current kernels (6.18) accept it",
    ),
];

fn variant_res(res: &str, variant: &str, alt: Option<&str>) -> String {
    if variant == "NFT" {
        return res.to_string();
    }
    if let Some(a) = alt {
        return a.to_string();
    }
    match res {
        "OK" => "FAIL",
        "FAIL" => "OK",
        "NOMATCH" => "OK",
        r => r,
    }
    .to_string()
}

struct Outcome {
    lines: usize,
    passed: usize,
    failures: Vec<String>,
}

/// (file, line numbers, reason) of `libxt_*` lines that do not hold as
/// `ip6tables`. Each was run through the real ip6tables 1.8.9 (nft): the
/// model fails or saves exactly as it does.
const EXCEPTIONS6: &[(&str, &[usize], &str)] = &[
    (
        "libxt_standard.t",
        &[2, 3, 4, 5, 12, 13, 14, 15, 16, 17, 18, 19],
        "IPv4 address: ip6tables says host/network `A' not found",
    ),
    (
        "libxt_standard.t",
        &[20, 21, 22, 23],
        "dotted IPv4 mask: ip6tables says invalid mask `M' specified",
    ),
    ("libxt_mark.t", &[8], "IPv4 address: host/network not found"),
    (
        "libxt_conntrack.t",
        &[11, 12, 13, 14],
        "IPv4 address: ip6tables says getaddrinfo: Address family for hostname not supported",
    ),
    (
        "libxt_iprange.t",
        &[2, 3, 4, 5],
        "IPv4 range: ip6tables says iprange: Bad value for \"--src-range\" option",
    ),
    (
        "libxt_recent.t",
        &[3, 4, 9, 10, 11],
        "IPv4 --mask: ip6tables says getaddrinfo: Address family for hostname not supported",
    ),
    (
        "libxt_recent.t",
        &[2, 5],
        "the default --mask is the IPv6 all-ones mask, saved as ffff:...:ffff",
    ),
    ("libxt_NFLOG.t", &[18], "as for iptables (see EXCEPTIONS)"),
    ("libxt_TCPMSS.t", &[4], "as for iptables (see EXCEPTIONS)"),
];

/// Whether line `lineno` of `file` is a known exception for `family`.
fn is_exception(family: Family, file: &str, lineno: usize) -> bool {
    match family {
        Family::V4 => EXCEPTIONS
            .iter()
            .any(|(f, l, _)| *f == file && *l == lineno),
        Family::V6 => EXCEPTIONS6
            .iter()
            .any(|(f, ls, _)| *f == file && ls.contains(&lineno)),
    }
}

fn run_file(path: &std::path::Path, file: &str, family: Family) -> Outcome {
    let text = std::fs::read_to_string(path).expect("reading test file");
    let mut chains: Vec<String> = Vec::new();
    let mut table: Option<String> = None;
    let mut setup: Vec<Vec<String>> = Vec::new();
    let mut o = Outcome {
        lines: 0,
        passed: 0,
        failures: Vec::new(),
    };
    for (i, line) in text.lines().enumerate() {
        let lineno = i + 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(c) = line.strip_prefix(':') {
            chains = c.split(',').map(str::to_string).collect();
            continue;
        }
        if let Some(t) = line.strip_prefix('*') {
            table = Some(t.to_string());
            continue;
        }
        if let Some(cmd) = line.strip_prefix('%') {
            let words = ironwall_lab::shell_split(cmd);
            if words.first().map(String::as_str) == Some(family.prog()) {
                setup.push(words[1..].to_vec());
            }
            continue;
        }
        if line.starts_with('@') {
            continue;
        }
        let item: Vec<&str> = line.split(';').collect();
        if item.len() < 3 {
            continue;
        }
        o.lines += 1;
        let mut res = item[2].trim_end().to_string();
        if item.len() > 3 {
            res = variant_res(&res, item[3].trim_end(), item.get(4).map(|s| s.trim_end()));
        }
        let mut ok = true;
        for chain in &chains {
            let mut rs = Ruleset::new(family);
            for s in &setup {
                let _ = run_iptables(&mut rs, s, &[]);
            }
            let mut args = vec!["-A".to_string(), chain.clone()];
            if let Some(t) = &table {
                args.extend(["-t".to_string(), t.clone()]);
            }
            args.extend(ironwall_lab::shell_split(item[0]));
            let result = run_iptables(&mut rs, &args, &[]);
            let want_save = if item[1] == "=" { item[0] } else { item[1] };
            let want = format!("\n-A {chain} {want_save}\n");
            let saved = format!("\n{}", save::save(&rs, None, false, family.prog(), "-"));
            let verdict = match (res.as_str(), &result) {
                ("FAIL", Err(_)) => None,
                ("FAIL", Ok(_)) => Some("should fail".to_string()),
                (_, Err(e)) => Some(format!("cannot load: {}", e.msg)),
                ("OK", Ok(_)) if saved.contains(&want) => None,
                ("OK", Ok(_)) => Some(format!("saved differently:{}", saved.trim_end())),
                ("NOMATCH", Ok(_)) if !saved.contains(&want) => None,
                (_, Ok(_)) => Some("should not match".to_string()),
            };
            if let Some(why) = verdict {
                if !is_exception(family, file, lineno) {
                    o.failures
                        .push(format!("{file}:{lineno}: [{chain}] {line}\n    {why}"));
                }
                ok = false;
                break;
            }
        }
        if ok {
            o.passed += 1;
        }
    }
    o
}

#[test]
fn iptables_extension_tests_v1_8_9() {
    let Some(shared) = ironwall_lab::shared("iptables .t tests") else {
        return;
    };
    let dir = shared.join("iptables-tests/v1.8.9");
    let mut total = 0;
    let mut passed = 0;
    let mut failures = Vec::new();
    let runs = FILES.iter().map(|f| (f, Family::V4)).chain(
        FILES
            .iter()
            .filter(|f| f.starts_with("libxt_"))
            .map(|f| (f, Family::V6)),
    );
    for (file, family) in runs {
        let o = run_file(&dir.join(file), file, family);
        println!(
            "{file} ({}): {}/{} passed",
            family.prog(),
            o.passed,
            o.lines
        );
        total += o.lines;
        passed += o.passed;
        failures.extend(o.failures);
    }
    println!(
        "iptables .t lines: {passed}/{total} passed, {} known exceptions",
        EXCEPTIONS.len() + EXCEPTIONS6.iter().map(|e| e.1.len()).sum::<usize>()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The chains, table and rule of test line `lineno` of `text`.
fn line_context(text: &str, lineno: usize) -> (Vec<String>, Option<String>, String) {
    let mut chains = Vec::new();
    let mut table = None;
    for line in text.lines().take(lineno - 1) {
        if let Some(c) = line.strip_prefix(':') {
            chains = c.split(',').map(str::to_string).collect();
        } else if let Some(t) = line.strip_prefix('*') {
            table = Some(t.to_string());
        }
    }
    let line = text.lines().nth(lineno - 1).unwrap_or_default();
    let rule = line.split(';').next().unwrap_or_default().to_string();
    (chains, table, rule)
}

/// Every `EXCEPTIONS6` line through the real ip6tables and the model in
/// its first chain: the exit code, the error message (version prefix
/// aside) and the save must agree, so each exception is ip6tables'
/// behaviour rather than a gap of the model.
#[test]
fn ip6tables_exceptions_agree_live() {
    let Some(shared) = ironwall_lab::shared("iptables .t tests") else {
        return;
    };
    if !ironwall_lab::kernel_tests("ip6tables .t exceptions") {
        return;
    }
    let dir = shared.join("iptables-tests/v1.8.9");
    let mut bad = Vec::new();
    for (file, lines, _) in EXCEPTIONS6 {
        let text = std::fs::read_to_string(dir.join(file)).expect("reading test file");
        for &lineno in *lines {
            let (chains, table, rule) = line_context(&text, lineno);
            let mut args = vec!["-A".to_string(), chains[0].clone()];
            if let Some(t) = &table {
                args.extend(["-t".to_string(), t.clone()]);
            }
            args.extend(ironwall_lab::shell_split(&rule));
            let ns = ironwall_lab::Netns::new("t6");
            let words: Vec<&str> = args.iter().map(String::as_str).collect();
            let (code, _, err) = ironwall_lab::triple(ns.run("ip6tables", &words, None));
            let real_err = err.replace("v1.8.9 (nf_tables)", "v1.8.11 (ironwall)");
            let real_save = ironwall_lab::strip_comments(
                &ironwall_lab::triple(ns.run("ip6tables-save", &[], None)).1,
            );
            let mut rs = Ruleset::new(Family::V6);
            let ours = match run_iptables(&mut rs, &args, &[]) {
                Ok(o) => (0, o.stderr),
                Err(e) => (e.exit_code(), e.render("ip6tables")),
            };
            let ours_save =
                ironwall_lab::strip_comments(&save::save(&rs, None, false, "ip6tables-save", "-"));
            // The real save holds every table iptables-nft created; the
            // rule's own table is what the line is about.
            let rule_line = |s: &str| s.lines().find(|l| l.starts_with("-A ")).map(str::to_string);
            if (code, real_err.clone()) != ours || rule_line(&real_save) != rule_line(&ours_save) {
                bad.push(format!(
                    "{file}:{lineno}: {rule}\n  real: {code} {real_err:?} {:?}\n  ours: {ours:?} {:?}",
                    rule_line(&real_save),
                    rule_line(&ours_save)
                ));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
