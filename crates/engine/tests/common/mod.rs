//! Helpers shared by the live differential tests (`live_kernel.rs`,
//! `live_stateful.rs`).

use ironwall_lab::kmsg::{Kmsg, LogAllNetns};
use ironwall_model::addr::Family;
use ironwall_model::restore::{restore, RestoreOpts};
use ironwall_model::ruleset::Ruleset;

/// Enables LOG lines of the lab's namespaces; `None` (after one line
/// saying why) when the kernel log cannot be read.
pub fn log_guard(what: &str) -> Option<LogAllNetns> {
    if let Err(e) = Kmsg::open(what) {
        eprintln!("skip {what}: /dev/kmsg: {e}");
        return None;
    }
    match LogAllNetns::enable() {
        Ok(g) => Some(g),
        Err(e) => {
            eprintln!("skip {what}: nf_log_all_netns: {e}");
            None
        }
    }
}

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

/// The model of a ruleset text (`counters`: with its `[p:b]` counters).
pub fn model(rules: &str, counters: bool) -> Ruleset {
    let mut rs = Ruleset::new(Family::V4);
    let opts = RestoreOpts {
        counters,
        ..RestoreOpts::default()
    };
    restore(&mut rs, rules, &opts, &[]).expect("our model loads the ruleset");
    rs
}
