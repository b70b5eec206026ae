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
//! * `kernel_check` and `hooks` are the kernel's refusals at commit (exit
//!   code 4): `checkentry` with the table and the hook of a built-in chain,
//!   and the module's allowed hooks for every rule reachable from a
//!   built-in chain ([`crate::kernel`] applies them for [`crate::command`]).
//!
//! Two rules are the same rule (for `-D` by specification and `-C`) when
//! their save texts are equal, which is how the kernel's byte comparison
//! behaves for every extension whose save text is canonical.
//!
//! Engines read an extension's parsed state by downcasting with
//! [`ExtBase::as_any`] to the module's public type.

use crate::addr::Family;
use crate::rule::IpSpec;
use crate::ruleset::Hook;
use crate::Result;
use std::any::Any;
use std::fmt::Debug;

pub mod addrtype;
pub mod ah;
pub mod checksum;
pub mod comment;
pub mod conntrack;
pub mod ct;
pub mod eui64;
pub mod frag;
pub mod hl;
pub mod hl_tg;
pub mod icmp;
pub mod icmp6;
pub mod iprange;
pub mod ipv6header;
pub mod limit;
pub mod log;
pub mod mac;
pub mod mark;
pub mod mark_tg;
pub mod mh;
pub mod multiport;
pub mod nat;
pub mod netmap;
pub mod nflog;
pub mod npt;
pub mod opts;
pub mod owner;
pub mod physdev;
pub mod recent;
pub mod reject;
pub mod rpfilter;
pub mod rt;
pub mod sctp;
pub mod set;
pub mod set_tg;
pub mod srh;
pub mod tcp;
pub mod tcpmss_tg;

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
    /// Known ipsets, for `-m set` and `-j SET`.
    pub sets: &'a [set::IpSet],
    /// What the extension writes to stderr without failing (C's
    /// `fprintf(stderr, ...)` warnings); the command prints it before its
    /// output or its error.
    pub warnings: &'a std::cell::RefCell<String>,
}

/// What the kernel knows when it checks an extension of a rule being
/// committed (`xt_check_target` / `xt_check_match` under nft_compat).
#[derive(Debug, Clone, Copy)]
pub struct KernelCtx<'a> {
    /// The table of the rule.
    pub table: &'a str,
    /// The hook of the chain when it is a built-in chain (the kernel's
    /// `hook_mask` at rule creation); `None` in a user chain, where
    /// `checkentry` sees no hook.
    pub hook: Option<Hook>,
    /// The rule's IP part (protocol and its inversion).
    pub ip: &'a IpSpec,
}

impl KernelCtx<'_> {
    /// `checkentry`'s `hook_mask & ~allowed == 0`: true in a user chain
    /// (no hook) or in a built-in chain of one of `allowed`.
    pub fn hook_within(&self, allowed: &[Hook]) -> bool {
        self.hook.is_none_or(|h| allowed.contains(&h))
    }
}

/// Hooks after the routing decision where a packet's size and queue are
/// known (FORWARD, OUTPUT, POSTROUTING).
pub const LATE_HOOKS: &[Hook] = &[Hook::Forward, Hook::Output, Hook::Postrouting];

/// Why the kernel refused a rule, as iptables-nft reports it in
/// `RULE_APPEND failed (TEXT)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Errno {
    /// `EINVAL`.
    Inval,
    /// `ENOENT`.
    NoEnt,
}

impl Errno {
    /// `Ok` when the kernel accepts (`ok`), else `EINVAL`.
    pub fn unless(ok: bool) -> std::result::Result<(), Errno> {
        if ok {
            Ok(())
        } else {
            Err(Errno::Inval)
        }
    }
    /// `strerror` text.
    pub fn text(self) -> &'static str {
        match self {
            Errno::Inval => "Invalid argument",
            Errno::NoEnt => "No such file or directory",
        }
    }
}

