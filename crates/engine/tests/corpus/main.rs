//! The regression corpus (`cases/*.case`, format in
//! `ironwall_lab::corpus`): every disagreement with the kernel a live test
//! ever found, as a small case whose expected results were recorded from
//! the real kernel.
//!
//! * `corpus_replays_as_the_kernel_recorded` (no root): each case's packets
//!   through one `netfilter::Engine` (the replay `ironwall simulate` does);
//!   every counter (`iptables-save -c`), every LOG line, every answer the
//!   host sent and every packet's path (TRACE, `common/traversal.rs`)
//!   must be what the kernel did.
//! * `corpus_still_matches_the_kernel` (root, CI): each case in the lab's
//!   server (its ruleset loaded by the real iptables-restore, its sysctls
//!   and listening sockets, its packets sent at their times: arriving ones
//!   as frames on the `IN=` interface, sent ones from a raw socket of the
//!   server); the kernel's counters and LOG lines must still be the
//!   recorded ones (the answers: every frame the server sent but the
//!   case's own packets it sent or forwarded). With `IRONWALL_LAB_RECORD=1` it writes
//!   them into the case instead (the only way they are written).

#[path = "../common/trace.rs"]
mod trace;
#[path = "../common/traversal.rs"]
mod traversal;

use ironwall_engine::host::Host;
use ironwall_engine::netfilter::{Engine, Outcome};
use ironwall_engine::walk::Verdict;
use ironwall_engine::wire::{self, Corrupt};
use ironwall_engine::Packet;
use ironwall_lab::corpus::{answer_line, case_files, save_counters, Case};
use ironwall_lab::kmsg::{log_guard, unique_prefix, Kmsg};
use ironwall_lab::topo::{
    server_ifaces, Controls, Lab, RawLink, CLIENT, PACKET_OUTGOING, SERVER_C, SERVER_S, STRANGER,
};
use ironwall_model::addr::Family;
use ironwall_model::restore::{restore, RestoreOpts};
use ironwall_model::ruleset::Ruleset;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/cases")
}

/// Every case file (those whose name holds `IRONWALL_CORPUS_CASE`, if
/// set) with its name for messages, read and parsed.
fn cases() -> Vec<(String, Result<Case, String>)> {
    let files = case_files(&corpus_dir()).expect("the corpus directory");
    assert!(!files.is_empty(), "no cases in {}", corpus_dir().display());
    let only = std::env::var("IRONWALL_CORPUS_CASE").unwrap_or_default();
    files
        .into_iter()
        .filter(|f| f.to_string_lossy().contains(&only))
        .map(|f| {
            let name = f
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let case = std::fs::read_to_string(&f)
                .map_err(|e| format!("{name}: {e}"))
                .and_then(|t| Case::parse(&name, &t));
            (name, case)
        })
        .collect()
}

