//! Replays the hardening guide (`../shared/seed/server-hardening-with-iptables.txt`)
//! command by command through the real iptables in a fresh namespace and
//! through `ironwall iptables --rules F`, comparing after every command the
//! command's own result and `iptables-save`, `-L --line-numbers`, `-vnL`
//! and `-S`. The guide's `iptables-save > file` / `iptables-restore < file`
//! steps go through each side's own save and restore.

mod common;

use common::{normalize_prefix, words, Twin};
use ironwall_lab::normalize_prot;

/// One step of the guide.
#[derive(Debug)]
enum Step {
    /// `iptables ARGS`.
    Iptables(Vec<String>),
    /// `iptables-save > FILE`.
    Save,
    /// `iptables-restore < FILE`.
    Restore,
}

/// The guide's command lines, in order: lines `# iptables -...` (and the
/// one such line printed without `# `), `# iptables-save ...`,
/// `# iptables-restore ...`. Prose that starts with "iptables" is not a
/// command: a command's first argument starts with `-`.
fn steps(guide: &str) -> Vec<Step> {
    let mut out = Vec::new();
    for line in guide.lines() {
        let line = line.trim();
        let cmd = line.strip_prefix("# ").unwrap_or(line);
        if cmd.starts_with("iptables-save ") {
            out.push(Step::Save);
        } else if cmd.starts_with("iptables-restore ") {
            out.push(Step::Restore);
        } else if let Some(rest) = cmd.strip_prefix("iptables -") {
            out.push(Step::Iptables(words(&format!("-{rest}"))));
        }
    }
    out
}

#[test]
fn guide_steps_are_found() {
    let Some(dir) = ironwall_lab::shared("live_guide") else {
        return;
    };
    let guide = std::fs::read_to_string(dir.join("seed/server-hardening-with-iptables.txt"))
        .expect("reading the guide");
    let s = steps(&guide);
    assert!(s.len() > 30, "{s:?}");
    assert!(matches!(s.last(), Some(Step::Restore)));
    // The DNAT line has no `# ` in the guide.
    assert!(s
        .iter()
        .any(|st| matches!(st, Step::Iptables(a) if a.iter().any(|w| w == "DNAT"))));
}

#[test]
fn live_guide() {
    if !ironwall_lab::kernel_tests("live_guide") {
        return;
    }
    let Some(dir) = ironwall_lab::shared("live_guide") else {
        return;
    };
    let guide = std::fs::read_to_string(dir.join("seed/server-hardening-with-iptables.txt"))
        .expect("reading the guide");
    let twin = Twin::new("guide");
    let (mut real_saved, mut ours_saved) = (String::new(), String::new());
    for (i, step) in steps(&guide).iter().enumerate() {
        let (what, real, ours) = match step {
            Step::Iptables(args) => {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let real = twin.real(&args);
                (
                    format!("iptables {}", args.join(" ")),
                    real,
                    twin.ours(&args),
                )
            }
            Step::Save => {
                let (c, o, e) = ironwall_lab::triple(twin.ns.run("iptables-save", &[], None));
                real_saved = o;
                let ours = twin.ours_sub("iptables-save", &[], None);
                ours_saved = ours.1.clone();
                let real = (c, ironwall_lab::strip_comments(&real_saved), e);
                let ours = (ours.0, ironwall_lab::strip_comments(&ours.1), ours.2);
                ("iptables-save".to_string(), real, ours)
            }
            Step::Restore => {
                let (c, o, e) = twin.ns.restore(&[], &real_saved);
                let real = (c, o, normalize_prefix(&e));
                let ours = twin.ours_sub("iptables-restore", &[], Some(&ours_saved));
                ("iptables-restore".to_string(), real, ours)
            }
        };
        assert_eq!(real, ours, "step {i}: {what}");
        compare_state(&twin, &format!("after step {i}: {what}"));
    }
}

/// The four views of the state, real against ironwall.
fn compare_state(twin: &Twin, ctx: &str) {
    assert_eq!(twin.real_save(), twin.ours_save(), "{ctx}: iptables-save");
    for args in [&["-L", "--line-numbers"][..], &["-S"][..]] {
        assert_eq!(twin.real(args), twin.ours(args), "{ctx}: iptables {args:?}");
    }
    let (c, o, e) = twin.ns.iptables(&["-vnL"]);
    let real = (c, normalize_prot(&o, true, false, false), e);
    assert_eq!(real, twin.ours(&["-vnL"]), "{ctx}: iptables -vnL");
}
