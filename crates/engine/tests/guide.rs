//! The guide's ruleset (`../shared/golden/ruleset.save`) with the packets
//! the guide reasons about. Expected paths, counters and LOG lines are
//! derived from the rules and the kernel's conntrack and nf_log_syslog
//! code (cited per case); they still need confirming against a live kernel
//! (the lab's differential tests).

use ironwall_engine::conntrack::CtState;
use ironwall_engine::host::Host;
use ironwall_engine::netfilter::{Engine, Outcome};
use ironwall_engine::walk::Verdict;
use ironwall_engine::Packet;
use ironwall_model::addr::Family;
use ironwall_model::ruleset::Ruleset;

fn guide() -> Option<Ruleset> {
    let dir = ironwall_lab::shared("guide ruleset")?;
    let text = std::fs::read_to_string(dir.join("golden/ruleset.save")).ok()?;
    let mut rs = Ruleset::new(Family::V4);
    ironwall_model::restore::restore(&mut rs, &text, &Default::default(), &[]).unwrap();
    Some(rs)
}

const MAC: &str = "MAC=00:16:3e:5e:6c:00:fe:ff:ff:ff:ff:ff:08:00";

fn inbound(src: &str, rest: &str) -> Packet {
    Packet::parse_line(&format!(
        "IN=eth0 OUT= {MAC} SRC={src} DST=10.137.0.2 {rest}"
    ))
    .unwrap()
}

fn counter(rs: &Ruleset, table: &str, chain: &str, rule: usize) -> (u64, u64) {
    let c = rs.table(table).unwrap().chain(chain).unwrap();
    if rule == 0 {
        (c.counters.packets, c.counters.bytes)
    } else {
        let r = &c.rules[rule - 1].counters;
        (r.packets, r.bytes)
    }
}

fn arrows(o: &Outcome, table: &str) -> Vec<String> {
    o.walks
        .iter()
        .filter(|w| w.table == table)
        .map(|w| w.arrows())
        .collect()
}

