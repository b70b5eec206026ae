//! `-m rt` (`libip6t_rt.c`, IPv6 only): the routing header's type,
//! segments left, length, and for type 0 its address list.

use super::{util, Call, Def, Ext, Opt, Role, RuleCtx};
use crate::addr::Family;
use crate::rule::IpSpec;
use crate::{Error, Result};
use std::net::Ipv6Addr;

const O_TYPE: u8 = 0;
const O_SEGSLEFT: u8 = 1;
const O_LEN: u8 = 2;
const O_RES: u8 = 3;
const O_ADDRS: u8 = 4;
const O_NSTRICT: u8 = 5;

/// At most this many `--rt-0-addrs` (`IP6T_RT_HOPS`).
const HOPS: usize = 16;

/// The state of `-m rt` (`struct ip6t_rt`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rt {
    /// `--rt-type`.
    pub rt_type: Option<u32>,
    /// `! --rt-type`.
    pub type_inv: bool,
    /// The segments-left range (`0:0xffffffff` when not given).
    pub segsleft: (u32, u32),
    /// `! --rt-segsleft`.
    pub segsleft_inv: bool,
    /// `--rt-len`.
    pub len: Option<u32>,
    /// `! --rt-len`.
    pub len_inv: bool,
    /// `--rt-0-res`.
    pub res: bool,
    /// `--rt-0-addrs` given.
    pub addrs_given: bool,
    /// The type 0 addresses.
    pub addrs: Vec<Ipv6Addr>,
    /// `--rt-0-not-strict`.
    pub not_strict: bool,
}

/// `-m rt`.
pub const DEF: Def = Def {
    name: "rt",
    role: Role::Match,
    family: Some(Family::V6),
    opts: &[
        Opt::req("rt-type", O_TYPE).inv(),
        Opt::req("rt-segsleft", O_SEGSLEFT).inv(),
        Opt::req("rt-len", O_LEN).inv(),
        Opt::flag("rt-0-res", O_RES),
        Opt::req("rt-0-addrs", O_ADDRS),
        Opt::flag("rt-0-not-strict", O_NSTRICT),
    ],
    new: |_| {
        Box::new(Rt {
            segsleft: (0, u32::MAX),
            ..Rt::default()
        })
    },
};

/// `parse_addresses`: up to 16 comma-separated numeric IPv6 addresses.
fn parse_addresses(arg: &str) -> Result<Vec<Ipv6Addr>> {
    let parts: Vec<&str> = arg.split(',').collect();
    if parts.len() > HOPS {
        // The first 16 are read (and must be valid) before the complaint.
        for p in &parts[..HOPS] {
            parse_address(p)?;
        }
        return Err(Error::param("too many addresses specified"));
    }
    parts.iter().map(|p| parse_address(p)).collect()
}

fn parse_address(s: &str) -> Result<Ipv6Addr> {
    s.parse()
        .map_err(|_| Error::param(format!("bad address: {s}")))
}

impl Rt {
    /// Whether `--rt-type 0` came before (required by the type 0 options).
    fn type0(&self, c: &Call) -> bool {
        c.seen & (1 << O_TYPE) != 0 && self.rt_type == Some(0) && !self.type_inv
    }
}

impl Ext for Rt {
    fn parse(&mut self, c: &Call, _ctx: &RuleCtx) -> Result<()> {
        match c.id {
            O_TYPE => {
                self.rt_type = Some(util::uint("rt", c.name, c.arg(), 0, u32::MAX.into())? as u32);
                self.type_inv |= c.invert;
            }
            O_SEGSLEFT => {
                self.segsleft = util::id_range("rt", c.name, c.arg())?;
                self.segsleft_inv |= c.invert;
            }
            O_LEN => {
                self.len = Some(util::uint("rt", c.name, c.arg(), 0, u32::MAX.into())? as u32);
                self.len_inv |= c.invert;
            }
            O_RES | O_ADDRS if !self.type0(c) => {
                return Err(Error::param(format!(
                    "`--rt-type 0' required before `--{}'",
                    c.name
                )));
            }
            O_RES => self.res = true,
            O_ADDRS => {
                self.addrs = parse_addresses(c.arg())?;
                self.addrs_given = true;
            }
            _ => {
                if c.seen & (1 << O_ADDRS) == 0 {
                    return Err(Error::param(
                        "`--rt-0-addr ...' required before `--rt-0-not-strict'",
                    ));
                }
                self.not_strict = true;
            }
        }
        Ok(())
    }
    fn print(&self, out: &mut String, _ip: &IpSpec, _numeric: bool) {
        out.push_str(" rt");
        if let Some(t) = self.rt_type {
            let inv = if self.type_inv { "!" } else { "" };
            // Printed with %d: a type over 2^31 shows negative.
            out.push_str(&format!(" type:{inv}{}", t as i32));
        }
        util::id_range_print(out, " segsleft", self.segsleft, self.segsleft_inv);
        if let Some(len) = self.len {
            let inv = if self.len_inv { "!" } else { "" };
            out.push_str(&format!(" length:{inv}{len}"));
        }
        self.tail(out, [" reserved", " 0-addrs", " 0-not-strict"]);
    }
    fn save(&self, out: &mut String, _ip: &IpSpec) {
        if let Some(t) = self.rt_type {
            util::inv_save(out, self.type_inv);
            out.push_str(&format!(" --rt-type {t}"));
        }
        util::id_range_save(out, "rt-segsleft", self.segsleft, self.segsleft_inv);
        if let Some(len) = self.len {
            util::inv_save(out, self.len_inv);
            out.push_str(&format!(" --rt-len {len}"));
        }
        self.tail(out, [" --rt-0-res", " --rt-0-addrs", " --rt-0-not-strict"]);
    }
}

impl Rt {
    /// The type 0 flags and the address list, in their fixed order.
    fn tail(&self, out: &mut String, [res, addrs, nstrict]: [&str; 3]) {
        if self.res {
            out.push_str(res);
        }
        if self.addrs_given {
            out.push_str(addrs);
        }
        for (i, a) in self.addrs.iter().enumerate() {
            out.push(if i == 0 { ' ' } else { ',' });
            out.push_str(&crate::addr::ntop(std::net::IpAddr::V6(*a)));
        }
        if self.not_strict {
            out.push_str(nstrict);
        }
    }
}
