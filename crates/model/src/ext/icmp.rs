//! `-m icmp` (`libipt_icmp.c`, IPv4 only): an ICMP type with a code
//! range; the type names (`libxt_icmp.h`) are public for engines.

use super::{util, Call, Def, Ext, Opt, Role, RuleCtx};
use crate::addr::Family;
use crate::rule::IpSpec;
use crate::{num, Error, Result};

/// One ICMP type name: name, type, lowest and highest code.
pub type IcmpName = (&'static str, u8, u8, u8);

/// The ICMP type names in iptables' order (`icmp_codes`), aliases
/// included; `any` is type 255.
pub const ICMP_NAMES: &[IcmpName] = &[
    ("any", 0xFF, 0, 0xFF),
    ("echo-reply", 0, 0, 0xFF),
    ("pong", 0, 0, 0xFF),
    ("destination-unreachable", 3, 0, 0xFF),
    ("network-unreachable", 3, 0, 0),
    ("host-unreachable", 3, 1, 1),
    ("protocol-unreachable", 3, 2, 2),
    ("port-unreachable", 3, 3, 3),
    ("fragmentation-needed", 3, 4, 4),
    ("source-route-failed", 3, 5, 5),
    ("network-unknown", 3, 6, 6),
    ("host-unknown", 3, 7, 7),
    ("network-prohibited", 3, 9, 9),
    ("host-prohibited", 3, 10, 10),
    ("TOS-network-unreachable", 3, 11, 11),
    ("TOS-host-unreachable", 3, 12, 12),
    ("communication-prohibited", 3, 13, 13),
    ("host-precedence-violation", 3, 14, 14),
    ("precedence-cutoff", 3, 15, 15),
    ("source-quench", 4, 0, 0xFF),
    ("redirect", 5, 0, 0xFF),
    ("network-redirect", 5, 0, 0),
    ("host-redirect", 5, 1, 1),
    ("TOS-network-redirect", 5, 2, 2),
    ("TOS-host-redirect", 5, 3, 3),
    ("echo-request", 8, 0, 0xFF),
    ("ping", 8, 0, 0xFF),
    ("router-advertisement", 9, 0, 0xFF),
    ("router-solicitation", 10, 0, 0xFF),
    ("time-exceeded", 11, 0, 0xFF),
    ("ttl-exceeded", 11, 0, 0xFF),
    ("ttl-zero-during-transit", 11, 0, 0),
    ("ttl-zero-during-reassembly", 11, 1, 1),
    ("parameter-problem", 12, 0, 0xFF),
    ("ip-header-bad", 12, 0, 0),
    ("required-option-missing", 12, 1, 1),
    ("timestamp-request", 13, 0, 0xFF),
    ("timestamp-reply", 14, 0, 0xFF),
    ("address-mask-request", 17, 0, 0xFF),
    ("address-mask-reply", 18, 0, 0xFF),
];

/// The state of `-m icmp` (`struct ipt_icmp`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Icmp {
    /// The type (255 for `any`).
    pub icmp_type: u8,
    /// Lowest and highest code.
    pub codes: (u8, u8),
    /// `!`.
    pub invert: bool,
}

/// `-m icmp`.
pub const DEF: Def = Def {
    name: "icmp",
    role: Role::Match,
    family: Some(Family::V4),
    opts: &[Opt::req("icmp-type", 0).mand().inv()],
    new: |_| {
        Box::new(Icmp {
            icmp_type: 0xFF,
            codes: (0, 0xFF),
            invert: false,
        })
    },
};

/// `parse_range` of `libxt_icmp.h`: `n` or `n:m`, each 0..=255, and the
/// text after them.
fn parse_range(s: &str) -> Option<((u8, u8), &str)> {
    let number = |t: &str| -> Option<(u8, usize)> {
        let (v, rest) = num::strtoul_prefix(t)?;
        (v <= 255).then_some((v as u8, t.len() - rest.len()))
    };
    let (lo, used) = number(s)?;
    let rest = &s[used..];
    match rest.strip_prefix(':') {
        Some(r) => {
            let (hi, used) = number(r)?;
            Some(((lo, hi), &r[used..]))
        }
        None => Some(((lo, lo), rest)),
    }
}

