//! Helpers shared by the stateful differential tests (`live_stateful.rs`,
//! `live_engine_random.rs`, `live_host.rs`): crafted frames and
//! handshakes from the lab's client, the engine's host mirroring the lab
//! server, the server's capture in time order, its replay through ONE
//! `netfilter::Engine` (the host's answers, its timers' packets and
//! forwarded packets compared frame by frame), and the comparison of
//! every counter and LOG line.

// Each test crate that includes this module uses its own part of it
// (live_host.rs captures its frames itself, for one): what one crate
// leaves unused another uses.
#![allow(dead_code)]

use crate::common::{model, multiset_diff, ALL};
use ironwall_engine::conntrack;
use ironwall_engine::host::Host;
use ironwall_engine::netfilter::{Engine, Outcome};
use ironwall_engine::packet::{tcp_flags as F, Packet, Transport};
use ironwall_engine::walk::Verdict;
use ironwall_engine::wire::{self, Corrupt};
use ironwall_lab::kmsg::Kmsg;
use ironwall_lab::topo::{End, Lab, RawLink, CLIENT, PACKET_HOST, PACKET_OUTGOING, SERVER_C};
use ironwall_model::ruleset::Ruleset;
use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds since the epoch (the taps' clock).
pub fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The engine's host: the lab server's interfaces and addresses
/// (`NAME=ADDR/PREFIX`, the first one holding the default route), its
/// listening sockets (`--listen`), the `sysctls` (`KEY=VALUE`) the test
/// set in the server, `icmp_ratelimit` 0 as the lab sets it, and the
/// receive buffer sizes the server's namespace inherited from the
/// machine (they set the SYN-ACK's window scale).
pub fn lab_host(lab: &Lab, ifaces: &[String], listen: &str, sysctls: &[String]) -> Host {
    let mut h = Host::default();
    for i in ifaces {
        h.option("--iface", i).expect("iface");
    }
    h.option("--listen", listen).expect("listen");
    h.option("--sysctl", "net.ipv4.icmp_ratelimit=0")
        .expect("sysctl");
    for s in sysctls {
        h.option("--sysctl", s).expect("sysctl");
    }
    for key in ["net.ipv4.tcp_rmem", "net.core.rmem_max"] {
        let (code, v, err) = ironwall_lab::triple(lab.server.run("sysctl", &["-n", key], None));
        assert_eq!(code, 0, "sysctl {key}: {err}");
        h.option("--sysctl", &format!("{key}={}", v.trim()))
            .expect("sysctl");
    }
    h
}

/// The server's ISN + 1 from the first SYN-ACK to `port` that `peek` (a
/// tap on the server's interface) sees within `wait`.
pub fn syn_ack(peek: &RawLink, port: u16, wait: Duration) -> Option<u32> {
    let end = std::time::Instant::now() + wait;
    while let Some(left) = end.checked_duration_since(std::time::Instant::now()) {
        let Some(f) = peek.recv(left.min(Duration::from_millis(100))) else {
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
            if dpt == port && flags & (F::SYN | F::ACK) == F::SYN | F::ACK {
                return Some(isn.wrapping_add(1));
            }
        }
    }
    None
}

/// Sends `line` from a raw socket of the server (leaving by `iface`): it
/// goes through the server's OUTPUT hooks like a process's packet, and a
/// packet they drop never reaches the wire, so the test feeds the engine
/// this copy (with the time it was sent) instead of a captured one.
pub fn inject(lab: &Lab, line: &str, iface: &str) -> Packet {
    let mut p = Packet::parse_line(line).unwrap_or_else(|e| panic!("{line}: {e}"));
    // The frames sent before are taken by the stack first (the raw
    // socket's packet goes through OUTPUT at once, from another thread).
    std::thread::sleep(Duration::from_millis(2));
    p.time = Some(now());
    p.iface_out = iface.to_string();
    // EPERM: dropped by OUTPUT.
    if let Err(e) = ironwall_lab::topo::send_ipv4(&lab.server, &wire::to_ipv4(&p).expect("encode"))
    {
        assert_eq!(
            e.kind(),
            std::io::ErrorKind::PermissionDenied,
            "raw send: {e}"
        );
    }
    std::thread::sleep(Duration::from_millis(2));
    p
}

/// A frame the server saw, as the engine's packet, and whether it sent it;
/// for a packet the test sent from the server's raw socket, the frame the
/// kernel sent for it (after NAT), when a test pairs them (`live_host.rs`;
/// [`captured`] leaves it `None`).
pub struct Seen {
    pub pkt: Packet,
    pub sent: bool,
    pub leaves: Option<Packet>,
}

/// Every IPv4 frame the taps (each on the named interface of the server)
/// saw and every injected packet (in place of its captured copy, if any),
/// in time order.
pub fn captured(taps: &[(&str, RawLink)], injected: &[Packet]) -> Vec<Seen> {
    let mut v: Vec<Seen> = injected
        .iter()
        .map(|p| Seen {
            pkt: p.clone(),
            sent: true,
            leaves: None,
        })
        .collect();
    for (iface, tap) in taps {
        for f in tap.drain(Duration::from_millis(300), Duration::from_secs(5)) {
            if f.data.get(12..14) != Some(&[8, 0]) {
                continue;
            }
            let mut p = wire::from_ethernet(&f.data).expect("a frame the server saw parses");
            p.time = Some(f.time);
            let sent = match f.pkttype {
                // On lo each packet shows twice: the engine takes the
                // sent copy through its way back in.
                PACKET_HOST if *iface == "lo" => continue,
                // Fragments come as they came: the engine joins them as
                // conntrack's defragmentation (nf_defrag_ipv4) does.
                PACKET_HOST => {
                    p.iface_in = iface.to_string();
                    false
                }
                // (NAT may have changed its source or destination end.)
                PACKET_OUTGOING if injected.iter().any(|i| same_but_nat(i, &p)) => {
                    continue;
                }
                PACKET_OUTGOING => {
                    p.mac = None;
                    p.iface_out = iface.to_string();
                    true
                }
                _ => continue,
            };
            v.push(Seen {
                pkt: p,
                sent,
                leaves: None,
            });
        }
    }
    v.sort_by(|a, b| {
        a.pkt
            .time
            .partial_cmp(&b.pkt.time)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    v
}

/// Whether `b` is `a` on the wire: the same IP ID and protocol, and the
/// same source or destination end (address and port: NAT changes at most
/// one of them).
fn same_but_nat(a: &Packet, b: &Packet) -> bool {
    let ports = |p: &Packet| match p.transport {
        Transport::Tcp { spt, dpt, .. } | Transport::Udp { spt, dpt, .. } => (spt, dpt),
        _ => (0, 0),
    };
    let ((asp, adp), (bsp, bdp)) = (ports(a), ports(b));
    a.id == b.id
        && a.transport.proto() == b.transport.proto()
        && ((a.src, asp) == (b.src, bsp) || (a.dst, adp) == (b.dst, bdp))
}

/// What identifies a packet's flow and kind: addresses, ports, TCP flags
/// or ICMP type.
fn kind(p: &Packet) -> String {
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

/// A packet as compared between the engine's answer (or forwarded
/// packet) and the kernel's: its log line without the IP ID, the SYN-ACK's
/// sequence number and the timestamp option's values (all chosen at random
/// by the kernel), and the mark (not on the wire).
fn answer_text(p: &Packet) -> String {
    let mut p = p.clone();
    p.id = 0;
    p.mark = 0;
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

/// A connection's shift of the server's sequence space: (server address,
/// server port, peer address, peer port, kernel ISN minus engine ISN).
type Shift = (IpAddr, u16, IpAddr, u16, u32);

/// Moves the server's sequence numbers of a shifted connection into the
/// engine's space (the server's SEQ, the peer's ACK), also in a quoted
/// segment.
fn shifted(p: &mut Packet, shifts: &[Shift]) {
    // An ICMP error quotes a segment of the connection: moved the same way.
    if let Transport::Icmp { inner: Some(q), .. } = &mut p.transport {
        return shifted(q, shifts);
    }
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
    // A reset answering a segment without ACK (tcp_v4_send_reset: RST|ACK)
    // has sequence 0, outside the connection's space; one answering a
    // segment with ACK takes that ACK, inside it.
    let fixed = *flags & (F::RST | F::ACK) == F::RST | F::ACK && *seq == Some(0);
    for (sa, sp, pa, pp, d) in shifts {
        if (p.src, *spt, p.dst, *dpt) == (*sa, *sp, *pa, *pp) && !fixed {
            *seq = seq.map(|s| s.wrapping_sub(*d));
        } else if (p.src, *spt, p.dst, *dpt) == (*pa, *pp, *sa, *sp) && *flags & F::ACK != 0 {
            *ack = ack.map(|a| a.wrapping_sub(*d));
        }
    }
}

/// Whether a sent packet is one the stack sends on its own (an answer),
/// not a socket's segment.
fn is_answer(p: &Packet) -> bool {
    match &p.transport {
        Transport::Tcp { flags, .. } => {
            *flags & F::RST != 0 || *flags & (F::SYN | F::ACK) == F::SYN | F::ACK
        }
        Transport::Icmp { typ, .. } => matches!(typ, 0 | 3 | 11),
        _ => false,
    }
}

/// The answers an outcome sent that left (their own answers too, and
/// when `answer`, the outcome itself if it left), each with the
/// range of `logs` its own walk wrote; every LOG line of the outcome and
/// its answers goes to `logs`. The lines of an answer that never leaves
/// get [`ANY_ID`] for the IP ID the kernel would have chosen.
fn answers_of(o: &Outcome, answer: bool, logs: &mut Vec<String>, into: &mut Vec<Predicted>) {
    let start = logs.len();
    logs.extend(o.logs.iter().cloned());
    if answer && o.verdict == Verdict::Accept {
        into.push((o.out.clone(), start..logs.len(), None));
    } else if answer {
        for l in &mut logs[start..] {
            *l = l.replacen(&format!(" ID={} ", o.out.id), ANY_ID, 1);
        }
    }
    if let Some(r) = &o.reply {
        answers_of(r, true, logs, into);
    }
}

/// The IP ID of a LOG line of an answer the kernel dropped: it chose the
/// ID at random, so any kernel line equal but for it is the same.
const ANY_ID: &str = " ID=* ";

/// A kernel LOG line with its (outer) IP ID as [`ANY_ID`].
fn any_id(line: &str) -> String {
    let Some(at) = line.find(" ID=") else {
        return line.to_string();
    };
    let digits = line[at + 4..]
        .bytes()
        .take_while(u8::is_ascii_digit)
        .count();
    format!(
        "{}{ANY_ID}{}",
        &line[..at],
        line[at + 4 + digits..].trim_start()
    )
}

/// A packet the engine predicts the server sends, with the range of the
/// run's LOG lines its own walk wrote.
/// A timer's packet also has the time the engine sent it.
type Predicted = (Packet, std::ops::Range<usize>, Option<f64>);

/// How much earlier than the engine's time a packet of the kernel's
/// timers may leave (seconds): the capture's clock and the timer's differ
/// a little.
pub const TOLERANCE: f64 = 0.3;

/// How much later: the kernel's timer wheel fires a 1-2 s timer some tens
/// of milliseconds late, more on a loaded box.
pub const LATE: f64 = 1.0;

/// A LOG line the engine wrote for `ours`, with the fields the kernel
/// chose at random taken from the kernel's `theirs`: for an answer the IP
/// ID, the SYN-ACK's sequence number and TCP options (which hold
/// timestamps); for a packet whose numbers the replay moved into the
/// engine's sequence space, its own SEQ and ACK.
fn adopt(line: &str, ours: &Packet, theirs: &Packet) -> String {
    let mut l = line.replacen(
        &format!(" ID={} ", ours.id),
        &format!(" ID={} ", theirs.id),
        1,
    );
    // An ICMP error's numbers are its quoted segment's.
    let quoted = |p: &Packet| match &p.transport {
        Transport::Icmp { inner: Some(q), .. } => q.transport.clone(),
        t => t.clone(),
    };
    if let (
        Transport::Tcp {
            seq: Some(a),
            ack: ack_a,
            options: oa,
            ..
        },
        Transport::Tcp {
            seq: Some(b),
            ack: ack_b,
            options: ob,
            ..
        },
    ) = (&quoted(ours), &quoted(theirs))
    {
        l = l.replacen(&format!(" SEQ={a} "), &format!(" SEQ={b} "), 1);
        if let (Some(x), Some(y)) = (ack_a, ack_b) {
            l = l.replacen(&format!(" ACK={x} "), &format!(" ACK={y} "), 1);
        }
        let hex = |o: &[u8]| o.iter().map(|b| format!("{b:02X}")).collect::<String>();
        if !oa.is_empty() {
            l = l.replacen(
                &format!("OPT ({})", hex(oa)),
                &format!("OPT ({})", hex(ob)),
                1,
            );
        }
    }
    l
}

/// What a run compared, and the disagreements it found.
#[derive(Default)]
pub struct Tally {
    /// Packets the server received.
    pub packets_in: usize,
    /// Packets the server sent (or tried to, from a raw socket).
    pub packets_out: usize,
    /// The host's answers compared field by field.
    pub answers: usize,
    /// Forwarded packets compared field by field.
    pub forwarded: usize,
    /// Packets from the server's raw socket whose frame on the wire (after
    /// NAT) was compared.
    pub translated: usize,
    /// Rule and policy counters compared.
    pub counters: usize,
    /// LOG lines compared.
    pub logs: usize,
    /// TRACE paths compared (the tests that trace).
    pub paths: usize,
    /// Disagreements (each printed when found).
    pub disagreements: usize,
    /// The packets fed to the engine, in order (for `dump_case`).
    pub fed: Vec<Packet>,
}

impl Tally {
    /// The numbers, as the tests print them.
    pub fn report(&self) -> String {
        format!(
            "{} packets in, {} out ({} of them the host's answers and {} forwarded packets, compared), {} translations on the wire, {} rule and policy counters, {} LOG lines, {} TRACE paths compared; {} disagreements",
            self.packets_in,
            self.packets_out,
            self.answers,
            self.forwarded,
            self.translated,
            self.counters,
            self.logs,
            self.paths,
            self.disagreements
        )
    }
}

/// A change the test made to the server while it ran: from its time on,
/// the same change is made to the engine.
pub type Change = (f64, Box<dyn FnOnce(&mut Engine)>);

/// A sent frame that is a packet the engine predicted (an answer or a
/// forwarded packet, matched by `same`): compared field by field.
fn predicted(
    pkt: &Packet,
    from: &mut Vec<Predicted>,
    same: impl Fn(&Packet, &Packet) -> bool,
    tally: &mut Tally,
) -> Option<Predicted> {
    let (a, lines, at) = from.remove(from.iter().position(|(a, ..)| same(a, pkt))?);
    if answer_text(&a) != answer_text(pkt) {
        tally.disagreements += 1;
        eprintln!(
            "sent packet differs:\n ironwall {}\n kernel   {}",
            answer_text(&a),
            answer_text(pkt)
        );
    }
    Some((a, lines, at))
}

/// What the host's timers sent (a SYN-ACK again, a reassembly timeout's
/// error): predicted like answers, with the time they went.
fn timer_outcomes(
    timers: &[Outcome],
    logs: &mut Vec<String>,
    pending: &mut Vec<Predicted>,
    each: &mut dyn FnMut(&Outcome),
) {
    for o in timers {
        let from = pending.len();
        answers_of(o, true, logs, pending);
        if o.verdict == Verdict::Accept {
            if let Some(p) = pending.get_mut(from) {
                p.2 = o.packet.time;
            }
        }
        each(o);
    }
}

/// Feeds the capture through one engine, making each change to it from
/// the change's time on; hands every outcome to `each` (a test that
/// traces collects the paths there); returns the LOG lines.
pub fn replay(
    e: &mut Engine,
    seen: Vec<Seen>,
    mut changes: Vec<Change>,
    tally: &mut Tally,
    each: &mut dyn FnMut(&Outcome),
) -> Vec<String> {
    let mut logs: Vec<String> = Vec::new();
    let mut pending: Vec<Predicted> = Vec::new();
    let mut through: Vec<Predicted> = Vec::new();
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
        // The host's timers up to this frame (a sent frame's time and
        // TOLERANCE: the kernel's timer may fire a little before the
        // engine's reaches it).
        let t = pkt.time.unwrap_or(last);
        last = t;
        let due = e.advance_to(if sent { t + TOLERANCE } else { t });
        timer_outcomes(&due, &mut logs, &mut pending, each);
        let before = pkt.clone();
        shifted(&mut pkt, &shifts);
        if sent {
            tally.packets_out += 1;
            let same_id = |a: &Packet, p: &Packet| (a.src, a.dst, a.id) == (p.src, p.dst, p.id);
            if predicted(&pkt, &mut through, same_id, tally).is_some() {
                tally.forwarded += 1;
                continue;
            }
            if let Some(i) = pending.iter().position(|(a, ..)| kind(a) == kind(&pkt)) {
                tally.answers += 1;
                let (ours, lines, _) = &pending[i];
                for l in &mut logs[lines.clone()] {
                    *l = adopt(l, ours, &pkt);
                }
                if let (
                    Transport::Tcp {
                        seq: Some(k),
                        flags,
                        spt,
                        dpt,
                        ..
                    },
                    Transport::Tcp { seq: Some(m), .. },
                ) = (&pkt.transport, &pending[i].0.transport)
                {
                    if flags & F::SYN != 0 {
                        let d = k.wrapping_sub(*m);
                        shifts.push((pkt.src, *spt, pkt.dst, *dpt, d));
                        shifted(&mut pkt, &shifts[shifts.len() - 1..]);
                    }
                }
                let sent_at = predicted(&pkt, &mut pending, |a, p| kind(a) == kind(p), tally)
                    .and_then(|(.., at)| at);
                if let Some(at) = sent_at {
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
            if leaves.is_none() {
                as_its_socket_sent(e, &mut pkt);
            }
        } else {
            tally.packets_in += 1;
        }
        let o = e.process(&pkt);
        timer_outcomes(&o.timers, &mut logs, &mut pending, each);
        each(&o);
        tally.fed.push(pkt.clone());
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
        let out = &o.out;
        if !sent
            && o.verdict == Verdict::Accept
            && !out.iface_in.is_empty()
            && !out.iface_out.is_empty()
        {
            through.push((out.clone(), 0..0, None));
        }
        let start = logs.len();
        answers_of(&o, false, &mut logs, &mut pending);
        if before.transport != pkt.transport {
            for l in &mut logs[start..start + o.logs.len()] {
                *l = adopt(l, &pkt, &before);
            }
        }
    }
    let due = e.advance_to(last);
    timer_outcomes(&due, &mut logs, &mut pending, each);
    for (what, left) in [("answered", pending), ("forwarded", through)] {
        for (a, ..) in left {
            tally.disagreements += 1;
            eprintln!("ironwall {what}, the kernel did not: {}", a.log_line(ALL));
        }
    }
    logs
}

/// A frame the server sent, captured after POSTROUTING, back as its
/// socket sent it into OUTPUT: a connection's NAT undone (the listener's
/// ACK of a connection to 443 REDIRECTed to 22 leaves from 443 but was
/// sent from 22).
fn as_its_socket_sent(e: &Engine, p: &mut Packet) {
    let Some(t) = conntrack::invert(&conntrack::tuple_of(p)) else {
        return;
    };
    let sent = e.ct.conns().find_map(|c| {
        if c.orig == t {
            Some(c.reply)
        } else if c.reply == t {
            Some(c.orig)
        } else {
            None
        }
    });
    let Some(s) = sent else {
        return;
    };
    if let Transport::Tcp { spt, dpt, .. } | Transport::Udp { spt, dpt, .. } = &mut p.transport {
        (p.src, *spt, p.dst, *dpt) = (s.src, s.sport, s.dst, s.dport);
    }
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

/// After a run: every counter of `engine` (on the model of `rules`)
/// against the server's `iptables-save -c`, and the LOG lines `logs`
/// against the kernel's (read by `kmsg`). `IRONWALL_LAB_SHOW=1` prints
/// the kernel's counters.
pub fn compare_with_kernel(
    lab: &Lab,
    engine: &Engine,
    rules: &str,
    kmsg: &Kmsg,
    logs: &[String],
    tally: &mut Tally,
) {
    let mut ours = model(rules, false, &[]);
    engine.add_counters_to(&mut ours);
    let (code, save, err) = ironwall_lab::triple(lab.server.run("iptables-save", &["-c"], None));
    assert_eq!(code, 0, "iptables-save: {err}");
    if std::env::var_os("IRONWALL_LAB_SHOW").is_some() {
        eprintln!("{save}");
    }
    compare_counters(&ours, &model(&save, true, &[]), tally);
    let klogs = kmsg.lines(
        logs.len(),
        Duration::from_millis(200),
        Duration::from_secs(3),
    );
    tally.logs += klogs.len();
    if kmsg.lost() > 0 {
        eprintln!(
            "/dev/kmsg overran {} times: LOG lines were lost",
            kmsg.lost()
        );
    }
    // Lines of dropped answers take the kernel's line that differs only
    // in the IP ID.
    let mut ours = logs.to_vec();
    let mut taken = vec![false; klogs.len()];
    for l in ours.iter_mut().filter(|l| l.contains(ANY_ID)) {
        if let Some(i) = (0..klogs.len()).find(|&i| !taken[i] && any_id(&klogs[i]) == *l) {
            taken[i] = true;
            l.clone_from(&klogs[i]);
        }
    }
    tally.disagreements += multiset_diff("LOG line", &ours, &klogs);
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
    syn_ack(&peek, port, Duration::from_secs(2))
        .unwrap_or_else(|| panic!("no SYN-ACK to port {port}"))
}

/// Held by each test of a file for its whole run: the tests of one file
/// take turns, so that one's traffic and CPU do not reorder or delay the
/// frames of another's lab (the kernel's order of the frames is the
/// engine's input).
pub fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}
