//! What the engine holds from one packet to the next, and the host's
//! timers that run between packets.
//!
//! * Fragments: held by [`crate::defrag`] until their datagram is
//!   complete (the datagram is then processed whole), or until
//!   `ipfrag_time` passes: then the host answers a datagram for a local
//!   address whose first fragment came with ICMP time exceeded
//!   (fragment reassembly), sent through OUTPUT.
//! * Half-open connections: the SYN-ACK the host answered a SYN with is
//!   sent again through OUTPUT when its timer fires (`reqsk_timer_handler`):
//!   1 s after the SYN, then after 2, 4, 8, 16 s (`TCP_TIMEOUT_INIT`
//!   doubling, at most `TCP_RTO_MAX`), `tcp_synack_retries` times; one more
//!   timeout drops the request. A repeated SYN, answered at once, restarts
//!   the current interval (`tcp_check_req`); within 500 ms of the last
//!   such answer it gets none (`tcp_oow_rate_limited`). Every other
//!   segment of the connection meets the request too (`tcp_check_req`,
//!   see [`Host::check_req`](crate::host::Host::check_req)), whatever
//!   conntrack made of it. The request ends when an ACK
//!   completes the handshake (it reaches the socket) or an RST reaches it,
//!   and when OUTPUT drops a retransmission (`inet_rtx_syn_ack` fails with
//!   EPERM and the timer handler drops the request; the first SYN-ACK's
//!   fate does not matter).
//!
//! [`Engine::advance_to`] runs every timer due by a time, in time order;
//! [`Engine::process`] runs it with the packet's time first and keeps the
//! outcomes in [`Outcome::timers`].

use super::{Engine, Outcome};
use crate::conntrack::CtState;
use crate::defrag::Defrag;
use crate::eval::Sock;
use crate::fasthash::FxHashMap;
use crate::host::CheckReq;
use crate::packet::{tcp_flags, Packet, Transport};
use crate::walk::Verdict;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::IpAddr;

/// `tcp_invalid_ratelimit`, seconds.
const OOW_RATELIMIT: f64 = 0.5;

/// `TCP_RTO_MAX`, seconds.
const RTO_MAX: f64 = 120.0;

/// A half-open connection (a request socket).
#[derive(Debug)]
struct Request {
    /// The SYN-ACK to send again.
    synack: Packet,
    /// When its timer fires.
    due: f64,
    /// Timeouts so far (`num_timeout`).
    timeouts: u32,
    /// When a repeated SYN was last answered (`last_oow_ack_time`).
    last_oow: Option<f64>,
}

impl Request {
    /// `reqsk_timeout`: the interval after `timeouts` timeouts.
    fn interval(&self) -> f64 {
        f64::from(1u32 << self.timeouts.min(7)).min(RTO_MAX)
    }

    /// `tcp_oow_rate_limited`: whether an answer to an out-of-window
    /// segment (a repeated SYN included) may go at `now`; records it.
    fn oow_allowed(&mut self, now: f64) -> bool {
        if self
            .last_oow
            .is_some_and(|t| (0.0..OOW_RATELIMIT).contains(&(now - t)))
        {
            return false;
        }
        self.last_oow = Some(now);
        true
    }
}

/// A half-open connection's key: the peer's address and port, this
/// host's address and port.
type ReqKey = (IpAddr, u16, IpAddr, u16);

/// The key of the connection of an arriving TCP segment.
fn key_of(p: &Packet) -> Option<ReqKey> {
    match p.transport {
        Transport::Tcp { spt, dpt, .. } => Some((p.src, spt, p.dst, dpt)),
        _ => None,
    }
}

/// A time as an ordered timer key (microseconds).
fn tick(t: f64) -> i64 {
    (t * 1e6).round() as i64
}

/// Fragments being joined and half-open connections (by key, and their
/// timers in time order).
#[derive(Debug, Default)]
pub(super) struct Held {
    defrag: Defrag,
    requests: FxHashMap<ReqKey, Request>,
    /// Timers, earliest first. An entry whose request is gone or was
    /// given another time is stale: dropped when it comes to the top
    /// ([`Held::timers_changed`]), so the top is always a live timer.
    timers: BinaryHeap<Reverse<(i64, ReqKey)>>,
    /// When the top timer fires: the check every packet makes
    /// ([`Held::next_due`]) reads one number.
    first_due: Option<f64>,
}

