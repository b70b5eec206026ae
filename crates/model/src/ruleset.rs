//! A ruleset: the tables of one family, their chains and rules, as the
//! kernel holds them under iptables-nft.
//!
//! A table exists once something wrote to it (a fresh kernel has none);
//! an existing table always shows all its built-in chains. User chains are
//! listed and saved sorted by name, as iptables-nft does.

use crate::addr::Family;
use crate::rule::{Counters, Rule};

/// The netfilter hooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Hook {
    /// Before routing.
    Prerouting,
    /// To a local socket.
    Input,
    /// Routed through.
    Forward,
    /// From a local socket.
    Output,
    /// After routing.
    Postrouting,
}

/// A built-in table: its name and its built-in chains with their hooks.
#[derive(Debug)]
pub struct TableDef {
    /// `filter`, `nat`, ...
    pub name: &'static str,
    /// Built-in chains in hook order.
    pub chains: &'static [(&'static str, Hook)],
}

use Hook::*;

/// The tables, in the order iptables-nft-save prints them.
pub const TABLES: &[TableDef] = &[
    TableDef {
        name: "mangle",
        chains: &[
            ("PREROUTING", Prerouting),
            ("INPUT", Input),
            ("FORWARD", Forward),
            ("OUTPUT", Output),
            ("POSTROUTING", Postrouting),
        ],
    },
    TableDef {
        name: "security",
        chains: &[("INPUT", Input), ("FORWARD", Forward), ("OUTPUT", Output)],
    },
    TableDef {
        name: "raw",
        chains: &[("PREROUTING", Prerouting), ("OUTPUT", Output)],
    },
    TableDef {
        name: "filter",
        chains: &[("INPUT", Input), ("FORWARD", Forward), ("OUTPUT", Output)],
    },
    TableDef {
        name: "nat",
        chains: &[
            ("PREROUTING", Prerouting),
            ("INPUT", Input),
            ("OUTPUT", Output),
            ("POSTROUTING", Postrouting),
        ],
    },
];

/// Looks up a table definition by name.
pub fn table_def(name: &str) -> Option<&'static TableDef> {
    TABLES.iter().find(|t| t.name == name)
}

/// A chain.
#[derive(Debug, Clone)]
pub struct Chain {
    /// Its name.
    pub name: String,
    /// The hook of a built-in chain; `None` for a user chain.
    pub hook: Option<Hook>,
    /// The policy of a built-in chain (`ACCEPT` or `DROP`).
    pub policy: Option<&'static str>,
    /// The policy counters.
    pub counters: Counters,
    /// The rules in order.
    pub rules: Vec<Rule>,
}

impl Chain {
    /// True for a built-in chain.
    pub fn is_builtin(&self) -> bool {
        self.hook.is_some()
    }
}

/// A table: built-in chains first in hook order, then user chains.
#[derive(Debug, Clone)]
pub struct Table {
    /// Its definition.
    pub def: &'static TableDef,
    /// Its chains.
    pub chains: Vec<Chain>,
    /// Built-in chains the kernel does not hold (iptables-nft creates a
    /// built-in chain on first use and `-X` deletes an empty ACCEPT one);
    /// listings show them fresh all the same.
    pub absent: Vec<String>,
}

impl Table {
    /// A table as a fresh kernel creates it: built-in chains, ACCEPT
    /// policies, no rules.
    pub fn new(def: &'static TableDef) -> Self {
        Table {
            def,
            chains: def
                .chains
                .iter()
                .map(|(n, h)| Chain {
                    name: n.to_string(),
                    hook: Some(*h),
                    policy: Some("ACCEPT"),
                    counters: Counters::default(),
                    rules: Vec::new(),
                })
                .collect(),
            absent: Vec::new(),
        }
    }
    /// The table's name.
    pub fn name(&self) -> &'static str {
        self.def.name
    }
    /// A chain by name.
    pub fn chain(&self, name: &str) -> Option<&Chain> {
        self.chains.iter().find(|c| c.name == name)
    }
    /// A chain by name that the kernel holds (not an absent built-in).
    pub fn present_chain(&self, name: &str) -> Option<&Chain> {
        self.chain(name)
            .filter(|_| !self.absent.iter().any(|a| a == name))
    }
    /// A chain by name, mutable.
    pub fn chain_mut(&mut self, name: &str) -> Option<&mut Chain> {
        self.chains.iter_mut().find(|c| c.name == name)
    }
    /// Chains in listing order: built-ins in hook order, then user chains
    /// sorted by name (byte order).
    pub fn ordered(&self) -> Vec<&Chain> {
        let mut v: Vec<&Chain> = self.chains.iter().filter(|c| c.is_builtin()).collect();
        let mut user: Vec<&Chain> = self.chains.iter().filter(|c| !c.is_builtin()).collect();
        user.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        v.extend(user);
        v
    }
    /// How many rules jump or go to `chain`.
    pub fn references(&self, chain: &str) -> usize {
        self.chains
            .iter()
            .flat_map(|c| &c.rules)
            .filter(|r| r.target.chain() == Some(chain))
            .count()
    }
}

/// All tables of one family.
#[derive(Debug, Clone)]
pub struct Ruleset {
    /// The family.
    pub family: Family,
    /// The tables that exist, in [`TABLES`] order.
    pub tables: Vec<Table>,
}

impl Ruleset {
    /// A fresh kernel: no tables.
    pub fn new(family: Family) -> Self {
        Ruleset {
            family,
            tables: Vec::new(),
        }
    }
    /// A table if it exists.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name() == name)
    }
    /// A table, created as a fresh kernel would when first written.
    /// `None` for an unknown table name.
    pub fn table_mut(&mut self, name: &str) -> Option<&mut Table> {
        let def = table_def(name)?;
        if self.table(name).is_none() {
            let pos = |n: &str| TABLES.iter().position(|t| t.name == n).unwrap_or(0);
            let at = self
                .tables
                .iter()
                .position(|t| pos(t.name()) > pos(name))
                .unwrap_or(self.tables.len());
            self.tables.insert(at, Table::new(def));
        }
        self.tables.iter_mut().find(|t| t.name() == name)
    }
    /// The table for reading: the existing one, or the fresh view of it.
    pub fn table_view(&self, name: &str) -> Option<std::borrow::Cow<'_, Table>> {
        match self.table(name) {
            Some(t) => Some(std::borrow::Cow::Borrowed(t)),
            None => table_def(name).map(|d| std::borrow::Cow::Owned(Table::new(d))),
        }
    }
}

impl Ruleset {
    /// A table only if it already exists, mutable.
    pub fn table_mut_if_exists(&mut self, name: &str) -> Option<&mut Table> {
        self.tables.iter_mut().find(|t| t.name() == name)
    }
}
