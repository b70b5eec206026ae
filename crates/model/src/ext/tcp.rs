//! `-m tcp` and `-m udp` (`libxt_tcp.c`, `libxt_udp.c`): port ranges,
//! TCP flags and the TCP option test.

use super::{Call, Def, Ext, Opt, Role, RuleCtx};
use crate::rule::IpSpec;
use crate::{names, num, Error, Result};
use std::any::Any;

/// A port range, inclusive.
pub type Ports = (u16, u16);

/// The state of `-m tcp` / `-m udp` (`struct xt_tcp`, `struct xt_udp`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpUdp {
    /// `true` for tcp, `false` for udp.
    pub tcp: bool,
    /// `--sport`.
    pub spts: Ports,
    /// `! --sport`.
    pub spts_inv: bool,
    /// `--dport`.
    pub dpts: Ports,
    /// `! --dport`.
    pub dpts_inv: bool,
    /// `--tcp-option` (0 for none).
    pub option: u8,
    /// `! --tcp-option`.
    pub option_inv: bool,
    /// `--tcp-flags` mask.
    pub flg_mask: u8,
    /// `--tcp-flags` comparison.
    pub flg_cmp: u8,
    /// `! --tcp-flags` / `! --syn`.
    pub flags_inv: bool,
}

const O_SPORT: u8 = 0;
const O_DPORT: u8 = 1;
const O_SYN: u8 = 2;
const O_FLAGS: u8 = 3;
const O_OPTION: u8 = 4;

const TCP_OPTS: &[Opt] = &[
    Opt::req("source-port", O_SPORT).raw(),
    Opt::req("sport", O_SPORT).raw(),
    Opt::req("destination-port", O_DPORT).raw(),
    Opt::req("dport", O_DPORT).raw(),
    Opt::flag("syn", O_SYN).raw(),
    Opt::req("tcp-flags", O_FLAGS).raw(),
    Opt::req("tcp-option", O_OPTION).raw(),
];

const UDP_OPTS: &[Opt] = &[
    Opt::req("source-port", O_SPORT).inv(),
    Opt::req("sport", O_SPORT).inv(),
    Opt::req("destination-port", O_DPORT).inv(),
    Opt::req("dport", O_DPORT).inv(),
];

/// `-m tcp`.
pub const TCP: Def = Def {
    name: "tcp",
    role: Role::Match,
    family: None,
    opts: TCP_OPTS,
    new: |_| Box::new(TcpUdp::new(true)),
};

/// `-m udp`.
pub const UDP: Def = Def {
    name: "udp",
    role: Role::Match,
    family: None,
    opts: UDP_OPTS,
    new: |_| Box::new(TcpUdp::new(false)),
};

/// TCP flag names in print order.
pub const TCP_FLAG_NAMES: &[(&str, u8)] = &[
    ("FIN", 0x01),
    ("SYN", 0x02),
    ("RST", 0x04),
    ("PSH", 0x08),
    ("ACK", 0x10),
    ("URG", 0x20),
    ("ALL", 0x3F),
    ("NONE", 0),
];

impl TcpUdp {
    fn new(tcp: bool) -> Self {
        TcpUdp {
            tcp,
            spts: (0, 0xFFFF),
            spts_inv: false,
            dpts: (0, 0xFFFF),
            dpts_inv: false,
            option: 0,
            option_inv: false,
            flg_mask: 0,
            flg_cmp: 0,
            flags_inv: false,
        }
    }
    fn proto(&self) -> &'static str {
        if self.tcp {
            "tcp"
        } else {
            "udp"
        }
    }
    fn all_zero(&self) -> bool {
        *self == TcpUdp::new(self.tcp)
    }
}

/// `xtables_parse_port`: a number or a service name of `proto`.
pub fn parse_port(s: &str, proto: &str) -> Result<u16> {
    num::strtoul(s, 0, 65535)
        .map(|v| v as u16)
        .or_else(|| names::service_port(s, proto))
        .ok_or_else(|| Error::param(format!("invalid port/service `{s}' specified")))
}

/// `xtables_getportbyname` (glibc `getaddrinfo` of a service): a decimal
/// number read by `strtoul` into an `int` (negative after that cast means
/// none; else its low 16 bits, so `65536` is port 0), or any service name.
pub fn port_by_name(s: &str) -> Option<u16> {
    let numeric = decimal_service(s).and_then(|v| {
        let v = v as u32 as i32;
        (v >= 0).then_some(v as u16)
    });
    numeric
        .or_else(|| names::service_port(s, "tcp"))
        .or_else(|| names::service_port(s, "udp"))
}

