//! `-j NETMAP` (`libipt_NETMAP.c`, `libip6t_NETMAP.c`): maps a whole
//! network onto another, keeping the host part. The kernel allows it in
//! the nat table only.

use super::conntrack::parse_hostmask;
use super::{only_table, Call, Def, Errno, Ext, KernelCtx, Opt, Role, RuleCtx};
use crate::addr::{ntop, AddrMask};
use crate::rule::IpSpec;
use crate::Result;

/// The state of `-j NETMAP`: the network mapped to (address masked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Netmap {
    /// `--to`.
    pub to: AddrMask,
}

/// `-j NETMAP`.
pub const DEF: Def = Def {
    name: "NETMAP",
    role: Role::Target,
    family: None,
    opts: &[Opt::req("to", 0).mand()],
    new: |family| {
        Box::new(Netmap {
            to: AddrMask::any(family),
        })
    },
};

impl Netmap {
    /// `ADDR/BITS` as print and save write it.
    fn text(&self) -> String {
        let len = self.to.prefix_len().unwrap_or_default();
        format!("{}/{len}", ntop(self.to.addr))
    }
}

impl Ext for Netmap {
    fn parse(&mut self, c: &Call, _ctx: &RuleCtx) -> Result<()> {
        let family = self.to.family();
        let (addr, mask) = parse_hostmask("NETMAP", family, c.name, c.arg())?;
        self.to = AddrMask::new(addr, mask);
        Ok(())
    }
    fn kernel_check(&self, k: &KernelCtx) -> std::result::Result<(), Errno> {
        only_table(k, "nat")
    }
    fn print(&self, out: &mut String, _ip: &IpSpec, _numeric: bool) {
        out.push_str(" to:");
        out.push_str(&self.text());
    }
    fn save(&self, out: &mut String, _ip: &IpSpec) {
        out.push_str(" --to ");
        out.push_str(&self.text());
    }
}
