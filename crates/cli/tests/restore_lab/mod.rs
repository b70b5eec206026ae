//! Shared by the restore tests: the real iptables-restore/-save in a
//! private namespace and `ironwall iptables-restore/-save` on a rules file.

#![allow(dead_code)]

use ironwall_lab::{ironwall_bin, strip_comments, triple, Netns};
use ironwall_model::parse::{self, Cmd, ParseEnv};
use ironwall_model::restore::split_args;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// (exit code, stdout, stderr).
pub type Res = (i32, String, String);

/// The real tools' version words, and ironwall's in their place.
pub fn normalize_prefix(s: &str) -> String {
    let ours = format!("v{} (ironwall)", ironwall_model::IPTABLES_VERSION);
    s.replace("v1.8.9 (nf_tables)", &ours)
}

/// A rules file in a temporary folder.
pub struct Rules {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl Rules {
    pub fn new() -> Rules {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("rules");
        Rules { _dir: dir, path }
    }

    /// `ironwall SUB --rules F ARGS` with `stdin`.
    pub fn run(&self, sub: &str, args: &[&str], stdin: Option<&[u8]>) -> Res {
        let mut cmd = Command::new(ironwall_bin());
        cmd.arg(sub).arg("--rules").arg(&self.path).args(args);
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("running ironwall");
        if let Some(input) = stdin {
            let mut si = child.stdin.take().expect("stdin");
            let _ = si.write_all(input);
        }
        triple(child.wait_with_output().expect("waiting for ironwall"))
    }

    pub fn restore(&self, args: &[&str], input: &[u8]) -> Res {
        self.run("iptables-restore", args, Some(input))
    }

    /// `iptables-save ARGS` without the `#` lines.
    pub fn save(&self, args: &[&str]) -> String {
        strip_comments(&self.run("iptables-save", args, None).1)
    }

    pub fn bytes(&self) -> Vec<u8> {
        std::fs::read(&self.path).unwrap_or_default()
    }
}

/// The real iptables-restore with `input` given as bytes on stdin.
pub fn real_restore(ns: &Netns, args: &[&str], input: &[u8]) -> Res {
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", ns.name(), "iptables-restore"])
        .args(args);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("running ip netns exec");
    {
        let mut si = child.stdin.take().expect("stdin");
        let _ = si.write_all(input);
    }
    let (c, o, e) = triple(child.wait_with_output().expect("waiting"));
    (c, normalize_prefix(&o), normalize_prefix(&e))
}

/// The ruleset without the rule lines this build of ironwall cannot parse
/// on their own (extensions not implemented yet) or whose target is neither
/// a verdict nor a chain the file declares: what remains exercises restore,
/// save and listings at full size against the real tools, whatever
/// extensions exist.
pub fn supported_part(text: &str) -> String {
    let declared: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix(':')?.split_whitespace().next())
        .collect();
    let mut table = String::new();
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        if let Some(t) = line.strip_prefix('*') {
            table = t.trim().to_string();
        }
        let rule = line
            .strip_prefix('[')
            .and_then(|r| r.split_once(']'))
            .map_or(line, |(_, r)| r.trim_start());
        if rule.starts_with('-') && !keep_rule(rule, &table, &declared) {
            continue;
        }
        out.push_str(line);
    }
    out
}

fn keep_rule(rule: &str, table: &str, declared: &[&str]) -> bool {
    let Ok(mut args) = split_args(rule) else {
        return false;
    };
    args.splice(0..0, ["-t".to_string(), table.to_string()]);
    let env = ParseEnv {
        family: ironwall_model::addr::Family::V4,
        restore: true,
        table,
        sets: &[],
    };
    match parse::parse(&args, env) {
        Ok(p) if p.cmd != Cmd::Nothing => p
            .rules
            .iter()
            .all(|r| r.target.chain().is_none_or(|c| declared.contains(&c))),
        _ => false,
    }
}

/// Every shared ruleset: (name `DIR/FILE`, path, canonical save path).
pub fn rulesets(root: &Path) -> Vec<(String, PathBuf, PathBuf)> {
    let mut out = Vec::new();
    for dir in ["iptables-upstream", "iptables_semantics", "net-network"] {
        let Ok(entries) = std::fs::read_dir(root.join("rulesets").join(dir)) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        names.sort();
        for name in names {
            let golden = root
                .join("rulesets/roundtrip-1.8.9/nft")
                .join(format!("{dir}_{name}"));
            let file = root.join("rulesets").join(dir).join(&name);
            out.push((format!("{dir}/{name}"), file, golden));
        }
    }
    out
}
