//! Match evaluators: one per model extension the engine understands,
//! compiled from the model's parsed state by downcasting
//! ([`compile`]). An extension without an evaluator is an error, never a
//! silent pass.

use crate::packet::{Packet, Transport};
use ironwall_model::ext::comment::Comment;
use ironwall_model::ext::icmp::Icmp;
use ironwall_model::ext::iprange::Iprange;
use ironwall_model::ext::mac::Mac;
use ironwall_model::ext::mark::Mark;
use ironwall_model::ext::multiport::{Multiport, Side};
use ironwall_model::ext::tcp::TcpUdp;
use ironwall_model::ext::Loaded;

/// What the engine needs of a match: does it hold for this packet.
pub trait Eval: std::fmt::Debug {
    /// True when the match holds.
    fn eval(&self, pkt: &Packet) -> bool;

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

#[derive(Debug)]
struct TcpUdpEval(TcpUdp);

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
    fn eval(&self, pkt: &Packet) -> bool {
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
                if native(m) {
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
                if native(m) {
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
        !native(&self.0) && pkt.transport_len() < need
    }
}

/// Whether TCP option `kind` appears in the option bytes.
fn tcp_has_option(opts: &[u8], kind: u8) -> bool {
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
    fn eval(&self, _pkt: &Packet) -> bool {
        true
    }
}

impl Eval for Icmp {
    /// The xtables icmp match drops a packet without a whole 8-byte ICMP
    /// header.
    fn hotdrop(&self, pkt: &Packet) -> bool {
        matches!(pkt.transport, Transport::Icmp { .. }) && pkt.transport_len() < 8
    }

    fn eval(&self, pkt: &Packet) -> bool {
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

    fn eval(&self, pkt: &Packet) -> bool {
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
    fn eval(&self, pkt: &Packet) -> bool {
        let within = |r: &ironwall_model::ext::iprange::Range, a: std::net::IpAddr| {
            (a >= r.min && a <= r.max) != r.inv
        };
        self.src.as_ref().is_none_or(|r| within(r, pkt.src))
            && self.dst.as_ref().is_none_or(|r| within(r, pkt.dst))
    }
}

impl Eval for Mac {
    fn eval(&self, pkt: &Packet) -> bool {
        // The source address of an Ethernet header: bytes 6 to 11.
        match pkt.mac.as_deref().and_then(|m| m.get(6..12)) {
            Some(src) => (src == self.addr) != self.invert,
            None => false,
        }
    }
}

impl Eval for Mark {
    fn eval(&self, pkt: &Packet) -> bool {
        ((pkt.mark & self.mask) == self.mark) != self.invert
    }
}

/// Compiles a model extension into an evaluator.
pub fn compile(m: &Loaded) -> Result<Box<dyn Eval>, Unsupported> {
    let any = m.ext.as_any();
    if let Some(t) = any.downcast_ref::<TcpUdp>() {
        return Ok(Box::new(TcpUdpEval(t.clone())));
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
    stateless!(Icmp, Multiport, Iprange, Mac, Mark);
    Err(Unsupported(m.def.name.to_string()))
}
