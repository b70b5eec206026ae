//! ipsets, as `-m set` and `-j SET` see them (net/netfilter/ipset).
//!
//! # Contract
//! [`Sets::load`] reads what `ipset save` writes (`create NAME TYPE
//! [options]`, `add NAME ELEMENT [options]`, one a line); a line it cannot
//! read is an error naming the line, never a panic. Types: `hash:ip`,
//! `hash:net`, `hash:ip,port`, `hash:net,port`, `hash:ip,port,ip`,
//! `hash:ip,port,net`, `hash:net,net`, `bitmap:ip`, `bitmap:port` and
//! `list:set` (IPv4). Element options: `timeout`, `packets`/`bytes`,
//! `nomatch`; set options: `timeout` (the default of elements added by
//! `-j SET`), `counters`, `netmask` (bitmap:ip, hash:ip).
//!
//! Membership ([`Sets::test`], `ip_set_test`): the packet's address or
//! port per dimension from the match's `src`/`dst` flags (fewer flags
//! than the set's dimensions: no match); a port is TCP's, UDP's, SCTP's or
//! UDP-Lite's (with its protocol; a later fragment has none), ICMP's type
//! and code; nets are tried from the most specific prefix down and the
//! first element found decides: a `nomatch` element does not match
//! (`--return-nomatch` swaps the two); an expired element is not there;
//! with counters the element counts the packet (unless `!
//! --update-counters`) before `--packets-*`/`--bytes-*` are checked.
//! `list:set` matches when a member set does.
//!
//! `-j SET` ([`Sets::add`], [`Sets::del`]): the element built from the
//! packet (a host address for a net) is added (with the target's timeout,
//! else the set's; an element already there keeps its timeout unless
//! `--exist`) or deleted. Timeouts count from the packets' times; an
//! element loaded with `timeout N` expires N seconds after the first
//! packet the engine asks about.
//!
//! Not modelled: IPv6 sets, `hash:mac`, `hash:net,iface`, `hash:ip,mark`,
//! `bitmap:ip,mac`, `maxelem` (a full set), comments (read and ignored),
//! `skbprio`/`skbqueue` (no rule sees them), `netmask` of hash:net types.
//! `-j SET --map-set ... --map-mark` sets the mark from the element's
//! `skbmark`.

use crate::eval::{Ctx, Eval};
use crate::fasthash::FxHashMap;
use crate::packet::{Packet, Transport};
use ironwall_model::ext::set::{Counter, Set as SetMatch};
use ironwall_model::ext::set_tg::SetTarget;
use std::net::{IpAddr, Ipv4Addr};

/// One dimension's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Val {
    /// An address and its prefix length.
    Net(Ipv4Addr, u8),
    /// A protocol and port (ICMP: type << 8 | code); protocol 0 for a
    /// bitmap:port's bare port.
    Port(u8, u16),
}

/// What a dimension holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dim {
    /// An address (a net when `nets`).
    Ip { nets: bool },
    /// A port with its protocol (`with_proto`), or a bare port.
    Port { with_proto: bool },
}

/// One element's state.
#[derive(Debug, Clone, Default, PartialEq)]
struct Elem {
    nomatch: bool,
    /// `skbmark VALUE/MASK` (skbinfo sets).
    skbmark: Option<(u32, u32)>,
    /// When it expires (seconds), or for a loaded one its timeout left.
    expires: Option<Expiry>,
    packets: u64,
    bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expiry {
    /// Loaded with `timeout N`: N seconds from the first packet asked.
    Left(f64),
    /// At this time.
    At(f64),
}

/// One set.
#[derive(Debug, Clone, Default, PartialEq)]
struct IpSet {
    dims: Vec<Dim>,
    /// `netmask` (hash:ip, bitmap:ip): addresses stored masked.
    netmask: u8,
    /// The default timeout of added elements.
    timeout: Option<u32>,
    counters: bool,
    elems: FxHashMap<Vec<Val>, Elem>,
    /// The prefix-length tuples present, most specific first.
    cidrs: Vec<Vec<u8>>,
    /// list:set: the member sets, in order.
    members: Vec<String>,
}

/// Every set of the host, by name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sets {
    sets: FxHashMap<String, IpSet>,
    /// The time of the first packet asked (loaded timeouts count from it).
    start: Option<f64>,
}

fn mask(a: Ipv4Addr, cidr: u8) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(a) & u32::MAX.checked_shl(32 - u32::from(cidr)).unwrap_or(0))
}

