//! Issue 3's differential test beyond the guide's ruleset: the real-world
//! rulesets of `../shared/rulesets/` that the real iptables-restore loads,
//! and seeded random stateful rulesets, each in the lab's server, with a
//! packet stream aimed at the edges of its rules, compared with ONE
//! `netfilter::Engine` fed the server's capture (the replay of
//! `stateful`): every rule's and policy's counters of every table, every
//! LOG line, every answer of the host and every forwarded packet.
//!
//! The edges come from the rules themselves (their save text): the first
//! and last address of every prefix and range and the addresses just
//! outside, the first and last port of every port range and the ports
//! just outside, ICMP types, NAT targets. The server is adapted to the
//! ruleset, never the rules: its two interfaces take the names the rules
//! use most, the first address of every destination prefix becomes one of
//! its addresses (so that packets at the prefix's edge are local and the
//! ones just outside are forwarded: forwarding is on, the default route
//! points at the trusted client, which drops what is not its own), and
//! only the log prefixes get the test's unique prefix in front (as the
//! guide's test does). The trusted client and the stranger drop
//! everything they receive, so that only the server answers.
//!
//! The stream: single packets from both links (from the links' own
//! addresses and from the rules' edge sources) of every protocol, every
//! TCP flag combination once, some with wrong checksums and TTL 1, and
//! connections driven through every conntrack state: handshakes read off
//! the server's interface then data, segments outside the window, an RST
//! and an ACK after it; echo requests answered then repeated; the server's
//! own UDP query and echo request (from a raw socket) answered, and ICMP
//! errors quoting known and unknown flows; a flow forwarded both ways.
//!
//! The server keeps its kernel from doing what this test does not compare
//! or the engine does not model: no SYN-ACK retransmissions
//! (`tcp_synack_retries` 0, in the engine's host too; the timers are
//! compared in `live_host.rs`), no redirects, no ICMP rate limit (`icmp_ratemask` 0); the sending thread stays on one
//! CPU, so that the server's stack takes the frames in the order they
//! were sent and stamped. Not sent: SCTP, ESP and AH (the engine has no
//! SCTP conntrack and logs no SPI).
//!
//! `IRONWALL_LAB_SEED` changes the seed (packets and random rulesets);
//! `IRONWALL_LAB_RULESETS` the number of random rulesets (default 4);
//! every real-world ruleset that loads is compared (`IRONWALL_LAB_QUARTER=1`:
//! a seeded quarter, for a quick run); `IRONWALL_LAB_ONLY=TEXT` only the
//! rulesets whose name holds
//! TEXT (`net-network/ufw`, `random/003`): each ruleset's packets depend
//! on the seed and its name only, so one is repeated alone.

mod common;
mod rng;
mod stateful;

use common::model;
use ironwall_engine::netfilter::Engine;
use ironwall_engine::packet::{tcp_flags, Packet, Transport};
use ironwall_engine::wire::{self, Corrupt};
use ironwall_lab::kmsg::log_guard;
use ironwall_lab::kmsg::{unique_prefix, Kmsg};
use ironwall_lab::topo::{
    Controls, End, Lab, RawLink, CLIENT, PACKET_OUTGOING, SERVER_C, SERVER_EXTRA, SERVER_S,
    STRANGER, STRANGER_SPOOF,
};
use ironwall_model::ruleset::Ruleset;
use rng::Rng;
use stateful::{
    captured, compare_with_kernel, inject, lab_host, one_at_a_time, replay, syn_ack, Tally,
};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::time::Duration;

/// The TCP ports the server always listens on (more come from the rules).
const LISTEN: [u16; 3] = [22, 80, 443];

/// The server's UDP socket that answers nothing.
const UDP_OPEN: u16 = 5353;

/// The port the server sends its UDP query from (a socket bound to it
/// keeps the answer from being unreachable).
const UDP_QUERY: u16 = 40053;

/// Single packets per ruleset (besides the flag sweep and connections).
const SINGLES: usize = 160;

/// Whether `a` is a source or destination the lab cannot use: 0/8, 127/8,
/// multicast and above (martians, broadcasts), or inside the lab's own
/// subnets (where a reply would wait on ARP).
fn unusable(a: Ipv4Addr) -> bool {
    let o = a.octets();
    o[0] == 0
        || o[0] == 127
        || o[0] >= 224
        || (o[0], o[1]) == (10, 137) && o[2] == 0
        || (o[0], o[1], o[2]) == (10, 99, 0)
}

/// What a ruleset's rules test, as packets can aim at it.
#[derive(Default, Debug)]
struct Edges {
    /// Source addresses at and just outside the edges of prefixes and
    /// ranges.
    srcs: Vec<Ipv4Addr>,
    /// The same for destinations (and NAT targets).
    dsts: Vec<Ipv4Addr>,
    /// The first address of every destination prefix and range.
    firsts: Vec<Ipv4Addr>,
    /// Ports at and just outside the edges of port ranges.
    ports: Vec<u16>,
    /// ICMP type and code pairs.
    icmp: Vec<(u8, u8)>,
    /// Interface names of `-i`/`-o`, with how often each is named.
    ifaces: Vec<(String, usize)>,
}

/// `A.B.C.D[/LEN]` as its first and last address.
fn prefix(v: &str) -> Option<(u32, u32)> {
    let (a, len) = v.split_once('/').unwrap_or((v, "32"));
    let a = u32::from(a.parse::<Ipv4Addr>().ok()?);
    let len: u32 = len.parse().ok().filter(|l| *l <= 32)?;
    let host = u32::MAX.checked_shr(len).unwrap_or(0);
    Some((a & !host, a | host))
}

/// `LO[SEP HI]` as numbers.
fn span<T: std::str::FromStr + Copy>(v: &str, sep: char) -> Option<(T, T)> {
    let (lo, hi) = v.split_once(sep).unwrap_or((v, v));
    Some((lo.parse().ok()?, hi.parse().ok()?))
}

impl Edges {
    fn addrs(&mut self, dst: bool, (lo, hi): (u32, u32)) {
        let into = if dst { &mut self.dsts } else { &mut self.srcs };
        into.extend(
            [lo.wrapping_sub(1), lo, hi, hi.wrapping_add(1)]
                .into_iter()
                .map(Ipv4Addr::from),
        );
        if dst {
            self.firsts.push(Ipv4Addr::from(lo));
        }
    }

