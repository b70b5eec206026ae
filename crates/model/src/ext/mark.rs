//! `-m mark` (`libxt_mark.c`, revision 1): the packet's netfilter mark,
//! with an optional mask. iptables-nft turns it into native nft
//! (`meta mark and MASK == VALUE`) and reads it back unchanged.

use super::{util, Call, Def, Ext, Opt, Role, RuleCtx};
use crate::rule::IpSpec;
use crate::{Error, Result};

/// The state of `-m mark` (`struct xt_mark_mtinfo1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    /// The value compared.
    pub mark: u32,
    /// The mask applied first (`0xffffffff` when none was given).
    pub mask: u32,
    /// `! --mark`.
    pub invert: bool,
}

/// `-m mark`.
pub const DEF: Def = Def {
    name: "mark",
    role: Role::Match,
    family: None,
    opts: &[Opt::req("mark", 0).mand().inv()],
    new: |_| {
        Box::new(Mark {
            mark: 0,
            mask: u32::MAX,
            invert: false,
        })
    },
};

/// `xtables_parse_mark_mask` (`XTTYPE_MARKMASK32`): `value[/mask]`, each
/// a C number up to `0xffffffff`.
pub fn parse_mark_mask(ext: &str, opt: &str, arg: &str) -> Result<(u32, u32)> {
    let bad = || {
        Error::param(format!(
            "{ext}: bad integer value for option \"--{opt}\", or out of range.\n"
        ))
    };
    let (val, rest) = util::strtoui_end_max(arg, u32::MAX as u64).ok_or_else(bad)?;
    if rest.is_empty() {
        return Ok((val as u32, u32::MAX));
    }
    let Some(m) = rest.strip_prefix('/') else {
        return Err(Error::param(format!(
            "{ext}: trailing garbage after value for option \"--{opt}\".\n"
        )));
    };
    match util::strtoui_end_max(m, u32::MAX as u64) {
        Some((mask, "")) => Ok((val as u32, mask as u32)),
        Some(_) => Err(Error::param(format!(
            "{ext}: trailing garbage after value for option \"--{opt}\".\n"
        ))),
        None => Err(bad()),
    }
}

/// `xtables_print_mark_mask`: ` 0xV` or ` 0xV/0xM`.
pub fn mark_mask_text(out: &mut String, mark: u32, mask: u32) {
    if mask == u32::MAX {
        out.push_str(&format!(" {mark:#x}"));
    } else {
        out.push_str(&format!(" {mark:#x}/{mask:#x}"));
    }
}

impl Ext for Mark {
    fn parse(&mut self, c: &Call, _ctx: &RuleCtx) -> Result<()> {
        (self.mark, self.mask) = parse_mark_mask("mark", c.name, c.arg())?;
        self.invert |= c.invert;
        Ok(())
    }
    fn print(&self, out: &mut String, _ip: &IpSpec, _numeric: bool) {
        out.push_str(" mark match");
        if self.invert {
            out.push_str(" !");
        }
        mark_mask_text(out, self.mark, self.mask);
    }
    fn save(&self, out: &mut String, _ip: &IpSpec) {
        util::inv_save(out, self.invert);
        out.push_str(" --mark");
        mark_mask_text(out, self.mark, self.mask);
    }
}
