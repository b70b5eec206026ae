//! Every packet's way through the server as TRACE shows it, for the
//! stateful live tests (`live_stateful.rs`, the corpus): every packet is
//! traced from its first hook (an nft table of the tests' own), and a
//! traversal (a packet from its first hook to its verdict; a packet the
//! host sends itself is two, its way out and its way back in through lo)
//! is written `KEY => EVENTS`, the same for the kernel
//! ([`kernel_paths`]) and the engine's `Outcome::walks`
//! ([`engine_paths`]). Needs `crate::trace` (`common/trace.rs`).

use crate::trace;
use ironwall_engine::netfilter::Outcome;
use ironwall_engine::packet::{tcp_flags as F, Packet, Transport};
use ironwall_lab::topo::{Lab, Monitor, CLIENT};
use std::net::IpAddr;

/// Loads the tracing table ([`trace_table`]) into the lab's server, gives
/// the trusted client its ephemeral ports ([`CLIENT_PORTS`]) and starts
/// the monitor. Call before loading the ruleset under test.
pub fn start(lab: &Lab) -> Monitor {
    let (code, _, err) =
        ironwall_lab::triple(lab.server.run("nft", &["-f", "-"], Some(&trace_table())));
    assert_eq!(code, 0, "nft -f: {err}");
    let (lo, hi) = CLIENT_PORTS;
    lab.client
        .sysctl(&[("net.ipv4.ip_local_port_range", &format!("{lo} {hi}"))])
        .expect("the client's ports");
    trace::monitor(lab)
}

/// The trusted client's ephemeral ports (`ip_local_port_range`): its
/// bulk connection to 8443 comes from one of them and is not traced.
const CLIENT_PORTS: (u16, u16) = (50000, 50999);

/// Whether TRACE leaves a packet out ([`trace_table`]): the bulk
/// connection's, whose bursts would overflow xtables-monitor's socket
/// (the trusted client's, by address too: the server's own connections
/// may take a port of the same range).
fn untraced(p: &Packet) -> bool {
    let client = |port: &u16| (CLIENT_PORTS.0..=CLIENT_PORTS.1).contains(port);
    let from_client = p.src == IpAddr::V4(CLIENT.addr);
    let to_client = p.dst == IpAddr::V4(CLIENT.addr);
    matches!(&p.transport, Transport::Tcp { spt, dpt, .. }
        if (from_client && *dpt == 8443 && client(spt))
            || (to_client && *spt == 8443 && client(dpt)))
}

/// Sets `nftrace` on every packet the server sends or receives but the
/// [`untraced`] ones (and not twice for a packet it sends itself through
/// lo, which keeps the mark), in a table of its own that iptables-save
/// does not show and that holds no counter: the compared counters are not
/// touched. Its priority (-350) is after conntrack's defragmentation and
/// before raw.
fn trace_table() -> String {
    let (lo, hi) = CLIENT_PORTS;
    let client = CLIENT.addr;
    format!(
        "table ip iwtrace {{
  chain pre {{ type filter hook prerouting priority -350; policy accept;
    iifname \"lo\" return; ip saddr {client} tcp dport 8443 tcp sport {lo}-{hi} return; meta nftrace set 1; }}
  chain out {{ type filter hook output priority -350; policy accept;
    ip daddr {client} tcp sport 8443 tcp dport {lo}-{hi} return; meta nftrace set 1; }}
}}
"
    )
}

/// What identifies a packet in a trace: as [`packet_key`] writes it from
/// the words of the `PACKET:` line `xtables-monitor` prints.
fn run_key(r: &trace::Run) -> String {
    let flags: Vec<&str> = r
        .packet
        .iter()
        .map(String::as_str)
        .filter(|w| TRACE_FLAGS.iter().any(|(n, _)| n == w))
        .collect();
    let mut key = ["IN", "OUT", "SRC", "DST", "LEN", "SPORT", "DPORT"]
        .iter()
        .map(|k| format!("{k}={}", r.field(k)))
        .collect::<Vec<_>>()
        .join(" ");
    for f in flags {
        key.push(' ');
        key.push_str(f);
    }
    key
}

