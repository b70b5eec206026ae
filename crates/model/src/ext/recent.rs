//! `-m recent` (`libxt_recent.c`, revision 1): lists of recently seen
//! addresses, kept by name.

use super::{util, Call, Def, Errno, Ext, KernelCtx, Opt, Role, RuleCtx};
use crate::addr::Family;
use crate::rule::IpSpec;
use crate::{names, Error, Result};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const O_SET: u8 = 0;
const O_RCHECK: u8 = 1;
const O_UPDATE: u8 = 2;
const O_REMOVE: u8 = 3;
const O_SECONDS: u8 = 4;
const O_REAP: u8 = 5;
const O_HITCOUNT: u8 = 6;
const O_RTTL: u8 = 7;
const O_NAME: u8 = 8;
const O_RSOURCE: u8 = 9;
const O_RDEST: u8 = 10;
const O_MASK: u8 = 11;
const F_ANY_OP: u32 = 0b1111;

/// The list operation, as printed in listings and saves.
const OPS: [(&str, &str); 4] = [
    ("SET", "--set"),
    ("CHECK", "--rcheck"),
    ("UPDATE", "--update"),
    ("REMOVE", "--remove"),
];

/// The longest list name kept (the kernel's field holds 200 bytes).
const NAME_MAX: usize = 199;

/// The state of `-m recent` (`struct xt_recent_mtinfo_v1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recent {
    /// Index into the operations: set, rcheck, update, remove.
    pub op: Option<usize>,
    /// `!` before the operation.
    pub invert: bool,
    /// `--seconds` (0 for none).
    pub seconds: u32,
    /// `--reap`.
    pub reap: bool,
    /// `--hitcount` (0 for none).
    pub hitcount: u32,
    /// `--rttl`.
    pub rttl: bool,
    /// `--name`.
    pub name: String,
    /// `--rdest` (else `--rsource`).
    pub dest: bool,
    /// `--mask`.
    pub mask: IpAddr,
}

/// `-m recent`.
pub const DEF: Def = Def {
    name: "recent",
    role: Role::Match,
    family: None,
    opts: &[
        Opt::flag("set", O_SET).excl(F_ANY_OP).inv(),
        Opt::flag("rcheck", O_RCHECK).excl(F_ANY_OP).inv(),
        Opt::flag("update", O_UPDATE).excl(F_ANY_OP).inv(),
        Opt::flag("remove", O_REMOVE).excl(F_ANY_OP).inv(),
        Opt::req("seconds", O_SECONDS),
        Opt::flag("reap", O_REAP).also(1 << O_SECONDS),
        Opt::req("hitcount", O_HITCOUNT),
        Opt::flag("rttl", O_RTTL).excl((1 << O_SET) | (1 << O_REMOVE)),
        Opt::req("name", O_NAME),
        Opt::flag("rsource", O_RSOURCE),
        Opt::flag("rdest", O_RDEST),
        Opt::req("mask", O_MASK),
    ],
    new: |family| {
        Box::new(Recent {
            op: None,
            invert: false,
            seconds: 0,
            reap: false,
            hitcount: 0,
            rttl: false,
            name: "DEFAULT".to_string(),
            dest: false,
            mask: match family {
                Family::V4 => IpAddr::V4(Ipv4Addr::BROADCAST),
                Family::V6 => IpAddr::V6(Ipv6Addr::from(u128::MAX)),
            },
        })
    },
};

/// `inet_aton` as `getaddrinfo` applies it: 1 to 4 C numbers separated by
/// dots, the last one filling the remaining bytes.
pub fn inet_aton(s: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let mut v: u32 = 0;
    for (i, p) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let max = if last { u32::MAX >> (8 * i) } else { 255 };
        if p.starts_with(['+', '-', ' ']) {
            return None;
        }
        let n = crate::num::strtoul(p, 0, u64::from(max))? as u32;
        v |= if last { n } else { n << (24 - 8 * i) };
    }
    Some(Ipv4Addr::from(v))
}

/// `XTTYPE_HOST`: one address of the family, in numbers or from the hosts
/// file, with `getaddrinfo`'s errors when DNS is not reachable.
pub fn parse_host(family: Family, s: &str) -> Result<IpAddr> {
    let v4 = inet_aton(s);
    let v6 = s.parse::<Ipv6Addr>().ok();
    let gai = |msg: &str| Error::param(format!("getaddrinfo: {msg}\n"));
    match (family, v4, v6) {
        (Family::V4, Some(a), _) => return Ok(IpAddr::V4(a)),
        (Family::V6, _, Some(a)) => return Ok(IpAddr::V6(a)),
        (Family::V4, _, Some(_)) | (Family::V6, Some(_), _) => {
            return Err(gai("Address family for hostname not supported"))
        }
        _ => {}
    }
    let found = names::host_by_name(s, family);
    match found.as_slice() {
        [a] => Ok(*a),
        // glibc asks DNS (unreachable) only for what could be a host name:
        // not for dotted numbers that are no address.
        [] if s.bytes().any(|b| !b.is_ascii_digit() && b != b'.')
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')) =>
        {
            Err(gai("Temporary failure in name resolution"))
        }
        [] => Err(gai("Name or service not known")),
        _ => Err(Error::param(format!(
            "{s} resolves to more than one address\n"
        ))),
    }
}

