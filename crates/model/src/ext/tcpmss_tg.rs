//! `-j TCPMSS` (`libxt_TCPMSS.c`): rewrites the MSS option of TCP
//! SYN packets. The kernel wants `-p tcp`; clamping to the path MTU only
//! from FORWARD, OUTPUT and POSTROUTING (checked for the built-in chain
//! the rule is added to). Under nft_compat the kernel does not ask for a
//! SYN match.

use super::{util, Call, Def, Errno, Ext, KernelCtx, Opt, Role, RuleCtx, LATE_HOOKS};
use crate::addr::Family;
use crate::rule::IpSpec;
use crate::Result;

/// `XT_TCPMSS_CLAMP_PMTU`.
pub const CLAMP_PMTU: u16 = 0xffff;

/// The state of `-j TCPMSS` (`struct xt_tcpmss_info`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tcpmss {
    /// The MSS, or [`CLAMP_PMTU`].
    pub mss: u16,
}

const O_SET_MSS: u8 = 0;

/// `-j TCPMSS`.
pub const DEF: Def = Def {
    name: "TCPMSS",
    role: Role::Target,
    family: None,
    opts: &[
        Opt::req("set-mss", O_SET_MSS),
        Opt::flag("clamp-mss-to-pmtu", 1),
    ],
    new: |_| Box::<Tcpmss>::default(),
};

impl Ext for Tcpmss {
    fn parse(&mut self, c: &Call, ctx: &RuleCtx) -> Result<()> {
        self.mss = if c.id == O_SET_MSS {
            // 65535 less the IP header.
            let max = match ctx.family {
                Family::V4 => 65535 - 20,
                Family::V6 => 65535 - 40,
            };
            util::uint("TCPMSS", c.name, c.arg(), 0, max)? as u16
        } else {
            CLAMP_PMTU
        };
        Ok(())
    }
    fn finish(&mut self, seen: u32, _ctx: &RuleCtx) -> Result<()> {
        util::need_option(seen, "TCPMSS target: At least one parameter is required")
    }
    fn print(&self, out: &mut String, _ip: &IpSpec, _numeric: bool) {
        if self.mss == CLAMP_PMTU {
            out.push_str(" TCPMSS clamp to PMTU");
        } else {
            out.push_str(&format!(" TCPMSS set {}", self.mss));
        }
    }
    fn save(&self, out: &mut String, _ip: &IpSpec) {
        if self.mss == CLAMP_PMTU {
            out.push_str(" --clamp-mss-to-pmtu");
        } else {
            out.push_str(&format!(" --set-mss {}", self.mss));
        }
    }
    fn kernel_check(&self, k: &KernelCtx) -> std::result::Result<(), Errno> {
        if k.ip.proto != 6 || k.ip.proto_inv {
            return Err(Errno::Inval);
        }
        if self.mss == CLAMP_PMTU && !k.hook_within(LATE_HOOKS) {
            return Err(Errno::Inval);
        }
        Ok(())
    }
}
