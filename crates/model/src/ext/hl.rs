//! `-m hl` (`libip6t_hl.c`, IPv6 only): the hop limit compared with a
//! value.

use super::{util, Call, Def, Ext, Opt, Role, RuleCtx};
use crate::addr::Family;
use crate::rule::IpSpec;
use crate::Result;

const O_EQ: u8 = 0;
const O_LT: u8 = 1;
const O_GT: u8 = 2;
const F_ANY: u32 = 0b111;

/// How the hop limit is compared (`IP6T_HL_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HlMode {
    /// `--hl-eq`.
    Eq,
    /// `! --hl-eq`.
    Ne,
    /// `--hl-lt`.
    Lt,
    /// `--hl-gt`.
    Gt,
}

/// The state of `-m hl` (`struct ip6t_hl_info`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hl {
    /// The comparison.
    pub mode: HlMode,
    /// The value compared with.
    pub hop_limit: u8,
}

/// `-m hl`.
pub const DEF: Def = Def {
    name: "hl",
    role: Role::Match,
    family: Some(Family::V6),
    opts: &[
        Opt::req("hl-lt", O_LT).excl(F_ANY),
        Opt::req("hl-gt", O_GT).excl(F_ANY),
        Opt::req("hl-eq", O_EQ).excl(F_ANY).inv(),
        Opt::req("hl", O_EQ).excl(F_ANY),
    ],
    new: |_| {
        Box::new(Hl {
            mode: HlMode::Eq,
            hop_limit: 0,
        })
    },
};

impl Ext for Hl {
    fn parse(&mut self, c: &Call, _ctx: &RuleCtx) -> Result<()> {
        self.hop_limit = util::uint("hl", c.name, c.arg(), 0, 255)? as u8;
        self.mode = match c.id {
            O_LT => HlMode::Lt,
            O_GT => HlMode::Gt,
            _ if c.invert => HlMode::Ne,
            _ => HlMode::Eq,
        };
        Ok(())
    }
    fn finish(&mut self, seen: u32, _ctx: &RuleCtx) -> Result<()> {
        util::need_option(
            seen,
            "HL match: You must specify one of `--hl-eq', `--hl-lt', `--hl-gt'",
        )
    }
    fn print(&self, out: &mut String, _ip: &IpSpec, _numeric: bool) {
        let op = match self.mode {
            HlMode::Eq => "==",
            HlMode::Ne => "!=",
            HlMode::Lt => "<",
            HlMode::Gt => ">",
        };
        out.push_str(&format!(" HL match HL {op} {}", self.hop_limit));
    }
    fn save(&self, out: &mut String, _ip: &IpSpec) {
        let opt = match self.mode {
            HlMode::Eq => "--hl-eq",
            HlMode::Ne => "! --hl-eq",
            HlMode::Lt => "--hl-lt",
            HlMode::Gt => "--hl-gt",
        };
        out.push_str(&format!(" {opt} {}", self.hop_limit));
    }
}
