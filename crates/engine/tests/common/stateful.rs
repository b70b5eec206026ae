//! Helpers of the stateful live tests (`live_stateful.rs`,
//! `live_host.rs`): crafted frames and handshakes from the lab's
//! client, the engine's host mirroring the lab's server, and comparing
//! the engine's answers, LOG lines and counters with the kernel's.

use ironwall_engine::host::Host;
use ironwall_engine::netfilter::{Engine, Outcome};
use ironwall_engine::packet::{tcp_flags as F, LogFlags, Packet, Transport};
use ironwall_engine::walk::Verdict;
use ironwall_engine::wire::{self, Corrupt};
use ironwall_lab::topo::{End, Lab, RawLink, CLIENT, PACKET_OUTGOING, SERVER_C};
use ironwall_model::ruleset::Ruleset;
use std::net::IpAddr;
use std::time::Duration;

/// Gives `h` the receive buffer sizes the lab's server inherited from
/// the machine (they set the SYN-ACK's window scale).
pub fn mirror_buffers(lab: &Lab, h: &mut Host) {
    for key in ["net.ipv4.tcp_rmem", "net.core.rmem_max"] {
        let (code, v, err) = ironwall_lab::triple(lab.server.run("sysctl", &["-n", key], None));
        assert_eq!(code, 0, "sysctl {key}: {err}");
        h.option("--sysctl", &format!("{key}={}", v.trim()))
            .expect("sysctl");
    }
}

/// Every field a log line can show.
pub const ALL: LogFlags = LogFlags {
    tcp_seq: true,
    tcp_opt: true,
    ip_opt: true,
    uid: false,
};

/// What identifies a packet's flow and kind: addresses, ports, TCP flags
/// or ICMP type.
pub fn kind(p: &Packet) -> String {
    let t = match &p.transport {
        Transport::Tcp {
            spt, dpt, flags, ..
        } => format!("TCP {spt}>{dpt} flags {flags:#x}"),
        Transport::Udp { spt, dpt, .. } => format!("UDP {spt}>{dpt}"),
        Transport::Icmp { typ, code, .. } => format!("ICMP {typ}/{code}"),
        Transport::Other(n) => format!("PROTO {n}"),
    };
    format!("{} > {} {t}", p.src, p.dst)
}

/// A packet as compared between the engine's answer and the kernel's: its
/// log line without the IP ID, the SYN-ACK's sequence number and the
/// timestamp option's values (all chosen at random by the kernel).
pub fn answer_text(p: &Packet) -> String {
    let mut p = p.clone();
    p.id = 0;
    p.time = None;
    p.iface_in.clear();
    p.iface_out.clear();
    p.mac = None;
    if let Transport::Tcp {
        seq,
        options,
        flags,
        ..
    } = &mut p.transport
    {
        if *flags & F::SYN != 0 {
            *seq = Some(0);
        }
        let mut i = 0;
        while i < options.len() {
            match options[i] {
                0 | 1 => i += 1,
                k => {
                    let len = usize::from(options.get(i + 1).copied().unwrap_or(2)).max(2);
                    if k == 8 {
                        for b in options.iter_mut().skip(i + 2).take(len - 2) {
                            *b = 0;
                        }
                    }
                    i += len;
                }
            }
        }
    }
    p.log_line(ALL)
}

/// Whether a sent packet is one the stack sends on its own (an answer),
/// not a socket's segment.
pub fn is_answer(p: &Packet) -> bool {
    match &p.transport {
        Transport::Tcp { flags, .. } => {
            *flags & F::RST != 0 || *flags & (F::SYN | F::ACK) == F::SYN | F::ACK
        }
        Transport::Icmp { typ, .. } => matches!(typ, 0 | 3 | 11),
        _ => false,
    }
}

/// The answers an outcome sent that left (their own answers too), after
/// what its timers sent.
pub fn answers_of(o: &Outcome, into: &mut Vec<Packet>) {
    for t in &o.timers {
        if t.verdict == Verdict::Accept {
            into.push(t.out.clone());
        }
        answers_of(t, into);
    }
    if let Some(r) = &o.reply {
        if r.verdict == Verdict::Accept {
            into.push(r.out.clone());
        }
        answers_of(r, into);
    }
}

/// Every LOG line of an outcome, its timers and its answers, in order.
pub fn logs_of(o: &Outcome, into: &mut Vec<String>) {
    let mut all = String::new();
    o.all_logs(&mut all);
    into.extend(all.lines().map(str::to_string));
}

/// What the run compared.
#[derive(Default, Debug)]
pub struct Tally {
    pub packets_in: usize,
    pub packets_out: usize,
    pub answers: usize,
    pub counters: usize,
    pub logs: usize,
    pub translated: usize,
    pub disagreements: usize,
}

