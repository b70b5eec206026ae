//! `ironwall trace` and `ironwall simulate`: a thin shell over
//! `ironwall_engine`.

use crate::store;
use anyhow::{anyhow, Context, Result};
use ironwall_engine::host::Host;
use ironwall_engine::netfilter::{Engine, Outcome};
use ironwall_engine::walk::Verdict;
use ironwall_engine::wire::{pcap_magic, read_pcap};
use ironwall_engine::Packet;
use ironwall_model::addr::Family;
use ironwall_model::ext::set::IpSet;
use ironwall_model::ruleset::Ruleset;
use ironwall_model::save;
use serde::Serialize;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;

/// The host options both subcommands take (`Host::option`): host files
/// first, then the single options, which may override them.
#[derive(clap::Args)]
pub struct HostArgs {
    /// The rules file (iptables-save format).
    #[arg(long, value_name = "FILE")]
    rules: PathBuf,
    /// An interface of the host and its address (repeatable; the first is
    /// the one pcap frames use).
    #[arg(long, value_name = "NAME=ADDR/PREFIX")]
    iface: Vec<String>,
    /// Listening sockets, e.g. tcp/22,udp/53 (repeatable).
    #[arg(long, value_name = "PROTO/PORT,...")]
    listen: Vec<String>,
    /// A kernel setting the engine models, e.g. net.ipv4.icmp_ratelimit=0
    /// (repeatable).
    #[arg(long, value_name = "KEY=VALUE")]
    sysctl: Vec<String>,
    /// A multicast group a socket joined, on one interface or all
    /// (repeatable).
    #[arg(long, value_name = "[IFACE=]GROUP")]
    join: Vec<String>,
    /// The host's ipsets: what `ipset save` writes.
    #[arg(long, value_name = "FILE")]
    sets: Option<PathBuf>,
    /// A file of host options, one `--option value` a line (repeatable).
    #[arg(long, value_name = "FILE")]
    host: Vec<PathBuf>,
}

impl HostArgs {
    /// The host, and the ruleset read from `--rules` with the host's sets
    /// known (the engine takes IPv4 sets only, so no family check is left
    /// to make).
    fn load(&self) -> Result<(Ruleset, Host)> {
        let host = self.host()?;
        let sets: Vec<IpSet> = host
            .sets
            .names()
            .iter()
            .map(|n| IpSet::new(n, None))
            .collect();
        let rules = store::load(&self.rules, &sets, Family::V4)
            .context("trace and simulate take IPv4 rules (an iptables-save text)")?;
        Ok((rules, host))
    }

    fn host(&self) -> Result<Host> {
        let mut host = Host::default();
        for f in &self.host {
            let text =
                std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
            host.parse_file(&text)
                .map_err(|e| anyhow!("{}: {e}", f.display()))?;
        }
        let sets: Vec<String> = self.sets.iter().map(|p| p.display().to_string()).collect();
        for (name, values) in [
            ("--iface", &self.iface),
            ("--listen", &self.listen),
            ("--sysctl", &self.sysctl),
            ("--join", &self.join),
            ("--sets", &sets),
        ] {
            for v in values {
                host.option(name, v).map_err(|e| anyhow!(e))?;
            }
        }
        Ok(host)
    }
}

/// `ironwall trace`.
#[derive(clap::Args)]
pub struct TraceArgs {
    #[command(flatten)]
    host: HostArgs,
    /// One JSON object a packet instead of the arrow listing.
    #[arg(long)]
    json: bool,
    /// Packets, one LOG-syntax line each.
    #[arg(required = true, value_name = "PACKET")]
    packets: Vec<String>,
}

/// `ironwall simulate`.
#[derive(clap::Args)]
pub struct SimulateArgs {
    #[command(flatten)]
    host: HostArgs,
    /// Write the LOG lines here.
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
    /// Write one verdict a packet here.
    #[arg(long, value_name = "FILE")]
    verdicts: Option<PathBuf>,
    /// LOG-syntax lines or a pcap file (standard input without it).
    #[arg(value_name = "INPUT")]
    input: Option<PathBuf>,
}

fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Accept => "ACCEPT",
        Verdict::Drop => "DROP",
        Verdict::Queue => "QUEUE",
    }
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

/// `trace --json`: one object a packet, its answer nested in `reply`.
#[derive(Serialize)]
struct JsonOutcome {
    packet: String,
    /// What the host's timers sent first.
    timers: Vec<JsonOutcome>,
    ct: &'static str,
    walks: Vec<JsonWalk>,
    nat: Vec<String>,
    logs: Vec<String>,
    dropped_by: Option<&'static str>,
    verdict: &'static str,
    reply: Option<Box<JsonOutcome>>,
}

#[derive(Serialize)]
struct JsonWalk {
    table: &'static str,
    chain: &'static str,
    verdict: &'static str,
    path: String,
    steps: Vec<JsonStep>,
    /// The events iptables TRACE would print for this walk.
    trace: Vec<String>,
}

#[derive(Serialize)]
struct JsonStep {
    chain: String,
    rule: usize,
    action: String,
    text: String,
}

