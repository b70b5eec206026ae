//! Without the kernel: every shared ruleset restored by `ironwall
//! iptables-restore`, saved, restored again and saved again gives the same
//! save (with and without counters); every refused restore leaves the rules
//! file byte-identical (DECISIONS.md 3); and the save of every ruleset real
//! iptables-nft 1.8.9 loads equals its canonical `roundtrip-1.8.9/nft/`
//! file.

mod restore_lab;

use ironwall_lab::shared;
use restore_lab::{rulesets, supported_part, Rules};
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

/// A ruleset the rules file holds before each restore, so that an
/// unchanged file is not merely an absent one.
const SEED: &str = "*raw\n:PREROUTING DROP [1:2]\nCOMMIT\n*filter\n:SEED - [0:0]\n[5:6] -A INPUT -s 10.0.0.1/32 -j SEED\nCOMMIT\n";

fn hash(bytes: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

/// Restores `input` onto a seeded rules file with `args`; `Some(rules)`
/// when accepted. A refusal must leave the file's bytes alone.
fn load(name: &str, input: &[u8], args: &[&str]) -> Option<Rules> {
    let rules = Rules::new();
    assert_eq!(rules.restore(&["-c"], SEED.as_bytes()).0, 0, "seed");
    let before = hash(&rules.bytes());
    let (code, _, err) = rules.restore(args, input);
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
        let whole = std::fs::read(&file).expect("reading a ruleset");
        // The part this build parses, so that the round trip is exercised
        // whatever extensions exist.
        let part = supported_part(&String::from_utf8_lossy(&whole)).into_bytes();
        for (what, input) in [("whole", &whole), ("supported part", &part)] {
            for args in [&[][..], &["-n"][..], &["-c"][..]] {
                let label = format!("{name} ({what})");
                let Some(first) = load(&label, input, args) else {
                    continue;
                };
                loaded += 1;
                for save_args in [&[][..], &["-c"][..]] {
                    let save1 = first.save(save_args);
                    let second = Rules::new();
                    let (code, _, err) = second.restore(&["-c"], save1.as_bytes());
                    assert_eq!(code, 0, "{label}: its own save is refused: {err}");
                    let save2 = second.save(save_args);
                    assert_eq!(save1, save2, "{label} {args:?} {save_args:?}: not stable");
                }
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
