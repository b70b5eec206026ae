//! Match evaluators: one per model extension the engine understands,
//! compiled from the model's parsed state by downcasting
//! ([`compile`]). An extension without an evaluator is an error, never a
//! silent pass.

use crate::conntrack::{status, CtState, CtView, Tuple};
use crate::fasthash::FxHashMap;
use crate::packet::{Packet, Transport};
use ironwall_model::ext::addrtype::Addrtype;
use ironwall_model::ext::comment::Comment;
use ironwall_model::ext::conntrack::{Conntrack, CtAddr, CtPorts};
use ironwall_model::ext::icmp::Icmp;
use ironwall_model::ext::iprange::Iprange;
use ironwall_model::ext::limit::Limit;
use ironwall_model::ext::mac::Mac;
use ironwall_model::ext::mark::Mark;
use ironwall_model::ext::multiport::{Multiport, Side};
use ironwall_model::ext::owner::Owner;
use ironwall_model::ext::physdev::Physdev;
use ironwall_model::ext::recent::Recent;
use ironwall_model::ext::rpfilter::Rpfilter;
use ironwall_model::ext::sctp::Sctp;
use ironwall_model::ext::set::Set as SetMatch;
use ironwall_model::ext::tcp::TcpUdp;
use ironwall_model::ext::Loaded;
use std::cell::RefCell;
use std::net::IpAddr;
use std::rc::Rc;

/// What a match may read besides the packet: its connection.
#[derive(Debug, Clone, PartialEq)]
pub struct Ctx {
    /// The packet's conntrack state and connection.
    pub ct: CtView,
    /// The time, seconds (for `limit`).
    pub now: f64,
    /// The routing types (`RTN_*`) of the source and destination
    /// addresses (for `addrtype`), as the host sees them.
    pub addr_types: (u8, u8),
    /// The socket that sent the packet (for `owner`).
    pub sock: Sock,
    /// The reverse route of the source (for `rpfilter`): its routing type
    /// and whether it leaves by the packet's input interface.
    pub reverse: (u8, bool),
    /// The `recent` lists (shared by every rule of an engine); `None`
    /// gives each evaluation an empty, forgotten list.
    pub recent: Option<Rc<RefCell<RecentLists>>>,
    /// The host's ipsets (shared by every rule of an engine); `None`: no
    /// set holds anything.
    pub sets: Option<Rc<RefCell<crate::ipset::Sets>>>,
}

/// The local socket a packet was sent from, as `owner` sees it
/// (`skb_to_full_sk`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sock {
    /// None: arriving and forwarded packets, REJECT's answers.
    None,
    /// A kernel control socket without a file (resets from closed ports,
    /// ICMP errors and echo replies).
    Kernel,
    /// A process's socket: uid and gid.
    User(u32, u32),
}

/// The address lists of `-m recent` by name (`recent_table`): per masked
/// address its last [`RECENT_STAMPS`] times and TTL.
#[derive(Debug, Default, PartialEq)]
pub struct RecentLists(FxHashMap<String, FxHashMap<IpAddr, RecentEntry>>);

/// `ip_pkt_list_tot`: the times kept per address (module default 20).
pub const RECENT_STAMPS: usize = 20;

/// One address of a `recent` list.
#[derive(Debug, Clone, PartialEq)]
pub struct RecentEntry {
    /// Times seen, oldest first.
    pub stamps: Vec<f64>,
    /// The TTL of the last packet that set or updated it.
    pub ttl: u8,
}

impl Default for Ctx {
    fn default() -> Self {
        Ctx::at(0.0)
    }
}

impl Ctx {
    /// A packet without a connection (yet), at time `now`.
    pub fn at(now: f64) -> Ctx {
        Ctx {
            ct: CtView::none(CtState::Invalid),
            now,
            addr_types: (RTN_UNICAST, RTN_UNICAST),
            reverse: (RTN_UNICAST, true),
            sock: Sock::None,
            recent: None,
            sets: None,
        }
    }
}

/// What the engine needs of a match: does it hold for this packet.
pub trait Eval: std::fmt::Debug {
    /// True when the match holds.
    fn eval(&self, pkt: &Packet, cx: &Ctx) -> bool;

    /// True when the match drops the packet outright (`hotdrop`: an
    /// xtables match that cannot read the header it needs), before any
    /// counter of the rule.
    fn hotdrop(&self, _pkt: &Packet) -> bool {
        false
    }
}

