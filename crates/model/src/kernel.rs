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
use std::collections::HashMap;

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

/// For each chain, the hooks of the built-in chains it is reachable from
/// by jumps and gotos (itself included).
pub fn reachable_hooks(t: &Table) -> HashMap<&str, Vec<Hook>> {
    let mut reach: HashMap<&str, Vec<Hook>> = HashMap::new();
    for base in t.chains.iter().filter(|c| c.is_builtin()) {
        let Some(hook) = base.hook else { continue };
        let mut stack = vec![base.name.as_str()];
        // Each chain is entered at most once per hook: bounded by the
        // number of chains.
        while let Some(name) = stack.pop() {
            let hooks = reach.entry(name).or_default();
            if hooks.contains(&hook) {
                continue;
            }
            hooks.push(hook);
            if let Some(c) = t.chain(name) {
                stack.extend(c.rules.iter().filter_map(|r| r.target.chain()));
            }
        }
    }
    reach
}

/// The table-wide validation after a change: every extension restricted
/// to some hooks must not be reachable from another.
pub fn validate(t: &Table) -> std::result::Result<(), Errno> {
    let reach = reachable_hooks(t);
    for c in &t.chains {
        let Some(hooks) = reach.get(c.name.as_str()) else {
            continue;
        };
        for l in c.rules.iter().flat_map(extensions) {
            if let Some(allowed) = l.ext.hooks() {
                if hooks.iter().any(|h| !allowed.contains(h)) {
                    return Err(Errno::Inval);
                }
            }
        }
    }
    Ok(())
}

/// Both checks for a rule command (`-A`, `-I`, `-R`) on `chain`: the new
/// rules before, the table after (`after` is `None` when the table does
/// not exist yet).
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
        validate(t).map_err(|e| refusal(cmd, chain, e))?;
    }
    Ok(())
}