/// The kernel's table restriction of a target (`xt_target.table`).
pub fn only_table(k: &KernelCtx, table: &str) -> std::result::Result<(), Errno> {
    if k.table == table {
        Ok(())
    } else {
        Err(Errno::Inval)
    }
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
pub trait Ext: ExtBase + Debug + Send + Sync + Any {
    /// Handles one option.
    fn parse(&mut self, call: &Call, ctx: &RuleCtx) -> Result<()>;
    /// Checks the whole, after every option was parsed (`x6_fcheck`); `seen`
    /// holds the bit of every option id given. It runs before the
    /// framework's mandatory/`also`/`excl` checks, as in iptables.
    fn finish(&mut self, _seen: u32, _ctx: &RuleCtx) -> Result<()> {
        Ok(())
    }
    /// Appends the `-L` text.
    fn print(&self, out: &mut String, ip: &IpSpec, numeric: bool);
    /// Appends the save text that follows `-m NAME` or `-j NAME`.
    fn save(&self, out: &mut String, ip: &IpSpec);
    /// The kernel's checks when the rule is committed: the table the
    /// extension is restricted to, its protocol, its `checkentry`.
    fn kernel_check(&self, _k: &KernelCtx) -> std::result::Result<(), Errno> {
        Ok(())
    }
    /// The hooks the rule may be reached from (`xt_target.hooks`,
    /// `xt_match.hooks`): the kernel refuses a change that makes the
    /// rule's chain reachable, by jumps and gotos, from a built-in chain
    /// of another hook ([`crate::kernel::validate`]); `None` for any hook.
    fn hooks(&self) -> Option<&'static [Hook]> {
        None
    }
    /// The name in the `-L` target column when it differs from the saved
    /// name (an alias such as `NOTRACK`, listed as `CT`).
    fn list_name(&self) -> Option<&'static str> {
        None
    }
}

/// What every extension has without writing it: copying and downcasting,
/// for every `Ext` that is `Clone`.
pub trait ExtBase {
    /// Copies the instance.
    fn clone_box(&self) -> Box<dyn Ext>;
    /// For engines: downcast to the module's type.
    fn as_any(&self) -> &dyn Any;
}

impl<T: Ext + Clone> ExtBase for T {
    fn clone_box(&self) -> Box<dyn Ext> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
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
        icmp6::DEF,
        hl::DEF,
        eui64::DEF,
        frag::DEF,
        ah::DEF,
        ipv6header::DEF,
        rt::DEF,
        opts::HBH,
        opts::DST,
        mh::DEF,
        hl_tg::DEF,
        npt::DNPT,
        npt::SNPT,
        netmap::DEF,
        srh::DEF,
        multiport::DEF,
        iprange::DEF,
        mac::DEF,
        log::DEF,
        reject::DEF,
        nat::DNAT,
        nat::SNAT,
        nat::MASQUERADE,
        nat::REDIRECT,
        mark_tg::DEF,
        nflog::DEF,
        ct::CT,
        ct::NOTRACK,
        tcpmss_tg::DEF,
        checksum::DEF,
        set_tg::DEF,
        limit::DEF,
        mark::DEF,
        recent::DEF,
        addrtype::DEF,
        set::DEF,
        owner::DEF,
        physdev::DEF,
        rpfilter::DEF,
        sctp::DEF,
    ];
    DEFS
}

