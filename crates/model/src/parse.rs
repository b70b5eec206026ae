//! The iptables command line: getopt-style option resolution (clustered
//! short options, long options with unique-prefix abbreviation and
//! `--opt=value`, `!` inversion), commands, the rule's IP part, and the
//! dispatch of other options to the loaded matches and target, including
//! the implicit loading of the protocol match (`-p tcp --dport 22`).
//!
//! The result is a [`Parsed`] command, checked as `do_parse` checks it; what
//! depends on the ruleset (chains existing, rule numbers) is checked when
//! the command is applied ([`crate::command`]).

use crate::addr::{iface_warning, parse_addr_list, parse_iface, Family, Iface};
use crate::ext::{self, Arg, Call, Def, Loaded, Opt, Role, RuleCtx};
use crate::num::{scan_u64, strtoul};
use crate::rule::{Counters, IpSpec, Rule, Target, CHAIN_PROTOS, VERDICTS};
use crate::{names, Error, Kind, Result};

/// The command given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    /// `-A`.
    Append,
    /// `-C`.
    Check,
    /// `-D CHAIN rulespec`.
    Delete,
    /// `-D CHAIN N`.
    DeleteNum,
    /// `-I`.
    Insert,
    /// `-R`.
    Replace,
    /// `-L` (possibly with `-Z`).
    List,
    /// `-S` (possibly with `-Z`).
    ListRules,
    /// `-F`.
    Flush,
    /// `-Z`.
    Zero,
    /// `-Z CHAIN N`.
    ZeroNum,
    /// `-N`.
    NewChain,
    /// `-X`.
    DeleteChain,
    /// `-E`.
    RenameChain,
    /// `-P`.
    Policy,
    /// `-V`: print the version.
    Version,
    /// `-h`: print help.
    Help,
    /// A restore line ignored by `-4`/`-6` of the other family.
    Nothing,
}

/// A parsed command line.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The command.
    pub cmd: Cmd,
    /// `-Z` given together with `-L`/`-S`.
    pub zero_too: bool,
    /// That `-Z` named a rule number (`-Z CHAIN N`).
    pub zero_num: bool,
    /// `-t`.
    pub table: String,
    /// The chain argument.
    pub chain: Option<String>,
    /// The rule number argument (1-based).
    pub rulenum: Option<u32>,
    /// `-E` new name.
    pub newname: Option<String>,
    /// `-P` policy.
    pub policy: Option<String>,
    /// `-n`.
    pub numeric: bool,
    /// `-v` count.
    pub verbose: u32,
    /// `-x`.
    pub exact: bool,
    /// `--line-numbers`.
    pub line_numbers: bool,
    /// The rules (several when `-s`/`-d` name several addresses).
    pub rules: Vec<Rule>,
    /// `! -V`.
    pub invert_version: bool,
    /// Warnings printed to stderr while parsing.
    pub warnings: String,
}

/// What the parser needs to know besides the words.
#[derive(Debug, Clone, Copy)]
pub struct ParseEnv<'a> {
    /// The family.
    pub family: Family,
    /// Parsing a line of iptables-restore (`-t` not allowed twice, no `-w`).
    pub restore: bool,
    /// The table in force (the restore file's `*table`), else `filter`.
    pub table: &'a str,
    /// Known ipsets.
    pub sets: &'a [crate::ext::set::IpSet],
}

// Option flags of the command (`optflags` order).
const OPT_NUMERIC: u32 = 1 << 0;
const OPT_SOURCE: u32 = 1 << 1;
const OPT_DESTINATION: u32 = 1 << 2;
const OPT_PROTOCOL: u32 = 1 << 3;
const OPT_JUMP: u32 = 1 << 4;
const OPT_VERBOSE: u32 = 1 << 5;
const OPT_EXPANDED: u32 = 1 << 6;
const OPT_VIANAMEIN: u32 = 1 << 7;
const OPT_VIANAMEOUT: u32 = 1 << 8;
const OPT_LINENUMBERS: u32 = 1 << 9;
const OPT_COUNTERS: u32 = 1 << 10;
const OPT_FRAGMENT: u32 = 1 << 11;
const OPTFLAGS: [char; 12] = ['n', 's', 'd', 'p', 'j', 'v', 'x', 'i', 'o', '0', 'c', 'f'];

/// Base long options: (name, has_arg, short code).
const LONG_OPTS: &[(&str, Arg, char)] = &[
    ("append", Arg::Required, 'A'),
    ("delete", Arg::Required, 'D'),
    ("check", Arg::Required, 'C'),
    ("insert", Arg::Required, 'I'),
    ("replace", Arg::Required, 'R'),
    ("list", Arg::Optional, 'L'),
    ("list-rules", Arg::Optional, 'S'),
    ("flush", Arg::Optional, 'F'),
    ("zero", Arg::Optional, 'Z'),
    ("new-chain", Arg::Required, 'N'),
    ("delete-chain", Arg::Optional, 'X'),
    ("rename-chain", Arg::Required, 'E'),
    ("policy", Arg::Required, 'P'),
    ("source", Arg::Required, 's'),
    ("destination", Arg::Required, 'd'),
    ("src", Arg::Required, 's'),
    ("dst", Arg::Required, 'd'),
    ("protocol", Arg::Required, 'p'),
    ("in-interface", Arg::Required, 'i'),
    ("jump", Arg::Required, 'j'),
    ("table", Arg::Required, 't'),
    ("match", Arg::Required, 'm'),
    ("numeric", Arg::None, 'n'),
    ("out-interface", Arg::Required, 'o'),
    ("verbose", Arg::None, 'v'),
    ("wait", Arg::Optional, 'w'),
    ("wait-interval", Arg::Optional, 'W'),
    ("exact", Arg::None, 'x'),
    ("fragments", Arg::None, 'f'),
    ("version", Arg::None, 'V'),
    ("help", Arg::Optional, 'h'),
    ("line-numbers", Arg::None, '0'),
    ("modprobe", Arg::Required, 'M'),
    ("set-counters", Arg::Required, 'c'),
    ("goto", Arg::Required, 'g'),
    ("ipv4", Arg::None, '4'),
    ("ipv6", Arg::None, '6'),
];