/// The ICMP type/code names `ipset save` writes (ipset's `icmp.c`, as
/// ipset 7.17 prints them); `ping` and `pong` are read too.
const ICMP_NAMES: [(&str, u8, u8); 32] = [
    ("echo-reply", 0, 0),
    ("network-unreachable", 3, 0),
    ("host-unreachable", 3, 1),
    ("protocol-unreachable", 3, 2),
    ("port-unreachable", 3, 3),
    ("fragmentation-needed", 3, 4),
    ("source-route-failed", 3, 5),
    ("network-unknown", 3, 6),
    ("host-unknown", 3, 7),
    ("network-prohibited", 3, 9),
    ("host-prohibited", 3, 10),
    ("TOS-network-unreachable", 3, 11),
    ("TOS-host-unreachable", 3, 12),
    ("communication-prohibited", 3, 13),
    ("host-precedence-violation", 3, 14),
    ("precedence-cutoff", 3, 15),
    ("source-quench", 4, 0),
    ("network-redirect", 5, 0),
    ("host-redirect", 5, 1),
    ("TOS-network-redirect", 5, 2),
    ("TOS-host-redirect", 5, 3),
    ("echo-request", 8, 0),
    ("router-advertisement", 9, 0),
    ("router-solicitation", 10, 0),
    ("ttl-zero-during-transit", 11, 0),
    ("ttl-zero-during-reassembly", 11, 1),
    ("ip-header-bad", 12, 0),
    ("required-option-missing", 12, 1),
    ("timestamp-request", 13, 0),
    ("timestamp-reply", 14, 0),
    ("address-mask-request", 17, 0),
    ("address-mask-reply", 18, 0),
];

/// An ICMP element's `TYPE/CODE` or name as type << 8 | code.
fn icmp_port(text: &str) -> Option<u16> {
    let (t, c) = match text {
        "ping" => (8, 0),
        "pong" => (0, 0),
        _ => match ICMP_NAMES.iter().find(|(n, _, _)| *n == text) {
            Some(&(_, t, c)) => (t, c),
            None => {
                let (t, c) = text.split_once('/')?;
                (t.parse().ok()?, c.parse().ok()?)
            }
        },
    };
    Some(u16::from(t) << 8 | u16::from(c))
}

/// A protocol name or number of an element (`tcp:80`).
fn proto(name: &str) -> Option<u8> {
    match name {
        "tcp" => Some(6),
        "udp" => Some(17),
        "icmp" => Some(1),
        "sctp" => Some(132),
        "udplite" => Some(136),
        n => n.parse().ok(),
    }
}

