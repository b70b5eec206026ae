//! Turning a disagreeing live run into a regression case of the corpus,
//! for the live tests whose server is the lab's as it is
//! (`live_kernel.rs`, `live_stateful.rs`; the corpus records in that lab).

use crate::common::ALL;
use ironwall_engine::packet::Packet;

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
