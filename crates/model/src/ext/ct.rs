//! `-j CT` and `-j NOTRACK` (`libxt_CT.c`, revision 2): conntrack settings
//! for a connection's first packet, in the raw table.
//!
//! `NOTRACK` is an alias of `CT --notrack` that remembers its name: it is
//! saved as `-j NOTRACK`, listed with `CT` in the target column and
//! `NOTRACK` as its text.

use super::{only_table, util, Call, Def, Errno, Ext, KernelCtx, Opt, Role, RuleCtx};
use crate::rule::IpSpec;
use crate::{Error, Result};

/// `XT_CT_NOTRACK`.
pub const NOTRACK_FLAG: u16 = 1;
/// `XT_CT_NOTRACK_ALIAS`.
pub const ALIAS: u16 = 0x10;
const ZONE_DIR_ORIG: u16 = 2;
const ZONE_DIR_REPL: u16 = 4;
const ZONE_MARK: u16 = 8;

/// The state of `-j CT` (`struct xt_ct_target_info_v1`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ct {
    /// `XT_CT_*` flags.
    pub flags: u16,
    /// `--helper` (at most 15 bytes).
    pub helper: String,
    /// `--timeout` (at most 31 bytes).
    pub timeout: String,
    /// `--ctevents` bits.
    pub ct_events: u32,
    /// `--expevents` bits.
    pub exp_events: u32,
    /// `--zone*` id.
    pub zone: u16,
}

const O_NOTRACK: u8 = 0;
const O_HELPER: u8 = 1;
const O_TIMEOUT: u8 = 2;
const O_CTEVENTS: u8 = 3;
const O_EXPEVENTS: u8 = 4;
const O_ZONE: u8 = 5;
const O_ZONE_ORIG: u8 = 6;
const O_ZONE_REPLY: u8 = 7;

/// `-j CT`.
pub const CT: Def = Def {
    name: "CT",
    role: Role::Target,
    family: None,
    opts: &[
        Opt::flag("notrack", O_NOTRACK),
        Opt::req("helper", O_HELPER),
        Opt::req("timeout", O_TIMEOUT),
        Opt::req("ctevents", O_CTEVENTS),
        Opt::req("expevents", O_EXPEVENTS),
        Opt::req("zone-orig", O_ZONE_ORIG),
        Opt::req("zone-reply", O_ZONE_REPLY),
        Opt::req("zone", O_ZONE),
    ],
    new: |_| Box::<Ct>::default(),
};

/// `-j NOTRACK`.
pub const NOTRACK: Def = Def {
    name: "NOTRACK",
    role: Role::Target,
    family: None,
    opts: &[],
    new: |_| {
        Box::new(Ct {
            flags: NOTRACK_FLAG | ALIAS,
            ..Ct::default()
        })
    },
};

/// Conntrack event names with their bit (`IPCT_*`), in print order.
const CT_EVENTS: &[(&str, u32)] = &[
    ("new", 0),
    ("related", 1),
    ("destroy", 2),
    ("reply", 3),
    ("assured", 4),
    ("protoinfo", 5),
    ("helper", 6),
    ("mark", 7),
    ("natseqinfo", 8),
    ("secmark", 9),
];
const EXP_EVENTS: &[(&str, u32)] = &[("new", 0)];

/// Conntrack helpers a stock kernel provides, with their protocol.
const HELPERS: &[(&str, u8)] = &[
    ("ftp", 6),
    ("irc", 6),
    ("pptp", 6),
    ("sane", 6),
    ("sip", 6),
    ("sip", 17),
    ("Q.931", 6),
    ("RAS", 17),
    ("tftp", 17),
    ("amanda", 17),
    ("snmp", 17),
    ("snmp_trap", 17),
    ("netbios-ns", 17),
];

fn parse_events(tbl: &[(&str, u32)], arg: &str) -> Result<u32> {
    let mut mask = 0;
    for t in arg.split(',') {
        let (_, bit) = tbl
            .iter()
            .find(|(n, _)| *n == t)
            .ok_or_else(|| Error::param(format!("Unknown event type \"{t}\"")))?;
        mask |= 1 << bit;
    }
    Ok(mask)
}

