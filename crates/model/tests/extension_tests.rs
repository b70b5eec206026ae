//! iptables' own extension tests (`../shared/iptables-tests/v1.8.9/*.t`),
//! run against the model: every OK line must be accepted and saved as the
//! file says, every FAIL line refused, every NOMATCH line accepted with a
//! different save text. The format is described in that folder's README.
//!
//! `FILES` lists the test files of the extensions ironwall implements;
//! `EXCEPTIONS` lists lines whose result depends on kernel state, each
//! with its reason.

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
];

/// (file, line number, reason) of lines not held to their expected result.
const EXCEPTIONS: &[(&str, usize, &str)] = &[];

/// Splits a command as a POSIX shell would for these files: blanks,
/// single and double quotes, backslash escapes.
fn shell_split(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut have = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                have = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    cur.push(c);
                }
            }
            '"' => {
                have = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => {
                            if let Some(&n) = chars.peek() {
                                if matches!(n, '"' | '\\' | '$' | '`') {
                                    cur.push(n);
                                    chars.next();
                                    continue;
                                }
                            }
                            cur.push('\\');
                        }
                        _ => cur.push(c),
                    }
                }
            }
            '\\' => {
                have = true;
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            ' ' | '\t' => {
                if have {
                    out.push(std::mem::take(&mut cur));
                    have = false;
                }
            }
            _ => {
                have = true;
                cur.push(c);
            }
        }
    }
    if have {
        out.push(cur);
    }
    out
}

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

fn run_file(path: &std::path::Path, file: &str) -> Outcome {
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
            let words = shell_split(cmd);
            if words.first().map(String::as_str) == Some("iptables") {
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
            let mut rs = Ruleset::new(Family::V4);
            for s in &setup {
                let _ = run_iptables(&mut rs, s, &[]);
            }
            let mut args = vec!["-A".to_string(), chain.clone()];
            if let Some(t) = &table {
                args.extend(["-t".to_string(), t.clone()]);
            }
            args.extend(shell_split(item[0]));
            let result = run_iptables(&mut rs, &args, &[]);
            let want_save = if item[1] == "=" { item[0] } else { item[1] };
            let want = format!("\n-A {chain} {want_save}\n");
            let saved = format!("\n{}", save::save(&rs, None, false, "iptables-save", "-"));
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
                if !EXCEPTIONS
                    .iter()
                    .any(|(f, l, _)| *f == file && *l == lineno)
                {
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
    for file in FILES {
        let o = run_file(&dir.join(file), file);
        println!("{file}: {}/{} passed", o.passed, o.lines);
        total += o.lines;
        passed += o.passed;
        failures.extend(o.failures);
    }
    println!(
        "iptables .t lines: {passed}/{total} passed, {} known exceptions",
        EXCEPTIONS.len()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