#[test]
fn guide_ruleset_replay() {
    let Some(rs) = guide() else {
        return;
    };
    let mut host = Host::default();
    host.option("--iface", "eth0=10.137.0.2/24").unwrap();
    host.option("--listen", "tcp/22,tcp/8443").unwrap();
    let mut e = Engine::new(&rs, host).unwrap();

    // The trusted client's handshake: SYN accepted via FRIENDLY, the
    // SYN-ACK leaves through OUTPUT as ESTABLISHED (reply direction), the
    // ACK is ESTABLISHED (nf_conntrack_tcp_packet: sSR -> sES).
    let syn = e.process(&inbound(
        "10.137.0.16",
        "LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=56296 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0",
    ));
    assert_eq!(syn.ct, CtState::New);
    assert_eq!(syn.verdict, Verdict::Accept);
    assert_eq!(
        arrows(&syn, "filter"),
        ["INPUT -> MALICIOUS -> STDIN -> FRIENDLY -> ACCEPT"]
    );
    let synack = syn.reply.as_deref().unwrap();
    assert_eq!(
        (synack.ct, synack.verdict),
        (CtState::Established, Verdict::Accept)
    );
    assert_eq!(arrows(synack, "filter"), ["OUTPUT -> ACCEPT"]);
    let ack = e.process(&inbound(
        "10.137.0.16",
        "LEN=52 TOS=0x00 PREC=0x00 TTL=64 ID=2 DF PROTO=TCP SPT=56296 DPT=22 WINDOW=502 RES=0x00 ACK URGP=0",
    ));
    assert_eq!(
        (ack.ct, ack.verdict),
        (CtState::Established, Verdict::Accept)
    );
    assert!(ack.walks.iter().all(|w| w.table != "nat"));

    // A stranger's SYN to 22: logged by FRIENDLY and dropped there.
    let stranger = e.process(&inbound(
        "10.137.0.14",
        "LEN=60 TOS=0x00 PREC=0x00 TTL=63 ID=758 DF PROTO=TCP SPT=56297 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0",
    ));
    assert_eq!(stranger.verdict, Verdict::Drop);
    assert_eq!(
        arrows(&stranger, "filter"),
        ["INPUT -> MALICIOUS -> STDIN -> FRIENDLY -> DROP"]
    );
    assert_eq!(
        stranger.logs,
        [format!("tcp.in.foreign IN=eth0 OUT= {MAC} SRC=10.137.0.14 DST=10.137.0.2 LEN=60 TOS=0x00 PREC=0x00 TTL=63 ID=758 DF PROTO=TCP SPT=56297 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0 ")]
    );
    assert!(stranger.reply.is_none());

    // A SYN to the closed 8444: INPUT's LOG, then the DROP policy.
    let closed = e.process(&inbound(
        "10.137.0.14",
        "LEN=60 TOS=0x00 PREC=0x00 TTL=63 ID=759 DF PROTO=TCP SPT=56298 DPT=8444 WINDOW=64240 RES=0x00 SYN URGP=0",
    ));
    assert_eq!(closed.verdict, Verdict::Drop);
    assert_eq!(
        arrows(&closed, "filter"),
        ["INPUT -> MALICIOUS -> STDIN -> DROP (policy)"]
    );
    assert_eq!(
        closed.logs,
        [format!("tcp.in.dropped IN=eth0 OUT= {MAC} SRC=10.137.0.14 DST=10.137.0.2 LEN=60 TOS=0x00 PREC=0x00 TTL=63 ID=759 DF PROTO=TCP SPT=56298 DPT=8444 WINDOW=64240 RES=0x00 SYN URGP=0 ")]
    );

    // INVALID: a FIN/ACK without a connection (tcp_new: sNO + fin = sIV)
    // is dropped by MALICIOUS's first rule.
    let invalid = e.process(&inbound(
        "10.137.0.14",
        "LEN=40 TOS=0x00 PREC=0x00 TTL=63 ID=760 DF PROTO=TCP SPT=56299 DPT=8443 WINDOW=501 RES=0x00 ACK FIN URGP=0",
    ));
    assert_eq!(
        (invalid.ct, invalid.verdict),
        (CtState::Invalid, Verdict::Drop)
    );
    assert_eq!(arrows(&invalid, "filter"), ["INPUT -> MALICIOUS -> DROP"]);
    assert!(invalid.logs.is_empty());

    // DNS out (NEW, STDOUT accepts port 53) and its reply (ESTABLISHED).
    let query = e.process(
        &Packet::parse_line("IN= OUT=eth0 SRC=10.137.0.2 DST=10.137.0.1 LEN=61 TOS=0x00 PREC=0x00 TTL=64 ID=9 PROTO=UDP SPT=41000 DPT=53 LEN=41").unwrap(),
    );
    assert_eq!((query.ct, query.verdict), (CtState::New, Verdict::Accept));
    assert_eq!(arrows(&query, "filter"), ["OUTPUT -> STDOUT -> ACCEPT"]);
    let answer = e.process(&inbound(
        "10.137.0.1",
        "LEN=77 TOS=0x00 PREC=0x00 TTL=64 ID=10 PROTO=UDP SPT=53 DPT=41000 LEN=57",
    ));
    assert_eq!(
        (answer.ct, answer.verdict),
        (CtState::Established, Verdict::Accept)
    );
    assert_eq!(arrows(&answer, "filter"), ["INPUT -> ACCEPT"]);

    let mut after = rs.clone();
    e.add_counters_to(&mut after);
    let f = |c, r| counter(&after, "filter", c, r);
    assert_eq!(f("INPUT", 1), (2, 52 + 77));
    assert_eq!(f("INPUT", 2), (4, 60 * 3 + 40));
    assert_eq!(f("INPUT", 3), (3, 180));
    assert_eq!(f("INPUT", 4), (1, 60));
    assert_eq!(f("INPUT", 0), (1, 60));
    assert_eq!(f("MALICIOUS", 1), (1, 40));
    assert_eq!(f("STDIN", 1), (2, 120));
    assert_eq!(f("FRIENDLY", 1), (1, 60));
    assert_eq!(f("FRIENDLY", 3), (1, 60));
    assert_eq!(f("FRIENDLY", 4), (1, 60));
    assert_eq!(f("OUTPUT", 1).0, 1);
    assert_eq!(f("OUTPUT", 2), (1, 61));
    assert_eq!(f("STDOUT", 1), (1, 61));
    // nat chains see only first packets (NEW): three SYNs in PREROUTING,
    // the accepted one in INPUT, the DNS query in OUTPUT and POSTROUTING.
    let n = |c| counter(&after, "nat", c, 0);
    assert_eq!(n("PREROUTING"), (3, 180));
    assert_eq!(n("INPUT"), (1, 60));
    assert_eq!(n("OUTPUT"), (1, 61));
    assert_eq!(n("POSTROUTING"), (1, 61));
}

