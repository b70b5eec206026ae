//! ICMP rate limiting, engine against kernel: which of a stream of UDP
//! probes to a closed port the server answers with port unreachable, at
//! the kernel's default `net.ipv4.icmp_ratelimit` (1000 ms a message per
//! destination, a burst of 6), for two destinations at once.
//!
//! The global limit (`icmp_msgs_per_sec`, `icmp_msgs_burst`) takes a
//! random 0 to 2 credits a message since Linux 6.11, so no stream can
//! compare it; the server's is set out of reach here (and in the engine's
//! host), as the lab does elsewhere. The schedule keeps every decision at
//! least 300 ms from a token boundary, so jiffies and a loaded machine's
//! late sleeps cannot tip one; the engine gets the kernel's own receive
//! times of the probes.

use ironwall_engine::host::Host;
use ironwall_engine::netfilter::Engine;
use ironwall_engine::packet::{Packet, Transport};
use ironwall_engine::wire;
use ironwall_lab::topo::{
    Controls, End, Lab, RawLink, CLIENT, PACKET_HOST, PACKET_OUTGOING, SERVER_C, SERVER_S, STRANGER,
};
use std::time::Duration;

/// The closed port probed.
const CLOSED: u16 = 9;

/// A probe's source port: unique per probe, so answers quote it.
fn probe_line(from: End, to: End, sport: u16) -> String {
    format!(
        "IN= OUT={} SRC={} DST={} LEN=29 TTL=64 ID={sport} PROTO=UDP SPT={sport} DPT={CLOSED} LEN=9",
        from.iface, from.addr, to.addr
    )
}

/// The probe's source port an answer quotes, if it is a port
/// unreachable.
fn quoted_port(p: &Packet) -> Option<u16> {
    match &p.transport {
        Transport::Icmp {
            typ: 3,
            code: 3,
            inner: Some(q),
            ..
        } => match &q.transport {
            Transport::Udp { spt, .. } => Some(*spt),
            _ => None,
        },
        _ => None,
    }
}

#[test]
fn icmp_ratelimit_agrees_with_the_kernel() {
    let what = "icmp_ratelimit_agrees_with_the_kernel";
    if !ironwall_lab::kernel_tests(what) {
        return;
    }
    let controls = Controls {
        icmp_ratelimit: 1000,
        ..Controls::default()
    };
    let lab = Lab::new("icmplim", &controls);
    lab.server
        .sysctl(&[
            ("net.ipv4.icmp_msgs_per_sec", "100000"),
            ("net.ipv4.icmp_msgs_burst", "100000"),
        ])
        .expect("global ICMP limit out of reach");
    let taps: Vec<(End, RawLink)> = [SERVER_C, SERVER_S]
        .into_iter()
        .map(|e| (e, RawLink::open(&lab.server, e.iface).expect("tap")))
        .collect();
    let senders = [
        (
            CLIENT,
            RawLink::open(&lab.client, CLIENT.iface).expect("client link"),
        ),
        (
            STRANGER,
            RawLink::open(&lab.stranger, STRANGER.iface).expect("stranger link"),
        ),
    ];
    // (sender index, probes back to back, then a pause in ms). Tokens
    // are milliseconds, 1000 a message, at most 6000.
    let schedule: [(usize, u16, u64); 6] = [
        (0, 8, 0),    // client: 6000: 6 of 8 answered, 0 left
        (1, 3, 1500), // stranger, its own bucket: 3 answered, 3000 left
        (0, 2, 200),  // client: 1500: 1 of 2, 500 left
        (0, 1, 800),  // client: 700: none
        (0, 1, 0),    // client: 1500: answered, 500 left
        (1, 7, 0),    // stranger: 5500: 5 of 7
    ];
    let mut sport = 20_000;
    let mut sent_by = Vec::new();
    for &(who, n, pause) in &schedule {
        let (from, link) = &senders[who];
        let to = if who == 0 { SERVER_C } else { SERVER_S };
        for _ in 0..n {
            let pkt = Packet::parse_line(&probe_line(*from, to, sport)).expect("probe");
            let frame = wire::to_ethernet(&pkt, to.mac, from.mac).expect("encode");
            link.send(&frame).expect("send");
            sent_by.push((who, sport));
            sport += 1;
        }
        std::thread::sleep(Duration::from_millis(pause));
    }
    // What the server received (the probes, with the kernel's times) and
    // which probes it answered.
    let (mut probes, mut kernel) = (Vec::new(), Vec::new());
    for (end, tap) in &taps {
        for f in tap.drain(Duration::from_millis(300), Duration::from_secs(5)) {
            let Ok(mut p) = wire::from_ethernet(&f.data) else {
                continue;
            };
            p.time = Some(f.time);
            match f.pkttype {
                PACKET_HOST if matches!(p.transport, Transport::Udp { dpt: CLOSED, .. }) => {
                    p.iface_in = end.iface.to_string();
                    probes.push(p);
                }
                PACKET_OUTGOING => kernel.extend(quoted_port(&p)),
                _ => {}
            }
        }
    }
    probes.sort_by(|a, b| a.time.partial_cmp(&b.time).expect("times"));
    let sent = sent_by.len();
    assert_eq!(probes.len(), sent, "the server saw every probe");
    let mut host = Host::default();
    for end in [SERVER_C, SERVER_S] {
        host.option("--iface", &format!("{}={}/24", end.iface, end.addr))
            .expect("iface");
    }
    for kv in [
        "net.ipv4.icmp_ratelimit=1000",
        "net.ipv4.icmp_msgs_per_sec=100000",
        "net.ipv4.icmp_msgs_burst=100000",
    ] {
        host.option("--sysctl", kv).expect("sysctl");
    }
    let rs = ironwall_model::ruleset::Ruleset::new(ironwall_model::addr::Family::V4);
    let mut engine = Engine::new(&rs, host).expect("engine");
    let mut ours = Vec::new();
    for p in &probes {
        if let Some(r) = engine.process(p).reply {
            ours.extend(quoted_port(&r.packet));
        }
    }
    kernel.sort_unstable();
    ours.sort_unstable();
    let disagreements = kernel
        .iter()
        .filter(|k| !ours.contains(k))
        .chain(ours.iter().filter(|o| !kernel.contains(o)))
        .count();
    println!(
        "{what}: {sent} probes, kernel answered {}, ironwall {}, disagreements {disagreements}",
        kernel.len(),
        ours.len()
    );
    assert_eq!(ours, kernel, "answered probes (by source port)");
    // The limit acted on both destinations (the exact counts depend on
    // how late the pauses end, which the engine sees in the times).
    for (who, name) in ["client", "stranger"].into_iter().enumerate() {
        let ports: Vec<u16> = sent_by.iter().filter(|s| s.0 == who).map(|s| s.1).collect();
        let answered = kernel.iter().filter(|p| ports.contains(p)).count();
        assert!(
            answered < ports.len(),
            "the kernel limited the {name}'s answers"
        );
    }
}