/// `__parse_icmp` for the given name table (`what` is `ICMP` or
/// `ICMPv6`): an abbreviation of a name, or `type[/code[:code]]`.
/// Returns (type, (code_min, code_max)).
pub fn parse_icmp(names: &[IcmpName], what: &str, s: &str) -> Result<(u8, (u8, u8))> {
    let mut found: Option<&IcmpName> = None;
    for n in names {
        let nb = n.0.as_bytes();
        if s.len() <= nb.len() && nb[..s.len()].eq_ignore_ascii_case(s.as_bytes()) {
            if let Some(prev) = found {
                return Err(Error::param(format!(
                    "Ambiguous {what} type `{s}': `{}' or `{}'?",
                    prev.0, n.0
                )));
            }
            found = Some(n);
        }
    }
    if let Some(n) = found {
        return Ok((n.1, (n.2, n.3)));
    }
    let Some(((t0, t1), rest)) = parse_range(s) else {
        return Err(Error::param(format!("Unknown {what} type `{s}'")));
    };
    let codes = if rest.is_empty() {
        (0, 0xFF)
    } else if let Some(c) = rest.strip_prefix('/') {
        let Some((codes, tail)) = parse_range(c) else {
            return Err(Error::param(format!("Unknown {what} code `{s}'")));
        };
        if let Some(ch) = tail.chars().next() {
            return Err(Error::param(format!("unknown character {ch}")));
        }
        codes
    } else {
        let ch = rest.chars().next().unwrap_or(' ');
        return Err(Error::param(format!("unknown character {ch}")));
    };
    if t0 != t1 {
        return Err(Error::param(format!("{what} type range not supported")));
    }
    Ok((t0, codes))
}

/// `print_icmptype`: the name when not numeric and one fits exactly
/// (` echo-request`, ` !echo-request`), else `type N` with its codes and
/// no leading space unless inverted (`type 3 codes 1-2`, ` !type 8 code 0`).
pub fn icmp_type_text(
    names: &[IcmpName],
    icmp_type: u8,
    codes: (u8, u8),
    invert: bool,
    numeric: bool,
) -> String {
    let inv = if invert { "!" } else { "" };
    if !numeric {
        if let Some(n) = names
            .iter()
            .find(|n| n.1 == icmp_type && (n.2, n.3) == codes)
        {
            return format!(" {inv}{}", n.0);
        }
    }
    let mut s = String::new();
    if invert {
        s.push_str(" !");
    }
    s.push_str(&format!("type {icmp_type}"));
    if codes.0 == codes.1 {
        s.push_str(&format!(" code {}", codes.0));
    } else if codes != (0, 0xFF) {
        s.push_str(&format!(" codes {}-{}", codes.0, codes.1));
    }
    s
}

/// The save text of a type and its codes: ` [!] --OPT T`, then `/CODE`
/// (the lowest) unless any code matches.
pub fn save_type(opt: &str, icmp_type: u8, codes: (u8, u8), invert: bool, out: &mut String) {
    util::inv_save(out, invert);
    out.push_str(&format!(" --{opt} {icmp_type}"));
    if codes != (0, 0xFF) {
        out.push_str(&format!("/{}", codes.0));
    }
}

impl Ext for Icmp {
    fn parse(&mut self, c: &Call, _ctx: &RuleCtx) -> Result<()> {
        let (t, codes) = parse_icmp(ICMP_NAMES, "ICMP", c.arg())?;
        self.icmp_type = t;
        self.codes = codes;
        self.invert |= c.invert;
        Ok(())
    }

    fn finish(&mut self, _seen: u32, ctx: &RuleCtx) -> Result<()> {
        // The kernel's checkentry wants `-p icmp`, not inverted.
        if ctx.ip.proto != 1 || ctx.ip.proto_inv {
            return Err(Error::kernel(String::new()));
        }
        Ok(())
    }

    fn print(&self, out: &mut String, _ip: &IpSpec, numeric: bool) {
        out.push_str(" icmp");
        out.push_str(&icmp_type_text(
            ICMP_NAMES,
            self.icmp_type,
            self.codes,
            self.invert,
            numeric,
        ));
    }

    fn save(&self, out: &mut String, _ip: &IpSpec) {
        if self.icmp_type == 0xFF {
            util::inv_save(out, self.invert);
            out.push_str(" --icmp-type any");
        } else {
            save_type("icmp-type", self.icmp_type, self.codes, self.invert, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_iptables() {
        let p = |s| parse_icmp(ICMP_NAMES, "ICMP", s).map_err(|e| e.msg);
        assert_eq!(p("echo-request"), Ok((8, (0, 255))));
        assert_eq!(p("PING"), Ok((8, (0, 255))));
        assert_eq!(p("3/1:2"), Ok((3, (1, 2))));
        assert_eq!(p("port-unr"), Ok((3, (3, 3))));
        assert!(p("echo-re").is_err_and(|m| m.contains("Ambiguous")));
        assert_eq!(p("8:9"), Err("ICMP type range not supported".into()));
        assert_eq!(p("8x"), Err("unknown character x".into()));
        assert_eq!(p("8/x"), Err("Unknown ICMP code `8/x'".into()));
    }
}