/// A stranger outside 10.137.0.0/24 is DNATed to 172.17.0.4:8022, which
/// is not local: with forwarding on it goes to FORWARD (policy DROP).
#[test]
fn guide_dnat_forwards() {
    let Some(rs) = guide() else {
        return;
    };
    let mut host = Host::default();
    host.option("--iface", "eth0=10.137.0.2/24").unwrap();
    host.option("--iface", "docker0=172.17.0.1/16").unwrap();
    host.option("--sysctl", "net.ipv4.ip_forward=1").unwrap();
    let mut e = Engine::new(&rs, host).unwrap();
    let o = e.process(&inbound(
        "192.0.2.7",
        "LEN=60 TTL=50 PROTO=TCP SPT=1234 DPT=22 SYN",
    ));
    assert_eq!(o.nat, ["DNAT 10.137.0.2:22 -> 172.17.0.4:8022"]);
    assert_eq!((o.out.iface_out.as_str(), o.out.ttl), ("docker0", 49));
    assert_eq!(arrows(&o, "filter"), ["FORWARD -> DROP (policy)"]);
}

/// A query to a resolver on this host leaves through OUTPUT (STDOUT
/// accepts port 53) and comes back in through lo as NEW, where the guide's
/// INPUT has no loopback rule: logged and dropped by the policy.
#[test]
fn guide_loopback_query() {
    let Some(rs) = guide() else {
        return;
    };
    let mut host = Host::default();
    host.option("--iface", "eth0=10.137.0.2/24").unwrap();
    let mut e = Engine::new(&rs, host).unwrap();
    let q = Packet::parse_line(
        "IN= OUT=lo SRC=127.0.0.1 DST=127.0.0.53 LEN=61 TOS=0x00 PREC=0x00 TTL=64 ID=5 DF PROTO=UDP SPT=41000 DPT=53 LEN=41",
    )
    .unwrap();
    let o = e.process(&q);
    assert_eq!(
        arrows(&o, "filter"),
        [
            "OUTPUT -> STDOUT -> ACCEPT",
            "INPUT -> MALICIOUS -> STDIN -> DROP (policy)"
        ]
    );
    assert_eq!(o.verdict, Verdict::Drop);
    assert_eq!(
        o.logs,
        ["udp.in.dropped IN=lo OUT= MAC=00:00:00:00:00:00:00:00:00:00:00:00:08:00 SRC=127.0.0.1 DST=127.0.0.53 LEN=61 TOS=0x00 PREC=0x00 TTL=64 ID=5 DF PROTO=UDP SPT=41000 DPT=53 LEN=41 "]
    );
}