/// The compile error for an extension the engine does not model yet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the engine does not model the `{0}` extension yet")]
pub struct Unsupported(pub String);

/// A tcp/udp match and whether it is native ([`native`], decided once).
#[derive(Debug)]
struct TcpUdpEval(TcpUdp, bool);

/// Whether iptables-nft 1.8.9 turns this tcp/udp match into native nft
/// expressions (`add_nft_tcp`/`add_nft_udp`): yes unless it tests a TCP
/// option or is empty (`-m tcp` alone), which stay the xtables match.
fn native(m: &TcpUdp) -> bool {
    let full = (0, 0xFFFF);
    let empty = m.spts == full
        && m.dpts == full
        && !m.spts_inv
        && !m.dpts_inv
        && m.flg_mask == 0
        && m.flg_cmp == 0
        && !m.flags_inv
        && m.option == 0
        && !m.option_inv;
    !empty && m.option == 0 && !m.option_inv
}

/// The native expressions: a payload load past the packet's end makes the
/// rule not match (never a drop). `--tcp-flags` with mask 0 is left out,
/// whatever the comparison or inversion; a port range 0:65535 is left out
/// even inverted; a single source and a single destination port with the
/// same inversion are one 4-byte comparison, so inverted they mean "not
/// both" (not the xtables "neither").
fn native_eval(m: &TcpUdp, pkt: &Packet, spt: u16, dpt: u16, flags: u8) -> bool {
    let l4 = pkt.transport_len();
    let in_range = |p: u16, r: (u16, u16), inv: bool| (p >= r.0 && p <= r.1) != inv;
    if m.tcp && m.flg_mask != 0 && (l4 < 14 || ((flags & m.flg_mask == m.flg_cmp) == m.flags_inv)) {
        return false;
    }
    let (s, d) = (m.spts, m.dpts);
    if s.0 != 0 && s.0 == s.1 && d.0 != 0 && d.0 == d.1 && m.spts_inv == m.dpts_inv {
        return l4 >= 4 && ((spt == s.0 && dpt == d.0) != m.spts_inv);
    }
    if (s.0 != 0 || s.1 < 0xFFFF) && (l4 < 2 || !in_range(spt, s, m.spts_inv)) {
        return false;
    }
    if (d.0 != 0 || d.1 < 0xFFFF) && (l4 < 4 || !in_range(dpt, d, m.dpts_inv)) {
        return false;
    }
    true
}

impl Eval for TcpUdpEval {
    fn eval(&self, pkt: &Packet, _cx: &Ctx) -> bool {
        let m = &self.0;
        let in_range = |p: u16, r: (u16, u16), inv: bool| (p >= r.0 && p <= r.1) != inv;
        match (&pkt.transport, m.tcp) {
            (
                Transport::Tcp {
                    spt,
                    dpt,
                    flags,
                    options,
                    ..
                },
                true,
            ) => {
                let fl = (*flags & 0xFF) as u8;
                if self.1 {
                    return native_eval(m, pkt, *spt, *dpt, fl);
                }
                let option_ok =
                    m.option == 0 || (tcp_has_option(options, m.option) != m.option_inv);
                in_range(*spt, m.spts, m.spts_inv)
                    && in_range(*dpt, m.dpts, m.dpts_inv)
                    && ((fl & m.flg_mask == m.flg_cmp) != m.flags_inv)
                    && option_ok
            }
            (Transport::Udp { spt, dpt, .. }, false) => {
                if self.1 {
                    return native_eval(m, pkt, *spt, *dpt, 0);
                }
                in_range(*spt, m.spts, m.spts_inv) && in_range(*dpt, m.dpts, m.dpts_inv)
            }
            _ => false,
        }
    }

    /// The xtables match drops a packet whose header it cannot read.
    fn hotdrop(&self, pkt: &Packet) -> bool {
        let need = match (&pkt.transport, self.0.tcp) {
            (Transport::Tcp { .. }, true) => 20,
            (Transport::Udp { .. }, false) => 8,
            _ => return false,
        };
        !self.1 && pkt.transport_len() < need
    }
}

