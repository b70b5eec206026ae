//! Address families, addresses with masks, and interface names: how iptables
//! parses them on the command line and prints them in listings and saves.

use crate::names;
use crate::num::strtoul;
use crate::{Error, Result};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The address family of a ruleset: `iptables` or `ip6tables`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// IPv4 (`iptables`).
    V4,
    /// IPv6 (`ip6tables`).
    V6,
}

impl Family {
    /// The command name for messages.
    pub fn prog(self) -> &'static str {
        match self {
            Family::V4 => "iptables",
            Family::V6 => "ip6tables",
        }
    }
    /// The all-zero address of this family.
    pub fn unspecified(self) -> IpAddr {
        match self {
            Family::V4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            Family::V6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        }
    }
    fn bits(self) -> u32 {
        match self {
            Family::V4 => 32,
            Family::V6 => 128,
        }
    }
}

/// An address and a mask (which need not be contiguous in IPv4), as in the
/// kernel's `ipt_ip`. The address is always stored masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddrMask {
    /// The address, already ANDed with the mask.
    pub addr: IpAddr,
    /// The mask.
    pub mask: IpAddr,
}

fn to_u128(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(a) => u32::from(a) as u128,
        IpAddr::V6(a) => u128::from(a),
    }
}

fn from_u128(f: Family, v: u128) -> IpAddr {
    match f {
        Family::V4 => IpAddr::V4(Ipv4Addr::from(v as u32)),
        Family::V6 => IpAddr::V6(Ipv6Addr::from(v)),
    }
}

impl AddrMask {
    /// Matches everything (`0.0.0.0/0`).
    pub fn any(f: Family) -> Self {
        AddrMask {
            addr: f.unspecified(),
            mask: f.unspecified(),
        }
    }
    /// The family of the address.
    pub fn family(&self) -> Family {
        match self.addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }
    /// Builds from an address and a prefix length, masking the address.
    pub fn from_prefix(addr: IpAddr, len: u32) -> Self {
        let f = match addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        };
        let mask = prefix_mask(f, len);
        AddrMask::new(addr, mask)
    }
    /// Builds from address and mask, masking the address.
    pub fn new(addr: IpAddr, mask: IpAddr) -> Self {
        let f = match addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        };
        AddrMask {
            addr: from_u128(f, to_u128(addr) & to_u128(mask)),
            mask,
        }
    }
    /// The prefix length when the mask is contiguous.
    pub fn prefix_len(&self) -> Option<u32> {
        let f = self.family();
        let m = to_u128(self.mask);
        let bits = f.bits();
        let ones = m.count_ones();
        if prefix_mask(f, ones) == self.mask {
            Some(ones.min(bits))
        } else {
            None
        }
    }
    /// Whether `ip` is inside (address AND mask equal).
    pub fn contains(&self, ip: IpAddr) -> bool {
        (to_u128(ip) & to_u128(self.mask)) == to_u128(self.addr)
    }
    /// True for the match-everything mask.
    pub fn is_any(&self) -> bool {
        to_u128(self.mask) == 0
    }
    /// The save form: `10.0.0.0/8`, `10.0.12.0/255.0.255.0`.
    pub fn save_text(&self) -> String {
        match self.prefix_len() {
            Some(l) => format!("{}/{}", ntop(self.addr), l),
            None => format!("{}/{}", ntop(self.addr), ntop(self.mask)),
        }
    }
    /// The `-L` form: `anywhere` (non-numeric, zero mask), else the address
    /// (a name from the hosts/networks files unless numeric) with the mask
    /// suffix: none for a host, `/N` for a prefix, `/a.b.c.d` otherwise.
    pub fn list_text(&self, numeric: bool) -> String {
        if self.is_any() && !numeric && self.family() == Family::V4 {
            return "anywhere".to_string();
        }
        if self.family() == Family::V6 && !numeric && to_u128(self.addr) == 0 {
            return "anywhere".to_string();
        }
        let mut s = if numeric {
            ntop(self.addr)
        } else {
            names::addr_to_anyname(self.addr)
        };
        s.push_str(&mask_suffix(self.mask));
        s
    }
}

/// `inet_ntop` as glibc writes addresses: as Rust does, except that an
/// IPv4-compatible IPv6 address (96 zero bits, then a non-zero word) keeps
/// its dotted tail (`::1.2.3.4`).
pub fn ntop(a: IpAddr) -> String {
    match a {
        IpAddr::V6(v6) => {
            let w = v6.segments();
            if w[..6].iter().all(|&x| x == 0) && w[6] != 0 {
                let [.., a, b, c, d] = v6.octets();
                return format!("::{a}.{b}.{c}.{d}");
            }
            v6.to_string()
        }
        IpAddr::V4(v4) => v4.to_string(),
    }
}

