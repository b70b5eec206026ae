//! Shared by the restore tests: the real iptables-restore/-save in a
//! private namespace and `ironwall iptables-restore/-save` on a rules file.

#![allow(dead_code)]

use ironwall_lab::{ironwall_bin, strip_comments, triple, Netns};
use std::io::Write;
use std::path::PathBuf;
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
