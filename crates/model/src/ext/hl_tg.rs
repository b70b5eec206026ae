//! `-j HL` (`libip6t_HL.c`, IPv6 only): sets, increments or decrements
//! the hop limit. The kernel allows it in the mangle table only.

use super::{only_table, util, Call, Def, Errno, Ext, KernelCtx, Opt, Role, RuleCtx};
use crate::addr::Family;
use crate::rule::IpSpec;
use crate::Result;

const O_SET: u8 = 0;
const O_INC: u8 = 1;
const O_DEC: u8 = 2;
const F_ANY: u32 = 0b111;

/// The state of `-j HL` (`struct ip6t_HL_info`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HlTarget {
    /// `O_SET`, `O_INC` or `O_DEC`: which option was given.
    pub mode: u8,
    /// The value.
    pub hop_limit: u8,
}

/// `-j HL`.
pub const DEF: Def = Def {
    name: "HL",
    role: Role::Target,
    family: Some(Family::V6),
    opts: &[
        Opt::req("hl-set", O_SET).excl(F_ANY),
        Opt::req("hl-dec", O_DEC).excl(F_ANY),
        Opt::req("hl-inc", O_INC).excl(F_ANY),
    ],
    new: |_| {
        Box::new(HlTarget {
            mode: O_SET,
            hop_limit: 0,
        })
    },
};

impl Ext for HlTarget {
    fn parse(&mut self, c: &Call, _ctx: &RuleCtx) -> Result<()> {
        let min = if c.id == O_SET { 0 } else { 1 };
        self.hop_limit = util::uint("HL", c.name, c.arg(), min, 255)? as u8;
        self.mode = c.id;
        Ok(())
    }
    fn finish(&mut self, seen: u32, _ctx: &RuleCtx) -> Result<()> {
        util::need_option(seen, "HL: You must specify an action")
    }
    fn kernel_check(&self, k: &KernelCtx) -> std::result::Result<(), Errno> {
        only_table(k, "mangle")
    }
    fn print(&self, out: &mut String, _ip: &IpSpec, _numeric: bool) {
        let what = match self.mode {
            O_SET => "set to",
            O_DEC => "decrement by",
            _ => "increment by",
        };
        out.push_str(&format!(" HL {what} {}", self.hop_limit));
    }
    fn save(&self, out: &mut String, _ip: &IpSpec) {
        let opt = match self.mode {
            O_SET => "--hl-set",
            O_DEC => "--hl-dec",
            _ => "--hl-inc",
        };
        out.push_str(&format!(" {opt} {}", self.hop_limit));
    }
}
