//! Shared by the live tests: the real iptables in a private namespace and
//! ironwall on a rules file, side by side.

#![allow(dead_code)]

use ironwall_lab::{ironwall_bin, run_with_input, strip_comments, triple, Netns};
use std::path::PathBuf;
use std::process::Command;

/// The message prefix of the real tool, and ironwall's in its place.
const REAL_PREFIX: &str = "v1.8.9 (nf_tables)";
const OURS_PREFIX: &str = "v1.8.11 (ironwall)";

/// Replaces the real tool's version prefix by ironwall's, nothing else.
pub fn normalize_prefix(s: &str) -> String {
    s.replace(REAL_PREFIX, OURS_PREFIX)
}

/// ironwall on a fresh rules file in a temporary folder.
pub struct Ours {
    _dir: tempfile::TempDir,
    pub rules: PathBuf,
}

impl Ours {
    pub fn new() -> Ours {
        let dir = tempfile::tempdir().expect("tempdir");
        let rules = dir.path().join("rules");
        Ours { _dir: dir, rules }
    }

    /// Runs `ironwall SUB --rules F ARGS` with `stdin`.
    pub fn run(&self, sub: &str, args: &[&str], stdin: Option<&str>) -> Res {
        let mut cmd = Command::new(ironwall_bin());
        cmd.arg(sub).arg("--rules").arg(&self.rules).args(args);
        triple(run_with_input(cmd, stdin))
    }
}

/// (exit code, stdout, stderr).
pub type Res = (i32, String, String);

/// The real iptables (or ip6tables) in a fresh namespace, and ironwall on
/// a fresh rules file.
pub struct Twin {
    pub ns: Netns,
    pub ours: Ours,
    /// `iptables` or `ip6tables`.
    pub prog: &'static str,
}

impl Twin {
    pub fn new(tag: &str) -> Twin {
        Twin::of("iptables", tag)
    }

    /// A twin of `prog` (`iptables`, `ip6tables`).
    pub fn of(prog: &'static str, tag: &str) -> Twin {
        Twin {
            ns: Netns::new(tag),
            ours: Ours::new(),
            prog,
        }
    }

    /// Runs `ironwall SUB --rules F ARGS` with `stdin`.
    pub fn ours_sub(&self, sub: &str, args: &[&str], stdin: Option<&str>) -> Res {
        self.ours.run(sub, args, stdin)
    }

    /// The real iptables, output prefix-normalised.
    pub fn real(&self, args: &[&str]) -> Res {
        let (c, o, e) = triple(self.ns.run(self.prog, args, None));
        let o = normalize_listing(args, &o);
        (c, normalize_prefix(&o), normalize_prefix(&e))
    }

    pub fn ours(&self, args: &[&str]) -> Res {
        self.ours_sub(self.prog, args, None)
    }

    /// `PROG-save` (or `PROG-restore`, ...) for this twin's program.
    pub fn tool(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.prog)
    }

    pub fn real_save(&self) -> String {
        let (_, out, _) = triple(self.ns.run(&self.tool("-save"), &[], None));
        strip_comments(&out)
    }

    pub fn ours_save(&self) -> String {
        strip_comments(&self.ours_sub(&self.tool("-save"), &[], None).1)
    }

    /// The rules file's bytes (empty when it does not exist).
    pub fn rules_bytes(&self) -> Vec<u8> {
        std::fs::read(&self.ours.rules).unwrap_or_default()
    }
}

/// Splits a command line as a shell would for these simple cases
/// (words, single or double quotes).
pub fn words(line: &str) -> Vec<String> {
    ironwall_model::restore::split_args(line).expect("test command line splits")
}

/// The listing flags of a command line: (list, numeric, verbose, exact,
/// line numbers), read the way getopt would for these tests' lines.
pub fn list_flags(args: &[&str]) -> (bool, bool, bool, bool, bool) {
    let (mut l, mut n, mut v, mut x, mut ln) = (false, false, false, false, false);
    for a in args {
        if let Some(long) = a.strip_prefix("--") {
            let name = long.split('=').next().unwrap_or("");
            let is = |full: &str| !name.is_empty() && full.starts_with(name);
            l |= name == "list" || (name.len() > 2 && is("list"));
            n |= name.len() > 1 && is("numeric");
            v |= is("verbose");
            x |= is("exact");
            ln |= name.len() > 2 && is("line-numbers");
        } else if let Some(short) = a.strip_prefix('-') {
            for c in short.chars() {
                match c {
                    'L' => {
                        l = true;
                        break;
                    }
                    'n' => n = true,
                    'v' => v = true,
                    'x' => x = true,
                    'A' | 'C' | 'D' | 'E' | 'I' | 'M' | 'N' | 'P' | 'c' | 'd' | 'i' | 'j' | 'o'
                    | 'p' | 's' | 't' | 'R' | 'g' | 'm' | 'F' | 'X' | 'Z' | 'S' | 'W' | 'h'
                    | 'w' => break,
                    _ => {}
                }
            }
        }
    }
    (l, n, v, x, ln)
}

/// The real `-L` output as upstream 1.8.11+ prints it (protocol names
/// under `-n`).
pub fn normalize_listing(args: &[&str], out: &str) -> String {
    match list_flags(args) {
        (true, true, v, x, ln) => ironwall_lab::normalize_prot(out, v, x, ln),
        _ => out.to_string(),
    }
}

/// A live scenario: a name and the commands (arguments after the program).
pub type Scenario<'a> = (&'a str, &'a [&'a str]);

/// Runs `scenarios` of `prog` (`iptables`, `ip6tables`) on two workers
/// (the namespaces are independent); one text per mismatch.
pub fn run_scenarios(prog: &'static str, scenarios: &[Scenario]) -> Vec<String> {
    let mut failures = Vec::new();
    let chunks: Vec<&[Scenario]> = scenarios.chunks(scenarios.len().div_ceil(2)).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .flat_map(|sc| run_scenario(prog, sc))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            failures.extend(h.join().expect("worker"));
        }
    });
    failures
}

/// Runs one scenario in a fresh twin: after every command the exit code,
/// stdout, stderr and the save must agree, and a failed command must leave
/// the rules file byte-identical. One text per mismatch.
fn run_scenario(prog: &'static str, (name, cmds): &Scenario) -> Vec<String> {
    let twin = Twin::of(prog, "cmd");
    let mut bad = Vec::new();
    for cmd in cmds.iter() {
        let args = words(cmd);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let before = twin.rules_bytes();
        let real = twin.real(&args);
        let ours = twin.ours(&args);
        if real != ours {
            bad.push(format!(
                "[{name}] {prog} {cmd}\n  real: {real:?}\n  ours: {ours:?}"
            ));
        }
        if ours.0 != 0 && twin.rules_bytes() != before {
            bad.push(format!(
                "[{name}] {prog} {cmd}: failed but changed the rules file"
            ));
        }
        let (rs, os) = (twin.real_save(), twin.ours_save());
        if rs != os {
            bad.push(format!(
                "[{name}] after {prog} {cmd}: save differs\n  real: {rs:?}\n  ours: {os:?}"
            ));
        }
    }
    bad
}
