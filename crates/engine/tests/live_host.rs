//! The host's own effects against the kernel: fragments (joined inside
//! the engine), the host's timers (a half-open connection's SYN-ACK
//! retransmissions, the fragment reassembly timeout), broadcast and
//! multicast delivery (a bridge querier's IGMP query, a bridge's own
//! reports), NAT address ranges and ipsets.
//!
//! The lab's server gets a small ruleset that logs and counts at each
//! hook by conntrack state, address type and ipset, with NAT ranges; the
//! trusted client sends crafted frames (fragments cut from whole packets
//! with right checksums, duplicates, overlaps, lone pieces; broadcasts
//! and multicasts with their link-layer addresses) and SYNs it never
//! answers (its own firewall drops the SYN-ACKs) beside a real
//! connection; the server sends from a raw socket through the NAT ranges.
//! Every frame the server received and sent goes through ONE engine in
//! the kernel's time order, the engine's timers run up to each frame's
//! time. Counters, LOG lines, the host's own packets (answers,
//! retransmissions, time exceeded; a timer's close to the kernel's time:
//! `stateful::TOLERANCE`, `LATE`), the addresses NAT gave and an ipset's
//! elements must agree.

mod common;
mod stateful;

use common::{model, multiset_diff};
use ironwall_engine::netfilter::Engine;
use ironwall_engine::packet::Packet;
use ironwall_engine::wire;
use ironwall_lab::kmsg::{log_guard, unique_prefix, Kmsg};
use ironwall_lab::topo::{
    send_ipv4, talk, Controls, Lab, RawLink, CLIENT, PACKET_BROADCAST, PACKET_HOST,
    PACKET_MULTICAST, PACKET_OUTGOING, SERVER_C, SERVER_S,
};
use ironwall_model::ext::set::IpSet;
use stateful::{compare_counters, handshake, lab_host, now, replay, send, Change, Seen, Tally};
use std::net::{IpAddr, SocketAddr, TcpListener, UdpSocket};
use std::time::{Duration, Instant};

/// The server's ipsets, as `ipset save` writes them.
const SETS: &str = "create iw-nets hash:net family inet hashsize 64 maxelem 1024
add iw-nets 10.137.0.0/24
add iw-nets 10.137.0.16 nomatch
add iw-nets 0.0.0.0/1
create iw-svc hash:ip,port family inet hashsize 64 maxelem 1024 counters
add iw-svc 10.137.0.1,udp:9998 packets 0 bytes 0
add iw-svc 10.137.0.1,tcp:22 packets 0 bytes 0
add iw-svc 224.0.0.1,udp:9997 packets 0 bytes 0
add iw-svc 10.137.0.1,icmp:echo-request packets 0 bytes 0
add iw-svc 224.0.0.1,icmp:8/0 packets 0 bytes 0
create iw-seen hash:ip family inet hashsize 64 maxelem 1024 timeout 600
create iw-map hash:ip family inet hashsize 64 maxelem 64 skbinfo
add iw-map 10.137.0.16 skbmark 0x10/0xff
add iw-map 10.99.0.5 skbmark 0x20
create iw-list list:set size 8
add iw-list iw-seen
";

/// The mark LOG shows on an IGMPv3 report the kernel sends on a 1500-byte
/// MTU link (a capture cannot show it): `skb->mark` shares its storage
/// with `reserved_tailroom`, which `igmpv3_newpack` sets
/// (`skb_tailroom_reserve`: a 2048-byte buffer less the shared info, the
/// link-layer room and the MTU leaves 212 bytes).
const IGMPV3_REPORT_MARK: u32 = 0xd4;

/// The group a socket of the server joins.
const JOINED: std::net::Ipv4Addr = std::net::Ipv4Addr::new(239, 1, 2, 4);

/// A bridge made in the server (no ports).
const BRIDGE: &str = "br-iw";

/// `net.ipv4.ipfrag_time` in the server and the engine's host.
const IPFRAG_TIME: u32 = 1;

/// The client's ports of the half-open connections (below the ephemeral
/// range, so that the real connection cannot take one): left open (then
/// reset), its SYN sent again, and one whose SYN-ACKs OUTPUT drops.
const OPEN: u16 = 31100;
const AGAIN: u16 = 31101;
const DROPPED: u16 = 31102;
/// The half-open connection that gets SYNs of other sequence numbers.
const OTHER: u16 = 31103;
/// The connection whose last ACK comes three times more.
const RETRANS: u16 = 31104;
/// `nf_conntrack_tcp_timeout_max_retrans` in the server and the engine.
const MAX_RETRANS_TIMEOUT: u32 = 100;

