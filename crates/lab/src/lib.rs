//! # ironwall-lab
//!
//! What the tests need to compare ironwall with the real thing:
//! * [`Netns`]: a private network namespace made for one test and deleted
//!   when dropped (also on panic), in which the real `iptables` runs;
//! * [`kernel_tests`]: whether tests that need root and the kernel run
//!   (`CI=true` or `IRONWALL_KERNEL_TESTS=1`); elsewhere they skip with one
//!   line saying why;
//! * [`shared`]: the `../shared` folder of test data, which tests skip
//!   without, except under `CI=true` where its absence fails;
//! * [`normalize_prot`]: the one column where the installed iptables 1.8.9
//!   differs from upstream 1.8.11+ (protocol numbers under `-n`).
//!
//! * [`topo`]: the differential lab's three namespaces (trusted client,
//!   stranger, server), raw frames in and out, real sockets inside them;
//! * [`kmsg`]: the kernel's LOG lines of a lab namespace.
//!
//! Lab rules: firewalls change only inside namespaces a test made; traffic
//! stays inside them; every loop is bounded.

pub mod corpus;
pub mod kmsg;
pub mod topo;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// True when running under CI (`CI=true`).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Whether kernel tests run. When they do not, prints one line saying why
/// (naming `what`) and returns false.
pub fn kernel_tests(what: &str) -> bool {
    let on = in_ci() || std::env::var("IRONWALL_KERNEL_TESTS").is_ok_and(|v| v == "1");
    if !on {
        eprintln!(
            "skip {what}: kernel tests need root; set IRONWALL_KERNEL_TESTS=1 (CI sets CI=true)"
        );
    }
    on
}

/// The shared test data folder (`../shared` of the workspace), if present.
/// Under `CI=true` its absence is a failure; elsewhere the test skips with
/// one line naming `what`.
pub fn shared(what: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    if dir.is_dir() {
        return Some(dir.canonicalize().unwrap_or(dir));
    }
    if in_ci() {
        panic!("{what}: ../shared is missing under CI=true");
    }
    eprintln!("skip {what}: ../shared is not present");
    None
}

/// The `ironwall` binary built for the tests (target/debug or release).
pub fn ironwall_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("IRONWALL_BIN") {
        return PathBuf::from(p);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    for profile in ["debug", "release"] {
        let p = target.join(profile).join("ironwall");
        if p.exists() {
            return p;
        }
    }
    target.join("debug").join("ironwall")
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A network namespace made for one test, deleted on drop.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates a fresh namespace named after `tag`, the process and a
    /// counter. Panics when `ip netns add` fails.
    pub fn new(tag: &str) -> Netns {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let name = format!("iw-{tag}-{}-{n}", std::process::id());
        let st = Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .expect("running ip netns add");
        assert!(st.success(), "ip netns add {name} failed");
        Netns { name }
    }

    /// The namespace's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `prog args` inside the namespace with `stdin` as input.
    pub fn run(&self, prog: &str, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name, prog]).args(args);
        run_with_input(cmd, stdin)
    }

    /// Runs the real `iptables` (iptables-nft) with `args`; returns
    /// (exit code, stdout, stderr).
    pub fn iptables(&self, args: &[&str]) -> (i32, String, String) {
        triple(self.run("iptables", args, None))
    }

    /// Runs the real `iptables-restore` with `args` and `input`.
    pub fn restore(&self, args: &[&str], input: &str) -> (i32, String, String) {
        triple(self.run("iptables-restore", args, Some(input)))
    }

    /// The real `iptables-save` output with `args`, without the
    /// `# Generated`/`# Completed` lines.
    pub fn save(&self, args: &[&str]) -> String {
        let (_, out, _) = triple(self.run("iptables-save", args, None));
        strip_comments(&out)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// Runs `cmd` with `stdin` as its input (none: `/dev/null`), capturing
/// stdout and stderr. Panics when it cannot be started.
pub fn run_with_input(mut cmd: Command, stdin: Option<&str>) -> Output {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("running {:?}: {e}", cmd.get_program()));
    if let Some(input) = stdin {
        use std::io::Write;
        let mut si = child.stdin.take().expect("stdin");
        let _ = si.write_all(input.as_bytes());
    }
    child
        .wait_with_output()
        .expect("waiting for a child process")
}

/// (exit code, stdout, stderr) of a finished process.
pub fn triple(o: Output) -> (i32, String, String) {
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Removes the `# Generated by`/`# Completed on` lines of a save.
pub fn strip_comments(save: &str) -> String {
    save.lines()
        .filter(|l| !l.starts_with("# Generated by") && !l.starts_with("# Completed on"))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Maps the prot column of a `-L` listing from 1.8.9's numbers under `-n`
/// to the names upstream 1.8.11+ prints (`0` → `all`, `6` → `tcp`, ...),
/// leaving every other byte alone. `verbose`, `exact` and `line_numbers`
/// are the listing's `-v`, `-x` and `--line-numbers`, which place the column.
pub fn normalize_prot(listing: &str, verbose: bool, exact: bool, line_numbers: bool) -> String {
    let mut out = String::new();
    for line in listing.split_inclusive('\n') {
        match normalize_line(line, verbose, exact, line_numbers) {
            Some(l) => out.push_str(&l),
            None => out.push_str(line),
        }
    }
    out
}

fn proto_name(num: &str) -> Option<&'static str> {
    Some(match num {
        "0" => "all",
        "1" => "icmp",
        "6" => "tcp",
        "17" => "udp",
        "50" => "esp",
        "51" => "ah",
        "58" => "ipv6-icmp",
        "132" => "sctp",
        "135" => "mobility-header",
        "136" => "udplite",
        _ => return None,
    })
}

/// Finds the prot field of one rule line and renames it; `None` when the
/// line is not a rule line or holds no number there.
fn normalize_line(line: &str, verbose: bool, exact: bool, line_numbers: bool) -> Option<String> {
    if line.starts_with("Chain ") || line.trim().is_empty() {
        return None;
    }
    let b = line.as_bytes();
    let token_end = |from: usize| (from..b.len()).find(|&i| b[i] == b' ').unwrap_or(b.len());
    let mut pos = 0;
    // A left-aligned field: token, padded to `w`, one space.
    let left = |pos: usize, w: usize| pos + (token_end(pos) - pos).max(w) + 1;
    // A right-aligned field: spaces, token, one space.
    let right = |pos: usize| {
        let start = (pos..b.len()).find(|&i| b[i] != b' ').unwrap_or(b.len());
        token_end(start) + 1
    };
    if line_numbers {
        pos = left(pos, 4);
    }
    if verbose {
        pos = right(pos);
        pos = right(pos);
        let _ = exact;
    }
    pos = left(pos, 9);
    // The inversion mark, then the protocol, padded to 4, one space.
    let start = pos + 1;
    if start >= b.len() {
        return None;
    }
    let end = token_end(start);
    let num = &line[start..end];
    let name = proto_name(num)?;
    let field_end = start + num.len().max(4) + 1;
    if field_end > line.len() {
        return None;
    }
    Some(format!(
        "{}{:<4} {}",
        &line[..start],
        name,
        &line[field_end..]
    ))
}

/// Splits a command line as a POSIX shell would for test data: blanks,
/// single quotes, double quotes (with backslash escapes), backslashes.
pub fn shell_split(s: &str) -> Vec<String> {
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
