//! `-j CHECKSUM` (`libxt_CHECKSUM.c`): fills in a missing checksum; the
//! kernel allows it only in the mangle table.

use super::{only_table, Call, Def, Errno, Ext, KernelCtx, Opt, Role, RuleCtx};
use crate::rule::IpSpec;
use crate::Result;

/// The state of `-j CHECKSUM` (`--checksum-fill` is mandatory).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checksum {
    /// `--checksum-fill` given.
    pub fill: bool,
}

/// `-j CHECKSUM`.
pub const DEF: Def = Def {
    name: "CHECKSUM",
    role: Role::Target,
    family: None,
    opts: &[Opt::flag("checksum-fill", 0).mand()],
    new: |_| Box::<Checksum>::default(),
};

impl Ext for Checksum {
    fn parse(&mut self, _c: &Call, _ctx: &RuleCtx) -> Result<()> {
        self.fill = true;
        Ok(())
    }
    fn print(&self, out: &mut String, _ip: &IpSpec, _numeric: bool) {
        out.push_str(" CHECKSUM");
        if self.fill {
            out.push_str(" fill");
        }
    }
    fn save(&self, out: &mut String, _ip: &IpSpec) {
        if self.fill {
            out.push_str(" --checksum-fill");
        }
    }
    fn kernel_check(&self, k: &KernelCtx) -> std::result::Result<(), Errno> {
        only_table(k, "mangle")
    }
}
