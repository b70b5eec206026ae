//! `-m conntrack` and `-m state` (`libxt_conntrack.c`, revision 3, which
//! iptables 1.8.9 uses; `state` is its alias that prints as `state`).

use super::tcp::{parse_port_range, Ports};
use super::{util, Call, Def, Ext, Opt, Role, RuleCtx};
use crate::addr::{mask_suffix, prefix_mask, Family};
use crate::rule::IpSpec;
use crate::{names, num, parse, Error, Result};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Connection states in print order, with their bits
/// (`XT_CONNTRACK_STATE_*`).
pub const STATES: &[(&str, u32)] = &[
    ("INVALID", 1 << 0),
    ("NEW", 1 << 3),
    ("RELATED", 1 << 2),
    ("ESTABLISHED", 1 << 1),
    ("UNTRACKED", 1 << 6),
    ("SNAT", 1 << 8),
    ("DNAT", 1 << 9),
];

/// The order in which the parser tries state names (abbreviations take the
/// first that fits).
const STATE_PARSE_ORDER: &[&str] = &[
    "INVALID",
    "NEW",
    "ESTABLISHED",
    "RELATED",
    "UNTRACKED",
    "SNAT",
    "DNAT",
];

/// Connection status bits in print and parse order (`IPS_*`); `NONE` is 0.
pub const STATUSES: &[(&str, u32)] = &[
    ("EXPECTED", 1),
    ("SEEN_REPLY", 2),
    ("ASSURED", 4),
    ("CONFIRMED", 8),
];

/// An address with its mask, as conntrack keeps it (not masked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CtAddr {
    /// The address as given.
    pub addr: IpAddr,
    /// The mask.
    pub mask: IpAddr,
    /// `!`.
    pub inv: bool,
}

/// A port range with its inversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CtPorts {
    /// Low and high port.
    pub range: Ports,
    /// `!`.
    pub inv: bool,
}

/// The state of `-m conntrack` / `-m state` (`struct xt_conntrack_mtinfo3`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conntrack {
    /// Family of the addresses.
    pub family: Family,
    /// Given as `-m state` (prints `state`).
    pub alias: bool,
    /// `--ctstate` / `--state`: mask of [`STATES`] bits, and `!`.
    pub state: Option<(u32, bool)>,
    /// `--ctproto` and `!`.
    pub proto: Option<(u8, bool)>,
    /// `--ctorigsrc`.
    pub origsrc: Option<CtAddr>,
    /// `--ctorigdst`.
    pub origdst: Option<CtAddr>,
    /// `--ctreplsrc`.
    pub replsrc: Option<CtAddr>,
    /// `--ctrepldst`.
    pub repldst: Option<CtAddr>,
    /// `--ctorigsrcport`.
    pub origsrcport: Option<CtPorts>,
    /// `--ctorigdstport`.
    pub origdstport: Option<CtPorts>,
    /// `--ctreplsrcport`.
    pub replsrcport: Option<CtPorts>,
    /// `--ctrepldstport`.
    pub repldstport: Option<CtPorts>,
    /// `--ctstatus`: mask of [`STATUSES`] bits, and `!`.
    pub status: Option<(u32, bool)>,
    /// `--ctexpire` min, max, and `!`.
    pub expire: Option<(u32, u32, bool)>,
    /// `--ctdir`: `true` for REPLY.
    pub dir_reply: Option<bool>,
}

const O_CTSTATE: u8 = 0;
const O_CTPROTO: u8 = 1;
const O_CTORIGSRC: u8 = 2;
const O_CTORIGDST: u8 = 3;
const O_CTREPLSRC: u8 = 4;
const O_CTREPLDST: u8 = 5;
const O_CTORIGSRCPORT: u8 = 6;
const O_CTORIGDSTPORT: u8 = 7;
const O_CTREPLSRCPORT: u8 = 8;
const O_CTREPLDSTPORT: u8 = 9;
const O_CTSTATUS: u8 = 10;
const O_CTEXPIRE: u8 = 11;
const O_CTDIR: u8 = 12;

