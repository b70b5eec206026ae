//! Helpers shared by the live differential tests (`live_kernel.rs`,
//! `live_stateful.rs`).

use ironwall_engine::packet::{LogFlags, Packet};
use ironwall_engine::wire;
use ironwall_model::addr::Family;
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

/// The packets the kernel reassembles from the fragments received (each
/// with its Ethernet frame), in the order their last fragments came,
/// each with the last one's interface, MAC and time: fragments of one
/// packet share source, destination, ID and protocol.
pub fn reassembled(frags: &[(Packet, Vec<u8>)]) -> Vec<Packet> {
    let mut groups: Vec<Vec<&(Packet, Vec<u8>)>> = Vec::new();
    for f in frags {
        let same = |g: &Vec<&(Packet, Vec<u8>)>| {
            let p = &g[0].0;
            (p.src, p.dst, p.id, p.transport.proto())
                == (f.0.src, f.0.dst, f.0.id, f.0.transport.proto())
        };
        match groups.iter_mut().find(|g| same(g)) {
            Some(g) => g.push(f),
            None => groups.push(vec![f]),
        }
    }
    let mut out = Vec::new();
    for g in groups {
        let ips: Vec<&[u8]> = g.iter().map(|(_, frame)| &frame[14..]).collect();
        if let Some(whole) = wire::reassemble(&ips) {
            let mut p = wire::from_ipv4(&whole).expect("a reassembled packet parses");
            let last = &g[g.len() - 1].0;
            p.iface_in.clone_from(&last.iface_in);
            p.mac.clone_from(&last.mac);
            p.time = last.time;
            out.push(p);
        }
    }
    out
}
