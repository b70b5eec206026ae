//! Applying a parsed iptables command to a ruleset, with the checks and
//! messages of iptables-nft.

use crate::addr::Family;
use crate::list::{self, ListFormat};
use crate::parse::{Cmd, Parsed};
use crate::rule::{Counters, Rule, Target};
use crate::ruleset::{table_def, Chain, Ruleset, Table};
use crate::{kernel, save, Error, Kind, Result};
use std::fmt::Write;

/// What a command produced.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Text for stdout.
    pub stdout: String,
    /// Warnings for stderr.
    pub stderr: String,
    /// Whether the ruleset changed (and must be written back).
    pub changed: bool,
}

const NO_CHAIN: &str = "No chain/target/match by that name.";
const BAD_RULE: &str = "Bad rule (does a matching rule exist in that chain?).";

/// The `-h` text after its first line, with `{prog}`, `{ipv4}` and
/// `{ipv6}` to fill in.
const HELP: &str = include_str!("help.txt");

/// The `-h` text of `family`'s program (`print_help` in xshared.c): its
/// name, which of `-4`/`-6` is an error, and `-f` for IPv4 only.
fn help_text(family: Family) -> String {
    let (v4, v6) = match family {
        Family::V4 => ("Nothing", "Error"),
        Family::V6 => ("Error", "Nothing"),
    };
    HELP.lines()
        .filter(|l| family == Family::V4 || !l.starts_with("[!] --fragment"))
        .map(|l| {
            let l = l
                .replace("{prog}", family.prog())
                .replace("{ipv4}", v4)
                .replace("{ipv6}", v6);
            format!("{l}\n")
        })
        .collect()
}

/// Applies `p` to `rs`. On error `rs` may be partly changed: callers apply
/// to a copy and keep it only on success.
pub fn apply(rs: &mut Ruleset, p: &Parsed) -> Result<Outcome> {
    let mut out = Outcome {
        stderr: p.warnings.clone(),
        ..Outcome::default()
    };
    match apply_into(rs, p, &mut out) {
        Ok(()) => Ok(out),
        Err(mut e) => {
            e.stdout = std::mem::take(&mut out.stdout);
            Err(e)
        }
    }
}

