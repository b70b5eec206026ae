//! The stateful half of issue 3's differential test: the guide's ruleset
//! (`../shared/golden/ruleset.save`: conntrack matches, a nat DNAT rule,
//! DROP policies) in the lab's server, loaded by the real
//! iptables-restore, and the same packets through ONE
//! `netfilter::Engine` (conntrack, NAT, the host's own answers). Every
//! counter of every table, every LOG line, every answer the host sends and
//! every packet's path (iptables TRACE through `xtables-monitor --trace`,
//! against the engine's `Outcome::walks`: `common/traversal.rs`) must
//! agree with the kernel's. A second test does the same for a ruleset in
//! all four tables (`all_tables_trace_agrees_with_the_kernel`).
//!
//! The lab needs no adaptation of the ruleset: the trusted client is
//! 10.137.0.16 (FRIENDLY's one source) and the stranger 10.99.0.5 (outside
//! 10.137.0.0/24, so its SYN to 22 is DNATed to 172.17.0.4:8022, which
//! the server, forwarding off, drops at routing). Only the log prefixes
//! get the test's unique prefix in front, so that tests running side by
//! side do not read each other's lines.
//!
//! What the server saw is read back from its interfaces with the kernel's
//! timestamps and fed in that order. An arriving packet is processed by
//! the engine, which answers it as the host would (SYN-ACK, RST, echo
//! reply, port unreachable); a frame the server sent that is such an
//! answer must be one the engine predicted (compared field by field; a
//! SYN-ACK's initial sequence number is random, so the capture's sequence
//! numbers of that connection are shifted to the engine's), and any other
//! sent frame (a socket's data, ACKs, FIN) is processed as a sent packet.
//! Packets the server sends from a raw socket are fed as the test wrote
//! them (OUTPUT may drop them before the wire); fragments are fed as they
//! came (the engine joins them, as conntrack's defragmentation does); changes the test makes to the
//! server mid-run (tcp_loose, ip_forward, an address) are made to the
//! engine's host at the same point of the capture. The server's conntrack
//! timeouts for UDP and established TCP are short (1 s, 2 s) and the same
//! in the engine, so that expiry is compared too.

mod common;
mod stateful;
#[path = "common/traversal.rs"]
mod traversal;

#[path = "common/dump.rs"]
mod dump;
#[path = "common/trace.rs"]
mod trace;

use common::model;
use dump::dump_case;
use ironwall_engine::host::Iface;
use ironwall_engine::netfilter::Engine;
use ironwall_engine::packet::Packet;
use ironwall_engine::wire::Corrupt;
use ironwall_lab::kmsg::{log_guard, unique_prefix, Kmsg};
use ironwall_lab::topo::{
    server_ifaces, talk, Controls, End, Lab, Monitor, RawLink, CLIENT, SERVER_C, SERVER_S, STRANGER,
};
use stateful::{
    captured, client_drops, compare_with_kernel, handshake, inject, lab_host, now, one_at_a_time,
    replay, send, send_with, Change, Seen, Tally,
};
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::Duration;

/// `nf_conntrack_udp_timeout` in the server (and the engine's host), so
/// that a UDP flow expires within the test.
const UDP_TIMEOUT: u32 = 1;

/// `nf_conntrack_tcp_timeout_established` in the server (and the
/// engine's host), so that an idle connection expires within the test.
const TCP_IDLE: u32 = 2;

/// The port the server sends its UDP query from.
const UDP_QUERY: u16 = 40053;

/// The server's UDP socket (a port that answers nothing).
const UDP_OPEN: u16 = 5353;

/// The guide's ruleset with `prefix` in front of every log prefix.
fn guide_rules(shared: &std::path::Path, prefix: &str) -> String {
    let file = shared.join("golden/ruleset.save");
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let rules = text.replace("--log-prefix \"", &format!("--log-prefix \"{prefix}"));
    assert!(
        prefix.len() + "tcp.out.dropped ".len() <= 29,
        "log prefix too long"
    );
    rules
}

/// The engine's host: the lab server's interfaces and addresses, its
/// sockets and the conntrack timeouts the test sets.
fn guide_host(lab: &Lab) -> ironwall_engine::host::Host {
    let sysctls = [
        ("udp_timeout", UDP_TIMEOUT),
        ("tcp_timeout_established", TCP_IDLE),
    ]
    .map(|(k, v)| format!("net.netfilter.nf_conntrack_{k}={v}"));
    lab_host(
        lab,
        &server_ifaces(),
        &format!("tcp/22,tcp/8443,udp/{UDP_OPEN}"),
        &sysctls,
    )
}

