//! `-m rpfilter` (`libxt_rpfilter.c`): the reverse path filter. The kernel
//! takes it only in the `raw` and `mangle` tables, in `PREROUTING`.

use super::{Call, Def, Errno, Ext, KernelCtx, Opt, Role, RuleCtx};
use crate::rule::IpSpec;
use crate::ruleset::Hook;
use crate::Result;

/// The option names, in flag bit order (`XT_RPFILTER_*`).
const NAMES: [&str; 4] = ["loose", "validmark", "accept-local", "invert"];

/// The state of `-m rpfilter` (`struct xt_rpfilter_info`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rpfilter {
    /// Bit `i` set when option `NAMES[i]` was given.
    pub flags: u8,
}

/// `-m rpfilter`.
pub const DEF: Def = Def {
    name: "rpfilter",
    role: Role::Match,
    family: None,
    opts: &[
        Opt::flag(NAMES[0], 0),
        Opt::flag(NAMES[1], 1),
        Opt::flag(NAMES[2], 2),
        Opt::flag(NAMES[3], 3),
    ],
    new: |_| Box::<Rpfilter>::default(),
};

impl Rpfilter {
    fn text(&self, out: &mut String, prefix: &str) {
        for (i, name) in NAMES.iter().enumerate() {
            if self.flags & (1 << i) != 0 {
                out.push_str(&format!(" {prefix}{name}"));
            }
        }
    }
}

impl Ext for Rpfilter {
    fn parse(&mut self, c: &Call, _ctx: &RuleCtx) -> Result<()> {
        self.flags |= 1 << c.id;
        Ok(())
    }
    fn kernel_check(&self, k: &KernelCtx) -> std::result::Result<(), Errno> {
        let table = k.table;
        Errno::unless(table == "raw" || table == "mangle")
    }
    fn hooks(&self) -> Option<&'static [Hook]> {
        Some(&[Hook::Prerouting])
    }
    fn print(&self, out: &mut String, _ip: &IpSpec, _numeric: bool) {
        out.push_str(" rpfilter");
        self.text(out, "");
    }
    fn save(&self, out: &mut String, _ip: &IpSpec) {
        self.text(out, "--");
    }
}
