//! `ironwall trace` and `ironwall simulate` on the guide's ruleset: the
//! CLI shell over the engine (the engine's behaviour is tested in
//! crates/engine).

use ironwall_lab::{ironwall_bin, shared};
use std::process::Command;

fn run(args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let mut cmd = Command::new(ironwall_bin());
    cmd.args(args);
    ironwall_lab::triple(ironwall_lab::run_with_input(cmd, stdin))
}

/// `ironwall simulate` on a rules file for a host at 10.137.0.2 on eth0.
fn simulate(rules: &std::path::Path, more: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let mut args = vec![
        "simulate",
        "--rules",
        rules.to_str().unwrap(),
        "--iface",
        "eth0=10.137.0.2/24",
    ];
    args.extend(more);
    run(&args, stdin)
}

#[test]
fn trace_prints_the_guide_arrows() {
    let Some(dir) = shared("trace cli") else {
        return;
    };
    let rules = dir.join("golden/ruleset.save");
    let rules = rules.to_str().unwrap();
    let pkt = "IN=eth0 OUT= SRC=10.137.0.14 DST=10.137.0.2 LEN=60 PROTO=TCP SPT=5 DPT=22 SYN";
    let (code, out, err) = run(
        &[
            "trace",
            "--rules",
            rules,
            "--iface",
            "eth0=10.137.0.2/24",
            pkt,
        ],
        None,
    );
    assert_eq!((code, err.as_str()), (0, ""));
    assert!(out.contains("  filter INPUT: INPUT -> MALICIOUS -> STDIN -> FRIENDLY -> DROP\n"));
    assert!(out.contains("    FRIENDLY #4 DROP: -A FRIENDLY -j DROP\n"));
    let (code, json, _) = run(&["trace", "--json", "--rules", rules, pkt], None);
    assert_eq!(code, 0);
    assert!(json.starts_with("{\"packet\":"));
    assert!(json.contains("\"verdict\":\"DROP\",\"reply\":null}"));
    // Each walk's TRACE events (held to the kernel's by the engine's live
    // tests) are the library's.
    let text = std::fs::read_to_string(rules).unwrap();
    let mut rs = ironwall_model::ruleset::Ruleset::new(ironwall_model::addr::Family::V4);
    ironwall_model::restore::restore(&mut rs, &text, &Default::default(), &[]).unwrap();
    let mut host = ironwall_engine::host::Host::default();
    host.option("--iface", "eth0=10.137.0.2/24").unwrap();
    let mut engine = ironwall_engine::netfilter::Engine::new(&rs, host).unwrap();
    let o = engine.process(&ironwall_engine::Packet::parse_line(pkt).unwrap());
    for w in &o.walks {
        let events: Vec<String> = w
            .trace_events()
            .iter()
            .map(|e| format!("\"{e}\""))
            .collect();
        assert!(
            json.contains(&format!("\"trace\":[{}]", events.join(","))),
            "{json}"
        );
    }
    let (code, _, err) = run(&["trace", "--rules", rules, "SRC=1.2.3.999"], None);
    assert_eq!(code, 2);
    assert!(err.contains("packet 1: column 1: `SRC=1.2.3.999`"), "{err}");
}

#[test]
fn simulate_adds_counters_and_writes_logs() {
    let Some(dir) = shared("simulate cli") else {
        return;
    };
    let rules = dir.join("golden/ruleset.save");
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("log");
    let verdicts = tmp.path().join("verdicts");
    let input = "\
[ 1.0] IN=eth0 OUT= SRC=10.137.0.14 DST=10.137.0.2 LEN=60 PROTO=TCP SPT=5 DPT=8444 SYN
[ 2.0] IN= OUT=eth0 SRC=10.137.0.2 DST=10.137.0.1 LEN=61 PROTO=UDP SPT=41000 DPT=53 LEN=41
";
    let (code, out, err) = simulate(
        &rules,
        &[
            "--log",
            log.to_str().unwrap(),
            "--verdicts",
            verdicts.to_str().unwrap(),
        ],
        Some(input),
    );
    assert_eq!((code, err.as_str()), (0, ""));
    assert!(out.contains(":INPUT DROP [1:60]\n"));
    assert!(out.contains("[1:61] -A STDOUT -p udp -m udp --dport 53 -j ACCEPT\n"));
    assert_eq!(
        std::fs::read_to_string(&verdicts).unwrap(),
        "DROP\nACCEPT\n"
    );
    let logs = std::fs::read_to_string(&log).unwrap();
    assert!(logs.starts_with("tcp.in.dropped IN=eth0 OUT= SRC=10.137.0.14 "));
}

