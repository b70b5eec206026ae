//! `iptables-restore`: the save format read back, with iptables-nft's
//! semantics and messages (`xtables-restore.c`, 1.8.9), confirmed live.
//!
//! Input is read as `fgets` reads it (lines of at most 10239 bytes, text
//! after a NUL byte ignored). Each line is parsed as it comes, so a syntax
//! error names its own line at once. A table's commands run when its
//! `COMMIT` is read, in order, as iptables-nft prepares its batch: the first
//! failure stops the restore, naming the line of its command (`line N
//! failed: ...`, exit 1) or, for a parameter problem found only then (a jump
//! to a missing chain), the `COMMIT` line (exit 2). Refusals the kernel makes
//! come last, all of them listed (exit 4).
//!
//! A `:NAME` line announces NAME as a chain for the rest of the input: a
//! target extension of that name (`:LOG - [0:0]`) no longer clashes with it,
//! and `-j NAME` then jumps to the chain (libxtables' "notargets").
//!
//! Unlike iptables, which commits table by table, a restore here is all or
//! nothing for the whole input (DECISIONS.md, 3): on error the caller keeps
//! its ruleset.
//!
//! `-v` (once) echoes comments, passes `-v` on to the commands, and makes
//! the table flush of iptables-nft's verbose mode (`verbose_flush`); the
//! `-v -v` debug dumps of nftables objects are not modelled. `-R` of a rule
//! added earlier in the same table replaces it (real iptables-restore 1.8.9
//! crashes there).

use crate::command;
use crate::num::scan_u64_prefix;
use crate::parse::{self, Cmd, ParseEnv, Parsed};
use crate::rule::{Counters, VERDICTS};
use crate::ruleset::{table_def, Chain, Ruleset};
use crate::{Error, Kind};

/// Options of iptables-restore.
#[derive(Debug, Clone, Default)]
pub struct RestoreOpts {
    /// `-c`: restore counters.
    pub counters: bool,
    /// `-n`: do not flush tables first.
    pub noflush: bool,
    /// `-T TABLE`: only this table.
    pub table: Option<String>,
    /// `-t`: test only (parse, commit nothing).
    pub test: bool,
    /// `-v` count: comment lines are echoed, and without `-n` each command
    /// line gets as many `-v`.
    pub verbose: u32,
}

/// A failed restore, rendered as iptables-restore prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreError {
    /// Exit code.
    pub code: i32,
    /// The text for stderr.
    pub message: String,
    /// The input line the error names.
    pub line: usize,
    /// What listing commands in the input printed before the failure.
    pub stdout: String,
}

/// `fgets` buffer size of xtables-restore.
const LINE_BUFFER: usize = 10240;
/// `MAX_ARGC` of xshared.h: arguments per line, program name included.
const MAX_ARGC: usize = 255;
/// Size of one argument buffer in `add_param_to_argv`.
const PARAM_BUFFER: usize = 1024;
/// Size of the buffer iptables-nft collects kernel errors in.
const ERRMSG_BUFFER: usize = 1024;

enum Op {
    /// `*table` without `-n`: the table is deleted (then recreated by
    /// whatever writes to it); with `-v`, its rules are flushed and its user
    /// chains deleted instead, saying so.
    Flush,
    /// `:CHAIN POLICY [p:b]` of a built-in chain.
    Policy {
        chain: String,
        policy: String,
        counters: Counters,
    },
    /// `:CHAIN` of a user chain: created, or flushed if it exists.
    UserChain(String),
    /// A command line.
    Command(Box<Parsed>),
    /// A rule the kernel will refuse: the error text.
    Refused(String),
}

struct Pending {
    line: usize,
    table: &'static str,
    op: Op,
}

/// `prog vVERSION (ironwall)`, as iptables' error messages start.
fn prog_version(prog: &str) -> String {
    format!("{prog} v{} (ironwall)", crate::IPTABLES_VERSION)
}

