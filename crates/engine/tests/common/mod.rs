//! Helpers shared by the live differential tests (`live_kernel.rs`,
//! `live_stateful.rs`, `live_engine_random.rs`, `live_host.rs`).

use ironwall_engine::packet::LogFlags;
use ironwall_model::addr::Family;
use ironwall_model::ext::set::IpSet;
use ironwall_model::restore::{restore, RestoreOpts};
use ironwall_model::ruleset::Ruleset;

/// Every field a log line can show.
pub const ALL: LogFlags = LogFlags {
    tcp_seq: true,
    tcp_opt: true,
    ip_opt: true,
    uid: false,
};

/// Prints the `what` (LOG lines, paths) only one side has; returns how
/// many there are.
pub fn multiset_diff(what: &str, ours: &[String], kernel: &[String]) -> usize {
    let mut only_kernel: Vec<&String> = kernel.iter().collect();
    let mut only_ours = Vec::new();
    for l in ours {
        match only_kernel.iter().position(|k| *k == l) {
            Some(i) => {
                only_kernel.swap_remove(i);
            }
            None => only_ours.push(l),
        }
    }
    for l in &only_ours {
        eprintln!("{what} only ironwall has: {l:?}");
    }
    for l in &only_kernel {
        eprintln!("{what} only the kernel has: {l:?}");
    }
    only_ours.len() + only_kernel.len()
}

/// The model of a ruleset text (`counters`: with its `[p:b]` counters)
/// naming the ipsets `sets`.
pub fn model(rules: &str, counters: bool, sets: &[IpSet]) -> Ruleset {
    let mut rs = Ruleset::new(Family::V4);
    let opts = RestoreOpts {
        counters,
        ..RestoreOpts::default()
    };
    restore(&mut rs, rules, &opts, sets).expect("our model loads the ruleset");
    rs
}