/// Compares every rule's and policy's counters of every table of `ours`
/// with the kernel's save.
pub fn compare_counters(ours: &Ruleset, kernel: &Ruleset, tally: &mut Tally) {
    for t in &ours.tables {
        let kt = kernel.table(t.name()).expect("the table in the kernel");
        for c in &t.chains {
            let kc = kt.chain(&c.name).expect("the chain in the kernel");
            let mut pairs = Vec::new();
            if c.is_builtin() {
                pairs.push((
                    format!("{} {} policy", t.name(), c.name),
                    (c.counters.packets, c.counters.bytes),
                    (kc.counters.packets, kc.counters.bytes),
                ));
            }
            for (i, r) in c.rules.iter().enumerate() {
                let k = kc
                    .rules
                    .get(i)
                    .map_or((u64::MAX, 0), |k| (k.counters.packets, k.counters.bytes));
                pairs.push((
                    format!("{}: -A {}{}", t.name(), c.name, r.save_text(false)),
                    (r.counters.packets, r.counters.bytes),
                    k,
                ));
            }
            for (what, o, k) in pairs {
                tally.counters += 1;
                if o != k {
                    tally.disagreements += 1;
                    eprintln!("counters differ: {what}: ironwall {o:?}, kernel {k:?}");
                }
            }
        }
    }
}

/// A frame the server saw, as the engine's packet, and whether it sent it;
/// for a packet the test sent from the server's raw socket, the frame the
/// kernel sent for it (after NAT), when one left.
pub struct Seen {
    pub pkt: Packet,
    pub sent: bool,
    pub leaves: Option<Packet>,
}

/// A connection's shift of the server's sequence space: (server address,
/// server port, peer address, peer port, kernel ISN minus engine ISN).
type Shift = (IpAddr, u16, IpAddr, u16, u32);

/// Moves the server's sequence numbers of a shifted connection into the
/// engine's space (the server's SEQ, the peer's ACK).
fn shifted(p: &mut Packet, shifts: &[Shift]) {
    let Transport::Tcp {
        spt,
        dpt,
        seq,
        ack,
        flags,
        ..
    } = &mut p.transport
    else {
        return;
    };
    // A reset answering a segment without ACK has sequence 0, outside
    // the connection's space.
    let fixed = *flags & F::RST != 0 && *seq == Some(0);
    for (sa, sp, pa, pp, d) in shifts {
        if (p.src, *spt, p.dst, *dpt) == (*sa, *sp, *pa, *pp) && !fixed {
            *seq = seq.map(|s| s.wrapping_sub(*d));
        } else if (p.src, *spt, p.dst, *dpt) == (*pa, *pp, *sa, *sp) && *flags & F::ACK != 0 {
            *ack = ack.map(|a| a.wrapping_sub(*d));
        }
    }
}

/// A change a test made to the server while it ran, made to the
/// engine's host.
pub type Change = Box<dyn FnOnce(&mut Engine)>;

/// How much earlier than the engine's time a packet of the kernel's
/// timers may leave (seconds): the capture's clock and the timer's differ
/// a little.
pub const TOLERANCE: f64 = 0.3;

/// How much later: the kernel's timer wheel fires a 1-2 s timer some tens
/// of milliseconds late, more on a loaded box.
pub const LATE: f64 = 1.0;

/// A packet the engine predicts the host sends: the packet, and the time
/// a timer sent it.
type Predicted = (Packet, Option<f64>);

/// The host's packets an outcome holds (a timer's own packet first).
fn predicted(o: &Outcome, timer: bool, into: &mut Vec<Predicted>) {
    if timer && o.verdict == Verdict::Accept {
        into.push((o.out.clone(), o.packet.time));
    }
    let mut answers = Vec::new();
    answers_of(o, &mut answers);
    into.extend(answers.into_iter().map(|a| (a, None)));
}

