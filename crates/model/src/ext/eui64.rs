//! `-m eui64` (`libip6t_eui64.c`, IPv6 only): the source address's
//! interface id is the EUI-64 of the source MAC. No options, nothing
//! printed by `-L`; the kernel allows it in PREROUTING, INPUT and FORWARD.

use super::{Call, Def, Ext, Role, RuleCtx};
use crate::addr::Family;
use crate::rule::IpSpec;
use crate::ruleset::Hook;
use crate::Result;

/// The state of `-m eui64` (none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Eui64;

/// `-m eui64`.
pub const DEF: Def = Def {
    name: "eui64",
    role: Role::Match,
    family: Some(Family::V6),
    opts: &[],
    new: |_| Box::new(Eui64),
};

impl Ext for Eui64 {
    fn parse(&mut self, _c: &Call, _ctx: &RuleCtx) -> Result<()> {
        Ok(())
    }
    fn print(&self, _out: &mut String, _ip: &IpSpec, _numeric: bool) {}
    fn save(&self, _out: &mut String, _ip: &IpSpec) {}
    fn hooks(&self) -> Option<&'static [Hook]> {
        Some(&[Hook::Prerouting, Hook::Input, Hook::Forward])
    }
}