/// `-m conntrack`.
pub const CONNTRACK: Def = Def {
    name: "conntrack",
    role: Role::Match,
    family: None,
    opts: &[
        Opt::req("ctstate", O_CTSTATE).inv(),
        Opt::req("ctproto", O_CTPROTO).inv(),
        Opt::req("ctorigsrc", O_CTORIGSRC).inv(),
        Opt::req("ctorigdst", O_CTORIGDST).inv(),
        Opt::req("ctreplsrc", O_CTREPLSRC).inv(),
        Opt::req("ctrepldst", O_CTREPLDST).inv(),
        Opt::req("ctstatus", O_CTSTATUS).inv(),
        Opt::req("ctexpire", O_CTEXPIRE).inv(),
        Opt::req("ctorigsrcport", O_CTORIGSRCPORT).inv(),
        Opt::req("ctorigdstport", O_CTORIGDSTPORT).inv(),
        Opt::req("ctreplsrcport", O_CTREPLSRCPORT).inv(),
        Opt::req("ctrepldstport", O_CTREPLDSTPORT).inv(),
        Opt::req("ctdir", O_CTDIR),
    ],
    new: |f| Box::new(Conntrack::new(f, false)),
};

/// `-m state` (the conntrack alias).
pub const STATE: Def = Def {
    name: "state",
    role: Role::Match,
    family: None,
    opts: &[Opt::req("state", O_CTSTATE).inv().mand()],
    new: |f| Box::new(Conntrack::new(f, true)),
};

/// Parses a comma list of names, each an abbreviation (case-insensitive)
/// of one in `table`, the first that fits winning. `bad` names the error
/// (`ctstate` gives `Bad ctstate "REST"`); `empty_tail` is the message for
/// a list ending in a comma, when it differs from the bad-name one.
fn parse_name_list(
    arg: &str,
    table: &[(&str, u32)],
    bad: &str,
    empty_tail: Option<&str>,
) -> Result<u32> {
    let bad_at = |rest: &str| Error::param(format!("Bad {bad} \"{rest}\""));
    let lookup = |word: &str| {
        if word.is_empty() {
            return None;
        }
        table.iter().find_map(|(name, bit)| {
            let n = name.as_bytes();
            (word.len() <= n.len() && n[..word.len()].eq_ignore_ascii_case(word.as_bytes()))
                .then_some(*bit)
        })
    };
    let mut mask = 0;
    let mut rest = arg;
    while let Some(p) = rest.find(',') {
        mask |= lookup(&rest[..p]).ok_or_else(|| bad_at(rest))?;
        rest = &rest[p + 1..];
    }
    if rest.is_empty() {
        if let Some(msg) = empty_tail {
            return Err(Error::param(msg));
        }
    }
    mask |= lookup(rest).ok_or_else(|| bad_at(rest))?;
    Ok(mask)
}

fn state_table(with_nat: bool) -> Vec<(&'static str, u32)> {
    STATE_PARSE_ORDER
        .iter()
        .filter(|n| with_nat || !n.ends_with("NAT"))
        .filter_map(|n| STATES.iter().find(|(s, _)| s == n).copied())
        .collect()
}

/// glibc `inet_aton`: `a`, `a.b`, `a.b.c` or `a.b.c.d`, each part a C
/// number, the last filling the remaining bytes.
pub fn inet_aton(s: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let mut vals = Vec::with_capacity(4);
    for p in &parts {
        if !p.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        vals.push(num::strtoul(p, 0, u32::MAX as u64)? as u32);
    }
    let (last, head) = vals.split_last()?;
    let mut v: u32 = 0;
    for (i, h) in head.iter().enumerate() {
        if *h > 255 {
            return None;
        }
        v |= h << (24 - 8 * i);
    }
    let room = 32 - 8 * head.len() as u32;
    if room < 32 && *last >= 1 << room {
        return None;
    }
    Some(Ipv4Addr::from(v | last))
}

/// `getaddrinfo` for one family, numeric or from the hosts file.
fn host_addr(f: Family, s: &str) -> Result<IpAddr> {
    let numeric = match f {
        Family::V4 => inet_aton(s).map(IpAddr::V4),
        Family::V6 => s.parse::<Ipv6Addr>().ok().map(IpAddr::V6),
    };
    if let Some(a) = numeric.or_else(|| names::host_by_name(s, f).first().copied()) {
        return Ok(a);
    }
    let other_family = match f {
        Family::V4 => s.parse::<Ipv6Addr>().is_ok(),
        Family::V6 => inet_aton(s).is_some(),
    };
    Err(Error::param(if other_family {
        "getaddrinfo: Address family for hostname not supported\n"
    } else {
        "getaddrinfo: Name or service not known\n"
    }))
}

