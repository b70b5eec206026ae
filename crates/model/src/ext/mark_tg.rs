//! `-j MARK` (`libxt_MARK.c`, revision 2): sets the packet mark as
//! `mark = (mark & ~mask) ^ value`; every option is saved as
//! `--set-xmark value/mask`.

use super::{util, Call, Def, Ext, Opt, Role, RuleCtx};
use crate::rule::IpSpec;
use crate::Result;

/// The state of `-j MARK` (`struct xt_mark_tginfo2`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MarkTarget {
    /// The value XORed in.
    pub mark: u32,
    /// The bits cleared first.
    pub mask: u32,
}

const O_SET_MARK: u8 = 0;
const O_AND_MARK: u8 = 1;
const O_OR_MARK: u8 = 2;
const O_XOR_MARK: u8 = 3;
const O_SET_XMARK: u8 = 4;
const F_ANY: u32 = 0x1f;

/// `-j MARK`.
pub const DEF: Def = Def {
    name: "MARK",
    role: Role::Target,
    family: None,
    opts: &[
        Opt::req("set-xmark", O_SET_XMARK).excl(F_ANY),
        Opt::req("set-mark", O_SET_MARK).excl(F_ANY),
        Opt::req("and-mark", O_AND_MARK).excl(F_ANY),
        Opt::req("or-mark", O_OR_MARK).excl(F_ANY),
        Opt::req("xor-mark", O_XOR_MARK).excl(F_ANY),
    ],
    new: |_| Box::<MarkTarget>::default(),
};

impl Ext for MarkTarget {
    fn parse(&mut self, c: &Call, _ctx: &RuleCtx) -> Result<()> {
        let arg = c.arg();
        match c.id {
            O_SET_XMARK | O_SET_MARK => {
                let (mark, mask) = util::mark_mask("MARK", c.name, arg)?;
                self.mark = mark;
                self.mask = if c.id == O_SET_MARK {
                    mark | mask
                } else {
                    mask
                };
            }
            _ => {
                let v = util::uint("MARK", c.name, arg, 0, u32::MAX as u64)? as u32;
                (self.mark, self.mask) = match c.id {
                    O_AND_MARK => (0, !v),
                    O_OR_MARK => (v, v),
                    _ => (v, 0),
                };
            }
        }
        Ok(())
    }
    fn finish(&mut self, seen: u32, _ctx: &RuleCtx) -> Result<()> {
        util::need_option(
            seen,
            "MARK: One of the --set-xmark, --{and,or,xor,set}-mark options is required",
        )
    }
    fn print(&self, out: &mut String, _ip: &IpSpec, _numeric: bool) {
        let (m, k) = (self.mark, self.mask);
        out.push_str(&if m == 0 {
            format!(" MARK and 0x{:x}", !k)
        } else if m == k {
            format!(" MARK or 0x{m:x}")
        } else if k == 0 {
            format!(" MARK xor 0x{m:x}")
        } else if k == u32::MAX {
            format!(" MARK set 0x{m:x}")
        } else {
            format!(" MARK xset 0x{m:x}/0x{k:x}")
        });
    }
    fn save(&self, out: &mut String, _ip: &IpSpec) {
        out.push_str(&format!(" --set-xmark 0x{:x}/0x{:x}", self.mark, self.mask));
    }
}
