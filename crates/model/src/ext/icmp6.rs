//! `-m icmp6` (`libip6t_icmp6.c`, IPv6 only; also loaded as `icmpv6` and
//! `ipv6-icmp`, and implicitly by `-p ipv6-icmp`): an ICMPv6 type with a
//! code range. Parsing and the type text are shared with `-m icmp`.

use super::icmp::{icmp_type_text, parse_icmp, save_type, IcmpName};
use super::{Call, Def, Errno, Ext, KernelCtx, Opt, Role, RuleCtx};
use crate::addr::Family;
use crate::rule::IpSpec;
use crate::Result;

/// The ICMPv6 type names in iptables' order (`icmpv6_codes`), aliases
/// included.
pub const ICMPV6_NAMES: &[IcmpName] = &[
    ("destination-unreachable", 1, 0, 0xFF),
    ("no-route", 1, 0, 0),
    ("communication-prohibited", 1, 1, 1),
    ("beyond-scope", 1, 2, 2),
    ("address-unreachable", 1, 3, 3),
    ("port-unreachable", 1, 4, 4),
    ("failed-policy", 1, 5, 5),
    ("reject-route", 1, 6, 6),
    ("packet-too-big", 2, 0, 0xFF),
    ("time-exceeded", 3, 0, 0xFF),
    ("ttl-exceeded", 3, 0, 0xFF),
    ("ttl-zero-during-transit", 3, 0, 0),
    ("ttl-zero-during-reassembly", 3, 1, 1),
    ("parameter-problem", 4, 0, 0xFF),
    ("bad-header", 4, 0, 0),
    ("unknown-header-type", 4, 1, 1),
    ("unknown-option", 4, 2, 2),
    ("echo-request", 128, 0, 0xFF),
    ("ping", 128, 0, 0xFF),
    ("echo-reply", 129, 0, 0xFF),
    ("pong", 129, 0, 0xFF),
    ("router-solicitation", 133, 0, 0xFF),
    ("router-advertisement", 134, 0, 0xFF),
    ("neighbour-solicitation", 135, 0, 0xFF),
    ("neighbor-solicitation", 135, 0, 0xFF),
    ("neighbour-advertisement", 136, 0, 0xFF),
    ("neighbor-advertisement", 136, 0, 0xFF),
    ("redirect", 137, 0, 0xFF),
];

/// The names `-m` and `-p` accept for this match (`xtables_find_match`).
pub const ALIASES: &[&str] = &["icmpv6", "ipv6-icmp", "icmp6"];

/// The state of `-m icmp6` (`struct ip6t_icmp`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Icmp6 {
    /// The type.
    pub icmp_type: u8,
    /// Lowest and highest code.
    pub codes: (u8, u8),
    /// `!`.
    pub invert: bool,
}

/// `-m icmp6`.
pub const DEF: Def = Def {
    name: "icmp6",
    role: Role::Match,
    family: Some(Family::V6),
    opts: &[Opt::req("icmpv6-type", 0).mand().inv()],
    new: |_| {
        Box::new(Icmp6 {
            icmp_type: 0,
            codes: (0, 0xFF),
            invert: false,
        })
    },
};

impl Ext for Icmp6 {
    fn parse(&mut self, c: &Call, _ctx: &RuleCtx) -> Result<()> {
        let (t, codes) = parse_icmp(ICMPV6_NAMES, "ICMPv6", c.arg())?;
        self.icmp_type = t;
        self.codes = codes;
        self.invert |= c.invert;
        Ok(())
    }

    fn kernel_check(&self, k: &KernelCtx) -> std::result::Result<(), Errno> {
        // checkentry wants `-p ipv6-icmp`, not inverted.
        Errno::unless(k.ip.proto == 58 && !k.ip.proto_inv)
    }

    fn print(&self, out: &mut String, _ip: &IpSpec, numeric: bool) {
        // No space before a numeric `type N`: ` ipv6-icmptype 128`.
        out.push_str(" ipv6-icmp");
        out.push_str(&icmp_type_text(
            ICMPV6_NAMES,
            self.icmp_type,
            self.codes,
            self.invert,
            numeric,
        ));
    }

    fn save(&self, out: &mut String, _ip: &IpSpec) {
        save_type("icmpv6-type", self.icmp_type, self.codes, self.invert, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_ip6tables() {
        let p = |s| parse_icmp(ICMPV6_NAMES, "ICMPv6", s).map_err(|e| e.msg);
        assert_eq!(p("neighbour-solicitation"), Ok((135, (0, 255))));
        assert_eq!(p("no-route"), Ok((1, (0, 0))));
        assert_eq!(p("1/3"), Ok((1, (3, 3))));
        assert_eq!(p("bogus"), Err("Unknown ICMPv6 type `bogus'".into()));
    }
}