    fn port_range(&mut self, (lo, hi): (u16, u16)) {
        self.ports
            .extend([lo.saturating_sub(1), lo, hi, hi.saturating_add(1)]);
    }

    /// The edges of every rule of `rs`.
    fn of(rs: &Ruleset) -> Edges {
        let mut e = Edges::default();
        for t in &rs.tables {
            for c in &t.chains {
                for r in &c.rules {
                    let words = ironwall_lab::shell_split(&r.save_text(false));
                    for w in words.windows(2) {
                        e.word(&w[0], &w[1]);
                    }
                }
            }
        }
        for v in [&mut e.srcs, &mut e.dsts, &mut e.firsts] {
            v.sort();
            v.dedup();
        }
        e.ports.sort_unstable();
        e.ports.dedup();
        e.icmp.sort_unstable();
        e.icmp.dedup();
        e.ifaces.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        e
    }

    /// One option `k` of a rule's save text and its value `v`.
    fn word(&mut self, k: &str, v: &str) {
        match k {
            "-s" | "-d" => {
                if let Some(p) = prefix(v) {
                    self.addrs(k == "-d", p);
                }
            }
            "--src-range" | "--dst-range" => {
                if let Some((lo, hi)) = span::<Ipv4Addr>(v, '-') {
                    self.addrs(k == "--dst-range", (u32::from(lo), u32::from(hi)));
                }
            }
            "--dport" | "--sport" | "--dports" | "--sports" | "--ports" => {
                for part in v.split(',') {
                    if let Some(r) = span(part, ':') {
                        self.port_range(r);
                    }
                }
            }
            "--to-ports" => {
                if let Some(r) = span(v, '-') {
                    self.port_range(r);
                }
            }
            "--to-destination" | "--to-source" => {
                let (addrs, ports) = v.split_once(':').unwrap_or((v, ""));
                if let Some((lo, hi)) = span::<Ipv4Addr>(addrs, '-') {
                    self.dsts.extend([lo, hi]);
                }
                if let Some(r) = span(ports, '-') {
                    self.port_range(r);
                }
            }
            "--icmp-type" => {
                if let Some(tc) = span::<u8>(v, '/') {
                    self.icmp.push(if v.contains('/') { tc } else { (tc.0, 0) });
                }
            }
            "-i" | "-o" => {
                // A name the lab's interfaces already match needs none.
                let lab = [SERVER_C.iface, SERVER_S.iface];
                if lab
                    .iter()
                    .any(|l| *l == v || v.strip_suffix('+').is_some_and(|s| l.starts_with(s)))
                {
                    return;
                }
                let name = match v.strip_suffix('+') {
                    Some("") => return,
                    Some(stem) => format!("{stem}0"),
                    None => v.to_string(),
                };
                if name == "lo" || name.len() > 15 {
                    return;
                }
                match self.ifaces.iter_mut().find(|(n, _)| *n == name) {
                    Some(n) => n.1 += 1,
                    None => self.ifaces.push((name, 1)),
                }
            }
            _ => {}
        }
    }
}

/// `rules` (canonical save text) with `prefix` in front of every LOG
/// prefix (shortened to LOG's 29 characters), and a LOG rule without one
/// given `prefix`: the kernel's lines of this run are told apart by it.
fn prefixed(rules: &str, prefix: &str) -> String {
    let room = 29 - prefix.len();
    let mut out = String::new();
    for line in rules.lines() {
        if !line.contains(" -j LOG ") && !line.ends_with(" -j LOG") {
            out.push_str(line);
        } else if let Some((head, rest)) = line.split_once("--log-prefix \"") {
            let end = rest.find('"').unwrap_or(rest.len());
            let old: String = rest[..end]
                .chars()
                .filter(|c| *c != '\\')
                .take(room)
                .collect();
            let tail = rest.get(end + 1..).unwrap_or("");
            out.push_str(&format!("{head}--log-prefix \"{prefix}{old}\"{tail}"));
        } else {
            out.push_str(&format!("{line} --log-prefix \"{prefix}\""));
        }
        out.push('\n');
    }
    out
}

/// The lab server as one ruleset needs it: its interfaces' names, its
/// addresses, the ports it listens on.
struct Server {
    /// The interface towards the trusted client (the default route).
    c: String,
    /// The interface towards the stranger.
    s: String,
    /// Its addresses besides the lab's (each a /32 on `c`).
    locals: Vec<Ipv4Addr>,
    /// TCP ports listened on.
    tcp: Vec<u16>,
}

impl Server {
    /// Every address of the server.
    fn addrs(&self) -> Vec<Ipv4Addr> {
        let mut v = vec![SERVER_C.addr, SERVER_S.addr];
        v.extend(SERVER_EXTRA);
        v.extend(&self.locals);
        v
    }

    /// The interface a packet to `dst` leaves by.
    fn route(&self, dst: Ipv4Addr) -> &str {
        if (dst.octets()[0], dst.octets()[1], dst.octets()[2]) == (10, 99, 0) {
            &self.s
        } else {
            &self.c
        }
    }
}

/// Runs `ip ARGS` in the server; panics on failure.
fn server_ip(lab: &Lab, args: &[&str]) {
    let (code, _, err) = ironwall_lab::triple(lab.server.run("ip", args, None));
    assert_eq!(code, 0, "ip {}: {err}", args.join(" "));
}

/// The server's settings the engine's host mirrors. No SYN-ACK
/// retransmissions: a handshake the firewall cut short must not send its
/// SYN-ACK again within the capture (the timers are compared in
/// `live_host.rs`).
const SYSCTLS: [&str; 3] = [
    "net.ipv4.ip_forward=1",
    "net.ipv4.icmp_ratemask=0",
    "net.ipv4.tcp_synack_retries=0",
];