/// A case's ruleset, host and packets as the engine takes them; errors
/// name the file and line.
fn load(name: &str, case: &Case) -> Result<(Ruleset, Host, Vec<Packet>), String> {
    let mut rs = Ruleset::new(Family::V4);
    restore(&mut rs, &case.rules, &RestoreOpts::default(), &[]).map_err(|e| {
        format!(
            "{name}:{}: {}",
            case.rules_at + e.line,
            e.message.trim_end()
        )
    })?;
    let mut host = Host::default();
    host.parse_file(&case.host_text()).map_err(|e| {
        // "line N: ..." of the host text, as the file's line.
        let (n, msg) = e
            .strip_prefix("line ")
            .and_then(|r| r.split_once(": "))
            .and_then(|(n, m)| Some((n.parse::<usize>().ok()?, m)))
            .unwrap_or((0, &e));
        format!("{name}:{}: {msg}", case.host_line(n))
    })?;
    let packets = case
        .packets()
        .into_iter()
        .map(|c| {
            let mut p = Packet::parse_line(&c.line).map_err(|e| format!("{name}:{}: {e}", c.n))?;
            p.bad_checksum = c.badsum;
            Ok(p)
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok((rs, host, packets))
}

/// Prints how `ours` differs from the recorded `want` (line by line);
/// returns whether they agree.
fn agree(name: &str, what: &str, ours: &[String], want: &[String]) -> bool {
    if ours == want {
        return true;
    }
    eprintln!("{name}: {what} differ:");
    for i in 0..ours.len().max(want.len()) {
        let (o, w) = (ours.get(i), want.get(i));
        if o != w {
            eprintln!("  line {}: got {o:?}\n  recorded {w:?}", i + 1);
        }
    }
    false
}

/// A packet the host sent, as a case keeps it ([`answer_line`]).
fn answer(p: &Packet) -> String {
    let mut p = p.clone();
    p.iface_in.clear();
    p.iface_out.clear();
    p.mac = None;
    p.mark = 0;
    answer_line(&p.log_line(Default::default()))
}

/// The answers an outcome sent that left (theirs too), as [`answer`]s.
fn answers_of(o: &Outcome, into: &mut Vec<String>) {
    if let Some(r) = &o.reply {
        if r.verdict == Verdict::Accept {
            into.push(answer(&r.out));
        }
        answers_of(r, into);
    }
}

/// The lines of `text`, each without its trailing blanks (the kernel
/// ends a LOG line with a space, which a case file does not keep).
fn lines(text: &str) -> Vec<String> {
    text.lines().map(|l| l.trim_end().to_string()).collect()
}

/// What a case's packets made: every policy's and rule's counters
/// ([`save_counters`]), the LOG lines, the answers and the paths (these
/// two sorted).
struct Results {
    counts: Vec<String>,
    logs: Vec<String>,
    answers: Vec<String>,
    paths: Vec<String>,
}

/// The kernel's results recorded in a case.
fn recorded(name: &str, case: &Case) -> Result<Results, String> {
    let (Some(counters), Some(logs), Some(answers), Some(paths)) =
        (&case.counters, &case.logs, &case.answers, &case.paths)
    else {
        return Err(format!(
            "{name}: not recorded yet (IRONWALL_LAB_RECORD=1 IRONWALL_KERNEL_TESTS=1 cargo test -p ironwall-engine --test corpus)"
        ));
    };
    Ok(Results {
        counts: save_counters(counters),
        logs: logs.clone(),
        answers: answers.clone(),
        paths: paths.clone(),
    })
}

/// Whether `got` are the recorded results (printing what differs).
fn same(name: &str, who: &str, got: &Results, want: &Results) -> bool {
    let what = |w: &str| format!("{who} {w}");
    agree(name, &what("counters"), &got.counts, &want.counts)
        & agree(
            name,
            &what("LOG lines"),
            &lines(&got.logs.join("\n")),
            &want.logs,
        )
        & agree(name, &what("answers"), &got.answers, &want.answers)
        & agree(name, &what("TRACE paths"), &got.paths, &want.paths)
}

/// Prints which cases failed (and why) and asserts none did.
fn verdict(what: &str, runs: Vec<(String, Result<bool, String>)>) {
    let mut failed = Vec::new();
    let total = runs.len();
    for (name, run) in runs {
        match run {
            Ok(true) => {}
            Ok(false) => failed.push(name),
            Err(e) => {
                eprintln!("{e}");
                failed.push(name);
            }
        }
    }
    eprintln!(
        "{what}: {} of {total} cases agree; failed: {failed:?}",
        total - failed.len()
    );
    assert!(failed.is_empty());
}

/// A case's packets through one engine.
fn replay(name: &str, case: &Case) -> Result<Results, String> {
    let (mut rs, host, pkts) = load(name, case)?;
    let engine_rs = rs.clone();
    let mut e = Engine::new(&engine_rs, host).map_err(|x| format!("{name}: {x}"))?;
    let (mut logs, mut answers, mut paths) = (String::new(), Vec::new(), Vec::new());
    for p in &pkts {
        let o = e.process(p);
        o.all_logs(&mut logs);
        answers_of(&o, &mut answers);
        traversal::engine_paths(&o, &mut paths);
    }
    answers.sort();
    paths.sort();
    e.add_counters_to(&mut rs);
    let save = ironwall_model::save::save(&rs, None, true, "iptables-save", "");
    Ok(Results {
        counts: save_counters(&save),
        logs: logs.lines().map(str::to_string).collect(),
        answers,
        paths,
    })
}

#[test]
fn corpus_replays_as_the_kernel_recorded() {
    let (mut packets, mut paths) = (0, 0);
    let runs = cases()
        .into_iter()
        .map(|(name, case)| {
            let run = case.and_then(|case| {
                let want = recorded(&name, &case)?;
                packets += case.packets().len();
                paths += want.paths.len();
                Ok(same(&name, "ironwall", &replay(&name, &case)?, &want))
            });
            (name, run)
        })
        .collect();
    eprintln!("corpus: {packets} packets, {paths} TRACE paths");
    verdict("corpus_replays_as_the_kernel_recorded", runs);
}

/// Runs a case in a fresh lab: the kernel's `iptables-save -c` and
/// results.
fn run_in_lab(name: &str, case: &Case, want_logs: usize) -> Result<(String, Results), String> {
    let (model, _, pkts) = load(name, case)?;
    // The engine's defaults are a fresh kernel's; the lab's are set to them.
    let controls = Controls {
        icmp_ratelimit: 1000,
        rp_filter: 0,
        conntrack_checksum: true,
    };
    let lab = Lab::new("corp", &controls);
    // The peers answer nothing the server sends (no RST to a SYN-ACK).
    for peer in [&lab.client, &lab.stranger] {
        let (code, _, err) = peer.iptables(&["-P", "INPUT", "DROP"]);
        assert_eq!(code, 0, "peer firewall: {err}");
    }
    let prefix = unique_prefix();
    let rules = case
        .rules
        .replace("--log-prefix \"", &format!("--log-prefix \"{prefix}"));
    let monitor = traversal::start(&lab);
    let (code, _, err) = lab.server.restore(&[], &rules);
    if code != 0 {
        return Err(format!("{name}: iptables-restore: {err}"));
    }
    lab.apply(&controls).map_err(|e| format!("{name}: {e}"))?;
    let ifaces = server_ifaces();
    let mut sockets = (Vec::new(), Vec::new());
    for l in &case.host {
        let at = format!("{name}:{}", l.n);
        let (k, v) = l
            .text
            .trim()
            .split_once(char::is_whitespace)
            .unwrap_or((&l.text, ""));
        let v = v.trim();
        match k {
            "iface" if ifaces.iter().any(|i| i == v) => {}
            "iface" => {
                return Err(format!(
                    "{at}: not an interface of the lab's server ({ifaces:?})"
                ))
            }
            "sysctl" => {
                let (key, val) = v.split_once('=').ok_or(format!("{at}: KEY=VALUE"))?;
                lab.server
                    .sysctl(&[(key.trim(), val.trim())])
                    .map_err(|e| format!("{at}: {e}"))?;
            }
            "listen" => {
                for item in v.split(',') {
                    let (proto, port) = item.split_once('/').ok_or(format!("{at}: {item}"))?;
                    let port: u16 = port.parse().map_err(|_| format!("{at}: {item}"))?;
                    let addr = SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), port);
                    let made = lab.server.enter(|| match proto {
                        "tcp" => TcpListener::bind(addr).map(|s| sockets.0.push(s)),
                        _ => UdpSocket::bind(addr).map(|s| sockets.1.push(s)),
                    });
                    made.map_err(|e| format!("{at}: {e}"))?
                        .map_err(|e| format!("{at}: {e}"))?;
                }
            }
            _ => {}
        }
    }
    let kmsg = Kmsg::open(&prefix).map_err(|e| format!("/dev/kmsg: {e}"))?;
    let taps =
        [SERVER_C.iface, SERVER_S.iface, "lo"].map(|i| RawLink::open(&lab.server, i).expect("tap"));
    let links = [CLIENT, STRANGER].map(|e| {
        let (ns, to) = lab.peer(e);
        (to.iface, e, RawLink::open(ns, e.iface).expect("sender"))
    });
    let start = Instant::now();
    let t0 = pkts.iter().find_map(|p| p.time).unwrap_or(0.0);
    for (i, p) in pkts.iter().enumerate() {
        let at = Duration::from_secs_f64(p.time.map_or(0.0, |t| (t - t0).clamp(0.0, 30.0)));
        std::thread::sleep(at.saturating_sub(start.elapsed()));
        let corrupt = Corrupt {
            ip: false,
            transport: p.bad_checksum,
        };
        let n = case.packets().get(i).map_or(0, |c| c.n);
        if p.iface_in.is_empty() {
            let bytes = wire::to_ipv4_with(p, corrupt).map_err(|e| format!("{name}:{n}: {e}"))?;
            // A packet OUTPUT drops fails with EPERM.
            if let Err(e) = ironwall_lab::topo::send_ipv4(&lab.server, &bytes) {
                if e.kind() != std::io::ErrorKind::PermissionDenied {
                    return Err(format!("{name}:{n}: raw send: {e}"));
                }
            }
        } else {
            let Some((_, from, link)) = links.iter().find(|(i, _, _)| *i == p.iface_in) else {
                return Err(format!(
                    "{name}:{n}: IN={}: not a lab interface",
                    p.iface_in
                ));
            };
            let (_, to) = lab.peer(*from);
            let (dst, src) = match p.mac.as_deref() {
                Some([d @ .., _, _]) if d.len() == 12 => {
                    let mut a = [0u8; 6];
                    let mut b = [0u8; 6];
                    a.copy_from_slice(&d[..6]);
                    b.copy_from_slice(&d[6..]);
                    (a, b)
                }
                _ => (to.mac, from.mac),
            };
            let frame = wire::to_ethernet_with(p, dst, src, corrupt)
                .map_err(|e| format!("{name}:{n}: {e}"))?;
            link.send(&frame).map_err(|e| format!("{name}:{n}: {e}"))?;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    // The server's last answers, and every frame it sent but the case's.
    let frames: Vec<_> = taps
        .iter()
        .flat_map(|t| t.drain(Duration::from_millis(100), Duration::from_secs(2)))
        .filter(|f| f.pkttype == PACKET_OUTGOING && f.data.get(12..14) == Some(&[8, 0]))
        .collect();
    let mut answers = Vec::new();
    for f in frames {
        let p = wire::from_ethernet(&f.data).map_err(|e| format!("{name}: a sent frame: {e}"))?;
        // A packet of the case itself, sent by the host or forwarded
        // (NAT may change its addresses, not its IP ID).
        let own = pkts.iter().any(|c| {
            (c.src, c.dst, c.id) == (p.src, p.dst, p.id)
                || (c.id != 0 && c.id == p.id && c.transport.proto() == p.transport.proto())
        });
        if !own {
            answers.push(answer(&p));
        }
    }
    // A multiset: the taps' timestamps do not order frames reliably.
    answers.sort();
    let save = lab
        .server
        .save(&["-c"])
        .replace(&format!("--log-prefix \"{prefix}"), "--log-prefix \"");
    let logs = kmsg
        .lines(
            want_logs,
            Duration::from_millis(200),
            Duration::from_secs(3),
        )
        .into_iter()
        .map(|l| l.strip_prefix(&prefix).unwrap_or(&l).trim_end().to_string())
        .collect();
    drop(sockets);
    let lines = monitor.finish(Duration::from_millis(200), Duration::from_secs(5));
    let tables: Vec<&str> = model.tables.iter().map(|t| t.name()).collect();
    let mut paths = traversal::kernel_paths(&lines, &trace::handles(&lab, &tables));
    paths.sort();
    let results = Results {
        counts: save_counters(&save),
        logs,
        answers,
        paths,
    };
    Ok((save, results))
}

#[test]
fn corpus_still_matches_the_kernel() {
    let what = "corpus_still_matches_the_kernel";
    let Some(_logs) = log_guard(what) else {
        return;
    };
    let record = std::env::var_os("IRONWALL_LAB_RECORD").is_some();
    let check = |name: &str, case: Result<Case, String>| -> Result<bool, String> {
        let mut case = case?;
        let want = case.logs.as_ref().map_or(0, Vec::len);
        let (save, got) = run_in_lab(name, &case, want)?;
        if !record {
            return Ok(same(name, "kernel", &got, &recorded(name, &case)?));
        }
        case.counters = Some(save);
        case.logs = Some(got.logs);
        case.answers = Some(got.answers);
        case.paths = Some(got.paths);
        let path = corpus_dir().join(name);
        std::fs::write(&path, case.text()).map_err(|e| format!("{name}: {e}"))?;
        eprintln!("recorded {}", path.display());
        Ok(true)
    };
    // A few labs at a time: a case mostly waits.
    let mut runs = Vec::new();
    let all = cases();
    for chunk in all.chunks(4) {
        std::thread::scope(|sc| {
            let threads: Vec<_> = chunk
                .iter()
                .map(|(name, case)| (name, sc.spawn(|| check(name, case.clone()))))
                .collect();
            for (name, t) in threads {
                let run = t
                    .join()
                    .unwrap_or_else(|_| Err(format!("{name}: panicked")));
                runs.push((name.clone(), run));
            }
        });
    }
    verdict(what, runs);
}

/// A broken case is an error naming its file and line, never a panic.
#[test]
fn broken_cases_name_file_and_line() {
    let good = "[rules]\n*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n[host]\niface srv-c=10.137.0.1/24\n[packets]\nIN=srv-c SRC=10.137.0.16 DST=10.137.0.1 LEN=20\n";
    for (from, to, want) in [
        ("LEN=20", "LEN=x", "b.case:8: "),
        (
            "iface srv-c=10.137.0.1/24",
            "iface srv-c",
            "b.case:6: --iface",
        ),
        (":INPUT ACCEPT [0:0]", ":INPUT MAYBE [0:0]", "b.case:3: "),
        ("COMMIT", "-A NOPE -j ACCEPT", "b.case:"),
    ] {
        let text = good.replace(from, to);
        let case = Case::parse("b.case", &text).expect("the sections parse");
        let Err(e) = load("b.case", &case) else {
            panic!("{to}: loads");
        };
        assert!(e.starts_with(want), "{to}: {e}");
    }
    let case = Case::parse("b.case", good).expect("parses");
    assert!(load("b.case", &case).is_ok());
    assert!(recorded("b.case", &case).is_err_and(|e| e.starts_with("b.case: not recorded")));
}
