//! `-j REJECT` (`libipt_REJECT.c`): drop and answer with an ICMP error or
//! a TCP reset. The kernel allows it only in the filter table, reached
//! from INPUT, FORWARD and OUTPUT.

use super::{only_table, Call, Def, Errno, Ext, KernelCtx, Opt, Role, RuleCtx};
use crate::addr::Family;
use crate::rule::IpSpec;
use crate::ruleset::Hook;
use crate::{Error, Result};
use std::any::Any;

/// The state of `-j REJECT` (`struct ipt_reject_info`): an index into
/// [`TYPES`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// The reply type (`IPT_ICMP_*`, `IPT_TCP_RESET`).
    pub with: usize,
}

/// Reply types by kernel number: (name, alias); number 4 (echo-reply) is
/// no longer accepted.
pub const TYPES: &[Option<(&str, &str)>] = &[
    Some(("icmp-net-unreachable", "net-unreach")),
    Some(("icmp-host-unreachable", "host-unreach")),
    Some(("icmp-proto-unreachable", "proto-unreach")),
    Some(("icmp-port-unreachable", "port-unreach")),
    None,
    Some(("icmp-net-prohibited", "net-prohib")),
    Some(("icmp-host-prohibited", "host-prohib")),
    Some(("tcp-reset", "tcp-rst")),
    Some(("icmp-admin-prohibited", "admin-prohib")),
];

const TCP_RESET: usize = 7;

/// `-j REJECT` (IPv4).
pub const DEF: Def = Def {
    name: "REJECT",
    role: Role::Target,
    family: Some(Family::V4),
    opts: &[Opt::req("reject-with", 0)],
    new: |_| Box::new(Reject { with: 3 }),
};

/// `strncasecmp(name, arg, strlen(arg)) == 0`: `arg` is a
/// case-insensitive prefix of `name` (the empty text is a prefix of all).
fn prefix_of(name: &str, arg: &str) -> bool {
    name.len() >= arg.len() && name.as_bytes()[..arg.len()].eq_ignore_ascii_case(arg.as_bytes())
}

impl Reject {
    fn name(&self) -> &'static str {
        TYPES
            .get(self.with)
            .copied()
            .flatten()
            .map_or("", |(n, _)| n)
    }
}

impl Ext for Reject {
    fn parse(&mut self, c: &Call, _ctx: &RuleCtx) -> Result<()> {
        let arg = c.arg();
        let found = TYPES.iter().position(|t| {
            t.is_some_and(|(name, alias)| prefix_of(name, arg) || prefix_of(alias, arg))
        });
        match found {
            Some(i) => {
                self.with = i;
                Ok(())
            }
            // iptables also warns on stderr for `echo-reply` first.
            None => Err(Error::param(format!("unknown reject type \"{arg}\""))),
        }
    }
    fn print(&self, out: &mut String, _ip: &IpSpec, _numeric: bool) {
        out.push_str(" reject-with ");
        out.push_str(self.name());
    }
    fn save(&self, out: &mut String, _ip: &IpSpec) {
        out.push_str(" --reject-with ");
        out.push_str(self.name());
    }
    fn kernel_check(&self, k: &KernelCtx) -> std::result::Result<(), Errno> {
        only_table(k, "filter")?;
        if self.with == TCP_RESET && (k.ip.proto != 6 || k.ip.proto_inv) {
            return Err(Errno::Inval);
        }
        Ok(())
    }
    fn hooks(&self) -> Option<&'static [Hook]> {
        Some(&[Hook::Input, Hook::Forward, Hook::Output])
    }
    fn clone_box(&self) -> Box<dyn Ext> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