fn show_events(out: &mut String, pfx: &str, tbl: &[(&str, u32)], mask: u32) {
    let names: Vec<&str> = tbl
        .iter()
        .filter(|(_, b)| mask & (1 << b) != 0)
        .map(|(n, _)| *n)
        .collect();
    out.push_str(&format!(" {pfx} {}", names.join(",")));
}

fn cut(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

impl Ct {
    /// The common part of print and save, `pfx` being `""` or `"--"`.
    fn show(&self, out: &mut String, pfx: &str) {
        if self.flags & NOTRACK_FLAG != 0 {
            out.push_str(&format!(" {pfx}notrack"));
        }
        if !self.helper.is_empty() {
            out.push_str(&format!(" {pfx}helper {}", self.helper));
        }
        if !self.timeout.is_empty() {
            out.push_str(&format!(" {pfx}timeout {}", self.timeout));
        }
        if self.ct_events != 0 {
            show_events(out, &format!("{pfx}ctevents"), CT_EVENTS, self.ct_events);
        }
        if self.exp_events != 0 {
            show_events(out, &format!("{pfx}expevents"), EXP_EVENTS, self.exp_events);
        }
        if self.flags & ZONE_MARK != 0 || self.zone != 0 {
            out.push_str(&format!(" {pfx}zone"));
            match self.flags & (ZONE_DIR_ORIG | ZONE_DIR_REPL) {
                ZONE_DIR_ORIG => out.push_str("-orig"),
                ZONE_DIR_REPL => out.push_str("-reply"),
                _ => {}
            }
            if self.flags & ZONE_MARK != 0 {
                out.push_str(" mark");
            } else {
                out.push_str(&format!(" {}", self.zone));
            }
        }
    }
}

impl Ext for Ct {
    fn parse(&mut self, c: &Call, _ctx: &RuleCtx) -> Result<()> {
        let arg = c.arg();
        match c.id {
            O_NOTRACK => self.flags |= NOTRACK_FLAG,
            O_HELPER => self.helper = cut(arg, 15),
            O_TIMEOUT => self.timeout = cut(arg, 31),
            O_CTEVENTS => self.ct_events = parse_events(CT_EVENTS, arg)?,
            O_EXPEVENTS => self.exp_events = parse_events(EXP_EVENTS, arg)?,
            _ => {
                if c.id == O_ZONE_ORIG {
                    self.flags |= ZONE_DIR_ORIG;
                }
                if c.id == O_ZONE_REPLY {
                    self.flags |= ZONE_DIR_REPL;
                }
                self.zone = 0;
                if arg.eq_ignore_ascii_case("mark") {
                    self.flags |= ZONE_MARK;
                } else {
                    self.zone = util::xt_strtoul(arg, 0, u16::MAX as u64)
                        .ok_or_else(|| Error::param(format!("Cannot parse {arg} as a zone ID")))?
                        as u16;
                }
            }
        }
        Ok(())
    }
    fn print(&self, out: &mut String, _ip: &IpSpec, _numeric: bool) {
        if self.flags & ALIAS != 0 {
            out.push_str(" NOTRACK");
            return;
        }
        out.push_str(" CT");
        self.show(out, "");
    }
    fn save(&self, out: &mut String, _ip: &IpSpec) {
        if self.flags & ALIAS == 0 {
            self.show(out, "--");
        }
    }
    fn kernel_check(&self, k: &KernelCtx) -> std::result::Result<(), Errno> {
        only_table(k, "raw")?;
        if self.flags & NOTRACK_FLAG != 0 {
            return Ok(());
        }
        if !self.helper.is_empty() {
            let proto = if k.ip.proto_inv { 0 } else { k.ip.proto };
            if !HELPERS.contains(&(self.helper.as_str(), proto)) {
                return Err(Errno::NoEnt);
            }
        }
        if !self.timeout.is_empty() {
            // A fresh kernel has no timeout policies (nfct timeout add).
            return Err(Errno::Inval);
        }
        Ok(())
    }
    fn list_name(&self) -> Option<&'static str> {
        (self.flags & ALIAS != 0).then_some("CT")
    }
}