/// Adapts the lab's server to `edges`: interface names, addresses, the
/// default route, forwarding on without redirects, no ICMP rate limit;
/// the client and the stranger drop all they receive.
fn adapt(lab: &Lab, edges: &Edges) -> Server {
    let mut names = edges.ifaces.iter().map(|(n, _)| n.as_str());
    let c = names.next().unwrap_or(SERVER_C.iface).to_string();
    let s = names
        .find(|n| *n != c)
        .unwrap_or(SERVER_S.iface)
        .to_string();
    for (end, name) in [(SERVER_C, &c), (SERVER_S, &s)] {
        if end.iface != name {
            lab.rename_server(end, name).expect("rename");
        }
    }
    let locals: Vec<Ipv4Addr> = edges
        .firsts
        .iter()
        .copied()
        .filter(|a| !unusable(*a))
        .take(6)
        .collect();
    for a in &locals {
        server_ip(lab, &["addr", "add", &format!("{a}/32"), "dev", &c]);
    }
    server_ip(
        lab,
        &["route", "add", "default", "via", &CLIENT.addr.to_string()],
    );
    let mut set: Vec<(String, String)> = SYSCTLS
        .iter()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for dev in ["all", "default", &c, &s] {
        // sysctl writes a dot of an interface name as a slash.
        let dev = dev.replace('.', "/");
        set.push((format!("net.ipv4.conf.{dev}.send_redirects"), "0".into()));
    }
    let pairs: Vec<(&str, &str)> = set.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    lab.server.sysctl(&pairs).expect("sysctl");
    for peer in [&lab.client, &lab.stranger] {
        let (code, _, err) = peer.iptables(&["-P", "INPUT", "DROP"]);
        assert_eq!(code, 0, "peer firewall: {err}");
    }
    let mut tcp = LISTEN.to_vec();
    tcp.extend(
        edges
            .ports
            .iter()
            .filter(|p| **p > 0 && !LISTEN.contains(p) && **p != UDP_OPEN)
            .take(2),
    );
    Server { c, s, locals, tcp }
}

/// The engine's host for `server`.
fn host_of(lab: &Lab, server: &Server) -> ironwall_engine::host::Host {
    let mut ifaces = vec![
        format!("{}={}/24", server.c, SERVER_C.addr),
        format!("{}={}/24", server.s, SERVER_S.addr),
    ];
    ifaces.extend(SERVER_EXTRA.iter().map(|a| format!("{}={a}/24", server.c)));
    ifaces.extend(server.locals.iter().map(|a| format!("{}={a}/32", server.c)));
    let mut listen: Vec<String> = server.tcp.iter().map(|p| format!("tcp/{p}")).collect();
    listen.extend([UDP_OPEN, UDP_QUERY].map(|p| format!("udp/{p}")));
    let sysctls = SYSCTLS.map(String::from);
    lab_host(lab, &ifaces, &listen.join(","), &sysctls)
}

/// Sends crafted frames from the trusted client's and the stranger's
/// links, paced so that LOG lines of a burst do not overrun the kernel's
/// log ring.
struct Driver<'a> {
    lab: &'a Lab,
    server: &'a Server,
    links: [(End, RawLink); 2],
    sent: usize,
    /// The next IP ID (unique per packet, so that a forwarded copy is
    /// told by it).
    id: u16,
}

/// TCP flags in LOG order, as a log line writes them.
fn flag_names(f: u16) -> String {
    let names: Vec<&str> = tcp_flags::LOG_ORDER
        .iter()
        .filter(|(_, b)| f & b != 0)
        .map(|(n, _)| *n)
        .collect();
    names.join(" ")
}

impl<'a> Driver<'a> {
    fn new(lab: &'a Lab, server: &'a Server) -> Self {
        ironwall_lab::topo::pin_thread().expect("pin the sending thread");
        let links = [CLIENT, STRANGER].map(|e| {
            let (ns, _) = lab.peer(e);
            (e, RawLink::open(ns, e.iface).expect("sender"))
        });
        Driver {
            lab,
            server,
            links,
            sent: 0,
            // Above the IDs of the packets the server injects.
            id: 1000,
        }
    }

    fn next_id(&mut self) -> u16 {
        self.id = self.id.wrapping_add(1).max(1);
        self.id
    }

    /// Sends `line` from the stranger's link and returns the packet the
    /// server forwarded by the client's link (found by its IP ID), as
    /// (source, source port, destination, destination port).
    fn through(&mut self, line: &str) -> Option<(IpAddr, u16, IpAddr, u16)> {
        let peek = RawLink::open(&self.lab.server, &self.server.c).expect("peek");
        let id = self.send(STRANGER, line, Corrupt::default());
        let end = std::time::Instant::now() + Duration::from_millis(300);
        while let Some(left) = end.checked_duration_since(std::time::Instant::now()) {
            let f = peek.recv(left)?;
            let Ok(p) = wire::from_ethernet(&f.data) else {
                continue;
            };
            if f.pkttype == PACKET_OUTGOING && p.id == id {
                let (sp, dp) = match p.transport {
                    Transport::Tcp { spt, dpt, .. } | Transport::Udp { spt, dpt, .. } => (spt, dpt),
                    _ => (0, 0),
                };
                return Some((p.src, sp, p.dst, dp));
            }
        }
        None
    }

    /// Sends `line` (no IP `ID=`: one is added) from `from`'s link;
    /// returns the ID.
    fn send(&mut self, from: End, line: &str, corrupt: Corrupt) -> u16 {
        let id = self.next_id();
        let line = line.replacen(" PROTO=", &format!(" ID={id} PROTO="), 1);
        let pkt = Packet::parse_line(&line).unwrap_or_else(|e| panic!("{line}: {e}"));
        let (_, to) = self.lab.peer(from);
        let frame = wire::to_ethernet_with(&pkt, to.mac, from.mac, corrupt).expect("encode");
        let link = &self.links.iter().find(|(e, _)| *e == from).expect("link").1;
        link.send(&frame).expect("send");
        self.sent += 1;
        if self.sent.is_multiple_of(8) {
            std::thread::sleep(Duration::from_millis(1));
        }
        id
    }

