//! `-m frag` (`libip6t_frag.c`, IPv6 only): the fragment header's id,
//! length and flags.

use super::{util, Call, Def, Ext, Opt, Role, RuleCtx};
use crate::addr::Family;
use crate::rule::IpSpec;
use crate::Result;

const O_ID: u8 = 0;
const O_LEN: u8 = 1;
const O_RES: u8 = 2;
const O_FIRST: u8 = 3;
const O_MORE: u8 = 4;
const O_LAST: u8 = 5;

/// The state of `-m frag` (`struct ip6t_frag`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frag {
    /// The id range (`0:0xffffffff` when not given).
    pub ids: (u32, u32),
    /// `! --fragid`.
    pub ids_inv: bool,
    /// `--fraglen` (the kernel does not check it).
    pub len: Option<u32>,
    /// `! --fraglen`.
    pub len_inv: bool,
    /// `--fragres`.
    pub res: bool,
    /// `--fragfirst`.
    pub first: bool,
    /// `--fragmore`.
    pub more: bool,
    /// `--fraglast`.
    pub last: bool,
}

/// `-m frag`.
pub const DEF: Def = Def {
    name: "frag",
    role: Role::Match,
    family: Some(Family::V6),
    opts: &[
        Opt::req("fragid", O_ID).inv(),
        Opt::req("fraglen", O_LEN).inv(),
        Opt::flag("fragres", O_RES),
        Opt::flag("fragfirst", O_FIRST),
        Opt::flag("fragmore", O_MORE).excl(1 << O_LAST),
        Opt::flag("fraglast", O_LAST).excl(1 << O_MORE),
    ],
    new: |_| {
        Box::new(Frag {
            ids: (0, u32::MAX),
            ..Frag::default()
        })
    },
};

impl Ext for Frag {
    fn parse(&mut self, c: &Call, _ctx: &RuleCtx) -> Result<()> {
        match c.id {
            O_ID => {
                self.ids = util::id_range("frag", c.name, c.arg())?;
                self.ids_inv |= c.invert;
            }
            O_LEN => {
                self.len = Some(util::uint("frag", c.name, c.arg(), 0, u32::MAX as u64)? as u32);
                self.len_inv |= c.invert;
            }
            O_RES => self.res = true,
            O_FIRST => self.first = true,
            O_MORE => self.more = true,
            _ => self.last = true,
        }
        Ok(())
    }
    fn print(&self, out: &mut String, _ip: &IpSpec, _numeric: bool) {
        out.push_str(" frag ");
        util::id_range_print(out, "id", self.ids, self.ids_inv);
        if let Some(len) = self.len {
            let inv = if self.len_inv { "!" } else { "" };
            out.push_str(&format!(" length:{inv}{len}"));
        }
        self.flags(out, [" reserved", " first", " more", " last"]);
    }
    fn save(&self, out: &mut String, _ip: &IpSpec) {
        util::id_range_save(out, "fragid", self.ids, self.ids_inv);
        if let Some(len) = self.len {
            util::inv_save(out, self.len_inv);
            out.push_str(&format!(" --fraglen {len}"));
        }
        self.flags(
            out,
            [" --fragres", " --fragfirst", " --fragmore", " --fraglast"],
        );
    }
}

impl Frag {
    /// Appends the texts of the flags given, in their fixed order.
    fn flags(&self, out: &mut String, texts: [&str; 4]) {
        let set = [self.res, self.first, self.more, self.last];
        for (on, text) in set.iter().zip(texts) {
            if *on {
                out.push_str(text);
            }
        }
    }
}