fn rules(p: &str) -> String {
    format!(
        "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
         -A PREROUTING -i srv-c -j LOG --log-prefix \"{p}raw \"\n\
         -A OUTPUT -o srv-c -j LOG --log-prefix \"{p}rawout \"\nCOMMIT\n\
         *mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n\
         -A PREROUTING -i srv-c -p udp -j SET --map-set iw-map src --map-mark\n\
         -A PREROUTING -i srv-c -m mark --mark 0x10/0xff\n\
         COMMIT\n\
         *filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
         -A INPUT -i srv-c -m set --match-set iw-nets src -j LOG --log-prefix \"{p}nets \"\n\
         -A INPUT -i srv-c -m set --match-set iw-nets src --return-nomatch\n\
         -A INPUT -i srv-c -m set --match-set iw-svc dst,dst\n\
         -A INPUT -i srv-c -m set --match-set iw-svc dst,dst --packets-gt 3 -j LOG --log-prefix \"{p}svc \"\n\
         -A INPUT -i srv-c -m set ! --match-set iw-svc dst,dst ! --update-counters\n\
         -A INPUT -i srv-c -p udp -m udp --dport 9997 -j SET --add-set iw-seen src,dst --exist\n\
         -A INPUT -i srv-c -p icmp -j SET --add-set iw-seen src,dst\n\
         -A INPUT -i srv-c -m set --match-set iw-list src\n\
         -A INPUT -i srv-c -p tcp -m tcp --tcp-flags RST RST -j SET --del-set iw-seen src,dst\n\
         -A INPUT -i srv-c -m conntrack --ctstate NEW -j LOG --log-prefix \"{p}new \"\n\
         -A INPUT -i srv-c -m conntrack --ctstate RELATED,ESTABLISHED -j LOG --log-prefix \"{p}est \"\n\
         -A INPUT -i srv-c -m conntrack --ctstate INVALID -j LOG --log-prefix \"{p}inv \"\n\
         -A INPUT -m addrtype --dst-type BROADCAST\n\
         -A INPUT -m addrtype --dst-type MULTICAST\n\
         -A INPUT -p 2\n\
         -A OUTPUT -p 2 -j LOG --log-prefix \"{p}igmp \"\n\
         -A OUTPUT -p tcp -m tcp --sport 22 --dport {DROPPED} -j DROP\n\
         -A OUTPUT -o srv-c -m conntrack --ctstate NEW -j LOG --log-prefix \"{p}onew \"\n\
         -A OUTPUT -o srv-c -m conntrack --ctstate RELATED,ESTABLISHED -j LOG --log-prefix \"{p}oest \"\n\
         -A OUTPUT -o srv-c -m conntrack --ctstate INVALID -j LOG --log-prefix \"{p}oinv \"\n\
         COMMIT\n\
         *nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n\
         -A OUTPUT -d 10.137.0.200/32 -p udp -j DNAT --to-destination 10.137.0.20-10.137.0.29\n\
         -A POSTROUTING -d 10.137.0.16/32 -p udp -m udp --dport 7 -j SNAT --to-source 10.137.0.100-10.137.0.109\n\
         -A POSTROUTING -d 10.137.0.16/32 -p udp -m udp --dport 8 -j SNAT --to-source 10.137.0.100-10.137.0.109 --persistent\n\
         COMMIT\n"
    )
}

/// Sends the raw IPv4 packet `ip` from the trusted client to the link
/// address `mac`.
fn send_ip(mac: [u8; 6], ip: &[u8], link: &RawLink) {
    let mut frame = mac.to_vec();
    frame.extend_from_slice(&CLIENT.mac);
    frame.extend_from_slice(&[8, 0]);
    frame.extend_from_slice(ip);
    link.send(&frame).expect("send");
    std::thread::sleep(Duration::from_millis(2));
}

/// The raw bytes of a LOG-syntax packet.
fn bytes(line: &str) -> Vec<u8> {
    let p = Packet::parse_line(line).unwrap_or_else(|e| panic!("{line}: {e}"));
    wire::to_ipv4(&p).expect("encode")
}

