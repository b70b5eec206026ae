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

/// The real iptables in a fresh namespace, and ironwall on a fresh rules
/// file.
pub struct Twin {
    pub ns: Netns,
    pub ours: Ours,
}

impl Twin {
    pub fn new(tag: &str) -> Twin {
        Twin {
            ns: Netns::new(tag),
            ours: Ours::new(),
        }
    }

    /// Runs `ironwall SUB --rules F ARGS` with `stdin`.
    pub fn ours_sub(&self, sub: &str, args: &[&str], stdin: Option<&str>) -> Res {
        self.ours.run(sub, args, stdin)
    }

    /// The real iptables, output prefix-normalised.
    pub fn real(&self, args: &[&str]) -> Res {
        let (c, o, e) = self.ns.iptables(args);
        let o = normalize_listing(args, &o);
        (c, normalize_prefix(&o), normalize_prefix(&e))
    }

    pub fn ours(&self, args: &[&str]) -> Res {
        self.ours_sub("iptables", args, None)
    }

    pub fn real_save(&self) -> String {
        self.ns.save(&[])
    }

    pub fn ours_save(&self) -> String {
        strip_comments(&self.ours_sub("iptables-save", &[], None).1)
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