    /// A TCP segment; a SYN the listener would answer is followed by an
    /// RST in its window, so that no half-open connection is left
    /// (retransmissions are off here; `live_host.rs` compares them).
    #[allow(clippy::too_many_arguments)]
    fn tcp(&mut self, from: End, ip: &str, sp: u16, dp: u16, seq: u32, ack: u32, f: u16) {
        let line = format!("{ip} LEN=40 PROTO=TCP SPT={sp} DPT={dp} SEQ={seq} ACK={ack} WINDOW=1024 RES=0x00 {} URGP=0", flag_names(f));
        self.send(from, &line, Corrupt::default());
        if f & (tcp_flags::SYN | tcp_flags::ACK | tcp_flags::RST) == tcp_flags::SYN {
            let rst = format!(
                "{ip} LEN=40 PROTO=TCP SPT={sp} DPT={dp} SEQ={} ACK=0 WINDOW=0 RES=0x00 RST URGP=0",
                seq.wrapping_add(1)
            );
            self.send(from, &rst, Corrupt::default());
        }
    }

    /// A source for a packet from `from`'s link: the link's own address
    /// (or the stranger's other ones) or an edge source.
    fn source(&self, rng: &mut Rng, from: End, edges: &[Ipv4Addr]) -> Ipv4Addr {
        if !edges.is_empty() && rng.one_in(2) {
            return rng.pick(edges);
        }
        if from == STRANGER && rng.one_in(3) {
            rng.pick(&STRANGER_SPOOF)
        } else {
            from.addr
        }
    }

    /// One packet of any protocol at the edges.
    fn single(&mut self, rng: &mut Rng, e: &Edges, srcs: &[Ipv4Addr], dsts: &[Ipv4Addr]) {
        let from = rng.pick(&[CLIENT, STRANGER]);
        let src = self.source(rng, from, srcs);
        let dst = if rng.one_in(2) {
            rng.pick(dsts)
        } else {
            let (_, near) = self.lab.peer(from);
            let any = rng.pick(&self.server.addrs());
            rng.pick(&[near.addr, any])
        };
        // An edge port 3 times in 4 for the destination, 1 in 3 for the
        // source: two sources masqueraded to one address with the same
        // ports clash, and the kernel then picks a random port.
        // (`random`: one time in that many a random port.)
        let port = |rng: &mut Rng, random: u64| {
            if !e.ports.is_empty() && !rng.one_in(random) {
                rng.pick(&e.ports)
            } else {
                1024 + (rng.next() % 64000) as u16
            }
        };
        let dp = port(rng, 4);
        let sp = if rng.one_in(3) {
            port(rng, 4)
        } else {
            port(rng, 1)
        };
        let ttl = if rng.one_in(20) { 1 } else { 64 };
        let df = if rng.one_in(2) { " DF" } else { "" };
        let ip = format!("SRC={src} DST={dst} TTL={ttl}{df}");
        let corrupt = Corrupt {
            ip: false,
            transport: rng.one_in(30),
        };
        let line = match rng.next() % 10 {
            0..=3 => {
                let f = rng.pick(&[
                    0x02u16, 0x02, 0x10, 0x12, 0x18, 0x11, 0x04, 0x14, 0x01, 0x00,
                ]);
                if !corrupt.transport {
                    self.tcp(from, &ip, sp, dp, rng.next() as u32, rng.next() as u32, f);
                    return;
                }
                format!("{ip} LEN=40 PROTO=TCP SPT={sp} DPT={dp} SEQ=1 ACK=0 WINDOW=512 RES=0x00 {} URGP=0", flag_names(f))
            }
            4..=6 => format!("{ip} LEN=30 PROTO=UDP SPT={sp} DPT={dp} LEN=10"),
            7 | 8 => {
                let mut types = vec![(8u8, 0u8), (0, 0), (13, 0), (3, 3)];
                types.extend(&e.icmp);
                let (t, c) = rng.pick(&types);
                if matches!(t, 3 | 4 | 5 | 11 | 12) {
                    // An error quoting a flow of the server's (never seen:
                    // INVALID unless a rule's state allows it).
                    format!("{ip} LEN=56 PROTO=ICMP TYPE={t} CODE={c} [SRC={dst} DST={src} LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=1 PROTO=UDP SPT={dp} DPT={sp} LEN=8 ]")
                } else {
                    format!("{ip} LEN=28 PROTO=ICMP TYPE={t} CODE={c} ID={sp} SEQ=1")
                }
            }
            _ => format!("{ip} LEN=40 PROTO={}", rng.pick(&[2u8, 47, 253])),
        };
        self.send(from, &line, corrupt);
    }

    /// Every combination of the eight TCP flags once, at edge ports and
    /// addresses.
    fn flag_sweep(&mut self, rng: &mut Rng, e: &Edges, srcs: &[Ipv4Addr], dsts: &[Ipv4Addr]) {
        let locals = self.server.addrs();
        for f in 0u16..256 {
            let from = rng.pick(&[CLIENT, STRANGER]);
            let src = self.source(rng, from, srcs);
            let dst = if rng.one_in(3) {
                rng.pick(dsts)
            } else {
                rng.pick(&locals)
            };
            let dp = if e.ports.is_empty() || rng.one_in(3) {
                rng.pick(&self.server.tcp)
            } else {
                rng.pick(&e.ports)
            };
            let ip = format!("SRC={src} DST={dst} TTL=64");
            self.tcp(
                from,
                &ip,
                30000 + f,
                dp,
                rng.next() as u32,
                rng.next() as u32,
                f,
            );
        }
    }

    /// A connection written segment by segment from `src` on `from`'s
    /// link to `dst`:`dp`: the SYN, and when the server's SYN-ACK comes
    /// (read off its interface), the handshake's ACK, data, data outside
    /// the window, an ACK of data never sent, an RST in the window and an
    /// ACK after it; else an RST.
    fn connection(&mut self, from: End, src: Ipv4Addr, dst: Ipv4Addr, sp: u16, dp: u16) {
        let ip = format!("SRC={src} DST={dst} TTL=64");
        let peek = RawLink::open(&self.lab.server, self.server.route(src)).expect("peek");
        let syn = format!("{ip} LEN=44 PROTO=TCP SPT={sp} DPT={dp} SEQ=1000 ACK=0 WINDOW=64240 RES=0x00 SYN URGP=0 OPT (020405B4)");
        self.send(from, &syn, Corrupt::default());
        let Some(a) = syn_ack(&peek, sp, Duration::from_millis(300)) else {
            self.tcp(from, &ip, sp, dp, 1001, 0, tcp_flags::RST);
            return;
        };
        let far = 1001u32.wrapping_add(2_000_000_000);
        for (len, seq, ack, flags) in [
            (40, 1001u32, a, "ACK"),
            (50, 1001, a, "ACK PSH"),
            (50, far, a, "ACK PSH"),
            (40, 1011, a.wrapping_add(1_000_000), "ACK"),
            (40, 1011, a, "ACK RST"),
            (40, 1011, a, "ACK"),
        ] {
            let line = format!("{ip} LEN={len} PROTO=TCP SPT={sp} DPT={dp} SEQ={seq} ACK={ack} WINDOW=502 RES=0x00 {flags} URGP=0");
            self.send(from, &line, Corrupt::default());
        }
    }