/// An error as `xtables_error` prints it from iptables-restore: the
/// message, and for a parameter problem the line and the help hint.
fn exit_error(prog: &str, kind: Kind, msg: &str, line: usize) -> RestoreError {
    // The message keeps its own trailing newlines, as C's format strings
    // do; `exit_tryhelp` cases print their text (if any) bare.
    let head = if msg.is_empty() {
        String::new()
    } else if kind == Kind::Usage || (kind == Kind::Parameter && msg.starts_with("Bad argument `"))
    {
        format!("{msg}\n")
    } else {
        format!("{}: {msg}\n", prog_version(prog))
    };
    match kind {
        Kind::Parameter | Kind::Usage => RestoreError {
            code: 2,
            message: format!(
                "{head}Error occurred at line: {line}\nTry `{prog} -h' or '{prog} --help' for more information.\n"
            ),
            line,
            stdout: String::new(),
        },
        Kind::Other | Kind::Kernel | Kind::Problem | Kind::Version => RestoreError {
            code: kind.exit_code(),
            message: head,
            line,
            stdout: String::new(),
        },
    }
}

fn param_error(prog: &str, msg: &str, line: usize) -> RestoreError {
    exit_error(prog, Kind::Parameter, msg, line)
}

/// `line N failed[: MSG]`, exit 1.
fn failed(prog: &str, line: usize, msg: Option<&str>) -> RestoreError {
    let message = match msg {
        Some(m) => format!("{prog}: line {line} failed: {m}\n"),
        None => format!("{prog}: line {line} failed\n"),
    };
    RestoreError {
        code: 1,
        message,
        line,
        stdout: String::new(),
    }
}

/// The input split as `fgets(buf, 10240, f)` reads it: at most 10239 bytes
/// a piece, each ending after a newline; a piece's text stops at a NUL.
fn fgets_lines(input: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = input;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let max = rest.len().min(LINE_BUFFER - 1);
        let end = rest[..max]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(max, |i| i + 1);
        let (piece, tail) = rest.split_at(end);
        rest = tail;
        let text = piece.split(|&b| b == 0).next().unwrap_or(piece);
        Some(text)
    })
}

/// C `strtok` over a byte buffer: the next token from `pos` not made of
/// `delims`, NUL-terminating it in `buf`. Returns (start, end) and moves
/// `pos` past the terminator.
fn strtok(buf: &mut [u8], pos: &mut usize, delims: &[u8]) -> Option<(usize, usize)> {
    let from = (*pos).min(buf.len());
    let len = buf[from..]
        .iter()
        .position(|&b| b == 0)
        .map_or(buf.len(), |i| from + i);
    let mut start = from;
    while start < len && delims.contains(&buf[start]) {
        start += 1;
    }
    if start >= len {
        *pos = len;
        return None;
    }
    let end = (start..len)
        .find(|&i| delims.contains(&buf[i]))
        .unwrap_or(len);
    if end < len {
        buf[end] = 0;
        *pos = end + 1;
    } else {
        *pos = len;
    }
    Some((start, end))
}

