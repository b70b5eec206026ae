//! `ironwall iptables`, `iptables-save` and `iptables-restore`: the real
//! tools' command lines, working on a rules file instead of the kernel.

use crate::store;
use ironwall_model::restore::{restore, RestoreOpts};
use ironwall_model::ruleset::Ruleset;
use ironwall_model::{run_iptables, save};
use std::io::Read;
use std::path::{Path, PathBuf};

/// ironwall's own options, read from the front of the arguments.
struct Common {
    rules: Option<PathBuf>,
    sets: Option<PathBuf>,
    rest: Vec<String>,
}

fn common(args: Vec<String>) -> Common {
    let mut c = Common {
        rules: None,
        sets: std::env::var_os("IRONWALL_SETS").map(PathBuf::from),
        rest: Vec::new(),
    };
    let mut it = args.into_iter().peekable();
    while let Some(a) = it.peek().cloned() {
        let (key, inline) = match a.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (a.clone(), None),
        };
        if key != "--rules" && key != "--sets" {
            break;
        }
        it.next();
        let val = inline.or_else(|| it.next());
        let val = val.map(PathBuf::from);
        if key == "--rules" {
            c.rules = val;
        } else {
            c.sets = val;
        }
    }
    c.rest = it.collect();
    c
}

/// `ironwall iptables|iptables-save|iptables-restore ARGS`.
pub fn run_sub(sub: &str, args: Vec<String>) -> i32 {
    let c = common(args);
    let Some(rules) = c.rules else {
        eprintln!("ironwall {sub}: --rules FILE is required");
        return 2;
    };
    run(sub, &rules, c.sets.as_deref(), c.rest)
}

/// Invoked through a symlink: the rules file comes from `IRONWALL_RULES`.
pub fn run_as(name: &str, args: Vec<String>, rules: Option<String>) -> i32 {
    let Some(rules) = rules else {
        eprintln!("{name}: set IRONWALL_RULES to the rules file (ironwall)");
        return 2;
    };
    let sets = std::env::var_os("IRONWALL_SETS").map(PathBuf::from);
    run(name, Path::new(&rules), sets.as_deref(), args)
}

fn run(sub: &str, rules: &Path, sets: Option<&Path>, args: Vec<String>) -> i32 {
    let sets = match store::load_sets(sets) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{sub}: {e:#}");
            return 2;
        }
    };
    let mut rs = match store::load(rules, &sets) {
        Ok(rs) => rs,
        Err(e) => {
            eprintln!("{sub}: {e:#}");
            return 2;
        }
    };
    match sub {
        "iptables" => iptables(&mut rs, rules, &sets, &args),
        "iptables-save" => iptables_save(&rs, &args),
        _ => iptables_restore(&mut rs, rules, &sets, &args),
    }
}

fn iptables(rs: &mut Ruleset, rules: &Path, sets: &[String], args: &[String]) -> i32 {
    match run_iptables(rs, args, sets) {
        Ok(out) => {
            print!("{}", out.stdout);
            eprint!("{}", out.stderr);
            if out.changed {
                if let Err(e) = store::store(rules, rs) {
                    eprintln!("iptables: {e:#}");
                    return 1;
                }
            }
            0
        }
        Err(e) => {
            print!("{}", e.stdout);
            eprint!("{}", e.render("iptables"));
            e.exit_code()
        }
    }
}

fn iptables_save(rs: &Ruleset, args: &[String]) -> i32 {
    let mut counters = false;
    let mut table: Option<String> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-c" | "--counters" => counters = true,
            "-t" | "--table" => match it.next() {
                Some(t) => table = Some(t.clone()),
                None => {
                    eprintln!("iptables-save: option requires an argument -- 't'");
                    return 1;
                }
            },
            s if s.starts_with("--table=") => table = Some(s[8..].to_string()),
            "-M" | "--modprobe" => {
                it.next();
            }
            other => {
                eprintln!("Unknown arguments found on commandline: {other}");
                return 1;
            }
        }
    }
    if let Some(t) = &table {
        if ironwall_model::ruleset::table_def(t).is_none() {
            eprintln!("iptables-save: Table '{t}' does not exist");
            return 1;
        }
    }
    print!(
        "{}",
        save::save(
            rs,
            table.as_deref(),
            counters,
            "iptables-save",
            &store::ctime_now()
        )
    );
    0
}

fn iptables_restore(rs: &mut Ruleset, rules: &Path, sets: &[String], args: &[String]) -> i32 {
    let mut opts = RestoreOpts::default();
    let mut input: Option<String> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-c" | "--counters" => opts.counters = true,
            "-n" | "--noflush" => opts.noflush = true,
            "-t" | "--test" => opts.test = true,
            "-v" | "--verbose" | "-w" | "--wait" => {}
            "-T" | "--table" => match it.next() {
                Some(t) => opts.table = Some(t.clone()),
                None => {
                    eprintln!("iptables-restore: option requires an argument -- 'T'");
                    return 2;
                }
            },
            "-M" | "--modprobe" | "-W" | "--wait-interval" => {
                it.next();
            }
            s if !s.starts_with('-') && input.is_none() => input = Some(s.to_string()),
            other => {
                eprintln!("iptables-restore: unknown option \"{other}\"");
                return 2;
            }
        }
    }
    let text = match &input {
        Some(path) => std::fs::read_to_string(path),
        None => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).map(|_| s)
        }
    };
    let text = match text {
        Ok(t) => t,
        Err(e) => {
            eprintln!("iptables-restore: {e}");
            return 1;
        }
    };
    match restore(rs, &text, &opts, sets) {
        Ok(()) => {
            if !opts.test {
                if let Err(e) = store::store(rules, rs) {
                    eprintln!("iptables-restore: {e:#}");
                    return 1;
                }
            }
            0
        }
        Err(e) => {
            eprint!("{}", e.message);
            e.code
        }
    }
}

/// `ironwall demo`: replays the guide's commands on a fresh ruleset in
/// memory and prints the listing and the save, no root needed.
pub fn demo() -> i32 {
    let mut rs = Ruleset::new(ironwall_model::addr::Family::V4);
    for line in include_str!("demo.txt").lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        println!("# iptables {line}");
        let args = match ironwall_model::restore::split_args(line) {
            Ok(a) => a,
            Err(e) => {
                eprintln!("demo: {e}");
                return 1;
            }
        };
        match run_iptables(&mut rs, &args, &[]) {
            Ok(out) => print!("{}", out.stdout),
            Err(e) => {
                eprint!("{}", e.render("iptables"));
                return e.exit_code();
            }
        }
    }
    0
}