/// Short options: `-:A:C:D:E:F::I:L::M:N:P:VX::Z::c:d:i:j:o:p:s:t:R:S::W::46bfg:h::m:nvw::x`.
fn short_arg(c: char) -> Option<Arg> {
    Some(match c {
        'A' | 'C' | 'D' | 'E' | 'I' | 'M' | 'N' | 'P' | 'c' | 'd' | 'i' | 'j' | 'o' | 'p' | 's'
        | 't' | 'R' | 'g' | 'm' => Arg::Required,
        'F' | 'L' | 'X' | 'Z' | 'S' | 'W' | 'h' | 'w' => Arg::Optional,
        'V' | '4' | '6' | 'b' | 'f' | 'n' | 'v' | 'x' => Arg::None,
        _ => return None,
    })
}

/// One extension instance being parsed.
struct Inst {
    loaded: Loaded,
    seen: u32,
    completed: bool,
}

/// Where a long option resolves to.
#[derive(Clone, Copy)]
enum OptRef {
    Base(char),
    /// Extension type index in `types`, option index.
    Ext(usize, &'static Opt),
}

struct State<'a> {
    env: ParseEnv<'a>,
    args: &'a [String],
    /// Index of the next word.
    optind: usize,
    /// Inside a cluster of short options: word index and byte offset.
    cluster: Option<(usize, usize)>,
    cmd: u32,
    options: u32,
    invert: bool,
    ip: IpSpec,
    protocol: Option<String>,
    proto_used: bool,
    matches: Vec<Inst>,
    /// Extension types in option-table order (newest first), with the
    /// index of the instance list each refers to (`None` for the target).
    types: Vec<&'static Def>,
    target: Option<Inst>,
    jumpto: Option<String>,
    goto: bool,
    src_text: Option<String>,
    dst_text: Option<String>,
    counters: Option<Counters>,
    p: Parsed,
    table_set: bool,
    /// Parsing ends early: `-h`, `-V`, or a restore line for the other
    /// family (`-4`/`-6`).
    stop: bool,
    /// Words were left after `--`.
    leftover: bool,
    /// Chain names iptables-restore announced with `:NAME` lines.
    announced: &'a [String],
}

const CMD_NONE: u32 = 0;
const CMD_INSERT: u32 = 1 << 0;
const CMD_DELETE: u32 = 1 << 1;
const CMD_DELETE_NUM: u32 = 1 << 2;
const CMD_REPLACE: u32 = 1 << 3;
const CMD_APPEND: u32 = 1 << 4;
const CMD_LIST: u32 = 1 << 5;
const CMD_FLUSH: u32 = 1 << 6;
const CMD_ZERO: u32 = 1 << 7;
const CMD_NEW_CHAIN: u32 = 1 << 8;
const CMD_DELETE_CHAIN: u32 = 1 << 9;
const CMD_SET_POLICY: u32 = 1 << 10;
const CMD_RENAME_CHAIN: u32 = 1 << 11;
const CMD_LIST_RULES: u32 = 1 << 12;
const CMD_ZERO_NUM: u32 = 1 << 13;
const CMD_CHECK: u32 = 1 << 14;
const CMD_CHARS: [char; 15] = [
    'I', 'D', 'D', 'R', 'A', 'L', 'F', 'Z', 'N', 'X', 'P', 'E', 'S', 'Z', 'C',
];

fn cmd2char(cmd: u32) -> char {
    CMD_CHARS[cmd.trailing_zeros().min(14) as usize]
}

/// Legal options per command (`commands_v_options`), 'x' marking illegal.
fn fix_table() -> [[u8; 12]; 15] {
    // Spell the table column by column from the C source for clarity.
    // columns: n s d p j v x i o line c f
    let rows: [&str; 15] = [
        "x.....x..x..", // INSERT
        "x.....x..xx.", // DELETE
        "xxxxx.xxxxxx", // DELETE_NUM
        "x.....x..x..", // REPLACE
        "x.....x..x..", // APPEND
        ".xxxx..xx.xx", // LIST
        "xxxxx.xxxxxx", // FLUSH
        "xxxxx.xxxxxx", // ZERO
        "xxxxx.xxxxxx", // NEW_CHAIN
        "xxxxx.xxxxxx", // DEL_CHAIN
        "xxxxx.xxxx.x", // SET_POLICY
        "xxxxx.xxxxxx", // RENAME
        "xxxxx.xxxxxx", // LIST_RULES
        "xxxxx.xxxxxx", // ZERO_NUM
        "x.....x..xx.", // CHECK
    ];
    let mut t = [[b' '; 12]; 15];
    for (i, r) in rows.iter().enumerate() {
        for (j, c) in r.bytes().enumerate() {
            t[i][j] = if c == b'x' { b'x' } else { b' ' };
        }
    }
    t
}

impl<'a> State<'a> {
    fn add_command(&mut self, newcmd: u32, othercmds: u32) -> Result<()> {
        if self.invert {
            return Err(Error::param("unexpected '!' flag"));
        }
        if self.cmd & !othercmds != 0 {
            return Err(Error::param(format!(
                "Cannot use -{} with -{}",
                cmd2char(newcmd),
                cmd2char(self.cmd & !othercmds)
            )));
        }
        self.cmd |= newcmd;
        Ok(())
    }