fn c_str(buf: &[u8]) -> String {
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// `tokenize_rule_counters`: a rule line's leading `[p:b]`. Returns the
/// counters (if any) and the rest of the line, with strtok's side effects on
/// the buffer.
#[allow(clippy::type_complexity)]
fn rule_counters(line: &[u8], lineno: usize) -> Result<(Option<(String, String)>, String), String> {
    if line.first() != Some(&b'[') {
        return Ok((None, c_str(line)));
    }
    let mut buf = line.to_vec();
    let Some(close) = buf.iter().position(|&b| b == b']') else {
        return Err(format!("Bad line {lineno}: need ]"));
    };
    let mut pos = 1;
    let Some((ps, pe)) = strtok(&mut buf, &mut pos, b":") else {
        return Err(format!("Bad line {lineno}: need :"));
    };
    let Some((bs, be)) = strtok(&mut buf, &mut pos, b"]") else {
        return Err(format!("Bad line {lineno}: need ]"));
    };
    let pcnt = c_str(&buf[ps..pe]);
    let bcnt = c_str(&buf[bs..be]);
    Ok((Some((pcnt, bcnt)), c_str(&buf[close + 1..])))
}

/// `assert_valid_chain_name` for a `:NAME` line, which announced NAME as
/// a chain first: a target extension of that name no longer clashes (the
/// verdicts still do).
fn valid_announced_chain(name: &str, family: crate::addr::Family) -> Result<(), Error> {
    match parse::assert_valid_chain_name(name, family) {
        Err(e) if e.msg.contains("clash") && !VERDICTS.contains(&name) => {
            if name.bytes().any(|b| b.is_ascii_whitespace() || b == 0x0b) {
                return Err(Error::param(format!("Invalid chain name `{name}'")));
            }
            Ok(())
        }
        r => r,
    }
}

/// `sscanf(s, "[%llu:%llu]") == 2`, as chain lines' counters are read.
fn policy_counters(s: &str) -> Option<Counters> {
    let (packets, rest) = scan_u64_prefix(s.strip_prefix('[')?)?;
    let (bytes, _) = scan_u64_prefix(rest.strip_prefix(':')?)?;
    Some(Counters { packets, bytes })
}

/// `add_param_to_argv`: words split on blanks, `"` quoting with `\`
/// escapes inside quotes; `""` is an empty word.
pub fn split_args(text: &str) -> Result<Vec<String>, String> {
    split_args_limit(text, usize::MAX)
}

/// [`split_args`] failing as iptables-restore does when a line holds more
/// than `max` words or a word of 1024 bytes or more.
fn split_args_limit(text: &str, max: usize) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    let mut quote_open = false;
    let mut escaped = false;
    let push = |out: &mut Vec<String>, cur: &mut Vec<u8>| {
        if out.len() >= max {
            return Err("Parser cannot handle more arguments".to_string());
        }
        out.push(String::from_utf8_lossy(cur).into_owned());
        cur.clear();
        Ok(())
    };
    let add = |cur: &mut Vec<u8>, b: u8| {
        cur.push(b);
        if cur.len() >= PARAM_BUFFER {
            return Err("Parameter too long!".to_string());
        }
        Ok(())
    };
    for &b in text.as_bytes() {
        if quote_open {
            if escaped {
                add(&mut cur, b)?;
                escaped = false;
                continue;
            } else if b == b'\\' {
                escaped = true;
                continue;
            } else if b == b'"' {
                quote_open = false;
            } else {
                add(&mut cur, b)?;
                continue;
            }
        } else if b == b'"' {
            quote_open = true;
            continue;
        }
        match b {
            b'"' => {}
            b' ' | b'\t' | b'\n' => {
                if cur.is_empty() {
                    continue;
                }
            }
            _ => {
                add(&mut cur, b)?;
                continue;
            }
        }
        push(&mut out, &mut cur)?;
    }
    if !cur.is_empty() {
        push(&mut out, &mut cur)?;
    }
    Ok(out)
}

/// The text iptables-nft reports for a refused object:
/// `RULE_APPEND failed (Invalid argument): rule in chain INPUT`.
/// `errno` is the kernel's error text (`Invalid argument` when empty), or
/// already the whole report (`... failed (...): ...`).
pub fn kernel_failure(p: &Parsed, errno: &str) -> String {
    let chain = p.chain.as_deref().unwrap_or_default();
    let newname = p.newname.as_deref().unwrap_or_default();
    refusal(p.cmd, chain, newname, errno)
}

fn refusal(cmd: Cmd, chain: &str, newname: &str, errno: &str) -> String {
    if errno.contains(" failed (") {
        return errno.trim().to_string();
    }
    let errno = if errno.is_empty() {
        "Invalid argument"
    } else {
        errno
    };
    let (kind, object) = match cmd {
        Cmd::Insert => ("RULE_INSERT", "rule in chain"),
        Cmd::Replace => ("RULE_REPLACE", "rule in chain"),
        Cmd::Delete | Cmd::DeleteNum => ("RULE_DELETE", "rule in chain"),
        Cmd::Flush => ("RULE_FLUSH", "rule in chain"),
        Cmd::NewChain => ("CHAIN_USER_ADD", "chain"),
        Cmd::DeleteChain => ("CHAIN_DEL", "chain"),
        Cmd::Policy => ("CHAIN_UPDATE", "chain"),
        Cmd::Zero | Cmd::ZeroNum => ("CHAIN_ZERO", "chain"),
        Cmd::RenameChain => return format!("CHAIN_RENAME failed ({errno}): chain {newname}"),
        _ => ("RULE_APPEND", "rule in chain"),
    };
    format!("{kind} failed ({errno}): {object} {chain}")
}

