//! `-m multiport` (`libxt_multiport.c`, revision 1): up to 15 ports or
//! ranges (a range takes two of the 15 places) for tcp, udp, udplite,
//! sctp or dccp.

use super::tcp::parse_port;
use super::{Call, Def, Ext, Opt, Role, RuleCtx};
use crate::rule::IpSpec;
use crate::{names, Error, Result};
use std::any::Any;

/// Which ports a multiport match looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// `--sports`.
    Source,
    /// `--dports`.
    Destination,
    /// `--ports`: either.
    Either,
}

/// The state of `-m multiport` (`struct xt_multiport_v1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Multiport {
    /// Which ports.
    pub side: Side,
    /// The ports and ranges, inclusive.
    pub ports: Vec<(u16, u16)>,
    /// `!`.
    pub invert: bool,
}

const O_SOURCE: u8 = 0;
const O_DEST: u8 = 1;
const O_EITHER: u8 = 2;
const ANY: u32 = 0b111;

/// The kernel's limit of port places (`XT_MULTI_PORTS`).
pub const MAX_PORTS: usize = 15;

/// `-m multiport`.
pub const DEF: Def = Def {
    name: "multiport",
    role: Role::Match,
    family: None,
    opts: &[
        Opt::req("source-ports", O_SOURCE).inv().excl(ANY),
        Opt::req("sports", O_SOURCE).inv().excl(ANY),
        Opt::req("destination-ports", O_DEST).inv().excl(ANY),
        Opt::req("dports", O_DEST).inv().excl(ANY),
        Opt::req("ports", O_EITHER).inv().excl(ANY),
    ],
    new: |_| {
        Box::new(Multiport {
            side: Side::Destination,
            ports: Vec::new(),
            invert: false,
        })
    },
};

/// The protocols multiport works with, by number.
fn proto_name(p: u8) -> Option<&'static str> {
    Some(match p {
        6 => "tcp",
        17 => "udp",
        136 => "udplite",
        132 => "sctp",
        33 => "dccp",
        _ => return None,
    })
}

fn check_proto(ip: &IpSpec) -> Result<&'static str> {
    const ONLY: &str = "multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP";
    if ip.proto_inv {
        return Err(Error::param(ONLY));
    }
    match proto_name(ip.proto) {
        Some(n) => Ok(n),
        None if ip.proto == 0 => Err(Error::param(
            "multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp'",
        )),
        None => Err(Error::param(ONLY)),
    }
}

/// `parse_multi_ports_v1`: `p[,p|,a:b]...` within [`MAX_PORTS`] places.
fn parse_ports(s: &str, proto: &str) -> Result<Vec<(u16, u16)>> {
    let too_many = || Error::param("too many ports specified");
    let mut out = Vec::new();
    let mut places = 0;
    for item in s.split(',') {
        if places == MAX_PORTS {
            return Err(too_many());
        }
        match item.split_once(':') {
            Some((a, b)) => {
                if places == MAX_PORTS - 1 {
                    return Err(too_many());
                }
                let lo = parse_port(a, proto)?;
                let hi = parse_port(b, proto)?;
                if lo >= hi {
                    return Err(Error::param("invalid portrange specified"));
                }
                out.push((lo, hi));
                places += 2;
            }
            None => {
                let p = parse_port(item, proto)?;
                out.push((p, p));
                places += 1;
            }
        }
    }
    Ok(out)
}

impl Multiport {
    fn keyword(&self) -> &'static str {
        match self.side {
            Side::Source => "sports",
            Side::Destination => "dports",
            Side::Either => "ports",
        }
    }

    fn push_ports(&self, out: &mut String, proto: Option<&str>) {
        let one = |out: &mut String, p: u16| match proto.and_then(|pr| names::service_name(p, pr)) {
            Some(n) => out.push_str(n),
            None => out.push_str(&p.to_string()),
        };
        for (i, &(lo, hi)) in self.ports.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            one(out, lo);
            if lo != hi {
                out.push(':');
                one(out, hi);
            }
        }
    }
}

impl Ext for Multiport {
    fn parse(&mut self, c: &Call, ctx: &RuleCtx) -> Result<()> {
        let proto = check_proto(ctx.ip)?;
        self.ports = parse_ports(c.arg(), proto)?;
        self.side = match c.id {
            O_SOURCE => Side::Source,
            O_DEST => Side::Destination,
            _ => Side::Either,
        };
        self.invert |= c.invert;
        Ok(())
    }

    fn finish(&mut self, seen: u32, _ctx: &RuleCtx) -> Result<()> {
        if seen == 0 {
            return Err(Error::param("multiport expection an option"));
        }
        Ok(())
    }

    fn print(&self, out: &mut String, ip: &IpSpec, numeric: bool) {
        out.push_str(" multiport ");
        out.push_str(self.keyword());
        out.push(' ');
        if self.invert {
            out.push_str(" !");
        }
        let proto = if numeric { None } else { proto_name(ip.proto) };
        self.push_ports(out, proto);
    }

    fn save(&self, out: &mut String, _ip: &IpSpec) {
        if self.invert {
            out.push_str(" !");
        }
        out.push_str(" --");
        out.push_str(self.keyword());
        out.push(' ');
        self.push_ports(out, None);
    }

    fn clone_box(&self) -> Box<dyn Ext> {
        Box::new(self.clone())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