/// simulate reads pcap too: a DNS query from the host's address leaves by
/// its first interface and is counted by STDOUT.
#[test]
fn simulate_reads_pcap() {
    let Some(dir) = shared("simulate pcap") else {
        return;
    };
    let rules = dir.join("golden/ruleset.save");
    let mut frame = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00];
    frame.extend([
        0x45, 0, 0, 33, 0, 9, 0, 0, 64, 17, 0, 0, 10, 137, 0, 2, 10, 137, 0, 1,
    ]);
    frame.extend([0xa0, 0x28, 0, 53, 0, 13, 0, 0, 0, 0, 0, 0, 0]);
    let mut file = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
    file.extend([0; 8]);
    file.extend(65535u32.to_le_bytes());
    file.extend(1u32.to_le_bytes());
    for word in [5u32, 0, frame.len() as u32, frame.len() as u32] {
        file.extend(word.to_le_bytes());
    }
    file.extend(&frame);
    let tmp = tempfile::tempdir().unwrap();
    let pcap = tmp.path().join("q.pcap");
    std::fs::write(&pcap, &file).unwrap();
    let (code, out, err) = simulate(&rules, &[pcap.to_str().unwrap()], None);
    assert_eq!((code, err.as_str()), (0, ""));
    assert!(
        out.contains("[1:33] -A STDOUT -p udp -m udp --dport 53 -j ACCEPT\n"),
        "{out}"
    );
}

/// A bad line stops the replay with its file and line named, prints no
/// counters, and leaves the `--log` file as it was.
#[test]
fn simulate_bad_line_changes_nothing() {
    let Some(dir) = shared("simulate bad line") else {
        return;
    };
    let rules = dir.join("golden/ruleset.save");
    let tmp = tempfile::tempdir().unwrap();
    let (log, input) = (tmp.path().join("log"), tmp.path().join("in.log"));
    std::fs::write(&log, "old\n").unwrap();
    std::fs::write(
        &input,
        "IN=eth0 OUT= SRC=10.137.0.14 DST=10.137.0.2 PROTO=TCP SPT=5 DPT=8444 SYN\n\nIN=eth0 TTL=x\n",
    )
    .unwrap();
    let (code, out, err) = simulate(
        &rules,
        &["--log", log.to_str().unwrap(), input.to_str().unwrap()],
        None,
    );
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(
        err.starts_with(&format!("ironwall simulate: {}:3: ", input.display())),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "old\n");
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 2);
}

/// `ironwall simulate` replays the engine's regression corpus
/// (`crates/engine/tests/corpus/cases`, recorded from the kernel) to the
/// kernel's counters and LOG lines: the command's own reading of rules,
/// host files and packet lines, and its `iptables-save -c` output. A case
/// with a wrong checksum (which a LOG line cannot say) is left to the
/// engine's own replay.
#[test]
fn simulate_replays_the_corpus() {
    use ironwall_lab::corpus::{case_files, save_counters, Case};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../engine/tests/corpus/cases");
    let tmp = tempfile::tempdir().unwrap();
    let (mut replayed, mut failed) = (0, Vec::new());
    for file in case_files(&dir).expect("the corpus") {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&file).unwrap();
        let case = Case::parse(&name, &text).unwrap_or_else(|e| panic!("{e}"));
        let packets = case.packets();
        if packets.iter().any(|p| p.badsum) {
            continue;
        }
        let (Some(counters), Some(logs)) = (&case.counters, &case.logs) else {
            panic!("{name}: not recorded");
        };
        let path = |f: &str| tmp.path().join(f).to_str().unwrap().to_string();
        let lines: String = packets.iter().map(|p| format!("{}\n", p.line)).collect();
        std::fs::write(path("rules"), &case.rules).unwrap();
        std::fs::write(path("host"), case.host_text()).unwrap();
        std::fs::write(path("packets"), lines).unwrap();
        let (code, out, err) = run(
            &[
                "simulate",
                "--rules",
                &path("rules"),
                "--host",
                &path("host"),
                "--log",
                &path("log"),
                &path("packets"),
            ],
            None,
        );
        assert_eq!((code, err.as_str()), (0, ""), "{name}");
        let got_logs: Vec<String> = std::fs::read_to_string(path("log"))
            .unwrap()
            .lines()
            .map(|l| l.trim_end().to_string())
            .collect();
        if save_counters(&out) != save_counters(counters) || &got_logs != logs {
            eprintln!("{name}: simulate printed\n{out}and logged {got_logs:#?}");
            failed.push(name);
        }
        replayed += 1;
    }
    eprintln!("simulate_replays_the_corpus: {replayed} cases; failed: {failed:?}");
    assert!(replayed > 0 && failed.is_empty());
}

