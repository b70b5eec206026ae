//! `-m mh` (`libip6t_mh.c`, IPv6 only; loaded by `-p mh`): the mobility
//! header's type range. The kernel wants `-p mh` (protocol 135).

use super::{util, Call, Def, Errno, Ext, KernelCtx, Opt, Role, RuleCtx};
use crate::addr::Family;
use crate::rule::IpSpec;
use crate::{Error, Result};

/// The type names in iptables' order, aliases after their type.
pub const MH_NAMES: &[(&str, u8)] = &[
    ("binding-refresh-request", 0),
    ("brr", 0),
    ("home-test-init", 1),
    ("hoti", 1),
    ("careof-test-init", 2),
    ("coti", 2),
    ("home-test", 3),
    ("hot", 3),
    ("careof-test", 4),
    ("cot", 4),
    ("binding-update", 5),
    ("bu", 5),
    ("binding-acknowledgement", 6),
    ("ba", 6),
    ("binding-error", 7),
    ("be", 7),
];

/// The state of `-m mh` (`struct ip6t_mh`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mh {
    /// Lowest and highest type.
    pub types: (u8, u8),
    /// `!`.
    pub invert: bool,
}

/// `-m mh`.
pub const DEF: Def = Def {
    name: "mh",
    role: Role::Match,
    family: Some(Family::V6),
    opts: &[Opt::req("mh-type", 0).inv()],
    new: |_| {
        Box::new(Mh {
            types: (0, 0xFF),
            invert: false,
        })
    },
};

/// `name_to_type`: the first name the text abbreviates (case aside), an
/// exact name winning; else a number 0..=255.
fn name_to_type(s: &str) -> Result<u8> {
    let mut found: Option<(&str, u8)> = None;
    for &(name, t) in MH_NAMES {
        let abbrev =
            name.len() >= s.len() && name.as_bytes()[..s.len()].eq_ignore_ascii_case(s.as_bytes());
        if abbrev && (found.is_none() || name.len() == s.len()) {
            found = Some((name, t));
        }
    }
    match found {
        Some((_, t)) => Ok(t),
        None => util::xt_strtoul(s, 0, 255)
            .map(|v| v as u8)
            .ok_or_else(|| Error::param(format!("Invalid MH type `{s}'"))),
    }
}

fn type_text(t: u8, numeric: bool) -> String {
    let name = MH_NAMES.iter().find(|(_, n)| *n == t).map(|(s, _)| *s);
    match name {
        Some(n) if !numeric => n.to_string(),
        _ => t.to_string(),
    }
}

impl Ext for Mh {
    fn parse(&mut self, c: &Call, _ctx: &RuleCtx) -> Result<()> {
        let arg = c.arg();
        self.types = match arg.split_once(':') {
            None => {
                let t = name_to_type(arg)?;
                (t, t)
            }
            Some((lo, hi)) => {
                let lo = if lo.is_empty() { 0 } else { name_to_type(lo)? };
                let hi = if hi.is_empty() {
                    0xFF
                } else {
                    name_to_type(hi)?
                };
                if lo > hi {
                    return Err(Error::param("Invalid MH type range (min > max)"));
                }
                (lo, hi)
            }
        };
        self.invert |= c.invert;
        Ok(())
    }
    fn kernel_check(&self, k: &KernelCtx) -> std::result::Result<(), Errno> {
        Errno::unless(k.ip.proto == 135 && !k.ip.proto_inv)
    }
    fn print(&self, out: &mut String, _ip: &IpSpec, numeric: bool) {
        out.push_str(" mh");
        let (lo, hi) = self.types;
        if lo == 0 && hi == 0xFF && !self.invert {
            return;
        }
        out.push(' ');
        if self.invert {
            out.push('!');
        }
        out.push_str(&type_text(lo, numeric));
        if lo != hi {
            out.push(':');
            out.push_str(&type_text(hi, numeric));
        }
    }
    fn save(&self, out: &mut String, _ip: &IpSpec) {
        let (lo, hi) = self.types;
        if lo == 0 && hi == 0xFF {
            return;
        }
        util::inv_save(out, self.invert);
        if lo != hi {
            out.push_str(&format!(" --mh-type {lo}:{hi}"));
        } else {
            out.push_str(&format!(" --mh-type {lo}"));
        }
    }
}