impl IpSet {
    fn new(kind: &str) -> Option<IpSet> {
        let (family, dims) = kind.split_once(':')?;
        let dims = dims
            .split(',')
            .map(|d| match (family, d) {
                ("hash" | "bitmap", "ip") => Some(Dim::Ip { nets: false }),
                ("hash", "net") => Some(Dim::Ip { nets: true }),
                ("hash", "port") => Some(Dim::Port { with_proto: true }),
                ("bitmap", "port") => Some(Dim::Port { with_proto: false }),
                ("list", "set") => Some(Dim::Ip { nets: false }),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?;
        Some(IpSet {
            dims: if family == "list" { Vec::new() } else { dims },
            netmask: 32,
            ..IpSet::default()
        })
    }

    fn is_list(&self) -> bool {
        self.dims.is_empty()
    }

    /// An element's text (`10.0.0.0/8,tcp:80`) as values.
    fn parse_elem(&self, text: &str) -> Option<Vec<Val>> {
        let parts: Vec<&str> = text.split(',').collect();
        if parts.len() != self.dims.len() {
            return None;
        }
        self.dims
            .iter()
            .zip(parts)
            .map(|(d, p)| match d {
                Dim::Ip { nets } => {
                    let (a, c) = p.split_once('/').unwrap_or((p, "32"));
                    let c: u8 = c.parse().ok().filter(|c| *c <= 32)?;
                    if !nets && c != 32 {
                        return None;
                    }
                    let c = if *nets { c } else { self.netmask };
                    Some(Val::Net(mask(a.parse().ok()?, c), c))
                }
                Dim::Port { with_proto: true } => {
                    let (pr, port) = p.split_once(':').unwrap_or(("tcp", p));
                    let pr = proto(pr)?;
                    let port = if pr == 1 {
                        icmp_port(port)?
                    } else {
                        port.parse().ok()?
                    };
                    Some(Val::Port(pr, port))
                }
                Dim::Port { with_proto: false } => Some(Val::Port(0, p.parse().ok()?)),
            })
            .collect()
    }

    fn insert(&mut self, key: Vec<Val>, e: Elem) {
        let cidrs: Vec<u8> = key
            .iter()
            .zip(&self.dims)
            .filter_map(|(v, d)| match (v, d) {
                (Val::Net(_, c), Dim::Ip { nets: true }) => Some(*c),
                _ => None,
            })
            .collect();
        if !self.cidrs.contains(&cidrs) {
            self.cidrs.push(cidrs);
            self.cidrs.sort_by(|a, b| b.cmp(a));
        }
        self.elems.insert(key, e);
    }

    /// The packet's values for this set's dimensions (`None`: the
    /// packet has none, as for a later fragment's port), each address a
    /// host.
    fn values(&self, pkt: &Packet, dirs: &[bool]) -> Option<Vec<Val>> {
        self.dims
            .iter()
            .zip(dirs)
            .map(|(d, src)| match d {
                Dim::Ip { .. } => match if *src { pkt.src } else { pkt.dst } {
                    IpAddr::V4(a) => Some(Val::Net(a, 32)),
                    IpAddr::V6(_) => None,
                },
                Dim::Port { with_proto } => {
                    let (pr, port) = match &pkt.transport {
                        Transport::Tcp { spt, dpt, .. } => (6, if *src { *spt } else { *dpt }),
                        Transport::Udp { spt, dpt, lite, .. } => {
                            (if *lite { 136 } else { 17 }, if *src { *spt } else { *dpt })
                        }
                        Transport::Icmp { typ, code, .. } if *with_proto => {
                            (1, u16::from(*typ) << 8 | u16::from(*code))
                        }
                        _ => return None,
                    };
                    Some(Val::Port(if *with_proto { pr } else { 0 }, port))
                }
            })
            .collect()
    }

    /// The key of `vals` under the prefix lengths `cidrs` (and the set's
    /// netmask).
    fn key(&self, vals: &[Val], cidrs: &[u8]) -> Vec<Val> {
        let mut c = cidrs.iter();
        vals.iter()
            .zip(&self.dims)
            .map(|(v, d)| match (v, d) {
                (Val::Net(a, _), Dim::Ip { nets: true }) => {
                    let n = c.next().copied().unwrap_or(32);
                    Val::Net(mask(*a, n), n)
                }
                (Val::Net(a, _), _) => Val::Net(mask(*a, self.netmask), self.netmask),
                (p, _) => *p,
            })
            .collect()
    }
}

/// `set_match_v4`: membership, inverted by `! --match-set`.
impl Eval for SetMatch {
    fn eval(&self, pkt: &Packet, cx: &Ctx) -> bool {
        let found = cx
            .sets
            .as_ref()
            .is_some_and(|s| s.borrow_mut().test(self, pkt, cx.now));
        found != self.invert
    }
}

/// `set_target_v3`: `--add-set`, then `--del-set`, then `--map-set`:
/// the packet's new mark when `--map-mark` maps it from the element found
/// (`(mark & ~mask) ^ value`; `--map-prio` and `--map-queue` change
/// nothing a rule can see).
pub fn target(t: &SetTarget, pkt: &Packet, cx: &Ctx) -> Option<u32> {
    let sets = cx.sets.as_ref()?;
    let mut sets = sets.borrow_mut();
    if let Some(a) = &t.add {
        sets.add(&a.name, &a.dirs, pkt, (cx.now, t.timeout, t.exist));
    }
    if let Some(d) = &t.del {
        sets.del(&d.name, &d.dirs, pkt);
    }
    let map = t.map.as_ref().filter(|_| t.map_mark)?;
    let m = SetMatch {
        name: map.name.clone(),
        dirs: map.dirs.clone(),
        ..SetMatch::default()
    };
    let (value, mask) = sets.lookup(&m, pkt, cx.now)?;
    Some((pkt.mark & !mask) ^ value)
}

/// A counter condition (`ip_set_match_counter`).
fn counter_ok(c: Option<Counter>, v: u64) -> bool {
    match c {
        None => true,
        Some(Counter::Eq(n)) => v == n,
        Some(Counter::Ne(n)) => v != n,
        Some(Counter::Lt(n)) => v < n,
        Some(Counter::Gt(n)) => v > n,
    }
}

impl Sets {
    /// Reads an `ipset save` text (see the module docs).
    pub fn load(&mut self, text: &str) -> Result<(), String> {
        for (n, line) in text.lines().enumerate() {
            let words: Vec<&str> = line.split_whitespace().collect();
            let bad = |what: &str| format!("sets line {}: {what}: `{line}'", n + 1);
            match words.as_slice() {
                [] => {}
                ["create" | "-N", name, kind, opts @ ..] => {
                    let mut s = IpSet::new(kind).ok_or_else(|| bad("set type not modelled"))?;
                    let mut it = opts.iter();
                    while let Some(o) = it.next() {
                        match *o {
                            "family" if it.next() != Some(&"inet") => {
                                return Err(bad("only family inet is modelled"));
                            }
                            "timeout" => {
                                s.timeout = Some(
                                    it.next()
                                        .and_then(|v| v.parse().ok())
                                        .ok_or_else(|| bad("bad timeout"))?,
                                )
                            }
                            "netmask" => {
                                s.netmask = it
                                    .next()
                                    .and_then(|v| v.parse().ok())
                                    .filter(|m| *m <= 32)
                                    .ok_or_else(|| bad("bad netmask"))?
                            }
                            "counters" => s.counters = true,
                            "hashsize" | "maxelem" | "range" | "size" | "bucketsize"
                            | "initval" | "markmask" => {
                                it.next();
                            }
                            _ => {}
                        }
                    }
                    self.sets.insert((*name).to_string(), s);
                }
                ["add" | "-A", name, elem, opts @ ..] => {
                    let s = self.sets.get_mut(*name).ok_or_else(|| bad("no such set"))?;
                    if s.is_list() {
                        s.members.push((*elem).to_string());
                        continue;
                    }
                    let key = s.parse_elem(elem).ok_or_else(|| bad("bad element"))?;
                    let mut e = Elem::default();
                    let mut it = opts.iter();
                    while let Some(o) = it.next() {
                        let mut num = || {
                            it.next()
                                .and_then(|v| v.parse::<u64>().ok())
                                .ok_or_else(|| bad("bad number"))
                        };
                        match *o {
                            "timeout" => e.expires = Some(Expiry::Left(num()? as f64)),
                            "packets" => e.packets = num()?,
                            "bytes" => e.bytes = num()?,
                            "nomatch" => e.nomatch = true,
                            "skbmark" => {
                                let v = it.next().ok_or_else(|| bad("bad skbmark"))?;
                                let (val, mask) = v.split_once('/').unwrap_or((v, "0xffffffff"));
                                let hex = |t: &str| {
                                    u32::from_str_radix(t.trim_start_matches("0x"), 16)
                                        .map_err(|_| bad("bad skbmark"))
                                };
                                e.skbmark = Some((hex(val)?, hex(mask)?));
                            }
                            _ => {}
                        }
                    }
                    s.insert(key, e);
                }
                _ => return Err(bad("expected create or add")),
            }
        }
        Ok(())
    }

    /// The sets' names (sorted).
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.sets.keys().cloned().collect();
        v.sort();
        v
    }

    /// The time base of loaded timeouts.
    fn start(&mut self, now: f64) -> f64 {
        *self.start.get_or_insert(now)
    }

    /// `-m set` (see the module docs).
    pub fn test(&mut self, m: &SetMatch, pkt: &Packet, now: f64) -> bool {
        self.lookup(m, pkt, now).is_some()
    }

    /// [`Sets::test`], with the found element's `skbmark` (value, mask;
    /// 0 and 0 without one).
    fn lookup(&mut self, m: &SetMatch, pkt: &Packet, now: f64) -> Option<(u32, u32)> {
        let start = self.start(now);
        self.test_in(&m.name, m, pkt, now, start, 0)
    }

    fn test_in(
        &mut self,
        name: &str,
        m: &SetMatch,
        pkt: &Packet,
        now: f64,
        start: f64,
        depth: u8,
    ) -> Option<(u32, u32)> {
        let s = self.sets.get_mut(name)?;
        if s.is_list() {
            if depth > 0 {
                return None;
            }
            let members = s.members.clone();
            return members
                .iter()
                .find_map(|n| self.test_in(n, m, pkt, now, start, depth + 1));
        }
        if m.dirs.len() < s.dims.len() {
            return None;
        }
        let vals = s.values(pkt, &m.dirs)?;
        let cidrs = s.cidrs.clone();
        for c in &cidrs {
            let key = s.key(&vals, c);
            let counters = s.counters;
            let Some(e) = s.elems.get_mut(&key) else {
                continue;
            };
            let expired = match e.expires {
                Some(Expiry::At(t)) => t <= now,
                Some(Expiry::Left(l)) => start + l <= now,
                None => false,
            };
            if expired {
                continue;
            }
            if e.nomatch {
                return m.return_nomatch.then_some((0, 0));
            }
            if counters {
                if !m.skip_counters {
                    e.packets += 1;
                    e.bytes += u64::from(pkt.len);
                }
                if !(counter_ok(m.packets, e.packets) && counter_ok(m.bytes, e.bytes)) {
                    return None;
                }
            }
            return (!m.return_nomatch).then_some(e.skbmark.unwrap_or((0, 0)));
        }
        None
    }

    /// `-j SET --add-set`: adds the packet's element (see the module docs).
    pub fn add(
        &mut self,
        name: &str,
        dirs: &[bool],
        pkt: &Packet,
        (now, timeout, exist): (f64, Option<u32>, bool),
    ) {
        let Some(s) = self.sets.get_mut(name) else {
            return;
        };
        if s.is_list() || dirs.len() < s.dims.len() {
            return;
        }
        let Some(vals) = s.values(pkt, dirs) else {
            return;
        };
        let key = s.key(&vals, &[]);
        let expires = timeout
            .or(s.timeout)
            .map(|t| Expiry::At(now + f64::from(t)));
        match s.elems.get_mut(&key) {
            Some(e) if exist => {
                e.expires = expires;
                e.nomatch = false;
            }
            Some(_) => {}
            None => s.insert(
                key,
                Elem {
                    expires,
                    ..Elem::default()
                },
            ),
        }
    }

    /// `-j SET --del-set`: deletes the packet's element.
    pub fn del(&mut self, name: &str, dirs: &[bool], pkt: &Packet) {
        let Some(s) = self.sets.get_mut(name) else {
            return;
        };
        if s.is_list() || dirs.len() < s.dims.len() {
            return;
        }
        if let Some(vals) = s.values(pkt, dirs) {
            let key = s.key(&vals, &[]);
            s.elems.remove(&key);
        }
    }

    /// The elements of a set as `ipset save` writes them (sorted), for
    /// comparison: `add NAME ELEMENT`.
    pub fn elements(&self, name: &str) -> Vec<String> {
        let Some(s) = self.sets.get(name) else {
            return Vec::new();
        };
        let mut v: Vec<String> = s
            .elems
            .keys()
            .map(|k| {
                let parts: Vec<String> = k
                    .iter()
                    .zip(&s.dims)
                    .map(|(v, d)| match (v, d) {
                        (Val::Net(a, c), Dim::Ip { nets: true }) if *c != 32 => format!("{a}/{c}"),
                        (Val::Net(a, _), _) => a.to_string(),
                        (Val::Port(0, p), _) => p.to_string(),
                        (Val::Port(1, p), _) => {
                            let (t, c) = ((p >> 8) as u8, (p & 0xff) as u8);
                            match ICMP_NAMES.iter().find(|n| (n.1, n.2) == (t, c)) {
                                Some((n, _, _)) => format!("icmp:{n}"),
                                None => format!("icmp:{t}/{c}"),
                            }
                        }
                        (Val::Port(pr, p), _) => {
                            let name = match pr {
                                6 => "tcp".to_string(),
                                17 => "udp".to_string(),
                                132 => "sctp".to_string(),
                                136 => "udplite".to_string(),
                                n => n.to_string(),
                            };
                            format!("{name}:{p}")
                        }
                    })
                    .collect();
                format!("add {name} {}", parts.join(","))
            })
            .collect();
        v.sort();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkt(line: &str) -> Packet {
        Packet::parse_line(line).unwrap()
    }

    fn matcher(name: &str, dirs: &[bool]) -> SetMatch {
        SetMatch {
            name: name.into(),
            dirs: dirs.to_vec(),
            ..SetMatch::default()
        }
    }

    const SAVE: &str = "create nets hash:net family inet hashsize 1024 maxelem 65536
add nets 10.0.0.0/8
add nets 10.1.0.0/16 nomatch
add nets 192.0.2.7
create svc hash:ip,port family inet hashsize 1024 maxelem 65536 counters
add svc 10.0.0.1,tcp:22 packets 0 bytes 0
add svc 10.0.0.1,udp:53 packets 5 bytes 300
add svc 10.0.0.1,icmp:echo-request packets 0 bytes 0
create both list:set size 8
add both nets
add both svc
";

    /// The most specific net decides (nomatch inside a match); ports
    /// carry their protocol; counters count before they are compared.
    #[test]
    fn membership() {
        let mut s = Sets::default();
        s.load(SAVE).unwrap();
        let from = |src: &str| {
            pkt(&format!(
                "SRC={src} DST=10.0.0.1 LEN=40 PROTO=TCP SPT=1000 DPT=22"
            ))
        };
        let nets = matcher("nets", &[true]);
        assert!(s.test(&nets, &from("10.2.3.4"), 0.0));
        assert!(!s.test(&nets, &from("10.1.3.4"), 0.0));
        assert!(s.test(&nets, &from("192.0.2.7"), 0.0));
        assert!(!s.test(&nets, &from("192.0.2.8"), 0.0));
        let back = SetMatch {
            return_nomatch: true,
            ..nets.clone()
        };
        assert!(s.test(&back, &from("10.1.3.4"), 0.0));
        assert!(!s.test(&back, &from("10.2.3.4"), 0.0));
        let svc = SetMatch {
            packets: Some(Counter::Gt(1)),
            ..matcher("svc", &[false, false])
        };
        assert!(!s.test(&svc, &from("9.9.9.9"), 0.0));
        assert!(s.test(&svc, &from("9.9.9.9"), 0.0));
        assert!(!s.test(&matcher("svc", &[false]), &from("9.9.9.9"), 0.0));
        let udp = pkt("SRC=1.1.1.1 DST=10.0.0.1 PROTO=UDP SPT=5 DPT=53");
        assert!(s.test(&matcher("svc", &[false, false]), &udp, 0.0));
        let ping = pkt("SRC=1.1.1.1 DST=10.0.0.1 PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=1");
        assert!(s.test(&matcher("svc", &[false, false]), &ping, 0.0));
        assert!(s
            .elements("svc")
            .contains(&"add svc 10.0.0.1,icmp:echo-request".to_string()));
        assert!(s.test(&matcher("both", &[true]), &from("10.2.3.4"), 0.0));
        assert!(s.load("create x hash:mac\n").is_err());
        assert!(s.load("add nope 1.2.3.4\n").is_err());
        assert!(s.load("add nets 1.2.3.4/33\n").is_err());
    }

    /// -j SET adds with a timeout; --exist refreshes it; deletes.
    #[test]
    fn add_and_del() {
        let mut s = Sets::default();
        s.load("create seen hash:ip family inet timeout 10\n")
            .unwrap();
        let p = pkt("SRC=10.9.9.9 DST=10.0.0.1 PROTO=UDP SPT=5 DPT=53");
        let m = matcher("seen", &[true]);
        s.add("seen", &[true], &p, (1.0, None, false));
        assert_eq!(s.elements("seen"), ["add seen 10.9.9.9"]);
        assert!(s.test(&m, &p, 10.5));
        s.add("seen", &[true], &p, (9.0, None, false));
        assert!(!s.test(&m, &p, 11.5));
        s.add("seen", &[true], &p, (9.0, Some(5), true));
        assert!(s.test(&m, &p, 13.5));
        s.del("seen", &[true], &p);
        assert!(!s.test(&m, &p, 13.5));
    }

    /// -j SET --map-set --map-mark: (mark & ~mask) ^ value of the element
    /// found; none found, no change.
    #[test]
    fn map_mark() {
        use ironwall_model::ext::set_tg::SetRef;
        let mut s = Sets::default();
        s.load("create m hash:ip family inet skbinfo\nadd m 10.0.0.9 skbmark 0x10/0xff\n")
            .unwrap();
        let cx = Ctx {
            sets: Some(std::rc::Rc::new(std::cell::RefCell::new(s))),
            ..Ctx::default()
        };
        let t = SetTarget {
            map: Some(SetRef {
                name: "m".into(),
                dirs: vec![true],
            }),
            map_mark: true,
            ..SetTarget::default()
        };
        let mut p = pkt("SRC=10.0.0.9 DST=10.0.0.1 PROTO=UDP SPT=1 DPT=2");
        p.mark = 0x1234;
        assert_eq!(target(&t, &p, &cx), Some(0x1210));
        p.src = "10.0.0.8".parse().unwrap();
        assert_eq!(target(&t, &p, &cx), None);
    }
}