/// A busy host's mixed stream through the guide's ruleset: the quiet
/// replay (`process_quiet`) gives the same verdicts, LOG lines, rule and
/// policy counters and connections as the detailed one (`process`).
#[test]
fn guide_quiet_replay_agrees() {
    let Some(rs) = guide() else {
        return;
    };
    let host = || {
        let mut h = Host::default();
        h.option("--iface", "eth0=10.137.0.2/24").unwrap();
        h.option("--listen", "tcp/22,tcp/8443").unwrap();
        h
    };
    let (mut detailed, mut quiet) = (
        Engine::new(&rs, host()).unwrap(),
        Engine::new(&rs, host()).unwrap(),
    );
    let mut pkts = Vec::new();
    for i in 0..400u32 {
        let t = f64::from(i) * 0.01;
        let c = 20 + i % 5;
        let line = match i % 10 {
            0 => format!("IN=eth0 OUT= {MAC} SRC=10.137.0.{c} DST=10.137.0.2 LEN=60 TTL=64 PROTO=TCP SPT={} DPT=8443 WINDOW=64240 SYN", 40000 + i),
            1 => format!("IN= OUT=eth0 SRC=10.137.0.2 DST=10.137.0.1 LEN=61 TTL=64 PROTO=UDP SPT={} DPT=53 LEN=41", 1024 + i),
            2 => format!("IN=eth0 OUT= {MAC} SRC=203.0.113.{c} DST=10.137.0.2 LEN=44 TTL=50 PROTO=TCP SPT=61000 DPT={} WINDOW=1024 SYN", 1 + i % 200),
            3 => format!("IN=eth0 OUT= {MAC} SRC=198.51.100.{c} DST=10.137.0.2 LEN=60 TTL=50 PROTO=TCP SPT={} DPT=22 WINDOW=64240 SYN", 30000 + i),
            4 => format!("IN=eth0 OUT= {MAC} SRC=10.137.0.9 DST=10.137.0.2 LEN=40 TTL=64 PROTO=UDP SPT=5353 DPT={} LEN=20", 100 + i),
            5 => format!("IN=eth0 OUT= {MAC} SRC=10.137.0.16 DST=10.137.0.2 LEN=84 TTL=64 PROTO=ICMP TYPE=8 CODE=0 ID={i} SEQ=1"),
            6 => format!("IN=eth0 OUT= {MAC} SRC=10.137.0.16 DST=10.137.0.2 LEN=60 TTL=64 PROTO=TCP SPT={} DPT=22 WINDOW=64240 SYN", 50000 + i / 10),
            7 => format!("IN=eth0 OUT= {MAC} SRC=10.137.0.16 DST=10.137.0.2 LEN=52 TTL=64 PROTO=TCP SPT={} DPT=22 WINDOW=502 ACK", 50000 + i / 10),
            8 => format!("IN= OUT=eth0 SRC=10.137.0.2 DST=10.137.0.{c} LEN=1500 TTL=64 PROTO=TCP SPT=8443 DPT={} WINDOW=502 ACK PSH", 40000 + i - 8),
            _ => format!("IN=eth0 OUT= {MAC} SRC=10.137.0.{c} DST=10.137.0.2 LEN=52 TTL=64 PROTO=TCP SPT={} DPT=8443 WINDOW=502 ACK FIN", 40000 + i - 9),
        };
        pkts.push(Packet::parse_line(&format!("[ {t:.6}] {line}")).unwrap());
    }
    let (mut logs, mut quiet_logs) = (String::new(), String::new());
    for p in &pkts {
        let o = detailed.process(p);
        o.all_logs(&mut logs);
        assert_eq!(quiet.process_quiet(p, &mut quiet_logs), o.verdict);
    }
    assert!(logs.lines().count() > 100);
    assert_eq!(logs, quiet_logs);
    let saved = |e: &Engine| {
        let mut copy = rs.clone();
        e.add_counters_to(&mut copy);
        ironwall_model::save::save(&copy, None, true, "", "")
    };
    assert_eq!(saved(&detailed), saved(&quiet));
    assert_eq!(detailed.ct.conns().count(), quiet.ct.conns().count());
}
