//! `ironwall trace` and `ironwall simulate`: a thin shell over
//! `ironwall_engine`.

use crate::store;
use anyhow::{anyhow, Context, Result};
use ironwall_engine::host::Host;
use ironwall_engine::netfilter::{Engine, Outcome};
use ironwall_engine::walk::Verdict;
use ironwall_engine::wire::{read_pcap, PcapRecord};
use ironwall_engine::Packet;
use ironwall_model::save;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::PathBuf;

/// The options both subcommands share, and their positional words.
struct Opts {
    rules: Option<PathBuf>,
    host: Host,
    json: bool,
    log: Option<PathBuf>,
    verdicts: Option<PathBuf>,
    rest: Vec<String>,
}

fn parse(args: Vec<String>) -> Result<Opts> {
    let mut o = Opts {
        rules: None,
        host: Host::default(),
        json: false,
        log: None,
        verdicts: None,
        rest: Vec::new(),
    };
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        let (name, inline) = match a.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        let mut value = |n: &str| {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| anyhow!("{n} needs a value"))
        };
        match name.as_str() {
            "--rules" => o.rules = Some(value("--rules")?.into()),
            "--log" => o.log = Some(value("--log")?.into()),
            "--verdicts" => o.verdicts = Some(value("--verdicts")?.into()),
            "--json" => o.json = true,
            "--iface" | "--listen" | "--sysctl" | "--join" | "--sets" => {
                let v = value(&name)?;
                o.host.option(&name, &v).map_err(|e| anyhow!(e))?;
            }
            "--host" => {
                let f = value("--host")?;
                let text = std::fs::read_to_string(&f).with_context(|| format!("reading {f}"))?;
                o.host.parse_file(&text).map_err(|e| anyhow!("{f}: {e}"))?;
            }
            _ if a.starts_with("--") => return Err(anyhow!("unknown option `{a}'")),
            _ => o.rest.push(a),
        }
    }
    Ok(o)
}

fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Accept => "ACCEPT",
        Verdict::Drop => "DROP",
        Verdict::Queue => "QUEUE",
    }
}

fn json_str(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn human(e: &Engine, o: &Outcome, indent: &str, out: &mut String) {
    for t in &o.timers {
        let _ = writeln!(out, "{indent}sent first by the host's timers:");
        human(e, t, &format!("{indent}  "), out);
    }
    let line = o.packet.log_line(Default::default());
    let _ = writeln!(out, "{indent}packet: {}", line.trim_end());
    let _ = writeln!(out, "{indent}  conntrack: {}", o.ct.name());
    for w in &o.walks {
        let _ = writeln!(out, "{indent}  {} {}: {}", w.table, w.chain, w.arrows());
        for s in &w.steps {
            let what = if s.rule == 0 {
                format!("{} {}", s.chain, s.action)
            } else {
                format!("{} #{} {}", s.chain, s.rule, s.action)
            };
            let _ = writeln!(out, "{indent}    {what}: {}", e.rule_text(w.table, s));
        }
    }
    for n in &o.nat {
        let _ = writeln!(out, "{indent}  nat: {n}");
    }
    for l in &o.logs {
        let _ = writeln!(out, "{indent}  log: {}", l.trim_end());
    }
    if let Some(d) = o.dropped_by {
        let _ = writeln!(out, "{indent}  dropped by {d}");
    }
    let _ = writeln!(out, "{indent}  verdict: {}", verdict_name(o.verdict));
    if let Some(r) = &o.reply {
        let _ = writeln!(out, "{indent}  reply:");
        human(e, r, &format!("{indent}    "), out);
    }
}

fn json(e: &Engine, o: &Outcome) -> String {
    let walks: Vec<String> = o
        .walks
        .iter()
        .map(|w| {
            let steps: Vec<String> = w
                .steps
                .iter()
                .map(|s| {
                    format!(
                        "{{\"chain\":{},\"rule\":{},\"action\":{},\"text\":{}}}",
                        json_str(&s.chain),
                        s.rule,
                        json_str(&s.action),
                        json_str(&e.rule_text(w.table, s))
                    )
                })
                .collect();
            format!(
                "{{\"table\":{},\"chain\":{},\"verdict\":{},\"path\":{},\"steps\":[{}]}}",
                json_str(w.table),
                json_str(w.chain),
                json_str(verdict_name(w.verdict)),
                json_str(&w.arrows()),
                steps.join(",")
            )
        })
        .collect();
    let list = |v: &[String]| v.iter().map(|s| json_str(s)).collect::<Vec<_>>().join(",");
    format!(
        "{{\"packet\":{},\"timers\":[{}],\"ct\":{},\"walks\":[{}],\"nat\":[{}],\"logs\":[{}],\"dropped_by\":{},\"verdict\":{},\"reply\":{}}}",
        json_str(o.packet.log_line(Default::default()).trim_end()),
        o.timers.iter().map(|t| json(e, t)).collect::<Vec<_>>().join(","),
        json_str(o.ct.name()),
        walks.join(","),
        list(&o.nat),
        list(&o.logs),
        o.dropped_by.map_or("null".into(), json_str),
        json_str(verdict_name(o.verdict)),
        o.reply.as_ref().map_or("null".into(), |r| json(e, r))
    )
}

fn packets<'a>(lines: impl Iterator<Item = &'a str>) -> Result<Vec<Packet>> {
    lines
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| Packet::parse_line(l).map_err(|e| anyhow!("packet {}: {e}", n + 1)))
        .collect()
}

