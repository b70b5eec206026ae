//! `-j DNAT`, `-j SNAT`, `-j MASQUERADE`, `-j REDIRECT` (`libxt_NAT.c`):
//! address and port mapping in the nat table.
//!
//! DNAT is revision 2 (`struct nf_nat_range2`, with a base port for
//! shifted port maps); the others are older revisions
//! (`nf_nat_ipv4_multi_range_compat`, `nf_nat_range`), which keep the
//! shift flag but not the base port, so `--to-source 1.1.1.1:10-20/30`
//! saves as `.../0`. IPv6 addresses with a port go in brackets:
//! `[dead::beef]:80`.

use super::util::strtoui_end;
use super::{only_table, Call, Def, Errno, Ext, KernelCtx, Opt, Role, RuleCtx};
use crate::addr::{ntop, Family};
use crate::rule::IpSpec;
use crate::ruleset::Hook;
use crate::{names, Error, Result};
use std::net::IpAddr;

/// Which NAT target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `-j DNAT`.
    Dnat,
    /// `-j SNAT`.
    Snat,
    /// `-j MASQUERADE`.
    Masquerade,
    /// `-j REDIRECT`.
    Redirect,
}

/// `NF_NAT_RANGE_MAP_IPS`.
pub const MAP_IPS: u32 = 1;
/// `NF_NAT_RANGE_PROTO_SPECIFIED`.
pub const PROTO_SPECIFIED: u32 = 2;
/// `NF_NAT_RANGE_PROTO_RANDOM`.
pub const RANDOM: u32 = 4;
/// `NF_NAT_RANGE_PERSISTENT`.
pub const PERSISTENT: u32 = 8;
/// `NF_NAT_RANGE_PROTO_RANDOM_FULLY`.
pub const RANDOM_FULLY: u32 = 16;
/// `NF_NAT_RANGE_PROTO_OFFSET`.
pub const PROTO_OFFSET: u32 = 32;

/// The state of a NAT target (`struct nf_nat_range2`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nat {
    /// Which target.
    pub kind: Kind,
    /// `NF_NAT_RANGE_*` flags.
    pub flags: u32,
    /// The family.
    pub family: Family,
    /// First address.
    pub min_addr: IpAddr,
    /// Last address.
    pub max_addr: IpAddr,
    /// First port.
    pub min_port: u16,
    /// Last port.
    pub max_port: u16,
    /// Base port of a shifted port map (DNAT only; 0 otherwise).
    pub base_port: u16,
}

const O_TO_DEST: u8 = 0;
const O_TO_SRC: u8 = 1;
const O_TO_PORTS: u8 = 2;
const O_RANDOM: u8 = 3;
const O_RANDOM_FULLY: u8 = 4;
const O_PERSISTENT: u8 = 5;

const fn def(name: &'static str, opts: &'static [Opt], kind: Kind) -> Def {
    Def {
        name,
        role: Role::Target,
        family: None,
        opts,
        new: match kind {
            Kind::Dnat => |f| Box::new(Nat::new(Kind::Dnat, f)),
            Kind::Snat => |f| Box::new(Nat::new(Kind::Snat, f)),
            Kind::Masquerade => |f| Box::new(Nat::new(Kind::Masquerade, f)),
            Kind::Redirect => |f| Box::new(Nat::new(Kind::Redirect, f)),
        },
    }
}

/// `-j DNAT`.
pub const DNAT: Def = def(
    "DNAT",
    &[
        Opt::req("to-destination", O_TO_DEST).mand(),
        Opt::flag("random", O_RANDOM),
        Opt::flag("persistent", O_PERSISTENT),
    ],
    Kind::Dnat,
);

/// `-j SNAT`.
pub const SNAT: Def = def(
    "SNAT",
    &[
        Opt::req("to-source", O_TO_SRC).mand(),
        Opt::flag("random", O_RANDOM),
        Opt::flag("random-fully", O_RANDOM_FULLY),
        Opt::flag("persistent", O_PERSISTENT),
    ],
    Kind::Snat,
);

/// `-j MASQUERADE`.
pub const MASQUERADE: Def = def(
    "MASQUERADE",
    &[
        Opt::req("to-ports", O_TO_PORTS),
        Opt::flag("random", O_RANDOM),
        Opt::flag("random-fully", O_RANDOM_FULLY),
    ],
    Kind::Masquerade,
);