    /// Flows that take conntrack through ESTABLISHED and RELATED in both
    /// directions, and forwarded both ways; returns the packets the
    /// server sent from a raw socket.
    fn flows(&mut self, rng: &mut Rng, dsts: &[Ipv4Addr]) -> Vec<Packet> {
        let c = CLIENT.addr;
        let srv = SERVER_C.addr;
        let t = STRANGER.addr;
        let tsrv = SERVER_S.addr;
        // Echo from the client, answered, then again (ESTABLISHED); an
        // echo reply never asked for (INVALID).
        for seq in [1, 2] {
            let line = format!(
                "SRC={c} DST={srv} TTL=64 LEN=28 PROTO=ICMP TYPE=8 CODE=0 ID=4242 SEQ={seq}"
            );
            self.send(CLIENT, &line, Corrupt::default());
        }
        let line = format!("SRC={t} DST={tsrv} TTL=64 LEN=28 PROTO=ICMP TYPE=0 CODE=0 ID=99 SEQ=1");
        self.send(STRANGER, &line, Corrupt::default());
        // UDP to the open socket, then an error quoting the server's side
        // of that flow (RELATED).
        let line =
            format!("SRC={t} DST={tsrv} TTL=64 LEN=28 PROTO=UDP SPT=5000 DPT={UDP_OPEN} LEN=8");
        self.send(STRANGER, &line, Corrupt::default());
        let line = format!("SRC={t} DST={tsrv} TTL=64 LEN=56 PROTO=ICMP TYPE=3 CODE=3 [SRC={tsrv} DST={t} LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=7 PROTO=UDP SPT={UDP_OPEN} DPT=5000 LEN=8 ]");
        self.send(STRANGER, &line, Corrupt::default());
        // The server's own query and echo request, answered (ESTABLISHED)
        // and refused (RELATED).
        let query =
            format!("SRC={srv} DST={c} TTL=64 LEN=28 ID=61 PROTO=UDP SPT={UDP_QUERY} DPT=53 LEN=8");
        let echo =
            format!("SRC={tsrv} DST={t} TTL=64 LEN=28 ID=62 PROTO=ICMP TYPE=8 CODE=0 ID=77 SEQ=1");
        let injected = vec![
            inject(self.lab, &query, &self.server.c),
            inject(self.lab, &echo, &self.server.s),
        ];
        let line =
            format!("SRC={c} DST={srv} TTL=64 LEN=28 PROTO=UDP SPT=53 DPT={UDP_QUERY} LEN=8");
        self.send(CLIENT, &line, Corrupt::default());
        let line = format!("SRC={c} DST={srv} TTL=64 LEN=56 PROTO=ICMP TYPE=3 CODE=3 [SRC={srv} DST={c} LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=61 PROTO=UDP SPT={UDP_QUERY} DPT=53 LEN=8 ]");
        self.send(CLIENT, &line, Corrupt::default());
        let line = format!("SRC={t} DST={tsrv} TTL=64 LEN=28 PROTO=ICMP TYPE=0 CODE=0 ID=77 SEQ=1");
        self.send(STRANGER, &line, Corrupt::default());
        // Connections to listening ports, from the client and from an edge
        // source.
        let ports = self.server.tcp.clone();
        self.connection(CLIENT, c, srv, 43000, rng.pick(&ports));
        let locals = self.server.addrs();
        self.connection(STRANGER, t, rng.pick(&locals), 43001, rng.pick(&ports));
        // Flows forwarded both ways: the stranger's UDP and TCP to a
        // foreign address, read off the server's way out (NAT may have
        // changed them), and the answers from there through the client's
        // link.
        if let Some(far) = dsts.iter().copied().find(|d| !locals.contains(d)) {
            let udp = format!("SRC={t} DST={far} TTL=64 LEN=28 PROTO=UDP SPT=7000 DPT=7000 LEN=8");
            if let Some((src, sp, dst, dp)) = self.through(&udp) {
                let line =
                    format!("SRC={dst} DST={src} TTL=64 LEN=28 PROTO=UDP SPT={dp} DPT={sp} LEN=8");
                self.send(CLIENT, &line, Corrupt::default());
            }
            let syn = format!("SRC={t} DST={far} TTL=64 LEN=40 PROTO=TCP SPT=7001 DPT=80 SEQ=500 ACK=0 WINDOW=1024 RES=0x00 SYN URGP=0");
            let ip = format!("SRC={t} DST={far} TTL=64");
            match self.through(&syn) {
                Some((src, sp, dst, dp)) => {
                    let back = format!("SRC={dst} DST={src} TTL=64");
                    let f = tcp_flags::SYN | tcp_flags::ACK;
                    self.tcp(CLIENT, &back, dp, sp, 9000, 501, f);
                    self.tcp(STRANGER, &ip, 7001, 80, 501, 9001, tcp_flags::ACK);
                }
                // NAT may have made it local: no half-open connection
                // may be left to retransmit its SYN-ACK.
                None => self.tcp(STRANGER, &ip, 7001, 80, 501, 0, tcp_flags::RST),
            }
        }
        injected
    }
}

