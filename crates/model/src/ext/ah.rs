//! `-m ah` for IPv6 (`libip6t_ah.c`): the authentication header's SPI
//! range, length and reserved field. (The IPv4 `ah` match is another
//! extension, `libipt_ah.c`, not modelled.)

use super::{util, Call, Def, Ext, Opt, Role, RuleCtx};
use crate::addr::Family;
use crate::rule::IpSpec;
use crate::Result;

const O_SPI: u8 = 0;
const O_LEN: u8 = 1;
const O_RES: u8 = 2;

/// The state of `-m ah` (`struct ip6t_ah`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ah {
    /// The SPI range (`0:0xffffffff` when not given).
    pub spis: (u32, u32),
    /// `! --ahspi`.
    pub spis_inv: bool,
    /// `--ahlen` (0 when not given).
    pub len: u32,
    /// `! --ahlen`.
    pub len_inv: bool,
    /// `--ahres`.
    pub res: bool,
}

/// `-m ah` (IPv6).
pub const DEF: Def = Def {
    name: "ah",
    role: Role::Match,
    family: Some(Family::V6),
    opts: &[
        Opt::req("ahspi", O_SPI).inv(),
        Opt::req("ahlen", O_LEN).inv(),
        Opt::flag("ahres", O_RES),
    ],
    new: |_| {
        Box::new(Ah {
            spis: (0, u32::MAX),
            ..Ah::default()
        })
    },
};

impl Ext for Ah {
    fn parse(&mut self, c: &Call, _ctx: &RuleCtx) -> Result<()> {
        match c.id {
            O_SPI => {
                self.spis = util::id_range("ah", c.name, c.arg())?;
                self.spis_inv |= c.invert;
            }
            O_LEN => {
                self.len = util::uint("ah", c.name, c.arg(), 0, u32::MAX as u64)? as u32;
                self.len_inv |= c.invert;
            }
            _ => self.res = true,
        }
        Ok(())
    }
    fn print(&self, out: &mut String, _ip: &IpSpec, _numeric: bool) {
        out.push_str(" ah ");
        util::id_range_print(out, "spi", self.spis, self.spis_inv);
        if self.len != 0 || self.len_inv {
            let inv = if self.len_inv { "!" } else { "" };
            out.push_str(&format!("length:{inv}{}", self.len));
        }
        if self.res {
            out.push_str(" reserved");
        }
    }
    fn save(&self, out: &mut String, _ip: &IpSpec) {
        util::id_range_save(out, "ahspi", self.spis, self.spis_inv);
        if self.len != 0 || self.len_inv {
            util::inv_save(out, self.len_inv);
            out.push_str(&format!(" --ahlen {}", self.len));
        }
        if self.res {
            out.push_str(" --ahres");
        }
    }
}