/// The option framework's `XTTYPE_HOSTMASK` for extension `ext`:
/// `host[/len|/mask]`. A mask that is not a prefix (or is out of range)
/// leaves the host mask. The address is kept as given (not masked).
pub fn parse_hostmask(ext: &str, f: Family, opt: &str, s: &str) -> Result<(IpAddr, IpAddr)> {
    let Some((host, m)) = s.split_once('/') else {
        return Ok((host_addr(f, s)?, prefix_mask(f, fam_bits(f))));
    };
    let addr = host_addr(f, host)?;
    if let Some(len) = num::strtoul(m, 0, fam_bits(f) as u64) {
        return Ok((addr, prefix_mask(f, len as u32)));
    }
    let mask = match f {
        Family::V4 => inet_aton(m).map(IpAddr::V4),
        Family::V6 => m.parse::<Ipv6Addr>().ok().map(IpAddr::V6),
    };
    let Some(mask) = mask else {
        return Err(Error::param(format!(
            "{ext}: bad value for option \"--{opt}\", neither a valid network mask nor valid CIDR (0-{}).\n",
            fam_bits(f)
        )));
    };
    let ones = to_bits(mask).count_ones();
    let len = if prefix_mask(f, ones) == mask {
        ones
    } else {
        fam_bits(f)
    };
    Ok((addr, prefix_mask(f, len)))
}

fn fam_bits(f: Family) -> u32 {
    match f {
        Family::V4 => 32,
        Family::V6 => 128,
    }
}

fn to_bits(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(a) => u32::from(a) as u128,
        IpAddr::V6(a) => u128::from(a),
    }
}

impl Conntrack {
    fn new(family: Family, alias: bool) -> Self {
        Conntrack {
            family,
            alias,
            state: None,
            proto: None,
            origsrc: None,
            origdst: None,
            replsrc: None,
            repldst: None,
            origsrcport: None,
            origdstport: None,
            replsrcport: None,
            repldstport: None,
            status: None,
            expire: None,
            dir_reply: None,
        }
    }

    /// Appends the whole text; `prefix` is `""` for `-L`, `"--"` for saves.
    fn dump(&self, out: &mut String, prefix: &str, numeric: bool) {
        let inv = |out: &mut String, i: bool| {
            if i {
                out.push_str(" !");
            }
        };
        if let Some((mask, i)) = self.state {
            inv(out, i);
            let name = if self.alias { "state" } else { "ctstate" };
            out.push_str(&format!(" {prefix}{name}"));
            push_names(out, mask, STATES, None);
        }
        if let Some((p, i)) = self.proto {
            inv(out, i);
            out.push_str(&format!(" {prefix}ctproto {p}"));
        }
        let addrs = [
            ("ctorigsrc", &self.origsrc),
            ("ctorigdst", &self.origdst),
            ("ctreplsrc", &self.replsrc),
            ("ctrepldst", &self.repldst),
        ];
        for (name, a) in addrs {
            if let Some(a) = a {
                inv(out, a.inv);
                out.push_str(&format!(" {prefix}{name}"));
                if !numeric && to_bits(a.addr) == 0 {
                    out.push_str(" anywhere");
                } else {
                    let host = if numeric {
                        a.addr.to_string()
                    } else {
                        names::addr_to_anyname(a.addr)
                    };
                    out.push_str(&format!(" {host}{}", mask_suffix(a.mask)));
                }
            }
        }
        let ports = [
            ("ctorigsrcport", &self.origsrcport),
            ("ctorigdstport", &self.origdstport),
            ("ctreplsrcport", &self.replsrcport),
            ("ctrepldstport", &self.repldstport),
        ];
        for (name, p) in ports {
            if let Some(p) = p {
                inv(out, p.inv);
                let (lo, hi) = p.range;
                if hi == 0 || lo == hi {
                    out.push_str(&format!(" {prefix}{name} {lo}"));
                } else {
                    out.push_str(&format!(" {prefix}{name} {lo}:{hi}"));
                }
            }
        }
        if let Some((mask, i)) = self.status {
            inv(out, i);
            out.push_str(&format!(" {prefix}ctstatus"));
            push_names(out, mask, STATUSES, Some("NONE"));
        }
        if let Some((lo, hi, i)) = self.expire {
            inv(out, i);
            if lo == hi {
                out.push_str(&format!(" {prefix}ctexpire {lo}"));
            } else {
                out.push_str(&format!(" {prefix}ctexpire {lo}:{hi}"));
            }
        }
        if let Some(reply) = self.dir_reply {
            let d = if reply { "REPLY" } else { "ORIGINAL" };
            out.push_str(&format!(" {prefix}ctdir {d}"));
        }
    }
}

/// `print_state` / `print_status`: a space, then the names of the set bits
/// joined by commas (`none` when no bit is set and the table has a name
/// for that).
fn push_names(out: &mut String, mask: u32, table: &[(&str, u32)], none: Option<&str>) {
    let mut sep = " ";
    for (name, bit) in table {
        if mask & bit != 0 {
            out.push_str(sep);
            out.push_str(name);
            sep = ",";
        }
    }
    if mask == 0 {
        if let Some(n) = none {
            out.push_str(sep);
            out.push_str(n);
        }
    }
}