/// C `strtoul(s, &end, 10)` requiring the whole string: leading blanks and
/// a sign allowed, overflow saturating, a minus wrapping.
fn decimal_service(s: &str) -> Option<u64> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v = t.bytes().try_fold(0u64, |v, b| {
        v.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    });
    Some(match v {
        None => u64::MAX,
        Some(v) if neg => v.wrapping_neg(),
        Some(v) => v,
    })
}

fn parse_tcp_ports(s: &str) -> Result<Ports> {
    match s.split_once(':') {
        None => {
            let p = parse_port(s, "tcp")?;
            Ok((p, p))
        }
        Some((a, b)) => {
            let lo = if a.is_empty() {
                0
            } else {
                parse_port(a, "tcp")?
            };
            let hi = if b.is_empty() {
                0xFFFF
            } else {
                parse_port(b, "tcp")?
            };
            if lo > hi {
                return Err(Error::param("invalid portrange (min > max)"));
            }
            Ok((lo, hi))
        }
    }
}

/// The option framework's `XTTYPE_PORTRC`: `a`, `a:b`, `:b`, `a:`.
pub fn parse_port_range(ext: &str, opt: &str, s: &str) -> Result<Ports> {
    let mut vals = [0u16, 0xFFFF];
    let mut n = 0;
    for part in s.split(':') {
        if n == 2 {
            return Err(Error::param(format!(
                "{ext}: Too many components for option \"--{opt}\" (max: 2)\n"
            )));
        }
        if !part.is_empty() {
            vals[n] = port_by_name(part).ok_or_else(|| {
                Error::param(format!("Port \"{part}\" does not resolve to anything.\n"))
            })?;
        }
        n += 1;
    }
    if n == 1 {
        vals[1] = vals[0];
    }
    Ok((vals[0], vals[1]))
}

fn parse_tcp_flag(s: &str) -> Result<u8> {
    let mut ret = 0;
    for part in s.split(',').filter(|p| !p.is_empty()) {
        let f = TCP_FLAG_NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(part))
            .ok_or_else(|| Error::param(format!("Unknown TCP flag `{part}'")))?;
        ret |= f.1;
    }
    Ok(ret)
}

/// `print_tcpf`: flag names joined by commas, `NONE` for none.
pub fn tcp_flags_text(mut flags: u8) -> String {
    let mut out = String::new();
    while flags != 0 {
        let Some((name, f)) = TCP_FLAG_NAMES.iter().find(|(_, f)| flags & f != 0) else {
            break;
        };
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(name);
        flags &= !f;
    }
    if out.is_empty() {
        out.push_str("NONE");
    }
    out
}

fn print_port(out: &mut String, port: u16, proto: &str, numeric: bool) {
    match (numeric, names::service_name(port, proto)) {
        (false, Some(n)) => out.push_str(n),
        _ => out.push_str(&port.to_string()),
    }
}

/// `print_ports` of tcp/udp: ` spt:22`, ` dpts:1:1023`, with `!`.
pub fn print_ports(out: &mut String, name: &str, p: Ports, inv: bool, proto: &str, numeric: bool) {
    if p.0 != 0 || p.1 != 0xFFFF || inv {
        let inv = if inv { "!" } else { "" };
        if p.0 == p.1 {
            out.push_str(&format!(" {name}:{inv}"));
            print_port(out, p.0, proto, numeric);
        } else {
            out.push_str(&format!(" {name}s:{inv}"));
            print_port(out, p.0, proto, numeric);
            out.push(':');
            print_port(out, p.1, proto, numeric);
        }
    }
}

fn save_ports(out: &mut String, opt: &str, p: Ports, inv: bool) {
    if p.0 != 0 || p.1 != 0xFFFF {
        if inv {
            out.push_str(" !");
        }
        if p.0 != p.1 {
            out.push_str(&format!(" --{opt} {}:{}", p.0, p.1));
        } else {
            out.push_str(&format!(" --{opt} {}", p.0));
        }
    }
}

