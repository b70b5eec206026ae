//! `-m addrtype` (`libxt_addrtype.c`, revision 1): the routing type of the
//! source or destination address, optionally looked up only on the
//! packet's incoming or outgoing interface.

use super::{Call, Def, Errno, Ext, KernelCtx, Opt, Role, RuleCtx};
use crate::addr::Family;
use crate::rule::IpSpec;
use crate::ruleset::Hook;
use crate::{Error, Result};

/// The type names, bit `i` for `TYPES[i]` (`RTN_*` order).
pub const TYPES: [&str; 12] = [
    "UNSPEC",
    "UNICAST",
    "LOCAL",
    "BROADCAST",
    "ANYCAST",
    "MULTICAST",
    "BLACKHOLE",
    "UNREACHABLE",
    "PROHIBIT",
    "THROW",
    "NAT",
    "XRESOLVE",
];

const O_SRC: u8 = 0;
const O_DST: u8 = 1;
const O_IN: u8 = 2;
const O_OUT: u8 = 3;

/// The state of `-m addrtype` (`struct xt_addrtype_info_v1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addrtype {
    /// Source types (bit per [`TYPES`] entry).
    pub source: u16,
    /// Destination types.
    pub dest: u16,
    /// `! --src-type`.
    pub invert_source: bool,
    /// `! --dst-type`.
    pub invert_dest: bool,
    /// `--limit-iface-in`.
    pub limit_in: bool,
    /// `--limit-iface-out`.
    pub limit_out: bool,
}

/// `-m addrtype`.
pub const DEF: Def = Def {
    name: "addrtype",
    role: Role::Match,
    family: None,
    opts: &[
        Opt::req("src-type", O_SRC).inv(),
        Opt::req("dst-type", O_DST).inv(),
        Opt::flag("limit-iface-in", O_IN).excl(1 << O_OUT),
        Opt::flag("limit-iface-out", O_OUT).excl(1 << O_IN),
    ],
    new: |_| {
        Box::new(Addrtype {
            source: 0,
            dest: 0,
            invert_source: false,
            invert_dest: false,
            limit_in: false,
            limit_out: false,
        })
    },
};

/// `parse_type`: the first type whose name starts with `name` (any case).
fn parse_type(name: &str) -> Option<u16> {
    TYPES
        .iter()
        .position(|t| t.len() >= name.len() && t[..name.len()].eq_ignore_ascii_case(name))
        .map(|i| 1 << i)
}

/// `parse_types`: a comma-separated list.
fn parse_types(arg: &str) -> Result<u16> {
    let mut mask = 0;
    let mut rest = arg;
    while let Some((item, tail)) = rest.split_once(',') {
        match parse_type(item).filter(|_| !item.is_empty()) {
            Some(bit) => mask |= bit,
            None => return Err(Error::param(format!("addrtype: bad type `{rest}'"))),
        }
        rest = tail;
    }
    match parse_type(rest).filter(|_| !rest.is_empty()) {
        Some(bit) => Ok(mask | bit),
        None => Err(Error::param(format!("addrtype: bad type \"{rest}\""))),
    }
}

fn types_text(out: &mut String, mask: u16) {
    let names: Vec<&str> = TYPES
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, n)| *n)
        .collect();
    out.push_str(&names.join(","));
}

impl Addrtype {
    /// The text of print and save: `label` then the types, for each side.
    fn sides(&self, out: &mut String, labels: [&str; 2], save: bool) {
        for (label, mask, inv) in [
            (labels[0], self.source, self.invert_source),
            (labels[1], self.dest, self.invert_dest),
        ] {
            if mask == 0 {
                continue;
            }
            match (save, inv) {
                (true, true) => out.push_str(&format!(" ! {label} ")),
                (false, true) => out.push_str(&format!(" {label} !")),
                _ => out.push_str(&format!(" {label} ")),
            }
            types_text(out, mask);
        }
    }
}

impl Ext for Addrtype {
    fn parse(&mut self, c: &Call, _ctx: &RuleCtx) -> Result<()> {
        match c.id {
            O_SRC => {
                self.source |= parse_types(c.arg())?;
                self.invert_source |= c.invert;
            }
            O_DST => {
                self.dest |= parse_types(c.arg())?;
                self.invert_dest |= c.invert;
            }
            O_IN => self.limit_in = true,
            _ => self.limit_out = true,
        }
        Ok(())
    }
    fn finish(&mut self, seen: u32, _ctx: &RuleCtx) -> Result<()> {
        if seen & ((1 << O_SRC) | (1 << O_DST)) == 0 {
            return Err(Error::param(
                "addrtype: you must specify --src-type or --dst-type",
            ));
        }
        Ok(())
    }
    fn kernel_check(&self, k: &KernelCtx) -> std::result::Result<(), Errno> {
        let ip = k.ip;
        let hook = k.hook;
        if ip.family == Family::V6 {
            // IPv6 has no BROADCAST, BLACKHOLE, PROHIBIT and later types.
            let unsupported = (1 << 3) | (1 << 6) | !((1 << 8) - 1);
            if (self.source | self.dest) & unsupported != 0 {
                return Err(Errno::Inval);
            }
        }
        let refused_out = matches!(hook, Some(Hook::Prerouting | Hook::Input)) && self.limit_out;
        let refused_in = matches!(hook, Some(Hook::Postrouting | Hook::Output)) && self.limit_in;
        Errno::unless(!(refused_in || refused_out))
    }
    fn print(&self, out: &mut String, _ip: &IpSpec, _numeric: bool) {
        out.push_str(" ADDRTYPE match");
        self.sides(out, ["src-type", "dst-type"], false);
        if self.limit_in {
            out.push_str(" limit-in");
        }
        if self.limit_out {
            out.push_str(" limit-out");
        }
    }
    fn save(&self, out: &mut String, _ip: &IpSpec) {
        self.sides(out, ["--src-type", "--dst-type"], true);
        if self.limit_in {
            out.push_str(" --limit-iface-in");
        }
        if self.limit_out {
            out.push_str(" --limit-iface-out");
        }
    }
}