/// The mask with `len` leading ones.
pub fn prefix_mask(f: Family, len: u32) -> IpAddr {
    let bits = f.bits();
    let len = len.min(bits);
    let v: u128 = if len == 0 {
        0
    } else {
        (!0u128 << (128 - len)) >> (128 - bits)
    };
    from_u128(f, v)
}

/// `xtables_ipmask_to_numeric`: "" for a host mask, "/N", or "/a.b.c.d".
pub fn mask_suffix(mask: IpAddr) -> String {
    let f = match mask {
        IpAddr::V4(_) => Family::V4,
        IpAddr::V6(_) => Family::V6,
    };
    let ones = to_u128(mask).count_ones();
    if prefix_mask(f, ones) == mask {
        if ones == f.bits() {
            String::new()
        } else {
            format!("/{ones}")
        }
    } else {
        format!("/{mask}")
    }
}

/// Parses a dotted IPv4 address the iptables way: up to four components,
/// each a C number 0..=255; fewer than four are completed with zeros
/// (`10` is `10.0.0.0`) unless it is a mask.
pub fn parse_ipv4_numeric(s: &str, is_mask: bool) -> Option<Ipv4Addr> {
    let mut b = [0u8; 4];
    let mut rest = s;
    for (i, slot) in b.iter_mut().enumerate().take(3) {
        match rest.find('.') {
            None => {
                if is_mask {
                    return None;
                }
                *slot = strtoul(rest, 0, 255)? as u8;
                let _ = i;
                return Some(Ipv4Addr::from(b));
            }
            Some(p) => {
                *slot = strtoul(&rest[..p], 0, 255)? as u8;
                rest = &rest[p + 1..];
            }
        }
    }
    b[3] = strtoul(rest, 0, 255)? as u8;
    Some(Ipv4Addr::from(b))
}

/// glibc's `inet_aton`, which `getaddrinfo` tries before the hosts file:
/// `a`, `a.b`, `a.b.c` or `a.b.c.d`, each a C number (hex `0x`, octal
/// `0`), the last part filling the remaining bytes (`4294967295`,
/// `1.300`).
pub fn inet_aton(s: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let mut vals = Vec::with_capacity(parts.len());
    for p in &parts {
        let (digits, radix) = if let Some(h) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X"))
        {
            (h, 16)
        } else if p.len() > 1 && p.starts_with('0') {
            (&p[1..], 8)
        } else {
            (*p, 10)
        };
        let bare_hex = radix == 16 && digits.is_empty();
        if p.is_empty() || bare_hex || !digits.chars().all(|c| c.is_digit(radix)) {
            return None;
        }
        vals.push(if digits.is_empty() {
            0
        } else {
            u64::from_str_radix(digits, radix).ok()?
        });
    }
    let (last, head) = vals.split_last()?;
    let mut addr: u64 = 0;
    for (i, v) in head.iter().enumerate() {
        if *v > 255 {
            return None;
        }
        addr |= v << (24 - 8 * i);
    }
    let room = 32 - 8 * head.len() as u32;
    if *last >= 1u64 << room {
        return None;
    }
    Some(Ipv4Addr::from((addr | last) as u32))
}

fn parse_mask(f: Family, m: Option<&str>) -> Result<IpAddr> {
    let Some(m) = m else {
        return Ok(prefix_mask(f, f.bits()));
    };
    match f {
        Family::V4 => {
            if let Some(a) = parse_ipv4_numeric(m, true) {
                return Ok(IpAddr::V4(a));
            }
        }
        Family::V6 => {
            if let Ok(a) = m.parse::<Ipv6Addr>() {
                return Ok(IpAddr::V6(a));
            }
        }
    }
    match strtoul(m, 0, f.bits() as u64) {
        Some(bits) => Ok(prefix_mask(f, bits as u32)),
        None => Err(Error::param(format!("invalid mask `{m}' specified"))),
    }
}

fn parse_host_network(f: Family, name: &str) -> Result<Vec<IpAddr>> {
    match f {
        Family::V4 => {
            if let Some(a) = parse_ipv4_numeric(name, false) {
                return Ok(vec![IpAddr::V4(a)]);
            }
        }
        Family::V6 => {
            if let Some(a) = name.parse::<Ipv6Addr>().ok().or_else(|| scoped_ipv6(name)) {
                return Ok(vec![IpAddr::V6(a)]);
            }
        }
    }
    if f == Family::V4 {
        if let Some(a) = names::network_by_name(name) {
            return Ok(vec![IpAddr::V4(a)]);
        }
    }
    if f == Family::V4 {
        if let Some(a) = inet_aton(name) {
            return Ok(vec![IpAddr::V4(a)]);
        }
    }
    let hosts = names::host_by_name(name, f);
    if hosts.is_empty() {
        return Err(Error::param(format!("host/network `{name}' not found")));
    }
    Ok(hosts)
}

