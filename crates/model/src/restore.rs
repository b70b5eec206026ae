//! `iptables-restore`: the save format read back, with iptables-nft's
//! semantics and messages.
//!
//! Lines are read and parsed as they come (a syntax error names its line at
//! once); a table's commands are applied when its `COMMIT` is read, in
//! order, each failure naming the line of its command. Unlike iptables,
//! which commits table by table, a restore here is all or nothing for the
//! whole input (DECISIONS.md, 3): on error the caller keeps its ruleset.

use crate::command;
use crate::parse::{self, Cmd, ParseEnv, Parsed};
use crate::rule::Counters;
use crate::ruleset::{table_def, Chain, Ruleset, Table};
use crate::Kind;

/// Options of iptables-restore.
#[derive(Debug, Clone, Default)]
pub struct RestoreOpts {
    /// `-c`: restore counters.
    pub counters: bool,
    /// `-n`: do not flush tables first.
    pub noflush: bool,
    /// `-T TABLE`: only this table.
    pub table: Option<String>,
    /// `-t`: test only.
    pub test: bool,
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
}

enum Op {
    /// `*table` without `-n`: the table starts empty.
    Flush,
    /// `*table` with `-n`: the table exists.
    Ensure,
    Policy {
        chain: String,
        policy: String,
        counters: Counters,
    },
    UserChain(String),
    Command(Box<Parsed>),
}

struct Pending {
    line: usize,
    table: String,
    op: Op,
}

fn param_error(prog: &str, msg: &str, line: usize) -> RestoreError {
    RestoreError {
        code: 2,
        message: format!(
            "{prog} v{} (ironwall): {}\nError occurred at line: {line}\nTry `{prog} -h' or '{prog} --help' for more information.\n",
            crate::IPTABLES_VERSION,
            msg.trim_end_matches('\n'),
        ),
        line,
    }
}

fn failed(prog: &str, line: usize, msg: Option<&str>) -> RestoreError {
    let message = match msg {
        Some(m) => format!("{prog}: line {line} failed: {m}\n"),
        None => format!("{prog}: line {line} failed\n"),
    };
    RestoreError {
        code: 1,
        message,
        line,
    }
}

/// Restores `input` onto `rs`. On error `rs` is unchanged.
pub fn restore(
    rs: &mut Ruleset,
    input: &str,
    opts: &RestoreOpts,
    sets: &[String],
) -> Result<(), RestoreError> {
    let prog = format!("{}-restore", rs.family.prog());
    let mut work = rs.clone();
    let mut pending: Vec<Pending> = Vec::new();
    let mut curtable: Option<String> = None;
    let mut in_table = false;
    let mut lineno = 0usize;
    let family = rs.family;
    for raw in input.split_inclusive('\n') {
        lineno += 1;
        let buffer = raw;
        if buffer.starts_with('\n') || buffer.is_empty() {
            continue;
        }
        if buffer.starts_with('#') {
            continue;
        }
        let skip_other =
            |cur: &Option<String>| matches!((&opts.table, cur), (Some(t), Some(c)) if t != c);
        if in_table && buffer.starts_with("COMMIT") && matches!(&buffer[6..], "" | "\n") {
            in_table = false;
            if !opts.test {
                commit(&mut work, std::mem::take(&mut pending), &prog, lineno)?;
            } else {
                pending.clear();
            }
            continue;
        }
        if let Some(rest) = buffer.strip_prefix('*').filter(|_| !in_table) {
            let name = rest.split([' ', '\t', '\n']).find(|s| !s.is_empty());
            let Some(name) = name else {
                return Err(param_error(
                    &prog,
                    &format!("{prog}: line {lineno} table name invalid"),
                    lineno,
                ));
            };
            if table_def(name).is_none() {
                return Err(param_error(
                    &prog,
                    &format!("{prog}: line {lineno} table name '{name}' invalid"),
                    lineno,
                ));
            }
            curtable = Some(name.to_string());
            if skip_other(&curtable) {
                continue;
            }
            pending.push(Pending {
                line: lineno,
                table: name.to_string(),
                op: if opts.noflush { Op::Ensure } else { Op::Flush },
            });
            in_table = true;
            continue;
        }
        if skip_other(&curtable) {
            continue;
        }
        if !in_table {
            return Err(failed(&prog, lineno, None));
        }
        let table = curtable.clone().unwrap_or_default();
        if let Some(rest) = buffer.strip_prefix(':') {
            let mut it = rest.split([' ', '\t', '\n']).filter(|s| !s.is_empty());
            let Some(chain) = it.next() else {
                return Err(param_error(
                    &prog,
                    &format!("{prog}: line {lineno} chain name invalid"),
                    lineno,
                ));
            };
            parse::assert_valid_chain_name(chain, family)
                .map_err(|e| param_error(&prog, &e.msg, lineno))?;
            let Some(policy) = it.next() else {
                return Err(param_error(
                    &prog,
                    &format!("{prog}: line {lineno} policy invalid"),
                    lineno,
                ));
            };
            let builtin =
                table_def(&table).is_some_and(|d| d.chains.iter().any(|(n, _)| *n == chain));
            if builtin {
                let mut counters = Counters::default();
                if opts.counters {
                    let c = it.next().and_then(parse_counters).ok_or_else(|| {
                        param_error(
                            &prog,
                            &format!("invalid policy counters for chain '{chain}'"),
                            lineno,
                        )
                    })?;
                    counters = c;
                }
                pending.push(Pending {
                    line: lineno,
                    table: table.clone(),
                    op: Op::Policy {
                        chain: chain.to_string(),
                        policy: policy.to_string(),
                        counters,
                    },
                });
            } else {
                pending.push(Pending {
                    line: lineno,
                    table: table.clone(),
                    op: Op::UserChain(chain.to_string()),
                });
            }
            continue;
        }
        // A rule line: optional [p:b], then the arguments.
        let mut text = buffer;
        let mut counters = None;
        if text.starts_with('[') {
            let Some(end) = text.find(']') else {
                return Err(param_error(
                    &prog,
                    &format!("Bad line {lineno}: need ]"),
                    lineno,
                ));
            };
            let inner = &text[1..end];
            let Some((p, b)) = inner.split_once(':') else {
                return Err(param_error(
                    &prog,
                    &format!("Bad line {lineno}: need :"),
                    lineno,
                ));
            };
            if opts.counters {
                counters = Some((p.to_string(), b.to_string()));
            }
            text = &text[end + 1..];
        }
        let mut args: Vec<String> = vec!["-t".into(), table.clone()];
        if let Some((p, b)) = counters {
            args.extend(["--set-counters".to_string(), p, b]);
        }
        args.extend(split_args(text).map_err(|m| param_error(&prog, &m, lineno))?);
        let env = ParseEnv {
            family,
            restore: true,
            table: &table,
            sets,
        };
        let parsed = parse::parse(&args, env).map_err(|e| param_error(&prog, &e.msg, lineno))?;
        if parsed.cmd == Cmd::Nothing {
            continue;
        }
        pending.push(Pending {
            line: lineno,
            table: table.clone(),
            op: Op::Command(Box::new(parsed)),
        });
    }
    if in_table {
        return Err(RestoreError {
            code: 1,
            message: format!("{prog}: COMMIT expected at line {}\n", lineno + 1),
            line: lineno + 1,
        });
    }
    if !opts.test {
        *rs = work;
    }
    Ok(())
}

