//! `-m ipv6header` (`libip6t_ipv6header.c`, IPv6 only): which extension
//! headers a packet has (exactly, or at least with `--soft`). Header names
//! come from `/etc/protocols` first, then the extension's own table.

use super::{Call, Def, Ext, Opt, Role, RuleCtx};
use crate::addr::Family;
use crate::rule::IpSpec;
use crate::{names, Error, Result};

const O_HEADER: u8 = 0;

/// The extension's own names (`chain_protos`), after `/etc/protocols`.
const NAMES: &[(&str, u8)] = &[
    ("hop-by-hop", 0),
    ("protocol", 255),
    ("hop", 0),
    ("dst", 60),
    ("route", 43),
    ("frag", 44),
    ("auth", 51),
    ("esp", 50),
    ("none", 59),
    ("prot", 255),
    ("0", 0),
    ("60", 60),
    ("43", 43),
    ("44", 44),
    ("51", 51),
    ("50", 50),
    ("59", 59),
    ("255", 255),
];

/// Header protocol numbers and their flag bits (`chain_flags`), in the
/// order flags print.
pub const FLAGS: &[(u8, u8)] = &[
    (0, 0x80),
    (60, 0x40),
    (43, 0x20),
    (44, 0x10),
    (51, 0x08),
    (50, 0x04),
    (59, 0x02),
    (255, 0x01),
];

/// The state of `-m ipv6header` (`struct ip6t_ipv6header_info`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ipv6Header {
    /// The header flags (`MASK_*`).
    pub flags: u8,
    /// `! --header`.
    pub invert: bool,
    /// `--soft`.
    pub soft: bool,
}

/// `-m ipv6header`.
pub const DEF: Def = Def {
    name: "ipv6header",
    role: Role::Match,
    family: Some(Family::V6),
    opts: &[
        Opt::req("header", O_HEADER).mand().inv(),
        Opt::flag("soft", 1),
    ],
    new: |_| Box::<Ipv6Header>::default(),
};

/// `name_to_proto` then `add_proto_to_mask` for one name.
fn header_flag(name: &str) -> Result<u8> {
    let proto = match names::protocol_number(name) {
        Some(p) => p,
        None => NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, p)| *p)
            .ok_or_else(|| Error::param(format!("unknown header `{name}' specified")))?,
    };
    FLAGS
        .iter()
        .find(|(p, _)| *p == proto)
        .map(|(_, f)| *f)
        .ok_or_else(|| Error::param(format!("unknown header `{proto}' specified")))
}

/// `print_header`: the names of the flags set (`/etc/protocols` first),
/// comma-separated, or `NONE`.
fn header_names(flags: u8) -> String {
    let names: Vec<&str> = FLAGS
        .iter()
        .filter(|(_, f)| flags & f != 0)
        .map(|&(p, _)| {
            let system = (p != 0).then(|| names::protocol_name(p)).flatten();
            system
                .or_else(|| NAMES.iter().find(|(_, n)| *n == p).map(|(n, _)| *n))
                .unwrap_or_default()
        })
        .collect();
    if names.is_empty() {
        "NONE".to_string()
    } else {
        names.join(",")
    }
}

impl Ext for Ipv6Header {
    fn parse(&mut self, c: &Call, _ctx: &RuleCtx) -> Result<()> {
        if c.id != O_HEADER {
            self.soft = true;
            return Ok(());
        }
        let mut flags = 0;
        for name in c.arg().split(',').filter(|n| !n.is_empty()) {
            flags |= header_flag(name)?;
        }
        if flags == 0 {
            return Err(Error::param("ip6t_ipv6header: cannot parse header names"));
        }
        self.flags = flags;
        self.invert |= c.invert;
        Ok(())
    }
    fn print(&self, out: &mut String, _ip: &IpSpec, numeric: bool) {
        out.push_str(" ipv6header");
        if self.flags != 0 || self.invert {
            out.push_str(" flags:");
            if self.invert {
                out.push('!');
            }
            if numeric {
                out.push_str(&format!("0x{:02X}", self.flags));
            } else {
                out.push_str(&header_names(self.flags));
            }
        }
        if self.soft {
            out.push_str(" soft");
        }
    }
    fn save(&self, out: &mut String, _ip: &IpSpec) {
        if self.invert {
            out.push_str(" !");
        }
        out.push_str(" --header ");
        out.push_str(&header_names(self.flags));
        if self.soft {
            out.push_str(" --soft");
        }
    }
}
