//! `-m physdev` (`libxt_physdev.c`): the bridge ports of a bridged packet.

use super::{util, Call, Def, Errno, Ext, KernelCtx, Opt, Role, RuleCtx};
use crate::rule::IpSpec;
use crate::ruleset::Hook;
use crate::{Error, Result};

const O_IN: u8 = 0;
const O_OUT: u8 = 1;
const O_IS_IN: u8 = 2;
const O_IS_OUT: u8 = 3;
const O_IS_BRIDGED: u8 = 4;

/// The state of `-m physdev` (`struct xt_physdev_info`); `given` and
/// `invert` hold one bit per option id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Physdev {
    /// `--physdev-in` (with a trailing `+` for a prefix).
    pub physindev: String,
    /// `--physdev-out`.
    pub physoutdev: String,
    /// Options given (bit per option id).
    pub given: u8,
    /// Options inverted (bit per option id).
    pub invert: u8,
}

/// `-m physdev`.
pub const DEF: Def = Def {
    name: "physdev",
    role: Role::Match,
    family: None,
    opts: &[
        Opt::req("physdev-in", O_IN).inv(),
        Opt::req("physdev-out", O_OUT).inv(),
        Opt::flag("physdev-is-in", O_IS_IN).inv(),
        Opt::flag("physdev-is-out", O_IS_OUT).inv(),
        Opt::flag("physdev-is-bridged", O_IS_BRIDGED).inv(),
    ],
    new: |_| Box::<Physdev>::default(),
};

impl Physdev {
    fn has(&self, id: u8) -> bool {
        self.given & (1 << id) != 0
    }
    /// The print and save text (the same words, both with `--`).
    fn text(&self, out: &mut String) {
        let order = [O_IS_IN, O_IN, O_IS_OUT, O_OUT, O_IS_BRIDGED];
        for id in order.into_iter().filter(|&id| self.has(id)) {
            if self.invert & (1 << id) != 0 {
                out.push_str(" !");
            }
            out.push_str(match id {
                O_IN => " --physdev-in ",
                O_OUT => " --physdev-out ",
                O_IS_IN => " --physdev-is-in",
                O_IS_OUT => " --physdev-is-out",
                _ => " --physdev-is-bridged",
            });
            match id {
                O_IN => out.push_str(&self.physindev),
                O_OUT => out.push_str(&self.physoutdev),
                _ => {}
            }
        }
    }
}

/// `xtables_parse_interface` for extensions: at most 15 bytes. A name
/// that its save could not give back (empty, blanks, quotes) is refused
/// (DECISIONS.md 7), though iptables takes it.
pub fn parse_ext_iface(arg: &str) -> Result<String> {
    if arg.len() > 15 {
        return Err(Error::param(format!(
            "interface name `{arg}' must be shorter than IFNAMSIZ (15)"
        )));
    }
    if arg.is_empty() || util::breaks_save(arg) {
        return Err(Error::param(format!("Invalid interface name `{arg}'")));
    }
    Ok(arg.to_string())
}

impl Ext for Physdev {
    fn parse(&mut self, c: &Call, ctx: &RuleCtx) -> Result<()> {
        if matches!(c.id, O_IN | O_OUT) {
            if let Some(w) = crate::addr::iface_warning(c.arg()) {
                ctx.warnings.borrow_mut().push_str(&w);
            }
        }
        match c.id {
            O_IN => self.physindev = parse_ext_iface(c.arg())?,
            O_OUT => self.physoutdev = parse_ext_iface(c.arg())?,
            _ => {}
        }
        self.given |= 1 << c.id;
        if c.invert {
            self.invert |= 1 << c.id;
        }
        Ok(())
    }
    fn finish(&mut self, seen: u32, _ctx: &RuleCtx) -> Result<()> {
        if seen == 0 {
            return Err(Error::param("PHYSDEV: no physdev option specified"));
        }
        Ok(())
    }
    fn kernel_check(&self, k: &KernelCtx) -> std::result::Result<(), Errno> {
        let hook = k.hook;
        // The output port is known locally only for bridged packets.
        let out = self.has(O_OUT) || self.has(O_IS_OUT);
        let bridged = self.has(O_IS_BRIDGED) && self.invert & (1 << O_IS_BRIDGED) == 0;
        Errno::unless(!(out && !bridged && hook == Some(Hook::Output)))
    }
    fn print(&self, out: &mut String, _ip: &IpSpec, _numeric: bool) {
        out.push_str(" PHYSDEV match");
        self.text(out);
    }
    fn save(&self, out: &mut String, _ip: &IpSpec) {
        self.text(out);
    }
}