/// Finds an extension by role, name and family; `icmpv6` and `ipv6-icmp`
/// are `icmp6`, as `xtables_find_match` renames them.
pub fn find(role: Role, name: &str, family: Family) -> Option<&'static Def> {
    let name = if role == Role::Match && icmp6::ALIASES.contains(&name) {
        icmp6::DEF.name
    } else {
        name
    };
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

    /// Whether `s` would not come back as one word from a save printed
    /// without quotes (blanks or quotes in it). DECISIONS.md 7: such text is
    /// refused, as iptables-restore could not read the save.
    pub fn breaks_save(s: &str) -> bool {
        s.contains(|c: char| c.is_whitespace() || c == '"' || c == '\'')
    }

    /// `xtables_strtoui(s, &end, ..)`: a number at the start of `s` within
    /// `min..=max` and the text after it; `None` without digits, for a
    /// leading `-`, or out of range.
    pub fn strtoui_end(s: &str, min: u64, max: u64) -> Option<(u64, &str)> {
        if s.trim_start().starts_with('-') {
            return None;
        }
        let (v, rest) = crate::num::strtoul_prefix(s)?;
        (min..=max).contains(&v).then_some((v, rest))
    }

    /// [`strtoui_end`] from 0 to `max`.
    pub fn strtoui_end_max(s: &str, max: u64) -> Option<(u64, &str)> {
        strtoui_end(s, 0, max)
    }

    /// `xtables_strtoul(s, NULL, ..)`: the whole text a number within
    /// `min..=max` (C rules: leading blanks, `+`, `0x`, octal), a leading
    /// `-` refused.
    pub fn xt_strtoul(s: &str, min: u64, max: u64) -> Option<u64> {
        strtoui_end(s, min, max).and_then(|(v, rest)| rest.is_empty().then_some(v))
    }

    /// `xtables_parse_mark_mask`: `value[/mask]`, each a 32-bit number;
    /// the mask defaults to all ones.
    pub fn mark_mask(ext: &str, opt: &str, arg: &str) -> Result<(u32, u32)> {
        let bad = || {
            Error::param(format!(
                "{ext}: bad integer value for option \"--{opt}\", or out of range.\n"
            ))
        };
        let garbage = || {
            Error::param(format!(
                "{ext}: trailing garbage after value for option \"--{opt}\".\n"
            ))
        };
        let (val, end) = strtoui_end(arg, 0, u32::MAX as u64).ok_or_else(bad)?;
        if end.is_empty() {
            return Ok((val as u32, u32::MAX));
        }
        let Some(m) = end.strip_prefix('/') else {
            return Err(garbage());
        };
        let (mask, end) = strtoui_end(m, 0, u32::MAX as u64).ok_or_else(bad)?;
        if !end.is_empty() {
            return Err(garbage());
        }
        Ok((val as u32, mask as u32))
    }

    /// An `x6_fcheck` that wants at least one option: `msg` when none
    /// was given (`seen` is empty).
    pub fn need_option(seen: u32, msg: &str) -> Result<()> {
        if seen == 0 {
            return Err(Error::param(msg));
        }
        Ok(())
    }

    /// `xtopt_parse_mint` for a two-part range type (`XTTYPE_UINT32RC`):
    /// `a`, `a:b`, `:b` or `a:`, a missing part being 0 (first) or `max`
    /// (second). The parts as given (one or two), not ordered.
    pub fn uint_range(ext: &str, opt: &str, arg: &str, max: u64) -> Result<Vec<u64>> {
        let mut vals = Vec::new();
        let mut rest = arg;
        loop {
            if vals.len() == 2 {
                return Err(Error::param(format!(
                    "{ext}: Too many components for option \"--{opt}\" (max: 2)\n"
                )));
            }
            let (value, end) = if rest.is_empty() || rest.starts_with(':') {
                (if vals.len() == 1 { max } else { 0 }, rest)
            } else {
                let (v, end) = strtoui_end_max(rest, max).ok_or_else(|| {
                    Error::param(format!(
                        "{ext}: bad value for option \"--{opt}\" near \"{rest}\", or out of range (0-{max}).\n"
                    ))
                })?;
                if !end.is_empty() && !end.starts_with(':') {
                    return Err(Error::param(format!(
                        "{ext}: Argument to \"--{opt}\" has unexpected characters near \"{end}\".\n"
                    )));
                }
                (v, end)
            };
            vals.push(value);
            match end.strip_prefix(':') {
                Some(r) => rest = r,
                None => return Ok(vals),
            }
        }
    }

    /// A 32-bit id range of an IPv6 extension header match (`--ahspi`,
    /// `--fragid`, `--rt-segsleft`): a single value stands for `v:v`.
    pub fn id_range(ext: &str, opt: &str, arg: &str) -> Result<(u32, u32)> {
        let v = uint_range(ext, opt, arg, u32::MAX as u64)?;
        let lo = v.first().copied().unwrap_or(0) as u32;
        Ok((lo, v.get(1).map_or(lo, |&hi| hi as u32)))
    }

    /// The `-L` text of an id range (`print_spis` and its twins): nothing
    /// for the full range uninverted, else `NAME:[!]V` or
    /// `NAMEs:[!]LO:HI` (`name` carries any leading space).
    pub fn id_range_print(out: &mut String, name: &str, (lo, hi): (u32, u32), invert: bool) {
        if lo == 0 && hi == u32::MAX && !invert {
            return;
        }
        let inv = if invert { "!" } else { "" };
        if lo == hi {
            out.push_str(&format!("{name}:{inv}{lo}"));
        } else {
            out.push_str(&format!("{name}s:{inv}{lo}:{hi}"));
        }
    }

    /// The save text of an id range: nothing for the full range (even
    /// inverted), else `[ !] --OPT V` or `--OPT LO:HI`.
    pub fn id_range_save(out: &mut String, opt: &str, (lo, hi): (u32, u32), invert: bool) {
        if lo == 0 && hi == u32::MAX {
            return;
        }
        inv_save(out, invert);
        if lo == hi {
            out.push_str(&format!(" --{opt} {lo}"));
        } else {
            out.push_str(&format!(" --{opt} {lo}:{hi}"));
        }
    }

    /// Parses a number `min..=max` with C rules, or the framework's error.
    pub fn uint(ext: &str, opt: &str, arg: &str, min: u64, max: u64) -> Result<u64> {
        xt_strtoul(arg, min, max).ok_or_else(|| {
            Error::param(format!(
                "{ext}: bad value for option \"--{opt}\", or out of range ({min}-{max}).\n"
            ))
        })
    }
}
