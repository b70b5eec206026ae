//! Helpers shared by the live differential tests (`live_kernel.rs`,
//! `live_stateful.rs`).

pub mod trace;

use ironwall_engine::packet::{LogFlags, Packet};
use ironwall_engine::wire;
use ironwall_model::addr::Family;
use ironwall_model::restore::{restore, RestoreOpts};
use ironwall_model::ruleset::Ruleset;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

/// Every field a log line can show.
pub const ALL: LogFlags = LogFlags {
    tcp_seq: true,
    tcp_opt: true,
    ip_opt: true,
    uid: false,
};

/// With `IRONWALL_LAB_DUMP=NAME` set, writes a run that disagreed as a
/// new regression case `tests/corpus/cases/NAME.case`: its ruleset (the
/// test's log `prefix` taken out), the lab server's interfaces and the
/// `host` lines, and every packet the engine was fed, with its time (a
/// wrong checksum as `badsum`). Trim it to the packets that matter, then
/// record it from the kernel (see the engine README).
pub fn dump_case(what: &str, rules: &str, prefix: &str, host: &[String], packets: &[Packet]) {
    let Some(name) = std::env::var_os("IRONWALL_LAB_DUMP") else {
        return;
    };
    let mut lines: Vec<String> = ironwall_lab::topo::server_ifaces()
        .iter()
        .map(|i| format!("iface {i}"))
        .collect();
    lines.extend(host.iter().cloned());
    let packets: Vec<String> = packets
        .iter()
        .map(|p| {
            let sum = if p.bad_checksum { "badsum " } else { "" };
            let time = p.time.map_or(String::new(), |t| format!("[{t:.6}] "));
            format!("{sum}{time}{}", p.log_line(ALL).trim_end())
        })
        .collect();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/cases");
    let about = format!("Dumped by {what}; trim, then record (IRONWALL_LAB_RECORD=1).");
    match ironwall_lab::corpus::dump(
        &dir,
        &name.to_string_lossy(),
        &about,
        &rules.replace(prefix, ""),
        &lines,
        &packets,
    ) {
        Ok(path) => eprintln!("{what}: wrote {}", path.display()),
        Err(e) => eprintln!("{what}: could not write the case: {e}"),
    }
}

/// Prints the `what` (LOG lines, paths) only one side has; returns how
/// many there are.
pub fn multiset_diff(what: &str, ours: &[String], kernel: &[String]) -> usize {
    let mut only_kernel: Vec<&String> = kernel.iter().collect();
    let mut only_ours = Vec::new();
    for l in ours {
        match only_kernel.iter().position(|k| *k == l) {
            Some(i) => {
                only_kernel.swap_remove(i);
            }
            None => only_ours.push(l),
        }
    }
    for l in &only_ours {
        eprintln!("{what} only ironwall has: {l:?}");
    }
    for l in &only_kernel {
        eprintln!("{what} only the kernel has: {l:?}");
    }
    only_ours.len() + only_kernel.len()
}

/// The model of a ruleset text (`counters`: with its `[p:b]` counters).
pub fn model(rules: &str, counters: bool) -> Ruleset {
    let mut rs = Ruleset::new(Family::V4);
    let opts = RestoreOpts {
        counters,
        ..RestoreOpts::default()
    };
    restore(&mut rs, rules, &opts, &[]).expect("our model loads the ruleset");
    rs
}

/// A real TCP connection from a socket made in `client` to `addr`, where
/// `listener` listens: handshake, `hello` one way and `world` back, then
/// the client closes, then the server; waits a little for the last
/// segments. Returns the client's port.
pub fn talk(client: &ironwall_lab::Netns, listener: &TcpListener, addr: SocketAddr) -> u16 {
    let mut conn = client
        .enter(|| TcpStream::connect_timeout(&addr, Duration::from_secs(2)))
        .expect("enter the client's namespace")
        .expect("connect");
    let (mut srv, peer) = listener.accept().expect("accept");
    for s in [&conn, &srv] {
        s.set_read_timeout(Some(Duration::from_secs(2)))
            .expect("timeout");
    }
    conn.write_all(b"hello").expect("write");
    let mut buf = [0u8; 5];
    srv.read_exact(&mut buf).expect("server read");
    srv.write_all(b"world").expect("write back");
    conn.read_exact(&mut buf).expect("client read");
    drop(conn);
    let mut rest = Vec::new();
    let _ = srv.read_to_end(&mut rest);
    drop(srv);
    std::thread::sleep(Duration::from_millis(50));
    peer.port()
}

/// The packets the kernel reassembles from the fragments received (each
/// with its Ethernet frame), in the order their last fragments came,
/// each with the last one's interface, MAC and time: fragments of one
/// packet share source, destination, ID and protocol.
pub fn reassembled(frags: &[(Packet, Vec<u8>)]) -> Vec<Packet> {
    let mut groups: Vec<Vec<&(Packet, Vec<u8>)>> = Vec::new();
    for f in frags {
        let same = |g: &Vec<&(Packet, Vec<u8>)>| {
            let p = &g[0].0;
            (p.src, p.dst, p.id, p.transport.proto())
                == (f.0.src, f.0.dst, f.0.id, f.0.transport.proto())
        };
        match groups.iter_mut().find(|g| same(g)) {
            Some(g) => g.push(f),
            None => groups.push(vec![f]),
        }
    }
    let mut out = Vec::new();
    for g in groups {
        let ips: Vec<&[u8]> = g.iter().map(|(_, frame)| &frame[14..]).collect();
        if let Some(whole) = wire::reassemble(&ips) {
            let mut p = wire::from_ipv4(&whole).expect("a reassembled packet parses");
            let last = &g[g.len() - 1].0;
            p.iface_in.clone_from(&last.iface_in);
            p.mac.clone_from(&last.mac);
            p.time = last.time;
            out.push(p);
        }
    }
    out
}
