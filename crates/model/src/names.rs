//! Names from the system's files, as iptables resolves them when DNS is not
//! available: ports from `/etc/services`, protocols from `/etc/protocols`,
//! hosts from `/etc/hosts`, networks from `/etc/networks`. ironwall never
//! makes a DNS query. The files are read once per process; a missing file
//! resolves nothing.

use crate::addr::{parse_ipv4_numeric, Family};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::OnceLock;

struct Entry {
    names: Vec<String>,
    key: String,
}

fn read_table(path: &str) -> Vec<Entry> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let l = l.split('#').next().unwrap_or("");
            let mut it = l.split_whitespace();
            let first = it.next()?;
            let second = it.next()?;
            let mut names = vec![first.to_string()];
            names.extend(it.map(str::to_string));
            Some(Entry {
                names,
                key: second.to_string(),
            })
        })
        .collect()
}

fn services() -> &'static [Entry] {
    static S: OnceLock<Vec<Entry>> = OnceLock::new();
    S.get_or_init(|| read_table("/etc/services"))
}

fn protocols() -> &'static [Entry] {
    static S: OnceLock<Vec<Entry>> = OnceLock::new();
    S.get_or_init(|| read_table("/etc/protocols"))
}

fn networks() -> &'static [Entry] {
    static S: OnceLock<Vec<Entry>> = OnceLock::new();
    S.get_or_init(|| read_table("/etc/networks"))
}

/// `/etc/hosts`: address first, then names.
fn hosts() -> &'static [(IpAddr, Vec<String>)] {
    static S: OnceLock<Vec<(IpAddr, Vec<String>)>> = OnceLock::new();
    S.get_or_init(|| {
        let text = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
        text.lines()
            .filter_map(|l| {
                let l = l.split('#').next().unwrap_or("");
                let mut it = l.split_whitespace();
                let addr: IpAddr = it.next()?.parse().ok()?;
                let names: Vec<String> = it.map(str::to_string).collect();
                (!names.is_empty()).then_some((addr, names))
            })
            .collect()
    })
}

/// `getservbyname(name, proto)`: the port of a service name or alias.
pub fn service_port(name: &str, proto: &str) -> Option<u16> {
    services().iter().find_map(|e| {
        let (port, p) = e.key.split_once('/')?;
        if p == proto && e.names.iter().any(|n| n == name) {
            port.parse().ok()
        } else {
            None
        }
    })
}

/// `getservbyport(port, proto)`: the first service name for a port.
pub fn service_name(port: u16, proto: &str) -> Option<&'static str> {
    services().iter().find_map(|e| {
        let (p, pr) = e.key.split_once('/')?;
        (pr == proto && p.parse::<u16>().ok() == Some(port)).then(|| e.names[0].as_str())
    })
}

/// `getprotobyname`: name or alias to number.
pub fn protocol_number(name: &str) -> Option<u8> {
    protocols()
        .iter()
        .find(|e| e.names.iter().any(|n| n == name))
        .and_then(|e| e.key.parse().ok())
}

/// `getprotobynumber`: the official name.
pub fn protocol_name(num: u8) -> Option<&'static str> {
    protocols()
        .iter()
        .find(|e| e.key.parse::<u8>().ok() == Some(num))
        .map(|e| e.names[0].as_str())
}

/// `getnetbyname` for IPv4.
pub fn network_by_name(name: &str) -> Option<Ipv4Addr> {
    networks()
        .iter()
        .find(|e| e.names.iter().any(|n| n == name))
        .and_then(|e| parse_network_number(&e.key))
}

fn parse_network_number(s: &str) -> Option<Ipv4Addr> {
    // inet_network: "127" is 0.0.0.127; "169.254.0.0" as written.
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() == 4 {
        return parse_ipv4_numeric(s, true);
    }
    let mut v: u32 = 0;
    for p in &parts {
        v = (v << 8) | crate::num::strtoul(p, 0, 255)? as u32;
    }
    Some(Ipv4Addr::from(v))
}

/// Host names for a name, from `/etc/hosts` (first match per address).
pub fn host_by_name(name: &str, f: Family) -> Vec<IpAddr> {
    let mut out = Vec::new();
    for (a, names) in hosts() {
        let fam_ok = matches!(
            (f, a),
            (Family::V4, IpAddr::V4(_)) | (Family::V6, IpAddr::V6(_))
        );
        if fam_ok && names.iter().any(|n| n == name) && !out.contains(a) {
            out.push(*a);
        }
    }
    out
}

/// `xtables_ipaddr_to_anyname`: a host name, else (IPv4) a network name,
/// else the address in numbers.
pub fn addr_to_anyname(a: IpAddr) -> String {
    if let Some((_, names)) = hosts().iter().find(|(h, _)| *h == a) {
        return names[0].clone();
    }
    if let IpAddr::V4(v4) = a {
        if let Some(e) = networks()
            .iter()
            .find(|e| parse_network_number(&e.key) == Some(v4))
        {
            return e.names[0].clone();
        }
    }
    crate::addr::ntop(a)
}

/// `/etc/passwd` or `/etc/group`: (name, id) in file order.
fn id_table(path: &str) -> Vec<(String, u32)> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let mut it = l.split(':');
            let name = it.next()?;
            let id = it.nth(1)?.parse().ok()?;
            (!name.is_empty()).then(|| (name.to_string(), id))
        })
        .collect()
}

fn users() -> &'static [(String, u32)] {
    static S: OnceLock<Vec<(String, u32)>> = OnceLock::new();
    S.get_or_init(|| id_table("/etc/passwd"))
}

fn groups() -> &'static [(String, u32)] {
    static S: OnceLock<Vec<(String, u32)>> = OnceLock::new();
    S.get_or_init(|| id_table("/etc/group"))
}

fn id_of(table: &[(String, u32)], name: &str) -> Option<u32> {
    table.iter().find(|(n, _)| n == name).map(|(_, id)| *id)
}

fn name_of(table: &'static [(String, u32)], id: u32) -> Option<&'static str> {
    table
        .iter()
        .find(|(_, i)| *i == id)
        .map(|(n, _)| n.as_str())
}

/// `getpwnam`: a user name to its uid, from `/etc/passwd`.
pub fn user_id(name: &str) -> Option<u32> {
    id_of(users(), name)
}

/// `getpwuid`: the first user name with this uid.
pub fn user_name(uid: u32) -> Option<&'static str> {
    name_of(users(), uid)
}

/// `getgrnam`: a group name to its gid, from `/etc/group`.
pub fn group_id(name: &str) -> Option<u32> {
    id_of(groups(), name)
}

/// `getgrgid`: the first group name with this gid.
pub fn group_name(gid: u32) -> Option<&'static str> {
    name_of(groups(), gid)
}
