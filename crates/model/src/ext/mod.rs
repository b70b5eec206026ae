//! Matches and targets: one module each, owning its options, its parse, its
//! `-L` text and its save text, like iptables' `extensions/libxt_*.c`.
//!
//! # Contract
//! An extension is described by a [`Def`] (its name, families, option table
//! and a constructor) and implemented by a type that implements [`Ext`].
//! The command-line parser ([`crate::parse`]) owns getopt-style option
//! resolution and the generic checks of iptables' option framework
//! (`xtables_option_parse`): an option given twice, `!` before an option
//! that cannot be inverted, a missing argument, `also`/`excl` constraints
//! and mandatory options. It then calls [`Ext::parse`] once per option, and
//! [`Ext::finish`] once when the whole command line is read.
//!
//! * `print` appends the `-L` text exactly as the C `print` hook does, each
//!   piece with its leading space (`" tcp dpt:22"`).
//! * `save` appends the save text after `-m NAME` / `-j NAME`, each piece
//!   with its leading space (`" --dport 22"`).
//!
//! Two rules are the same rule (for `-D` by specification and `-C`) when
//! their save texts are equal, which is how the kernel's byte comparison
//! behaves for every extension whose save text is canonical.
//!
//! Engines read an extension's parsed state by downcasting with
//! [`Ext::as_any`] to the module's public type.

use crate::addr::Family;
use crate::rule::IpSpec;
use crate::Result;
use std::any::Any;
use std::fmt::Debug;

pub mod comment;
pub mod conntrack;
pub mod icmp;
pub mod iprange;
pub mod mac;
pub mod multiport;
pub mod tcp;

/// Whether an option takes an argument (`struct option.has_arg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    /// No argument.
    None,
    /// A required argument (next word, or `--opt=value`).
    Required,
    /// An optional argument (only `--opt=value`, or the next word when it
    /// does not start with `-` or `!`, as extensions read it).
    Optional,
}

/// One option of an extension, as in `struct xt_option_entry`.
#[derive(Debug, Clone, Copy)]
pub struct Opt {
    /// Long name without the dashes.
    pub name: &'static str,
    /// The extension's own number for it (bit position in `seen`).
    pub id: u8,
    /// Argument kind.
    pub arg: Arg,
    /// `!` allowed (`XTOPT_INVERT`).
    pub invert: bool,
    /// May be given more than once (`XTOPT_MULTI`).
    pub multi: bool,
    /// Must be given (`XTOPT_MAND`).
    pub mand: bool,
    /// Ids (bitmask) that cannot be combined with this one.
    pub excl: u32,
    /// Ids (bitmask) that must come with this one.
    pub also: u32,
    /// Parsed by the extension without the framework's checks (old-style
    /// `parse` hooks that do their own checking).
    pub raw: bool,
}

impl Opt {
    /// An option with a required argument.
    pub const fn req(name: &'static str, id: u8) -> Opt {
        Opt {
            name,
            id,
            arg: Arg::Required,
            invert: false,
            multi: false,
            mand: false,
            excl: 0,
            also: 0,
            raw: false,
        }
    }
    /// A flag without argument.
    pub const fn flag(name: &'static str, id: u8) -> Opt {
        let mut o = Opt::req(name, id);
        o.arg = Arg::None;
        o
    }
    /// An option with an optional argument.
    pub const fn optional(name: &'static str, id: u8) -> Opt {
        let mut o = Opt::req(name, id);
        o.arg = Arg::Optional;
        o
    }
    /// Allow `!`.
    pub const fn inv(mut self) -> Opt {
        self.invert = true;
        self
    }
    /// Allow repetition.
    pub const fn multi(mut self) -> Opt {
        self.multi = true;
        self
    }
    /// Mandatory.
    pub const fn mand(mut self) -> Opt {
        self.mand = true;
        self
    }
    /// Exclusive with these ids.
    pub const fn excl(mut self, mask: u32) -> Opt {
        self.excl = mask;
        self
    }
    /// Requires these ids.
    pub const fn also(mut self, mask: u32) -> Opt {
        self.also = mask;
        self
    }
    /// The extension checks repetition and inversion itself.
    pub const fn raw(mut self) -> Opt {
        self.raw = true;
        self
    }
}

/// Whether a definition is a match or a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `-m NAME`.
    Match,
    /// `-j NAME`.
    Target,
}

/// Where a rule is being added, for extensions whose validity depends on it.
#[derive(Debug, Clone, Copy)]
pub struct RuleCtx<'a> {
    /// The family of the ruleset.
    pub family: Family,
    /// The rule's IP part as parsed so far (protocol and its inversion are
    /// final when [`Ext::finish`] runs).
    pub ip: &'a IpSpec,
    /// The table the rule goes to.
    pub table: &'a str,
    /// Known ipset names, for `-m set` and `-j SET`.
    pub sets: &'a [String],
}

