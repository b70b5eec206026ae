//! The kernel's side of adding a rule under iptables-nft: what
//! `nft_compat` checks when a rule with xtables extensions is committed,
//! and how iptables-nft reports a refusal (exit 4,
//! `RULE_APPEND failed (Invalid argument): rule in chain INPUT`).
//!
//! Two kinds of checks, found live:
//! * at rule creation, each extension's table restriction, protocol and
//!   `checkentry` ([`crate::ext::Ext::kernel_check`]), which sees the hook
//!   only when the rule goes to a built-in chain;
//! * whenever the table changes, the hooks a target may be reached from
//!   ([`crate::ext::Ext::hooks`]): a DNAT in a user chain fails once the
//!   chain is reachable from POSTROUTING, be it by adding the DNAT to a
//!   linked chain or by adding the jump that links it.

use crate::ext::{Errno, KernelCtx, Loaded};
use crate::parse::Cmd;
use crate::rule::{Rule, Target};
use crate::ruleset::{table_def, Hook, Table};
use crate::{Error, Result};

/// The iptables-nft message of a refused rule operation.
pub fn refusal(cmd: Cmd, chain: &str, errno: Errno) -> Error {
    let op = match cmd {
        Cmd::Insert => "RULE_INSERT",
        Cmd::Replace => "RULE_REPLACE",
        Cmd::Delete | Cmd::DeleteNum => "RULE_DELETE",
        _ => "RULE_APPEND",
    };
    Error::kernel(format!(
        "{op} failed ({}): rule in chain {chain}",
        errno.text()
    ))
}

fn extensions(r: &Rule) -> impl Iterator<Item = &Loaded> {
    let target = match &r.target {
        Target::Ext(l) => Some(l),
        _ => None,
    };
    r.matches.iter().chain(target)
}

/// The creation-time checks of every extension of `r`, added to `chain`
/// of `table`.
pub fn check_rule(table: &str, chain: &str, r: &Rule) -> std::result::Result<(), Errno> {
    let hook = table_def(table)
        .and_then(|d| d.chains.iter().find(|(n, _)| *n == chain))
        .map(|(_, h)| *h);
    let k = KernelCtx {
        table,
        hook,
        ip: &r.ip,
    };
    extensions(r).try_for_each(|l| l.ext.kernel_check(&k))
}

/// The hooks of the built-in chains from which `chain` is reachable by
/// jumps and gotos (its own hook included).
pub fn hooks_reaching(t: &Table, chain: &str) -> Vec<Hook> {
    let mut seen: Vec<&str> = vec![chain];
    let mut i = 0;
    // Each chain enters `seen` at most once: bounded by the chain count.
    while let Some(&target) = seen.get(i) {
        for c in &t.chains {
            let jumps_here = c.rules.iter().any(|r| r.target.chain() == Some(target));
            if jumps_here && !seen.contains(&c.name.as_str()) {
                seen.push(&c.name);
            }
        }
        i += 1;
    }
    t.chains
        .iter()
        .filter(|c| seen.contains(&c.name.as_str()))
        .filter_map(|c| c.hook)
        .collect()
}

/// The kernel's validation after `rules` were added to `chain` of `t`
/// (the table as it is after the change, valid before it): every
/// hook-restricted extension that now runs under the hooks reaching
/// `chain` (in the new rules, or in a chain they make reachable) must
/// allow them.
pub fn validate(t: &Table, chain: &str, rules: &[Rule]) -> std::result::Result<(), Errno> {
    let jumps = rules.iter().any(|r| r.target.chain().is_some());
    let restricted = rules
        .iter()
        .flat_map(extensions)
        .any(|l| l.ext.hooks().is_some());
    if !jumps && !restricted {
        return Ok(());
    }
    let hooks = hooks_reaching(t, chain);
    let allowed = |l: &Loaded| {
        l.ext
            .hooks()
            .is_none_or(|ok| hooks.iter().all(|h| ok.contains(h)))
    };
    if hooks.is_empty() {
        return Ok(());
    }
    if !rules.iter().flat_map(extensions).all(allowed) {
        return Err(Errno::Inval);
    }
    let mut stack: Vec<&str> = rules.iter().filter_map(|r| r.target.chain()).collect();
    let mut visited: Vec<&str> = Vec::new();
    // Each chain is visited once: bounded by the chain count.
    while let Some(name) = stack.pop() {
        if visited.contains(&name) {
            continue;
        }
        visited.push(name);
        let Some(c) = t.chain(name) else { continue };
        if !c.rules.iter().flat_map(extensions).all(allowed) {
            return Err(Errno::Inval);
        }
        stack.extend(c.rules.iter().filter_map(|r| r.target.chain()));
    }
    Ok(())
}

/// Both checks for a rule command (`-A`, `-I`, `-R`) on `chain`: the new
/// rules when created, the table after the change (`after` is `None` when
/// the table does not exist).
pub fn check_command(
    cmd: Cmd,
    table: &str,
    chain: &str,
    rules: &[Rule],
    after: Option<&Table>,
) -> Result<()> {
    for r in rules {
        check_rule(table, chain, r).map_err(|e| refusal(cmd, chain, e))?;
    }
    if let Some(t) = after {
        validate(t, chain, rules).map_err(|e| refusal(cmd, chain, e))?;
    }
    Ok(())
}