/// [`apply`], printing into `out` as it goes; errors the kernel would
/// report at commit come after everything printed.
fn apply_into(rs: &mut Ruleset, p: &Parsed, out: &mut Outcome) -> Result<()> {
    let prog = rs.family.prog();
    let version = format!("{prog} v{} (ironwall)", crate::IPTABLES_VERSION);
    match p.cmd {
        Cmd::Help => {
            out.stdout = format!("{version}\n{}", help_text(rs.family));
            return Ok(());
        }
        Cmd::Version => {
            out.stdout = if p.invert_version {
                format!("Not {} (ironwall) ;-)\n", crate::IPTABLES_VERSION)
            } else {
                format!("{version}\n")
            };
            return Ok(());
        }
        _ => {}
    }
    if table_def(&p.table).is_none() {
        return Err(Error::new(
            Kind::Version,
            format!("table '{}' does not exist", p.table),
        ));
    }
    let chain = p.chain.as_deref();
    let verbose = p.verbose > 0;
    match p.cmd {
        Cmd::Nothing | Cmd::Help | Cmd::Version => {}
        Cmd::Append | Cmd::Insert | Cmd::Replace => {
            let chain = chain.unwrap_or_default();
            // Each rule goes before the rule at the position (or last
            // when the position is one past the end): several rules of
            // one `-I` end up in reverse order.
            let at = p.rulenum.unwrap_or(1) as usize - 1;
            let mut commit = Ok(());
            for r in &p.rules {
                check_target(rs, &p.table, r)?;
                let op = rule_op(rs, &p.table, chain, p.cmd, at, r)?;
                if commit.is_ok() {
                    commit = check_jump(rs, &p.table, chain, r, op);
                }
                if verbose {
                    print_rule(&mut out.stdout, r);
                }
            }
            commit?;
            let after = rs.table(&p.table);
            kernel::check_command(p.cmd, &p.table, chain, &p.rules, after)?;
            out.changed = true;
        }
        Cmd::Check | Cmd::Delete => {
            let chain = chain.unwrap_or_default();
            for r in &p.rules {
                check_target(rs, &p.table, r)?;
                let c = rs
                    .table_mut_if_exists(&p.table)
                    .and_then(|t| t.chain_mut(chain))
                    .ok_or_else(|| Error::other(BAD_RULE))?;
                let pos = c.rules.iter().position(|x| x.same_as(r));
                let i = pos.ok_or_else(|| Error::other(BAD_RULE))?;
                if p.cmd == Cmd::Delete {
                    c.rules.remove(i);
                    out.changed = true;
                }
                if verbose {
                    print_rule(&mut out.stdout, r);
                }
            }
        }
        Cmd::DeleteNum => {
            let n = p.rulenum.unwrap_or(1) as usize;
            let c = existing_chain_mut(rs, &p.table, chain.unwrap_or_default())?;
            if n > c.rules.len() {
                return Err(Error::other("Index of deletion too big."));
            }
            c.rules.remove(n - 1);
            out.changed = true;
        }
        Cmd::List | Cmd::ListRules => {
            let view = rs
                .table_view(&p.table)
                .ok_or_else(|| Error::other(NO_CHAIN))?;
            let text = if p.cmd == Cmd::List {
                list::list(
                    &view,
                    chain,
                    p.rulenum,
                    ListFormat {
                        numeric: p.numeric,
                        verbose,
                        exact: p.exact,
                        line_numbers: p.line_numbers,
                        notable: false,
                    },
                )
            } else {
                save::list_rules(&view, chain, p.rulenum, verbose)
            };
            out.stdout = text.ok_or_else(|| {
                Error::new(
                    Kind::Problem,
                    format!(
                        "chain `{}' in table `{}' is incompatible, use 'nft' tool.",
                        chain.unwrap_or_default(),
                        p.table
                    ),
                )
            })?;
            if p.zero_too {
                out.changed |= list_zero(rs, p, verbose, &mut out.stdout)?;
            }
        }
        Cmd::Flush => {
            let flushing = |out: &mut String, name: &str| {
                if verbose {
                    let _ = writeln!(out, "Flushing chain `{name}'");
                }
            };
            if let Some(name) = chain {
                let c = chain_mut(rs, &p.table, name)?;
                flushing(&mut out.stdout, name);
                c.rules.clear();
                out.changed = true;
            } else if verbose || rs.table(&p.table).is_some() {
                // `-v` makes the table and all its built-in chains first.
                let t = if verbose {
                    builtin_init(rs, &p.table, None)?
                } else {
                    table_for_write(rs, &p.table)?
                };
                for name in present_names(t) {
                    flushing(&mut out.stdout, &name);
                }
                for c in &mut t.chains {
                    c.rules.clear();
                }
                out.changed = true;
            }
        }
        Cmd::Zero => out.changed = zero(rs, &p.table, chain, None, verbose, &mut out.stdout)?,
        Cmd::ZeroNum => {
            out.changed = zero(rs, &p.table, chain, p.rulenum, verbose, &mut out.stdout)?
        }
        Cmd::NewChain => {
            let name = chain.unwrap_or_default();
            let t = table_for_write(rs, &p.table)?;
            if t.chain(name).is_some() {
                return Err(Error::other("Chain already exists."));
            }
            t.chains.push(Chain {
                name: name.to_string(),
                hook: None,
                policy: None,
                counters: Counters::default(),
                rules: Vec::new(),
            });
            out.changed = true;
        }
        Cmd::DeleteChain => {
            out.changed = delete_chain(rs, &p.table, chain, verbose, &mut out.stdout)?;
        }
        Cmd::RenameChain => {
            let old = chain.unwrap_or_default();
            let new = p.newname.as_deref().unwrap_or_default();
            if is_builtin_name(&p.table, new) {
                return Err(Error::other("File exists."));
            }
            // iptables-nft takes any new name the kernel takes (a target's
            // name, 29 bytes and more), but such a chain could not be
            // saved and restored: ironwall checks it as `-N` does.
            crate::parse::assert_valid_chain_name(new, rs.family)?;
            let t = rs
                .table_mut_if_exists(&p.table)
                .ok_or_else(|| Error::other(NO_CHAIN))?;
            if t.chain(new).is_some() {
                return Err(Error::other("File exists."));
            }
            match t.chain(old) {
                Some(c) if !c.is_builtin() => {}
                _ => return Err(Error::other(NO_CHAIN)),
            }
            for c in &mut t.chains {
                if c.name == old {
                    c.name = new.to_string();
                }
                for r in &mut c.rules {
                    match &mut r.target {
                        Target::Jump(n) | Target::Goto(n) if n == old => *n = new.to_string(),
                        _ => {}
                    }
                }
            }
            out.changed = true;
        }
        Cmd::Policy => {
            let name = chain.unwrap_or_default();
            let pol = p.policy.as_deref().unwrap_or_default();
            // The policy is looked at before the chain.
            let policy = match pol {
                "ACCEPT" => "ACCEPT",
                "DROP" => "DROP",
                _ => return Err(Error::einval("Bad policy name.")),
            };
            if !is_builtin_name(&p.table, name) {
                return Err(Error::other("Bad built-in chain name."));
            }
            let c = chain_mut(rs, &p.table, name)?;
            c.policy = Some(policy);
            // iptables-nft sets the chain anew: its counters restart.
            c.counters = Counters::default();
            out.changed = true;
        }
    }
    Ok(())
}

