//! `-m hbh` and `-m dst` (`libip6t_hbh.c`, `libip6t_dst.c`, IPv6 only):
//! the hop-by-hop and destination options headers, their length and a list
//! of option types with lengths. The two differ only in name (and one
//! message).

use super::{util, Call, Def, Ext, Opt, Role, RuleCtx};
use crate::addr::Family;
use crate::num::strtoul_prefix;
use crate::rule::IpSpec;
use crate::{Error, Result};

const O_LEN: u8 = 0;
const O_OPTS: u8 = 1;

/// At most this many options (`IP6T_OPTS_OPTSNR`).
const OPTSNR: usize = 16;

/// The state of `-m hbh` / `-m dst` (`struct ip6t_opts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opts {
    /// `hbh` or `dst`.
    pub name: &'static str,
    /// `--hbh-len` / `--dst-len`.
    pub len: Option<u32>,
    /// `!` before the length.
    pub len_inv: bool,
    /// `--*-opts` given.
    pub opts_given: bool,
    /// The options: type in the high byte, length in the low byte (0xff
    /// for any length).
    pub opts: Vec<u16>,
}

/// `-m hbh`.
pub const HBH: Def = Def {
    name: "hbh",
    role: Role::Match,
    family: Some(Family::V6),
    opts: &[
        Opt::req("hbh-len", O_LEN).inv(),
        Opt::req("hbh-opts", O_OPTS),
    ],
    new: |_| Box::new(Opts::new("hbh")),
};

/// `-m dst`.
pub const DST: Def = Def {
    name: "dst",
    role: Role::Match,
    family: Some(Family::V6),
    opts: &[
        Opt::req("dst-len", O_LEN).inv(),
        Opt::req("dst-opts", O_OPTS),
    ],
    new: |_| Box::new(Opts::new("dst")),
};

impl Opts {
    fn new(name: &'static str) -> Opts {
        Opts {
            name,
            len: None,
            len_inv: false,
            opts_given: false,
            opts: Vec::new(),
        }
    }

    /// `parse_opts_num`: C `strtoul` base 0 over the whole text.
    fn num(&self, s: &str, what: &str) -> Result<u64> {
        let Some((v, rest)) = strtoul_prefix(s) else {
            return Err(Error::param(format!(
                "{}: no valid digits in {what} `{s}'",
                self.name
            )));
        };
        // strtoul's ERANGE (a negative overflow is not told apart).
        if v == u64::MAX && !s.trim_start().starts_with('-') {
            return Err(Error::param(format!(
                "{what} `{s}' specified too big: would overflow"
            )));
        }
        if !rest.is_empty() {
            return Err(Error::param(format!(
                "{}: error parsing {what} `{s}'",
                self.name
            )));
        }
        Ok(v)
    }

    /// `parse_options`: up to 16 `TYPE[:LEN]`, comma-separated.
    fn parse_options(&self, arg: &str) -> Result<Vec<u16>> {
        let items: Vec<&str> = arg.split(',').collect();
        let mut out = Vec::new();
        for (i, item) in items.iter().take(OPTSNR).enumerate() {
            let (typ, len) = match item.split_once(':') {
                Some(_) if i == OPTSNR - 1 => {
                    return Err(Error::param("too many ports specified"));
                }
                Some((t, l)) => (t, Some(l)),
                None => (*item, None),
            };
            let typ = ((self.num(typ, "opt")? & 0xFF) as u16) << 8;
            let len = match len {
                Some(_) if typ == 0 => {
                    let msg = match self.name {
                        "dst" => "PAD0 hasn't got length",
                        _ => "PAD0 has not got length",
                    };
                    return Err(Error::param(msg));
                }
                Some(l) => (self.num(l, "length")? & 0xFF) as u16,
                None => 0xFF,
            };
            out.push(typ | len);
        }
        if items.len() > OPTSNR {
            return Err(Error::param("too many addresses specified"));
        }
        Ok(out)
    }

    /// The option list as printed and saved: ` T[:L],T[:L]`.
    fn list(&self, out: &mut String) {
        for (i, o) in self.opts.iter().enumerate() {
            out.push(if i == 0 { ' ' } else { ',' });
            out.push_str(&(o >> 8).to_string());
            if o & 0xFF != 0xFF {
                out.push_str(&format!(":{}", o & 0xFF));
            }
        }
    }
}

impl Ext for Opts {
    fn parse(&mut self, c: &Call, _ctx: &RuleCtx) -> Result<()> {
        if c.id == O_LEN {
            self.len = Some(util::uint(self.name, c.name, c.arg(), 0, u32::MAX.into())? as u32);
            self.len_inv |= c.invert;
        } else {
            self.opts = self.parse_options(c.arg())?;
            self.opts_given = true;
        }
        Ok(())
    }
    fn print(&self, out: &mut String, _ip: &IpSpec, _numeric: bool) {
        out.push(' ');
        out.push_str(self.name);
        if let Some(len) = self.len {
            let inv = if self.len_inv { "!" } else { "" };
            out.push_str(&format!(" length:{inv}{len}"));
        }
        if self.opts_given {
            out.push_str(" opts");
        }
        self.list(out);
    }
    fn save(&self, out: &mut String, _ip: &IpSpec) {
        if let Some(len) = self.len {
            util::inv_save(out, self.len_inv);
            out.push_str(&format!(" --{}-len {len}", self.name));
        }
        if self.opts_given {
            out.push_str(&format!(" --{}-opts", self.name));
        }
        self.list(out);
    }
}
