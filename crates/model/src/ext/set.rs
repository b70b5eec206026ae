//! `-m set` (`libxt_set.c`, revision 4): membership of the packet's
//! addresses or ports in an ipset, with counter conditions. A set must
//! exist (DECISIONS.md 6) and hold the rule's family: ironwall knows the
//! sets given by `--sets`, with their families.

use super::{util, Call, Def, Ext, Opt, Role, RuleCtx};
use crate::addr::Family;
use crate::rule::IpSpec;
use crate::{Error, Result};

/// An ipset the rules may name: its name and the family of its members
/// (`None` for a set of any family, such as `list:set` or `bitmap:port`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpSet {
    /// The set's name.
    pub name: String,
    /// Its family.
    pub family: Option<Family>,
}

impl IpSet {
    /// A set named `name` of the given family.
    pub fn new(name: &str, family: Option<Family>) -> IpSet {
        IpSet {
            name: name.to_string(),
            family,
        }
    }
}

/// `get_set_byname`: the set must exist and hold members of the rule's
/// family (or of any).
pub fn check_set(sets: &[IpSet], name: &str, family: Family) -> Result<()> {
    let Some(set) = sets.iter().find(|s| s.name == name) else {
        return Err(Error::param(format!("Set {name} doesn't exist.\n")));
    };
    match set.family {
        Some(f) if f != family => {
            let f = match f {
                Family::V4 => "IPv4",
                Family::V6 => "IPv6",
            };
            Err(Error::param(format!(
                "The protocol family of set {name} is {f}, which is not applicable.\n"
            )))
        }
        _ => Ok(()),
    }
}

const O_MATCH_SET: u8 = 0;
const O_SET: u8 = 1;
const O_RETURN_NOMATCH: u8 = 2;
const O_UPDATE_COUNTERS: u8 = 3;
const O_PACKETS_EQ: u8 = 4;
const O_PACKETS_LT: u8 = 5;
const O_PACKETS_GT: u8 = 6;
const O_BYTES_EQ: u8 = 7;
const O_BYTES_LT: u8 = 8;
const O_BYTES_GT: u8 = 9;
const O_UPDATE_SUBCOUNTERS: u8 = 10;

/// `IPSET_DIM_MAX`.
pub const DIM_MAX: usize = 6;
/// `IPSET_MAXNAMELEN - 1`.
const NAME_MAX: usize = 31;

/// A counter condition (`struct ip_set_counter_match`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    /// `--X-eq N`.
    Eq(u64),
    /// `! --X-eq N`.
    Ne(u64),
    /// `--X-lt N`.
    Lt(u64),
    /// `--X-gt N`.
    Gt(u64),
}

/// The state of `-m set` (`struct xt_set_info_match_v4`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Set {
    /// The set's name.
    pub name: String,
    /// Per dimension: `true` for `src`, `false` for `dst`.
    pub dirs: Vec<bool>,
    /// `! --match-set`.
    pub invert: bool,
    /// `--return-nomatch`.
    pub return_nomatch: bool,
    /// `! --update-counters`.
    pub skip_counters: bool,
    /// `! --update-subcounters`.
    pub skip_subcounters: bool,
    /// `--packets-*`.
    pub packets: Option<Counter>,
    /// `--bytes-*`.
    pub bytes: Option<Counter>,
}

/// `-m set`.
pub const DEF: Def = Def {
    name: "set",
    role: Role::Match,
    family: None,
    opts: &[
        Opt::req("match-set", O_MATCH_SET).raw(),
        Opt::req("set", O_SET).raw(),
        Opt::flag("return-nomatch", O_RETURN_NOMATCH).raw(),
        Opt::flag("update-counters", O_UPDATE_COUNTERS).raw(),
        Opt::req("packets-eq", O_PACKETS_EQ).raw(),
        Opt::req("packets-lt", O_PACKETS_LT).raw(),
        Opt::req("packets-gt", O_PACKETS_GT).raw(),
        Opt::req("bytes-eq", O_BYTES_EQ).raw(),
        Opt::req("bytes-lt", O_BYTES_LT).raw(),
        Opt::req("bytes-gt", O_BYTES_GT).raw(),
        Opt::flag("update-subcounters", O_UPDATE_SUBCOUNTERS).raw(),
    ],
    new: |_| Box::<Set>::default(),
};

/// `parse_dirs`: up to six comma-separated `src`/`dst` (only the first
/// three letters count).
pub fn parse_dirs(arg: &str) -> Result<Vec<bool>> {
    let mut dirs = Vec::new();
    let mut parts = arg.split(',');
    while dirs.len() < DIM_MAX {
        let Some(p) = parts.next() else {
            return Ok(dirs);
        };
        if p.starts_with("src") {
            dirs.push(true);
        } else if p.starts_with("dst") {
            dirs.push(false);
        } else {
            return Err(Error::param(
                "You must spefify (the comma separated list of) 'src' or 'dst'.",
            ));
        }
    }
    if parts.next().is_some() {
        return Err(Error::param(format!(
            "Can't be more src/dst options than {DIM_MAX}."
        )));
    }
    Ok(dirs)
}