/// Feeds the capture through one engine, making each change to its host
/// from the change's time on and running the host's timers up to each
/// frame's time (a sent frame's time and [`TOLERANCE`]: the kernel's
/// timer may fire a little before the engine's reaches it); returns the
/// LOG lines. A sent frame that is one the engine predicted (an answer,
/// a timer's packet from [`TOLERANCE`] before to [`LATE`] after its
/// time) is compared with
/// it field by field (a SYN-ACK's random ISN shifted into the engine's
/// sequence space from then on); any other sent frame is processed as
/// sent.
pub fn replay(
    e: &mut Engine,
    seen: Vec<Seen>,
    mut changes: Vec<(f64, Change)>,
    tally: &mut Tally,
) -> Vec<String> {
    let mut logs = Vec::new();
    let mut pending: Vec<Predicted> = Vec::new();
    let mut shifts: Vec<Shift> = Vec::new();
    let mut last = 0.0;
    changes.reverse();
    for Seen {
        mut pkt,
        sent,
        leaves,
    } in seen
    {
        while let Some((_, change)) = changes.pop_if(|(t, _)| pkt.time.is_some_and(|p| p >= *t)) {
            change(e);
        }
        let t = pkt.time.unwrap_or(last);
        last = t;
        for o in e.advance_to(if sent { t + TOLERANCE } else { t }) {
            predicted(&o, true, &mut pending);
            logs_of(&o, &mut logs);
        }
        shifted(&mut pkt, &shifts);
        if sent {
            tally.packets_out += 1;
            if let Some(i) = pending.iter().position(|(a, _)| kind(a) == kind(&pkt)) {
                let (a, at) = pending.remove(i);
                tally.answers += 1;
                if let (
                    Transport::Tcp {
                        seq: Some(k),
                        flags,
                        spt,
                        dpt,
                        ..
                    },
                    Transport::Tcp { seq: Some(m), .. },
                ) = (&pkt.transport, &a.transport)
                {
                    if flags & F::SYN != 0 {
                        let d = k.wrapping_sub(*m);
                        shifts.push((pkt.src, *spt, pkt.dst, *dpt, d));
                        shifted(&mut pkt, &shifts[shifts.len() - 1..]);
                    }
                }
                if answer_text(&a) != answer_text(&pkt) {
                    tally.disagreements += 1;
                    eprintln!(
                        "answer differs:\n ironwall {}\n kernel   {}",
                        answer_text(&a),
                        answer_text(&pkt)
                    );
                }
                if let Some(at) = at {
                    eprintln!(
                        "timer: {} sent {:+.3} s after ironwall's time",
                        kind(&pkt),
                        t - at
                    );
                    if !(-TOLERANCE..=LATE).contains(&(t - at)) {
                        tally.disagreements += 1;
                    }
                }
                continue;
            }
            if is_answer(&pkt) {
                tally.disagreements += 1;
                eprintln!(
                    "the kernel answered, ironwall did not: {}",
                    pkt.log_line(ALL)
                );
            }
        } else {
            tally.packets_in += 1;
        }
        let o = e.process(&pkt);
        if let Some(k) = leaves {
            tally.translated += 1;
            if kind(&o.out) != kind(&k) {
                tally.disagreements += 1;
                eprintln!(
                    "left differently:\n ironwall {}\n kernel   {}",
                    kind(&o.out),
                    kind(&k)
                );
            }
        }
        predicted(&o, false, &mut pending);
        logs_of(&o, &mut logs);
    }
    for o in e.advance_to(last) {
        predicted(&o, true, &mut pending);
        logs_of(&o, &mut logs);
    }
    for (a, _) in pending {
        tally.disagreements += 1;
        eprintln!("ironwall answered, the kernel did not: {}", a.log_line(ALL));
    }
    logs
}

/// A crafted frame: who sends it and the packet.
pub fn send(lab: &Lab, from: End, line: &str) {
    send_with(lab, from, line, Corrupt::default());
}

/// [`send`] with the checksums `corrupt` names written wrong.
pub fn send_with(lab: &Lab, from: End, line: &str, corrupt: Corrupt) {
    let pkt = Packet::parse_line(line).unwrap_or_else(|e| panic!("{line}: {e}"));
    let (ns, to) = lab.peer(from);
    let frame = wire::to_ethernet_with(&pkt, to.mac, from.mac, corrupt).expect("encode");
    RawLink::open(ns, from.iface)
        .expect("sender")
        .send(&frame)
        .expect("send");
    std::thread::sleep(Duration::from_millis(2));
}

/// The trusted client's own firewall drops TCP to its `port` (the
/// server's answers to segments the test writes for that port, which the
/// client's kernel would otherwise reset).
pub fn client_drops(lab: &Lab, port: u16) {
    let (code, _, err) = lab.client.iptables(&[
        "-A",
        "INPUT",
        "-p",
        "tcp",
        "--dport",
        &port.to_string(),
        "-j",
        "DROP",
    ]);
    assert_eq!(code, 0, "client firewall: {err}");
}

/// Opens a connection from the trusted client's `port` to 22 segment by
/// segment: the client's firewall drops what comes back to `port` (so its
/// kernel does not reset it), the SYN (IP ID `id`, sequence `seq`) goes
/// out, and the server's SYN-ACK is read off its interface. Returns the
/// server's ISN + 1, what the client acks.
pub fn handshake(lab: &Lab, port: u16, id: u16, seq: u32) -> u32 {
    client_drops(lab, port);
    let peek = RawLink::open(&lab.server, SERVER_C.iface).expect("peek");
    send(lab, CLIENT, &format!("SRC=10.137.0.16 DST=10.137.0.1 TTL=64 LEN=48 ID={id} PROTO=TCP SPT={port} DPT=22 SEQ={seq} ACK=0 WINDOW=64240 RES=0x00 SYN URGP=0 OPT (020405B401030307)"));
    let end = std::time::Instant::now() + Duration::from_secs(2);
    while std::time::Instant::now() < end {
        let Some(f) = peek.recv(Duration::from_millis(100)) else {
            continue;
        };
        if f.pkttype != PACKET_OUTGOING {
            continue;
        }
        if let Ok(Packet {
            transport:
                Transport::Tcp {
                    dpt,
                    seq: Some(isn),
                    flags,
                    ..
                },
            ..
        }) = wire::from_ethernet(&f.data)
        {
            if dpt == port && flags & F::SYN != 0 {
                return isn.wrapping_add(1);
            }
        }
    }
    panic!("no SYN-ACK to port {port}");
}