/// `print_rule` with `FMT_PRINT_RULE`: what `-v` prints for a rule command.
fn print_rule(out: &mut String, r: &Rule) {
    let f = ListFormat {
        numeric: true,
        verbose: true,
        exact: false,
        line_numbers: false,
        notable: true,
    };
    list::rule_line(out, f, 0, r);
}

fn is_builtin_name(table: &str, chain: &str) -> bool {
    table_def(table).is_some_and(|d| d.chains.iter().any(|(n, _)| *n == chain))
}

/// Puts one rule of `-A`/`-I`/`-R` in place; returns the batch operation
/// name the kernel would report (`APPEND`, `INSERT`, `REPLACE`).
fn rule_op(
    rs: &mut Ruleset,
    table: &str,
    chain: &str,
    cmd: Cmd,
    at: usize,
    r: &Rule,
) -> Result<&'static str> {
    if cmd == Cmd::Replace {
        let c = existing_chain_mut(rs, table, chain)?;
        let slot = c
            .rules
            .get_mut(at)
            .ok_or_else(|| Error::other("Index of replacement too big."))?;
        *slot = r.clone();
        return Ok("REPLACE");
    }
    let c = chain_mut(rs, table, chain)?;
    if cmd == Cmd::Append || (at > 0 && at == c.rules.len()) {
        c.rules.push(r.clone());
        return Ok("APPEND");
    }
    if at > c.rules.len() {
        return Err(Error::other("Index of insertion too big."));
    }
    c.rules.insert(at, r.clone());
    Ok("INSERT")
}

/// A `-j CHAIN` / `-g CHAIN` must name an existing chain of the table (a
/// built-in name passes here; the kernel refuses it at commit).
fn check_target(rs: &Ruleset, table: &str, r: &Rule) -> Result<()> {
    if let Some(name) = r.target.chain() {
        let exists = is_builtin_name(table, name)
            || rs.table(table).is_some_and(|t| t.chain(name).is_some());
        if !exists {
            return Err(Error::param(format!("Chain '{name}' does not exist")));
        }
    }
    Ok(())
}

/// The kernel's checks of a jump at commit: no jump to a base chain, no
/// loop reachable from a base chain.
fn check_jump(rs: &Ruleset, table: &str, chain: &str, r: &Rule, op: &str) -> Result<()> {
    let Some(target) = r.target.chain() else {
        return Ok(());
    };
    let fail = |why: &str| {
        Err(Error::kernel(format!(
            "RULE_{op} failed ({why}): rule in chain {chain}"
        )))
    };
    if is_builtin_name(table, target) {
        let present = rs.table(table).and_then(|t| t.present_chain(target));
        return fail(if present.is_some() {
            "Operation not supported"
        } else {
            "No such file or directory"
        });
    }
    match rs.table(table) {
        Some(t) if has_loop(t) => fail("Too many links"),
        _ => Ok(()),
    }
}