    fn set_option(&mut self, opt: u32) -> Result<()> {
        let c = OPTFLAGS[opt.trailing_zeros() as usize];
        if self.options & opt != 0 {
            return Err(Error::param(format!("multiple -{c} flags not allowed")));
        }
        self.options |= opt;
        if self.invert {
            let invertible = OPT_SOURCE
                | OPT_DESTINATION
                | OPT_PROTOCOL
                | OPT_VIANAMEIN
                | OPT_VIANAMEOUT
                | OPT_FRAGMENT;
            if opt & invertible == 0 {
                return Err(Error::param(format!("cannot have ! before -{c}")));
            }
        }
        Ok(())
    }

    /// `xs_has_arg`: the next word exists and starts with neither `-` nor `!`.
    fn has_arg(&self) -> bool {
        self.cluster.is_none()
            && self
                .args
                .get(self.optind)
                .is_some_and(|a| !a.starts_with('-') && !a.starts_with('!'))
    }

    fn take_next(&mut self) -> String {
        let s = self.args[self.optind].clone();
        self.optind += 1;
        s
    }

    fn rulenumber(s: &str) -> Result<u32> {
        strtoul(s, 1, i32::MAX as u64)
            .map(|v| v as u32)
            .ok_or_else(|| Error::param(format!("Invalid rule number `{s}'")))
    }

    /// Resolves a long option name against the merged option table:
    /// base options, then extension types newest first; an exact name
    /// wins, else a unique prefix. `None` when unknown or ambiguous (getopt
    /// returns `?` for both, and iptables says "unknown option").
    fn lookup_long(&self, name: &str) -> Option<OptRef> {
        let mut table: Vec<(&str, OptRef)> = LONG_OPTS
            .iter()
            .map(|(n, _, c)| (*n, OptRef::Base(*c)))
            .collect();
        for (ti, def) in self.types.iter().enumerate() {
            for o in def.opts {
                table.push((o.name, OptRef::Ext(ti, o)));
            }
        }
        if let Some((_, r)) = table.iter().find(|(n, _)| *n == name) {
            return Some(*r);
        }
        let mut found: Option<OptRef> = None;
        for (n, r) in &table {
            if n.starts_with(name) {
                match found {
                    None => found = Some(*r),
                    Some(prev) if same_ref(prev, *r) => {}
                    Some(_) => return None,
                }
            }
        }
        found
    }

    fn load_match(&mut self, def: &'static Def) {
        for m in &mut self.matches {
            if m.loaded.def.name == def.name {
                m.completed = true;
            }
        }
        self.matches.push(Inst {
            loaded: Loaded::new(def, self.env.family),
            seen: 0,
            completed: false,
        });
        if !self.types.iter().any(|d| std::ptr::eq(*d, def)) {
            self.types.insert(0, def);
        }
    }

    /// The protocol match to load implicitly, as `should_load_proto` and
    /// `find_proto` decide.
    fn proto_match(&self) -> Option<&'static Def> {
        let proto = self.protocol.as_deref()?;
        let name = match strtoul(proto, 0, 255) {
            Some(n) => crate::rule::proto_to_name(n as u8, self.options & OPT_NUMERIC != 0)?,
            None => proto,
        };
        let def = ext::find(Role::Match, name, self.env.family)?;
        let loaded = self.matches.iter().any(|m| m.loaded.def.name == def.name);
        if loaded && self.proto_used {
            return None;
        }
        Some(def)
    }

    /// Calls an extension option with the framework's generic checks.
    fn ext_option(&mut self, ti: usize, opt: &'static Opt, arg: Option<String>) -> Result<()> {
        let def = self.types[ti];
        let invert = self.invert;
        let ctx_ip = self.ip.clone();
        let table = self.p.table.clone();
        let warnings = std::cell::RefCell::new(String::new());
        let ctx = RuleCtx {
            family: self.env.family,
            ip: &ctx_ip,
            table: &table,
            sets: self.env.sets,
            warnings: &warnings,
        };
        let inst = if def.role == Role::Target {
            self.target.as_mut()
        } else {
            self.matches
                .iter_mut()
                .find(|m| std::ptr::eq(m.loaded.def, def) && !m.completed)
        };
        let Some(inst) = inst else {
            return Err(Error::param(format!("unknown option \"--{}\"", opt.name)));
        };
        let bit = 1u32 << opt.id;
        // Like `xtables_option_lookup`, messages and the extension see the
        // first entry with this id (`--dports` reports `--destination-ports`).
        let opt = def.opts.iter().find(|o| o.id == opt.id).unwrap_or(opt);
        if !opt.raw {
            if (!opt.multi || opt.excl & bit != 0) && inst.seen & bit != 0 {
                return Err(Error::param(format!(
                    "{}: option \"--{}\" can only be used once.\n",
                    def.name, opt.name
                )));
            }
            if invert && !opt.invert {
                return Err(Error::param(format!(
                    "{}: option \"--{}\" cannot be inverted.\n",
                    def.name, opt.name
                )));
            }
            if opt.arg == Arg::Required && arg.is_none() {
                return Err(Error::param(format!(
                    "{}: option \"--{}\" requires an argument.\n",
                    def.name, opt.name
                )));
            }
        }
        let consumed = std::cell::Cell::new(0);
        let call = Call {
            id: opt.id,
            name: opt.name,
            arg: arg.as_deref(),
            invert,
            seen: inst.seen,
            rest: &self.args[self.optind..],
            consumed: &consumed,
        };
        let res = inst.loaded.ext.parse(&call, &ctx);
        if res.is_ok() {
            inst.seen |= bit;
        }
        self.p.warnings.push_str(&warnings.borrow());
        res?;
        self.optind += consumed.get();
        Ok(())
    }

    /// The extension's own final check, then the framework's, in the
    /// order of `xtables_option_mfcall`.
    fn finish_ext(inst: &mut Inst, ctx: &RuleCtx) -> Result<()> {
        inst.loaded.ext.finish(inst.seen, ctx)?;
        let def = inst.loaded.def;
        for o in def.opts {
            let bit = 1u32 << o.id;
            if o.raw {
                continue;
            }
            if o.mand && inst.seen & bit == 0 {
                return Err(Error::param(format!(
                    "{}: option \"--{}\" must be specified\n",
                    def.name, o.name
                )));
            }
            if inst.seen & bit == 0 {
                continue;
            }
            for other in def.opts {
                let obit = 1u32 << other.id;
                if o.also & obit != 0 && inst.seen & obit == 0 {
                    return Err(Error::param(format!(
                        "{}: option \"--{}\" also requires \"--{}\".\n",
                        def.name, o.name, other.name
                    )));
                }
                if other.id != o.id && o.excl & obit != 0 && inst.seen & obit != 0 {
                    return Err(Error::param(format!(
                        "{}: option \"--{}\" cannot be used together with \"--{}\".\n",
                        def.name, o.name, other.name
                    )));
                }
            }
        }
        Ok(())
    }
}