/// What a parse call passes to an extension for one option.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    /// The option's id.
    pub id: u8,
    /// The option's long name.
    pub name: &'static str,
    /// Its argument.
    pub arg: Option<&'a str>,
    /// `!` came before it.
    pub invert: bool,
    /// Ids of this extension's options already seen, before this one.
    pub seen: u32,
    /// The words after the argument, for options that read more than one
    /// (`--tcp-flags MASK COMP`).
    pub rest: &'a [String],
    /// How many words of `rest` the extension used.
    pub consumed: &'a std::cell::Cell<usize>,
}

impl Call<'_> {
    /// The argument, which the framework guarantees for [`Arg::Required`].
    pub fn arg(&self) -> &str {
        self.arg.unwrap_or("")
    }
}

/// A match or target instance: its parsed state, and how it prints.
pub trait Ext: Debug + Send + Sync + Any {
    /// Handles one option.
    fn parse(&mut self, call: &Call, ctx: &RuleCtx) -> Result<()>;
    /// Checks the whole, after every option was parsed; `seen` holds the
    /// bit of every option id given.
    fn finish(&mut self, _seen: u32, _ctx: &RuleCtx) -> Result<()> {
        Ok(())
    }
    /// Appends the `-L` text.
    fn print(&self, out: &mut String, ip: &IpSpec, numeric: bool);
    /// Appends the save text that follows `-m NAME` or `-j NAME`.
    fn save(&self, out: &mut String, ip: &IpSpec);
    /// The built-in chains (hooks) the kernel accepts this extension in,
    /// or `None` for all; elsewhere adding the rule fails at commit.
    fn hooks(&self) -> Option<&'static [&'static str]> {
        None
    }
    /// Copies the instance.
    fn clone_box(&self) -> Box<dyn Ext>;
    /// For engines: downcast to the module's type.
    fn as_any(&self) -> &dyn Any;
}

impl Clone for Box<dyn Ext> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// The description of an extension: what iptables' `struct xtables_match`
/// or `struct xtables_target` registers.
#[derive(Debug, Clone, Copy)]
pub struct Def {
    /// The name after `-m` / `-j`, and in saves.
    pub name: &'static str,
    /// Match or target.
    pub role: Role,
    /// `None` for both families, else only this one.
    pub family: Option<Family>,
    /// The options.
    pub opts: &'static [Opt],
    /// A fresh instance.
    pub new: fn(Family) -> Box<dyn Ext>,
}

/// Every extension ironwall knows, matches and targets.
pub fn registry() -> &'static [Def] {
    const DEFS: &[Def] = &[
        tcp::TCP,
        tcp::UDP,
        comment::DEF,
        conntrack::CONNTRACK,
        conntrack::STATE,
        icmp::DEF,
        multiport::DEF,
        iprange::DEF,
        mac::DEF,
    ];
    DEFS
}

/// Finds an extension by role, name and family.
pub fn find(role: Role, name: &str, family: Family) -> Option<&'static Def> {
    registry()
        .iter()
        .find(|d| d.role == role && d.name == name && d.family.is_none_or(|f| f == family))
}

/// A loaded extension in a rule: its definition and its state.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// What it is.
    pub def: &'static Def,
    /// Its parsed state.
    pub ext: Box<dyn Ext>,
}

impl Loaded {
    /// A new instance of `def`.
    pub fn new(def: &'static Def, family: Family) -> Self {
        Loaded {
            def,
            ext: (def.new)(family),
        }
    }
    /// The save text of this extension, without `-m NAME`.
    pub fn save_text(&self, ip: &IpSpec) -> String {
        let mut s = String::new();
        self.ext.save(&mut s, ip);
        s
    }
}

/// Helpers shared by extensions for printing and parsing.
pub mod util {
    use crate::{Error, Result};

    /// Appends `" !"` when inverted (save form).
    pub fn inv_save(out: &mut String, invert: bool) {
        if invert {
            out.push_str(" !");
        }
    }

    /// `xtables_save_string`: a space, then the text bare when it is only
    /// letters, digits, `_` and `-`, else in double quotes with `"`, `\`
    /// and `'` escaped by a backslash.
    pub fn save_string(out: &mut String, s: &str) {
        out.push(' ');
        let bare = !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if bare {
            out.push_str(s);
            return;
        }
        out.push('"');
        for c in s.chars() {
            if matches!(c, '"' | '\\' | '\'') {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
    }

    /// Parses a number `min..=max` with C rules, or the framework's error.
    pub fn uint(ext: &str, opt: &str, arg: &str, min: u64, max: u64) -> Result<u64> {
        crate::num::strtoul(arg, min, max).ok_or_else(|| {
            Error::param(format!(
                "{ext}: bad value for option \"--{opt}\", or out of range ({min}-{max})."
            ))
        })
    }
}