/// Whether a chain reachable from a base chain reaches itself again.
fn has_loop(t: &Table) -> bool {
    fn visit(t: &Table, name: &str, path: &mut Vec<String>) -> bool {
        if path.iter().any(|p| p == name) {
            return true;
        }
        let Some(c) = t.chain(name) else {
            return false;
        };
        path.push(name.to_string());
        let found = c
            .rules
            .iter()
            .filter_map(|r| r.target.chain())
            .any(|n| visit(t, n, path));
        path.pop();
        found
    }
    t.chains
        .iter()
        .filter(|c| c.is_builtin())
        .any(|c| visit(t, &c.name, &mut Vec::new()))
}

/// The table for a write, created as iptables-nft creates it: the table
/// alone, its built-in chains absent until used.
fn table_for_write<'a>(rs: &'a mut Ruleset, table: &str) -> Result<&'a mut Table> {
    let fresh = rs.table(table).is_none();
    let t = rs.table_mut(table).ok_or_else(|| Error::other(NO_CHAIN))?;
    if fresh {
        t.absent = t.def.chains.iter().map(|(n, _)| n.to_string()).collect();
    }
    Ok(t)
}

/// `nft_xt_builtin_init`: the table and the built-in `chain` (all
/// built-ins when `None`) made present.
fn builtin_init<'a>(
    rs: &'a mut Ruleset,
    table: &str,
    chain: Option<&str>,
) -> Result<&'a mut Table> {
    let t = table_for_write(rs, table)?;
    match chain {
        Some(name) => t.absent.retain(|a| a != name),
        None => t.absent.clear(),
    }
    Ok(t)
}

/// The chain for `-A`/`-I`/`-P`/`-F CHAIN`, creating the table and the
/// built-in chain as the kernel does on first write.
fn chain_mut<'a>(rs: &'a mut Ruleset, table: &str, chain: &str) -> Result<&'a mut Chain> {
    builtin_init(rs, table, Some(chain))?
        .chain_mut(chain)
        .ok_or_else(|| Error::other(NO_CHAIN))
}

/// A chain the kernel holds.
fn existing_chain_mut<'a>(rs: &'a mut Ruleset, table: &str, chain: &str) -> Result<&'a mut Chain> {
    match rs.table_mut_if_exists(table) {
        Some(t) if t.present_chain(chain).is_some() => t.chain_mut(chain),
        _ => None,
    }
    .ok_or_else(|| Error::other(NO_CHAIN))
}

/// Names of the chains the kernel holds, in listing order.
fn present_names(t: &Table) -> Vec<String> {
    t.ordered()
        .iter()
        .filter(|c| t.present_chain(&c.name).is_some())
        .map(|c| c.name.clone())
        .collect()
}

/// `-X` of an empty built-in chain with policy ACCEPT: the kernel drops
/// it; listings show it fresh.
fn drop_builtin(t: &mut Table, name: &str) {
    if let Some(c) = t.chain_mut(name) {
        c.counters = Counters::default();
    }
    if !t.absent.iter().any(|a| a == name) {
        t.absent.push(name.to_string());
    }
}

fn zero_chain(c: &mut Chain, verbose: bool, out: &mut String) {
    if verbose {
        let _ = writeln!(out, "Zeroing chain `{}'", c.name);
    }
    c.counters = Counters::default();
    for r in &mut c.rules {
        r.counters = Counters::default();
    }
}

