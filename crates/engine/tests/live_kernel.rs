//! The differential test of issue 3: the same packets through the real
//! kernel (a server namespace with the ruleset loaded by the real
//! iptables-restore) and through ironwall's walk of the same ruleset;
//! every rule's and policy's counters, every LOG line and (for the trusted
//! client's packets) every path as iptables TRACE shows it must agree.
//!
//! Packets are crafted here and sent as raw frames from the trusted client
//! and the stranger, plus one real TCP connection. What the server saw is
//! read back from its interfaces (an `AF_PACKET` socket sees each frame
//! before the IP layer), so the packets the kernel itself adds (the
//! client's RST to a SYN-ACK it did not ask for, retransmissions, the
//! server's replies) are walked too; the sent packets must come back byte
//! for byte the same.
//!
//! The rulesets are stateless (filter only, no conntrack matches): a fixed
//! one holding every case a disagreement was once found in, and seeded
//! random ones. The engine's hook traversal across tables and conntrack
//! come later.

mod common;
mod rng;

#[path = "common/dump.rs"]
mod dump;
#[path = "common/trace.rs"]
mod trace;

use common::{model, multiset_diff};
use dump::dump_case;
use ironwall_engine::defrag::{is_fragment, Defrag};
use ironwall_engine::eval::Ctx;
use ironwall_engine::netfilter::trace_events;
use ironwall_engine::packet::{tcp_flags, Packet};
use ironwall_engine::walk::Compiled;
use ironwall_engine::wire::{self, Corrupt};
use ironwall_lab::kmsg::{log_guard, unique_prefix, Kmsg};
use ironwall_lab::topo::talk;
use ironwall_lab::topo::{
    Controls, End, Lab, Monitor, RawLink, CLIENT, PACKET_HOST, PACKET_OUTGOING, SERVER_C,
    SERVER_EXTRA, SERVER_S, STRANGER, STRANGER_SPOOF,
};
use ironwall_model::addr::Family;
use ironwall_model::restore::{restore, RestoreOpts};
use ironwall_model::ruleset::Ruleset;
use rng::Rng;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::time::Duration;

/// The port the server listens on for the real connection.
const LISTEN: u16 = 8443;