/// The refusal text of a rule line whose parse already failed with a
/// kernel refusal (the command is read from the words).
fn refused_line(args: &[String], e: &Error) -> String {
    let mut it = args.iter();
    let mut cmd = Cmd::Append;
    let mut chain = None;
    while let Some(a) = it.next() {
        let c = match a.as_str() {
            "-A" | "--append" => Cmd::Append,
            "-I" | "--insert" => Cmd::Insert,
            "-R" | "--replace" => Cmd::Replace,
            _ => continue,
        };
        cmd = c;
        chain = it.next().cloned();
        break;
    }
    refusal(cmd, chain.as_deref().unwrap_or_default(), "", &e.msg)
}

/// The message of refusals collected in one batch, as iptables-nft builds
/// it in a 1024-byte buffer (pieces that do not fit are dropped; the last
/// one tried shows truncated).
fn kernel_message(prog: &str, refusals: &[(usize, String)]) -> String {
    let mut kept = String::new();
    let mut tail = String::new();
    let mut room = ERRMSG_BUFFER;
    for (line, text) in refusals {
        if room == 0 {
            break;
        }
        let piece = format!("\nline {line}: {text}");
        let len = piece.len();
        let cut = |n: usize| {
            let mut n = n.min(len);
            while !piece.is_char_boundary(n) {
                n -= 1;
            }
            piece[..n].to_string()
        };
        if len < room {
            kept.push_str(&piece);
            room -= len;
            tail.clear();
        } else if len == room {
            kept.push_str(&cut(len - 1));
            room = 0;
            tail.clear();
        } else {
            tail = cut(room - 1);
        }
    }
    format!("{}: {kept}{tail}\n", prog_version(prog))
}

struct State<'a> {
    prog: String,
    opts: &'a RestoreOpts,
    sets: &'a [crate::ext::set::IpSet],
    family: crate::addr::Family,
    /// The last `*table` line's table.
    curtable: Option<&'static str>,
    in_table: bool,
    pending: Vec<Pending>,
    stdout: String,
    /// Chain names of `:NAME` lines so far, in every table.
    announced: Vec<String>,
}