/// The general query a Linux bridge with `mcast_querier 1` sends (IGMPv2,
/// the default `mcast_igmp_version`), as captured behind one: from
/// 0.0.0.0 (`mcast_query_use_ifaddr 0`) to 224.0.0.1, TOS 0xC0, ID 0, DF,
/// TTL 1, router alert, maximum response time 10 s.
const BRIDGE_QUERY: [u8; 32] = [
    0x46, 0xc0, 0x00, 0x20, 0x00, 0x00, 0x40, 0x00, 0x01, 0x02, 0x04, 0x17, 0, 0, 0, 0, 0xe0, 0, 0,
    1, 0x94, 0x04, 0x00, 0x00, 0x11, 0x64, 0xee, 0x9b, 0, 0, 0, 0,
];

/// A multicast group's link-layer address (01:00:5e and its low 23 bits).
fn group_mac(g: [u8; 4]) -> [u8; 6] {
    [0x01, 0x00, 0x5e, g[1] & 0x7f, g[2], g[3]]
}

/// Every IPv4 frame the server's interfaces `taps` saw and every packet
/// the test sent from the server's raw socket (in place of its captured
/// copy, which it holds as the frame that left), in time order.
fn captured(taps: &[(&str, RawLink)], injected: Vec<Packet>) -> Vec<Seen> {
    let mut v: Vec<Seen> = injected
        .into_iter()
        .map(|pkt| Seen {
            pkt,
            sent: true,
            leaves: None,
        })
        .collect();
    let raw = v.len();
    let frames = taps.iter().flat_map(|(iface, tap)| {
        tap.drain(Duration::from_millis(300), Duration::from_secs(5))
            .into_iter()
            .map(move |f| (*iface, f))
    });
    for (iface, f) in frames {
        if f.data.get(12..14) != Some(&[8, 0]) {
            continue;
        }
        let mut p = wire::from_ethernet(&f.data).expect("a frame the server saw parses");
        p.time = Some(f.time);
        let sent = match f.pkttype {
            PACKET_HOST | PACKET_BROADCAST | PACKET_MULTICAST => {
                p.iface_in = iface.to_string();
                false
            }
            PACKET_OUTGOING => {
                p.mac = None;
                p.iface_out = iface.to_string();
                if p.dst == IpAddr::V4(std::net::Ipv4Addr::new(224, 0, 0, 22)) {
                    p.mark = IGMPV3_REPORT_MARK;
                }
                true
            }
            _ => continue,
        };
        let copy = v[..raw]
            .iter_mut()
            .find(|i| sent && i.leaves.is_none() && i.pkt.id == p.id);
        match copy {
            Some(i) => i.leaves = Some(p),
            None => v.push(Seen {
                pkt: p,
                sent,
                leaves: None,
            }),
        }
    }
    v.sort_by(|a, b| {
        a.pkt
            .time
            .unwrap_or(0.0)
            .total_cmp(&b.pkt.time.unwrap_or(0.0))
    });
    v
}

/// The fragments the client sends: each case's pieces of one datagram.
fn fragments() -> Vec<Vec<Vec<u8>>> {
    let c = "SRC=10.137.0.16 DST=10.137.0.1 TTL=64";
    let udp = |id: u16| {
        bytes(&format!(
            "{c} LEN=48 ID={id} PROTO=UDP SPT=5000 DPT=9998 LEN=28"
        ))
    };
    let (m, l) = (true, false);
    let mut v = vec![
        // In order: joined, answered with port unreachable.
        wire::split(&udp(200), &[(0, 16, m, l), (16, 28, l, l)]),
        // Last piece first; the larger first piece has DF, so the
        // datagram has it.
        wire::split(&udp(201), &[(24, 28, l, l), (0, 24, m, true)]),
        // A duplicate first piece is ignored.
        wire::split(&udp(202), &[(0, 16, m, l), (0, 16, m, l), (16, 28, l, l)]),
        // Overlapping pieces kill the queue.
        wire::split(&udp(203), &[(0, 24, m, l), (16, 28, l, l)]),
        // A lone first piece: time exceeded after ipfrag_time.
        wire::split(&udp(204), &[(0, 16, m, l)]),
        // A lone later piece: dropped silently when it expires.
        wire::split(&udp(205), &[(16, 28, l, l)]),
        // A first piece of 21 bytes with MF is cut to 16: no overlap.
        wire::split(&udp(206), &[(0, 21, m, l), (16, 28, l, l)]),
        // An echo request in two pieces: answered whole.
        wire::split(
            &bytes(&format!(
                "{c} LEN=60 ID=207 PROTO=ICMP TYPE=8 CODE=0 ID=5 SEQ=1"
            )),
            &[(0, 24, m, l), (24, 40, l, l)],
        ),
    ];
    // Pieces written from LOG lines: the checksum covers the first piece
    // only, so the datagram is INVALID.
    v.push(vec![
        bytes(&format!(
            "{c} LEN=36 ID=208 MF PROTO=UDP SPT=5000 DPT=9998 LEN=28"
        )),
        bytes(&format!("{c} LEN=32 ID=208 FRAG:2 PROTO=UDP")),
    ]);
    v
}