/// Whether TCP option `kind` appears in the option bytes.
pub(crate) fn tcp_has_option(opts: &[u8], kind: u8) -> bool {
    let mut i = 0;
    while i < opts.len() {
        match opts[i] {
            0 => return kind == 0,
            1 => {
                if kind == 1 {
                    return true;
                }
                i += 1;
            }
            k => {
                if k == kind {
                    return true;
                }
                let len = opts.get(i + 1).copied().unwrap_or(0) as usize;
                i += len.max(2);
            }
        }
    }
    false
}

#[derive(Debug)]
struct Always;

impl Eval for Always {
    fn eval(&self, _pkt: &Packet, _cx: &Ctx) -> bool {
        true
    }
}

impl Eval for Icmp {
    /// The xtables icmp match drops a packet without a whole 8-byte ICMP
    /// header.
    fn hotdrop(&self, pkt: &Packet) -> bool {
        matches!(pkt.transport, Transport::Icmp { .. }) && pkt.transport_len() < 8
    }

    fn eval(&self, pkt: &Packet, _cx: &Ctx) -> bool {
        match &pkt.transport {
            Transport::Icmp { typ, code, .. } => {
                let hit = self.icmp_type == 0xFF
                    || (*typ == self.icmp_type && *code >= self.codes.0 && *code <= self.codes.1);
                hit != self.invert
            }
            _ => false,
        }
    }
}

/// The ports of a TCP, UDP or UDP-Lite packet (not a later fragment).
fn ports(pkt: &Packet) -> Option<(u16, u16)> {
    match &pkt.transport {
        Transport::Tcp { spt, dpt, .. } | Transport::Udp { spt, dpt, .. } => Some((*spt, *dpt)),
        _ => None,
    }
}

impl Eval for Multiport {
    /// The xtables multiport match drops a packet without its 4 port
    /// bytes.
    fn hotdrop(&self, pkt: &Packet) -> bool {
        ports(pkt).is_some() && pkt.transport_len() < 4
    }

    fn eval(&self, pkt: &Packet, _cx: &Ctx) -> bool {
        let Some((spt, dpt)) = ports(pkt) else {
            return false;
        };
        let inside = |p: u16| self.ports.iter().any(|(lo, hi)| p >= *lo && p <= *hi);
        let hit = match self.side {
            Side::Source => inside(spt),
            Side::Destination => inside(dpt),
            Side::Either => inside(spt) || inside(dpt),
        };
        hit != self.invert
    }
}

impl Eval for Iprange {
    fn eval(&self, pkt: &Packet, _cx: &Ctx) -> bool {
        let within = |r: &ironwall_model::ext::iprange::Range, a: std::net::IpAddr| {
            (a >= r.min && a <= r.max) != r.inv
        };
        self.src.as_ref().is_none_or(|r| within(r, pkt.src))
            && self.dst.as_ref().is_none_or(|r| within(r, pkt.dst))
    }
}

impl Eval for Mac {
    fn eval(&self, pkt: &Packet, _cx: &Ctx) -> bool {
        // The source address of an Ethernet header: bytes 6 to 11.
        match pkt.mac.as_deref().and_then(|m| m.get(6..12)) {
            Some(src) => (src == self.addr) != self.invert,
            None => false,
        }
    }
}

impl Eval for Mark {
    fn eval(&self, pkt: &Packet, _cx: &Ctx) -> bool {
        ((pkt.mark & self.mask) == self.mark) != self.invert
    }
}

/// `conntrack_addrcmp`: the masked addresses are equal.
fn addr_hit(a: &CtAddr, ip: std::net::IpAddr) -> bool {
    let bits = |x: std::net::IpAddr| match x {
        std::net::IpAddr::V4(v) => u128::from(u32::from(v)),
        std::net::IpAddr::V6(v) => u128::from(v),
    };
    ((bits(ip) & bits(a.mask)) == (bits(a.addr) & bits(a.mask))) != a.inv
}

fn port_hit(p: &CtPorts, port: u16) -> bool {
    (port >= p.range.0 && port <= p.range.1) != p.inv
}