fn same_ref(a: OptRef, b: OptRef) -> bool {
    match (a, b) {
        (OptRef::Base(x), OptRef::Base(y)) => x == y,
        (OptRef::Ext(t1, o1), OptRef::Ext(t2, o2)) => t1 == t2 && o1.id == o2.id,
        _ => false,
    }
}

/// What one getopt step produced.
enum Tok {
    /// A short or base long option, with its argument.
    Base(char, Option<String>),
    /// An extension option.
    Ext(usize, &'static Opt, Option<String>),
    /// A word that is not an option.
    NonOpt(String),
    /// An unknown option (the word).
    Unknown(String),
    /// A known option whose argument is missing (the word).
    Missing(String),
    /// `--` or the end.
    End,
}

impl State<'_> {
    fn next_tok(&mut self) -> Result<Tok> {
        if let Some((wi, off)) = self.cluster {
            let word = &self.args[wi];
            let c = word[off..].chars().next().unwrap_or('\0');
            let next = off + c.len_utf8();
            let rest = &word[next..];
            self.cluster = if rest.is_empty() {
                None
            } else {
                Some((wi, next))
            };
            let Some(kind) = short_arg(c) else {
                if self.cluster.is_none() {
                    self.optind = wi + 1;
                }
                return Ok(Tok::Unknown(word.clone()));
            };
            let arg = match kind {
                Arg::None => None,
                Arg::Optional => {
                    if rest.is_empty() {
                        None
                    } else {
                        self.cluster = None;
                        Some(rest.to_string())
                    }
                }
                Arg::Required => {
                    if !rest.is_empty() {
                        self.cluster = None;
                        Some(rest.to_string())
                    } else if self.optind < self.args.len() {
                        Some(self.take_next())
                    } else {
                        return Ok(Tok::Missing(word.clone()));
                    }
                }
            };
            return Ok(Tok::Base(c, arg));
        }
        let Some(word) = self.args.get(self.optind).cloned() else {
            return Ok(Tok::End);
        };
        self.optind += 1;
        if word == "--" {
            return Ok(Tok::End);
        }
        if let Some(long) = word.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let Some(r) = self.lookup_long(name) else {
                return Ok(Tok::Unknown(word));
            };
            let arg_kind = match r {
                OptRef::Base(c) => LONG_OPTS
                    .iter()
                    .find(|(_, _, cc)| *cc == c)
                    .map(|(_, a, _)| *a)
                    .unwrap_or(Arg::None),
                OptRef::Ext(_, o) => o.arg,
            };
            let arg = match arg_kind {
                Arg::None => {
                    if inline.is_some() {
                        return Ok(Tok::Unknown(word));
                    }
                    None
                }
                Arg::Optional => inline,
                Arg::Required => match inline {
                    Some(v) => Some(v),
                    None if self.optind < self.args.len() => Some(self.take_next()),
                    None => return Ok(Tok::Missing(word)),
                },
            };
            return Ok(match r {
                OptRef::Base(c) => Tok::Base(c, arg),
                OptRef::Ext(ti, o) => Tok::Ext(ti, o, arg),
            });
        }
        if word.len() > 1 && word.starts_with('-') {
            self.cluster = Some((self.optind - 1, 1));
            return self.next_tok();
        }
        Ok(Tok::NonOpt(word))
    }
}

fn empty_parsed(table: &str) -> Parsed {
    Parsed {
        cmd: Cmd::Nothing,
        zero_too: false,
        zero_num: false,
        table: table.to_string(),
        chain: None,
        rulenum: None,
        newname: None,
        policy: None,
        numeric: false,
        verbose: 0,
        exact: false,
        line_numbers: false,
        rules: Vec::new(),
        invert_version: false,
        warnings: String::new(),
    }
}

/// `sscanf(s, "%i")` or `"%u"`: optional blanks and sign, then digits
/// (`%i` also reads `0x` hex and `0` octal). The value, wrapped to 32 bits.
fn scan_int(s: &str, c_style: bool) -> Option<i64> {
    let t = s.trim_start();
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, t) = if c_style && (t.starts_with("0x") || t.starts_with("0X")) {
        (16, &t[2..])
    } else if c_style && t.starts_with('0') {
        (8, t)
    } else {
        (10, t)
    };
    let end = t.find(|ch: char| !ch.is_digit(radix)).unwrap_or(t.len());
    if end == 0 {
        return None;
    }
    let v = i64::from_str_radix(&t[..end], radix).unwrap_or(i64::MAX);
    Some(if neg { -v } else { v })
}

