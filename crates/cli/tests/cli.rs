//! The `ironwall` binary as a user meets it: subcommands and symlinks, the
//! rules file (missing = fresh kernel, untouched on failure, replaced
//! atomically), exit codes, and `ironwall demo`.
//!
//! Expected outputs and exit codes are those of the real iptables-nft
//! 1.8.9 (checked in a private namespace; `demo_matches_real_iptables`
//! does so live).

use ironwall_lab::{ironwall_bin, Netns};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// (exit code, stdout, stderr) of `ironwall ARGS` with `stdin`.
fn ironwall(args: &[&str], env: &[(&str, &Path)], stdin: &str, argv0: Option<&Path>) -> Out {
    let prog = argv0.map_or_else(ironwall_bin, Path::to_path_buf);
    let mut cmd = Command::new(prog);
    cmd.args(args)
        .env_remove("IRONWALL_RULES")
        .env_remove("IRONWALL_SETS")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("running ironwall");
    let _ = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes());
    let (code, stdout, stderr) =
        ironwall_lab::triple(child.wait_with_output().expect("waiting for ironwall"));
    Out {
        code,
        stdout,
        stderr,
    }
}

#[derive(Debug)]
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

/// `ironwall iptables --rules FILE ARGS`.
fn ipt(rules: &Path, args: &[&str]) -> Out {
    let r = rules.to_str().expect("utf-8 temp path");
    let mut a = vec!["iptables", "--rules", r];
    a.extend(args);
    ironwall(&a, &[], "", None)
}

/// `ironwall SUB --rules FILE ARGS` with `stdin` (iptables-save/-restore).
fn tool(sub: &str, rules: &Path, args: &[&str], stdin: &str) -> Out {
    let r = rules.to_str().expect("utf-8 temp path");
    let mut a = vec![sub, "--rules", r];
    a.extend(args);
    ironwall(&a, &[], stdin, None)
}

/// The names in a folder, sorted.
fn dir_names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("reading temp dir")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    v.sort();
    v
}

/// A temp folder with a rules file path in it (not created).
fn setup() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = dir.path().join("rules.v4");
    (dir, rules)
}

/// The listing of a fresh kernel's filter table, as iptables -L prints it.
const FRESH_LIST: &str = "\
Chain INPUT (policy ACCEPT)
target     prot opt source               destination         

Chain FORWARD (policy ACCEPT)
target     prot opt source               destination         

Chain OUTPUT (policy ACCEPT)
target     prot opt source               destination         
";

#[test]
fn symlinks_act_as_the_commands() {
    let (dir, rules) = setup();
    let bin_dir = dir.path().join("bin");
    std::fs::create_dir(&bin_dir).expect("bin dir");
    for name in ["iptables", "iptables-save", "iptables-restore"] {
        std::os::unix::fs::symlink(ironwall_bin(), bin_dir.join(name)).expect("symlink");
    }
    let env = [("IRONWALL_RULES", rules.as_path())];
    let link = |n: &str| bin_dir.join(n);

    let o = ironwall(&["-L"], &env, "", Some(&link("iptables")));
    assert_eq!((o.code, o.stdout.as_str()), (0, FRESH_LIST), "{}", o.stderr);

    let add = ["-A", "INPUT", "-p", "tcp", "--dport", "22", "-j", "ACCEPT"];
    let o = ironwall(&add, &env, "", Some(&link("iptables")));
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = ironwall(&["-S", "INPUT"], &env, "", Some(&link("iptables")));
    assert_eq!(
        o.stdout,
        "-P INPUT ACCEPT\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n"
    );

    // The symlinked save is the subcommand's save.
    let via_link = ironwall(&[], &env, "", Some(&link("iptables-save")));
    let via_sub = tool("iptables-save", &rules, &[], "");
    assert_eq!(via_link.code, 0, "{}", via_link.stderr);
    assert_eq!(
        ironwall_lab::strip_comments(&via_link.stdout),
        ironwall_lab::strip_comments(&via_sub.stdout)
    );

    // The symlinked restore replaces the ruleset.
    let input = "*filter\n:INPUT DROP [0:0]\n-A INPUT -i lo -j ACCEPT\nCOMMIT\n";
    let o = ironwall(&[], &env, input, Some(&link("iptables-restore")));
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = ironwall(&["-S"], &env, "", Some(&link("iptables")));
    assert_eq!(
        o.stdout,
        "-P INPUT DROP\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n-A INPUT -i lo -j ACCEPT\n"
    );

    // Without IRONWALL_RULES a symlink refuses to guess.
    let o = ironwall(&["-L"], &[], "", Some(&link("iptables")));
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("IRONWALL_RULES"), "{}", o.stderr);
}