impl State<'_> {
    /// True when `-T` names another table than the current one.
    fn skipping(&self) -> bool {
        matches!((&self.opts.table, self.curtable), (Some(t), Some(c)) if t != c)
    }

    fn line(&mut self, work: &mut Ruleset, raw: &[u8], lineno: usize) -> Result<(), RestoreError> {
        if raw.first() == Some(&b'#') && self.opts.verbose > 0 {
            self.stdout.push_str(&String::from_utf8_lossy(raw));
        }
        if raw.first() == Some(&b'\n') || raw.first() == Some(&b'#') {
            return Ok(());
        }
        if self.in_table && raw.starts_with(b"COMMIT") && matches!(raw.get(6), None | Some(b'\n')) {
            self.in_table = false;
            let pending = std::mem::take(&mut self.pending);
            if !self.opts.test {
                commit(work, pending, self, lineno)?;
            }
            return Ok(());
        }
        if raw.first() == Some(&b'*') && !self.in_table {
            return self.table_line(raw, lineno);
        }
        if self.in_table {
            let table = self.curtable.unwrap_or("filter");
            if raw.first() == Some(&b':') {
                return self.chain_line(raw, table, lineno);
            }
            return self.rule_line(raw, table, lineno);
        }
        if self.skipping() {
            return Ok(());
        }
        Err(failed(&self.prog, lineno, None))
    }

    fn table_line(&mut self, raw: &[u8], lineno: usize) -> Result<(), RestoreError> {
        let mut buf = raw.to_vec();
        let mut pos = 1;
        let prog = &self.prog;
        let Some((s, e)) = strtok(&mut buf, &mut pos, b" \t\n") else {
            let msg = format!("{prog}: line {lineno} table name invalid");
            return Err(param_error(prog, &msg, lineno));
        };
        let name = c_str(&buf[s..e]);
        let Some(def) = table_def(&name) else {
            let msg = format!("{prog}: line {lineno} table name '{name}' invalid");
            return Err(param_error(prog, &msg, lineno));
        };
        self.curtable = Some(def.name);
        if self.skipping() {
            return Ok(());
        }
        if !self.opts.noflush {
            self.pending.push(Pending {
                line: lineno,
                table: def.name,
                op: Op::Flush,
            });
        }
        self.in_table = true;
        Ok(())
    }

    fn chain_line(
        &mut self,
        raw: &[u8],
        table: &'static str,
        lineno: usize,
    ) -> Result<(), RestoreError> {
        let prog = self.prog.clone();
        let mut buf = raw.to_vec();
        let mut pos = 1;
        let Some((s, e)) = strtok(&mut buf, &mut pos, b" \t\n") else {
            let msg = format!("{prog}: line {lineno} chain name invalid");
            return Err(param_error(&prog, &msg, lineno));
        };
        let chain = c_str(&buf[s..e]);
        if !self.announced.contains(&chain) {
            self.announced.push(chain.clone());
        }
        valid_announced_chain(&chain, self.family)
            .map_err(|e| exit_error(&prog, e.kind, &e.msg, lineno))?;
        let Some((s, e)) = strtok(&mut buf, &mut pos, b" \t\n") else {
            let msg = format!("{prog}: line {lineno} policy invalid");
            return Err(param_error(&prog, &msg, lineno));
        };
        let policy = c_str(&buf[s..e]);
        let builtin = table_def(table).is_some_and(|d| d.chains.iter().any(|(n, _)| *n == chain));
        let op = if builtin {
            let mut counters = Counters::default();
            if self.opts.counters {
                let word = strtok(&mut buf, &mut pos, b" \t\n").map(|(s, e)| c_str(&buf[s..e]));
                counters = word.as_deref().and_then(policy_counters).ok_or_else(|| {
                    let msg = format!("invalid policy counters for chain '{chain}'");
                    param_error(&prog, &msg, lineno)
                })?;
            }
            Op::Policy {
                chain,
                policy,
                counters,
            }
        } else {
            Op::UserChain(chain)
        };
        self.pending.push(Pending {
            line: lineno,
            table,
            op,
        });
        Ok(())
    }

    fn rule_line(
        &mut self,
        raw: &[u8],
        table: &'static str,
        lineno: usize,
    ) -> Result<(), RestoreError> {
        let prog = self.prog.clone();
        let (counters, text) =
            rule_counters(raw, lineno).map_err(|m| param_error(&prog, &m, lineno))?;
        let mut args: Vec<String> = vec!["-t".into(), table.into()];
        if !self.opts.noflush {
            args.extend((0..self.opts.verbose).map(|_| "-v".to_string()));
        }
        if let (true, Some((p, b))) = (self.opts.counters, counters) {
            args.extend(["--set-counters".to_string(), p, b]);
        }
        // The program name takes one of the MAX_ARGC - 1 places.
        let room = (MAX_ARGC - 2).saturating_sub(args.len());
        args.extend(split_args_limit(&text, room).map_err(|m| param_error(&prog, &m, lineno))?);
        let env = ParseEnv {
            family: self.family,
            restore: true,
            table,
            sets: self.sets,
        };
        let op = match parse::parse_announced(&args, env, &self.announced) {
            Ok(p) if p.cmd == Cmd::Nothing => return Ok(()),
            Ok(p) => Op::Command(Box::new(p)),
            Err(e) if e.kind == Kind::Kernel => Op::Refused(refused_line(&args, &e)),
            Err(e) => return Err(exit_error(&prog, e.kind, &e.msg, lineno)),
        };
        self.pending.push(Pending {
            line: lineno,
            table,
            op,
        });
        Ok(())
    }
}

/// Restores `input` onto `rs`. Returns what listing commands in the input
/// printed. On error `rs` is unchanged.
pub fn restore(
    rs: &mut Ruleset,
    input: &str,
    opts: &RestoreOpts,
    sets: &[crate::ext::set::IpSet],
) -> Result<String, RestoreError> {
    restore_bytes(rs, input.as_bytes(), opts, sets)
}