#[test]
fn host_effects_agree_with_the_kernel() {
    let what = "host_effects_agree_with_the_kernel";
    let Some(_logs) = log_guard(what) else {
        return;
    };
    let prefix = unique_prefix();
    let rules = rules(&prefix);
    let lab = Lab::new("hst", &Controls::default());
    let (code, _, err) = ironwall_lab::triple(lab.server.run("ipset", &["restore"], Some(SETS)));
    assert_eq!(code, 0, "ipset restore: {err}");
    let (code, _, err) = lab.server.restore(&[], &rules);
    assert_eq!(code, 0, "iptables-restore: {err}");
    lab.apply(&Controls::default()).expect("sysctl");
    lab.server
        .sysctl(&[
            ("net.ipv4.ipfrag_time", &IPFRAG_TIME.to_string()),
            (
                "net.netfilter.nf_conntrack_tcp_timeout_max_retrans",
                &MAX_RETRANS_TIMEOUT.to_string(),
            ),
        ])
        .expect("sysctl");
    let (code, _, err) = lab.client.iptables(&[
        "-A",
        "INPUT",
        "-p",
        "tcp",
        "--dport",
        &format!("{OPEN}:{OTHER}"),
        "-j",
        "DROP",
    ]);
    assert_eq!(code, 0, "client firewall: {err}");
    let any = |port| SocketAddr::new(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), port);
    let (ssh, big, member) = lab
        .server
        .enter(|| {
            (
                TcpListener::bind(any(22)).expect("listen 22"),
                UdpSocket::bind(any(40070)).expect("udp"),
                UdpSocket::bind(any(9996)).expect("udp"),
            )
        })
        .expect("enter server");
    let kmsg = Kmsg::open(&prefix).expect("/dev/kmsg");
    let tap = RawLink::open(&lab.server, SERVER_C.iface).expect("tap");
    // A socket of the server joins 239.1.2.4 on srv-c: it reports the
    // membership through OUTPUT (after the bridge querier's IGMPv2 query,
    // at a random time, in v2 to the group itself, whose copy loops back
    // in through PREROUTING and INPUT).
    member
        .join_multicast_v4(&JOINED, &SERVER_C.addr)
        .expect("join");
    // Bridge multicast noise: a bridge with an address (multicast
    // snooping on, the default) joins the all-snoopers group 224.0.0.106
    // and reports it (IGMPv3, twice) through the server's OUTPUT when it
    // comes up.
    for args in [
        &["link", "add", BRIDGE, "type", "bridge"][..],
        &["addr", "add", "192.0.2.1/24", "dev", BRIDGE],
    ] {
        let (code, _, err) = ironwall_lab::triple(lab.server.run("ip", args, None));
        assert_eq!(code, 0, "ip {args:?}: {err}");
    }
    let bridge_tap = RawLink::open(&lab.server, BRIDGE).expect("bridge tap");
    let (code, _, err) =
        ironwall_lab::triple(lab.server.run("ip", &["link", "set", BRIDGE, "up"], None));
    assert_eq!(code, 0, "bridge up: {err}");
    let link = RawLink::open(&lab.client, CLIENT.iface).expect("sender");
    let start = Instant::now();

    let c = "SRC=10.137.0.16 DST=10.137.0.1 TTL=64";
    let syn = |port: u16, seq: u32| {
        bytes(&format!("{c} LEN=44 ID=1 DF PROTO=TCP SPT={port} DPT=22 SEQ={seq} ACK=0 WINDOW=64240 RES=0x00 SYN URGP=0 OPT (020405B4)"))
    };
    for (port, seq) in [(OPEN, 1000), (AGAIN, 2000), (DROPPED, 3000), (OTHER, 4000)] {
        send_ip(SERVER_C.mac, &syn(port, seq), &link);
    }
    for pieces in fragments() {
        for p in pieces {
            send_ip(SERVER_C.mac, &p, &link);
        }
    }
    // A whole connection: its handshake completes at once, so no SYN-ACK
    // is sent again.
    talk(
        &lab.client,
        &ssh,
        SocketAddr::new(IpAddr::V4(SERVER_C.addr), 22),
    );
    // A connection whose ACK comes three times more: (after the real one: the
    // listener accepts that one first) conntrack counts
    // the retransmissions and cuts its timeout to max_retrans.
    let ack = handshake(&lab, RETRANS, 500, 7000);
    for _ in 0..4 {
        send(&lab, CLIENT, &format!("{c} LEN=40 ID=501 PROTO=TCP SPT={RETRANS} DPT=22 SEQ=7001 ACK={ack} WINDOW=502 RES=0x00 ACK URGP=0"));
    }
    // A datagram larger than the MTU the server sends: fragmented after
    // POSTROUTING; the engine joins the pieces it sent back into the one
    // datagram OUTPUT saw.
    big.send_to(&[7u8; 3000], SocketAddr::new(IpAddr::V4(CLIENT.addr), 9))
        .expect("big send");
    // NAT ranges: packets from the server's raw socket (from several
    // sources: the address a range gives hashes the source) DNATed in
    // OUTPUT to 10.137.0.20-29 (LOG shows the address), SNATed in
    // POSTROUTING to 10.137.0.100-109 (the frame that leaves shows it),
    // one already inside that range (kept), and with --persistent.
    // The DNAT range's addresses lead to the client's link address, so
    // that those packets leave (and nothing waits on ARP).
    for n in 20..=29 {
        let args = [
            "neigh".to_string(),
            "replace".into(),
            format!("10.137.0.{n}"),
            "lladdr".into(),
            CLIENT
                .mac
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(":"),
            "dev".into(),
            SERVER_C.iface.into(),
            "nud".into(),
            "permanent".into(),
        ];
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, _, err) = ironwall_lab::triple(lab.server.run("ip", &args, None));
        assert_eq!(code, 0, "ip neigh: {err}");
    }
    let mut injected = Vec::new();
    for (i, src) in [
        "10.137.0.1",
        "10.137.0.15",
        "10.137.0.17",
        "10.99.0.1",
        "10.137.0.103",
    ]
    .iter()
    .enumerate()
    {
        for (n, (dst, dport)) in [("10.137.0.200", 7), ("10.137.0.16", 7), ("10.137.0.16", 8)]
            .iter()
            .enumerate()
        {
            let id = 400 + 10 * i + n;
            let line = format!(
                "SRC={src} DST={dst} LEN=28 TTL=64 ID={id} PROTO=UDP SPT={} DPT={dport} LEN=8",
                6000 + id
            );
            let mut p = Packet::parse_line(&line).expect("packet");
            p.iface_out = SERVER_C.iface.to_string();
            p.time = Some(now());
            send_ipv4(&lab.server, &wire::to_ipv4(&p).expect("encode")).expect("raw send");
            injected.push(p);
        }
    }
    // Broadcasts and multicasts from the client.
    let bcast = [0xff; 6];
    let all_hosts = group_mac([224, 0, 0, 1]);
    let other = group_mac([239, 1, 2, 3]);
    let casts = |echo_id: u16| {
        let from = "SRC=10.137.0.16 TTL=64";
        vec![
            (bcast, format!("{from} DST=255.255.255.255 LEN=28 ID=300 PROTO=UDP SPT=5000 DPT=9997 LEN=8")),
            (bcast, format!("{from} DST=10.137.0.255 LEN=28 ID=301 PROTO=UDP SPT=5000 DPT=9997 LEN=8")),
            (all_hosts, format!("{from} DST=224.0.0.1 LEN=28 ID=302 PROTO=UDP SPT=5000 DPT=9997 LEN=8")),
            (other, format!("{from} DST=239.1.2.3 LEN=28 ID=303 PROTO=UDP SPT=5000 DPT=9997 LEN=8")),
            (group_mac(JOINED.octets()), format!("{from} DST={JOINED} LEN=28 ID=308 PROTO=UDP SPT=5000 DPT=9997 LEN=8")),
            (bcast, format!("{from} DST=10.137.0.255 LEN=28 ID=304 PROTO=ICMP TYPE=8 CODE=0 ID={echo_id} SEQ=1")),
            (all_hosts, format!("{from} DST=224.0.0.1 LEN=28 ID=305 PROTO=ICMP TYPE=8 CODE=0 ID={} SEQ=1", echo_id + 1)),
        ]
    };
    for (mac, line) in casts(10) {
        send_ip(mac, &bytes(&line), &link);
    }
    // IGMP: a bridge querier's general query to all-hosts, and a report
    // for a group the server did not join.
    send_ip(all_hosts, &BRIDGE_QUERY, &link);
    send_ip(
        other,
        &bytes("SRC=10.137.0.16 DST=239.1.2.3 LEN=32 TTL=1 ID=307 OPT (94040000) PROTO=2"),
        &link,
    );
    send_ip(
        group_mac(JOINED.octets()),
        &bytes(&format!(
            "SRC=10.137.0.16 DST={JOINED} LEN=32 TTL=1 ID=309 OPT (94040000) PROTO=2"
        )),
        &link,
    );
    // SYNs of other sequence numbers for OTHER: far outside the window
    // (the request answers with an ACK), then inside it (a reset that
    // ends the request: no SYN-ACK is sent again).
    std::thread::sleep(Duration::from_millis(300).saturating_sub(start.elapsed()));
    send_ip(SERVER_C.mac, &syn(OTHER, 1_004_000), &link);
    std::thread::sleep(Duration::from_millis(450).saturating_sub(start.elapsed()));
    send_ip(SERVER_C.mac, &syn(OTHER, 5000), &link);
    // The SYN of AGAIN once more, 0.6 s after the first: the SYN-ACK
    // again at once, and its timer restarted.
    std::thread::sleep(Duration::from_millis(600).saturating_sub(start.elapsed()));
    send_ip(SERVER_C.mac, &syn(AGAIN, 2000), &link);
    // And once more 150 ms later: within tcp_invalid_ratelimit of that
    // answer, so none.
    std::thread::sleep(Duration::from_millis(750).saturating_sub(start.elapsed()));
    send_ip(SERVER_C.mac, &syn(AGAIN, 2000), &link);
    // Echo requests to broadcast and all-hosts answered once
    // icmp_echo_ignore_broadcasts is 0.
    lab.server
        .sysctl(&[("net.ipv4.icmp_echo_ignore_broadcasts", "0")])
        .expect("sysctl");
    let echo_on = now();
    for (mac, line) in casts(20).into_iter().skip(4) {
        send_ip(mac, &bytes(&line), &link);
    }
    // After the retransmissions at about 1 s and 3 s (AGAIN: 1.6 s and
    // 3.6 s), the client resets both connections (late enough for a
    // loaded box's timers).
    std::thread::sleep(Duration::from_millis(4300).saturating_sub(start.elapsed()));
    // The server leaves the group: a report it would send at a random
    // time after the query cannot come after the capture.
    drop(member);
    for (port, seq) in [(OPEN, 1001), (AGAIN, 2001)] {
        send_ip(
            SERVER_C.mac,
            &bytes(&format!("{c} LEN=40 ID=2 PROTO=TCP SPT={port} DPT=22 SEQ={seq} ACK=0 WINDOW=0 RES=0x00 RST URGP=0")),
            &link,
        );
    }
    let seen = captured(&[(SERVER_C.iface, tap), (BRIDGE, bridge_tap)], injected);

    let ifaces = [
        format!("{}={}/24", SERVER_C.iface, SERVER_C.addr),
        format!("{}={}/24", SERVER_S.iface, SERVER_S.addr),
        format!("{BRIDGE}=192.0.2.1/24"),
    ];
    let sysctls = [
        format!("net.ipv4.ipfrag_time={IPFRAG_TIME}"),
        format!("net.netfilter.nf_conntrack_tcp_timeout_max_retrans={MAX_RETRANS_TIMEOUT}"),
    ];
    let mut host = lab_host(&lab, &ifaces, "tcp/22,udp/40070,udp/9996", &sysctls);
    host.option("--join", &format!("{}={JOINED}", SERVER_C.iface))
        .expect("join");
    host.sets.load(SETS).expect("our sets");
    let sets: Vec<IpSet> = host
        .sets
        .names()
        .iter()
        .map(|n| IpSet::new(n, None))
        .collect();
    let ruleset = model(&rules, false, &sets);
    let mut engine = Engine::new(&ruleset, host).expect("the engine models the ruleset");
    let mut tally = Tally::default();
    let echo: Change = (
        echo_on,
        Box::new(|e: &mut Engine| e.host.sysctl.icmp_echo_ignore_broadcasts = false),
    );
    let logs = replay(&mut engine, seen, vec![echo], &mut tally, &mut |_| {});
    let mut ours = model(&rules, false, &sets);
    engine.add_counters_to(&mut ours);
    // The set -j SET filled holds what the kernel's holds.
    let (code, kset, err) =
        ironwall_lab::triple(lab.server.run("ipset", &["save", "iw-seen"], None));
    assert_eq!(code, 0, "ipset save: {err}");
    let mut kernel_seen: Vec<String> = kset
        .lines()
        .filter(|l| l.starts_with("add "))
        .map(|l| l.split(" timeout ").next().unwrap_or(l).to_string())
        .collect();
    kernel_seen.sort();
    // The retransmitted connection's timeout: max_retrans in both.
    let (code, list, err) = ironwall_lab::triple(lab.server.run(
        "conntrack",
        &["-L", "-p", "tcp", "--orig-port-src", &RETRANS.to_string()],
        None,
    ));
    assert_eq!(code, 0, "conntrack -L: {err}");
    let at = now();
    let kernel_left: Option<f64> = list.split_whitespace().nth(2).and_then(|w| w.parse().ok());
    let ours_left = engine
        .ct
        .conns()
        .find(|c| c.orig.sport == RETRANS && c.orig.proto == 6)
        .map(|c| c.expires - at);
    tally.counters += 1;
    if !matches!((kernel_left, ours_left), (Some(k), Some(o)) if (k - o).abs() <= 2.0) {
        tally.disagreements += 1;
        eprintln!("timeout left of {RETRANS}: ironwall {ours_left:?}, kernel {kernel_left:?}");
    }
    let ours_seen = engine.sets.borrow().elements("iw-seen");
    tally.counters += 1;
    if ours_seen != kernel_seen {
        tally.disagreements += 1;
        eprintln!("set iw-seen: ironwall {ours_seen:?}, kernel {kernel_seen:?}");
    }
    let (code, save, err) = ironwall_lab::triple(lab.server.run("iptables-save", &["-c"], None));
    assert_eq!(code, 0, "iptables-save: {err}");
    if std::env::var_os("IRONWALL_LAB_SHOW").is_some() {
        eprintln!("{save}");
    }
    compare_counters(&ours, &model(&save, true, &sets), &mut tally);
    let klogs = kmsg.lines(
        logs.len(),
        Duration::from_millis(200),
        Duration::from_secs(3),
    );
    tally.logs = klogs.len();
    tally.disagreements += multiset_diff(
        "LOG line",
        &without_sent_ids(&logs),
        &without_sent_ids(&klogs),
    );
    eprintln!(
        "{what}: {} packets in, {} out ({} of them the host's own, compared; {} NATed as they left, compared), {} rule and policy counters, {} LOG lines compared; {} disagreements",
        tally.packets_in, tally.packets_out, tally.answers, tally.translated, tally.counters, tally.logs, tally.disagreements
    );
    assert_eq!(tally.disagreements, 0);
}

/// LOG lines with the IP ID of a packet the host sent blanked: the
/// kernel picks its own answers' IDs (`ip_select_ident`), the engine
/// writes 0.
fn without_sent_ids(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| match (l.contains(" IN= OUT="), l.find(" ID=")) {
            (true, Some(i)) => {
                let rest = &l[i + 4..];
                let end = rest.find(' ').unwrap_or(rest.len());
                format!("{} ID=_{}", &l[..i], &rest[end..])
            }
            _ => l.clone(),
        })
        .collect()
}