impl Ext for TcpUdp {
    fn parse(&mut self, c: &Call, _ctx: &RuleCtx) -> Result<()> {
        if !self.tcp {
            let p = parse_port_range("udp", c.name, c.arg())?;
            if c.id == O_SPORT {
                self.spts = p;
                self.spts_inv |= c.invert;
            } else {
                self.dpts = p;
                self.dpts_inv |= c.invert;
            }
            return Ok(());
        }
        let once = |bit: u8, msg: &str| -> Result<()> {
            if c.seen & (1 << bit) != 0 {
                return Err(Error::param(msg.to_string()));
            }
            Ok(())
        };
        match c.id {
            O_SPORT => {
                once(O_SPORT, "Only one `--source-port' allowed")?;
                self.spts = parse_tcp_ports(c.arg())?;
                self.spts_inv |= c.invert;
            }
            O_DPORT => {
                once(O_DPORT, "Only one `--destination-port' allowed")?;
                self.dpts = parse_tcp_ports(c.arg())?;
                self.dpts_inv |= c.invert;
            }
            O_SYN | O_FLAGS => {
                let both = (1 << O_SYN) | (1 << O_FLAGS);
                if c.seen & both != 0 {
                    return Err(Error::param(
                        "Only one of `--syn' or `--tcp-flags'  allowed",
                    ));
                }
                if c.id == O_SYN {
                    self.flg_mask = parse_tcp_flag("SYN,RST,ACK,FIN")?;
                    self.flg_cmp = parse_tcp_flag("SYN")?;
                } else {
                    let next = c
                        .rest
                        .first()
                        .filter(|w| !w.starts_with('-') && !w.starts_with('!'));
                    let Some(cmp) = next else {
                        return Err(Error::param("--tcp-flags requires two args."));
                    };
                    self.flg_mask = parse_tcp_flag(c.arg())?;
                    self.flg_cmp = parse_tcp_flag(cmp)?;
                    c.consumed.set(1);
                }
                self.flags_inv |= c.invert;
            }
            _ => {
                once(O_OPTION, "Only one `--tcp-option' allowed")?;
                self.option = num::strtoul(c.arg(), 1, 255)
                    .ok_or_else(|| Error::param(format!("Bad TCP option \"{}\"", c.arg())))?
                    as u8;
                self.option_inv |= c.invert;
            }
        }
        Ok(())
    }

    fn finish(&mut self, _seen: u32, ctx: &RuleCtx) -> Result<()> {
        let want = if self.tcp { 6 } else { 17 };
        if self.all_zero() || (self.tcp && self.option != 0) || self.option_inv {
            // Kept as an xt match: the kernel's checkentry decides.
            if ctx.ip.proto != want || ctx.ip.proto_inv {
                return Err(Error::kernel(String::new()));
            }
            return Ok(());
        }
        if ctx.ip.proto != want {
            let up = self.proto().to_ascii_uppercase();
            return Err(Error::param(format!(
                "{up} match requires '-p {}'",
                self.proto()
            )));
        }
        Ok(())
    }

    fn print(&self, out: &mut String, _ip: &IpSpec, numeric: bool) {
        let proto = self.proto();
        out.push(' ');
        out.push_str(proto);
        print_ports(out, "spt", self.spts, self.spts_inv, proto, numeric);
        print_ports(out, "dpt", self.dpts, self.dpts_inv, proto, numeric);
        if self.option != 0 || self.option_inv {
            let inv = if self.option_inv { "!" } else { "" };
            out.push_str(&format!(" option={inv}{}", self.option));
        }
        if self.flg_mask != 0 || self.flags_inv {
            out.push_str(" flags:");
            if self.flags_inv {
                out.push('!');
            }
            if numeric {
                out.push_str(&format!("0x{:02X}/0x{:02X}", self.flg_mask, self.flg_cmp));
            } else {
                out.push_str(&tcp_flags_text(self.flg_mask));
                out.push('/');
                out.push_str(&tcp_flags_text(self.flg_cmp));
            }
        }
    }

    fn save(&self, out: &mut String, _ip: &IpSpec) {
        save_ports(out, "sport", self.spts, self.spts_inv);
        save_ports(out, "dport", self.dpts, self.dpts_inv);
        if self.option != 0 || self.option_inv {
            if self.option_inv {
                out.push_str(" !");
            }
            out.push_str(&format!(" --tcp-option {}", self.option));
        }
        if self.flg_mask != 0 || self.flags_inv {
            if self.flags_inv {
                out.push_str(" !");
            }
            out.push_str(&format!(
                " --tcp-flags {} {}",
                tcp_flags_text(self.flg_mask),
                tcp_flags_text(self.flg_cmp)
            ));
        }
    }

    fn clone_box(&self) -> Box<dyn Ext> {
        Box::new(self.clone())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