/// [`restore`] for input that need not be UTF-8.
pub fn restore_bytes(
    rs: &mut Ruleset,
    input: &[u8],
    opts: &RestoreOpts,
    sets: &[crate::ext::set::IpSet],
) -> Result<String, RestoreError> {
    let mut work = rs.clone();
    let mut st = State {
        prog: format!("{}-restore", rs.family.prog()),
        opts,
        sets,
        family: rs.family,
        curtable: None,
        in_table: false,
        pending: Vec::new(),
        stdout: String::new(),
        announced: Vec::new(),
    };
    let mut lineno = 0usize;
    for raw in fgets_lines(input) {
        lineno += 1;
        if let Err(mut e) = st.line(&mut work, raw, lineno) {
            e.stdout = std::mem::take(&mut st.stdout);
            return Err(e);
        }
    }
    if st.in_table {
        return Err(RestoreError {
            code: 1,
            message: format!("{}: COMMIT expected at line {}\n", st.prog, lineno + 1),
            line: lineno + 1,
            stdout: st.stdout,
        });
    }
    if !opts.test {
        *rs = work;
    }
    Ok(st.stdout)
}

/// `*table` under `-v` (without `-n`): iptables-nft flushes every chain
/// and deletes the user chains, printing each step, and keeps the built-in
/// chains with their policies and counters (a missing table is created).
fn verbose_flush(rs: &mut Ruleset, table: &str, stdout: &mut String) {
    let Some(t) = rs.table_mut(table) else {
        return;
    };
    for c in &t.chains {
        stdout.push_str(&format!("Flushing chain `{}'\n", c.name));
    }
    for c in t.chains.iter().filter(|c| !c.is_builtin()) {
        stdout.push_str(&format!("Deleting chain `{}'\n", c.name));
    }
    t.chains.retain(|c| c.is_builtin());
    for c in &mut t.chains {
        c.rules.clear();
    }
}

/// Under `-v` (without `-n`), a rule command on a built-in chain whose
/// policy this batch did not set leaves that chain with policy ACCEPT (its
/// counters kept), as observed with iptables-nft 1.8.9.
fn verbose_policy_reset(rs: &mut Ruleset, p: &Parsed, policies_set: &[String]) {
    let rule_cmd = matches!(
        p.cmd,
        Cmd::Append | Cmd::Insert | Cmd::Replace | Cmd::Delete | Cmd::DeleteNum
    );
    let Some(name) = p.chain.as_deref().filter(|_| rule_cmd) else {
        return;
    };
    if policies_set.iter().any(|c| c == name) {
        return;
    }
    let chain = rs
        .table_mut_if_exists(&p.table)
        .and_then(|t| t.chain_mut(name))
        .filter(|c| c.is_builtin());
    if let Some(c) = chain {
        c.policy = Some("ACCEPT");
    }
}

/// A command's failure at commit: `Err` ends the restore (a parameter
/// problem names the `COMMIT` line, another problem the command's line);
/// `Ok` is a kernel refusal, collected.
fn command_error(
    prog: &str,
    e: &Error,
    parsed: &Parsed,
    line: usize,
    commit_line: usize,
) -> Result<(usize, String), RestoreError> {
    match e.kind {
        Kind::Parameter | Kind::Usage | Kind::Problem => {
            Err(exit_error(prog, e.kind, &e.msg, commit_line))
        }
        Kind::Other | Kind::Version => Err(failed(prog, line, Some(&e.msg))),
        Kind::Kernel => Ok((line, kernel_failure(parsed, &e.msg))),
    }
}

