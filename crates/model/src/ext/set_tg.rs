//! `-j SET` (`libxt_SET.c`, revision 3): adds to, deletes from, or maps
//! from ipsets. The sets must exist (DECISIONS.md rule 6): their names
//! come in [`RuleCtx::sets`].

use super::{only_table, util, Call, Def, Errno, Ext, KernelCtx, Opt, Role, RuleCtx, LATE_HOOKS};
use crate::rule::IpSpec;
use crate::{Error, Result};

/// One set reference: its name and the src/dst flags of each dimension.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetRef {
    /// The set's name.
    pub name: String,
    /// `true` for `src`, `false` for `dst`, one per dimension (1 to 6).
    pub dirs: Vec<bool>,
}

/// The state of `-j SET` (`struct xt_set_info_target_v3`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetTarget {
    /// `--add-set`.
    pub add: Option<SetRef>,
    /// `--del-set`.
    pub del: Option<SetRef>,
    /// `--map-set`.
    pub map: Option<SetRef>,
    /// `--exist`.
    pub exist: bool,
    /// `--timeout`.
    pub timeout: Option<u32>,
    /// `--map-mark`.
    pub map_mark: bool,
    /// `--map-prio`.
    pub map_prio: bool,
    /// `--map-queue`.
    pub map_queue: bool,
}

const O_ADD: u8 = 0;
const O_DEL: u8 = 1;
const O_EXIST: u8 = 2;
const O_TIMEOUT: u8 = 3;
const O_MAP: u8 = 4;
const O_MAP_MARK: u8 = 5;
const O_MAP_PRIO: u8 = 6;
const O_MAP_QUEUE: u8 = 7;

/// `-j SET`.
pub const DEF: Def = Def {
    name: "SET",
    role: Role::Target,
    family: None,
    opts: &[
        Opt::req("add-set", O_ADD).raw(),
        Opt::req("del-set", O_DEL).raw(),
        Opt::flag("exist", O_EXIST).raw(),
        Opt::req("timeout", O_TIMEOUT).raw(),
        Opt::req("map-set", O_MAP).raw(),
        Opt::flag("map-mark", O_MAP_MARK).raw(),
        Opt::flag("map-prio", O_MAP_PRIO).raw(),
        Opt::flag("map-queue", O_MAP_QUEUE).raw(),
    ],
    new: |_| Box::<SetTarget>::default(),
};

/// `parse_target`: `NAME FLAGS` for `--add-set`, `--del-set`, `--map-set`.
fn parse_ref(c: &Call, ctx: &RuleCtx, slot: &Option<SetRef>) -> Result<SetRef> {
    let what = c.name;
    if slot.is_some() {
        return Err(Error::param(format!("--{what} can be specified only once")));
    }
    let Some(dirs) = c
        .rest
        .first()
        .filter(|w| !w.starts_with('-') && !w.starts_with('!'))
    else {
        return Err(Error::param(format!("--{what} requires two args.")));
    };
    let name = c.arg();
    if name.len() > 31 {
        return Err(Error::param(format!(
            "setname `{name}' too long, max 31 characters."
        )));
    }
    super::set::check_set(ctx.sets, name, ctx.family)?;
    let flags = super::set::parse_dirs(dirs)?;
    c.consumed.set(1);
    Ok(SetRef {
        name: name.to_string(),
        dirs: flags,
    })
}

fn show_ref(out: &mut String, prefix: &str, r: &Option<SetRef>) {
    if let Some(r) = r {
        let dirs: Vec<&str> = r
            .dirs
            .iter()
            .map(|&src| if src { "src" } else { "dst" })
            .collect();
        out.push_str(&format!(" {prefix} {} {}", r.name, dirs.join(",")));
    }
}

impl SetTarget {
    fn show(&self, out: &mut String, pfx: &str) {
        show_ref(out, &format!("{pfx}add-set"), &self.add);
        if self.exist {
            out.push_str(&format!(" {pfx}exist"));
        }
        if let Some(t) = self.timeout {
            out.push_str(&format!(" {pfx}timeout {t}"));
        }
        show_ref(out, &format!("{pfx}del-set"), &self.del);
        show_ref(out, &format!("{pfx}map-set"), &self.map);
        for (on, word) in [
            (self.map_mark, "map-mark"),
            (self.map_prio, "map-prio"),
            (self.map_queue, "map-queue"),
        ] {
            if on {
                out.push_str(&format!(" {pfx}{word}"));
            }
        }
    }
}

impl Ext for SetTarget {
    fn parse(&mut self, c: &Call, ctx: &RuleCtx) -> Result<()> {
        match c.id {
            O_ADD => self.add = Some(parse_ref(c, ctx, &self.add)?),
            O_DEL => self.del = Some(parse_ref(c, ctx, &self.del)?),
            O_MAP => self.map = Some(parse_ref(c, ctx, &self.map)?),
            O_EXIST => self.exist = true,
            O_TIMEOUT => {
                let t = util::xt_strtoul(c.arg(), 0, u32::MAX as u64 - 1).ok_or_else(|| {
                    Error::param(format!(
                        "Invalid value for option --timeout or out of range 0-{}",
                        u32::MAX - 1
                    ))
                })?;
                self.timeout = Some(t as u32);
            }
            O_MAP_MARK => self.map_mark = true,
            O_MAP_PRIO => self.map_prio = true,
            _ => self.map_queue = true,
        }
        Ok(())
    }
    fn finish(&mut self, _seen: u32, _ctx: &RuleCtx) -> Result<()> {
        let msg = if self.add.is_none() && self.del.is_none() && self.map.is_none() {
            "You must specify either `--add-set' or `--del-set' or `--map-set'"
        } else if self.add.is_none() && self.exist {
            "Flag `--exist' can be used with `--add-set' only"
        } else if self.add.is_none() && self.timeout.is_some() {
            "Option `--timeout' can be used with `--add-set' only"
        } else if self.map.is_none() && self.map_mark {
            "Flag `--map-mark' can be used with `--map-set' only"
        } else if self.map.is_none() && self.map_prio {
            "Flag `--map-prio' can be used with `--map-set' only"
        } else if self.map.is_none() && self.map_queue {
            "Flag `--map-queue' can be used with `--map-set' only"
        } else if self.map.is_some() && !(self.map_mark || self.map_prio || self.map_queue) {
            "You must specify flags `--map-mark' or '--map-prio` or `--map-queue'"
        } else {
            return Ok(());
        };
        Err(Error::param(msg))
    }
    fn print(&self, out: &mut String, _ip: &IpSpec, _numeric: bool) {
        self.show(out, "");
    }
    fn save(&self, out: &mut String, _ip: &IpSpec) {
        self.show(out, "--");
    }
    fn kernel_check(&self, k: &KernelCtx) -> std::result::Result<(), Errno> {
        if self.map.is_some() {
            only_table(k, "mangle")?;
            if (self.map_prio || self.map_queue) && !k.hook_within(LATE_HOOKS) {
                return Err(Errno::Inval);
            }
        }
        Ok(())
    }
}
