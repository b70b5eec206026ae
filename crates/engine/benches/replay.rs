//! Replay speed (the target: 5 million packets per second per
//! core through the guide's ruleset): packets per second through the whole
//! engine ([`Engine::process_quiet`]: every hook, conntrack, NAT, counters,
//! the host's answers, LOG lines written to a buffered file) and, beside
//! it, a plain rule-by-rule walk of the same ruleset's filter table
//! (INPUT or OUTPUT by the packet's direction, no conntrack), for the
//! guide's ruleset and the 5,556-rule real-world one, in one run.
//! `cargo bench -p ironwall-engine --bench replay`.
//!
//! The stream is a busy host's (10.137.0.2 on eth0, serving 22 and 8443):
//! mostly packets of established flows both ways (clients of the web UI,
//! the trusted ssh client, the host's own https and DNS), with new
//! connections (web UI clients completing their handshakes, DNS queries)
//! and dropped probes (closed ports, strangers knocking on ssh, which the
//! guide logs) mixed in.
//! Packets are parsed before the clock starts; each ruleset gets the best
//! of three runs, each with a fresh engine.

use ironwall_engine::eval::Ctx;
use ironwall_engine::host::Host;
use ironwall_engine::netfilter::Engine;
use ironwall_engine::walk::{Compiled, Record};
use ironwall_engine::Packet;
use ironwall_model::addr::Family;
use ironwall_model::ruleset::Ruleset;
use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::time::Instant;

/// Packets in the stream.
const N: usize = 300_000;
/// Established flows kept busy: web UI clients.
const FLOWS: usize = 64;
/// The target, packets per second.
const TARGET: f64 = 5e6;

/// What the stream holds, by kind.
#[derive(Default)]
struct Mix {
    established: usize,
    new: usize,
    probes: usize,
}

/// A client of the web UI: address and port.
fn client(i: usize) -> (String, usize) {
    (format!("10.137.0.{}", 20 + i % 200), 40000 + i)
}

fn stream() -> (Vec<Packet>, Mix) {
    let mut lines = Vec::with_capacity(N + 3 * FLOWS);
    let mut mix = Mix::default();
    let mut t = 1.0f64;
    let mut at = |s: String, lines: &mut Vec<String>| {
        t += 1e-5;
        lines.push(format!("[ {t:.6}] {s}"));
    };
    let inbound = "IN=eth0 OUT= MAC=00:16:3e:5e:6c:00:fe:ff:ff:ff:ff:ff:08:00";
    let host = "SRC=10.137.0.2";
    // The flows open: SYN in (the host answers with its SYN-ACK), ACK in;
    // the trusted ssh client; the host's https connection.
    for i in 0..FLOWS {
        let (c, port) = client(i);
        for flags in ["SYN", "ACK"] {
            at(format!("{inbound} SRC={c} DST=10.137.0.2 LEN=52 TTL=64 PROTO=TCP SPT={port} DPT=8443 WINDOW=64240 {flags}"), &mut lines);
            mix.new += 1;
        }
    }
    at(format!("{inbound} SRC=10.137.0.16 DST=10.137.0.2 LEN=60 TTL=64 PROTO=TCP SPT=56296 DPT=22 WINDOW=64240 SYN"), &mut lines);
    at(format!("IN= OUT=eth0 {host} DST=93.184.215.14 LEN=60 TTL=64 PROTO=TCP SPT=51000 DPT=443 WINDOW=64240 SYN"), &mut lines);
    at("IN=eth0 OUT= SRC=93.184.215.14 DST=10.137.0.2 LEN=60 TTL=56 PROTO=TCP SPT=443 DPT=51000 WINDOW=65535 ACK SYN".to_string(), &mut lines);
    mix.new += 3;
    for i in 0..N {
        let (c, port) = client(i % FLOWS);
        let s = match i % 20 {
            // New connections: a web UI client (its SYN, and two packets
            // later its ACK of the host's SYN-ACK: a busy host's clients
            // complete their handshakes), a DNS query.
            0 | 2 => {
                mix.new += 1;
                let (c, port) = client(FLOWS + i - i % 20);
                let flags = if i % 20 == 0 { "SYN" } else { "ACK" };
                format!("{inbound} SRC={c} DST=10.137.0.2 LEN=60 TTL=64 PROTO=TCP SPT={} DPT=8443 WINDOW=64240 {flags}", port % 60000)
            }
            10 => {
                mix.new += 1;
                format!("IN= OUT=eth0 {host} DST=10.137.0.1 LEN=61 TTL=64 PROTO=UDP SPT={} DPT=53 LEN=41", 1024 + i % 60000)
            }
            // Dropped probes: a closed port, a stranger at ssh.
            5 => {
                mix.probes += 1;
                format!("{inbound} SRC=203.0.113.{} DST=10.137.0.2 LEN=44 TTL=50 PROTO=TCP SPT=61000 DPT={} WINDOW=1024 SYN", i % 250, 1 + i % 1000)
            }
            15 => {
                mix.probes += 1;
                format!("{inbound} SRC=198.51.100.{} DST=10.137.0.2 LEN=60 TTL=50 PROTO=TCP SPT={} DPT=22 WINDOW=64240 SYN", i % 250, 30000 + i % 30000)
            }
            // Established: the web UI both ways, ssh, https.
            1 | 3 | 6 | 8 | 11 | 13 | 16 | 18 => {
                mix.established += 1;
                format!("IN= OUT=eth0 {host} DST={c} LEN=1500 TTL=64 PROTO=TCP SPT=8443 DPT={port} WINDOW=502 ACK PSH")
            }
            4 => {
                mix.established += 1;
                format!("{inbound} SRC=10.137.0.16 DST=10.137.0.2 LEN=52 TTL=64 PROTO=TCP SPT=56296 DPT=22 WINDOW=502 ACK")
            }
            14 => {
                mix.established += 1;
                "IN=eth0 OUT= SRC=93.184.215.14 DST=10.137.0.2 LEN=1500 TTL=56 PROTO=TCP SPT=443 DPT=51000 WINDOW=502 ACK PSH".to_string()
            }
            _ => {
                mix.established += 1;
                format!("{inbound} SRC={c} DST=10.137.0.2 LEN=52 TTL=64 PROTO=TCP SPT={port} DPT=8443 WINDOW=502 ACK")
            }
        };
        at(s, &mut lines);
    }
    let pkts = lines
        .iter()
        .map(|s| Packet::parse_line(s).expect("bench packet"))
        .collect();
    (pkts, mix)
}