/// Binds the server's sockets (TCP listeners, the UDP sockets); they live
/// as long as the returned value.
fn sockets(lab: &Lab, server: &Server) -> (Vec<TcpListener>, [UdpSocket; 2]) {
    let any = |port| SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port);
    lab.server
        .enter(|| {
            let tcp = server
                .tcp
                .iter()
                .map(|p| TcpListener::bind(any(*p)).expect("listen"))
                .collect();
            let udp = [UDP_OPEN, UDP_QUERY].map(|p| UdpSocket::bind(any(p)).expect("udp"));
            (tcp, udp)
        })
        .expect("enter server")
}

/// Loads `rules` (canonical save text, log prefixes already `prefix`ed)
/// into a fresh lab adapted to them, sends the stream, replays the
/// capture through one engine and compares; adds to `tally`. `None` when
/// the engine does not model a match of the ruleset (the reason).
fn differential(
    tag: &str,
    rules: &str,
    prefix: &str,
    rng: &mut Rng,
    tally: &mut Tally,
) -> Result<(), String> {
    let ruleset = model(rules, false, &[]);
    let edges = Edges::of(&ruleset);
    let lab = Lab::new(tag, &Controls::default());
    let server = adapt(&lab, &edges);
    // The engine first: a ruleset it cannot model is skipped before the
    // kernel sees it.
    let mut engine = Engine::new(&ruleset, host_of(&lab, &server)).map_err(|e| e.0)?;
    let (code, _, err) = lab.server.restore(&[], rules);
    assert_eq!(code, 0, "iptables-restore: {err}\n{rules}");
    let _sockets = sockets(&lab, &server);
    let kmsg = Kmsg::open(prefix).expect("/dev/kmsg");
    let names = [server.c.as_str(), server.s.as_str(), "lo"];
    let taps = names.map(|i| (i, RawLink::open(&lab.server, i).expect("tap")));
    let locals = server.addrs();
    let srcs: Vec<Ipv4Addr> = edges
        .srcs
        .iter()
        .copied()
        .filter(|a| !unusable(*a) && !locals.contains(a))
        .collect();
    let mut dsts: Vec<Ipv4Addr> = edges
        .dsts
        .iter()
        .copied()
        .filter(|a| !unusable(*a))
        .collect();
    dsts.extend(&locals);
    let mut d = Driver::new(&lab, &server);
    let injected = d.flows(rng, &dsts);
    for _ in 0..SINGLES {
        d.single(rng, &edges, &srcs, &dsts);
    }
    d.flag_sweep(rng, &edges, &srcs, &dsts);
    let seen = captured(&taps, &injected);
    let logs = replay(&mut engine, seen, Vec::new(), tally, &mut |_| {});
    compare_with_kernel(&lab, &engine, rules, &kmsg, &logs, tally);
    Ok(())
}

/// A number from the environment.
fn env(key: &str) -> Option<u64> {
    std::env::var(key).ok().and_then(|v| v.parse().ok())
}

/// The seed of the ruleset `name` in a run seeded `seed` (FNV-1a).
fn own_seed(seed: u64, name: &str) -> u64 {
    name.bytes()
        .fold(seed, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        })
        .max(1)
}

/// The seed of this run: `IRONWALL_LAB_SEED` or a fixed default.
fn seed() -> u64 {
    env("IRONWALL_LAB_SEED").unwrap_or(0x5eed_0301).max(1)
}

#[test]
fn shared_rulesets_agree_with_the_engine() {
    let what = "shared_rulesets_agree_with_the_engine";
    let _turn = one_at_a_time();
    let Some(_logs) = log_guard(what) else {
        return;
    };
    let Some(shared) = ironwall_lab::shared(what) else {
        return;
    };
    let seed = seed();
    let mut rng = Rng(seed);
    let mut files = Vec::new();
    for dir in ["iptables-upstream", "iptables_semantics", "net-network"] {
        let Ok(entries) = std::fs::read_dir(shared.join("rulesets").join(dir)) else {
            continue;
        };
        let mut names: Vec<_> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
        names.sort();
        files.extend(names);
    }
    let all = std::env::var_os("IRONWALL_LAB_QUARTER").is_none();
    let mut tally = Tally::default();
    let (mut compared, mut refused, mut unmodelled) = (Vec::new(), Vec::new(), Vec::new());
    let mut failed = Vec::new();
    for file in &files {
        let name = file
            .strip_prefix(shared.join("rulesets"))
            .unwrap_or(file)
            .display()
            .to_string();
        let chosen = match std::env::var("IRONWALL_LAB_ONLY") {
            Ok(only) => name.contains(&only),
            Err(_) => all || rng.one_in(4),
        };
        if !chosen {
            continue;
        }
        let text = String::from_utf8_lossy(&std::fs::read(file).expect("read")).into_owned();
        // The real iptables-restore decides which load.
        let probe = ironwall_lab::Netns::new("rload");
        let (code, _, _) = probe.restore(&[], &text);
        drop(probe);
        if code != 0 {
            refused.push(name);
            continue;
        }
        let prefix = unique_prefix();
        let canonical =
            ironwall_model::save::save(&model(&text, false, &[]), None, false, "iptables-save", "");
        let rules = prefixed(&canonical, &prefix);
        let before = tally.disagreements;
        // Each ruleset's packets depend on the seed and its name only, so
        // that IRONWALL_LAB_ONLY repeats them.
        let mut rng = Rng(own_seed(seed, &name));
        match differential("rset", &rules, &prefix, &mut rng, &mut tally) {
            Ok(()) => compared.push(name.clone()),
            Err(m) => unmodelled.push(format!("{name} ({m})")),
        }
        if tally.disagreements > before {
            eprintln!("{name}: {} disagreements", tally.disagreements - before);
            failed.push(name);
        }
    }
    eprintln!("{what} (seed {seed:#x}{}): {} rulesets compared {compared:?}; refused by iptables-restore: {refused:?}; not modelled by the engine: {unmodelled:?}; {}",
        if all { ", all" } else { ", a quarter (IRONWALL_LAB_QUARTER)" },
        compared.len(),
        tally.report());
    assert!(failed.is_empty(), "disagreements in {failed:?}");
}