/// The ruleset, with `PFX` standing for the test's unique log prefix.
const RULES: &str = r#"*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:TRUSTED - [0:0]
:PROBES - [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -s 10.137.0.16/32 -i srv-c -j TRUSTED
-A INPUT -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j PROBES
-A INPUT -p icmp -m icmp --icmp-type 8 -j ACCEPT
-A INPUT -p udp -m udp --dport 1000:2000 -j LOG --log-prefix "PFXudp "
-A INPUT -p tcp -m tcp --tcp-flags ALL NONE -j LOG --log-prefix "PFXnull " --log-tcp-sequence
-A INPUT -d 10.137.0.0/28 -p tcp -j LOG --log-prefix "PFXedge " --log-tcp-options --log-ip-options
-A INPUT -p udp -m udp ! --sport 1000 ! --dport 2000 -j LOG --log-prefix "PFXnotboth "
-A INPUT -p tcp -m tcp ! --sport 0:65535 -j LOG --log-prefix "PFXnotall "
-A INPUT -p tcp -m tcp -j LOG --log-prefix "PFXtcp "
-A INPUT -p tcp -m tcp --dport 0:1022 --tcp-flags NONE SYN,ACK -j LOG --log-prefix "PFXnone "
-A INPUT -p tcp -m tcp --dport 0:1022 ! --tcp-flags NONE NONE -j LOG --log-prefix "PFXnotnone "
-A INPUT -j LOG --log-prefix "PFXdrop "
-A TRUSTED -p tcp -m tcp --dport 8443 -j ACCEPT
-A TRUSTED -p tcp -m multiport --dports 22,80:90 -j LOG --log-prefix "PFXt " --log-tcp-sequence --log-tcp-options --log-ip-options
-A TRUSTED -p udp -j RETURN
-A TRUSTED -d 10.137.0.0/28 -j ACCEPT
-A PROBES -p tcp -m tcp --dport 22 -j LOG --log-prefix "PFXssh "
-A PROBES -s 10.99.0.0/30 -j DROP
-A PROBES -p tcp -m tcp --sport 1024:65535 --dport 0:1023 -j RETURN
-A PROBES -j LOG --log-prefix "PFXprobe "
COMMIT
"#;

/// A crafted packet, who sends it, and which checksums it gets wrong.
struct Shot {
    from: End,
    pkt: Packet,
    corrupt: Corrupt,
}

fn shot(from: End, line: &str) -> Shot {
    let pkt = Packet::parse_line(line).unwrap_or_else(|e| panic!("{line}: {e}"));
    Shot {
        from,
        pkt,
        corrupt: Corrupt::default(),
    }
}

fn bad_sums(mut s: Shot, ip: bool, transport: bool) -> Shot {
    s.corrupt = Corrupt { ip, transport };
    s
}

/// Sources and destinations of the stranger's and the client's packets.
const T: &str = "SRC=10.99.0.5 DST=10.99.0.1 TTL=64";
const C: &str = "SRC=10.137.0.16 DST=10.137.0.1 TTL=64";

/// The fixed cases: odd headers, bad checksums, cut-short transport
/// headers, fragments, the AE flag and the reserved bits.
fn fixed_shots() -> Vec<Shot> {
    let (c, t) = (C, T);
    let mut v = vec![
        shot(CLIENT, &format!("{c} LEN=60 ID=1 DF PROTO=TCP SPT=40000 DPT=22 SEQ=1 ACK=0 WINDOW=64240 RES=0x00 SYN URGP=0 OPT (020405B40402080A0000000100000000)")),
        shot(CLIENT, &format!("{c} LEN=40 ID=2 PROTO=TCP SPT=40000 DPT=80 SEQ=7 ACK=9 WINDOW=100 RES=0x00 ACK URGP=0")),
        shot(CLIENT, &format!("{c} LEN=48 ID=3 OPT (01010101) PROTO=TCP SPT=40000 DPT=90 SEQ=7 ACK=9 WINDOW=100 RES=0x00 ACK PSH URGP=0")),
        shot(CLIENT, &format!("{c} LEN=40 ID=4 PROTO=TCP SPT=40000 DPT=91 SEQ=7 ACK=9 WINDOW=100 RES=0x00 FIN URGP=0")),
        shot(CLIENT, &format!("{c} LEN=33 ID=5 PROTO=UDP SPT=5000 DPT=1000 LEN=13")),
        shot(CLIENT, &format!("{c} LEN=84 ID=6 DF PROTO=ICMP TYPE=8 CODE=0 ID=9 SEQ=1")),
        shot(STRANGER, &format!("{t} LEN=60 ID=7 DF PROTO=TCP SPT=40001 DPT=22 SEQ=1 ACK=0 WINDOW=64240 RES=0x00 SYN URGP=0")),
        shot(STRANGER, &format!("{t} LEN=44 ID=8 PROTO=TCP SPT=40001 DPT=443 SEQ=1 ACK=0 WINDOW=1024 RES=0x00 SYN URGP=0")),
        shot(STRANGER, "SRC=10.99.0.3 DST=10.99.0.1 LEN=44 TTL=50 ID=9 PROTO=TCP SPT=40001 DPT=443 SEQ=1 ACK=0 WINDOW=1024 RES=0x00 SYN URGP=0"),
        shot(STRANGER, &format!("{t} LEN=40 ID=10 TOS=0x10 PREC=0x20 PROTO=TCP SPT=1 DPT=2 SEQ=0 ACK=0 WINDOW=0 RES=0x00 URGP=0")),
        shot(STRANGER, &format!("{t} LEN=28 ID=11 PROTO=UDP SPT=53 DPT=2000 LEN=8")),
        shot(STRANGER, &format!("{t} LEN=28 ID=12 PROTO=UDP SPT=53 DPT=2001 LEN=8")),
        shot(STRANGER, &format!("{t} LEN=28 ID=13 PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=1")),
        shot(STRANGER, &format!("{t} LEN=28 ID=14 PROTO=ICMP TYPE=13 CODE=0 ID=1 SEQ=1")),
        shot(STRANGER, &format!("{t} LEN=40 ID=15 PROTO=47")),
        shot(STRANGER, &format!("{t} LEN=40 ID=16 MF PROTO=UDP SPT=53 DPT=1500 LEN=100")),
        shot(STRANGER, &format!("{t} LEN=40 ID=17 FRAG:3 PROTO=UDP")),
    ];
    v.extend([
        // A wrong IP header checksum: dropped before any hook.
        bad_sums(shot(STRANGER, &format!("{t} LEN=40 ID=20 PROTO=TCP SPT=1 DPT=22 SEQ=0 ACK=0 WINDOW=0 RES=0x00 SYN URGP=0")), true, false),
        // A wrong TCP/UDP/ICMP checksum: without conntrack, counted as any.
        bad_sums(shot(STRANGER, &format!("{t} LEN=40 ID=21 PROTO=TCP SPT=1 DPT=22 SEQ=0 ACK=0 WINDOW=0 RES=0x00 SYN URGP=0")), false, true),
        bad_sums(shot(STRANGER, &format!("{t} LEN=28 ID=22 PROTO=UDP SPT=1 DPT=1500 LEN=8")), false, true),
        bad_sums(shot(CLIENT, &format!("{c} LEN=28 ID=23 PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=1")), false, true),
        // iptables-nft's combined port comparison: `! --sport A ! --dport
        // B` is "not both", not "neither".
        shot(STRANGER, &format!("{t} LEN=28 ID=30 PROTO=UDP SPT=1000 DPT=53 LEN=8")),
        shot(STRANGER, &format!("{t} LEN=28 ID=31 PROTO=UDP SPT=1000 DPT=2000 LEN=8")),
        shot(STRANGER, &format!("{t} LEN=28 ID=32 PROTO=UDP SPT=5 DPT=2000 LEN=8")),
        shot(STRANGER, &format!("{t} LEN=28 ID=33 PROTO=UDP SPT=5 DPT=6 LEN=8")),
        // Two fragments of one UDP datagram: INPUT sees it whole.
        shot(STRANGER, &format!("{t} LEN=36 ID=34 MF PROTO=UDP SPT=5 DPT=1500 LEN=28")),
        shot(STRANGER, &format!("{t} LEN=32 ID=34 FRAG:2 PROTO=UDP")),
        // Transport headers the total length cuts short.
        shot(STRANGER, &format!("{t} LEN=28 ID=24 PROTO=TCP SPT=2000 DPT=22 SEQ=5 WINDOW=0 RES=0x00 URGP=0")),
        shot(STRANGER, &format!("{t} LEN=24 ID=25 PROTO=UDP SPT=2000 DPT=1500 LEN=0")),
        shot(STRANGER, &format!("{t} LEN=24 ID=26 PROTO=ICMP TYPE=8 CODE=0")),
        // The AE flag and every reserved bit.
        shot(STRANGER, &format!("{t} LEN=40 ID=27 PROTO=TCP SPT=2000 DPT=1023 SEQ=1 ACK=1 WINDOW=1 RES=0x38 AE SYN URGP=0")),
        shot(STRANGER, &format!("{t} LEN=40 ID=28 PROTO=TCP SPT=2000 DPT=1023 SEQ=1 ACK=1 WINDOW=1 RES=0x00 AE URGP=0")),
        // IP options and TCP options logged with --log-*-options.
        shot(STRANGER, "SRC=10.99.0.5 DST=10.99.0.1 LEN=56 TTL=64 ID=29 OPT (94040000) PROTO=TCP SPT=2000 DPT=1023 SEQ=1 ACK=1 WINDOW=1 RES=0x00 ACK URGP=0 OPT (0101080A0000000100000002)"),
    ]);
    v
}

/// Every TCP flag combination from the stranger to `dpt` (the reserved
/// bits cycling through four values).
fn flag_sweep(dpt: u16) -> Vec<Shot> {
    (0u16..256)
        .map(|flags| {
            let names: Vec<&str> = tcp_flags::LOG_ORDER
                .iter()
                .filter(|(_, b)| flags & b != 0)
                .map(|(n, _)| *n)
                .collect();
            let res = [0x00, 0x08, 0x10, 0x20][(flags % 4) as usize];
            shot(
                STRANGER,
                &format!(
                    "{T} LEN=40 ID={} PROTO=TCP SPT=2000 DPT={dpt} SEQ={flags} ACK=1 WINDOW=512 RES=0x{res:02x} {} URGP=0",
                    100 + flags,
                    names.join(" ")
                ),
            )
        })
        .collect()
}

/// `n` seeded packets at the edges of the rulesets' ports and prefixes.
fn edge_shots(rng: &mut Rng, n: u16) -> Vec<Shot> {
    let mut v = Vec::new();
    let ports = [
        0u16, 21, 22, 23, 25, 53, 79, 80, 90, 91, 137, 443, 445, 999, 1000, 1023, 1024, 2000, 2001,
        8442, 8443, 65535,
    ];
    let flag_sets = [0x02u16, 0x12, 0x10, 0x01, 0x04, 0x00, 0x29, 0x3F];
    for i in 0..n {
        let client = rng.one_in(2);
        let (from, src, dst) = if client {
            let dst = rng.pick(&[SERVER_C.addr, SERVER_EXTRA[0], SERVER_EXTRA[1]]);
            (CLIENT, CLIENT.addr, dst)
        } else {
            let src = rng.pick(&[
                STRANGER.addr,
                STRANGER_SPOOF[0],
                STRANGER_SPOOF[1],
                STRANGER_SPOOF[2],
            ]);
            (STRANGER, src, SERVER_S.addr)
        };
        let spt = rng.pick(&ports);
        let dpt = rng.pick(&ports);
        let id = 1000 + i;
        let head = format!(
            "SRC={src} DST={dst} TTL={} ID={id}",
            rng.pick(&[1u8, 64, 255])
        );
        let line = match rng.next() % 4 {
            0 => {
                let f = rng.pick(&flag_sets);
                let names: Vec<&str> = tcp_flags::LOG_ORDER
                    .iter()
                    .filter(|(_, b)| f & b != 0)
                    .map(|(n, _)| *n)
                    .collect();
                format!(
                    "{head} LEN=40 PROTO=TCP SPT={spt} DPT={dpt} SEQ={} ACK={} WINDOW={} RES=0x00 {} URGP=0",
                    rng.next() as u32,
                    rng.next() as u32,
                    rng.next() as u16,
                    names.join(" ")
                )
            }
            1 => format!("{head} LEN=30 PROTO=UDP SPT={spt} DPT={dpt} LEN=10"),
            2 => match rng.next() % 5 {
                0 => format!("{head} LEN=28 PROTO=TCP SPT={spt} DPT={dpt} SEQ=9 WINDOW=0 RES=0x00 URGP=0"),
                1 => format!("{head} LEN=24 PROTO=UDP SPT={spt} DPT={dpt} LEN=0"),
                2 => format!("{head} LEN=24 PROTO=ICMP TYPE=8 CODE=0"),
                3 => format!("{head} LEN=36 PROTO=47"),
                _ => format!(
                    "{head} LEN=48 PROTO=TCP SPT={spt} DPT={dpt} SEQ=1 ACK=0 WINDOW=64240 RES=0x00 SYN URGP=0 OPT ({})",
                    rng.pick(&["020405B401010402", "0101080A00000001", "0303070000000000"])
                ),
            },
            _ => format!(
                "{head} LEN=28 PROTO=ICMP TYPE={} CODE=0 ID={spt} SEQ={dpt}",
                rng.pick(&[0u8, 8, 13])
            ),
        };
        v.push(shot(from, &line));
    }
    v
}

/// Whether a packet the server received reaches filter INPUT. A wrong IP
/// header checksum is dropped by `ip_rcv` before any hook. A fragment
/// does not either: `ip_local_deliver` reassembles fragments before the
/// LOCAL_IN hook, so an incomplete one never gets there (kernel fact,
/// found by this test: a lone first fragment and a lone later fragment
/// were counted by no rule and no policy).
fn reaches_input(p: &Packet, ip_bytes: &[u8]) -> bool {
    !p.mf && p.frag == 0 && wire::header_checksum_ok(ip_bytes)
}

/// Traces the trusted client's packets (raw PREROUTING).
const TRACE_CLIENT: &str = "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -s 10.137.0.16/32 -j TRACE\nCOMMIT\n";

/// Loads [`TRACE_CLIENT`] and starts `xtables-monitor --trace`. Call
/// before the ruleset under test is loaded, which starts its counters
/// afresh.
fn traced(lab: &Lab) -> Monitor {
    let (code, _, err) = lab.server.restore(&[], TRACE_CLIENT);
    assert_eq!(code, 0, "iptables-restore of the raw table: {err}");
    trace::monitor(lab)
}

/// The server's interface towards the client, as packets name it.
const CLIENT_SIDE: &str = SERVER_C.iface;

/// What identifies a packet in a TRACE's `PACKET:` line and ours.
fn packet_key(p: &Packet) -> String {
    format!("SRC={} DST={} LEN={} ID={}", p.src, p.dst, p.len, p.id)
}

/// The filter-table paths of the traced packets, keyed as [`packet_key`].
fn kernel_paths(lines: &[String], handles: &trace::Handles) -> Vec<String> {
    trace::runs(lines, handles)
        .into_iter()
        .filter(|(_, r)| r.table == "filter")
        .map(|(_, r)| {
            format!(
                "SRC={} DST={} LEN={} ID={} => {}",
                r.field("SRC"),
                r.field("DST"),
                r.field("LEN"),
                r.field("ID"),
                r.events.join(" ")
            )
        })
        .collect()
}

/// Packets and bytes.
type Count = (u64, u64);

/// The real connection: the client connects to the server's listener,
/// both sides write and read a little, then close.
fn real_connection(lab: &Lab) {
    let addr = SocketAddr::new(IpAddr::V4(SERVER_C.addr), LISTEN);
    let listener = lab
        .server
        .enter(|| TcpListener::bind(addr))
        .expect("enter server")
        .expect("listen");
    talk(&lab.client, &listener, addr);
}

/// What one run compared, and the disagreements it found.
#[derive(Default)]
struct Outcome {
    /// Paths compared with the kernel's TRACE.
    paths: usize,
    packets_in: usize,
    packets_out: usize,
    counters: usize,
    logs: usize,
    disagreements: usize,
}

/// Loads `rules` into the server with the real iptables-restore, sends
/// `shots` (and the real connection when `connect`), then compares the
/// kernel's counters and LOG lines (those starting with `prefix`) with
/// ironwall's walk of every packet the server received (filter INPUT)
/// and sent (filter OUTPUT); when `trace`, also the trusted client's
/// packets' paths with iptables TRACE.
fn differential(
    lab: &Lab,
    rules: &str,
    prefix: &str,
    shots: &[Shot],
    connect: bool,
    trace: bool,
) -> Outcome {
    let monitor = trace.then(|| traced(lab));
    let (code, _, err) = lab.server.restore(&[], rules);
    assert_eq!(code, 0, "iptables-restore: {err}\n{rules}");
    let kmsg = Kmsg::open(prefix).expect("/dev/kmsg");
    let taps = [SERVER_C, SERVER_S].map(|e| (e, RawLink::open(&lab.server, e.iface).expect("tap")));
    let senders = [CLIENT, STRANGER].map(|e| {
        let (ns, _) = lab.peer(e);
        (e, RawLink::open(ns, e.iface).expect("sender"))
    });
    for (i, s) in shots.iter().enumerate() {
        // Paced, so that the LOG lines of a burst do not overrun the
        // kernel's log ring before the reader thread takes them.
        // Slower while tracing: xtables-monitor asks the kernel for each
        // traced rule's text.
        if i % 8 == 7 || (monitor.is_some() && s.from == CLIENT) {
            std::thread::sleep(Duration::from_millis(1));
        }
        let (_, to) = lab.peer(s.from);
        let frame = wire::to_ethernet_with(&s.pkt, to.mac, s.from.mac, s.corrupt).expect("encode");
        let link = &senders
            .iter()
            .find(|(e, _)| *e == s.from)
            .expect("sender")
            .1;
        link.send(&frame).expect("send");
    }
    if connect {
        real_connection(lab);
    }

    // What the server received and sent, as the engine's packets.
    let mut seen = Vec::new();
    let mut sent = Vec::new();
    // Fragments reach INPUT as one packet once all are there (the
    // engine's defragmentation, as conntrack's joins them).
    let mut defrag = Defrag::default();
    let mut joined = Vec::new();
    for (end, tap) in &taps {
        for f in tap.drain(Duration::from_millis(300), Duration::from_secs(5)) {
            if f.data.get(12..14) != Some(&[8, 0]) {
                continue;
            }
            let mut p = wire::from_ethernet(&f.data).expect("a frame the server saw parses");
            match f.pkttype {
                PACKET_HOST => {
                    p.iface_in = end.iface.to_string();
                    let reaches = reaches_input(&p, &f.data[14..]);
                    if is_fragment(&p) && wire::header_checksum_ok(&f.data[14..]) {
                        joined.extend(defrag.add(&p, false, 0.0, 30.0));
                    }
                    seen.push((p, reaches));
                }
                PACKET_OUTGOING => {
                    p.mac = None;
                    p.iface_out = end.iface.to_string();
                    sent.push(p);
                }
                _ => {}
            }
        }
    }
    seen.extend(joined.into_iter().map(|p| (p, true)));
    let mut out = Outcome {
        packets_in: seen.len(),
        packets_out: sent.len(),
        ..Outcome::default()
    };

    // Every crafted packet arrived as it was sent.
    for s in shots {
        let (_, to) = lab.peer(s.from);
        let back = seen.iter().map(|(p, _)| p).find(|p| {
            p.src == s.pkt.src
                && p.id == s.pkt.id
                && p.dst == s.pkt.dst
                && (p.frag, p.mf) == (s.pkt.frag, s.pkt.mf)
                && p.iface_in == to.iface
        });
        let ok = back.is_some_and(|p| {
            let mut p = p.clone();
            p.mac = None;
            p.iface_in.clear();
            // Its transport checksum is wrong exactly when it was sent so.
            let unfragmented = !s.pkt.mf && s.pkt.frag == 0;
            p.bad_checksum == (s.corrupt.transport && unfragmented) && {
                p.bad_checksum = false;
                p.frag_sum = None;
                p == s.pkt
            }
        });
        if !ok {
            out.disagreements += 1;
            eprintln!("sent {:?}\n came back {back:?}", s.pkt);
        }
    }

    // ironwall's walk of the same packets.
    let rs = model(rules, false, &[]);
    let table = rs.table("filter").expect("filter");
    let mut walk = Compiled::new(table).expect("the engine models every match");
    let mut logs = Vec::new();
    let mut paths = Vec::new();
    for (p, _) in seen.iter().filter(|(_, reaches)| *reaches) {
        let t = walk.walk("INPUT", p, &Ctx::default());
        if p.src == IpAddr::V4(CLIENT.addr) && p.iface_in == CLIENT_SIDE {
            let path = trace_events("filter", t.verdict, &t.steps);
            paths.push(format!("{} => {}", packet_key(p), path.join(" ")));
        }
        logs.extend(t.logs);
    }
    for p in &sent {
        logs.extend(walk.walk("OUTPUT", p, &Ctx::default()).logs);
    }

    // The kernel's counters, read back through our restore.
    let (code, save, err) = ironwall_lab::triple(lab.server.run(
        "iptables-save",
        &["-c", "-t", "filter"],
        None,
    ));
    assert_eq!(code, 0, "iptables-save: {err}");
    let mut kernel = Ruleset::new(Family::V4);
    let opts = RestoreOpts {
        counters: true,
        ..RestoreOpts::default()
    };
    restore(&mut kernel, &save, &opts, &[]).expect("the kernel's save loads");
    let ktable = kernel.table("filter").expect("filter");
    for (ci, chain) in table.chains.iter().enumerate() {
        let kc = ktable.chain(&chain.name).expect("chain in the kernel");
        let mut pairs: Vec<(String, Count, Count)> = Vec::new();
        if chain.is_builtin() {
            pairs.push((
                format!("{} policy", chain.name),
                walk.policy[ci],
                (kc.counters.packets, kc.counters.bytes),
            ));
        }
        for (ri, r) in chain.rules.iter().enumerate() {
            let k = kc.rules.get(ri).map_or((u64::MAX, u64::MAX), |kr| {
                (kr.counters.packets, kr.counters.bytes)
            });
            pairs.push((
                format!("-A {}{}", chain.name, r.save_text(false)),
                walk.counters[ci][ri],
                k,
            ));
        }
        for (what, ours, theirs) in pairs {
            out.counters += 1;
            if ours != theirs {
                out.disagreements += 1;
                eprintln!("counters differ: {what}: ironwall {ours:?}, kernel {theirs:?}");
            }
        }
    }

    // The kernel's LOG lines.
    let klogs = kmsg.lines(
        logs.len(),
        Duration::from_millis(200),
        Duration::from_secs(3),
    );
    out.logs = klogs.len();
    if let Some(m) = monitor {
        let lines = m.finish(Duration::from_millis(300), Duration::from_secs(10));
        let kernel = kernel_paths(&lines, &trace::handles(lab, &["filter"]));
        out.paths = paths.len();
        out.disagreements += multiset_diff("TRACE path", &paths, &kernel);
    }
    if kmsg.lost() > 0 {
        eprintln!(
            "/dev/kmsg overran {} times: LOG lines were lost",
            kmsg.lost()
        );
    }
    out.disagreements += multiset_diff("LOG line", &logs, &klogs);
    if out.disagreements > 0 {
        let fed: Vec<Packet> = seen
            .into_iter()
            .filter(|(_, reaches)| *reaches)
            .map(|(p, _)| p)
            .collect();
        dump_case("live_kernel", rules, prefix, &[], &fed);
    }
    out
}

#[test]
fn stateless_ruleset_agrees_with_the_kernel() {
    let what = "stateless_ruleset_agrees_with_the_kernel";
    let Some(_logs) = log_guard(what) else {
        return;
    };
    let prefix = unique_prefix();
    let rules = RULES.replace("PFX", &prefix);
    let lab = Lab::new("diff", &Controls::default());
    let seed = 0x1b0_2026;
    let mut shots = fixed_shots();
    shots.extend(flag_sweep(1023));
    shots.extend(edge_shots(&mut Rng(seed), 120));
    let o = differential(&lab, &rules, &prefix, &shots, true, true);
    eprintln!(
        "{what} (seed {seed:#x}): {} packets in ({} crafted, the rest from a real connection and the kernel), {} out, {} rule and policy counters, {} LOG lines, {} TRACE paths compared; {} disagreements",
        o.packets_in, shots.len(), o.packets_out, o.counters, o.logs, o.paths, o.disagreements
    );
    assert_eq!(o.disagreements, 0);
}

/// A seeded random ruleset: INPUT and three user chains (jumps and gotos
/// only to later chains, so no loops), rules from the matches the engine
/// models, with addresses at prefix edges, port ranges at the packets'
/// edge ports, TCP flag masks, ICMP types, inversions, and LOG rules.
fn random_rules(rng: &mut Rng, prefix: &str) -> String {
    let users = ["U0", "U1", "U2"];
    let mut text = format!(
        "*filter\n:INPUT {} [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n",
        rng.pick(&["ACCEPT", "DROP"])
    );
    for u in users {
        text.push_str(&format!(":{u} - [0:0]\n"));
    }
    let ports = [
        0u16, 1, 21, 22, 23, 79, 80, 90, 91, 1000, 1023, 1024, 2000, 8443, 65535,
    ];
    let mut logs = 0;
    for (ci, chain) in ["INPUT", "U0", "U1", "U2", "OUTPUT"]
        .into_iter()
        .enumerate()
    {
        // OUTPUT sees the server's replies, which the taps see only if
        // they leave: no DROP there, and no jumps.
        let output = chain == "OUTPUT";
        for _ in 0..2 + rng.next() % 6 {
            let mut r = format!("-A {chain}");
            if rng.next() % 5 < 2 {
                let a = rng.pick(&[
                    "10.99.0.0/30",
                    "10.99.0.4/30",
                    "10.99.0.0/29",
                    "10.99.0.5",
                    "10.137.0.16/32",
                    "10.137.0.0/28",
                    "10.137.0.0/24",
                    "10.0.0.0/8",
                ]);
                r.push_str(&format!(" {}-s {a}", rng.bang()));
            }
            if rng.one_in(4) {
                let a = rng.pick(&[
                    "10.137.0.0/28",
                    "10.137.0.16/28",
                    "10.137.0.1",
                    "10.99.0.1",
                    "10.137.0.14/31",
                ]);
                r.push_str(&format!(" {}-d {a}", rng.bang()));
            }
            if rng.one_in(5) {
                let i = rng.pick(&["srv-c", "srv-s", "srv+"]);
                let dir = if output { 'o' } else { 'i' };
                r.push_str(&format!(" {}-{dir} {i}", rng.bang()));
            }
            match rng.next() % 6 {
                0 | 1 => {
                    r.push_str(" -p tcp -m tcp");
                    if rng.one_in(2) {
                        r.push_str(&format!(" {}--dport {}", rng.bang(), rng.port_spec(&ports)));
                    }
                    if rng.one_in(3) {
                        r.push_str(&format!(" {}--sport {}", rng.bang(), rng.port_spec(&ports)));
                    }
                    match rng.next() % 4 {
                        0 => r.push_str(&format!(
                            " {}--tcp-flags {} {}",
                            rng.bang(),
                            rng.pick(&["SYN,RST,ACK,FIN", "ALL", "SYN,ACK", "FIN,URG,PSH", "NONE"]),
                            rng.pick(&["SYN", "NONE", "ALL", "SYN,ACK", "FIN,URG,PSH", "ACK"])
                        )),
                        1 => r.push_str(&format!(" {}--syn", rng.bang())),
                        _ => {}
                    }
                }
                2 => r.push_str(&format!(
                    " -p udp -m udp {}--dport {}",
                    rng.bang(),
                    rng.port_spec(&ports)
                )),
                3 => r.push_str(&format!(
                    " -p icmp -m icmp {}--icmp-type {}",
                    rng.bang(),
                    rng.pick(&[
                        "echo-request",
                        "8/0",
                        "13",
                        "any",
                        "echo-reply",
                        "destination-unreachable",
                        "3/3",
                        "0"
                    ])
                )),
                4 => r.push_str(&format!(
                    " -p {} -m multiport {}--dports {},{}",
                    rng.pick(&["tcp", "udp"]),
                    rng.bang(),
                    rng.pick(&ports),
                    rng.port_spec(&ports)
                )),
                _ => r.push_str(rng.pick(&["", " ! -p tcp", " -p 47", " -p all", " ! -p icmp"])),
            }
            if rng.one_in(10) {
                r.push_str(&format!(
                    " -m iprange {}--src-range {}",
                    rng.bang(),
                    rng.pick(&[
                        "10.99.0.2-10.99.0.4",
                        "10.99.0.0-10.99.0.5",
                        "10.137.0.16-10.137.0.16"
                    ])
                ));
            }
            if rng.one_in(12) && !output {
                r.push_str(&format!(
                    " -m mac {}--mac-source {}",
                    rng.bang(),
                    rng.pick(&["02:69:77:00:00:05", "02:69:77:00:00:16"])
                ));
            }
            if rng.one_in(12) {
                r.push_str(&format!(
                    " -m mark {}--mark {}",
                    rng.bang(),
                    rng.pick(&["0x0", "0x1/0x1", "0"])
                ));
            }
            if rng.one_in(6) && !r.contains(" -p ") {
                r.push_str(&format!(
                    " -p tcp -m tcp {}--tcp-option {}",
                    rng.bang(),
                    rng.pick(&[1u8, 2, 4, 8])
                ));
            }
            if rng.one_in(15) {
                r.push_str(" -m comment --comment \"edge case\"");
            }
            let later = if output {
                &[][..]
            } else {
                users.get(ci..).unwrap_or(&[])
            };
            match rng.next() % 8 {
                0 => r.push_str(" -j ACCEPT"),
                1 if !output => r.push_str(" -j DROP"),
                2 => r.push_str(" -j RETURN"),
                3 | 4 => {
                    logs += 1;
                    r.push_str(&format!(" -j LOG --log-prefix \"{prefix}r{logs} \""));
                    for flag in [
                        "--log-tcp-sequence",
                        "--log-tcp-options",
                        "--log-ip-options",
                    ] {
                        if rng.one_in(3) {
                            r.push_str(&format!(" {flag}"));
                        }
                    }
                }
                5 if !later.is_empty() => r.push_str(&format!(" -j {}", rng.pick(later))),
                6 if !later.is_empty() => r.push_str(&format!(" -g {}", rng.pick(later))),
                _ => {}
            }
            text.push_str(&r);
            text.push('\n');
        }
    }
    text.push_str("COMMIT\n");
    text
}

#[test]
fn random_rulesets_agree_with_the_kernel() {
    let what = "random_rulesets_agree_with_the_kernel";
    let Some(_logs) = log_guard(what) else {
        return;
    };
    let lab = Lab::new("rand", &Controls::default());
    // IRONWALL_LAB_SEED and IRONWALL_LAB_RULESETS explore further.
    let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<u64>().ok());
    let seed = env("IRONWALL_LAB_SEED").unwrap_or(0x5eed_0003);
    let mut rng = Rng(seed.max(1));
    let mut total = Outcome::default();
    let rulesets = env("IRONWALL_LAB_RULESETS").unwrap_or(6).min(200);
    for _ in 0..rulesets {
        let prefix = unique_prefix();
        let rules = random_rules(&mut rng, &prefix);
        let mut shots = flag_sweep(rng.pick(&[22, 80, 1023, 1024, 8443]));
        shots.extend(edge_shots(&mut rng, 150));
        let o = differential(&lab, &rules, &prefix, &shots, false, true);
        if o.disagreements > 0 {
            eprintln!("the ruleset:\n{rules}");
        }
        total.packets_in += o.packets_in;
        total.packets_out += o.packets_out;
        total.counters += o.counters;
        total.logs += o.logs;
        total.paths += o.paths;
        total.disagreements += o.disagreements;
    }
    eprintln!(
        "{what} (seed {seed:#x}): {rulesets} rulesets, {} packets in, {} out, {} rule and policy counters, {} LOG lines, {} TRACE paths compared; {} disagreements",
        total.packets_in, total.packets_out, total.counters, total.logs, total.paths, total.disagreements
    );
    assert_eq!(total.disagreements, 0);
}