/// `conntrack_mt` of xt_conntrack.c (revision 3; `-m state` is the same
/// test on the state bits).
impl Eval for Conntrack {
    fn eval(&self, _pkt: &Packet, cx: &Ctx) -> bool {
        let ct = &cx.ct;
        if let Some((mask, inv)) = self.state {
            let mut bit = ct.state.bit();
            if let Some(c) = &ct.conn {
                if c.status & status::SRC_NAT != 0 {
                    bit |= 1 << 8;
                }
                if c.status & status::DST_NAT != 0 {
                    bit |= 1 << 9;
                }
            }
            if (mask & bit != 0) == inv {
                return false;
            }
        }
        let Some(c) = &ct.conn else {
            return self.state.is_some();
        };
        if self.dir_reply.is_some_and(|r| r != ct.reply_dir) {
            return false;
        }
        if let Some((p, inv)) = self.proto {
            if (c.orig.proto == p) == inv {
                return false;
            }
        }
        let addr = |a: &Option<CtAddr>, ip| a.as_ref().is_none_or(|a| addr_hit(a, ip));
        let port = |p: &Option<CtPorts>, v| p.as_ref().is_none_or(|p| port_hit(p, v));
        let (o, r): (&Tuple, &Tuple) = (&c.orig, &c.reply);
        if !(addr(&self.origsrc, o.src)
            && addr(&self.origdst, o.dst)
            && addr(&self.replsrc, r.src)
            && addr(&self.repldst, r.dst)
            && port(&self.origsrcport, o.sport)
            && port(&self.origdstport, o.dport)
            && port(&self.replsrcport, r.sport)
            && port(&self.repldstport, r.dport))
        {
            return false;
        }
        if let Some((mask, inv)) = self.status {
            if (mask & c.status != 0) == inv {
                return false;
            }
        }
        if let Some((lo, hi, inv)) = self.expire {
            if (ct.expires >= lo && ct.expires <= hi) == inv {
                return false;
            }
        }
        true
    }
}

/// `RTN_UNICAST`, the type of an address the host has no special route
/// for.
pub const RTN_UNICAST: u8 = 1;

/// `addrtype_mt_v1` of xt_addrtype.c: the address's type bit in the
/// mask, each side with its `!`. The `--limit-iface-*` restriction is not
/// modelled (the host's types are taken on every interface).
impl Eval for Addrtype {
    fn eval(&self, _pkt: &Packet, cx: &Ctx) -> bool {
        let hit = |mask: u16, t: u8, inv: bool| {
            mask == 0 || ((mask & 1u16.checked_shl(u32::from(t)).unwrap_or(0) != 0) != inv)
        };
        hit(self.source, cx.addr_types.0, self.invert_source)
            && hit(self.dest, cx.addr_types.1, self.invert_dest)
    }
}

/// `physdev_mt` of xt_physdev.c for a host without bridges: no packet is
/// bridged, so the match holds only when every option given is inverted.
impl Eval for Physdev {
    fn eval(&self, _pkt: &Packet, _cx: &Ctx) -> bool {
        self.given & !self.invert == 0
    }
}

/// `rpfilter_mt` of xt_rpfilter.c: loopback and 0.0.0.0 sources to a
/// broadcast or link-local multicast pass; otherwise the reverse route
/// must be unicast (or local with `--accept-local`) and leave by the input
/// interface (any interface with `--loose`); `--invert` flips it. The
/// mark (`--validmark`) does not change the host's routes.
impl Eval for Rpfilter {
    fn eval(&self, pkt: &Packet, cx: &Ctx) -> bool {
        let (loose, accept_local, invert) = (
            self.flags & 1 != 0,
            self.flags & 4 != 0,
            self.flags & 8 != 0,
        );
        let zeronet_to_bcast = match (pkt.src, pkt.dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                s.octets()[0] == 0 && (d.is_broadcast() || d.octets()[..3] == [224, 0, 0])
            }
            _ => false,
        };
        if pkt.iface_in == "lo" || zeronet_to_bcast {
            return !invert;
        }
        let (typ, via_in) = cx.reverse;
        let ok = (typ == RTN_UNICAST || (typ == 2 && accept_local)) && (via_in || loose);
        ok != invert
    }
}

