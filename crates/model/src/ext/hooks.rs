//! Where the kernel accepts a match or target, as iptables-nft meets it
//! when a rule is committed (`nft_compat`):
//!
//! * `checkentry` runs when the rule is added, with the rule's IP part,
//!   the table and, for a built-in chain, its hook; a rule in a user chain
//!   is checked with no hook ([`Ext::check_entry`](super::Ext::check_entry));
//! * the module's allowed hooks (`.hooks`) are checked for every rule
//!   reachable from each built-in chain, through `-j`/`-g` to user chains,
//!   whenever the table changes ([`Ext::hooks`](super::Ext::hooks)). So a
//!   jump to a user chain holding `-m owner` fails from `INPUT`.
//!
//! Either refusal fails the command with exit code 4.

use super::Loaded;
use crate::rule::{Rule, Target};
use crate::ruleset::{Hook, Table};

fn exts(rule: &Rule) -> impl Iterator<Item = &Loaded> {
    let target = match &rule.target {
        Target::Ext(l) => Some(l),
        _ => None,
    };
    rule.matches.iter().chain(target)
}

/// Whether `checkentry` of every match and target of `rule` accepts it in
/// `table`, added to a chain with `hook` (`None`: a user chain).
pub fn rule_fits(rule: &Rule, table: &str, hook: Option<Hook>) -> bool {
    exts(rule).all(|l| l.ext.check_entry(&rule.ip, table, hook))
}

/// Whether every rule reachable from each built-in chain of `t` is allowed
/// in that chain's hook.
pub fn table_fits(t: &Table) -> bool {
    t.chains.iter().all(|base| {
        let Some(hook) = base.hook else {
            return true;
        };
        let mut seen: Vec<&str> = vec![&base.name];
        let mut todo = vec![base];
        while let Some(c) = todo.pop() {
            for r in &c.rules {
                let ok = exts(r).all(|l| l.ext.hooks().is_none_or(|hs| hs.contains(&hook)));
                if !ok {
                    return false;
                }
                if let Some(next) = r.target.chain().and_then(|n| t.chain(n)) {
                    if !seen.contains(&next.name.as_str()) {
                        seen.push(&next.name);
                        todo.push(next);
                    }
                }
            }
        }
        true
    })
}