/// Parses one iptables command line (without the program name).
pub fn parse(args: &[String], env: ParseEnv) -> Result<Parsed> {
    parse_announced(args, env, &[])
}

/// [`parse`] for a line of iptables-restore after `:NAME` lines announced
/// `chains`: `-j NAME` for one of them jumps to that chain even where NAME
/// is also a target extension, as libxtables then no longer looks NAME up
/// as a target.
pub fn parse_announced(args: &[String], env: ParseEnv, chains: &[String]) -> Result<Parsed> {
    let mut st = State {
        announced: chains,
        env,
        args,
        optind: 0,
        cluster: None,
        cmd: CMD_NONE,
        options: 0,
        invert: false,
        ip: IpSpec::any(env.family),
        protocol: None,
        proto_used: false,
        matches: Vec::new(),
        types: Vec::new(),
        target: None,
        jumpto: None,
        goto: false,
        src_text: None,
        dst_text: None,
        counters: None,
        p: empty_parsed(env.table),
        table_set: false,
        stop: false,
        leftover: false,
    };
    let mut wait_interval_set = false;
    let mut wait_set = false;
    let res = parse_words(&mut st, &mut wait_set, &mut wait_interval_set).and_then(|done| {
        if done {
            Ok(st.p.clone())
        } else {
            finish(&mut st, wait_set, wait_interval_set)
        }
    });
    res.map_err(|mut e| {
        e.before = std::mem::take(&mut st.p.warnings);
        e
    })
}

/// The getopt loop; true when parsing ended early (`-h`, `-V`, a restore
/// line of the other family).
fn parse_words(st: &mut State, wait_set: &mut bool, wait_interval_set: &mut bool) -> Result<bool> {
    loop {
        let tok = st.next_tok()?;
        match tok {
            Tok::End => {
                st.leftover = st.optind < st.args.len();
                break;
            }
            Tok::NonOpt(w) => {
                if w == "!" {
                    if st.invert {
                        return Err(Error::param("multiple consecutive ! not allowed"));
                    }
                    st.invert = true;
                    continue;
                }
                return Err(Error::new(Kind::Usage, format!("Bad argument `{w}'")));
            }
            Tok::Ext(ti, o, arg) => st.ext_option(ti, o, arg)?,
            Tok::Unknown(ref w) | Tok::Missing(ref w) => {
                let missing = matches!(tok, Tok::Missing(_));
                if let Some(def) = st.proto_match() {
                    // Load the protocol match and read the same word again
                    // with its options merged.
                    st.proto_used = true;
                    st.load_match(def);
                    st.optind -= 1;
                    st.cluster = None;
                    continue;
                }
                return Err(Error::param(if missing {
                    format!("option \"{w}\" requires an argument")
                } else {
                    format!("unknown option \"{w}\"")
                }));
            }
            Tok::Base(c, arg) => {
                base_option(st, c, arg, wait_set, wait_interval_set)?;
                if st.stop {
                    return Ok(true);
                }
            }
        }
        st.invert = false;
    }
    Ok(false)
}