impl Ext for Conntrack {
    fn parse(&mut self, c: &Call, _ctx: &RuleCtx) -> Result<()> {
        let arg = c.arg();
        let f = self.family;
        let port = |c: &Call| -> Result<Option<CtPorts>> {
            Ok(Some(CtPorts {
                range: parse_port_range("conntrack", c.name, arg)?,
                inv: c.invert,
            }))
        };
        let addr = |c: &Call| -> Result<Option<CtAddr>> {
            let (addr, mask) = parse_hostmask("conntrack", f, c.name, arg)?;
            Ok(Some(CtAddr {
                addr,
                mask,
                inv: c.invert,
            }))
        };
        match c.id {
            O_CTSTATE if self.alias => {
                let tail = "\"--state\" requires a list of states with no spaces, e.g. ESTABLISHED,RELATED";
                let mask = parse_name_list(arg, &state_table(false), "state", Some(tail))?;
                self.state = Some((mask, c.invert));
            }
            O_CTSTATE => {
                let mask = parse_name_list(arg, &state_table(true), "ctstate", None)?;
                self.state = Some((mask, c.invert));
            }
            O_CTPROTO => {
                let p = parse::parse_protocol(arg)?;
                // The C code tests XT_INV_PROTO (0x40), which is the bit
                // of an inverted --ctstatus.
                if p == 0 && self.status.is_some_and(|(_, i)| i) {
                    return Err(Error::param("conntrack: rule would never match protocol"));
                }
                self.proto = Some((p, c.invert));
            }
            O_CTORIGSRC => self.origsrc = addr(c)?,
            O_CTORIGDST => self.origdst = addr(c)?,
            O_CTREPLSRC => self.replsrc = addr(c)?,
            O_CTREPLDST => self.repldst = addr(c)?,
            O_CTORIGSRCPORT => self.origsrcport = port(c)?,
            O_CTORIGDSTPORT => self.origdstport = port(c)?,
            O_CTREPLSRCPORT => self.replsrcport = port(c)?,
            O_CTREPLDSTPORT => self.repldstport = port(c)?,
            O_CTSTATUS => {
                let mut table = vec![("NONE", 0)];
                table.extend_from_slice(STATUSES);
                let mask = parse_name_list(arg, &table, "ctstatus", None)?;
                self.status = Some((mask, c.invert));
            }
            O_CTEXPIRE => {
                let (lo, hi) = util::id_range("conntrack", c.name, arg)?;
                self.expire = Some((lo, hi, c.invert));
            }
            _ => {
                self.dir_reply = Some(if arg.eq_ignore_ascii_case("ORIGINAL") {
                    false
                } else if arg.eq_ignore_ascii_case("REPLY") {
                    true
                } else {
                    return Err(Error::param(format!(
                        "conntrack: Bad value for \"--ctdir\" option: \"{arg}\""
                    )));
                });
            }
        }
        Ok(())
    }

    fn finish(&mut self, seen: u32, _ctx: &RuleCtx) -> Result<()> {
        if seen == 0 && !self.alias {
            return Err(Error::param("conntrack: At least one option is required"));
        }
        Ok(())
    }

    fn print(&self, out: &mut String, _ip: &IpSpec, numeric: bool) {
        self.dump(out, "", numeric);
    }

    fn save(&self, out: &mut String, _ip: &IpSpec) {
        self.dump(out, "--", true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aton_forms() {
        assert_eq!(inet_aton("1"), Some(Ipv4Addr::new(0, 0, 0, 1)));
        assert_eq!(inet_aton("1.2"), Some(Ipv4Addr::new(1, 0, 0, 2)));
        assert_eq!(inet_aton("1.2.3"), Some(Ipv4Addr::new(1, 2, 0, 3)));
        assert_eq!(inet_aton("0x7f.1"), Some(Ipv4Addr::new(127, 0, 0, 1)));
        assert_eq!(inet_aton("1.2.3.256"), None);
        assert_eq!(inet_aton("1..2"), None);
        assert_eq!(inet_aton(""), None);
    }

    #[test]
    fn u32_ranges() {
        let range = |s| util::id_range("c", "x", s).ok();
        assert_eq!(range("5:"), Some((5, u32::MAX)));
        assert_eq!(range(":5"), Some((0, 5)));
        assert_eq!(range("7"), Some((7, 7)));
        assert_eq!(range("1:2:3"), None);
        assert_eq!(range("-1"), None);
        assert_eq!(range("4294967296"), None);
    }
}