/// Runs one table's commands as iptables-nft prepares and commits them.
fn commit(
    rs: &mut Ruleset,
    pending: Vec<Pending>,
    st: &mut State,
    commit_line: usize,
) -> Result<(), RestoreError> {
    let prog = st.prog.clone();
    let mut refusals: Vec<(usize, String)> = Vec::new();
    // Chains declared (`:NAME`) or made (`-N`) in this batch: iptables-nft
    // sends them without their kernel handle, so renaming one fails.
    let mut fresh: Vec<String> = Vec::new();
    let mut renames: Vec<(usize, Box<Parsed>)> = Vec::new();
    // Built-in chains given a policy in this batch.
    let mut policies_set: Vec<String> = Vec::new();
    for p in pending {
        let line = p.line;
        match p.op {
            Op::Flush if st.opts.verbose > 0 => verbose_flush(rs, p.table, &mut st.stdout),
            Op::Flush => rs.tables.retain(|t| t.name() != p.table),
            Op::Policy {
                chain,
                policy,
                counters,
            } => {
                policies_set.push(chain.clone());
                let Some(c) = rs.table_mut(p.table).and_then(|t| t.chain_mut(&chain)) else {
                    return Err(failed(
                        &prog,
                        line,
                        Some("No chain/target/match by that name."),
                    ));
                };
                c.policy = match policy.as_str() {
                    "ACCEPT" => Some("ACCEPT"),
                    "DROP" => Some("DROP"),
                    // Under -v without -n the chain was re-made: ACCEPT.
                    "-" if st.opts.verbose > 0 && !st.opts.noflush => Some("ACCEPT"),
                    "-" => c.policy,
                    _ => return Err(failed(&prog, line, Some("Bad policy name."))),
                };
                c.counters = counters;
            }
            Op::UserChain(name) => {
                fresh.push(name.clone());
                let Some(table) = rs.table_mut(p.table) else {
                    return Err(failed(&prog, line, None));
                };
                match table.chain_mut(&name) {
                    Some(c) => c.rules.clear(),
                    None => table.chains.push(Chain {
                        name,
                        hook: None,
                        policy: None,
                        counters: Counters::default(),
                        rules: Vec::new(),
                    }),
                }
            }
            Op::Refused(text) => refusals.push((line, text)),
            Op::Command(parsed) if parsed.cmd == Cmd::RenameChain => {
                // Checked now, done at the commit: iptables-nft does not
                // rename the chain in its cache, so later lines of the
                // batch still see the old name.
                let mut scratch = rs.clone();
                match command::apply(&mut scratch, &parsed) {
                    Ok(_) if fresh.contains(parsed.chain.as_ref().unwrap_or(&String::new())) => {
                        let e = "No such file or directory";
                        refusals.push((line, kernel_failure(&parsed, e)));
                    }
                    Ok(_) => renames.push((line, parsed)),
                    Err(e) => refusals.push(command_error(&prog, &e, &parsed, line, commit_line)?),
                }
            }
            Op::Command(parsed) => match command::apply(rs, &parsed) {
                Ok(out) => {
                    st.stdout.push_str(&out.stdout);
                    if st.opts.verbose > 0 && !st.opts.noflush {
                        verbose_policy_reset(rs, &parsed, &policies_set);
                    }
                    if parsed.cmd == Cmd::NewChain {
                        fresh.push(parsed.chain.clone().unwrap_or_default());
                    }
                }
                Err(e) => refusals.push(command_error(&prog, &e, &parsed, line, commit_line)?),
            },
        }
    }
    for (line, parsed) in renames {
        if let Err(e) = command::apply(rs, &parsed) {
            refusals.push(command_error(&prog, &e, &parsed, line, commit_line)?);
        }
    }
    if let Some((line, _)) = refusals.first() {
        return Err(RestoreError {
            code: 4,
            message: kernel_message(&prog, &refusals),
            line: *line,
            stdout: String::new(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fgets_pieces() {
        let long = "x".repeat(LINE_BUFFER + 5);
        let input = format!("a\n\nb{long}\nc\0d\ne");
        let v: Vec<&[u8]> = fgets_lines(input.as_bytes()).collect();
        assert_eq!(v.len(), 6);
        assert_eq!(v[0], b"a\n");
        assert_eq!(v[1], b"\n");
        assert_eq!(v[2].len(), LINE_BUFFER - 1);
        assert_eq!(v[4], b"c");
        assert_eq!(v[5], b"e");
    }

    #[test]
    fn counters_tokenizing() {
        // Each checked live against iptables-restore 1.8.9.
        let ok = |s: &str| rule_counters(s.as_bytes(), 2).unwrap();
        assert_eq!(
            ok("[1:2] -A INPUT\n"),
            (Some(("1".into(), "2".into())), " -A INPUT\n".into())
        );
        assert_eq!(ok("[1:] -A X\n").1, " -A X\n");
        // The first ':' may lie after the ']': the rule text is cut there.
        assert_eq!(
            ok("[12] -A I -m comment --comment a:b -j A\n"),
            (
                Some(("12] -A I -m comment --comment a".into(), "b -j A\n".into())),
                " -A I -m comment --comment a".into()
            )
        );
        let err = |s: &str| rule_counters(s.as_bytes(), 2).unwrap_err();
        assert_eq!(err("[1:2 -A INPUT\n"), "Bad line 2: need ]");
        assert_eq!(err("[12] -A INPUT\n"), "Bad line 2: need ]");
        assert_eq!(err("[:] -A INPUT\n"), "Bad line 2: need ]");
    }

    #[test]
    fn chain_counters() {
        let c = |s: &str| policy_counters(s).map(|c| (c.packets, c.bytes));
        assert_eq!(c("[1:2]"), Some((1, 2)));
        assert_eq!(c("[1:2"), Some((1, 2)));
        assert_eq!(c("[-1:+5]xx"), Some((u64::MAX, 5)));
        assert_eq!(c("[0x1:2]"), None);
        assert_eq!(c("1:2"), None);
        assert_eq!(c("["), None);
    }

    #[test]
    fn quoting() {
        let s = |t: &str| split_args(t).unwrap();
        assert_eq!(s("a \"b c\" d"), ["a", "b c", "d"]);
        assert_eq!(s("\"\" x"), ["", "x"]);
        assert_eq!(s("a\"b c\"d"), ["ab c", "d"]);
        assert_eq!(s("\"a\\\"b\\\\c\""), ["a\"b\\c"]);
        assert_eq!(
            split_args(&"y".repeat(1024)).unwrap_err(),
            "Parameter too long!"
        );
        assert_eq!(
            split_args_limit("a b c", 2).unwrap_err(),
            "Parser cannot handle more arguments"
        );
    }

    /// Odd input never panics: lines made of random pieces.
    #[test]
    fn no_panic_on_odd_input() {
        const PIECES: &[&str] = &[
            "*filter",
            "*nat",
            "*",
            ":",
            ":INPUT",
            ":FOO",
            " ",
            "\t",
            "\n",
            "\r\n",
            "\0",
            "[",
            "]",
            ":",
            "[1:2]",
            "[-1:x]",
            "COMMIT",
            "-A",
            "INPUT",
            "FOO",
            "-j",
            "ACCEPT",
            "NOPE",
            "-N",
            "-E",
            "BAR",
            "-X",
            "-P",
            "DROP",
            "-m",
            "tcp",
            "comment",
            "--comment",
            "\"",
            "\\",
            "\u{e4}",
            "#",
            "-4",
            "-6",
            "-S",
            "-L",
            "-Z",
            "-D",
            "1",
            "-I",
            "-R",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for _ in 0..3000 {
            let mut input = String::from(["", "*filter\n", "*nat\n:FOO - [0:0]\n"][next(3)]);
            for _ in 0..next(40) {
                if next(5) == 0 {
                    input.push('\n');
                }
                input.push_str(PIECES[next(PIECES.len())]);
                if next(3) == 0 {
                    input.push(' ');
                }
            }
            for opts in [
                RestoreOpts::default(),
                RestoreOpts {
                    counters: true,
                    noflush: true,
                    ..RestoreOpts::default()
                },
            ] {
                let mut rs = Ruleset::new(crate::addr::Family::V4);
                let _ = restore(&mut rs, &input, &opts, &[]);
            }
        }
    }

    #[test]
    fn kernel_texts() {
        let args: Vec<String> = ["-t", "filter", "-I", "FWD", "-m", "x"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            refused_line(&args, &Error::kernel("")),
            "RULE_INSERT failed (Invalid argument): rule in chain FWD"
        );
        let full = " RULE_APPEND failed (Invalid argument): rule in chain INPUT";
        assert_eq!(
            refused_line(&args, &Error::kernel(full)),
            "RULE_APPEND failed (Invalid argument): rule in chain INPUT"
        );
    }

    #[test]
    fn kernel_buffer() {
        let many: Vec<(usize, String)> = (1..40)
            .map(|i| {
                (
                    i,
                    "RULE_APPEND failed (Invalid argument): rule in chain INPUT".into(),
                )
            })
            .collect();
        let m = kernel_message("iptables-restore", &many);
        let head = format!("{}: ", prog_version("iptables-restore"));
        assert_eq!(m.len(), head.len() + ERRMSG_BUFFER - 1 + 1);
    }
}
