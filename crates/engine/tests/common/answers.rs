//! Comparing the engine's answers, LOG lines and counters with the
//! kernel's (the stateful live tests: `live_stateful.rs`, `live_host.rs`).

use ironwall_engine::netfilter::Outcome;
use ironwall_engine::packet::{tcp_flags as F, LogFlags, Packet, Transport};
use ironwall_engine::walk::Verdict;
use ironwall_model::ruleset::Ruleset;

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
