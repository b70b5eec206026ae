//! Replay speed: packets per second through the whole engine (every hook,
//! conntrack, counters, LOG lines, host answers) and, beside it, a plain
//! rule-by-rule walk of filter INPUT, for the guide's ruleset and the
//! 5,556-rule real-world one. `cargo bench -p ironwall-engine --bench
//! replay`; the stream is mostly packets of established flows with new
//! connections and dropped probes mixed in. Packets are parsed before the
//! clock starts.

use ironwall_engine::eval::Ctx;
use ironwall_engine::host::Host;
use ironwall_engine::netfilter::Engine;
use ironwall_engine::walk::Compiled;
use ironwall_engine::Packet;
use ironwall_model::addr::Family;
use ironwall_model::ruleset::Ruleset;
use std::hint::black_box;
use std::time::Instant;

const N: usize = 200_000;

fn stream() -> Vec<Packet> {
    let mut v = Vec::with_capacity(N + 1);
    let line = |s: String| Packet::parse_line(&s).expect("bench packet");
    v.push(line("[ 1.0] IN=eth0 OUT= SRC=10.137.0.16 DST=10.137.0.2 LEN=60 TTL=64 PROTO=TCP SPT=56296 DPT=22 WINDOW=64240 SYN".into()));
    for i in 0..N {
        let t = 1.0 + i as f64 * 1e-5;
        let s = match i % 10 {
            0 => format!("[ {t:.6}] IN=eth0 OUT= SRC=10.137.0.14 DST=10.137.0.2 LEN=60 TTL=64 PROTO=TCP SPT={} DPT=8444 WINDOW=64240 SYN", 1024 + i % 60000),
            1 => format!("[ {t:.6}] IN= OUT=eth0 SRC=10.137.0.2 DST=10.137.0.1 LEN=61 TTL=64 PROTO=UDP SPT={} DPT=53 LEN=41", 1024 + i % 60000),
            _ => format!("[ {t:.6}] IN=eth0 OUT= SRC=10.137.0.16 DST=10.137.0.2 LEN=52 TTL=64 PROTO=TCP SPT=56296 DPT=22 WINDOW=502 ACK"),
        };
        v.push(line(s));
    }
    v
}

fn load(path: &std::path::Path) -> Option<Ruleset> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut rs = Ruleset::new(Family::V4);
    ironwall_model::restore::restore(&mut rs, &text, &Default::default(), &[]).ok()?;
    Some(rs)
}

fn main() {
    let Some(dir) = ironwall_lab::shared("replay bench") else {
        return;
    };
    let pkts = stream();
    for (name, file) in [
        ("guide", "golden/ruleset.save"),
        (
            "tum_i8 (5,556 rules)",
            "rulesets/net-network/tum_i8_2016-06-27.macfixed.save",
        ),
    ] {
        let Some(rs) = load(&dir.join(file)) else {
            println!("{name}: does not load");
            continue;
        };
        let mut host = Host::default();
        host.option("--iface", "eth0=10.137.0.2/24").expect("iface");
        host.option("--listen", "tcp/22").expect("listen");
        let mut engine = match Engine::new(&rs, host) {
            Ok(e) => e,
            Err(e) => {
                println!("{name}: {e}");
                continue;
            }
        };
        let mut logs = String::new();
        let start = Instant::now();
        for p in &pkts {
            black_box(engine.process_quiet(p, &mut logs));
            logs.clear();
        }
        let full = pkts.len() as f64 / start.elapsed().as_secs_f64();
        let Some(filter) = rs.table("filter") else {
            continue;
        };
        let Ok(mut plain) = Compiled::new(filter) else {
            continue;
        };
        let cx = Ctx::default();
        let start = Instant::now();
        for p in &pkts {
            black_box(plain.walk("INPUT", p, &cx));
        }
        let walk = pkts.len() as f64 / start.elapsed().as_secs_f64();
        println!(
            "{name}: engine {full:.0} packets/s, plain walk of filter INPUT {walk:.0} packets/s"
        );
    }
}