fn trace(o: Opts) -> Result<String> {
    let rules = o
        .rules
        .ok_or_else(|| anyhow!("trace: --rules FILE is required"))?;
    let rs = store::load(&rules, &o.host.sets.names())?;
    let mut e = Engine::new(&rs, o.host).map_err(|x| anyhow!("{x}"))?;
    let pkts = packets(o.rest.iter().map(String::as_str))?;
    let mut out = String::new();
    for p in &pkts {
        let oc = e.process(p);
        if o.json {
            out.push_str(&json(&e, &oc));
            out.push('\n');
        } else {
            human(&e, &oc, "", &mut out);
        }
    }
    Ok(out)
}

/// pcap frames as packets: one from a host address leaves by the first
/// interface (`eth0` without one), any other arrives on it.
fn pcap_packets(records: Vec<PcapRecord>, host: &Host) -> Vec<Packet> {
    let iface = host.ifaces.first().map_or("eth0", |i| i.name.as_str());
    records
        .into_iter()
        .filter_map(|r| {
            let mut p = r.ok()?;
            if host.is_own(p.src) {
                p.iface_out = iface.to_string();
            } else {
                p.iface_in = iface.to_string();
            }
            Some(p)
        })
        .collect()
}

fn simulate(o: Opts) -> Result<String> {
    let rules = o
        .rules
        .ok_or_else(|| anyhow!("simulate: --rules FILE is required"))?;
    let mut rs = store::load(&rules, &o.host.sets.names())?;
    let input = match o.rest.as_slice() {
        [] => {
            let mut s = Vec::new();
            std::io::stdin().read_to_end(&mut s)?;
            s
        }
        [f] => std::fs::read(f).with_context(|| format!("reading {f}"))?,
        _ => return Err(anyhow!("simulate: one INPUT at most")),
    };
    let pkts = match read_pcap(&input) {
        Ok(records) => pcap_packets(records, &o.host),
        Err(_) => packets(
            std::str::from_utf8(&input)
                .map_err(|_| anyhow!("simulate: INPUT is neither text nor pcap"))?
                .lines(),
        )?,
    };
    let (mut logs, mut verdicts) = (String::new(), String::new());
    let engine_rs = rs.clone();
    let mut e = Engine::new(&engine_rs, o.host).map_err(|x| anyhow!("{x}"))?;
    // The replay keeps no trace: LOG lines and verdicts only.
    let mut written = String::new();
    for p in &pkts {
        let verdict = e.process_quiet(p, &mut written);
        for l in written.lines() {
            let _ = writeln!(logs, "{}", l.trim_end());
        }
        written.clear();
        let _ = writeln!(verdicts, "{}", verdict_name(verdict));
    }
    e.add_counters_to(&mut rs);
    if let Some(f) = &o.log {
        std::fs::File::create(f)?.write_all(logs.as_bytes())?;
    }
    if let Some(f) = &o.verdicts {
        std::fs::File::create(f)?.write_all(verdicts.as_bytes())?;
    }
    Ok(save::save(
        &rs,
        None,
        true,
        "iptables-save",
        &store::ctime_now(),
    ))
}

/// Runs `trace` or `simulate`; returns the exit code.
pub fn run(sub: &str, args: Vec<String>) -> i32 {
    let result = parse(args).and_then(|o| {
        if sub == "trace" {
            trace(o)
        } else {
            simulate(o)
        }
    });
    match result {
        Ok(text) => {
            print!("{text}");
            0
        }
        Err(e) => {
            eprintln!("ironwall {sub}: {e:#}");
            2
        }
    }
}
