//! Applying a parsed iptables command to a ruleset, with the checks and
//! messages of iptables-nft.

use crate::list::{self, ListFormat};
use crate::parse::{Cmd, Parsed};
use crate::rule::{Counters, Rule, Target};
use crate::ruleset::{table_def, Chain, Ruleset};
use crate::{save, Error, Result};

/// What a command produced.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Text for stdout.
    pub stdout: String,
    /// Whether the ruleset changed (and must be written back).
    pub changed: bool,
}

const NO_CHAIN: &str = "No chain/target/match by that name.";

/// Applies `p` to `rs`. On error `rs` may be partly changed: callers apply
/// to a copy and keep it only on success.
pub fn apply(rs: &mut Ruleset, p: &Parsed) -> Result<Outcome> {
    let mut out = Outcome::default();
    if table_def(&p.table).is_none() {
        return Err(Error::param(format!("table '{}' does not exist", p.table)));
    }
    let chain = p.chain.as_deref();
    match p.cmd {
        Cmd::Nothing | Cmd::Help | Cmd::Version => {}
        Cmd::Append | Cmd::Insert | Cmd::Replace | Cmd::Check | Cmd::Delete => {
            let chain = chain.unwrap_or_default();
            for r in &p.rules {
                check_target(rs, &p.table, r)?;
            }
            check_chain_exists_for_rule(rs, &p.table, chain)?;
            let exists = rs.table(&p.table).is_some();
            match p.cmd {
                Cmd::Append | Cmd::Insert | Cmd::Replace => {
                    let c = chain_mut(rs, &p.table, chain)?;
                    rule_op(c, p)?;
                    check_hooks(rs, &p.table)?;
                    out.changed = true;
                }
                _ => {
                    if !exists {
                        return Err(Error::other(NO_CHAIN));
                    }
                    let c = chain_mut(rs, &p.table, chain)?;
                    for r in &p.rules {
                        let pos = c.rules.iter().position(|x| x.same_as(r));
                        match (p.cmd, pos) {
                            (_, None) => {
                                return Err(Error::other(
                                    "Bad rule (does a matching rule exist in that chain?).",
                                ))
                            }
                            (Cmd::Delete, Some(i)) => {
                                c.rules.remove(i);
                                out.changed = true;
                            }
                            _ => {}
                        }
                    }
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
                        verbose: p.verbose > 0,
                        exact: p.exact,
                        line_numbers: p.line_numbers,
                    },
                )
            } else {
                save::list_rules(&view, chain, p.rulenum, p.verbose > 0)
            };
            out.stdout = text.ok_or_else(|| Error::other(NO_CHAIN))?;
            if p.zero_too {
                out.changed |= zero(rs, &p.table, chain, p.rulenum)?;
            }
        }
        Cmd::Flush => {
            if let Some(name) = chain {
                let c = existing_chain_mut(rs, &p.table, name)?;
                c.rules.clear();
                out.changed = true;
            } else if let Some(t) = rs.table_mut_if_exists(&p.table) {
                for c in &mut t.chains {
                    c.rules.clear();
                }
                out.changed = true;
            }
        }
        Cmd::Zero => out.changed = zero(rs, &p.table, chain, None)?,
        Cmd::ZeroNum => out.changed = zero(rs, &p.table, chain, p.rulenum)?,
        Cmd::NewChain => {
            let name = chain.unwrap_or_default();
            let t = rs
                .table_mut(&p.table)
                .ok_or_else(|| Error::other(NO_CHAIN))?;
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
            out.changed = delete_chain(rs, &p.table, chain)?;
        }
        Cmd::RenameChain => {
            let old = chain.unwrap_or_default();
            let new = p.newname.as_deref().unwrap_or_default();
            crate::parse::assert_valid_chain_name(new, rs.family)?;
            let t = rs
                .table_mut_if_exists(&p.table)
                .ok_or_else(|| Error::other(NO_CHAIN))?;
            if t.chain(new).is_some() {
                return Err(Error::other("File exists."));
            }
            match t.chain(old) {
                None => return Err(Error::other(NO_CHAIN)),
                Some(c) if c.is_builtin() => return Err(Error::other(NO_CHAIN)),
                Some(_) => {}
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
            let policy = match pol {
                "ACCEPT" => "ACCEPT",
                "DROP" => "DROP",
                _ => return Err(Error::other("Bad policy name.")),
            };
            let builtin =
                table_def(&p.table).is_some_and(|d| d.chains.iter().any(|(n, _)| *n == name));
            if !builtin {
                return Err(Error::other("Bad built-in chain name."));
            }
            let c = chain_mut(rs, &p.table, name)?;
            c.policy = Some(policy);
            out.changed = true;
        }
    }
    Ok(out)
}

fn rule_op(c: &mut Chain, p: &Parsed) -> Result<()> {
    match p.cmd {
        Cmd::Append => c.rules.extend(p.rules.iter().cloned()),
        Cmd::Insert => {
            let n = p.rulenum.unwrap_or(1) as usize;
            if n > c.rules.len() + 1 {
                return Err(Error::other("Index of insertion too big."));
            }
            for (i, r) in p.rules.iter().enumerate() {
                c.rules.insert(n - 1 + i, r.clone());
            }
        }
        Cmd::Replace => {
            let n = p.rulenum.unwrap_or(1) as usize;
            if n > c.rules.len() {
                return Err(Error::other("Index of replacement too big."));
            }
            if let Some(r) = p.rules.first() {
                c.rules[n - 1] = r.clone();
            }
        }
        _ => {}
    }
    Ok(())
}