fn json(e: &Engine, o: &Outcome) -> JsonOutcome {
    JsonOutcome {
        packet: o.packet.log_line(Default::default()).trim_end().to_string(),
        timers: o.timers.iter().map(|t| json(e, t)).collect(),
        ct: o.ct.name(),
        walks: o
            .walks
            .iter()
            .map(|w| JsonWalk {
                table: w.table,
                chain: w.chain,
                verdict: verdict_name(w.verdict),
                path: w.arrows(),
                steps: w
                    .steps
                    .iter()
                    .map(|s| JsonStep {
                        chain: s.chain.to_string(),
                        rule: s.rule,
                        action: s.action.to_string(),
                        text: e.rule_text(w.table, s),
                    })
                    .collect(),
                trace: w.trace_events(),
            })
            .collect(),
        nat: o.nat.clone(),
        logs: o.logs.clone(),
        dropped_by: o.dropped_by,
        verdict: verdict_name(o.verdict),
        reply: o.reply.as_ref().map(|r| Box::new(json(e, r))),
    }
}

fn packets<'a>(lines: impl Iterator<Item = &'a str>) -> Result<Vec<Packet>> {
    lines
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| Packet::parse_line(l).map_err(|e| anyhow!("packet {}: {e}", n + 1)))
        .collect()
}

/// `ironwall trace`: each packet's outcome, as arrows or JSON.
pub fn trace(a: TraceArgs) -> Result<String> {
    let (rs, host) = a.host.load()?;
    let mut e = Engine::new(&rs, host).map_err(|x| anyhow!("{x}"))?;
    let pkts = packets(a.packets.iter().map(String::as_str))?;
    let mut out = String::new();
    for p in &pkts {
        let oc = e.process(p);
        if a.json {
            out.push_str(&serde_json::to_string(&json(&e, &oc))?);
            out.push('\n');
        } else {
            human(&e, &oc, "", &mut out);
        }
    }
    Ok(out)
}

/// A pcap frame as a packet: one from a host address leaves by the first
/// interface (`eth0` without one), any other arrives on it.
fn pcap_packet(mut p: Packet, host: &Host) -> Packet {
    let iface = host.ifaces.first().map_or("eth0", |i| i.name.as_str());
    if host.is_own(p.src) {
        p.iface_out = iface.to_string();
    } else {
        p.iface_in = iface.to_string();
    }
    p
}

/// `ironwall simulate`: the ruleset, `iptables-save -c` style, with the
/// replay's counters added. The input streams through the engine a line
/// at a time (a pcap file is read whole); `--log` and `--verdicts` are
/// written beside their targets and put in place only when the whole
/// replay succeeded.
pub fn simulate(a: SimulateArgs) -> Result<String> {
    let (mut rs, host) = a.host.load()?;
    let name = a
        .input
        .as_ref()
        .map_or_else(|| "<stdin>".to_string(), |f| f.display().to_string());
    let mut input: Box<dyn BufRead> = match &a.input {
        None => Box::new(std::io::stdin().lock()),
        Some(f) => Box::new(BufReader::new(
            File::open(f).with_context(|| format!("reading {name}"))?,
        )),
    };
    let mut head = Vec::new();
    (&mut input).take(4).read_to_end(&mut head)?;
    let mut input = std::io::Cursor::new(head).chain(input);
    let mut logs = a.log.as_deref().map(store::Staged::create).transpose()?;
    let mut verdicts = a
        .verdicts
        .as_deref()
        .map(store::Staged::create)
        .transpose()?;
    let engine_rs = rs.clone();
    let mut e = Engine::new(&engine_rs, host.clone()).map_err(|x| anyhow!("{x}"))?;
    // The replay keeps no trace: LOG lines and verdicts only.
    let mut written = String::new();
    let mut replay = |p: &Packet| -> Result<()> {
        let verdict = e.process_quiet(p, &mut written);
        if let Some(f) = &mut logs {
            for l in written.lines() {
                writeln!(f, "{}", l.trim_end())?;
            }
        }
        written.clear();
        if let Some(f) = &mut verdicts {
            writeln!(f, "{}", verdict_name(verdict))?;
        }
        Ok(())
    };
    if pcap_magic(input.get_ref().0.get_ref()).is_some() {
        let mut data = Vec::new();
        input.read_to_end(&mut data)?;
        let records = read_pcap(&data).map_err(|x| anyhow!("{name}: {x}"))?;
        let (mut skipped, mut first) = (0, None);
        for (n, r) in records.into_iter().enumerate() {
            match r {
                Ok(p) => replay(&pcap_packet(p, &host))?,
                Err(x) => {
                    skipped += 1;
                    first.get_or_insert(format!("frame {}: {x}", n + 1));
                }
            }
        }
        if let Some(first) = first {
            eprintln!(
                "ironwall simulate: {name}: skipped {skipped} frame(s) that are not IPv4 packets ({first})"
            );
        }
    } else {
        let mut line = Vec::new();
        for n in 1.. {
            line.clear();
            if input.read_until(b'\n', &mut line)? == 0 {
                break;
            }
            let text = std::str::from_utf8(&line)
                .map_err(|_| anyhow!("{name}:{n}: not UTF-8 text (nor a pcap file)"))?;
            if !text.trim().is_empty() {
                replay(&Packet::parse_line(text).map_err(|x| anyhow!("{name}:{n}: {x}"))?)?;
            }
        }
    }
    e.add_counters_to(&mut rs);
    for f in [logs, verdicts].into_iter().flatten() {
        f.commit()?;
    }
    Ok(save::save(
        &rs,
        None,
        true,
        "iptables-save",
        &store::ctime_now(),
    ))
}

/// Runs `trace` or `simulate`, printing what it returns; the exit code.
pub fn run(sub: &str, job: impl FnOnce() -> Result<String>) -> i32 {
    match job() {
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
