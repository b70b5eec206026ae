//! Without the kernel: every shared ruleset restored by `ironwall
//! iptables-restore`, saved, restored again and saved again gives the same
//! save (with and without counters); every refused restore leaves the rules
//! file byte-identical (DECISIONS.md 3); and the save of every ruleset real
//! iptables-nft 1.8.9 loads equals its canonical `roundtrip-1.8.9/nft/`
//! file.

mod restore_lab;

use ironwall_lab::shared;
use restore_lab::Rules;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

const DIRS: &[&str] = &["iptables-upstream", "iptables_semantics", "net-network"];

/// A ruleset the rules file holds before each restore, so that an
/// unchanged file is not merely an absent one.
const SEED: &str = "*raw\n:PREROUTING DROP [1:2]\nCOMMIT\n*filter\n:SEED - [0:0]\n[5:6] -A INPUT -s 10.0.0.1/32 -j SEED\nCOMMIT\n";

fn hash(bytes: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

/// (ruleset, canonical save file) for every shared ruleset.
fn rulesets(root: &Path) -> Vec<(String, PathBuf, PathBuf)> {
    let mut out = Vec::new();
    for dir in DIRS {
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

/// Restores `file` onto a seeded rules file with `args`; `Some(rules)` when
/// accepted. A refusal must leave the file's bytes alone.
fn load(name: &str, file: &Path, args: &[&str]) -> Option<Rules> {
    let rules = Rules::new();
    assert_eq!(rules.restore(&["-c"], SEED.as_bytes()).0, 0, "seed");
    let before = hash(&rules.bytes());
    let mut all = args.to_vec();
    let path = file.to_str().expect("UTF-8 path");
    all.push(path);
    let (code, _, err) = rules.run("iptables-restore", &all, None);
    if code != 0 {
        assert_eq!(
            hash(&rules.bytes()),
            before,
            "{name} {args:?}: refused ({err:?}) but the rules file changed"
        );
        return None;
    }
    Some(rules)
}

#[test]
fn restore_save_is_stable_and_failures_change_nothing() {
    let Some(root) = shared("restore_roundtrip") else {
        return;
    };
    let mut loaded = 0;
    for (name, file, _) in rulesets(&root) {
        for args in [&[][..], &["-n"][..], &["-c"][..]] {
            let Some(first) = load(&name, &file, args) else {
                continue;
            };
            loaded += 1;
            for save_args in [&[][..], &["-c"][..]] {
                let save1 = first.save(save_args);
                let second = Rules::new();
                let (code, _, err) = second.restore(&["-c"], save1.as_bytes());
                assert_eq!(code, 0, "{name}: its own save is refused: {err}");
                let save2 = second.save(save_args);
                assert_eq!(save1, save2, "{name} {args:?} {save_args:?}: not stable");
            }
        }
    }
    eprintln!("restore_roundtrip: {loaded} loads round-tripped");
}

#[test]
fn saves_equal_the_canonical_files() {
    let Some(root) = shared("restore_roundtrip") else {
        return;
    };
    let mut failed = Vec::new();
    for (name, file, golden) in rulesets(&root) {
        let Ok(want) = std::fs::read_to_string(&golden) else {
            continue;
        };
        let rules = Rules::new();
        let path = file.to_str().expect("UTF-8 path");
        let (code, _, err) = rules.run("iptables-restore", &[path], None);
        if code != 0 {
            failed.push(format!(
                "{name}: refused: {}",
                err.lines().next().unwrap_or("")
            ));
            continue;
        }
        if rules.save(&[]) != want {
            failed.push(format!("{name}: save differs from the canonical file"));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
