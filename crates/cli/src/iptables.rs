//! `ironwall iptables`, `iptables-save` and `iptables-restore`, and their
//! `ip6tables` twins: the real tools' command lines, working on a rules
//! file instead of the kernel. The program name chooses the family, and
//! the family names the program in every message.

use crate::getopt::{getopt, HasArg, Item, LongOpt};
use crate::store;
use ironwall_model::addr::Family;
use ironwall_model::ext::set::IpSet;
use ironwall_model::restore::{restore_bytes, RestoreOpts};
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

/// `ironwall [ip6]iptables|[ip6]iptables-save|[ip6]iptables-restore ARGS`.
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

/// The family a program name stands for: `ip6tables*` is IPv6.
fn family_of(prog: &str) -> Family {
    if prog.starts_with("ip6tables") {
        Family::V6
    } else {
        Family::V4
    }
}

fn run(sub: &str, rules: &Path, sets: Option<&Path>, args: Vec<String>) -> i32 {
    let sets = match store::load_sets(sets) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{sub}: {e:#}");
            return 2;
        }
    };
    let mut rs = match store::load(rules, &sets, family_of(sub)) {
        Ok(rs) => rs,
        Err(e) => {
            eprintln!("{sub}: {e:#}");
            return 2;
        }
    };
    match sub.strip_prefix(rs.family.prog()) {
        Some("") => iptables(&mut rs, rules, &sets, &args),
        Some("-save") => iptables_save(&rs, &args),
        _ => iptables_restore(&mut rs, rules, &sets, &args),
    }
}

fn iptables(rs: &mut Ruleset, rules: &Path, sets: &[IpSet], args: &[String]) -> i32 {
    match run_iptables(rs, args, sets) {
        Ok(out) => {
            print!("{}", out.stdout);
            eprint!("{}", out.stderr);
            if out.changed {
                if let Err(e) = store::store(rules, rs) {
                    eprintln!("{}: {e:#}", rs.family.prog());
                    return 1;
                }
            }
            0
        }
        Err(e) => {
            print!("{}", e.stdout);
            eprint!("{}", e.render(rs.family.prog()));
            e.exit_code()
        }
    }
}

const SAVE_LONG: &[LongOpt] = &[
    ("counters", HasArg::No, 'c'),
    ("version", HasArg::No, 'V'),
    ("dump", HasArg::No, 'd'),
    ("table", HasArg::Required, 't'),
    ("modprobe", HasArg::Required, 'M'),
    ("file", HasArg::Required, 'f'),
];

/// `iptables-save [-c] [-t TABLE] [-f FILE]`, as iptables-nft-save 1.8.9
/// (`ip6tables-save` for an IPv6 ruleset).
fn iptables_save(rs: &Ruleset, args: &[String]) -> i32 {
    let prog = format!("{}-save", rs.family.prog());
    let prog = prog.as_str();
    let mut counters = false;
    let mut table: Option<String> = None;
    let mut file: Option<String> = None;
    let p = getopt(prog, args, "bcdt:M:f:V", SAVE_LONG);
    for item in p.items {
        match item {
            Item::Opt('b', _) => eprintln!("-b/--binary option is not implemented"),
            Item::Opt('c', _) => counters = true,
            Item::Opt('t', t) => table = t,
            Item::Opt('f', f) => file = f,
            Item::Opt('V', _) => {
                println!("{prog} v{} (ironwall)", ironwall_model::IPTABLES_VERSION);
                return 0;
            }
            Item::Opt(..) => {}
            Item::Bad(msg) => {
                eprintln!("{msg}\nLook at manual page `{prog}.8' for more information.");
                return 1;
            }
        }
    }
    if !p.operands.is_empty() {
        eprintln!("Unknown arguments found on commandline");
        return 1;
    }
    if let Some(t) = &table {
        if ironwall_model::ruleset::table_def(t).is_none() {
            eprintln!("Table `{t}' does not exist");
            return 1;
        }
    }
    let text = save::save(rs, table.as_deref(), counters, prog, &store::ctime_now());
    match file {
        Some(f) => match std::fs::write(&f, text) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("Failed to open file, error: {}", strerror(&e));
                1
            }
        },
        None => {
            print!("{text}");
            0
        }
    }
}

/// An I/O error as C's `strerror` words it.
fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