/// `owner_mt` of xt_owner.c: without a socket the match holds only when
/// every option given is inverted; a socket without a file (a kernel
/// socket) fails a non-inverted uid or gid test; else the ranges are
/// tested (supplementary groups are not modelled).
impl Eval for Owner {
    fn eval(&self, _pkt: &Packet, cx: &Ctx) -> bool {
        let given = u8::from(self.uid.is_some())
            | u8::from(self.gid.is_some()) << 1
            | u8::from(self.socket) << 2;
        let (uid, gid) = match cx.sock {
            Sock::None => return given ^ self.invert == 0,
            _ if given & self.invert & 4 != 0 => return false,
            Sock::Kernel => return (given ^ self.invert) & 3 == 0,
            Sock::User(u, g) => (u, g),
        };
        let within = |r: Option<(u32, u32)>, v: u32, bit: u8| {
            r.is_none_or(|(lo, hi)| (v >= lo && v <= hi) != (self.invert & bit != 0))
        };
        within(self.uid, uid, 1) && within(self.gid, gid, 2)
    }
}

/// `sctp_mt` of xt_sctp.c needs the SCTP header, which a LOG line does
/// not carry (nf_log_syslog writes SCTP as `PROTO=132` without ports): here
/// the match never holds.
impl Eval for Sctp {
    fn eval(&self, _pkt: &Packet, _cx: &Ctx) -> bool {
        false
    }
}

fn masked(a: IpAddr, m: IpAddr) -> IpAddr {
    match (a, m) {
        (IpAddr::V4(a), IpAddr::V4(m)) => IpAddr::V4((u32::from(a) & u32::from(m)).into()),
        (IpAddr::V6(a), IpAddr::V6(m)) => IpAddr::V6((u128::from(a) & u128::from(m)).into()),
        (a, _) => a,
    }
}

/// `recent_mt` of xt_recent.c: the result starts as the inversion and
/// flips when the operation succeeds; `--set` (and a successful
/// `--update`) records the time. The table's size limit
/// (`ip_list_tot`, 100 addresses) is not modelled.
impl Eval for Recent {
    fn eval(&self, pkt: &Packet, cx: &Ctx) -> bool {
        let owned;
        let lists = match &cx.recent {
            Some(r) => r,
            None => {
                owned = Rc::new(RefCell::new(RecentLists::default()));
                &owned
            }
        };
        let mut lists = lists.borrow_mut();
        let table = match lists.0.get_mut(&self.name) {
            Some(table) => table,
            None => lists.0.entry(self.name.clone()).or_default(),
        };
        let addr = masked(if self.dest { pkt.dst } else { pkt.src }, self.mask);
        // The TTL as seen before forwarding (one more on the way out).
        let ttl = if !pkt.iface_out.is_empty() && pkt.iface_in.is_empty() {
            pkt.ttl.wrapping_add(1)
        } else {
            pkt.ttl
        };
        let (set, check, update, remove) = (
            self.op == Some(0),
            self.op == Some(1),
            self.op == Some(2),
            self.op == Some(3),
        );
        let mut ret = self.invert;
        let found = table.get(&addr).is_some_and(|e| !self.rttl || e.ttl == ttl);
        if !found {
            if set {
                table.insert(
                    addr,
                    RecentEntry {
                        stamps: vec![cx.now],
                        ttl,
                    },
                );
                ret = !ret;
            }
            return ret;
        }
        if set {
            ret = !ret;
        } else if remove {
            table.remove(&addr);
            return !ret;
        } else if check || update {
            let since = cx.now - f64::from(self.seconds);
            if let Some(e) = table.get_mut(&addr) {
                let mut hits = 0;
                for t in &e.stamps {
                    if self.seconds != 0 && since > *t {
                        continue;
                    }
                    hits += 1;
                    if self.hitcount == 0 || hits >= self.hitcount {
                        ret = !ret;
                        break;
                    }
                }
                if self.reap {
                    e.stamps.retain(|t| *t >= since);
                }
            }
        }
        if set || (update && ret) {
            if let Some(e) = table.get_mut(&addr) {
                e.stamps.push(cx.now);
                if e.stamps.len() > RECENT_STAMPS {
                    e.stamps.remove(0);
                }
                e.ttl = ttl;
            }
        }
        ret
    }
}

/// `limit_mt` of xt_limit.c: a bucket of `burst` packets' worth of
/// credit, full when the rule is loaded (here: at the first packet it
/// sees), refilled with elapsed time, a packet costing `avg` (in
/// `XT_LIMIT_SCALE` = 1/10000 s). Kept in microseconds; the kernel counts
/// jiffies, so its granularity (1/HZ) is not modelled.
#[derive(Debug)]
struct LimitEval {
    cost: u64,
    cap: u64,
    /// (credit, time of the previous packet), microseconds.
    state: std::cell::Cell<Option<(u64, u64)>>,
}