fn base_option(
    st: &mut State,
    c: char,
    arg: Option<String>,
    wait_set: &mut bool,
    wait_interval_set: &mut bool,
) -> Result<()> {
    let arg_s = arg.clone().unwrap_or_default();
    // iptables 1.8.9 reads the argument of -p -s -d -j -i -o as
    // `argv[optind - 1]`: the whole option word when it is attached
    // (`-ptcp`, `--jump=DROP`).
    let word = st
        .optind
        .checked_sub(1)
        .and_then(|i| st.args.get(i))
        .cloned()
        .unwrap_or_default();
    match c {
        'A' => {
            st.add_command(CMD_APPEND, CMD_NONE)?;
            st.p.chain = arg;
        }
        'C' => {
            st.add_command(CMD_CHECK, CMD_NONE)?;
            st.p.chain = arg;
        }
        'D' => {
            st.add_command(CMD_DELETE, CMD_NONE)?;
            st.p.chain = arg;
            if st.has_arg() {
                let w = st.take_next();
                st.p.rulenum = Some(State::rulenumber(&w)?);
                st.cmd = CMD_DELETE_NUM;
            }
        }
        'R' => {
            st.add_command(CMD_REPLACE, CMD_NONE)?;
            st.p.chain = arg;
            if st.has_arg() {
                let w = st.take_next();
                st.p.rulenum = Some(State::rulenumber(&w)?);
            } else {
                return Err(Error::param("-R requires a rule number"));
            }
        }
        'I' => {
            st.add_command(CMD_INSERT, CMD_NONE)?;
            st.p.chain = arg;
            st.p.rulenum = Some(if st.has_arg() {
                let w = st.take_next();
                State::rulenumber(&w)?
            } else {
                1
            });
        }
        'L' | 'S' => {
            let cmd = if c == 'L' { CMD_LIST } else { CMD_LIST_RULES };
            st.add_command(cmd, CMD_ZERO | CMD_ZERO_NUM)?;
            optional_chain(st, arg);
            if st.has_arg() {
                let w = st.take_next();
                st.p.rulenum = Some(State::rulenumber(&w)?);
            }
        }
        'F' => {
            st.add_command(CMD_FLUSH, CMD_NONE)?;
            optional_chain(st, arg);
        }
        'Z' => {
            st.add_command(CMD_ZERO, CMD_LIST | CMD_LIST_RULES)?;
            optional_chain(st, arg);
            if st.has_arg() {
                let w = st.take_next();
                st.p.rulenum = Some(State::rulenumber(&w)?);
                // iptables sets the command outright: a `-L`/`-S` before
                // is forgotten.
                st.cmd = CMD_ZERO_NUM;
            }
        }
        'N' => {
            assert_valid_chain_name(&arg_s, st.env.family)?;
            st.add_command(CMD_NEW_CHAIN, CMD_NONE)?;
            st.p.chain = arg;
        }
        'X' => {
            st.add_command(CMD_DELETE_CHAIN, CMD_NONE)?;
            optional_chain(st, arg);
        }
        'E' => {
            st.add_command(CMD_RENAME_CHAIN, CMD_NONE)?;
            st.p.chain = arg;
            if st.has_arg() {
                st.p.newname = Some(st.take_next());
            } else {
                return Err(Error::param(
                    "-E requires old-chain-name and new-chain-name",
                ));
            }
        }
        'P' => {
            st.add_command(CMD_SET_POLICY, CMD_NONE)?;
            st.p.chain = arg;
            if st.has_arg() {
                st.p.policy = Some(st.take_next());
            } else {
                return Err(Error::param("-P requires a chain and a policy"));
            }
        }
        'h' => {
            st.p.cmd = Cmd::Help;
            st.stop = true;
        }
        'V' => {
            st.p.cmd = Cmd::Version;
            st.p.invert_version = st.invert;
            st.stop = true;
        }
        'p' => {
            st.set_option(OPT_PROTOCOL)?;
            let lower = word.to_ascii_lowercase();
            let proto = parse_protocol(&lower)?;
            if proto == 0 && st.invert {
                return Err(Error::param("rule would never match protocol"));
            }
            st.ip.proto = proto;
            st.ip.proto_inv = st.invert;
            // ipv6_proto_parse: an extension header is never the upper
            // layer protocol.
            const EXTHDRS: [u8; 4] = [43, 44, 51, 60];
            if st.env.family == Family::V6 && !st.invert && EXTHDRS.contains(&proto) {
                st.p.warnings.push_str(&format!(
                    "Warning: never matched protocol: {lower}. use extension match instead.\n"
                ));
            }
            st.protocol = Some(lower);
        }
        's' => {
            st.set_option(OPT_SOURCE)?;
            st.ip.src_inv = st.invert;
            st.src_text = Some(word);
        }
        'd' => {
            st.set_option(OPT_DESTINATION)?;
            st.ip.dst_inv = st.invert;
            st.dst_text = Some(word);
        }
        'g' | 'j' => {
            st.set_option(OPT_JUMP)?;
            let name = parse_target_name(if c == 'g' { &arg_s } else { &word })?;
            if c == 'g' {
                st.goto = true;
                st.jumpto = Some(name);
            } else {
                command_jump(st, name);
            }
        }
        'i' | 'o' => {
            if arg_s.is_empty() {
                return Err(Error::param("Empty interface is likely to be undesired"));
            }
            let (flag, iface) = if c == 'i' {
                (OPT_VIANAMEIN, &mut st.ip.iniface)
            } else {
                (OPT_VIANAMEOUT, &mut st.ip.outiface)
            };
            if let Some(w) = iface_warning(&word) {
                st.p.warnings.push_str(&w);
            }
            let name = parse_iface(&word)?;
            *iface = Iface {
                name,
                invert: st.invert,
            };
            st.set_option(flag)?;
        }
        'f' => {
            if st.env.family == Family::V6 {
                return Err(Error::param(
                    "`-f' is not supported in IPv6, use -m frag instead",
                ));
            }
            st.set_option(OPT_FRAGMENT)?;
            st.ip.frag = true;
            st.ip.frag_inv = st.invert;
        }
        'v' => {
            if st.p.verbose == 0 {
                st.set_option(OPT_VERBOSE)?;
            }
            st.p.verbose += 1;
        }
        'm' => {
            if st.invert {
                return Err(Error::param("unexpected ! flag before --match"));
            }
            let def = ext::find(Role::Match, &arg_s, st.env.family).ok_or_else(|| {
                Error::param(format!(
                    "Couldn't load match `{arg_s}':No such file or directory\n"
                ))
            })?;
            st.load_match(def);
        }
        'n' => {
            st.set_option(OPT_NUMERIC)?;
            st.p.numeric = true;
        }
        't' => {
            if st.invert {
                return Err(Error::param("unexpected ! flag before --table"));
            }
            if st.env.restore && st.table_set {
                return Err(Error::param(format!(
                    "The -t option cannot be used in {}-restore.\n",
                    st.env.family.prog()
                )));
            }
            st.p.table = arg_s;
            st.table_set = true;
        }
        'x' => {
            st.set_option(OPT_EXPANDED)?;
            st.p.exact = true;
        }
        'w' | 'W' => {
            if st.env.restore {
                return Err(Error::param(format!(
                    "You cannot use `-{c}' from {}-restore",
                    st.env.family.prog()
                )));
            }
            let value = match arg {
                Some(a) => Some(a),
                None if st.has_arg() => Some(st.take_next()),
                None => None,
            };
            if c == 'w' {
                // `-w` alone waits forever (-1); `-w 0` does not wait.
                let secs = match &value {
                    Some(v) => {
                        scan_int(v, true).ok_or_else(|| Error::param("wait seconds not numeric"))?
                    }
                    None => -1,
                };
                *wait_set = secs != 0;
            } else {
                let v = value.ok_or_else(|| Error::param("wait interval value required"))?;
                let usec = scan_int(&v, false)
                    .ok_or_else(|| Error::param("wait interval not numeric"))?
                    as u32;
                if usec > 999_999 {
                    return Err(Error::param(format!(
                        "too long usec wait {usec} > 999999 usec"
                    )));
                }
                st.p.warnings
                    .push_str("Ignoring deprecated --wait-interval option.\n");
                *wait_interval_set = true;
            }
        }
        '0' => {
            st.set_option(OPT_LINENUMBERS)?;
            st.p.line_numbers = true;
        }
        'M' => {}
        'c' => {
            st.set_option(OPT_COUNTERS)?;
            // The comma is looked for from the second byte on (C's
            // `strchr(pcnt + 1, ',')`); bytes, as the first may be multibyte.
            let comma = arg_s.bytes().skip(1).position(|b| b == b',');
            let (pc, mut bc) = match comma {
                Some(i) => (arg_s[..i + 1].to_string(), Some(arg_s[i + 2..].to_string())),
                None => (arg_s.clone(), None),
            };
            if bc.is_none() && st.has_arg() {
                bc = Some(st.take_next());
            }
            let Some(bc) = bc else {
                return Err(Error::param("-c requires packet and byte counter"));
            };
            let packets =
                scan_u64(&pc).ok_or_else(|| Error::param("-c packet counter not numeric"))?;
            let bytes = scan_u64(&bc).ok_or_else(|| Error::param("-c byte counter not numeric"))?;
            st.counters = Some(Counters { packets, bytes });
        }
        '4' | '6' => {
            let mine = if c == '4' { Family::V4 } else { Family::V6 };
            if st.env.family != mine {
                if st.env.restore {
                    st.p.cmd = Cmd::Nothing;
                    st.stop = true;
                    return Ok(());
                }
                return Err(Error::new(Kind::Usage, String::new()));
            }
        }
        _ => return Err(Error::param(format!("unknown option \"-{c}\""))),
    }
    Ok(())
}