/// A connection the test writes segment by segment from the trusted
/// client's address (port 43000; the client's own firewall drops what
/// comes back, so its kernel does not reset it): handshake, data, then
/// segments outside the window, an ACK of data never sent, an RST outside
/// the window, an RST in it, and an ACK after the close.
fn crafted_connection(lab: &Lab) {
    let head = "SRC=10.137.0.16 DST=10.137.0.1 TTL=64 PROTO=TCP SPT=43000 DPT=22";
    let s = handshake(lab, 43000, 40, 5000);
    let far = s.wrapping_add(1_000_000);
    for (id, len, seq, ack, flags) in [
        (41, 40, 5001u32, s, "ACK"),
        (42, 50, 5001, s, "ACK PSH"),
        (43, 50, 5011u32.wrapping_add(2_000_000_000), s, "ACK PSH"),
        (44, 40, 5011, far, "ACK"),
        (45, 40, 5011u32.wrapping_add(1_000_000_000), s, "ACK RST"),
        (46, 40, 5011, s, "ACK RST"),
        (47, 40, 5011, s, "ACK"),
    ] {
        send(
            lab,
            CLIENT,
            &format!(
                "{head} LEN={len} ID={id} SEQ={seq} ACK={ack} WINDOW=502 RES=0x00 {flags} URGP=0"
            ),
        );
    }
}

/// The server's own connections: UDP to the client's port 53 (allowed
/// out; the client's port unreachable comes back RELATED), TCP to the
/// client's port 80 (allowed; its reset comes back) and 443 (a whole
/// connection, replies ESTABLISHED), then packets written whole from a
/// raw socket (see [`inject`]). Returns those and the UDP socket, kept
/// open (the engine takes a flow's own socket to live as long as the
/// flow).
fn server_opens(lab: &Lab) -> (Vec<Packet>, UdpSocket) {
    let client = |port| SocketAddr::new(IpAddr::V4(CLIENT.addr), port);
    let udp = lab
        .server
        .enter(|| {
            let u = UdpSocket::bind(("0.0.0.0", UDP_QUERY)).expect("udp");
            u.send_to(b"query", client(53)).expect("udp send");
            let _ = TcpStream::connect_timeout(&client(80), Duration::from_secs(1));
            u
        })
        .expect("enter server");
    // A whole connection the server opens to the client's port 443.
    let https = lab
        .client
        .enter(|| TcpListener::bind(client(443)))
        .expect("enter client")
        .expect("listen on the client");
    talk(&lab.server, &https, client(443));
    let c = "SRC=10.137.0.1 DST=10.137.0.16 TTL=64";
    let s = "SRC=10.99.0.1 DST=10.99.0.5 TTL=64";
    let v = [
        // An echo request (STDOUT), its reply ESTABLISHED.
        format!("{c} LEN=28 ID=50 PROTO=ICMP TYPE=8 CODE=0 ID=77 SEQ=1"),
        // UDP and TCP that STDOUT does not allow: LOG, then DROP.
        format!("{c} LEN=28 ID=51 PROTO=UDP SPT=4000 DPT=9999 LEN=8"),
        format!("{c} LEN=40 ID=52 PROTO=TCP SPT=4001 DPT=25 SEQ=1 ACK=0 WINDOW=512 RES=0x00 SYN URGP=0"),
        // TCP to 443 (allowed); the stranger's kernel resets it.
        format!("{s} LEN=40 ID=53 PROTO=TCP SPT=4002 DPT=443 SEQ=1 ACK=0 WINDOW=512 RES=0x00 SYN URGP=0"),
        // A bare ACK of no connection: picked up (loose) as NEW, dropped.
        format!("{c} LEN=40 ID=54 PROTO=TCP SPT=4003 DPT=80 SEQ=1 ACK=1 WINDOW=512 RES=0x00 ACK URGP=0"),
    ];
    let injected = v
        .iter()
        .map(|l| {
            let out = if l.contains("DST=10.137.0.16") {
                SERVER_C
            } else {
                SERVER_S
            };
            inject(lab, l, out.iface)
        })
        .collect();
    (injected, udp)
}