/// `-j REDIRECT`.
pub const REDIRECT: Def = def(
    "REDIRECT",
    &[
        Opt::req("to-ports", O_TO_PORTS),
        Opt::flag("random", O_RANDOM),
    ],
    Kind::Redirect,
);

/// `xtables_service_to_port(name, NULL)`: a service of any protocol.
fn service(s: &str) -> Result<u16> {
    names::service_port(s, "tcp")
        .or_else(|| names::service_port(s, "udp"))
        .ok_or_else(|| Error::param(format!("Port `{s}' not valid")))
}

impl Nat {
    fn new(kind: Kind, family: Family) -> Self {
        Nat {
            kind,
            flags: 0,
            family,
            min_addr: family.unspecified(),
            max_addr: family.unspecified(),
            min_port: 0,
            max_port: 0,
            base_port: 0,
        }
    }

    /// `parse_ports`: `port`, `port-port` or `port-port/base`.
    fn parse_ports(&mut self, arg: &str, portok: bool) -> Result<()> {
        if !portok {
            return Err(Error::param(
                "Need TCP, UDP, SCTP or DCCP with port specification",
            ));
        }
        self.flags |= PROTO_SPECIFIED;
        let (port, end) = match strtoui_end(arg, 0, 65535) {
            Some((v, end)) => (v as u16, end),
            None => (service(arg)?, ""),
        };
        let rest = match end.chars().next() {
            None => {
                self.min_port = port;
                self.max_port = port;
                return Ok(());
            }
            Some('-') => &end[1..],
            Some(':') => return Err(Error::param("Invalid port:port syntax - use dash")),
            Some(_) => return Err(Error::param(format!("Garbage after port value: `{end}'"))),
        };
        let (maxport, end) = strtoui_end(rest, 0, 65535)
            .map(|(v, e)| (v as u16, e))
            .ok_or_else(|| Error::param(format!("Port `{rest}' not valid")))?;
        if maxport < port {
            return Err(Error::param(format!("Port range `{rest}' funky")));
        }
        self.min_port = port;
        self.max_port = maxport;
        let base = match end.strip_prefix('/') {
            None if end.is_empty() => return Ok(()),
            None => return Err(Error::param(format!("Garbage after port range: `{end}'"))),
            Some(b) => b,
        };
        let base = match strtoui_end(base, 1, 65535) {
            Some((v, _)) => v as u16,
            None => service(base)?,
        };
        self.flags |= PROTO_OFFSET;
        // Revision 0 targets have no room for the base port.
        if self.kind == Kind::Dnat {
            self.base_port = base;
        }
        Ok(())
    }

    /// `parse_to`: `[addr[-addr]][:ports]`; for IPv6 an address with a
    /// port in brackets, `[addr[-addr]]:ports`.
    fn parse_to(&mut self, arg: &str, portok: bool) -> Result<()> {
        // The address part, and the ports after their colon with whether
        // no address comes before them.
        let (addrs, ports) = match arg.find('[') {
            Some(open) => {
                let inner = &arg[open + 1..];
                let close = inner
                    .find(']')
                    .filter(|_| self.family == Family::V6)
                    .ok_or_else(|| Error::param("Invalid address format"))?;
                let after = &inner[close + 1..];
                let ports = after
                    .find(':')
                    .map(|i| (&after[i + 1..], open == 0 && close == 0));
                (&inner[..close], ports)
            }
            None => match arg.find(':') {
                Some(i) if !arg[i + 1..].contains(':') => {
                    (&arg[..i], Some((&arg[i + 1..], i == 0)))
                }
                _ => (arg, None),
            },
        };
        if let Some((ports, no_addr)) = ports {
            self.parse_ports(ports, portok)?;
            if no_addr {
                return Ok(());
            }
        }
        self.flags |= MAP_IPS;
        let (lo, hi) = match addrs.split_once('-') {
            Some((a, b)) => (a, Some(b)),
            None => (addrs, None),
        };
        let family = self.family;
        let ip = |s: &str| -> Result<IpAddr> {
            let parsed = match family {
                Family::V4 => s.parse::<std::net::Ipv4Addr>().map(IpAddr::V4),
                Family::V6 => s.parse::<std::net::Ipv6Addr>().map(IpAddr::V6),
            };
            parsed.map_err(|_| Error::param(format!("Bad IP address \"{s}\"")))
        };
        self.min_addr = ip(lo)?;
        self.max_addr = match hi {
            Some(h) => ip(h)?,
            None => self.min_addr,
        };
        Ok(())
    }