/// The TCP flags `xtables-monitor` prints, in its order.
const TRACE_FLAGS: [(&str, u16); 6] = [
    ("SYN", F::SYN),
    ("ACK", F::ACK),
    ("FIN", F::FIN),
    ("RST", F::RST),
    ("PSH", F::PSH),
    ("URG", F::URG),
];

/// A packet's identity in a trace: interfaces, addresses, length, ports
/// and TCP flags (not the IP ID, which the host's answers choose at
/// random).
fn packet_key(p: &Packet) -> String {
    let or_unknown = |s: &str| {
        if s.is_empty() {
            "?".to_string()
        } else {
            s.to_string()
        }
    };
    // xtables-monitor prints ports (and flags) only when the header it
    // got holds them: a whole TCP header, UDP's first 4 bytes.
    let room = usize::from(p.len).saturating_sub(20 + p.ip_options.len());
    let (ports, flags) = match &p.transport {
        Transport::Tcp {
            spt, dpt, flags, ..
        } if room >= 20 => {
            let names: Vec<&str> = TRACE_FLAGS
                .iter()
                .filter(|(_, b)| flags & b != 0)
                .map(|(n, _)| *n)
                .collect();
            (
                (spt.to_string(), dpt.to_string()),
                names.iter().map(|n| format!(" {n}")).collect(),
            )
        }
        Transport::Udp { spt, dpt, .. } if room >= 4 => {
            ((spt.to_string(), dpt.to_string()), String::new())
        }
        _ => (("?".to_string(), "?".to_string()), String::new()),
    };
    format!(
        "IN={} OUT={} SRC={} DST={} LEN={} SPORT={} DPORT={}{flags}",
        or_unknown(&p.iface_in),
        or_unknown(&p.iface_out),
        p.src,
        p.dst,
        p.len,
        ports.0,
        ports.1
    )
}

/// The engine's paths of an outcome and its answers, one per traversal
/// the kernel traces: `KEY => EVENTS` ([`packet_key`], `Walk::trace_events`,
/// as `ironwall trace --json` prints them).
/// A packet the host sends to itself is two: its way out, and its way
/// back in through lo.
pub fn engine_paths(o: &Outcome, into: &mut Vec<String>) {
    // A fragment the engine holds never reached a hook (the kernel's
    // defragmentation, before the tracing table, holds it too).
    if untraced(&o.packet) || o.dropped_by == Some("defrag") {
        return;
    }
    let back_in = o
        .walks
        .iter()
        .position(|w| matches!(w.chain, "PREROUTING" | "INPUT") && !o.packet.iface_out.is_empty());
    let (out, back) = o.walks.split_at(back_in.unwrap_or(o.walks.len()));
    // The way back in as the packet left (NAT applied).
    let mut looped = o.out.clone();
    looped.iface_in = "lo".to_string();
    looped.iface_out.clear();
    for (p, walks) in [(&o.packet, out), (&looped, back)] {
        if p.iface_in == "lo" && walks.is_empty() {
            continue;
        }
        let events: Vec<String> = walks.iter().flat_map(|w| w.trace_events()).collect();
        into.push(path_line(&packet_key(p), &events));
    }
    if let Some(r) = &o.reply {
        engine_paths(r, into);
    }
}

/// The kernel's paths in [`engine_paths`]' form: a traversal starts at
/// the `iwtrace` table's event ([`trace_table`]) and holds the later runs
/// of its trace id.
pub fn kernel_paths(lines: &[String], handles: &trace::Handles) -> Vec<String> {
    let mut paths: Vec<(String, Vec<String>)> = Vec::new();
    let mut current: std::collections::HashMap<String, usize> = Default::default();
    for (id, r) in trace::runs(lines, handles) {
        if r.table == "iwtrace" {
            current.insert(id, paths.len());
            paths.push((run_key(&r), Vec::new()));
            continue;
        }
        let i = *current.entry(id).or_insert_with(|| {
            paths.push((format!("{} (untraced start)", run_key(&r)), Vec::new()));
            paths.len() - 1
        });
        paths[i].1.extend(r.events);
    }
    paths.into_iter().map(|(k, e)| path_line(&k, &e)).collect()
}

/// `KEY => EVENTS` (no trailing blank for a packet no chain saw).
fn path_line(key: &str, events: &[String]) -> String {
    format!("{key} => {}", events.join(" "))
        .trim_end()
        .to_string()
}