/// A bulk connection from the trusted client to `addr` (`listener`):
/// `n` bytes each way at once, so that windows fill and scale.
fn bulk(lab: &Lab, listener: &TcpListener, addr: SocketAddr, n: usize) {
    let conn = lab
        .client
        .enter(|| TcpStream::connect_timeout(&addr, Duration::from_secs(2)))
        .expect("enter client")
        .expect("connect");
    let (srv, _) = listener.accept().expect("accept");
    for s in [&conn, &srv] {
        s.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        s.set_write_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
    }
    std::thread::scope(|sc| {
        for (mut from, mut to) in [(&conn, &srv), (&srv, &conn)] {
            sc.spawn(move || {
                from.write_all(&vec![7u8; n]).expect("bulk write");
                from.shutdown(std::net::Shutdown::Write).expect("shutdown");
            });
            sc.spawn(move || {
                let mut got = Vec::new();
                to.read_to_end(&mut got).expect("bulk read");
                assert_eq!(got.len(), n);
            });
        }
    });
    drop((conn, srv));
    std::thread::sleep(Duration::from_millis(50));
}

#[test]
fn guide_ruleset_stateful_agrees_with_the_kernel() {
    let what = "guide_ruleset_stateful_agrees_with_the_kernel";
    let _turn = one_at_a_time();
    let Some(_logs) = log_guard(what) else {
        return;
    };
    let Some(shared) = ironwall_lab::shared(what) else {
        return;
    };
    let prefix = unique_prefix();
    let rules = guide_rules(&shared, &prefix);
    let lab = Lab::new("stf", &Controls::default());
    let monitor = load_traced(&lab, &rules);
    let any = |port| SocketAddr::new(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), port);
    let (ssh, web, _udp) = lab
        .server
        .enter(|| {
            (
                TcpListener::bind(any(22)).expect("listen 22"),
                TcpListener::bind(any(8443)).expect("listen 8443"),
                UdpSocket::bind(any(UDP_OPEN)).expect("udp"),
            )
        })
        .expect("enter server");
    let kmsg = Kmsg::open(&prefix).expect("/dev/kmsg");
    let taps = server_taps(&lab);

    let c = "SRC=10.137.0.16 DST=10.137.0.1 TTL=64";
    let s = "SRC=10.99.0.5 DST=10.99.0.1 TTL=64";
    // The trusted client's connection to 22; the server's to its own
    // 10.137.0.1:8443, through lo (OUTPUT allows `-o lo`, INPUT the port).
    let to = |port| SocketAddr::new(IpAddr::V4(SERVER_C.addr), port);
    let port = talk(&lab.client, &ssh, to(22));
    // A half-open connection from port 43002 (its SYN-ACKs dropped by the
    // client's firewall): the SYN again (the server sends its SYN-ACK
    // again), an ACK of something else (the listener resets it), then an
    // RST.
    client_drops(&lab, 43002);
    for (id, seq, ack, flags) in [
        (82, 900u32, 0u32, "SYN"),
        (83, 900, 0, "SYN"),
        (84, 901, 12345, "ACK"),
        (85, 901, 0, "RST"),
    ] {
        send(&lab, CLIENT, &format!("{c} LEN=40 ID={id} PROTO=TCP SPT=43002 DPT=22 SEQ={seq} ACK={ack} WINDOW=512 RES=0x00 {flags} URGP=0"));
    }
    talk(&lab.server, &web, to(8443));
    bulk(&lab, &web, to(8443), 300_000);
    // A new SYN on the first connection's tuple, in conntrack's TIME_WAIT
    // (the client's firewall drops the SYN-ACK so that its kernel does
    // not reset it): the connection is reopened. Then an RST ends the
    // server's half-open connection before it retransmits its SYN-ACK
    // (the timers are compared in live_host.rs).
    client_drops(&lab, port);
    send(&lab, CLIENT, &format!("{c} LEN=40 ID=80 PROTO=TCP SPT={port} DPT=22 SEQ=7 ACK=0 WINDOW=512 RES=0x00 SYN URGP=0"));
    send(
        &lab,
        CLIENT,
        &format!(
            "{c} LEN=40 ID=81 PROTO=TCP SPT={port} DPT=22 SEQ=8 ACK=0 WINDOW=0 RES=0x00 RST URGP=0"
        ),
    );
    // Echo from the trusted client (FRIENDLY), its reply (OUTPUT
    // ESTABLISHED).
    send(
        &lab,
        CLIENT,
        &format!("{c} LEN=84 ID=1 PROTO=ICMP TYPE=8 CODE=0 ID=7 SEQ=1"),
    );
    // A stranger's SYN to 22 (DNAT, then no route), to 8443 (accepted;
    // the stranger's kernel resets the SYN-ACK), to a closed port, to
    // netbios (MALICIOUS).
    send(&lab, STRANGER, &format!("{s} LEN=44 ID=2 PROTO=TCP SPT=41000 DPT=22 SEQ=100 ACK=0 WINDOW=1024 RES=0x00 SYN URGP=0 OPT (020405B4)"));
    send(&lab, STRANGER, &format!("{s} LEN=44 ID=3 PROTO=TCP SPT=41001 DPT=8443 SEQ=100 ACK=0 WINDOW=1024 RES=0x00 SYN URGP=0 OPT (020405B4)"));
    send(&lab, STRANGER, &format!("{s} LEN=40 ID=4 PROTO=TCP SPT=41002 DPT=23 SEQ=100 ACK=0 WINDOW=1024 RES=0x00 SYN URGP=0"));
    send(&lab, STRANGER, &format!("{s} LEN=40 ID=8 PROTO=TCP SPT=41004 DPT=138 SEQ=100 ACK=0 WINDOW=1024 RES=0x00 SYN URGP=0"));
    // Another source of the trusted subnet (not DNATed): foreign, LOG
    // and DROP.
    send(&lab, CLIENT, "SRC=10.137.0.20 DST=10.137.0.1 TTL=64 LEN=40 ID=5 PROTO=TCP SPT=41003 DPT=22 SEQ=100 ACK=0 WINDOW=1024 RES=0x00 SYN URGP=0");
    // UDP to a closed port and to the open one (both dropped by policy).
    send(
        &lab,
        CLIENT,
        &format!("{c} LEN=30 ID=6 PROTO=UDP SPT=5000 DPT=9999 LEN=10"),
    );
    send(
        &lab,
        STRANGER,
        &format!("{s} LEN=30 ID=7 PROTO=UDP SPT=5000 DPT={UDP_OPEN} LEN=10"),
    );
    // Segments of no connection, nf_conntrack_tcp_loose=1: a bare ACK is
    // picked up (NEW), a FIN is not, bad flag combinations are INVALID.
    let odd = |id: u16, dpt: u16, flags: &str| {
        format!("{c} LEN=40 ID={id} PROTO=TCP SPT={} DPT={dpt} SEQ=1000 ACK=2000 WINDOW=512 RES=0x00 {flags} URGP=0", 42000 + id)
    };
    for (id, dpt, flags) in [
        (10, 22, "ACK"),
        (11, 23, "ACK"),
        (12, 22, "ACK PSH FIN"),
        (13, 22, "FIN"),
        (14, 22, "SYN FIN"),
        (15, 22, "SYN RST"),
        (16, 22, ""),
        (17, 22, "URG PSH FIN"),
        (18, 22, "RST"),
        (19, 8443, "ACK"),
    ] {
        send(&lab, CLIENT, &odd(id, dpt, flags));
    }
    crafted_connection(&lab);
    // A connection left idle past nf_conntrack_tcp_timeout_established:
    // its next segment (under loose=0 by then) has no connection: INVALID.
    let idle = "SRC=10.137.0.16 DST=10.137.0.1 TTL=64 PROTO=TCP SPT=43004 DPT=22 SEQ=7001";
    let idle_ack = handshake(&lab, 43004, 86, 7000);
    send(
        &lab,
        CLIENT,
        &format!("{idle} LEN=40 ID=87 ACK={idle_ack} WINDOW=502 RES=0x00 ACK URGP=0"),
    );
    let idle_since = std::time::Instant::now();
    let (injected, _query) = server_opens(&lab);
    // An answer to the server's UDP query while its flow lives
    // (ESTABLISHED, to the socket), and one after nf_conntrack_udp_timeout
    // (NEW: logged and dropped).
    let query_sent = std::time::Instant::now();
    let answer = |id: u16| format!("{c} LEN=28 ID={id} PROTO=UDP SPT=53 DPT={UDP_QUERY} LEN=8");
    send(&lab, CLIENT, &answer(90));
    std::thread::sleep(Duration::from_millis(50));
    let mut changes: Vec<Change> = vec![(now(), Box::new(|e| e.ct.sysctl.tcp_loose = false))];
    lab.server
        .sysctl(&[("net.netfilter.nf_conntrack_tcp_loose", "0")])
        .expect("tcp_loose");
    std::thread::sleep(Duration::from_millis(20));
    for (id, dpt, flags) in [(20, 22, "ACK"), (21, 23, "ACK"), (22, 8443, "ACK PSH")] {
        send(&lab, CLIENT, &odd(id, dpt, flags));
    }
    // Forwarding on, 172.17.0.4 routed to the client's side: the
    // stranger's SYN to 22 is DNATed and forwarded, and FORWARD's policy
    // drops it. (The engine's host routes 172.17.0.4 by its default, its
    // first interface, srv-c, as this route does.)
    let forward = |on: bool| {
        let v = if on { "1" } else { "0" };
        lab.server
            .sysctl(&[("net.ipv4.ip_forward", v)])
            .expect("ip_forward");
    };
    changes.push((now(), Box::new(|e| e.host.sysctl.ip_forward = true)));
    forward(true);
    let (code, _, err) = ironwall_lab::triple(lab.server.run(
        "ip",
        &[
            "route",
            "add",
            "172.17.0.4/32",
            "via",
            &CLIENT.addr.to_string(),
        ],
        None,
    ));
    assert_eq!(code, 0, "ip route add: {err}");
    std::thread::sleep(Duration::from_millis(20));
    send(&lab, STRANGER, &format!("{s} LEN=44 ID=59 PROTO=TCP SPT=41009 DPT=22 SEQ=100 ACK=0 WINDOW=1024 RES=0x00 SYN URGP=0 OPT (020405B4)"));
    std::thread::sleep(Duration::from_millis(20));
    changes.push((now(), Box::new(|e| e.host.sysctl.ip_forward = false)));
    forward(false);
    // The guide's DNAT target made local: 172.17.0.4 on srv-s. The
    // stranger's SYN to 22 now reaches INPUT translated (logged with
    // DST=172.17.0.4 DPT=8022, dropped); one straight to 172.17.0.4:8443
    // is accepted and answered from there.
    let dnat = Iface {
        name: SERVER_S.iface.to_string(),
        addr: std::net::Ipv4Addr::new(172, 17, 0, 4),
        prefix: 32,
    };
    let local = dnat.clone();
    changes.push((now(), Box::new(move |e| e.host.ifaces.push(local))));
    let (code, _, err) = ironwall_lab::triple(lab.server.run(
        "ip",
        &[
            "addr",
            "add",
            &format!("{}/32", dnat.addr),
            "dev",
            &dnat.name,
        ],
        None,
    ));
    assert_eq!(code, 0, "ip addr add: {err}");
    std::thread::sleep(Duration::from_millis(20));
    send(&lab, STRANGER, &format!("{s} LEN=44 ID=60 PROTO=TCP SPT=41010 DPT=22 SEQ=100 ACK=0 WINDOW=1024 RES=0x00 SYN URGP=0 OPT (020405B4)"));
    send(&lab, STRANGER, "SRC=10.99.0.5 DST=172.17.0.4 TTL=64 LEN=44 ID=61 PROTO=TCP SPT=41011 DPT=8443 SEQ=100 ACK=0 WINDOW=1024 RES=0x00 SYN URGP=0 OPT (020405B4)");
    send(
        &lab,
        STRANGER,
        &format!("{s} LEN=28 ID=62 PROTO=ICMP TYPE=8 CODE=0 ID=9 SEQ=1"),
    );
    // ICMP of no connection: an unasked echo reply, an error quoting a
    // flow never seen (both INVALID), an error quoting the stranger's
    // reset connection to 8443 (RELATED), the same error to another of
    // the server's addresses (INVALID: the outer destination is not the
    // connection's).
    for line in [
        format!("{s} LEN=28 ID=63 PROTO=ICMP TYPE=0 CODE=0 ID=9 SEQ=2"),
        format!("{s} LEN=56 ID=64 PROTO=ICMP TYPE=3 CODE=3 [SRC=10.99.0.1 DST=10.99.0.5 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=1 PROTO=UDP SPT=5000 DPT=53 LEN=8 ]"),
        format!("{s} LEN=68 ID=65 PROTO=ICMP TYPE=3 CODE=1 [SRC=10.99.0.1 DST=10.99.0.5 LEN=40 TOS=0x00 PREC=0x00 TTL=64 ID=0 PROTO=TCP SPT=8443 DPT=41001 SEQ=0 ACK=101 WINDOW=0 RES=0x00 ACK SYN URGP=0 ]"),
        "SRC=10.99.0.5 DST=10.137.0.1 TTL=64 LEN=68 ID=74 PROTO=ICMP TYPE=3 CODE=1 [SRC=10.99.0.1 DST=10.99.0.5 LEN=40 TOS=0x00 PREC=0x00 TTL=64 ID=0 PROTO=TCP SPT=8443 DPT=41001 SEQ=0 ACK=101 WINDOW=0 RES=0x00 ACK SYN URGP=0 ]".to_string(),
    ] {
        send(&lab, STRANGER, &line);
    }
    // The stranger's SYN to 8443 again on the reset tuple (reopens), a
    // retransmitted SYN, and a FIN of no connection under loose=0.
    for (id, flags) in [(66, "SYN"), (67, "SYN"), (68, "FIN ACK")] {
        send(&lab, STRANGER, &format!("{s} LEN=40 ID={id} PROTO=TCP SPT=41001 DPT=8443 SEQ=100 ACK=0 WINDOW=1024 RES=0x00 {flags} URGP=0"));
    }
    send(&lab, CLIENT, &odd(69, 22, "FIN ACK"));
    // Two fragments of one UDP datagram to a closed port: conntrack's
    // defragmentation joins them before the first hook.
    send(
        &lab,
        CLIENT,
        &format!("{c} LEN=36 ID=75 MF PROTO=UDP SPT=5000 DPT=9998 LEN=28"),
    );
    send(&lab, CLIENT, &format!("{c} LEN=32 ID=75 FRAG:2 PROTO=UDP"));
    // Wrong transport checksums from the trusted client (conntrack's
    // checksum check: INVALID; the stack would not answer either), and
    // the same SYN with a right one.
    let bad = Corrupt {
        ip: false,
        transport: true,
    };
    for line in [
        format!("{c} LEN=40 ID=70 PROTO=TCP SPT=43001 DPT=22 SEQ=1 ACK=0 WINDOW=512 RES=0x00 SYN URGP=0"),
        format!("{c} LEN=30 ID=71 PROTO=UDP SPT=5000 DPT=9999 LEN=10"),
        format!("{c} LEN=84 ID=72 PROTO=ICMP TYPE=8 CODE=0 ID=8 SEQ=1"),
    ] {
        send_with(&lab, CLIENT, &line, bad);
    }
    send(&lab, CLIENT, &format!("{c} LEN=40 ID=73 PROTO=TCP SPT=43001 DPT=22 SEQ=1 ACK=0 WINDOW=512 RES=0x00 SYN URGP=0"));

    let expired = Duration::from_millis(u64::from(UDP_TIMEOUT) * 1000 + 300);
    std::thread::sleep(expired.saturating_sub(query_sent.elapsed()));
    send(&lab, CLIENT, &answer(91));
    let idle_for = Duration::from_millis(u64::from(TCP_IDLE) * 1000 + 300);
    std::thread::sleep(idle_for.saturating_sub(idle_since.elapsed()));
    send(
        &lab,
        CLIENT,
        &format!("{idle} LEN=45 ID=88 ACK={idle_ack} WINDOW=502 RES=0x00 ACK PSH URGP=0"),
    );
    let seen = captured(&taps, &injected);
    drop(web);
    check(what, &lab, &rules, &prefix, (seen, changes), &kmsg, monitor);
}