impl Recent {
    /// The pieces of print and save up to the name.
    fn head(&self, out: &mut String, save: bool) {
        if self.invert {
            out.push_str(" !");
        }
        if !save {
            out.push_str(" recent:");
        }
        if let Some(op) = self.op.and_then(|i| OPS.get(i)) {
            out.push(' ');
            out.push_str(if save { op.1 } else { op.0 });
        }
        let pick = |p: &'static str, s: &'static str| if save { s } else { p };
        let num = |out: &mut String, v: u32, p: &'static str, s: &'static str| {
            if v != 0 {
                // Printed as a C `int`.
                out.push_str(&format!(" {} {}", pick(p, s), v as i32));
            }
        };
        num(out, self.seconds, "seconds:", "--seconds");
        if self.reap {
            out.push_str(pick(" reap", " --reap"));
        }
        num(out, self.hitcount, "hit_count:", "--hitcount");
        if self.rttl {
            out.push_str(pick(" TTL-Match", " --rttl"));
        }
        out.push_str(&format!(" {} {}", pick("name:", "--name"), self.name));
    }
}

impl Ext for Recent {
    fn parse(&mut self, c: &Call, ctx: &RuleCtx) -> Result<()> {
        match c.id {
            O_SET | O_RCHECK | O_UPDATE | O_REMOVE => {
                self.op = Some(usize::from(c.id));
                self.invert |= c.invert;
            }
            O_SECONDS => {
                self.seconds = util::uint("recent", c.name, c.arg(), 1, u32::MAX.into())? as u32
            }
            O_REAP => self.reap = true,
            O_HITCOUNT => {
                self.hitcount = util::uint("recent", c.name, c.arg(), 0, u32::MAX.into())? as u32
            }
            O_RTTL => self.rttl = true,
            O_NAME => {
                let arg = c.arg();
                if util::breaks_save(arg) {
                    return Err(Error::param(
                        "recent: a list name may not contain blanks or quotes",
                    ));
                }
                let mut end = arg.len().min(NAME_MAX);
                while !arg.is_char_boundary(end) {
                    end -= 1;
                }
                self.name = arg[..end].to_string();
            }
            O_RSOURCE => self.dest = false,
            O_RDEST => self.dest = true,
            _ => self.mask = parse_host(ctx.family, c.arg())?,
        }
        Ok(())
    }
    fn finish(&mut self, seen: u32, _ctx: &RuleCtx) -> Result<()> {
        if seen & F_ANY_OP == 0 {
            return Err(Error::param(
                "recent: you must specify one of `--set', `--rcheck' `--update' or `--remove'",
            ));
        }
        Ok(())
    }
    fn kernel_check(&self, _k: &KernelCtx) -> std::result::Result<(), Errno> {
        // `--set` and `--remove` take no conditions, and the name must
        // work as a file name in /proc/net/xt_recent.
        let plain_op = matches!(self.op, Some(0) | Some(3));
        let conditions = self.seconds != 0 || self.hitcount != 0 || self.reap || self.rttl;
        let bad_name = self.name.is_empty()
            || self.name == "."
            || self.name == ".."
            || self.name.contains('/');
        Errno::unless(!(bad_name || plain_op && conditions))
    }
    fn print(&self, out: &mut String, _ip: &IpSpec, _numeric: bool) {
        self.head(out, false);
        out.push_str(if self.dest {
            " side: dest"
        } else {
            " side: source"
        });
        out.push_str(&format!(" mask: {}", self.mask));
    }
    fn save(&self, out: &mut String, _ip: &IpSpec) {
        self.head(out, true);
        out.push_str(&format!(" --mask {}", self.mask));
        out.push_str(if self.dest { " --rdest" } else { " --rsource" });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(inet_aton("0x12"), Some(Ipv4Addr::new(0, 0, 0, 18)));
        assert_eq!(inet_aton("1.2"), Some(Ipv4Addr::new(1, 0, 0, 2)));
        assert_eq!(inet_aton("1.2.3.4.5"), None);
        assert_eq!(inet_aton("256.1"), None);
        assert!(parse_host(Family::V4, "::1").is_err());
        assert!(parse_host(Family::V4, "1.2.3.4/8").is_err());
    }
}