fn optional_chain(st: &mut State, arg: Option<String>) {
    if arg.is_some() {
        st.p.chain = arg;
    } else if st.has_arg() {
        st.p.chain = Some(st.take_next());
    }
}

fn parse_target_name(name: &str) -> Result<String> {
    if name.is_empty() {
        return Err(Error::param("Invalid target name (too short)"));
    }
    if name.len() >= 29 {
        return Err(Error::param(format!(
            "Invalid target name `{name}' (28 chars max)"
        )));
    }
    if name.chars().any(c_isspace) {
        return Err(Error::param(format!("Invalid target name `{name}'")));
    }
    Ok(name.to_string())
}

/// C `isspace`: also `\v`, which Rust's ASCII whitespace leaves out.
fn c_isspace(c: char) -> bool {
    c == ' ' || ('\t'..='\r').contains(&c)
}

fn command_jump(st: &mut State, name: String) {
    let found = ext::find(Role::Target, &name, st.env.family);
    if let Some(def) = found.filter(|_| !st.announced.contains(&name)) {
        st.target = Some(Inst {
            loaded: Loaded::new(def, st.env.family),
            seen: 0,
            completed: false,
        });
        st.types.retain(|d| d.role != Role::Target);
        st.types.insert(0, def);
    }
    st.jumpto = Some(name);
}

/// `xtables_parse_protocol`: a number, a built-in name, or `/etc/protocols`.
pub fn parse_protocol(s: &str) -> Result<u8> {
    if let Some(n) = strtoul(s, 0, 255) {
        return Ok(n as u8);
    }
    if let Some((_, n)) = CHAIN_PROTOS.iter().find(|(name, _)| *name == s) {
        return Ok(*n);
    }
    names::protocol_number(s)
        .ok_or_else(|| Error::param(format!("unknown protocol \"{s}\" specified")))
}

/// `assert_valid_chain_name` for `-N` (and restore's `:CHAIN` lines).
pub fn assert_valid_chain_name(name: &str, family: Family) -> Result<()> {
    if name.len() >= 29 {
        return Err(Error::param(format!(
            "chain name `{name}' too long (must be under 29 chars)"
        )));
    }
    if let Some(c) = name.chars().next() {
        if c == '-' || c == '!' {
            return Err(Error::param(format!(
                "chain name not allowed to start with `{c}'"
            )));
        }
    }
    // The empty name is the standard target's.
    if name.is_empty()
        || VERDICTS.contains(&name)
        || ext::find(Role::Target, name, family).is_some()
    {
        return Err(Error::param("chain name may not clash with target name"));
    }
    if name.chars().any(c_isspace) {
        return Err(Error::param(format!("Invalid chain name `{name}'")));
    }
    Ok(())
}

