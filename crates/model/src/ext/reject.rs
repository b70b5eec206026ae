//! `-j REJECT` (`libipt_REJECT.c`, `libip6t_REJECT.c`): drop and answer
//! with an ICMP error or a TCP reset. The kernel allows it only in the
//! filter table, reached from INPUT, FORWARD and OUTPUT.

use super::{only_table, Call, Def, Errno, Ext, KernelCtx, Opt, Role, RuleCtx};
use crate::addr::Family;
use crate::rule::IpSpec;
use crate::ruleset::Hook;
use crate::{Error, Result};

/// The state of `-j REJECT` (`struct ipt_reject_info`,
/// `struct ip6t_reject_info`): an index into the family's type table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// The family, which chooses the type table.
    pub family: Family,
    /// The reply type (`IPT_ICMP_*`, `IP6T_ICMP6_*`, `*_TCP_RESET`).
    pub with: usize,
}

/// IPv4 reply types by kernel number: (name, alias); number 4
/// (echo-reply) is no longer accepted.
pub const TYPES4: &[Option<(&str, &str)>] = &[
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

/// IPv6 reply types by kernel number; 2 (not-neighbor) and 5
/// (echo-reply) are not accepted.
pub const TYPES6: &[Option<(&str, &str)>] = &[
    Some(("icmp6-no-route", "no-route")),
    Some(("icmp6-adm-prohibited", "adm-prohibited")),
    None,
    Some(("icmp6-addr-unreachable", "addr-unreach")),
    Some(("icmp6-port-unreachable", "port-unreach")),
    None,
    Some(("tcp-reset", "tcp-reset")),
    Some(("icmp6-policy-fail", "policy-fail")),
    Some(("icmp6-reject-route", "reject-route")),
];

/// `-j REJECT`.
pub const DEF: Def = Def {
    name: "REJECT",
    role: Role::Target,
    family: None,
    opts: &[Opt::req("reject-with", 0)],
    new: |family| {
        let with = match family {
            Family::V4 => 3,
            Family::V6 => 4,
        };
        Box::new(Reject { family, with })
    },
};

/// `strncasecmp(name, arg, strlen(arg)) == 0`: `arg` is a
/// case-insensitive prefix of `name` (the empty text is a prefix of all).
fn prefix_of(name: &str, arg: &str) -> bool {
    name.len() >= arg.len() && name.as_bytes()[..arg.len()].eq_ignore_ascii_case(arg.as_bytes())
}

impl Reject {
    fn types(&self) -> &'static [Option<(&'static str, &'static str)>] {
        match self.family {
            Family::V4 => TYPES4,
            Family::V6 => TYPES6,
        }
    }
    fn name(&self) -> &'static str {
        self.types()
            .get(self.with)
            .copied()
            .flatten()
            .map_or("", |(n, _)| n)
    }
}

impl Ext for Reject {
    fn parse(&mut self, c: &Call, ctx: &RuleCtx) -> Result<()> {
        let arg = c.arg();
        let found = self.types().iter().position(|t| {
            t.is_some_and(|(name, alias)| prefix_of(name, arg) || prefix_of(alias, arg))
        });
        match found {
            Some(i) => {
                self.with = i;
                Ok(())
            }
            None => {
                // Only libipt_REJECT warns.
                let v4 = self.family == Family::V4;
                if v4 && (prefix_of("echo-reply", arg) || prefix_of("echoreply", arg)) {
                    ctx.warnings
                        .borrow_mut()
                        .push_str("--reject-with echo-reply no longer supported\n");
                }
                Err(Error::param(format!("unknown reject type \"{arg}\"")))
            }
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
        if self.name() == "tcp-reset" && (k.ip.proto != 6 || k.ip.proto_inv) {
            return Err(Errno::Inval);
        }
        Ok(())
    }
    fn hooks(&self) -> Option<&'static [Hook]> {
        Some(&[Hook::Input, Hook::Forward, Hook::Output])
    }
}