/// The ip6tables names act as the ip6tables subcommands (which the live
/// tests hold to the real ip6tables), on a file in ip6tables-save form.
#[test]
fn ip6tables_symlinks_act_as_the_subcommands() {
    let (dir, linked) = setup();
    let direct = dir.path().join("rules.v6");
    let bin_dir = dir.path().join("bin");
    std::fs::create_dir(&bin_dir).expect("bin dir");
    for name in ["ip6tables", "ip6tables-save", "ip6tables-restore"] {
        std::os::unix::fs::symlink(ironwall_bin(), bin_dir.join(name)).expect("symlink");
    }
    let env = [("IRONWALL_RULES", linked.as_path())];
    let both = |name: &str, args: &[&str], stdin: &str| {
        let via_link = ironwall(args, &env, stdin, Some(&bin_dir.join(name)));
        let via_sub = tool(name, &direct, args, stdin);
        assert_eq!(
            via_link.code, via_sub.code,
            "{name} {args:?}: {}",
            via_link.stderr
        );
        assert_eq!(via_link.stderr, via_sub.stderr, "{name} {args:?}");
        let strip = |o: &Out| ironwall_lab::strip_comments(&o.stdout);
        assert_eq!(strip(&via_link), strip(&via_sub), "{name} {args:?}");
        via_link
    };
    let o = both(
        "ip6tables",
        &[
            "-A",
            "INPUT",
            "-s",
            "2001:db8::/32",
            "-p",
            "icmpv6",
            "-j",
            "ACCEPT",
        ],
        "",
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = both(
        "ip6tables",
        &["-A", "INPUT", "-s", "10.0.0.1", "-j", "DROP"],
        "",
    );
    assert_eq!(o.code, 2);
    assert!(o
        .stderr
        .starts_with("ip6tables v1.8.11 (ironwall): host/network `10.0.0.1' not found"));
    both("ip6tables", &["-S"], "");
    let o = both("ip6tables-save", &[], "");
    assert!(o
        .stdout
        .contains("-A INPUT -s 2001:db8::/32 -p ipv6-icmp -j ACCEPT\n"));
    assert!(o
        .stdout
        .starts_with("# Generated by ip6tables-save v1.8.11 (ironwall)"));
    let input =
        "*filter\n:INPUT DROP [0:0]\n-A INPUT -p icmpv6 --icmpv6-type 128 -j ACCEPT\nCOMMIT\n";
    assert_eq!(both("ip6tables-restore", &[], input).code, 0);
    let o = both("ip6tables", &["-L", "INPUT", "-n"], "");
    assert!(o.stdout.contains("ipv6-icmptype 128"), "{}", o.stdout);
    // The rules file holds an ip6tables-save text that ip6tables reads back.
    let text = std::fs::read_to_string(&linked).expect("rules file");
    assert!(text.contains("-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT"));
}

#[test]
fn missing_rules_file_is_a_fresh_kernel() {
    let (dir, rules) = setup();
    let o = ipt(&rules, &["-L"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, FRESH_LIST), "{}", o.stderr);
    let o = ipt(&rules, &["-S"]);
    assert_eq!(
        o.stdout,
        "-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n"
    );
    // A fresh kernel has no tables: iptables-save prints nothing.
    let o = tool("iptables-save", &rules, &[], "");
    assert_eq!((o.code, o.stdout.as_str()), (0, ""), "{}", o.stderr);
    // Reading does not create the file.
    assert!(dir_names(dir.path()).is_empty());
    // A failing command on a fresh kernel does not create it either.
    let o = ipt(&rules, &["-A", "NOCHAIN", "-j", "ACCEPT"]);
    assert_eq!(o.code, 1);
    assert!(dir_names(dir.path()).is_empty());
    // The first change does.
    let o = ipt(&rules, &["-P", "FORWARD", "DROP"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(dir_names(dir.path()), ["rules.v4"]);
}

/// A rules file with some content, its bytes and inode.
fn populated() -> (tempfile::TempDir, PathBuf) {
    let (dir, rules) = setup();
    for args in [
        &["-N", "web"][..],
        &["-A", "INPUT", "-p", "tcp", "--dport", "443", "-j", "web"],
        &[
            "-A",
            "web",
            "-m",
            "comment",
            "--comment",
            "hi there",
            "-j",
            "ACCEPT",
        ],
        &["-t", "nat", "-N", "pre"],
    ] {
        let o = ipt(&rules, args);
        assert_eq!(o.code, 0, "{args:?}: {}", o.stderr);
    }
    (dir, rules)
}

#[test]
fn failed_commands_leave_the_file_alone() {
    let (dir, rules) = populated();
    let before = std::fs::read(&rules).expect("rules file");
    let ino = std::fs::metadata(&rules).expect("metadata").ino();
    // (arguments, exit code and first line of stderr of iptables-nft 1.8.9)
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &["-A", "NOCHAIN", "-j", "ACCEPT"],
            1,
            "iptables: No chain/target/match by that name.",
        ),
        (&["-A", "INPUT", "--bogus"], 2, "unknown option \"--bogus\""),
        (&["-N", "web"], 1, "iptables: Chain already exists."),
        (&["-N", "INPUT"], 1, "iptables: Chain already exists."),
        (
            &["-I", "INPUT", "3", "-j", "ACCEPT"],
            1,
            "iptables: Index of insertion too big.",
        ),
        (
            &[
                "-A", "INPUT", "-p", "tcp", "--dport", "99999", "-j", "ACCEPT",
            ],
            2,
            "invalid port/service `99999' specified",
        ),
        (
            &["-t", "nat", "-A", "INPUT", "-j", "DROP"],
            2,
            "The \"nat\" table is not intended for filtering",
        ),
    ];
    for (args, code, msg) in cases {
        let o = ipt(&rules, args);
        assert_eq!(o.code, *code, "{args:?}: {}", o.stderr);
        assert!(o.stderr.contains(msg), "{args:?}: {}", o.stderr);
        assert_eq!(
            std::fs::read(&rules).expect("rules file"),
            before,
            "{args:?}"
        );
        assert_eq!(
            std::fs::metadata(&rules).expect("metadata").ino(),
            ino,
            "{args:?}"
        );
    }
    // Restores that fail: no COMMIT, a failing line, a bad option.
    let restores: &[(&str, i32, &str)] = &[
        (
            "*filter\n-A INPUT -j ACCEPT\n",
            1,
            "iptables-restore: COMMIT expected at line 3\n",
        ),
        (
            "*filter\n-A NOPE -j ACCEPT\nCOMMIT\n",
            1,
            "iptables-restore: line 2 failed: No chain/target/match by that name.\n",
        ),
        (
            "*filter\n-A INPUT --bogus\nCOMMIT\n",
            2,
            "Error occurred at line: 2\n",
        ),
        // The first table is fine, the second fails: nothing changes.
        (
            "*filter\n-F\nCOMMIT\n*nat\n-A NOPE\nCOMMIT\n",
            1,
            "iptables-restore: line 5 failed",
        ),
    ];
    for (input, code, msg) in restores {
        let o = tool("iptables-restore", &rules, &[], input);
        assert_eq!(o.code, *code, "{input:?}: {}", o.stderr);
        assert!(o.stderr.contains(msg), "{input:?}: {}", o.stderr);
        assert_eq!(
            std::fs::read(&rules).expect("rules file"),
            before,
            "{input:?}"
        );
    }
    // Test mode (-t) never writes.
    let o = tool("iptables-restore", &rules, &["-t"], "*filter\n-F\nCOMMIT\n");
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(std::fs::read(&rules).expect("rules file"), before);
    // Commands that only read do not rewrite.
    for args in [
        &["-L"][..],
        &["-S"],
        &["-vnxL", "--line-numbers"],
        &["-C", "web", "-j", "DROP"],
    ] {
        ipt(&rules, args);
        assert_eq!(
            std::fs::metadata(&rules).expect("metadata").ino(),
            ino,
            "{args:?}"
        );
    }
    assert_eq!(dir_names(dir.path()), ["rules.v4"]);
}

#[test]
fn writes_are_atomic_and_leave_no_temp_files() {
    let (dir, rules) = populated();
    let mut ino = std::fs::metadata(&rules).expect("metadata").ino();
    for args in [
        &["-A", "INPUT", "-s", "10.0.0.0/8", "-j", "DROP"][..],
        &["-D", "INPUT", "1"],
        &["-P", "OUTPUT", "DROP"],
    ] {
        let o = ipt(&rules, args);
        assert_eq!(o.code, 0, "{args:?}: {}", o.stderr);
        // Replaced by a rename (a new inode), never rewritten in place.
        let now = std::fs::metadata(&rules).expect("metadata").ino();
        assert_ne!(now, ino, "{args:?}: the rules file was written in place");
        ino = now;
        assert_eq!(dir_names(dir.path()), ["rules.v4"], "{args:?}");
    }
    let o = tool(
        "iptables-restore",
        &rules,
        &[],
        "*raw\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n",
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(dir_names(dir.path()), ["rules.v4"]);
    // The file is a complete `iptables-save -c` text (it may carry
    // ironwall's own state in comment lines).
    let o = tool("iptables-save", &rules, &["-c"], "");
    let no_comments = |t: &str| -> String {
        t.lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect()
    };
    assert_eq!(
        no_comments(&std::fs::read_to_string(&rules).expect("rules file")),
        no_comments(&o.stdout)
    );
}

#[test]
fn unreadable_rules_file_is_an_error_not_a_fresh_kernel() {
    let (_dir, rules) = setup();
    std::fs::write(&rules, "*filter\n-A INPUT -j ACCEPT\n").expect("writing");
    let before = std::fs::read(&rules).expect("rules file");
    let o = ipt(&rules, &["-P", "INPUT", "DROP"]);
    assert_ne!(o.code, 0);
    assert!(o.stderr.contains("rules.v4"), "{}", o.stderr);
    assert_eq!(std::fs::read(&rules).expect("rules file"), before);
}

/// The words of a demo line, as a shell would split them.
fn demo_lines() -> Vec<(String, Vec<String>)> {
    include_str!("../src/demo.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let words = ironwall_model::restore::split_args(l).expect("demo line");
            (l.to_string(), words)
        })
        .collect()
}

#[test]
fn demo_runs() {
    let o = ironwall(&["demo"], &[], "", None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    for (line, _) in demo_lines() {
        assert!(o.stdout.contains(&format!("# iptables {line}\n")), "{line}");
    }
    // The last command's output, as iptables-nft prints it.
    assert!(o.stdout.ends_with(
        "# iptables -t nat -S\n-P PREROUTING ACCEPT\n-P INPUT ACCEPT\n-P OUTPUT ACCEPT\n\
         -P POSTROUTING ACCEPT\n-A PREROUTING ! -s 10.137.0.0/24 -p tcp -m tcp --dport 22 \
         -j DNAT --to-destination 172.17.0.4:8022\n"
    ));
}

/// Live: the demo's commands run by the real iptables in a private
/// namespace print what `ironwall demo` prints (prot column normalized).
#[test]
fn demo_matches_real_iptables() {
    if !ironwall_lab::kernel_tests("demo vs real iptables") {
        return;
    }
    let ns = Netns::new("demo");
    let mut want = String::new();
    for (line, words) in demo_lines() {
        let args: Vec<&str> = words.iter().map(String::as_str).collect();
        let (code, out, err) = ns.iptables(&args);
        assert_eq!(code, 0, "real iptables {line}: {err}");
        let flags: String = words
            .iter()
            .filter(|w| w.starts_with('-') && !w.starts_with("--"))
            .map(|w| &w[1..])
            .collect();
        let out = if flags.contains('L') && flags.contains('n') {
            let line_numbers = words.iter().any(|w| w == "--line-numbers");
            ironwall_lab::normalize_prot(
                &out,
                flags.contains('v'),
                flags.contains('x'),
                line_numbers,
            )
        } else {
            out
        };
        want.push_str(&format!("# iptables {line}\n{out}"));
    }
    let o = ironwall(&["demo"], &[], "", None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.stdout, want);
}

#[test]
fn usage_errors() {
    let o = ironwall(&[], &[], "", None);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("Usage:"), "{}", o.stderr);
    let o = ironwall(&["iptables", "-L"], &[], "", None);
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains("--rules FILE is required"),
        "{}",
        o.stderr
    );
    let o = ironwall(&["bogus"], &[], "", None);
    assert_eq!(o.code, 2);
    let o = ironwall(&["--help"], &[], "", None);
    assert_eq!(o.code, 0);
    assert!(
        o.stdout.contains("Usage: ironwall <COMMAND>"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("\n  demo "), "{}", o.stdout);
    // iptables' words go to iptables untouched: -h is its help.
    let o = ironwall(
        &["iptables", "--rules", "/nonexistent/r", "-h"],
        &[],
        "",
        None,
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.starts_with("iptables v1.8.11"), "{}", o.stdout);
    let o = ironwall(&["trace", "--rules", "r"], &[], "", None);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("<PACKET>"), "{}", o.stderr);
}

#[test]
fn completions() {
    let o = ironwall(&["completions", "bash"], &[], "", None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("_ironwall()"), "{}", o.stdout);
    assert!(o.stdout.contains("simulate"), "{}", o.stdout);
    let o = ironwall(&["completions", "tcsh"], &[], "", None);
    assert_eq!(o.code, 2);
}

#[test]
fn rules_option_forms() {
    let (_dir, rules) = setup();
    let r = rules.to_str().expect("utf-8 temp path");
    let eq = format!("--rules={r}");
    let o = ironwall(&["iptables", &eq, "-N", "x"], &[], "", None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = ipt(&rules, &["-S", "x"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "-N x\n"), "{}", o.stderr);
}