impl Eval for LimitEval {
    fn eval(&self, _pkt: &Packet, cx: &Ctx) -> bool {
        let now = (cx.now.max(0.0) * 1e6).round() as u64;
        let (credit, prev) = self.state.get().unwrap_or((self.cap, now));
        let credit = credit
            .saturating_add(now.saturating_sub(prev))
            .min(self.cap);
        let ok = credit >= self.cost;
        let left = if ok { credit - self.cost } else { credit };
        self.state.set(Some((left, now.max(prev))));
        ok
    }
}

/// Compiles a model extension into an evaluator.
pub fn compile(m: &Loaded) -> Result<Box<dyn Eval>, Unsupported> {
    let any = m.ext.as_any();
    if let Some(t) = any.downcast_ref::<TcpUdp>() {
        return Ok(Box::new(TcpUdpEval(t.clone(), native(t))));
    }
    if let Some(l) = any.downcast_ref::<Limit>() {
        let cost = u64::from(l.avg) * 100;
        return Ok(Box::new(LimitEval {
            cost,
            cap: cost * u64::from(l.burst),
            state: std::cell::Cell::new(None),
        }));
    }
    if any.downcast_ref::<Comment>().is_some() {
        return Ok(Box::new(Always));
    }
    macro_rules! stateless {
        ($($t:ty),*) => {$(
            if let Some(x) = any.downcast_ref::<$t>() {
                return Ok(Box::new(x.clone()));
            }
        )*};
    }
    stateless!(
        Icmp, Multiport, Iprange, Mac, Mark, Conntrack, Addrtype, Physdev, Recent, Rpfilter, Owner,
        Sctp, SetMatch
    );
    Err(Unsupported(m.def.name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conntrack::Table;
    use ironwall_model::addr::Family;
    use ironwall_model::ruleset::Ruleset;

    /// The evaluator of the one match of `-A INPUT <spec> -j ACCEPT`.
    fn matcher(spec: &str) -> Box<dyn Eval> {
        matcher_in("INPUT", spec)
    }

    /// The evaluator of the one match of `-A CHAIN <spec> -j ACCEPT`.
    fn matcher_in(chain: &str, spec: &str) -> Box<dyn Eval> {
        let mut rs = Ruleset::new(Family::V4);
        let args =
            ironwall_model::restore::split_args(&format!("-A {chain} {spec} -j ACCEPT")).unwrap();
        ironwall_model::run_iptables(&mut rs, &args, &[]).unwrap();
        let rule = &rs.table("filter").unwrap().chain(chain).unwrap().rules[0];
        compile(&rule.matches[0]).unwrap()
    }

    /// conntrack_mt (xt_conntrack.c): state bits, direction, status bits,
    /// tuple addresses and ports, expiry; a packet without a connection
    /// matches only a state test.
    #[test]
    fn conntrack_options() {
        let mut t = Table::default();
        let syn = Packet::parse_line(
            "[ 5.0] IN=eth0 OUT= SRC=10.0.0.2 DST=10.0.0.1 PROTO=TCP SPT=40000 DPT=22 SYN",
        )
        .unwrap();
        let first = t.track(&syn);
        let h = t.confirm(first.handle);
        let synack = Packet::parse_line(
            "[ 5.5] IN= OUT=eth0 SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP SPT=22 DPT=40000 ACK SYN",
        )
        .unwrap();
        let second = t.track(&synack);
        assert_eq!(second.handle, h);
        let cx = Ctx {
            ct: second.view,
            ..Ctx::at(5.5)
        };
        let new = Ctx {
            ct: first.view,
            ..Ctx::at(5.0)
        };
        let hit = |spec: &str, cx: &Ctx| matcher(spec).eval(&synack, cx);
        assert!(hit("-m conntrack --ctstate ESTABLISHED", &cx));
        assert!(hit("-m state --state NEW", &new));
        assert!(hit("-m conntrack ! --ctstate NEW", &cx));
        assert!(hit("-m conntrack --ctdir REPLY", &cx));
        assert!(!hit("-m conntrack --ctdir ORIGINAL", &cx));
        assert!(hit("-m conntrack --ctstatus SEEN_REPLY,ASSURED", &cx));
        assert!(!hit("-m conntrack --ctstatus ASSURED", &cx));
        assert!(hit(
            "-m conntrack --ctorigsrc 10.0.0.0/24 --ctorigdstport 22",
            &cx
        ));
        assert!(hit(
            "-m conntrack --ctreplsrc 10.0.0.1 --ctrepldstport 40000",
            &cx
        ));
        assert!(!hit("-m conntrack --ctorigdst 10.0.0.2", &cx));
        assert!(hit("-m conntrack --ctproto tcp", &cx));
        // SYN_RECV's timeout is 60 s (tcp_timeouts[]).
        assert!(hit("-m conntrack --ctexpire 60", &cx));
        assert!(!hit("-m conntrack --ctexpire 0:59", &cx));
        let none = Ctx::default();
        assert!(hit("-m conntrack --ctstate INVALID", &none));
        assert!(!hit("-m conntrack --ctdir ORIGINAL", &none));
        assert!(!hit("-m conntrack --ctstatus NONE", &none));
    }

    /// xt_limit: `--limit 1/sec --limit-burst 3` lets 3 through at once,
    /// then one a second.
    #[test]
    fn limit_bucket() {
        let m = matcher("-m limit --limit 1/sec --limit-burst 3");
        let p = Packet::default();
        let at = |t: f64| m.eval(&p, &Ctx::at(t));
        let burst: Vec<bool> = (0..5).map(|_| at(10.0)).collect();
        assert_eq!(burst, [true, true, true, false, false]);
        assert!(!at(10.5));
        assert!(at(11.0));
        assert!(!at(11.2));
    }

    /// xt_recent: the SSH brute-force idiom: `--set` records, `--update
    /// --seconds 60 --hitcount 4` holds from the fourth packet within a
    /// minute; another source is not on the list.
    #[test]
    fn recent_lists() {
        let set = matcher("-m recent --set --name SSH --rsource");
        let upd = matcher("-m recent --update --seconds 60 --hitcount 4 --name SSH --rsource");
        let lists = Rc::new(RefCell::new(RecentLists::default()));
        let p = |src: &str| {
            Packet::parse_line(&format!(
                "IN=eth0 OUT= SRC={src} DST=10.0.0.1 PROTO=TCP SPT=1 DPT=22 SYN"
            ))
            .unwrap()
        };
        let cx = |t: f64| Ctx {
            recent: Some(lists.clone()),
            ..Ctx::at(t)
        };
        let a = p("192.0.2.1");
        let hits: Vec<bool> = (0..5)
            .map(|i| {
                let c = cx(f64::from(i));
                assert!(set.eval(&a, &c));
                upd.eval(&a, &c)
            })
            .collect();
        // Each packet's --set adds a stamp first: the fourth packet is the
        // fourth hit.
        assert_eq!(hits, [false, false, false, true, true]);
        assert!(!upd.eval(&p("192.0.2.2"), &cx(5.0)));
        assert!(!upd.eval(&a, &cx(500.0)));
        assert!(matcher("-m physdev ! --physdev-is-bridged").eval(&a, &cx(0.0)));
        assert!(!matcher("-m physdev --physdev-in eth0").eval(&a, &cx(0.0)));
    }

    /// xt_owner: a process's socket by uid; a kernel socket (RST from a
    /// closed port) fails `--uid-owner` and passes `! --uid-owner`; no
    /// socket passes only fully inverted tests.
    #[test]
    fn owner_sockets() {
        let p = Packet::default();
        let with = |sock| Ctx {
            sock,
            ..Ctx::default()
        };
        let out = |spec: &str| matcher_in("OUTPUT", spec);
        let uid0 = out("-m owner --uid-owner 0");
        assert!(uid0.eval(&p, &with(Sock::User(0, 0))));
        assert!(!uid0.eval(&p, &with(Sock::User(1000, 1000))));
        assert!(!uid0.eval(&p, &with(Sock::Kernel)));
        assert!(out("-m owner ! --uid-owner 0").eval(&p, &with(Sock::Kernel)));
        assert!(!out("-m owner --socket-exists").eval(&p, &with(Sock::None)));
        assert!(out("-m owner --socket-exists").eval(&p, &with(Sock::Kernel)));
        assert!(out("-m owner ! --socket-exists").eval(&p, &with(Sock::None)));
    }
}
