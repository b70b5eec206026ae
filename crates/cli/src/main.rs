//! The `ironwall` binary: a thin shell over the ironwall crates.
//!
//! Invoked as `iptables`, `iptables-save` or `iptables-restore` (through a
//! symlink), it acts as that subcommand with the rules file taken from
//! `IRONWALL_RULES`.

mod engine;
mod getopt;
mod iptables;
mod store;

use std::process::ExitCode;

const USAGE: &str = "\
ironwall: iptables done properly

Usage:
  ironwall iptables --rules FILE [--sets FILE] ARGS...
  ironwall iptables-save --rules FILE [-c] [-t TABLE]
  ironwall iptables-restore --rules FILE [-c] [-n] [-T TABLE] [-t] [INPUT]
  ironwall demo              replay the guide's commands on a fresh ruleset
  ironwall trace --rules FILE [HOST] [--json] PACKET...
  ironwall simulate --rules FILE [HOST] [--log FILE] [--verdicts FILE] [INPUT]
      HOST: --iface NAME=ADDR/PREFIX, --listen tcp/22,udp/53,
            --sysctl KEY=VALUE (repeatable), --join [IFACE=]GROUP,
            --sets FILE (ipset save),
            --host FILE
      A packet is a line in the kernel's LOG syntax; simulate also reads
      pcap (Ethernet, IPv4: frames from a host address leave by the first
      interface, the others arrive on it).

Symlinked as iptables, iptables-save or iptables-restore, the binary acts
as that command on the rules file named by IRONWALL_RULES.
";

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().collect();
    let argv0 = args.remove(0);
    let name = std::path::Path::new(&argv0)
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or("ironwall")
        .to_string();
    let code = match name.as_str() {
        "iptables" | "iptables-save" | "iptables-restore" => {
            iptables::run_as(&name, args, std::env::var("IRONWALL_RULES").ok())
        }
        _ => dispatch(args),
    };
    ExitCode::from(code as u8)
}

fn dispatch(mut args: Vec<String>) -> i32 {
    if args.is_empty() {
        eprint!("{USAGE}");
        return 2;
    }
    let sub = args.remove(0);
    match sub.as_str() {
        "iptables" | "iptables-save" | "iptables-restore" => iptables::run_sub(&sub, args),
        "demo" => iptables::demo(),
        "trace" | "simulate" => engine::run(&sub, args),
        "-h" | "--help" | "help" => {
            print!("{USAGE}");
            0
        }
        "-V" | "--version" => {
            println!("ironwall {}", env!("CARGO_PKG_VERSION"));
            0
        }
        other => {
            eprintln!("ironwall: unknown command `{other}'\n\n{USAGE}");
            2
        }
    }
}
