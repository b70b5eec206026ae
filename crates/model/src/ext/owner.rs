//! `-m owner` (`libxt_owner.c`, revision 1): the user, group or existence
//! of the local socket that sent a packet. The kernel allows it only in
//! `OUTPUT` and `POSTROUTING`.

use super::{util, Call, Def, Errno, Ext, KernelCtx, Opt, Role, RuleCtx};
use crate::rule::IpSpec;
use crate::ruleset::Hook;
use crate::{names, Error, Result};

const O_USER: u8 = 0;
const O_GROUP: u8 = 1;
const O_SOCK: u8 = 2;
const O_SUPPL: u8 = 3;

/// An id range, inclusive.
pub type Ids = (u32, u32);

/// The state of `-m owner` (`struct xt_owner_match_info`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Owner {
    /// `--uid-owner`.
    pub uid: Option<Ids>,
    /// `--gid-owner`.
    pub gid: Option<Ids>,
    /// `--socket-exists`.
    pub socket: bool,
    /// `--suppl-groups`.
    pub suppl: bool,
    /// Inverted options (bit per option id).
    pub invert: u8,
}

/// `-m owner`.
pub const DEF: Def = Def {
    name: "owner",
    role: Role::Match,
    family: None,
    opts: &[
        Opt::req("uid-owner", O_USER).inv(),
        Opt::req("gid-owner", O_GROUP).inv(),
        Opt::flag("socket-exists", O_SOCK).inv(),
        Opt::flag("suppl-groups", O_SUPPL),
    ],
    new: |_| Box::<Owner>::default(),
};

fn bad_value(opt: &str, value: &str) -> Error {
    Error::param(format!(
        "owner: Bad value for \"{opt}\" option: \"{value}\""
    ))
}

/// `owner_parse_range`: `N`, `N-M` or `N:M`, each below `0xffffffff`.
fn parse_range(s: &str, opt: &str) -> Result<Ids> {
    let max = u64::from(u32::MAX - 1);
    let (from, rest) = util::strtoui_end_max(s, max).ok_or_else(|| bad_value(opt, s))?;
    let (to, rest) = match rest.strip_prefix(['-', ':']) {
        Some(r) => util::strtoui_end_max(r, max).ok_or_else(|| bad_value(opt, s))?,
        None => (from, rest),
    };
    if !rest.is_empty() {
        return Err(bad_value(opt, s));
    }
    Ok((from as u32, to as u32))
}

/// Appends ` N`, ` N-M` or a name (unless `numeric`).
fn ids_text(out: &mut String, ids: Ids, numeric: bool, name: fn(u32) -> Option<&'static str>) {
    if ids.0 != ids.1 {
        out.push_str(&format!(" {}-{}", ids.0, ids.1));
        return;
    }
    match name(ids.0).filter(|_| !numeric) {
        Some(n) => out.push_str(&format!(" {n}")),
        None => out.push_str(&format!(" {}", ids.0)),
    }
}

impl Owner {
    /// The items of print and save, with `labels` for socket, uid, gid
    /// and supplementary groups.
    fn text(&self, out: &mut String, labels: [&str; 4], numeric: bool) {
        let item = |out: &mut String, id: u8, label: &str| {
            if self.invert & (1 << id) != 0 {
                out.push_str(" !");
            }
            out.push(' ');
            out.push_str(label);
        };
        if self.socket {
            item(out, O_SOCK, labels[0]);
        }
        if let Some(ids) = self.uid {
            item(out, O_USER, labels[1]);
            ids_text(out, ids, numeric, names::user_name);
        }
        if let Some(ids) = self.gid {
            item(out, O_GROUP, labels[2]);
            ids_text(out, ids, numeric, names::group_name);
        }
        if self.suppl {
            item(out, O_SUPPL, labels[3]);
        }
    }
}

impl Ext for Owner {
    fn parse(&mut self, c: &Call, _ctx: &RuleCtx) -> Result<()> {
        let opt = format!("--{}", c.name);
        match c.id {
            O_USER => {
                self.uid = Some(match names::user_id(c.arg()) {
                    Some(id) => (id, id),
                    None => parse_range(c.arg(), &opt)?,
                })
            }
            O_GROUP => {
                self.gid = Some(match names::group_id(c.arg()) {
                    Some(id) => (id, id),
                    None => parse_range(c.arg(), &opt)?,
                })
            }
            O_SOCK => self.socket = true,
            _ => {
                if self.gid.is_none() {
                    return Err(bad_value(&opt, "you need to use --gid-owner first"));
                }
                self.suppl = true;
            }
        }
        if c.invert {
            self.invert |= 1 << c.id;
        }
        Ok(())
    }
    fn finish(&mut self, seen: u32, _ctx: &RuleCtx) -> Result<()> {
        if seen == 0 {
            return Err(Error::param(
                "owner: At least one of --uid-owner, --gid-owner or --socket-exists is required",
            ));
        }
        Ok(())
    }
    fn kernel_check(&self, _k: &KernelCtx) -> std::result::Result<(), Errno> {
        // The kernel refuses a reversed range.
        let reversed = |r: Option<Ids>| r.is_some_and(|(a, b)| a > b);
        Errno::unless(!reversed(self.uid) && !reversed(self.gid))
    }
    fn hooks(&self) -> Option<&'static [Hook]> {
        Some(&[Hook::Output, Hook::Postrouting])
    }
    fn print(&self, out: &mut String, _ip: &IpSpec, numeric: bool) {
        let labels = [
            "owner socket exists",
            "owner UID match",
            "owner GID match",
            "incl. suppl. groups",
        ];
        self.text(out, labels, numeric);
    }
    fn save(&self, out: &mut String, _ip: &IpSpec) {
        let labels = [
            "--socket-exists",
            "--uid-owner",
            "--gid-owner",
            "--suppl-groups",
        ];
        self.text(out, labels, true);
    }
}