/// An IPv6 address with a zone (`fe80::1%1`), as getaddrinfo reads it
/// (glibc's `__inet6_scopeid_pton`); the zone is dropped. A zone is a
/// decimal number below 2^32, or for a link-local address an interface
/// name: only `lo` is known to exist in every namespace.
fn scoped_ipv6(name: &str) -> Option<Ipv6Addr> {
    let (addr, zone) = name.split_once('%')?;
    let a: Ipv6Addr = addr.parse().ok()?;
    let seg = a.segments()[0];
    let link_local = seg & 0xffc0 == 0xfe80 || seg & 0xff0f == 0xff01 || seg & 0xff0f == 0xff02;
    let numeric = zone.starts_with(|c: char| c.is_ascii_digit())
        && zone.bytes().all(|b| b.is_ascii_digit())
        && zone.parse::<u64>().is_ok_and(|v| v <= u64::from(u32::MAX));
    (numeric || (link_local && zone == "lo")).then_some(a)
}

/// `xtables_ipparse_multiple`: a comma-separated list of `addr[/mask]`,
/// names resolved from the hosts and networks files (never DNS).
pub fn parse_addr_list(f: Family, text: &str) -> Result<Vec<AddrMask>> {
    let mut out = Vec::new();
    for item in text.split(',') {
        let (host, mask) = match item.rfind('/') {
            Some(p) => (&item[..p], Some(&item[p + 1..])),
            None => (item, None),
        };
        let mask = parse_mask(f, mask)?;
        let host = if to_u128(mask) == 0 {
            match f {
                Family::V4 => "0.0.0.0",
                Family::V6 => "::",
            }
        } else {
            host
        };
        for a in parse_host_network(f, host)? {
            out.push(AddrMask::new(a, mask));
        }
    }
    Ok(out)
}

/// An interface match (`-i`/`-o`): a name, possibly ending in `+` as a
/// wildcard, and the inversion flag.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Iface {
    /// The name as given (`eth0`, `eth+`); empty for "any".
    pub name: String,
    /// `!` given.
    pub invert: bool,
}

impl Iface {
    /// Whether a rule restricts this interface at all.
    pub fn is_set(&self) -> bool {
        !self.name.is_empty()
    }
    /// The text after `-i ` in a save, or `None` when nothing is printed
    /// (unset, or a bare `+` that matches every interface).
    pub fn save_text(&self) -> Option<&str> {
        if self.name.is_empty() || (self.name == "+" && !self.invert) {
            None
        } else {
            Some(&self.name)
        }
    }
    /// Whether the interface named `dev` matches (ignoring inversion).
    pub fn matches_name(&self, dev: &str) -> bool {
        match self.name.strip_suffix('+') {
            Some(prefix) => dev.starts_with(prefix),
            None => dev == self.name,
        }
    }
}

/// The warning `xtables_parse_interface` prints for '/' or ' ' in an
/// interface name, if any.
pub fn iface_warning(arg: &str) -> Option<String> {
    (arg.contains('/') || arg.contains(' ')).then(|| {
        format!(
            "Warning: weird character in interface `{arg}' ('/' and ' ' are not allowed by the kernel).\n"
        )
    })
}

/// `xtables_parse_interface`: checks the length and characters.
pub fn parse_iface(arg: &str) -> Result<String> {
    if arg.len() > 15 {
        return Err(Error::param(format!(
            "interface name `{arg}' must be shorter than IFNAMSIZ (15)"
        )));
    }
    // iptables only warns about ' ' (see `iface_warning`); ironwall
    // refuses it, as the saved rule could not be read back.
    if arg.contains(' ') {
        return Err(Error::param(format!("Invalid interface name `{arg}'")));
    }
    Ok(arg.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print() {
        let v = parse_addr_list(Family::V4, "10.11.12.13/255.0.255.0").unwrap();
        assert_eq!(v[0].save_text(), "10.0.12.0/255.0.255.0");
        let v = parse_addr_list(Family::V4, "10.11.12.13/9").unwrap();
        assert_eq!(v[0].save_text(), "10.0.0.0/9");
        let v = parse_addr_list(Family::V4, "10.137.0.16").unwrap();
        assert_eq!(v[0].list_text(true), "10.137.0.16");
        assert_eq!(v[0].save_text(), "10.137.0.16/32");
        let v = parse_addr_list(Family::V4, "1.2.3.4/0").unwrap();
        assert!(v[0].is_any());
        assert_eq!(v[0].list_text(true), "0.0.0.0/0");
        assert!(parse_addr_list(Family::V4, "1.2.3.4/33").is_err());
        let v = parse_addr_list(Family::V4, "10").unwrap();
        assert_eq!(v[0].save_text(), "10.0.0.0/32");
        let v = parse_addr_list(Family::V6, "2001:db8::1/64").unwrap();
        assert_eq!(v[0].save_text(), "2001:db8::/64");
    }
}