impl Held {
    /// When the next timer fires.
    fn next_due(&self) -> Option<f64> {
        match (self.first_due, self.defrag.next_expiry()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The request whose timer is at the top.
    fn first(&self) -> Option<ReqKey> {
        self.timers.peek().map(|Reverse((_, k))| *k)
    }

    /// Drops stale timers from the top and notes when the top one fires.
    fn timers_changed(&mut self) {
        while let Some(Reverse((t, k))) = self.timers.peek() {
            if let Some(r) = self.requests.get(k).filter(|r| tick(r.due) == *t) {
                self.first_due = Some(r.due);
                return;
            }
            self.timers.pop();
        }
        self.first_due = None;
    }

    /// Holds a new request, its timer at `request.due`.
    fn add(&mut self, key: ReqKey, request: Request) {
        self.timers.push(Reverse((tick(request.due), key)));
        self.requests.insert(key, request);
        self.timers_changed();
    }

    /// Sets a request's timer.
    fn schedule(&mut self, key: ReqKey, due: f64) {
        if let Some(r) = self.requests.get_mut(&key) {
            r.due = due;
            self.timers.push(Reverse((tick(due), key)));
            self.timers_changed();
        }
    }

    /// Forgets a request.
    fn forget(&mut self, key: ReqKey) {
        if self.requests.remove(&key).is_some() {
            self.timers_changed();
        }
    }
}

impl Engine<'_> {
    /// Runs the host's timers due by time `t` (see the module docs), in
    /// time order; returns the outcomes of the packets they sent.
    pub fn advance_to(&mut self, t: f64) -> Vec<Outcome> {
        let mut sent = Vec::new();
        while let Some(due) = self.held.next_due().filter(|d| *d <= t) {
            if self.held.defrag.next_expiry() == Some(due) {
                for head in self.held.defrag.expire(due) {
                    if let Some(r) = self.host.reassembly_timeout(&head, due) {
                        let o = self.process_as(&r, None, Sock::Kernel);
                        self.keep(o, &mut sent);
                    }
                }
                continue;
            }
            let Some(key) = self.held.first() else {
                break;
            };
            let Some(req) = self.held.requests.get_mut(&key) else {
                break;
            };
            if req.timeouts >= self.host.sysctl.tcp_synack_retries {
                self.held.forget(key);
                continue;
            }
            req.timeouts += 1;
            let next = due + req.interval();
            let mut synack = req.synack.clone();
            synack.time = Some(due);
            self.held.schedule(key, next);
            let o = self.process_as(&synack, None, Sock::User(0, 0));
            if o.verdict != Verdict::Accept {
                self.held.forget(key);
            }
            self.keep(o, &mut sent);
        }
        sent
    }

    /// A timer's outcome goes to `sent`; a quiet replay, which keeps no
    /// outcomes, reuses its room instead.
    fn keep(&mut self, o: Box<Outcome>, sent: &mut Vec<Outcome>) {
        if self.quiet {
            self.recycle(o);
        } else {
            sent.push(*o);
        }
    }

    /// A fragment: the whole datagram when it completes one, else `None`
    /// (held or discarded before any hook: see [`Engine::held_outcome`]).
    pub(super) fn fragment(&mut self, pkt: &Packet) -> Option<Packet> {
        let sent = pkt.iface_in.is_empty() && !pkt.iface_out.is_empty();
        let now = self.ct.advance(pkt);
        let timeout = f64::from(self.host.sysctl.ipfrag_time);
        self.held.defrag.add(pkt, sent, now, timeout)
    }

    /// The outcome of a fragment that completed nothing: verdict DROP,
    /// `dropped_by` "defrag", no hook walked.
    pub(super) fn held_outcome(&mut self, pkt: &Packet, timers: Vec<Outcome>) -> Box<Outcome> {
        let mut o = self.outcome(pkt);
        o.verdict = Verdict::Drop;
        o.ct = CtState::Invalid;
        o.dropped_by = Some("defrag");
        o.timers = timers;
        o
    }

    /// An arriving TCP segment `p` reached the host's stack at `now`
    /// (`reached`: its connection's socket as conntrack sees it; else the
    /// listener, which answers `reply`): starts, restarts or ends its
    /// half-open connection's timer. A segment of a half-open connection
    /// meets the request socket whatever conntrack made of it (the
    /// firewall may have dropped the handshake's ACK): answered as
    /// [`Host::check_req`](crate::host::Host::check_req) says. Returns the
    /// answer to send: a SYN-ACK for a repeated SYN, and an ACK to a
    /// segment outside the window without data, are rate limited
    /// (`tcp_oow_rate_limited`: none within `tcp_invalid_ratelimit`,
    /// 500 ms, of the last one so sent).
    pub(super) fn handshake_seen(
        &mut self,
        p: &Packet,
        reached: bool,
        reply: Option<Packet>,
        now: f64,
    ) -> Option<Packet> {
        if reply.is_none() && self.held.requests.is_empty() {
            return None;
        }
        let (Transport::Tcp { flags, .. }, Some(key)) = (&p.transport, key_of(p)) else {
            return reply;
        };
        let synack = reply.as_ref().is_some_and(|r| {
            matches!(r.transport, Transport::Tcp { flags, .. }
                if flags & (tcp_flags::SYN | tcp_flags::ACK) == tcp_flags::SYN | tcp_flags::ACK)
        });
        let Some(r) = self.held.requests.get_mut(&key) else {
            if let (true, Some(s)) = (synack, &reply) {
                self.held.add(
                    key,
                    Request {
                        synack: s.clone(),
                        due: now + 1.0,
                        timeouts: 0,
                        last_oow: None,
                    },
                );
            }
            return reply;
        };
        // Anything reaches the request socket, whatever conntrack made of
        // it (the handshake's ACK may have been dropped).
        match self.host.check_req(p, &r.synack) {
            // The SYN again (or numbers unknown): its SYN-ACK again (rate
            // limited), the timer restarted.
            Some(CheckReq::Retransmit) | None if synack => {
                if !r.oow_allowed(now) {
                    return None;
                }
                let due = now + r.interval();
                self.held.schedule(key, due);
                reply
            }
            Some(CheckReq::Retransmit) => reply,
            Some(CheckReq::Listener) => reply.or_else(|| self.host.reply(p, now)),
            Some(CheckReq::OutOfWindow(answer, limited)) => {
                answer.filter(|_| !limited || r.oow_allowed(now))
            }
            Some(CheckReq::Ends(answer)) => {
                self.held.forget(key);
                answer
            }
            Some(CheckReq::Dropped) => None,
            Some(CheckReq::Child) => {
                self.held.forget(key);
                None
            }
            None => {
                if reached || flags & tcp_flags::RST != 0 {
                    self.held.forget(key);
                }
                reply
            }
        }
    }
}
