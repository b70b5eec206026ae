//! `-m iprange` (`libxt_iprange.c`, revision 1): source and destination
//! address ranges, each invertible.

use super::{Call, Def, Ext, Opt, Role, RuleCtx};
use crate::addr::{ntop, parse_ipv4_numeric, Family};
use crate::rule::IpSpec;
use crate::{Error, Result};
use std::net::{IpAddr, Ipv6Addr};

/// One range, inclusive, with its inversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// Lowest address.
    pub min: IpAddr,
    /// Highest address.
    pub max: IpAddr,
    /// `!`.
    pub inv: bool,
}

/// The state of `-m iprange` (`struct xt_iprange_mtinfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Iprange {
    /// Family of the addresses.
    pub family: Family,
    /// `--src-range`.
    pub src: Option<Range>,
    /// `--dst-range`.
    pub dst: Option<Range>,
}

const O_SRC: u8 = 0;
const O_DST: u8 = 1;

/// `-m iprange`.
pub const DEF: Def = Def {
    name: "iprange",
    role: Role::Match,
    family: None,
    opts: &[
        Opt::req("src-range", O_SRC).inv(),
        Opt::req("dst-range", O_DST).inv(),
    ],
    new: |family| {
        Box::new(Iprange {
            family,
            src: None,
            dst: None,
        })
    },
};

/// `iprange_parse_range`: `ip` or `ip-ip`, numeric only. A reversed range
/// is accepted (iptables only warns).
fn parse_range(f: Family, opt: &str, arg: &str, inv: bool) -> Result<Range> {
    let one = |s: &str| -> Result<IpAddr> {
        let a = match f {
            Family::V4 => parse_ipv4_numeric(s, false).map(IpAddr::V4),
            Family::V6 => s.parse::<Ipv6Addr>().ok().map(IpAddr::V6),
        };
        a.ok_or_else(|| {
            Error::param(format!(
                "iprange: Bad value for \"--{opt}\" option: \"{s}\""
            ))
        })
    };
    let (a, b) = arg.split_once('-').unwrap_or((arg, arg));
    Ok(Range {
        min: one(a)?,
        max: one(b)?,
        inv,
    })
}

fn push_range(out: &mut String, label: &str, r: &Option<Range>, save: bool) {
    let Some(r) = r else { return };
    if save {
        if r.inv {
            out.push_str(" !");
        }
        out.push_str(&format!(" --{label} {}-{}", ntop(r.min), ntop(r.max)));
    } else {
        out.push_str(&format!(" {label} IP range"));
        if r.inv {
            out.push_str(" !");
        }
        out.push_str(&format!(" {}-{}", ntop(r.min), ntop(r.max)));
    }
}

impl Ext for Iprange {
    fn parse(&mut self, c: &Call, ctx: &RuleCtx) -> Result<()> {
        let range = parse_range(self.family, c.name, c.arg(), c.invert)?;
        if range.min > range.max {
            let (a, b) = c.arg().split_once('-').unwrap_or((c.arg(), c.arg()));
            ctx.warnings.borrow_mut().push_str(&format!(
                "xt_iprange: range {a}-{b} is reversed and will never match\n"
            ));
        }
        let r = Some(range);
        if c.id == O_SRC {
            self.src = r;
        } else {
            self.dst = r;
        }
        Ok(())
    }

    fn finish(&mut self, seen: u32, _ctx: &RuleCtx) -> Result<()> {
        if seen == 0 {
            return Err(Error::param(
                "iprange match: You must specify `--src-range' or `--dst-range'",
            ));
        }
        Ok(())
    }

    fn print(&self, out: &mut String, _ip: &IpSpec, _numeric: bool) {
        push_range(out, "source", &self.src, false);
        push_range(out, "destination", &self.dst, false);
    }

    fn save(&self, out: &mut String, _ip: &IpSpec) {
        push_range(out, "src-range", &self.src, true);
        push_range(out, "dst-range", &self.dst, true);
    }
}