fn load(path: &std::path::Path) -> Option<Ruleset> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut rs = Ruleset::new(Family::V4);
    ironwall_model::restore::restore(&mut rs, &text, &Default::default(), &[]).ok()?;
    Some(rs)
}

fn host() -> Host {
    let mut host = Host::default();
    host.option("--iface", "eth0=10.137.0.2/24").expect("iface");
    host.option("--listen", "tcp/22,tcp/8443").expect("listen");
    host
}

/// One run through a fresh engine: packets per second and LOG lines
/// written.
fn engine_run(
    rs: &Ruleset,
    pkts: &[Packet],
    log: &std::path::Path,
) -> Result<(f64, usize), String> {
    let mut engine = Engine::new(rs, host()).map_err(|e| e.to_string())?;
    let file = std::fs::File::create(log).map_err(|e| e.to_string())?;
    let mut out = BufWriter::with_capacity(1 << 16, file);
    let mut logs = String::new();
    let mut lines = 0;
    let start = Instant::now();
    for p in pkts {
        black_box(engine.process_quiet(p, &mut logs));
        if !logs.is_empty() {
            lines += logs.matches('\n').count();
            out.write_all(logs.as_bytes()).map_err(|e| e.to_string())?;
            logs.clear();
        }
    }
    out.flush().map_err(|e| e.to_string())?;
    Ok((pkts.len() as f64 / start.elapsed().as_secs_f64(), lines))
}

/// One plain walk of the filter table (LOG lines to the same kind of
/// file): packets per second.
fn plain_run(rs: &Ruleset, pkts: &[Packet], log: &std::path::Path) -> Option<f64> {
    let mut plain = Compiled::new(rs.table("filter")?).ok()?;
    let mut out = BufWriter::with_capacity(1 << 16, std::fs::File::create(log).ok()?);
    let mut logs = String::new();
    let cx = Ctx::default();
    let start = Instant::now();
    for p in pkts {
        let chain = if p.iface_in.is_empty() {
            "OUTPUT"
        } else {
            "INPUT"
        };
        black_box(plain.walk_with(chain, p, &cx, Record::Quiet(&mut logs)));
        if !logs.is_empty() {
            out.write_all(logs.as_bytes()).ok()?;
            logs.clear();
        }
    }
    out.flush().ok()?;
    Some(pkts.len() as f64 / start.elapsed().as_secs_f64())
}

fn best(runs: impl Iterator<Item = f64>) -> f64 {
    runs.fold(0.0, f64::max)
}

fn main() {
    let Some(dir) = ironwall_lab::shared("replay bench") else {
        return;
    };
    let (pkts, mix) = stream();
    println!(
        "stream: {} packets ({} of established flows, {} opening connections, {} dropped probes); LOG lines to a buffered file",
        pkts.len(),
        mix.established,
        mix.new,
        mix.probes
    );
    let log = std::env::temp_dir().join(format!("ironwall-replay-{}.log", std::process::id()));
    for (name, file) in [
        ("guide", "golden/ruleset.save"),
        (
            "tum_i8",
            "rulesets/net-network/tum_i8_2016-06-27.macfixed.save",
        ),
    ] {
        let Some(rs) = load(&dir.join(file)) else {
            println!("{name}: does not load");
            continue;
        };
        let rules: usize = rs
            .tables
            .iter()
            .flat_map(|t| &t.chains)
            .map(|c| c.rules.len())
            .sum();
        let mut lines = 0;
        let mut runs = Vec::new();
        for _ in 0..3 {
            match engine_run(&rs, &pkts, &log) {
                Ok((pps, n)) => {
                    runs.push(pps);
                    lines = n;
                }
                Err(e) => println!("{name}: {e}"),
            }
        }
        let full = best(runs.into_iter());
        let walk = best((0..3).filter_map(|_| plain_run(&rs, &pkts, &log)));
        println!(
            "{name} ({rules} rules): engine {:.2} M packets/s ({:.2}x the 5 M target, {lines} LOG lines), plain walk of filter {:.2} M packets/s",
            full / 1e6,
            full / TARGET,
            walk / 1e6
        );
    }
    let _ = std::fs::remove_file(&log);
}