fn parse_counters(s: &str) -> Option<Counters> {
    let inner = s.strip_prefix('[')?;
    let (p, rest) = inner.split_once(':')?;
    let b = rest.strip_suffix(']').unwrap_or(rest);
    Some(Counters {
        packets: crate::num::scan_u64(p)?,
        bytes: crate::num::scan_u64(b)?,
    })
}

/// `add_param_to_argv`: words split on blanks, `"` quoting with `\`
/// escapes inside quotes.
pub fn split_args(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote_open = false;
    let mut escaped = false;
    for c in text.chars() {
        if quote_open {
            if escaped {
                cur.push(c);
                escaped = false;
                continue;
            } else if c == '\\' {
                escaped = true;
                continue;
            } else if c == '"' {
                quote_open = false;
            } else {
                cur.push(c);
                continue;
            }
        } else if c == '"' {
            quote_open = true;
            continue;
        }
        match c {
            '"' => {}
            ' ' | '\t' | '\n' => {
                if cur.is_empty() {
                    continue;
                }
            }
            _ => {
                cur.push(c);
                if cur.len() >= 1024 {
                    return Err("Parameter too long!".into());
                }
                continue;
            }
        }
        if !cur.is_empty() || c == '"' {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

fn commit(
    rs: &mut Ruleset,
    pending: Vec<Pending>,
    prog: &str,
    commit_line: usize,
) -> Result<(), RestoreError> {
    for p in pending {
        let line = p.line;
        let Some(table) = rs.table_mut(&p.table) else {
            return Err(failed(prog, line, None));
        };
        match p.op {
            Op::Flush => *table = Table::new(table.def),
            Op::Ensure => {}
            Op::Policy {
                chain,
                policy,
                counters,
            } => {
                let Some(c) = table.chain_mut(&chain) else {
                    return Err(failed(
                        prog,
                        line,
                        Some("No chain/target/match by that name."),
                    ));
                };
                match policy.as_str() {
                    "ACCEPT" => c.policy = Some("ACCEPT"),
                    "DROP" => c.policy = Some("DROP"),
                    "-" => {}
                    _ => return Err(failed(prog, line, Some("Bad policy name."))),
                }
                c.counters = counters;
            }
            Op::UserChain(name) => match table.chain_mut(&name) {
                Some(c) => c.rules.clear(),
                None => table.chains.push(Chain {
                    name,
                    hook: None,
                    policy: None,
                    counters: Counters::default(),
                    rules: Vec::new(),
                }),
            },
            Op::Command(parsed) => {
                if let Err(e) = command::apply(rs, &parsed) {
                    return Err(match e.kind {
                        Kind::Parameter => param_error(prog, &e.msg, commit_line),
                        Kind::Other => failed(prog, line, Some(&e.msg)),
                        Kind::Kernel => RestoreError {
                            code: 4,
                            message: format!(
                                "{prog} v{} (ironwall): \nline {line}: {}\n",
                                crate::IPTABLES_VERSION,
                                e.msg
                            ),
                            line,
                        },
                    });
                }
            }
        }
    }
    Ok(())
}