/// A seeded random stateful ruleset for the lab as it is (its interface
/// names and addresses): raw (`CT --notrack`), mangle (`MARK`), nat
/// (DNAT to local and foreign addresses, REDIRECT, SNAT, MASQUERADE) and
/// filter (INPUT, FORWARD and three user chains reached by jumps and gotos
/// to later chains only, OUTPUT without REJECT, which the engine does not
/// answer for sent packets), with random policies; matches: addresses at
/// prefix edges, interfaces, ports and port ranges, TCP flags, ICMP types,
/// multiport, iprange, conntrack and state with every state, status and
/// direction, limit (a burst, no refill within the test), recent,
/// mark, addrtype, mac, comment; targets ACCEPT, DROP, RETURN, LOG,
/// REJECT (ICMP types and resets).
fn random_stateful(rng: &mut Rng, prefix: &str) -> String {
    let users = ["U0", "U1", "U2"];
    let pol = |rng: &mut Rng| rng.pick(&["ACCEPT", "ACCEPT", "DROP"]);
    let mut logs = 0;
    let mut log = |rng: &mut Rng| {
        logs += 1;
        let mut t = format!(" -j LOG --log-prefix \"{prefix}r{logs} \"");
        for flag in [
            "--log-tcp-sequence",
            "--log-tcp-options",
            "--log-ip-options",
        ] {
            if rng.one_in(3) {
                t.push_str(&format!(" {flag}"));
            }
        }
        t
    };
    let mut text = String::new();
    // raw: leave some flows untracked.
    text.push_str("*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n");
    for _ in 0..rng.next() % 3 {
        let m = rng.pick(&[
            " -p udp -m udp --dport 7000",
            " -s 10.99.0.4/32",
            " -p icmp -m icmp --icmp-type 13",
            " -p tcp -m tcp --dport 1024:1030",
        ]);
        text.push_str(&format!("-A PREROUTING{m} -j CT --notrack\n"));
    }
    text.push_str("COMMIT\n");
    // mangle: marks for the filter's mark matches.
    text.push_str("*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n");
    for _ in 0..rng.next() % 3 {
        let m = rng.pick(&[
            " -p tcp",
            " -s 10.99.0.0/29",
            " -i srv-c",
            " -p udp -m udp --sport 53",
        ]);
        let t = rng.pick(&[
            "--set-xmark 0x1/0xffffffff",
            "--set-xmark 0x3/0x1",
            "--set-xmark 0x0/0xffffffff",
        ]);
        text.push_str(&format!("-A PREROUTING{m} -j MARK {t}\n"));
    }
    text.push_str("COMMIT\n");
    // nat: the first packet of a connection only.
    text.push_str(
        "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n",
    );
    for _ in 0..1 + rng.next() % 3 {
        let r = match rng.next() % 5 {
            0 => format!(
                " -p tcp -m tcp --dport {} -j DNAT --to-destination {}",
                rng.pick(&[80u16, 8080, 2222, 1023]),
                rng.pick(&[
                    "10.137.0.1:22",
                    "10.137.0.15",
                    "192.0.2.9:80",
                    "198.51.100.7"
                ])
            ),
            1 => format!(
                " -p udp -m udp --dport {} -j DNAT --to-destination {}",
                rng.pick(&[53u16, 7000, 1000]),
                rng.pick(&["10.99.0.1:5353", "192.0.2.9"])
            ),
            2 => format!(
                " -p tcp -m tcp --dport {} -j REDIRECT --to-ports {}",
                rng.pick(&[8022u16, 81, 443]),
                rng.pick(&[22u16, 80, 9999])
            ),
            3 => format!(
                " -s {} -d 192.0.2.0/24 -j DNAT --to-destination 198.51.100.7",
                rng.pick(&["10.99.0.0/30", "10.99.0.5", "10.137.0.16"])
            ),
            _ => format!(" -d {} -j ACCEPT", rng.pick(&["10.137.0.17", "10.99.0.1"])),
        };
        text.push_str(&format!("-A PREROUTING{r}\n"));
    }
    for _ in 0..rng.next() % 3 {
        let r = rng.pick(&[
            " -o srv-c -j MASQUERADE",
            " -s 10.99.0.0/29 -o srv-c -j SNAT --to-source 10.137.0.1",
            " -d 198.51.100.0/24 -j SNAT --to-source 10.137.0.17",
            " -p udp -o srv-s -j MASQUERADE",
        ]);
        text.push_str(&format!("-A POSTROUTING{r}\n"));
    }
    text.push_str("COMMIT\n");
    // filter.
    text.push_str(&format!(
        "*filter\n:INPUT {} [0:0]\n:FORWARD {} [0:0]\n:OUTPUT {} [0:0]\n",
        pol(rng),
        pol(rng),
        pol(rng)
    ));
    for u in users {
        text.push_str(&format!(":{u} - [0:0]\n"));
    }
    let ports = [
        0u16, 21, 22, 23, 53, 79, 80, 81, 443, 1023, 1024, 5353, 7000, 8080, 65535,
    ];
    let states = [
        "NEW",
        "ESTABLISHED",
        "RELATED",
        "INVALID",
        "UNTRACKED",
        "SNAT",
        "DNAT",
    ];
    for (ci, chain) in ["INPUT", "FORWARD", "U0", "U1", "U2", "OUTPUT"]
        .into_iter()
        .enumerate()
    {
        let output = chain == "OUTPUT";
        for _ in 0..2 + rng.next() % 6 {
            let mut r = format!("-A {chain}");
            if rng.one_in(3) {
                let a = rng.pick(&[
                    "10.99.0.0/30",
                    "10.99.0.4/30",
                    "10.99.0.5",
                    "10.137.0.16/32",
                    "10.137.0.0/28",
                    "10.0.0.0/8",
                    "192.0.2.0/24",
                    "203.0.113.0/25",
                ]);
                r.push_str(&format!(" {}-{} {a}", rng.bang(), rng.pick(&['s', 'd'])));
            }
            if rng.one_in(5) {
                let i = rng.pick(&["srv-c", "srv-s", "srv+", "lo"]);
                let dir = if output { 'o' } else { rng.pick(&['i', 'o']) };
                let dir = if chain == "INPUT" { 'i' } else { dir };
                r.push_str(&format!(" {}-{dir} {i}", rng.bang()));
            }
            match rng.next() % 6 {
                0 | 1 => {
                    r.push_str(" -p tcp -m tcp");
                    if rng.one_in(2) {
                        r.push_str(&format!(" {}--dport {}", rng.bang(), rng.port_spec(&ports)));
                    }
                    match rng.next() % 4 {
                        0 => r.push_str(&format!(
                            " {}--tcp-flags {} {}",
                            rng.bang(),
                            rng.pick(&["SYN,RST,ACK,FIN", "ALL", "SYN,ACK"]),
                            rng.pick(&["SYN", "NONE", "SYN,ACK", "ACK"])
                        )),
                        1 => r.push_str(" --syn"),
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
                        "echo-reply",
                        "destination-unreachable",
                        "3/3",
                        "time-exceeded",
                        "any"
                    ])
                )),
                4 => r.push_str(&format!(
                    " -p {} -m multiport --dports {},{}",
                    rng.pick(&["tcp", "udp"]),
                    rng.pick(&ports),
                    rng.port_spec(&ports)
                )),
                _ => {}
            }
            match rng.next() % 9 {
                0 | 1 => {
                    let n = 1 + rng.next() % 3;
                    let mut picked: Vec<&str> = (0..n).map(|_| rng.pick(&states)).collect();
                    picked.sort_unstable();
                    picked.dedup();
                    r.push_str(&format!(
                        " -m conntrack {}--ctstate {}",
                        rng.bang(),
                        picked.join(",")
                    ));
                }
                2 => {
                    let n = 1 + rng.next() % 2;
                    let mut picked: Vec<&str> = (0..n).map(|_| rng.pick(&states[..4])).collect();
                    picked.sort_unstable();
                    picked.dedup();
                    r.push_str(&format!(
                        " -m state {}--state {}",
                        rng.bang(),
                        picked.join(",")
                    ));
                }
                3 => r.push_str(rng.pick(&[
                    " -m conntrack --ctstatus ASSURED",
                    " -m conntrack --ctstatus SEEN_REPLY",
                    " -m conntrack ! --ctstatus CONFIRMED",
                    " -m conntrack --ctdir REPLY",
                    " -m conntrack --ctdir ORIGINAL",
                    " -m conntrack --ctproto udp",
                    " -m conntrack --ctorigdst 10.137.0.0/24",
                    " -m conntrack --ctreplsrc 10.137.0.1",
                ])),
                4 => r.push_str(&format!(
                    " -m limit --limit 1/hour --limit-burst {}",
                    1 + rng.next() % 5
                )),
                5 => r.push_str(rng.pick(&[
                    " -m recent --set --name seen --mask 255.255.255.255 --rsource",
                    " -m recent --rcheck --name seen --mask 255.255.255.255 --rsource",
                    " -m recent --update --hitcount 2 --name seen --mask 255.255.255.255 --rsource",
                ])),
                6 => r.push_str(&format!(
                    " -m mark {}--mark {}",
                    rng.bang(),
                    rng.pick(&["0x1/0x1", "0x0", "0x3"])
                )),
                7 => r.push_str(&format!(
                    " -m addrtype {}--{}-type {}",
                    rng.bang(),
                    rng.pick(&["src", "dst"]),
                    rng.pick(&["LOCAL", "UNICAST", "BROADCAST"])
                )),
                _ if !output && rng.one_in(2) => r.push_str(&format!(
                    " -m mac --mac-source {}",
                    rng.pick(&["02:69:77:00:00:05", "02:69:77:00:00:16"])
                )),
                _ => {}
            }
            if rng.one_in(10) {
                r.push_str(" -m comment --comment \"edge case\"");
            }
            let later = match chain {
                "OUTPUT" => &[][..],
                "INPUT" | "FORWARD" => &users[..],
                _ => users.get(ci - 1..).unwrap_or(&[]),
            };
            let tcp = r.contains(" -p tcp");
            match rng.next() % 9 {
                0 | 1 => r.push_str(" -j ACCEPT"),
                2 => r.push_str(" -j DROP"),
                3 => r.push_str(" -j RETURN"),
                4 => r.push_str(&log(rng)),
                5 if !output => r.push_str(&format!(
                    " -j REJECT --reject-with {}",
                    if tcp && rng.one_in(2) {
                        "tcp-reset"
                    } else {
                        rng.pick(&[
                            "icmp-port-unreachable",
                            "icmp-host-prohibited",
                            "icmp-net-unreachable",
                            "icmp-admin-prohibited",
                        ])
                    }
                )),
                6 if !later.is_empty() => r.push_str(&format!(" -j {}", rng.pick(later))),
                7 if !later.is_empty() => r.push_str(&format!(" -g {}", rng.pick(later))),
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
fn random_stateful_rulesets_agree_with_the_engine() {
    let what = "random_stateful_rulesets_agree_with_the_engine";
    let _turn = one_at_a_time();
    let Some(_logs) = log_guard(what) else {
        return;
    };
    let seed = seed();
    let rulesets = env("IRONWALL_LAB_RULESETS").unwrap_or(4).min(200);
    let mut tally = Tally::default();
    let (mut run, mut failed) = (0, 0);
    for i in 0..rulesets {
        // Ruleset i (and its packets) depends on the seed and i only:
        // IRONWALL_LAB_ONLY=random/00i repeats it alone.
        let name = format!("random/{i:03}");
        if std::env::var("IRONWALL_LAB_ONLY").is_ok_and(|only| !name.contains(&only)) {
            continue;
        }
        let mut rng = Rng(own_seed(seed, &name));
        run += 1;
        let prefix = unique_prefix();
        let rules = random_stateful(&mut rng, &prefix);
        let before = tally.disagreements;
        if let Err(m) = differential("rnd", &rules, &prefix, &mut rng, &mut tally) {
            panic!("the engine does not model a generated ruleset: {m}\n{rules}");
        }
        if tally.disagreements > before {
            failed += 1;
            eprintln!(
                "{name}: {} disagreements:\n{rules}",
                tally.disagreements - before
            );
        }
    }
    eprintln!(
        "{what} (seed {seed:#x}, IRONWALL_LAB_SEED): {run} rulesets ({failed} with disagreements), {}",
        tally.report()
    );
    assert_eq!(tally.disagreements, 0);
}