fn finish(st: &mut State, wait_set: bool, wait_interval_set: bool) -> Result<Parsed> {
    if st.p.table == "nat"
        && (st.p.policy.as_deref() == Some("DROP") || st.jumpto.as_deref() == Some("DROP"))
    {
        return Err(Error::param(
            "\nThe \"nat\" table is not intended for filtering, the use of DROP is therefore inhibited.\n\n",
        ));
    }
    if !wait_set && wait_interval_set {
        return Err(Error::param(
            "--wait-interval only makes sense with --wait\n",
        ));
    }
    let ip = st.ip.clone();
    let table = st.p.table.clone();
    let warnings = std::cell::RefCell::new(String::new());
    let ctx = RuleCtx {
        family: st.env.family,
        ip: &ip,
        table: &table,
        sets: st.env.sets,
        warnings: &warnings,
    };
    let finished = st
        .matches
        .iter_mut()
        .chain(st.target.as_mut())
        .try_for_each(|i| State::finish_ext(i, &ctx));
    st.p.warnings.push_str(&warnings.borrow());
    finished?;
    if st.leftover {
        return Err(Error::param("unknown arguments found on commandline"));
    }
    if st.cmd == CMD_NONE {
        return Err(Error::param("no command specified"));
    }
    if st.invert {
        return Err(Error::param("nothing appropriate following !"));
    }
    // post_parse: addresses.
    let rule_cmd = CMD_REPLACE | CMD_INSERT | CMD_DELETE | CMD_APPEND | CMD_CHECK;
    let any = match st.env.family {
        Family::V4 => "0.0.0.0/0",
        Family::V6 => "::/0",
    };
    let srcs = match (&st.src_text, st.cmd & rule_cmd != 0) {
        (Some(t), _) => parse_addr_list(st.env.family, t)?,
        (None, true) => parse_addr_list(st.env.family, any)?,
        (None, false) => Vec::new(),
    };
    let dsts = match (&st.dst_text, st.cmd & rule_cmd != 0) {
        (Some(t), _) => parse_addr_list(st.env.family, t)?,
        (None, true) => parse_addr_list(st.env.family, any)?,
        (None, false) => Vec::new(),
    };
    if (srcs.len() > 1 || dsts.len() > 1) && (st.ip.src_inv || st.ip.dst_inv) {
        return Err(Error::param(
            "! not allowed with multiple source or destination IP addresses",
        ));
    }
    if st.cmd == CMD_REPLACE && (srcs.len() != 1 || dsts.len() != 1) {
        return Err(Error::param(
            "Replacement rule does not specify a unique address",
        ));
    }
    generic_opt_check(st.cmd, st.options)?;
    if let Some(c) = &st.p.chain {
        if c.len() >= 29 {
            return Err(Error::param(format!(
                "chain name `{c}' too long (must be under 29 chars)"
            )));
        }
    }
    if st.cmd & (CMD_APPEND | CMD_DELETE | CMD_DELETE_NUM | CMD_CHECK | CMD_INSERT | CMD_REPLACE)
        != 0
    {
        let chain = st.p.chain.as_deref().unwrap_or("");
        if (chain == "PREROUTING" || chain == "INPUT") && st.options & OPT_VIANAMEOUT != 0 {
            return Err(Error::param(format!("Can't use -o with {chain}\n")));
        }
        if (chain == "POSTROUTING" || chain == "OUTPUT") && st.options & OPT_VIANAMEIN != 0 {
            return Err(Error::param(format!("Can't use -i with {chain}\n")));
        }
    }
    st.p.cmd = match st.cmd {
        CMD_APPEND => Cmd::Append,
        CMD_CHECK => Cmd::Check,
        CMD_DELETE => Cmd::Delete,
        CMD_DELETE_NUM => Cmd::DeleteNum,
        CMD_INSERT => Cmd::Insert,
        CMD_REPLACE => Cmd::Replace,
        CMD_FLUSH => Cmd::Flush,
        CMD_ZERO => Cmd::Zero,
        CMD_ZERO_NUM => Cmd::ZeroNum,
        CMD_NEW_CHAIN => Cmd::NewChain,
        CMD_DELETE_CHAIN => Cmd::DeleteChain,
        CMD_RENAME_CHAIN => Cmd::RenameChain,
        CMD_SET_POLICY => Cmd::Policy,
        c if c & CMD_LIST != 0 => Cmd::List,
        c if c & CMD_LIST_RULES != 0 => Cmd::ListRules,
        _ => return Err(Error::param("no command specified")),
    };
    st.p.zero_num = st.cmd & CMD_ZERO_NUM != 0;
    st.p.zero_too =
        matches!(st.p.cmd, Cmd::List | Cmd::ListRules) && st.cmd & (CMD_ZERO | CMD_ZERO_NUM) != 0;
    if st.cmd & rule_cmd != 0 {
        let target = match (st.target.take(), st.jumpto.take()) {
            (Some(t), _) => Target::Ext(t.loaded),
            (None, Some(name)) if st.goto => Target::Goto(name),
            (None, Some(name)) => match VERDICTS.iter().find(|v| **v == name) {
                Some(v) => Target::Verdict(v),
                None => Target::Jump(name),
            },
            (None, None) => Target::None,
        };
        let matches: Vec<Loaded> = std::mem::take(&mut st.matches)
            .into_iter()
            .map(|m| m.loaded)
            .collect();
        // ip6tables-nft 1.8.9 puts `-c` (and a restore line's `[p:b]`)
        // in the legacy-only `fw6.counters` (ipv6_post_parse): an IPv6
        // rule starts at zero whatever was given.
        let counters = match st.env.family {
            Family::V4 => st.counters.unwrap_or_default(),
            Family::V6 => Counters::default(),
        };
        for s in &srcs {
            for d in &dsts {
                let mut ip = st.ip.clone();
                ip.src = *s;
                ip.dst = *d;
                st.p.rules.push(Rule {
                    ip,
                    matches: matches.clone(),
                    target: target.clone(),
                    counters,
                });
            }
        }
    }
    Ok(std::mem::replace(&mut st.p, empty_parsed("")))
}

fn generic_opt_check(command: u32, options: u32) -> Result<()> {
    let table = fix_table();
    for (i, c) in OPTFLAGS.iter().enumerate() {
        let mut legal = 0i32;
        for (j, row) in table.iter().enumerate() {
            if command & (1 << j) == 0 {
                continue;
            }
            if options & (1 << i) != 0 {
                if row[i] != b'x' {
                    legal = 1;
                } else if legal == 0 {
                    legal = -1;
                }
            }
        }
        if legal == -1 {
            return Err(Error::param(format!(
                "Illegal option `-{c}' with this command"
            )));
        }
    }
    Ok(())
}