const RESTORE_LONG: &[LongOpt] = &[
    ("counters", HasArg::No, 'c'),
    ("verbose", HasArg::No, 'v'),
    ("version", HasArg::No, 'V'),
    ("test", HasArg::No, 't'),
    ("help", HasArg::No, 'h'),
    ("noflush", HasArg::No, 'n'),
    ("modprobe", HasArg::Required, 'M'),
    ("table", HasArg::Required, 'T'),
    ("ipv4", HasArg::No, '4'),
    ("ipv6", HasArg::No, '6'),
    ("wait", HasArg::Optional, 'w'),
    ("wait-interval", HasArg::Optional, 'W'),
];

const RESTORE_USAGE: &str =
    "Usage: {prog} [-c] [-v] [-V] [-t] [-h] [-n] [-T table] [-M command] [-4] [-6] [file]
\t   [ --counters ]
\t   [ --verbose ]
\t   [ --version]
\t   [ --test ]
\t   [ --help ]
\t   [ --noflush ]
\t   [ --table=<TABLE> ]
\t   [ --modprobe=<command> ]
\t   [ --ipv4 ]
\t   [ --ipv6 ]
";

/// The restore options and the input file, or the exit code when the
/// command line ends the program (help, version, errors).
fn restore_args(prog: &str, args: &[String]) -> Result<(RestoreOpts, Option<String>), i32> {
    let mut opts = RestoreOpts::default();
    // `-w`/`-W` without an attached value take the next word unless it
    // looks like an option, as xtables-restore skips it.
    let mut words: Vec<String> = Vec::new();
    let mut it = args.iter().peekable();
    while let Some(a) = it.next() {
        words.push(a.clone());
        let bare_wait = matches!(a.as_str(), "-w" | "-W" | "--wait" | "--wait-interval");
        if bare_wait
            && it
                .peek()
                .is_some_and(|n| !n.starts_with('-') && !n.starts_with('!'))
        {
            it.next();
        }
    }
    let p = getopt(prog, &words, "bcvVthnM:T:wW", RESTORE_LONG);
    for item in p.items {
        match item {
            Item::Opt('b', _) => eprintln!("-b/--binary option is not implemented"),
            Item::Opt('c', _) => opts.counters = true,
            Item::Opt('t', _) => opts.test = true,
            Item::Opt('n', _) => opts.noflush = true,
            Item::Opt('T', t) => opts.table = t,
            Item::Opt('V', _) => {
                println!("{prog} v{} (ironwall)", ironwall_model::IPTABLES_VERSION);
                return Err(0);
            }
            Item::Opt('h', _) => {
                eprint!("{}", RESTORE_USAGE.replace("{prog}", prog));
                return Err(0);
            }
            Item::Opt('v', _) => opts.verbose += 1,
            Item::Opt('M' | 'w' | 'W', _) => {}
            Item::Opt(..) => {
                eprintln!("Try `{prog} -h' for more information.");
                return Err(1);
            }
            Item::Bad(msg) => {
                eprintln!("{msg}\nTry `{prog} -h' for more information.");
                return Err(1);
            }
        }
    }
    match p.operands.as_slice() {
        [] => Ok((opts, None)),
        [f] => Ok((opts, Some(f.clone()))),
        _ => {
            eprintln!("Unknown arguments found on commandline");
            Err(1)
        }
    }
}

/// `iptables-restore [-c] [-n] [-t] [-T TABLE] [FILE]`, as
/// iptables-nft-restore 1.8.9, all or nothing (`ip6tables-restore` for an
/// IPv6 ruleset).
fn iptables_restore(rs: &mut Ruleset, rules: &Path, sets: &[IpSet], args: &[String]) -> i32 {
    let prog = format!("{}-restore", rs.family.prog());
    let prog = prog.as_str();
    let (opts, input) = match restore_args(prog, args) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let text = match &input {
        Some(path) => match std::fs::read(path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("Can't open {path}: {}", strerror(&e));
                return 1;
            }
        },
        None => {
            let mut s = Vec::new();
            if let Err(e) = std::io::stdin().read_to_end(&mut s) {
                eprintln!("{prog}: {}", strerror(&e));
                return 1;
            }
            s
        }
    };
    match restore_bytes(rs, &text, &opts, sets) {
        Ok(stdout) => {
            print!("{stdout}");
            if !opts.test {
                if let Err(e) = store::store(rules, rs) {
                    eprintln!("{prog}: {e:#}");
                    return 1;
                }
            }
            0
        }
        Err(e) => {
            print!("{}", e.stdout);
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