/// The lab's rp_filter control works: a packet from the stranger's link
/// with the trusted client's source reaches INPUT with rp_filter 0 and is
/// dropped before it with rp_filter 1 (strict), as the host model must
/// know.
#[test]
fn rp_filter_control_takes_effect() {
    let what = "rp_filter_control_takes_effect";
    if !ironwall_lab::kernel_tests(what) {
        return;
    }
    let lab = Lab::new("rpf", &Controls::default());
    let rules = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -s 10.137.0.16/32 -i srv-s\nCOMMIT\n";
    let spoofed = shot(
        STRANGER,
        "SRC=10.137.0.16 DST=10.99.0.1 LEN=28 TTL=64 ID=1 PROTO=UDP SPT=1 DPT=9 LEN=8",
    );
    let frame = wire::to_ethernet(&spoofed.pkt, SERVER_S.mac, STRANGER.mac).expect("encode");
    let link = RawLink::open(&lab.stranger, STRANGER.iface).expect("sender");
    for (rp_filter, want) in [(0u8, "[1:28]"), (1, "[0:0]")] {
        let controls = Controls {
            rp_filter,
            ..Controls::default()
        };
        lab.apply(&controls).expect("sysctl");
        let (code, _, err) = lab.server.restore(&[], rules);
        assert_eq!(code, 0, "{err}");
        let tap = RawLink::open(&lab.server, SERVER_S.iface).expect("tap");
        link.send(&frame).expect("send");
        assert_eq!(
            tap.drain(Duration::from_millis(100), Duration::from_secs(2))
                .len(),
            1
        );
        let save = lab.server.save(&["-c", "-t", "filter"]);
        let rule = save.lines().find(|l| l.contains("-i srv-s")).unwrap_or("");
        assert!(rule.starts_with(want), "rp_filter={rp_filter}: {rule}");
    }
}

/// A real-world ruleset from `../shared/rulesets` that the stateless
/// engine models whole (filter only, no conntrack): its counters and the
/// trusted client's paths agree with the kernel's.
#[test]
fn shared_ruleset_agrees_with_the_kernel() {
    let what = "shared_ruleset_agrees_with_the_kernel";
    let Some(_logs) = log_guard(what) else {
        return;
    };
    let Some(shared) = ironwall_lab::shared(what) else {
        return;
    };
    let file = shared.join("rulesets/net-network/ugent_v1.4.21.invfixed.save");
    let rules =
        std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let lab = Lab::new("shared", &Controls::default());
    let seed = 0x0006_7e47;
    let mut shots = flag_sweep(22);
    shots.extend(edge_shots(&mut Rng(seed), 300));
    let o = differential(&lab, &rules, &unique_prefix(), &shots, false, true);
    eprintln!(
        "{what} ({}, seed {seed:#x}): {} packets in, {} out, {} rule and policy counters, {} TRACE paths compared; {} disagreements",
        file.display(), o.packets_in, o.packets_out, o.counters, o.paths, o.disagreements
    );
    assert_eq!(o.disagreements, 0);
}
