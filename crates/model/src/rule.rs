//! A rule: the IP part (`-s -d -i -o -p -f`), the matches in order, the
//! target, and the counters; with the save text and the `-L` columns as
//! iptables prints them.

use crate::addr::{AddrMask, Family, Iface};
use crate::ext::Loaded;
use crate::names;

/// Packet and byte counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Counters {
    /// Packets.
    pub packets: u64,
    /// Bytes.
    pub bytes: u64,
}

/// The fixed part of a rule, like the kernel's `struct ipt_ip`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IpSpec {
    /// Family of the addresses.
    pub family: Family,
    /// `-s`.
    pub src: AddrMask,
    /// `! -s`.
    pub src_inv: bool,
    /// `-d`.
    pub dst: AddrMask,
    /// `! -d`.
    pub dst_inv: bool,
    /// `-i`.
    pub iniface: Iface,
    /// `-o`.
    pub outiface: Iface,
    /// `-p` (0 for all).
    pub proto: u8,
    /// `! -p`.
    pub proto_inv: bool,
    /// `-f` given.
    pub frag: bool,
    /// `! -f`.
    pub frag_inv: bool,
}

impl IpSpec {
    /// Matches every packet.
    pub fn any(family: Family) -> Self {
        IpSpec {
            family,
            src: AddrMask::any(family),
            src_inv: false,
            dst: AddrMask::any(family),
            dst_inv: false,
            iniface: Iface::default(),
            outiface: Iface::default(),
            proto: 0,
            proto_inv: false,
            frag: false,
            frag_inv: false,
        }
    }
}

/// The protocols iptables names itself (`xtables_chain_protos`), in order.
pub const CHAIN_PROTOS: &[(&str, u8)] = &[
    ("tcp", 6),
    ("sctp", 132),
    ("udp", 17),
    ("udplite", 136),
    ("icmp", 1),
    ("ipv6-icmp", 58),
    ("icmpv6", 58),
    ("esp", 50),
    ("ah", 51),
    ("mobility-header", 135),
    ("ipv6-mh", 135),
    ("mh", 135),
    ("all", 0),
];

/// `proto_to_name`: the built-in names first, then (unless `nolookup`)
/// `/etc/protocols`.
pub fn proto_to_name(proto: u8, nolookup: bool) -> Option<&'static str> {
    if let Some((n, _)) = CHAIN_PROTOS.iter().find(|(_, p)| *p == proto) {
        return Some(n);
    }
    if proto != 0 && !nolookup {
        return names::protocol_name(proto);
    }
    None
}

/// Where a rule sends a matching packet.
#[derive(Debug, Clone)]
pub enum Target {
    /// No `-j`: the rule only counts.
    None,
    /// `ACCEPT`, `DROP`, `RETURN` or `QUEUE` (the standard target).
    Verdict(&'static str),
    /// `-j CHAIN`.
    Jump(String),
    /// `-g CHAIN`.
    Goto(String),
    /// An extension target (`-j LOG ...`).
    Ext(Loaded),
}

/// The standard verdict names.
pub const VERDICTS: &[&str] = &["ACCEPT", "DROP", "QUEUE", "RETURN"];

impl Target {
    /// The name in the `-L` target column (empty for none).
    pub fn name(&self) -> &str {
        match self {
            Target::None => "",
            Target::Verdict(v) => v,
            Target::Jump(c) | Target::Goto(c) => c,
            Target::Ext(l) => l.def.name,
        }
    }
    /// The user chain this target jumps or goes to, if any.
    pub fn chain(&self) -> Option<&str> {
        match self {
            Target::Jump(c) | Target::Goto(c) => Some(c),
            _ => None,
        }
    }
}

/// A rule in a chain.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The IP part.
    pub ip: IpSpec,
    /// The matches, in command-line order.
    pub matches: Vec<Loaded>,
    /// The target.
    pub target: Target,
    /// The counters.
    pub counters: Counters,
}

impl Rule {
    /// The rule text as `iptables-save` prints it after `-A CHAIN`,
    /// with each piece's leading space; `counters` adds `-c P B` before
    /// the target as `iptables -v -S` does.
    pub fn save_text(&self, counters: bool) -> String {
        let ip = &self.ip;
        let mut s = String::new();
        save_addr(&mut s, 's', &ip.src, ip.src_inv);
        save_addr(&mut s, 'd', &ip.dst, ip.dst_inv);
        for (letter, iface) in [('i', &ip.iniface), ('o', &ip.outiface)] {
            if let Some(name) = iface.save_text() {
                if iface.invert {
                    s.push_str(" !");
                }
                s.push_str(&format!(" -{letter} {name}"));
            }
        }
        if ip.proto != 0 {
            if ip.proto_inv {
                s.push_str(" !");
            }
            match proto_to_name(ip.proto, false) {
                Some(n) => s.push_str(&format!(" -p {n}")),
                None => s.push_str(&format!(" -p {}", ip.proto)),
            }
        }
        if ip.frag {
            if ip.frag_inv {
                s.push_str(" !");
            }
            s.push_str(" -f");
        }
        for m in &self.matches {
            s.push_str(" -m ");
            s.push_str(m.def.name);
            m.ext.save(&mut s, ip);
        }
        if counters {
            s.push_str(&format!(
                " -c {} {}",
                self.counters.packets, self.counters.bytes
            ));
        }
        match &self.target {
            Target::None => {}
            Target::Verdict(v) => s.push_str(&format!(" -j {v}")),
            Target::Jump(c) => s.push_str(&format!(" -j {c}")),
            Target::Goto(c) => s.push_str(&format!(" -g {c}")),
            Target::Ext(l) => {
                s.push_str(" -j ");
                s.push_str(l.def.name);
                l.ext.save(&mut s, ip);
            }
        }
        s
    }

    /// The identity of a rule for `-D` by specification and `-C`: the save
    /// text without counters.
    pub fn same_as(&self, other: &Rule) -> bool {
        self.save_text(false) == other.save_text(false)
    }
}

fn save_addr(s: &mut String, letter: char, a: &AddrMask, invert: bool) {
    if a.is_any() && !invert && a.addr == a.family().unspecified() {
        return;
    }
    if invert {
        s.push_str(" !");
    }
    s.push_str(&format!(" -{letter} {}", a.save_text()));
}