/// simulate holds fragments until their datagram is complete (the held
/// one's verdict is DROP, the whole is counted and logged once) and runs
/// the host's timers: a SYN left half-open gets its SYN-ACK again 1 s and
/// 3 s later, before the packet whose time passes them.
#[test]
fn simulate_joins_fragments_and_runs_timers() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("rules");
    std::fs::write(&rules, "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -j LOG --log-prefix \"in \"\nCOMMIT\n").unwrap();
    let log = tmp.path().join("log");
    let verdicts = tmp.path().join("verdicts");
    let input = "\
[1.0] IN=eth0 OUT= SRC=10.137.0.9 DST=10.137.0.2 LEN=36 ID=5 MF PROTO=UDP SPT=1 DPT=2 LEN=28
[1.1] IN=eth0 OUT= SRC=10.137.0.9 DST=10.137.0.2 LEN=32 ID=5 FRAG:2 PROTO=UDP
[2.0] IN=eth0 OUT= SRC=10.137.0.9 DST=10.137.0.2 LEN=40 PROTO=TCP SPT=5 DPT=22 SEQ=1 ACK=0 SYN
[5.5] IN=eth0 OUT= SRC=10.137.0.9 DST=10.137.0.2 LEN=40 PROTO=TCP SPT=5 DPT=22 SEQ=2 ACK=0 RST
";
    let (code, out, err) = simulate(
        &rules,
        &[
            "--listen",
            "tcp/22",
            "--log",
            log.to_str().unwrap(),
            "--verdicts",
            verdicts.to_str().unwrap(),
        ],
        Some(input),
    );
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(
        std::fs::read_to_string(&verdicts).unwrap(),
        "DROP\nACCEPT\nACCEPT\nACCEPT\n"
    );
    let logs = std::fs::read_to_string(&log).unwrap();
    assert_eq!(logs.lines().count(), 3, "{logs}");
    assert!(
        logs.contains(" LEN=48 TOS=0x00 PREC=0x00 TTL=64 ID=5 PROTO=UDP "),
        "{logs}"
    );
    // The port unreachable and three SYN-ACKs (76 + 3 x 44 bytes).
    assert!(out.contains(":OUTPUT ACCEPT [4:208]\n"), "{out}");
}

/// `--sets FILE` gives the engine the host's ipsets (as `ipset save`
/// writes them): the ruleset may name them, `-m set` tests them and
/// `-j SET` fills them.
#[test]
fn simulate_with_ipsets() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("rules");
    std::fs::write(&rules, "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -m set --match-set bad src -j DROP\n-A INPUT -p udp -j SET --add-set bad src\nCOMMIT\n").unwrap();
    let sets = tmp.path().join("sets");
    std::fs::write(
        &sets,
        "create bad hash:net family inet hashsize 64 maxelem 64\nadd bad 192.0.2.0/24\n",
    )
    .unwrap();
    let verdicts = tmp.path().join("verdicts");
    let input = "\
IN=eth0 OUT= SRC=192.0.2.9 DST=10.137.0.2 LEN=28 PROTO=UDP SPT=1 DPT=2 LEN=8
IN=eth0 OUT= SRC=198.51.100.1 DST=10.137.0.2 LEN=28 PROTO=UDP SPT=1 DPT=2 LEN=8
IN=eth0 OUT= SRC=198.51.100.1 DST=10.137.0.2 LEN=28 PROTO=UDP SPT=1 DPT=2 LEN=8
";
    let (code, out, err) = simulate(
        &rules,
        &[
            "--sets",
            sets.to_str().unwrap(),
            "--verdicts",
            verdicts.to_str().unwrap(),
        ],
        Some(input),
    );
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(
        std::fs::read_to_string(&verdicts).unwrap(),
        "DROP\nACCEPT\nDROP\n"
    );
    assert!(
        out.contains("[2:56] -A INPUT -m set --match-set bad src -j DROP\n"),
        "{out}"
    );
}
