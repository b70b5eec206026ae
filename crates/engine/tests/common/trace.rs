//! iptables TRACE for the live tests: `xtables-monitor --trace` started
//! in the lab's server, its lines read back as the base-chain runs the
//! kernel traced, and the engine's walks written the same way.
//!
//! An event is `TABLE:CHAIN:N:VERDICT` for the N-th rule of a chain that
//! matched (CONTINUE for a rule without a verdict, RETURN for `-j
//! RETURN`, `JUMP:X`/`GOTO:X`), `TABLE:CHAIN:policy:VERDICT` for a
//! built-in chain's policy; the kernel writes none for the end of a user
//! chain (the engine's side: `netfilter::trace_events`, which `ironwall
//! trace --json` prints). Rule handles are mapped to positions through
//! `nft -a list`.

use ironwall_engine::wire;
use ironwall_engine::Packet;
use ironwall_lab::topo::{Lab, Monitor, RawLink, CLIENT, SERVER_C};
use std::time::Duration;

/// Starts `xtables-monitor --trace` in the server once its tracing rules
/// are loaded, sending probes (echo replies from the trusted client, which
/// the server ignores and conntrack finds INVALID) until the monitor shows
/// one: the monitor subscribes some time after it starts. Call before the
/// ruleset under test is loaded, which starts its counters afresh.
pub fn monitor(lab: &Lab) -> Monitor {
    let monitor = Monitor::trace(&lab.server).expect("xtables-monitor");
    let probe = Packet::parse_line(
        "SRC=10.137.0.16 DST=10.137.0.1 TTL=64 LEN=28 ID=65535 PROTO=ICMP TYPE=0 CODE=0 ID=0 SEQ=0",
    )
    .expect("the probe parses");
    let frame = wire::to_ethernet(&probe, SERVER_C.mac, CLIENT.mac).expect("encode");
    let link = RawLink::open(&lab.client, CLIENT.iface).expect("sender");
    for _ in 0..50 {
        link.send(&frame).expect("send");
        if monitor.saw("ID=65535", Duration::from_millis(100)) {
            // The probes' last events, then a clean start.
            std::thread::sleep(Duration::from_millis(300));
            monitor.clear();
            return monitor;
        }
    }
    panic!("xtables-monitor --trace showed no probe in 5 s");
}

/// Rule handles per table and chain, in rule order.
pub type Handles = Vec<(String, String, Vec<String>)>;

/// The rule handles of the server's `tables` (`nft -a list table ip T`).
pub fn handles(lab: &Lab, tables: &[&str]) -> Handles {
    let mut out: Handles = Vec::new();
    for table in tables {
        let (code, text, err) = ironwall_lab::triple(lab.server.run(
            "nft",
            &["-a", "list", "table", "ip", table],
            None,
        ));
        assert_eq!(code, 0, "nft list table {table}: {err}");
        for line in text.lines().map(str::trim) {
            if let Some(rest) = line.strip_prefix("chain ") {
                let name = rest.split_whitespace().next().unwrap_or("").to_string();
                out.push((table.to_string(), name, Vec::new()));
            } else if let (Some((_, h)), false) =
                (line.rsplit_once("# handle "), line.starts_with("table "))
            {
                if let Some(c) = out.last_mut() {
                    c.2.push(format!("0x{:x}", h.trim().parse::<u64>().unwrap_or(0)));
                }
            }
        }
    }
    out
}

/// One base chain's run as the monitor shows it: the words of the
/// `PACKET:` line the kernel sends with its first event (empty if none
/// came), its table and its events.
#[derive(Debug, Clone, Default)]
pub struct Run {
    pub packet: Vec<String>,
    pub table: String,
    pub events: Vec<String>,
}

impl Run {
    /// The value of a `KEY=` word of the packet line ("?" if absent).
    pub fn field(&self, key: &str) -> &str {
        self.packet
            .iter()
            .find_map(|w| w.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
            .unwrap_or("?")
    }
}

/// The runs of the monitor's `lines`, in order, each with its trace id. A
/// `PACKET:` line starts a run (the kernel sends the packet with the
/// first event of each base chain it walks); trace ids are reused by
/// later packets.
pub fn runs(lines: &[String], handles: &Handles) -> Vec<(String, Run)> {
    let mut runs: Vec<(String, Run)> = Vec::new();
    let mut current: std::collections::HashMap<String, usize> = Default::default();
    for l in lines {
        let words: Vec<&str> = l.split_whitespace().collect();
        match words.as_slice() {
            ["PACKET:", _, id, fields @ ..] => {
                current.insert(id.to_string(), runs.len());
                let packet = fields.iter().map(|w| w.to_string()).collect();
                runs.push((
                    id.to_string(),
                    Run {
                        packet,
                        ..Run::default()
                    },
                ));
            }
            ["TRACE:", _, id, what, ..] => {
                let parts: Vec<&str> = what.split(':').collect();
                let (table, event) = match parts.as_slice() {
                    [table, chain, "rule", handle, verdict @ ..] => {
                        let pos = handles
                            .iter()
                            .find(|(t, c, _)| t == table && c == chain)
                            .and_then(|(_, _, hs)| hs.iter().position(|h| h == handle))
                            .map_or(0, |p| p + 1);
                        let v = verdict.join(":").replace("0xfffffffb", "RETURN");
                        (table, format!("{table}:{chain}:{pos}:{v}"))
                    }
                    [table, chain, "policy", verdict] => {
                        (table, format!("{table}:{chain}:policy:{verdict}"))
                    }
                    [table, chain, "return", ..] => (table, format!("{table}:{chain}:return")),
                    _ => continue,
                };
                let idx = *current.entry(id.to_string()).or_insert_with(|| {
                    runs.push((id.to_string(), Run::default()));
                    runs.len() - 1
                });
                let run = &mut runs[idx].1;
                if run.table.is_empty() {
                    run.table = table.to_string();
                }
                run.events.push(event);
            }
            _ => {}
        }
    }
    runs
}
