//! The `ironwall` binary: a thin shell over the ironwall crates.
//!
//! Invoked as `iptables`, `iptables-save` or `iptables-restore` (through a
//! symlink), or their `ip6tables` twins, it acts as that subcommand with the
//! rules file taken from `IRONWALL_RULES`. The iptables subcommands take iptables' own syntax,
//! parsed as iptables parses it (`getopt`, `iptables.rs`), so clap hands
//! them their words untouched; ironwall's own subcommands are clap's.

mod engine;
mod getopt;
mod iptables;
mod store;

use clap::{CommandFactory, Parser, Subcommand};
use std::process::ExitCode;

const AFTER_HELP: &str = "\
A packet is a line in the kernel's LOG syntax; simulate also reads pcap
(Ethernet, IPv4: frames from a host address leave by the first interface,
the others arrive on it).

Symlinked as iptables, iptables-save or iptables-restore (or ip6tables,
ip6tables-save, ip6tables-restore), the binary acts as that command on
the rules file named by IRONWALL_RULES (and the sets file named by
IRONWALL_SETS).";

/// ironwall: iptables done properly.
#[derive(Parser)]
#[command(name = "ironwall", version, after_help = AFTER_HELP)]
#[command(arg_required_else_help = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The words an iptables subcommand takes, in iptables' own syntax.
#[derive(clap::Args)]
struct Words {
    /// `--rules FILE` (and `--sets FILE`) anywhere, then iptables' arguments.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    args: Vec<String>,
}

#[derive(Subcommand)]
enum Command {
    /// iptables on a rules file: --rules FILE [--sets FILE] ARGS...
    #[command(disable_help_flag = true)]
    Iptables(Words),
    /// iptables-save of a rules file: --rules FILE [-c] [-t TABLE]
    #[command(name = "iptables-save", disable_help_flag = true)]
    IptablesSave(Words),
    #[command(
        name = "iptables-restore",
        disable_help_flag = true,
        about = "iptables-restore into a rules file: --rules FILE [-c] [-n] [-T TABLE] [-t] [INPUT]"
    )]
    IptablesRestore(Words),
    /// ip6tables on a rules file: --rules FILE [--sets FILE] ARGS...
    #[command(disable_help_flag = true)]
    Ip6tables(Words),
    /// ip6tables-save of a rules file: --rules FILE [-c] [-t TABLE]
    #[command(name = "ip6tables-save", disable_help_flag = true)]
    Ip6tablesSave(Words),
    #[command(
        name = "ip6tables-restore",
        disable_help_flag = true,
        about = "ip6tables-restore into a rules file: --rules FILE [-c] [-n] [-T TABLE] [-t] [INPUT]"
    )]
    Ip6tablesRestore(Words),
    /// Replay the guide's commands on a fresh ruleset.
    Demo,
    /// Each packet's path through the rules, rule by rule.
    Trace(engine::TraceArgs),
    /// Replay a packet stream; print the ruleset with the counters it adds.
    Simulate(engine::SimulateArgs),
    /// Print a shell completion script.
    Completions {
        /// bash, zsh, fish, elvish or powershell
        shell: clap_complete::Shell,
    },
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().collect();
    let name = std::path::Path::new(args.first().map_or("ironwall", String::as_str))
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or("ironwall")
        .to_string();
    let code = match name.as_str() {
        "iptables" | "iptables-save" | "iptables-restore" | "ip6tables" | "ip6tables-save"
        | "ip6tables-restore" => {
            args.remove(0);
            iptables::run_as(&name, args, std::env::var("IRONWALL_RULES").ok())
        }
        _ => dispatch(Cli::parse_from(args).command),
    };
    ExitCode::from(code as u8)
}

fn dispatch(command: Command) -> i32 {
    match command {
        Command::Iptables(w) => iptables::run_sub("iptables", w.args),
        Command::IptablesSave(w) => iptables::run_sub("iptables-save", w.args),
        Command::IptablesRestore(w) => iptables::run_sub("iptables-restore", w.args),
        Command::Ip6tables(w) => iptables::run_sub("ip6tables", w.args),
        Command::Ip6tablesSave(w) => iptables::run_sub("ip6tables-save", w.args),
        Command::Ip6tablesRestore(w) => iptables::run_sub("ip6tables-restore", w.args),
        Command::Demo => iptables::demo(),
        Command::Trace(a) => engine::run("trace", || engine::trace(a)),
        Command::Simulate(a) => engine::run("simulate", || engine::simulate(a)),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "ironwall",
                &mut std::io::stdout(),
            );
            0
        }
    }
}