/// Taps on the server's interfaces, lo included.
fn server_taps(lab: &Lab) -> [(&'static str, RawLink); 3] {
    [SERVER_C.iface, SERVER_S.iface, "lo"].map(|i| (i, RawLink::open(&lab.server, i).expect("tap")))
}

/// Starts tracing every packet of the lab's server ([`traversal::start`]),
/// then loads `rules` (with the real iptables-restore, which
/// starts the counters afresh) and sets the server's kernel settings the
/// engine's host mirrors ([`lab_host`]).
fn load_traced(lab: &Lab, rules: &str) -> Monitor {
    let monitor = traversal::start(lab);
    let (code, _, err) = lab.server.restore(&[], rules);
    assert_eq!(code, 0, "iptables-restore: {err}");
    lab.apply(&Controls::default()).expect("sysctl");
    lab.server
        .sysctl(&[
            ("net.netfilter.nf_conntrack_tcp_loose", "1"),
            (
                "net.netfilter.nf_conntrack_udp_timeout",
                &UDP_TIMEOUT.to_string(),
            ),
            (
                "net.netfilter.nf_conntrack_tcp_timeout_established",
                &TCP_IDLE.to_string(),
            ),
        ])
        .expect("conntrack sysctls");
    monitor
}

/// Feeds what the server saw (and the changes made to it) through one
/// engine of `rules` with the lab's host, then compares every counter of
/// every table, every LOG line (those under `prefix`), every answer and
/// every TRACE path with the kernel's; prints the tally, dumps the run
/// into the corpus when asked (`IRONWALL_LAB_DUMP`), and asserts that
/// nothing disagreed.
fn check(
    what: &str,
    lab: &Lab,
    rules: &str,
    prefix: &str,
    (seen, changes): (Vec<Seen>, Vec<Change>),
    kmsg: &Kmsg,
    monitor: Monitor,
) {
    let mut tally = Tally::default();
    let ruleset = model(rules, false, &[]);
    let mut engine = Engine::new(&ruleset, guide_host(lab)).expect("the engine models the ruleset");
    let mut paths = Vec::new();
    let logs = replay(&mut engine, seen, changes, &mut tally, &mut |o| {
        traversal::engine_paths(o, &mut paths)
    });
    compare_with_kernel(lab, &engine, rules, kmsg, &logs, &mut tally);
    let lines = monitor.finish(Duration::from_millis(300), Duration::from_secs(10));
    let tables: Vec<&str> = ruleset.tables.iter().map(|t| t.name()).collect();
    let kernel = traversal::kernel_paths(&lines, &trace::handles(lab, &tables));
    tally.paths = kernel.len();
    if std::env::var_os("IRONWALL_LAB_SHOW").is_some() {
        eprintln!("{}\n{}", lines.join("\n"), kernel.join("\n"));
    }
    tally.disagreements += common::multiset_diff("TRACE path", &paths, &kernel);
    eprintln!("{what} ({}): {}", tables.join(", "), tally.report());
    if tally.disagreements > 0 {
        let host = [
            format!("listen tcp/22,tcp/8443,udp/{UDP_OPEN}"),
            "sysctl net.ipv4.icmp_ratelimit=0".to_string(),
            format!("sysctl net.netfilter.nf_conntrack_udp_timeout={UDP_TIMEOUT}"),
            format!("sysctl net.netfilter.nf_conntrack_tcp_timeout_established={TCP_IDLE}"),
        ];
        dump_case(what, rules, prefix, &host, &tally.fed);
    }
    assert_eq!(tally.disagreements, 0);
}

/// Every table and built-in chain, `PFX` standing for the test's log
/// prefix: raw (NOTRACK both ways, LOG), mangle (MARK set in one hook and
/// matched in later ones, a user chain with RETURN), nat (DNAT of
/// arriving packets and of the host's own, through lo), filter. Every
/// packet walks several tables, so TRACE writes many events per packet:
/// the test sends no bursts (xtables-monitor dies of ENOBUFS when its
/// socket overflows, as a real connection's burst through all tables
/// makes it).
const ALL_TABLES: &str = r#"*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -p udp -m udp --dport 7777 -j CT --notrack
-A PREROUTING -p tcp -m tcp --dport 22 --tcp-flags SYN,ACK SYN -j LOG --log-prefix "PFXraw.syn "
-A OUTPUT -p udp -m udp --sport 7777 -j CT --notrack
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:M - [0:0]
-A PREROUTING -s 10.99.0.5/32 -j MARK --set-xmark 0x5/0xffffffff
-A PREROUTING -p icmp -j M
-A INPUT -p tcp -m mark --mark 0x5 -j LOG --log-prefix "PFXmarked "
-A OUTPUT -p tcp -j MARK --set-xmark 0x2/0xffffffff
-A POSTROUTING -m mark --mark 0x2
-A M -p icmp -m icmp --icmp-type 8 -j RETURN
-A M -j MARK --set-xmark 0x7/0xffffffff
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -s 10.99.0.5/32 -p tcp -m tcp --dport 2222 -j DNAT --to-destination 10.99.0.1:22
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
-A OUTPUT -d 10.137.0.1/32 -p udp -m udp --dport 2200 -j DNAT --to-destination 10.137.0.1:7778
-A POSTROUTING -o lo -j ACCEPT
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:U - [0:0]
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -m conntrack --ctstate UNTRACKED -j LOG --log-prefix "PFXuntracked "
-A INPUT -m mark --mark 0x7
-A INPUT -p tcp -j U
-A OUTPUT -p icmp
-A U -p tcp -m tcp --dport 22 -j ACCEPT
-A U -j RETURN
COMMIT
"#;

#[test]
fn all_tables_trace_agrees_with_the_kernel() {
    let what = "all_tables_trace_agrees_with_the_kernel";
    let _turn = one_at_a_time();
    let Some(_logs) = log_guard(what) else {
        return;
    };
    let prefix = unique_prefix();
    let rules = ALL_TABLES.replace("PFX", &prefix);
    let lab = Lab::new("tra", &Controls::default());
    let monitor = load_traced(&lab, &rules);
    let any = |port| SocketAddr::new(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), port);
    let ssh = lab
        .server
        .enter(|| TcpListener::bind(any(22)).expect("listen 22"))
        .expect("enter server");
    let kmsg = Kmsg::open(&prefix).expect("/dev/kmsg");
    let taps = server_taps(&lab);
    let c = "SRC=10.137.0.16 DST=10.137.0.1 TTL=64";
    let s = "SRC=10.99.0.5 DST=10.99.0.1 TTL=64";
    let paced = |from: End, line: String| {
        send(&lab, from, &line);
        std::thread::sleep(Duration::from_millis(20));
    };
    // The client's SYN to 22 (its kernel resets the SYN-ACK); the
    // stranger's SYN to 2222 (DNAT to 22; its kernel resets the SYN-ACK),
    // an echo request (M returns), an unasked echo reply (M marks it 7:
    // INVALID), UDP to the untracked port 7777 (closed: port
    // unreachable) from both.
    paced(CLIENT, format!("{c} LEN=44 ID=1 PROTO=TCP SPT=41000 DPT=22 SEQ=100 ACK=0 WINDOW=1024 RES=0x00 SYN URGP=0 OPT (020405B4)"));
    paced(STRANGER, format!("{s} LEN=44 ID=2 PROTO=TCP SPT=41000 DPT=2222 SEQ=100 ACK=0 WINDOW=1024 RES=0x00 SYN URGP=0 OPT (020405B4)"));
    paced(
        STRANGER,
        format!("{s} LEN=28 ID=3 PROTO=ICMP TYPE=8 CODE=0 ID=9 SEQ=1"),
    );
    paced(
        STRANGER,
        format!("{s} LEN=28 ID=4 PROTO=ICMP TYPE=0 CODE=0 ID=9 SEQ=2"),
    );
    paced(
        STRANGER,
        format!("{s} LEN=30 ID=5 PROTO=UDP SPT=5000 DPT=7777 LEN=10"),
    );
    paced(
        CLIENT,
        format!("{c} LEN=30 ID=6 PROTO=UDP SPT=5000 DPT=7777 LEN=10"),
    );
    // The server's own UDP to its 2200 (DNAT to the closed 7778 in nat
    // OUTPUT; port unreachable back through lo), from a raw socket: the
    // capture on lo shows it translated, the engine takes it as sent.
    let injected = vec![inject(
        &lab,
        "SRC=10.137.0.1 DST=10.137.0.1 TTL=64 LEN=30 ID=7 PROTO=UDP SPT=5000 DPT=2200 LEN=10",
        "lo",
    )];
    std::thread::sleep(Duration::from_millis(20));
    // The server's own UDP from the untracked port 7777 to the client's
    // closed port 53: the client's port unreachable comes back.
    let any = |port| SocketAddr::new(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), port);
    let _udp = lab
        .server
        .enter(|| {
            let u = UdpSocket::bind(any(7777)).expect("udp 7777");
            u.send_to(b"query", SocketAddr::new(IpAddr::V4(CLIENT.addr), 53))
                .expect("udp send");
            u
        })
        .expect("enter server");
    std::thread::sleep(Duration::from_millis(50));
    let seen = captured(&taps, &injected);
    drop(ssh);
    check(
        what,
        &lab,
        &rules,
        &prefix,
        (seen, Vec::new()),
        &kmsg,
        monitor,
    );
}