fn zero(
    rs: &mut Ruleset,
    table: &str,
    chain: Option<&str>,
    rulenum: Option<u32>,
    verbose: bool,
    out: &mut String,
) -> Result<bool> {
    match (chain, rulenum) {
        (Some(name), Some(n)) => {
            let c = existing_chain_mut(rs, table, name).map_err(|_| Error::other(BAD_RULE))?;
            if let Some(r) = c.rules.get_mut(n as usize - 1) {
                r.counters = Counters::default();
            }
        }
        (Some(name), None) => zero_chain(existing_chain_mut(rs, table, name)?, verbose, out),
        (None, _) => {
            let Some(t) = rs.table_mut_if_exists(table) else {
                return Ok(false);
            };
            for name in present_names(t) {
                if let Some(c) = t.chain_mut(&name) {
                    zero_chain(c, verbose, out);
                }
            }
        }
    }
    Ok(true)
}

/// The `-Z` of `-L -Z`/`-S -Z`: the listing made the chains it showed
/// (all built-ins, or the one named) exist, so zeroing creates them; in a
/// table the kernel does not hold, the kernel refuses that at commit.
fn list_zero(rs: &mut Ruleset, p: &Parsed, verbose: bool, out: &mut String) -> Result<bool> {
    let chain = p.chain.as_deref();
    if rs.table(&p.table).is_none() {
        if p.zero_num {
            return Ok(false);
        }
        let view = rs
            .table_view(&p.table)
            .ok_or_else(|| Error::other(NO_CHAIN))?;
        let names = match chain {
            Some(name) => vec![name.to_string()],
            None => present_names(&view),
        };
        for name in &names {
            if verbose {
                let _ = writeln!(out, "Zeroing chain `{name}'");
            }
        }
        return Err(Error::kernel(format!(
            "CHAIN_ZERO failed (No such file or directory): chain {}",
            names.first().map(String::as_str).unwrap_or_default()
        )));
    }
    let listed = chain.filter(|c| is_builtin_name(&p.table, c));
    if chain.is_none() || listed.is_some() {
        builtin_init(rs, &p.table, listed)?;
    }
    let rulenum = if p.zero_num { p.rulenum } else { None };
    zero(rs, &p.table, chain, rulenum, verbose, out)
}

/// A chain the kernel refuses to delete: not empty, or jumped to.
fn busy(t: &Table, c: &Chain) -> bool {
    !c.rules.is_empty() || t.references(&c.name) > 0
}

fn chain_busy_error(name: &str) -> Error {
    Error::kernel(format!(
        "CHAIN_DEL failed (Device or resource busy): chain {name}"
    ))
}

fn delete_chain(
    rs: &mut Ruleset,
    table: &str,
    chain: Option<&str>,
    verbose: bool,
    out: &mut String,
) -> Result<bool> {
    let Some(t) = rs.table_mut_if_exists(table) else {
        return match chain {
            Some(_) => Err(Error::other(NO_CHAIN)),
            None => Ok(false),
        };
    };
    let deleting = |out: &mut String, c: &Chain| {
        if verbose && !c.is_builtin() {
            let _ = writeln!(out, "Deleting chain `{}'", c.name);
        }
    };
    match chain {
        Some(name) => {
            let c = t
                .present_chain(name)
                .ok_or_else(|| Error::other(NO_CHAIN))?;
            deleting(out, c);
            if c.is_builtin() && c.policy != Some("ACCEPT") {
                return Err(Error::other("Directory not empty."));
            }
            if busy(t, c) {
                return Err(chain_busy_error(name));
            }
            if c.is_builtin() {
                drop_builtin(t, name);
            } else {
                t.chains.retain(|c| c.name != name);
            }
        }
        None => {
            let mut first_busy = None;
            for c in t.ordered() {
                deleting(out, c);
                if first_busy.is_none() && !c.is_builtin() && busy(t, c) {
                    first_busy = Some(chain_busy_error(&c.name));
                }
            }
            if let Some(e) = first_busy {
                return Err(e);
            }
            let idle: Vec<String> = t
                .chains
                .iter()
                .filter(|c| c.is_builtin() && c.rules.is_empty() && c.policy == Some("ACCEPT"))
                .map(|c| c.name.clone())
                .collect();
            for name in idle {
                drop_builtin(t, &name);
            }
            t.chains.retain(|c| c.is_builtin());
        }
    }
    Ok(true)
}