    /// `sprint_range`: `addr[-addr][:port[-port][/base]]`.
    fn range_text(&self) -> String {
        let mut s = String::new();
        let brackets = self.family == Family::V6 && self.flags & PROTO_SPECIFIED != 0;
        if self.flags & MAP_IPS != 0 {
            if brackets {
                s.push('[');
            }
            s.push_str(&ntop(self.min_addr));
            if self.min_addr != self.max_addr {
                s.push('-');
                s.push_str(&ntop(self.max_addr));
            }
            if brackets {
                s.push(']');
            }
        }
        if self.flags & PROTO_SPECIFIED != 0 {
            s.push_str(&format!(":{}", self.min_port));
            if self.max_port != self.min_port {
                s.push_str(&format!("-{}", self.max_port));
            }
            if self.flags & PROTO_OFFSET != 0 {
                s.push_str(&format!("/{}", self.base_port));
            }
        }
        s
    }

    /// `__NAT_print`: the range after `rangeopt`, then the flags.
    fn print_with(&self, out: &mut String, rangeopt: &str, flag_pfx: &str) {
        let range = self.range_text();
        let skip_colon = matches!(self.kind, Kind::Masquerade | Kind::Redirect);
        let shown = match range.strip_prefix(':') {
            Some(r) if skip_colon => r,
            _ => &range,
        };
        if !shown.is_empty() {
            out.push_str(&format!(" {rangeopt}{shown}"));
        }
        for (bit, word) in [
            (RANDOM, "random"),
            (RANDOM_FULLY, "random-fully"),
            (PERSISTENT, "persistent"),
        ] {
            if self.flags & bit != 0 {
                out.push_str(&format!(" {flag_pfx}{word}"));
            }
        }
    }
}

impl Ext for Nat {
    fn parse(&mut self, c: &Call, ctx: &RuleCtx) -> Result<()> {
        let portok = matches!(ctx.ip.proto, 6 | 17 | 132 | 33 | 1);
        match c.id {
            O_TO_DEST | O_TO_SRC => self.parse_to(c.arg(), portok)?,
            O_TO_PORTS => self.parse_ports(c.arg(), portok)?,
            O_RANDOM => self.flags |= RANDOM,
            O_RANDOM_FULLY => self.flags |= RANDOM_FULLY,
            _ => self.flags |= PERSISTENT,
        }
        Ok(())
    }
    fn finish(&mut self, _seen: u32, _ctx: &RuleCtx) -> Result<()> {
        if self.kind == Kind::Redirect && self.flags & PROTO_OFFSET != 0 {
            return Err(Error::param(
                "Shifted portmap ranges not supported with this kernel",
            ));
        }
        Ok(())
    }
    fn print(&self, out: &mut String, _ip: &IpSpec, _numeric: bool) {
        let rangeopt = match self.kind {
            Kind::Dnat | Kind::Snat => "to:",
            Kind::Masquerade => "masq ports: ",
            Kind::Redirect => "redir ports ",
        };
        self.print_with(out, rangeopt, "");
    }
    fn save(&self, out: &mut String, _ip: &IpSpec) {
        let rangeopt = match self.kind {
            Kind::Dnat => "--to-destination ",
            Kind::Snat => "--to-source ",
            Kind::Masquerade | Kind::Redirect => "--to-ports ",
        };
        self.print_with(out, rangeopt, "--");
    }
    fn kernel_check(&self, k: &KernelCtx) -> std::result::Result<(), Errno> {
        only_table(k, "nat")
    }
    fn hooks(&self) -> Option<&'static [Hook]> {
        Some(match self.kind {
            Kind::Dnat | Kind::Redirect => &[Hook::Prerouting, Hook::Output],
            Kind::Snat => &[Hook::Postrouting, Hook::Input],
            Kind::Masquerade => &[Hook::Postrouting],
        })
    }
}
