//! `-j NFLOG` (`libxt_NFLOG.c`): logging through nfnetlink_log.
//!
//! iptables-nft stores NFLOG as a native nft `log` expression and reads it
//! back from there, which shapes what survives: the prefix may have up to
//! 127 bytes, `--nflog-range` is dropped (it has no nft counterpart), and
//! a threshold of 0 (the default) is not shown.

use super::log::bounded_string;
use super::{util, Call, Def, Ext, Opt, Role, RuleCtx};
use crate::rule::IpSpec;
use crate::Result;

/// The state of `-j NFLOG` as iptables-nft keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Nflog {
    /// `--nflog-group`.
    pub group: u16,
    /// `--nflog-prefix` (at most 127 bytes).
    pub prefix: String,
    /// `--nflog-size`, when given.
    pub size: Option<u32>,
    /// `--nflog-threshold` (0 when not given).
    pub threshold: u16,
}

const O_GROUP: u8 = 0;
const O_PREFIX: u8 = 1;
const O_RANGE: u8 = 2;
const O_SIZE: u8 = 3;
const O_THRESHOLD: u8 = 4;

/// `-j NFLOG`.
pub const DEF: Def = Def {
    name: "NFLOG",
    role: Role::Target,
    family: None,
    opts: &[
        Opt::req("nflog-group", O_GROUP),
        Opt::req("nflog-prefix", O_PREFIX),
        Opt::req("nflog-range", O_RANGE).excl(1 << O_SIZE),
        Opt::req("nflog-size", O_SIZE).excl(1 << O_RANGE),
        Opt::req("nflog-threshold", O_THRESHOLD),
    ],
    new: |_| Box::<Nflog>::default(),
};

impl Nflog {
    fn show(&self, out: &mut String, pfx: &str) {
        if !self.prefix.is_empty() {
            out.push_str(&format!(" {pfx}nflog-prefix"));
            util::save_string(out, &self.prefix);
        }
        if self.group != 0 {
            out.push_str(&format!(" {pfx}nflog-group {}", self.group));
        }
        if let Some(size) = self.size {
            out.push_str(&format!(" {pfx}nflog-size {size}"));
        }
        if self.threshold != 0 {
            out.push_str(&format!(" {pfx}nflog-threshold {}", self.threshold));
        }
    }
}

impl Ext for Nflog {
    fn parse(&mut self, c: &Call, _ctx: &RuleCtx) -> Result<()> {
        let arg = c.arg();
        let u16max = u16::MAX as u64;
        let u32max = u32::MAX as u64;
        match c.id {
            O_GROUP => self.group = util::uint("NFLOG", c.name, arg, 0, u16max)? as u16,
            O_PREFIX => {
                self.prefix = bounded_string(arg, 127, "Newlines not allowed in --log-prefix")?
            }
            O_RANGE => {
                // Checked, then lost: the nft log expression has no range.
                util::uint("NFLOG", c.name, arg, 0, u32max)?;
            }
            O_SIZE => self.size = Some(util::uint("NFLOG", c.name, arg, 0, u32max)? as u32),
            _ => self.threshold = util::uint("NFLOG", c.name, arg, 0, u16max)? as u16,
        }
        Ok(())
    }
    fn finish(&mut self, seen: u32, ctx: &RuleCtx) -> Result<()> {
        if seen & (1 << O_RANGE) != 0 {
            ctx.warnings.borrow_mut().push_str(
                "warn: --nflog-range has never worked and is no longer supported, please use --nflog-size instead\n",
            );
        }
        Ok(())
    }
    fn print(&self, out: &mut String, _ip: &IpSpec, _numeric: bool) {
        self.show(out, "");
    }
    fn save(&self, out: &mut String, _ip: &IpSpec) {
        self.show(out, "--");
    }
}