/// A `-j CHAIN` / `-g CHAIN` must name an existing chain of the table.
fn check_target(rs: &Ruleset, table: &str, r: &Rule) -> Result<()> {
    if let Some(name) = r.target.chain() {
        let exists = rs.table(table).is_some_and(|t| t.chain(name).is_some());
        if !exists {
            return Err(Error::param(format!("Chain '{name}' does not exist")));
        }
    }
    Ok(())
}

/// The kernel (nf_tables) validates, for every built-in chain, each rule
/// reachable from it through jumps and gotos: an extension valid only in
/// some hooks ([`crate::ext::Ext::hooks`]) refuses the whole change when
/// reached from another hook, whichever rule (the extension's or a jump to
/// its chain) was being added.
fn check_hooks(rs: &Ruleset, table: &str) -> Result<()> {
    let Some(t) = rs.table(table) else {
        return Ok(());
    };
    for start in t.chains.iter().filter(|c| c.is_builtin()) {
        let hook = start.name.as_str();
        let mut seen: Vec<&str> = vec![hook];
        let mut todo = vec![start];
        while let Some(c) = todo.pop() {
            for r in &c.rules {
                let target = match &r.target {
                    Target::Ext(l) => Some(l),
                    _ => None,
                };
                let refused = r
                    .matches
                    .iter()
                    .chain(target)
                    .filter_map(|l| l.ext.hooks())
                    .any(|hooks| !hooks.contains(&hook));
                if refused {
                    return Err(Error::kernel(String::new()));
                }
                if let Some(next) = r.target.chain().and_then(|n| t.chain(n)) {
                    if !seen.contains(&next.name.as_str()) {
                        seen.push(&next.name);
                        todo.push(next);
                    }
                }
            }
        }
    }
    Ok(())
}

fn check_chain_exists_for_rule(rs: &Ruleset, table: &str, chain: &str) -> Result<()> {
    let builtin = table_def(table).is_some_and(|d| d.chains.iter().any(|(n, _)| *n == chain));
    if builtin || rs.table(table).is_some_and(|t| t.chain(chain).is_some()) {
        Ok(())
    } else {
        Err(Error::other(NO_CHAIN))
    }
}

/// The chain, creating the table (as the kernel does on first write).
fn chain_mut<'a>(rs: &'a mut Ruleset, table: &str, chain: &str) -> Result<&'a mut Chain> {
    rs.table_mut(table)
        .and_then(|t| t.chain_mut(chain))
        .ok_or_else(|| Error::other(NO_CHAIN))
}

/// The chain of an existing table.
fn existing_chain_mut<'a>(rs: &'a mut Ruleset, table: &str, chain: &str) -> Result<&'a mut Chain> {
    let builtin = table_def(table).is_some_and(|d| d.chains.iter().any(|(n, _)| *n == chain));
    if builtin {
        return chain_mut(rs, table, chain);
    }
    rs.table_mut_if_exists(table)
        .and_then(|t| t.chain_mut(chain))
        .ok_or_else(|| Error::other(NO_CHAIN))
}

fn zero(rs: &mut Ruleset, table: &str, chain: Option<&str>, rulenum: Option<u32>) -> Result<bool> {
    match chain {
        Some(name) => {
            let c = existing_chain_mut(rs, table, name)?;
            match rulenum {
                Some(n) => {
                    let r = c
                        .rules
                        .get_mut(n as usize - 1)
                        .ok_or_else(|| Error::other(NO_CHAIN))?;
                    r.counters = Counters::default();
                }
                None => {
                    c.counters = Counters::default();
                    for r in &mut c.rules {
                        r.counters = Counters::default();
                    }
                }
            }
        }
        None => {
            if let Some(t) = rs.table_mut_if_exists(table) {
                for c in &mut t.chains {
                    c.counters = Counters::default();
                    for r in &mut c.rules {
                        r.counters = Counters::default();
                    }
                }
            }
        }
    }
    Ok(true)
}

fn delete_chain(rs: &mut Ruleset, table: &str, chain: Option<&str>) -> Result<bool> {
    let Some(t) = rs.table_mut_if_exists(table) else {
        return match chain {
            Some(_) => Err(Error::other(NO_CHAIN)),
            None => Ok(false),
        };
    };
    match chain {
        Some(name) => {
            let c = t.chain(name).ok_or_else(|| Error::other(NO_CHAIN))?;
            if c.is_builtin() {
                return Err(Error::other("Device or resource busy."));
            }
            if t.references(name) > 0 {
                return Err(Error::other("Too many links."));
            }
            if !c.rules.is_empty() {
                return Err(Error::other("Directory not empty."));
            }
            t.chains.retain(|c| c.name != name);
        }
        None => {
            let names: Vec<String> = t
                .chains
                .iter()
                .filter(|c| !c.is_builtin())
                .map(|c| c.name.clone())
                .collect();
            for n in &names {
                if t.references(n) > 0 {
                    let referenced_from_kept = t.chains.iter().any(|c| {
                        c.is_builtin() && c.rules.iter().any(|r| r.target.chain() == Some(n))
                    });
                    if referenced_from_kept {
                        return Err(Error::other("Too many links."));
                    }
                }
            }
            t.chains.retain(|c| c.is_builtin());
        }
    }
    Ok(true)
}