/// `parse_counter`: a whole C number, no sign.
fn parse_counter(arg: &str) -> Result<u64> {
    match util::strtoui_end_max(arg, u64::MAX) {
        Some((v, "")) => Ok(v),
        _ => Err(Error::param(format!(
            "Cannot parse {arg} as a counter value"
        ))),
    }
}

fn counter_text(out: &mut String, c: Option<Counter>, name: &str, sep: &str) {
    match c {
        Some(Counter::Eq(v)) => out.push_str(&format!(" {sep}{name}-eq {v}")),
        Some(Counter::Ne(v)) => out.push_str(&format!(" ! {sep}{name}-eq {v}")),
        Some(Counter::Lt(v)) => out.push_str(&format!(" {sep}{name}-lt {v}")),
        Some(Counter::Gt(v)) => out.push_str(&format!(" {sep}{name}-gt {v}")),
        None => {}
    }
}

impl Set {
    /// `set_print_v4_matchinfo`.
    fn text(&self, out: &mut String, opt: &str, sep: &str) {
        if self.invert {
            out.push_str(" !");
        }
        out.push_str(&format!(" {opt} {}", self.name));
        for (i, src) in self.dirs.iter().enumerate() {
            out.push(if i == 0 { ' ' } else { ',' });
            out.push_str(if *src { "src" } else { "dst" });
        }
        if self.return_nomatch {
            out.push_str(&format!(" {sep}return-nomatch"));
        }
        if self.skip_counters {
            out.push_str(&format!(" ! {sep}update-counters"));
        }
        if self.skip_subcounters {
            out.push_str(&format!(" ! {sep}update-subcounters"));
        }
        counter_text(out, self.packets, "packets", sep);
        counter_text(out, self.bytes, "bytes", sep);
    }

    fn match_set(&mut self, c: &Call, ctx: &RuleCtx) -> Result<()> {
        if !self.dirs.is_empty() {
            return Err(Error::param("--match-set can be specified only once"));
        }
        let next = c
            .rest
            .first()
            .filter(|w| !w.starts_with('-') && !w.starts_with('!'));
        let Some(dirs) = next else {
            return Err(Error::param("--match-set requires two args."));
        };
        let name = c.arg();
        if name.len() > NAME_MAX {
            return Err(Error::param(format!(
                "setname `{name}' too long, max {NAME_MAX} characters."
            )));
        }
        check_set(ctx.sets, name, ctx.family)?;
        self.dirs = parse_dirs(dirs)?;
        self.name = name.to_string();
        self.invert |= c.invert;
        c.consumed.set(1);
        Ok(())
    }
}

impl Ext for Set {
    fn parse(&mut self, c: &Call, ctx: &RuleCtx) -> Result<()> {
        match c.id {
            O_MATCH_SET | O_SET => {
                if c.id == O_SET {
                    ctx.warnings
                        .borrow_mut()
                        .push_str("--set option deprecated, please use --match-set\n");
                }
                self.match_set(c, ctx)?
            }
            O_RETURN_NOMATCH => {
                if c.invert {
                    return Err(Error::param("--return-nomatch flag cannot be inverted"));
                }
                self.return_nomatch = true;
            }
            O_UPDATE_COUNTERS => self.skip_counters |= c.invert,
            O_UPDATE_SUBCOUNTERS => self.skip_subcounters |= c.invert,
            O_PACKETS_EQ | O_PACKETS_LT | O_PACKETS_GT => {
                self.packets = Some(counter(c, self.packets, "packets", c.id - O_PACKETS_EQ)?)
            }
            _ => self.bytes = Some(counter(c, self.bytes, "bytes", c.id - O_BYTES_EQ)?),
        }
        Ok(())
    }
    fn finish(&mut self, seen: u32, _ctx: &RuleCtx) -> Result<()> {
        if seen & ((1 << O_MATCH_SET) | (1 << O_SET)) == 0 {
            return Err(Error::param(
                "You must specify `--match-set' with proper arguments",
            ));
        }
        Ok(())
    }
    fn print(&self, out: &mut String, _ip: &IpSpec, _numeric: bool) {
        self.text(out, "match-set", "");
    }
    fn save(&self, out: &mut String, _ip: &IpSpec) {
        self.text(out, "--match-set", "--");
    }
}

/// One counter option of `what` (`packets`, `bytes`): `kind` 0 for
/// `-eq` (`!` makes it not equal), 1 for `-lt`, 2 for `-gt`.
fn counter(c: &Call, old: Option<Counter>, what: &str, kind: u8) -> Result<Counter> {
    if old.is_some() {
        return Err(Error::param(format!(
            "only one of the --{what}-[eq|lt|gt] is allowed"
        )));
    }
    if kind != 0 && c.invert {
        let suffix = if kind == 1 { "lt" } else { "gt" };
        return Err(Error::param(format!(
            "--{what}-{suffix} option cannot be inverted"
        )));
    }
    let v = parse_counter(c.arg())?;
    Ok(match (kind, c.invert) {
        (0, false) => Counter::Eq(v),
        (0, true) => Counter::Ne(v),
        (1, _) => Counter::Lt(v),
        _ => Counter::Gt(v),
    })
}
