//! Connection tracking, as `nf_conntrack` decides it for IPv4.
//!
//! # Contract
//! * [`Table::track`] classifies one packet the way `nf_conntrack_in`
//!   does before the first rule sees it: it finds the connection by its
//!   original or reply [`Tuple`], runs the protocol's state machine (TCP per
//!   `nf_conntrack_proto_tcp.c`, UDP per `nf_conntrack_proto_udp.c`, ICMP
//!   per `nf_conntrack_proto_icmp.c`, anything else per
//!   `nf_conntrack_proto_generic.c`) and returns a [`Tracked`]: the state
//!   the `conntrack`/`state` matches see ([`CtView`]) and a handle.
//! * A new connection stays unconfirmed until [`Table::confirm`] is called
//!   with its handle after the packet survived the last hook (the kernel
//!   confirms in `nf_confirm` at POSTROUTING/INPUT); a dropped packet's new
//!   connection is simply forgotten.
//! * The packet's time ([`Packet::time`]) drives expiry; a packet without a
//!   time is taken to arrive at the time of the latest packet seen.
//! * TCP windows are checked as `tcp_in_window` does when the segment's
//!   numbers are known ([`crate::tcp_window`]); a log line without
//!   `SEQ=`/`ACK=` counts as in window. Checksums are taken as valid.
//! * Never panics, whatever the packet.

use crate::fasthash::FxHashMap;
use crate::packet::{tcp_flags as F, Packet, Transport};
use crate::tcp_window::{before, InWindow, Last, Segment, Window};
use std::net::IpAddr;

/// A connection tuple (`struct nf_conntrack_tuple`): addresses, protocol
/// and the protocol's two "ports" (for ICMP: the echo id as source, type
/// and code as `type << 8 | code` for destination).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tuple {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IP protocol number.
    pub proto: u8,
    /// Source port (ICMP: echo id).
    pub sport: u16,
    /// Destination port (ICMP: `type << 8 | code`).
    pub dport: u16,
}

/// An address as hash input: IPv4 in the low 32 bits, IPv6 folded.
fn addr_word(a: IpAddr) -> u64 {
    match a {
        IpAddr::V4(v) => u64::from(v.to_bits()),
        IpAddr::V6(v) => {
            let b = v.to_bits();
            (b as u64) ^ ((b >> 64) as u64) ^ (1 << 63)
        }
    }
}

/// Two words per tuple (the connection table hashes one for every
/// packet): the addresses, then protocol and ports.
impl std::hash::Hash for Tuple {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(addr_word(self.src) << 32 ^ addr_word(self.dst));
        state.write_u64(
            u64::from(self.proto) << 32 | u64::from(self.sport) << 16 | u64::from(self.dport),
        );
    }
}

/// The connection state a packet has for `--ctstate` / `--state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CtState {
    /// No connection could be assigned.
    Invalid,
    /// First packet of a connection.
    New,
    /// A packet of a connection seen both ways (or a reply).
    Established,
    /// An ICMP error about a tracked connection.
    Related,
    /// Exempted by `-j CT --notrack` / `NOTRACK`.
    Untracked,
}

impl CtState {
    /// The `XT_CONNTRACK_STATE_*` bit (`xt_conntrack.h`).
    pub fn bit(self) -> u32 {
        match self {
            CtState::Invalid => 1,
            CtState::Established => 1 << 1,
            CtState::Related => 1 << 2,
            CtState::New => 1 << 3,
            CtState::Untracked => 1 << 6,
        }
    }
    /// The name `--ctstate` uses.
    pub fn name(self) -> &'static str {
        match self {
            CtState::Invalid => "INVALID",
            CtState::New => "NEW",
            CtState::Established => "ESTABLISHED",
            CtState::Related => "RELATED",
            CtState::Untracked => "UNTRACKED",
        }
    }
}

/// `IPS_*` status bits (`nf_conntrack_common.h`).
pub mod status {
    /// An expected connection.
    pub const EXPECTED: u32 = 1;
    /// A packet was seen in the reply direction.
    pub const SEEN_REPLY: u32 = 1 << 1;
    /// Not to be dropped early.
    pub const ASSURED: u32 = 1 << 2;
    /// In the hash table.
    pub const CONFIRMED: u32 = 1 << 3;
    /// Source NAT applied.
    pub const SRC_NAT: u32 = 1 << 4;
    /// Destination NAT applied.
    pub const DST_NAT: u32 = 1 << 5;
}

/// TCP conntrack states (`enum tcp_conntrack`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpState {
    /// `NONE`.
    None,
    /// `SYN_SENT`.
    SynSent,
    /// `SYN_RECV`.
    SynRecv,
    /// `ESTABLISHED`.
    Established,
    /// `FIN_WAIT`.
    FinWait,
    /// `CLOSE_WAIT`.
    CloseWait,
    /// `LAST_ACK`.
    LastAck,
    /// `TIME_WAIT`.
    TimeWait,
    /// `CLOSE`.
    Close,
    /// `SYN_SENT2` (simultaneous open).
    SynSent2,
}

/// The per-protocol part of a connection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Proto {
    /// TCP with its state and window data.
    Tcp(TcpState, Window),
    /// UDP, with the time after which a replied flow counts as a stream.
    Udp {
        /// `stream_ts`: creation + 2 s.
        stream_after: f64,
    },
    /// ICMP query/response.
    Icmp,
    /// Any other protocol.
    Generic,
}

/// A connection. A NAT binding rewrites its reply tuple, so that replies
/// (and later originals) map back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Conn {
    /// The tuple of the first packet.
    pub orig: Tuple,
    /// The tuple replies carry (after NAT, if any).
    pub reply: Tuple,
    /// `IPS_*` bits.
    pub status: u32,
    /// Protocol state.
    pub proto: Proto,
    /// Absolute expiry time, seconds.
    pub expires: f64,
    /// Whether the source / destination NAT hooks have run for it.
    pub nat_done: (bool, bool),
}

/// A handle to a packet's connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handle {
    /// No connection (INVALID or UNTRACKED).
    None,
    /// A confirmed connection, by its slot in the table.
    Confirmed(usize),
    /// A new connection, not yet in the table.
    Unconfirmed,
}

/// What the conntrack match sees of a packet's connection.
#[derive(Debug, Clone, PartialEq)]
pub struct CtView {
    /// The state.
    pub state: CtState,
    /// The connection, when there is one.
    pub conn: Option<Conn>,
    /// Whether the packet travels in the reply direction.
    pub reply_dir: bool,
    /// Seconds to expiry as `nf_ct_expires` gives (0 for unconfirmed).
    pub expires: u32,
}

impl CtView {
    /// Sets the view to `conn` in `state`; the seconds to expiry count
    /// from `now` for a confirmed connection (0 otherwise).
    fn set(
        &mut self,
        state: CtState,
        conn: Option<Conn>,
        confirmed: bool,
        reply_dir: bool,
        now: f64,
    ) {
        self.state = state;
        self.conn = conn;
        self.reply_dir = reply_dir;
        self.expires = match &self.conn {
            Some(c) if confirmed => (c.expires - now).max(0.0) as u32,
            _ => 0,
        };
    }

    /// The view of a packet without a connection.
    pub fn none(state: CtState) -> CtView {
        CtView {
            state,
            conn: None,
            reply_dir: false,
            expires: 0,
        }
    }
}

/// The result of [`Table::track`].
#[derive(Debug, Clone, PartialEq)]
pub struct Tracked {
    /// What the matches see.
    pub view: CtView,
    /// The connection's handle.
    pub handle: Handle,
    /// The packet's time as used.
    pub now: f64,
}

/// The sysctls conntrack reads (`/proc/sys/net/netfilter/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sysctl {
    /// `nf_conntrack_tcp_loose` (default 1): pick up connections from a
    /// mid-stream ACK.
    pub tcp_loose: bool,
    /// `nf_conntrack_checksum` (default 1): an arriving packet whose
    /// transport checksum is wrong ([`Packet::bad_checksum`], known from
    /// raw bytes only; a log line's is taken as good) is INVALID.
    pub checksum: bool,
    /// `nf_conntrack_tcp_be_liberal` (default 0): every window check
    /// passes.
    pub tcp_be_liberal: bool,
    /// `nf_conntrack_tcp_ignore_invalid_rst` (default 0): an RST below the
    /// peer's ACK is not INVALID.
    pub tcp_ignore_invalid_rst: bool,
    /// `nf_conntrack_udp_timeout`, seconds (default 30): a UDP flow
    /// without a reply (or not yet a stream).
    pub udp_timeout: u32,
    /// `nf_conntrack_udp_timeout_stream`, seconds (default 120).
    pub udp_timeout_stream: u32,
    /// `nf_conntrack_icmp_timeout`, seconds (default 30).
    pub icmp_timeout: u32,
    /// `nf_conntrack_tcp_timeout_*`, seconds, by state.
    pub tcp_timeouts: TcpTimeouts,
    /// `nf_conntrack_tcp_max_retrans` (default 3): after this many
    /// retransmissions of one segment in a row a longer timeout is cut to
    /// `nf_conntrack_tcp_timeout_max_retrans`.
    pub tcp_max_retrans: u32,
}

/// `nf_conntrack_tcp_timeout_<state>` in seconds (defaults: [`timeout`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpTimeouts {
    /// `syn_sent` (also SYN_SENT2 and NONE).
    pub syn_sent: u32,
    /// `syn_recv`.
    pub syn_recv: u32,
    /// `established`.
    pub established: u32,
    /// `fin_wait`.
    pub fin_wait: u32,
    /// `close_wait`.
    pub close_wait: u32,
    /// `last_ack`.
    pub last_ack: u32,
    /// `time_wait`.
    pub time_wait: u32,
    /// `close`.
    pub close: u32,
    /// `unacknowledged` (a connection picked up or not yet answered).
    pub unacknowledged: u32,
    /// `max_retrans` (a segment retransmitted `tcp_max_retrans` times).
    pub max_retrans: u32,
}

impl Default for TcpTimeouts {
    fn default() -> Self {
        use timeout::*;
        let s = |t: f64| t as u32;
        TcpTimeouts {
            syn_sent: s(TCP_SYN_SENT),
            syn_recv: s(TCP_SYN_RECV),
            established: s(TCP_ESTABLISHED),
            fin_wait: s(TCP_FIN_WAIT),
            close_wait: s(TCP_CLOSE_WAIT),
            last_ack: s(TCP_LAST_ACK),
            time_wait: s(TCP_TIME_WAIT),
            close: s(TCP_CLOSE),
            unacknowledged: s(TCP_UNACK),
            max_retrans: s(TCP_UNACK),
        }
    }
}

impl TcpTimeouts {
    /// Sets the one `name` (the sysctl's suffix); false when unknown.
    pub fn set(&mut self, name: &str, secs: u32) -> bool {
        let slot = match name {
            "syn_sent" => &mut self.syn_sent,
            "syn_recv" => &mut self.syn_recv,
            "established" => &mut self.established,
            "fin_wait" => &mut self.fin_wait,
            "close_wait" => &mut self.close_wait,
            "last_ack" => &mut self.last_ack,
            "time_wait" => &mut self.time_wait,
            "close" => &mut self.close,
            "unacknowledged" => &mut self.unacknowledged,
            "max_retrans" => &mut self.max_retrans,
            _ => return false,
        };
        *slot = secs;
        true
    }

    /// The timeout of a state, seconds.
    fn of(&self, s: TcpState) -> f64 {
        f64::from(match s {
            TcpState::SynSent | TcpState::SynSent2 | TcpState::None => self.syn_sent,
            TcpState::SynRecv => self.syn_recv,
            TcpState::Established => self.established,
            TcpState::FinWait => self.fin_wait,
            TcpState::CloseWait => self.close_wait,
            TcpState::LastAck => self.last_ack,
            TcpState::TimeWait => self.time_wait,
            TcpState::Close => self.close,
        })
    }
}

impl Default for Sysctl {
    fn default() -> Self {
        Sysctl {
            tcp_loose: true,
            checksum: true,
            tcp_be_liberal: false,
            tcp_ignore_invalid_rst: false,
            udp_timeout: timeout::UDP_UNREPLIED as u32,
            udp_timeout_stream: timeout::UDP_REPLIED as u32,
            icmp_timeout: timeout::ICMP as u32,
            tcp_timeouts: TcpTimeouts::default(),
            tcp_max_retrans: 3,
        }
    }
}

/// Default timeouts in seconds (`tcp_timeouts[]` in
/// nf_conntrack_proto_tcp.c, `udp_timeouts[]`, `nf_ct_icmp_timeout`,
/// `nf_ct_generic_timeout`).
pub mod timeout {
    /// TCP SYN_SENT / SYN_SENT2.
    pub const TCP_SYN_SENT: f64 = 120.0;
    /// TCP SYN_RECV.
    pub const TCP_SYN_RECV: f64 = 60.0;
    /// TCP ESTABLISHED: 5 days.
    pub const TCP_ESTABLISHED: f64 = 432_000.0;
    /// TCP FIN_WAIT.
    pub const TCP_FIN_WAIT: f64 = 120.0;
    /// TCP CLOSE_WAIT.
    pub const TCP_CLOSE_WAIT: f64 = 60.0;
    /// TCP LAST_ACK.
    pub const TCP_LAST_ACK: f64 = 30.0;
    /// TCP TIME_WAIT.
    pub const TCP_TIME_WAIT: f64 = 120.0;
    /// TCP CLOSE.
    pub const TCP_CLOSE: f64 = 10.0;
    /// TCP RETRANS / UNACK.
    pub const TCP_UNACK: f64 = 300.0;
    /// UDP before a reply.
    pub const UDP_UNREPLIED: f64 = 30.0;
    /// UDP stream.
    pub const UDP_REPLIED: f64 = 120.0;
    /// ICMP.
    pub const ICMP: f64 = 30.0;
    /// Other protocols.
    pub const GENERIC: f64 = 600.0;
}

/// `get_conntrack_index`: the row of the TCP state table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TcpIndex {
    Syn,
    SynAck,
    Fin,
    Ack,
    Rst,
    None,
}

fn tcp_index(flags: u16) -> TcpIndex {
    if flags & F::RST != 0 {
        TcpIndex::Rst
    } else if flags & F::SYN != 0 {
        if flags & F::ACK != 0 {
            TcpIndex::SynAck
        } else {
            TcpIndex::Syn
        }
    } else if flags & F::FIN != 0 {
        TcpIndex::Fin
    } else if flags & F::ACK != 0 {
        TcpIndex::Ack
    } else {
        TcpIndex::None
    }
}

/// `tcp_valid_flags[]` (tcp_error): the flag combinations conntrack
/// accepts, with ECE, CWR and PSH ignored.
fn tcp_flags_valid(flags: u16) -> bool {
    let f = flags & (F::FIN | F::SYN | F::RST | F::ACK | F::URG);
    const OK: [u16; 9] = [
        F::SYN,
        F::SYN | F::URG,
        F::SYN | F::ACK,
        F::RST,
        F::RST | F::ACK,
        F::FIN | F::ACK,
        F::FIN | F::ACK | F::URG,
        F::ACK,
        F::ACK | F::URG,
    ];
    OK.contains(&f)
}

/// A transition of `tcp_conntracks[dir][index][state]`: a new state,
/// "ignore" (sIG) or "invalid" (sIV).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    To(TcpState),
    Ignore,
    Invalid,
}

/// `tcp_conntracks[][][]` of nf_conntrack_proto_tcp.c (Linux 6.x).
fn tcp_next(reply: bool, idx: TcpIndex, s: TcpState) -> Next {
    use Next::{Ignore as IG, Invalid as IV};
    use TcpState::*;
    let col = match s {
        None => 0,
        SynSent => 1,
        SynRecv => 2,
        Established => 3,
        FinWait => 4,
        CloseWait => 5,
        LastAck => 6,
        TimeWait => 7,
        Close => 8,
        SynSent2 => 9,
    };
    let (ss, sr, es, fw, cw, la, tw, cl, s2) = (
        Next::To(SynSent),
        Next::To(SynRecv),
        Next::To(Established),
        Next::To(FinWait),
        Next::To(CloseWait),
        Next::To(LastAck),
        Next::To(TimeWait),
        Next::To(Close),
        Next::To(SynSent2),
    );
    //            sNO sSS sSR sES sFW sCW sLA sTW sCL sS2
    let row: [Next; 10] = match (reply, idx) {
        (false, TcpIndex::Syn) => [ss, ss, IG, IG, IG, IG, IG, ss, ss, s2],
        (false, TcpIndex::SynAck) => [IV, IV, sr, IV, IV, IV, IV, IV, IV, sr],
        (false, TcpIndex::Fin) => [IV, IV, fw, fw, la, la, la, tw, cl, IV],
        (false, TcpIndex::Ack) => [es, IV, es, es, cw, cw, tw, tw, cl, IV],
        (true, TcpIndex::Syn) => [IV, s2, IV, IV, IV, IV, IV, IV, IV, s2],
        (true, TcpIndex::SynAck) => [IV, sr, IG, IG, IG, IG, IG, IG, IG, sr],
        (true, TcpIndex::Fin) => [IV, IV, fw, fw, la, la, la, tw, cl, IV],
        (true, TcpIndex::Ack) => [IV, IG, sr, es, cw, cw, tw, tw, cl, IG],
        (_, TcpIndex::Rst) => [IV, cl, cl, cl, cl, cl, cl, cl, cl, cl],
        (_, TcpIndex::None) => [IV; 10],
    };
    row[col]
}

/// The tuple of a packet (a protocol without ports is tracked
/// generically; fragments never get here: [`crate::defrag`] joins them
/// first).
pub fn tuple_of(pkt: &Packet) -> Tuple {
    let (sport, dport) = match &pkt.transport {
        Transport::Tcp { spt, dpt, .. } | Transport::Udp { spt, dpt, .. } => (*spt, *dpt),
        Transport::Icmp { typ, code, id, .. } => {
            (id.unwrap_or(0), u16::from(*typ) << 8 | u16::from(*code))
        }
        Transport::Other(_) => (0, 0),
    };
    Tuple {
        src: pkt.src,
        dst: pkt.dst,
        proto: pkt.transport.proto(),
        sport,
        dport,
    }
}

/// The reply type of an ICMP query type (`invmap[]` of
/// nf_conntrack_proto_icmp.c); `None` when the type cannot start a
/// connection (`icmp_new`'s `valid_new[]`).
fn icmp_reply_type(typ: u8) -> Option<u8> {
    match typ {
        8 => Some(0),
        13 => Some(14),
        15 => Some(16),
        17 => Some(18),
        _ => None,
    }
}

/// The inverse tuple (`nf_ct_invert_tuple`).
pub fn invert(t: &Tuple) -> Option<Tuple> {
    let (sport, dport) = if t.proto == 1 {
        let typ = (t.dport >> 8) as u8;
        let code = t.dport & 0xFF;
        let back = icmp_reply_type(typ).or(match typ {
            0 => Some(8),
            14 => Some(13),
            16 => Some(15),
            18 => Some(17),
            _ => None,
        })?;
        (t.sport, u16::from(back) << 8 | code)
    } else {
        (t.dport, t.sport)
    };
    Some(Tuple {
        src: t.dst,
        dst: t.src,
        proto: t.proto,
        sport,
        dport,
    })
}

fn is_icmp_error(typ: u8) -> bool {
    matches!(typ, 3 | 4 | 5 | 11 | 12)
}

/// What an RST does to a connection ([`Table::rst_check`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RstCheck {
    /// It closes it.
    Close,
    /// It is INVALID.
    Invalid,
    /// It leaves the state as it is.
    Keep,
}

/// The connections by slot: a vector with a list of free slots, so that
/// a handle reaches its connection without hashing.
#[derive(Debug, Clone, Default)]
struct Slots {
    all: Vec<Option<Conn>>,
    free: Vec<usize>,
}

impl Slots {
    fn get(&self, id: usize) -> Option<&Conn> {
        self.all.get(id)?.as_ref()
    }

    fn get_mut(&mut self, id: usize) -> Option<&mut Conn> {
        self.all.get_mut(id)?.as_mut()
    }

    /// Puts `c` in a free slot (or a new one) and returns the slot.
    fn insert(&mut self, c: Conn) -> usize {
        if let Some(id) = self.free.pop() {
            if let Some(slot) = self.all.get_mut(id) {
                *slot = Some(c);
                return id;
            }
        }
        self.all.push(Some(c));
        self.all.len() - 1
    }

    fn remove(&mut self, id: usize) -> Option<Conn> {
        let c = self.all.get_mut(id)?.take()?;
        self.free.push(id);
        Some(c)
    }

    fn values(&self) -> impl Iterator<Item = &Conn> {
        self.all.iter().flatten()
    }
}

/// The tuples of the connections (slot, and whether the tuple is the
/// reply one), with a count of the changes made to them.
#[derive(Debug, Clone, Default)]
struct Tuples {
    map: FxHashMap<Tuple, (usize, bool)>,
    changes: u64,
}

impl Tuples {
    fn get(&self, t: &Tuple) -> Option<&(usize, bool)> {
        self.map.get(t)
    }

    fn insert(&mut self, t: Tuple, v: (usize, bool)) {
        self.changes += 1;
        self.map.insert(t, v);
    }

    fn remove(&mut self, t: &Tuple) {
        self.changes += 1;
        self.map.remove(t);
    }
}

/// The connection table.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// Settings.
    pub sysctl: Sysctl,
    conns: Slots,
    by_tuple: Tuples,
    now: f64,
    /// A new connection waiting for [`Table::confirm`].
    pending: Option<Conn>,
    /// [`Tuples::changes`] when the pending connection's original tuple
    /// was looked up and not found (confirming it need not look again).
    orig_free_at: Option<u64>,
}

impl Table {
    /// An empty table with these settings.
    pub fn new(sysctl: Sysctl) -> Table {
        Table {
            sysctl,
            ..Table::default()
        }
    }

    /// The confirmed connections still alive.
    pub fn conns(&self) -> impl Iterator<Item = &Conn> {
        self.conns.values().filter(|c| c.expires > self.now)
    }

    /// A connection by handle (the pending one for `Unconfirmed`).
    pub fn get(&self, h: Handle) -> Option<&Conn> {
        match h {
            Handle::Confirmed(id) => self.conns.get(id),
            Handle::Unconfirmed => self.pending.as_ref(),
            Handle::None => None,
        }
    }

    /// A connection by handle, to change (NAT bindings).
    pub fn get_mut(&mut self, h: Handle) -> Option<&mut Conn> {
        match h {
            Handle::Confirmed(id) => self.conns.get_mut(id),
            Handle::Unconfirmed => self.pending.as_mut(),
            Handle::None => None,
        }
    }

    fn remove(&mut self, id: usize) {
        if let Some(c) = self.conns.remove(id) {
            self.by_tuple.remove(&c.orig);
            self.by_tuple.remove(&c.reply);
        }
    }

    /// Finds a live connection by a tuple: id and whether the tuple is the
    /// reply one. An expired one is removed first.
    fn find(&mut self, t: &Tuple) -> Option<(usize, bool)> {
        let (id, reply) = *self.by_tuple.get(t)?;
        let live = self.conns.get(id).is_some_and(|c| c.expires > self.now);
        if live {
            Some((id, reply))
        } else {
            self.remove(id);
            None
        }
    }

    /// Inserts the pending new connection (`nf_conntrack_confirm`). Does
    /// nothing when its tuples clash with a live entry.
    pub fn confirm(&mut self, h: Handle) -> Handle {
        if h != Handle::Unconfirmed {
            return h;
        }
        let Some(mut c) = self.pending.take() else {
            return Handle::None;
        };
        let orig_free = self.orig_free_at.take() == Some(self.by_tuple.changes);
        if (!orig_free && self.find(&c.orig).is_some()) || self.find(&c.reply).is_some() {
            return Handle::None;
        }
        c.status |= status::CONFIRMED;
        // The timeout of an unconfirmed entry counts from confirmation.
        let (orig, reply) = (c.orig, c.reply);
        let id = self.conns.insert(c);
        self.by_tuple.insert(orig, (id, false));
        self.by_tuple.insert(reply, (id, true));
        Handle::Confirmed(id)
    }

    /// Re-keys a connection after NAT changed its reply tuple.
    pub fn set_reply(&mut self, h: Handle, reply: Tuple) {
        match h {
            Handle::Unconfirmed => {
                if let Some(c) = self.pending.as_mut() {
                    c.reply = reply;
                }
            }
            Handle::Confirmed(id) => {
                if let Some(c) = self.conns.get_mut(id) {
                    self.by_tuple.remove(&c.reply);
                    c.reply = reply;
                    self.by_tuple.insert(reply, (id, true));
                }
            }
            Handle::None => {}
        }
    }

    /// Marks a packet untracked (raw `-j CT --notrack`): forgets a pending
    /// connection.
    pub fn untrack(&mut self) -> Tracked {
        self.pending = None;
        Tracked {
            view: CtView::none(CtState::Untracked),
            handle: Handle::None,
            now: self.now,
        }
    }

    /// The connection of a packet conntrack found INVALID (a segment
    /// outside the window has no connection attached) as its socket sees
    /// it: the stack finds the socket by addresses and ports whatever
    /// conntrack decided, so such a segment reaches the connection's
    /// socket and is not answered by a listener. Not when NAT changed the
    /// connection's tuple: only a packet that has the connection is
    /// translated (`nf_nat_inet_fn`), so an INVALID one keeps the
    /// addresses and ports it came with, which are not its socket's (a
    /// segment to 443 REDIRECTed to 22 meets port 443: a listener there or
    /// none, reset either way).
    pub fn socket_of(&mut self, pkt: &Packet) -> Option<CtView> {
        let (id, reply) = self.find(&tuple_of(pkt))?;
        let bits = self.conns.get(id)?.status;
        if bits & (status::SRC_NAT | status::DST_NAT) != 0 {
            return None;
        }
        let seen = bits & status::SEEN_REPLY != 0;
        let state = if seen || reply {
            CtState::Established
        } else {
            CtState::New
        };
        Some(self.view(Handle::Confirmed(id), state, reply))
    }

    /// The view of a connection for the matches.
    pub fn view(&self, h: Handle, state: CtState, reply_dir: bool) -> CtView {
        let mut view = CtView::none(state);
        self.fill(&mut view, h, state, reply_dir);
        view
    }

    /// [`Table::view`], written into `view` (the engine's context: no
    /// copy of a copy for every packet). Returns `h`.
    pub fn fill(&self, view: &mut CtView, h: Handle, state: CtState, reply_dir: bool) -> Handle {
        let confirmed = matches!(h, Handle::Confirmed(_));
        view.set(state, self.get(h).copied(), confirmed, reply_dir, self.now);
        h
    }

    /// No connection: INVALID.
    fn invalid(view: &mut CtView) -> Handle {
        *view = CtView::none(CtState::Invalid);
        Handle::None
    }

    /// Moves the clock to the packet's time (never backwards) and returns
    /// the time now.
    pub fn advance(&mut self, pkt: &Packet) -> f64 {
        if let Some(t) = pkt.time {
            if t > self.now {
                self.now = t;
            }
        }
        self.now
    }

    /// Classifies `pkt` and updates its connection (see the module docs).
    pub fn track(&mut self, pkt: &Packet) -> Tracked {
        let mut view = CtView::none(CtState::Invalid);
        let handle = self.track_into(pkt, &mut view);
        Tracked {
            view,
            handle,
            now: self.now,
        }
    }

    /// [`Table::track`], the view written into `view`: returns the handle.
    pub fn track_into(&mut self, pkt: &Packet, view: &mut CtView) -> Handle {
        self.advance(pkt);
        self.pending = None;
        self.orig_free_at = None;
        // tcp_error, udp_error, icmp_error: with nf_conntrack_checksum, a
        // wrong checksum on arrival (PREROUTING; not through lo, whose
        // packets need no check) is INVALID.
        let arriving = !pkt.iface_in.is_empty() || pkt.iface_out.is_empty();
        if self.sysctl.checksum && pkt.bad_checksum && arriving && pkt.iface_in != "lo" {
            return Self::invalid(view);
        }
        // ICMP errors: RELATED to the connection of the quoted packet
        // (icmp_error_message), INVALID when there is none.
        if let Transport::Icmp { typ, inner, .. } = &pkt.transport {
            if is_icmp_error(*typ) {
                let Some(q) = inner else {
                    return Self::invalid(view);
                };
                // icmp_error_message looks up the inverse of the quoted
                // tuple: the error travels back the way the quoted packet
                // came (after any NAT that packet met).
                // nf_conntrack_inet_error then wants the error's
                // destination to be that direction's (the found tuple is
                // the looked-up one): else INVALID.
                let Some((id, reply)) = invert(&tuple_of(q))
                    .filter(|t| t.dst == pkt.dst)
                    .and_then(|t| self.find(&t))
                else {
                    return Self::invalid(view);
                };
                return self.fill(view, Handle::Confirmed(id), CtState::Related, reply);
            }
        }
        if let Transport::Tcp { flags, .. } = &pkt.transport {
            if !tcp_flags_valid(*flags) {
                return Self::invalid(view);
            }
        }
        let t = tuple_of(pkt);
        match self.find(&t) {
            Some((id, reply)) => self.existing(id, reply, pkt, view),
            None => {
                self.orig_free_at = Some(self.by_tuple.changes);
                self.fresh(t, pkt, view)
            }
        }
    }

    /// A packet without a connection: `init_conntrack` and the protocol's
    /// `new` check.
    fn fresh(&mut self, t: Tuple, pkt: &Packet, view: &mut CtView) -> Handle {
        let now = self.now;
        let (proto, expires) = match &pkt.transport {
            Transport::Tcp { flags, .. } => {
                // tcp_new: only a SYN starts a connection; a bare ACK picks
                // one up when nf_conntrack_tcp_loose is set.
                let seg = Segment::of(pkt);
                match tcp_next(false, tcp_index(*flags), TcpState::None) {
                    Next::To(TcpState::SynSent) => {
                        let mut w = seg.as_ref().map(Window::from_syn).unwrap_or_default();
                        if let Some(sg) = &seg {
                            w.check(false, false, 0, sg);
                        }
                        let to = self.sysctl.tcp_timeouts.syn_sent;
                        (Proto::Tcp(TcpState::SynSent, w), f64::from(to))
                    }
                    Next::To(TcpState::Established) if self.sysctl.tcp_loose => {
                        // Picked up: ESTABLISHED without SEEN_REPLY is kept
                        // at the UNACK timeout (nf_conntrack_tcp_packet).
                        let w = Window::picked_up(seg.as_ref());
                        let to = self.sysctl.tcp_timeouts.unacknowledged;
                        (Proto::Tcp(TcpState::Established, w), f64::from(to))
                    }
                    _ => return Self::invalid(view),
                }
            }
            Transport::Udp { .. } => (
                Proto::Udp {
                    stream_after: now + 2.0,
                },
                f64::from(self.sysctl.udp_timeout),
            ),
            Transport::Icmp { typ, .. } => {
                if icmp_reply_type(*typ).is_none() {
                    return Self::invalid(view);
                }
                (Proto::Icmp, f64::from(self.sysctl.icmp_timeout))
            }
            Transport::Other(_) => (Proto::Generic, timeout::GENERIC),
        };
        let Some(reply) = invert(&t) else {
            return Self::invalid(view);
        };
        self.pending = Some(Conn {
            orig: t,
            reply,
            status: 0,
            proto,
            expires: now + expires,
            nat_done: (false, false),
        });
        self.fill(view, Handle::Unconfirmed, CtState::New, false)
    }

    /// The RST checks of the TCP_CONNTRACK_CLOSE case of
    /// nf_conntrack_tcp_packet, once the peer's highest ACK is known and
    /// the last packet was no SYN: an RST below it is INVALID; on an
    /// established (ASSURED) connection one that does not hit it exactly,
    /// and does not follow this side's data, keeps the state (the
    /// receiver will answer with a challenge ACK).
    fn rst_check(&self, c: &Conn, win: &Window, old: TcpState, dir: usize, seq: u32) -> RstCheck {
        let Some(maxack) = win.maxack(1 - dir) else {
            return RstCheck::Close;
        };
        if win.last.is_some_and(|l| l.syn()) {
            return RstCheck::Close;
        }
        let established = old == TcpState::Established && c.status & status::ASSURED != 0;
        if seq == 0 && !established {
            return RstCheck::Close;
        }
        if before(seq, maxack) && !self.sysctl.tcp_ignore_invalid_rst {
            return RstCheck::Invalid;
        }
        let train = win
            .last
            .is_some_and(|l| l.ack() && l.dir == dir && l.end == Some(seq));
        if !established || seq == maxack || train {
            RstCheck::Close
        } else {
            RstCheck::Keep
        }
    }

    /// A TCP packet the state machine ignores (sIG): accepted with its
    /// connection, which is not refreshed; a reply still sets SEEN_REPLY
    /// (nf_conntrack_in does after the protocol handler).
    fn ignored(&mut self, id: usize, reply: bool, state: CtState, view: &mut CtView) -> Handle {
        if reply {
            if let Some(c) = self.conns.get_mut(id) {
                c.status |= status::SEEN_REPLY;
            }
        }
        self.fill(view, Handle::Confirmed(id), state, reply)
    }

    /// A packet of a known connection.
    fn existing(&mut self, id: usize, reply: bool, pkt: &Packet, view: &mut CtView) -> Handle {
        let now = self.now;
        let Some(mut c) = self.conns.get(id).copied() else {
            return self.fresh(tuple_of(pkt), pkt, view);
        };
        // resolve_normal_ct: the state before the protocol handler.
        let state = if reply || c.status & status::SEEN_REPLY != 0 {
            CtState::Established
        } else {
            CtState::New
        };
        let h = Handle::Confirmed(id);
        match (&pkt.transport, c.proto) {
            (Transport::Tcp { flags, .. }, Proto::Tcp(old, mut win)) => {
                let idx = tcp_index(*flags);
                let seen_reply = c.status & status::SEEN_REPLY != 0;
                let dir = usize::from(reply);
                let is_rst = idx == TcpIndex::Rst;
                let new = match tcp_next(reply, idx, old) {
                    Next::Invalid => return Self::invalid(view),
                    Next::To(TcpState::SynSent)
                        if matches!(old, TcpState::TimeWait | TcpState::Close)
                            && (win.close_init
                                || win.last.is_some_and(|l| l.dir == dir && l.rst())) =>
                    {
                        // A SYN on a connection closed by a FIN, or reset
                        // by this side, reopens it (the sSS case of
                        // nf_conntrack_tcp_packet: kill, look up again).
                        self.remove(id);
                        return self.fresh(tuple_of(pkt), pkt, view);
                    }
                    Next::To(TcpState::SynSent)
                        if !matches!(old, TcpState::TimeWait | TcpState::Close) =>
                    {
                        TcpState::SynSent
                    }
                    Next::To(TcpState::SynSent) | Next::Ignore => {
                        // sIG (and a SYN the reopen test refused): let it
                        // through untouched (no refresh).
                        win.last = Some(Last {
                            dir,
                            flags: *flags,
                            end: Segment::of(pkt).map(|s| s.end),
                        });
                        if let Some(slot) = self.conns.get_mut(id) {
                            slot.proto = Proto::Tcp(old, win);
                        }
                        return self.ignored(id, reply, state, view);
                    }
                    Next::To(s) => s,
                };
                let seg = Segment::of(pkt);
                let mut new = new;
                // An RST on a closing connection skips every check
                // (tcp_can_early_drop: goto in_window).
                let closing = matches!(
                    old,
                    TcpState::FinWait
                        | TcpState::CloseWait
                        | TcpState::LastAck
                        | TcpState::TimeWait
                        | TcpState::Close
                );
                // An RST answering a SYN (after a reply) or an ACK (not
                // assured) let through before, acking its end, skips the
                // window too ("RST sent to invalid SYN or ACK").
                let ack = match pkt.transport {
                    Transport::Tcp { ack, .. } => ack,
                    _ => None,
                };
                let answers_last = is_rst
                    && new == TcpState::Close
                    && win.last.is_some_and(|l| {
                        ((seen_reply && l.syn()) || (c.status & status::ASSURED == 0 && l.ack()))
                            && ack.is_some()
                            && ack == l.end
                    });
                let checked = seg
                    .as_ref()
                    .filter(|_| !(answers_last || is_rst && closing));
                if let Some(sg) = checked {
                    if is_rst && new == TcpState::Close {
                        match self.rst_check(&c, &win, old, dir, sg.seq) {
                            RstCheck::Close => {}
                            RstCheck::Invalid => return Self::invalid(view),
                            RstCheck::Keep => new = old,
                        }
                    }
                    let syn_sent = old == TcpState::SynSent;
                    let syn_recv = old == TcpState::SynRecv;
                    let verdict = match win.check(syn_sent, syn_recv, dir, sg) {
                        _ if self.sysctl.tcp_be_liberal => InWindow::Accept,
                        v => v,
                    };
                    if verdict != InWindow::Accept {
                        // The window data a first segment set up stays.
                        if let Some(slot) = self.conns.get_mut(id) {
                            slot.proto = Proto::Tcp(old, win);
                        }
                        if verdict == InWindow::Invalid {
                            return Self::invalid(view);
                        }
                        return self.ignored(id, reply, state, view);
                    }
                }
                if !seen_reply && idx == TcpIndex::Rst {
                    // "If only reply is a RST ... delete the conntrack
                    // immediately" (nf_ct_kill): the packet still has it,
                    // NAT binding included (a DNATed SYN's RST goes where
                    // the SYN went); no later packet finds it.
                    // nf_conntrack_in still sets SEEN_REPLY for a reply.
                    if let Some(slot) = self.conns.get_mut(id) {
                        slot.expires = now;
                        if reply {
                            slot.status |= status::SEEN_REPLY;
                        }
                    }
                    return self.fill(view, h, state, reply);
                }
                let tt = self.sysctl.tcp_timeouts;
                // A segment retransmitted max_retrans times in a row cuts
                // a longer timeout first (nf_conntrack_tcp_packet).
                let retrans = f64::from(tt.max_retrans);
                let cut = win.retrans >= self.sysctl.tcp_max_retrans && tt.of(new) > retrans;
                let mut to = if cut {
                    retrans
                } else {
                    tt.of(if idx == TcpIndex::Rst {
                        TcpState::Close
                    } else {
                        new
                    })
                };
                let unack = f64::from(tt.unacknowledged);
                if !cut && !seen_reply && new == TcpState::Established && to > unack {
                    // ESTABLISHED without SEEN_REPLY (a pickup).
                    to = unack;
                }
                if seen_reply
                    && matches!(old, TcpState::SynRecv | TcpState::Established)
                    && new == TcpState::Established
                {
                    c.status |= status::ASSURED;
                }
                if reply {
                    c.status |= status::SEEN_REPLY;
                }
                // In window: remember the last packet and a close begun
                // by a FIN (IP_CT_TCP_FLAG_CLOSE_INIT).
                win.last = Some(Last {
                    dir,
                    flags: *flags,
                    end: seg.map(|s| s.end),
                });
                win.close_init |= old != new && new == TcpState::FinWait;
                c.proto = Proto::Tcp(new, win);
                c.expires = now + to;
            }
            (Transport::Udp { .. }, Proto::Udp { stream_after }) => {
                // nf_conntrack_udp_packet: seen both ways (before this
                // packet) and older than two seconds is a stream
                // (ASSURED, longer timeout); nf_conntrack_in sets
                // SEEN_REPLY afterwards.
                if c.status & status::SEEN_REPLY != 0 && now > stream_after {
                    c.status |= status::ASSURED;
                    c.expires = now + f64::from(self.sysctl.udp_timeout_stream);
                } else {
                    c.expires = now + f64::from(self.sysctl.udp_timeout);
                }
                if reply {
                    c.status |= status::SEEN_REPLY;
                }
            }
            (_, Proto::Icmp) => {
                if reply {
                    c.status |= status::SEEN_REPLY;
                }
                c.expires = now + f64::from(self.sysctl.icmp_timeout);
            }
            _ => {
                if reply {
                    c.status |= status::SEEN_REPLY;
                    c.status |= status::ASSURED;
                }
                c.expires = now + timeout::GENERIC;
            }
        }
        // The view from `c` itself (read back from its slot, it would
        // wait for the stores about to be made there).
        view.set(state, Some(c), true, reply, now);
        if let Some(slot) = self.conns.get_mut(id) {
            *slot = c;
        }
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: &str) -> Packet {
        Packet::parse_line(line).unwrap()
    }

    fn track_confirm(t: &mut Table, line: &str) -> CtState {
        let r = t.track(&p(line));
        t.confirm(r.handle);
        r.view.state
    }

    const C2S: &str = "IN=eth0 OUT= SRC=10.0.0.2 DST=10.0.0.1 PROTO=TCP SPT=40000 DPT=22";
    const S2C: &str = "IN= OUT=eth0 SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP SPT=22 DPT=40000";

    /// A table holding one connection established with known sequence
    /// numbers (client 100, server 700).
    fn numbered() -> Table {
        let mut t = Table::default();
        track_confirm(
            &mut t,
            &format!("{C2S} LEN=40 SEQ=100 ACK=0 WINDOW=64240 SYN"),
        );
        track_confirm(
            &mut t,
            &format!("{S2C} LEN=40 SEQ=700 ACK=101 WINDOW=65160 ACK SYN"),
        );
        let ack = format!("{C2S} LEN=40 SEQ=101 ACK=701 WINDOW=502 ACK");
        assert_eq!(track_confirm(&mut t, &ack), CtState::Established);
        t
    }

    /// A table holding one established connection (SYN, SYN-ACK, ACK).
    fn established() -> Table {
        let mut t = Table::default();
        for l in [SYN, SYNACK, ACK] {
            track_confirm(&mut t, l);
        }
        t
    }

    const SYN: &str =
        "[ 1.0] IN=eth0 OUT= SRC=10.0.0.2 DST=10.0.0.1 PROTO=TCP SPT=40000 DPT=22 SYN";
    const SYNACK: &str =
        "[ 1.1] IN= OUT=eth0 SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP SPT=22 DPT=40000 ACK SYN";
    const ACK: &str =
        "[ 1.2] IN=eth0 OUT= SRC=10.0.0.2 DST=10.0.0.1 PROTO=TCP SPT=40000 DPT=22 ACK";

    /// tcp_conntracks: SYN -> SYN_SENT (NEW), SYN/ACK reply -> SYN_RECV
    /// (ESTABLISHED, sets SEEN_REPLY), ACK -> ESTABLISHED + ASSURED
    /// (nf_conntrack_tcp_packet).
    #[test]
    fn tcp_handshake() {
        let mut t = Table::default();
        assert_eq!(track_confirm(&mut t, SYN), CtState::New);
        assert_eq!(track_confirm(&mut t, SYNACK), CtState::Established);
        assert_eq!(track_confirm(&mut t, ACK), CtState::Established);
        let c = t.conns().next().unwrap();
        assert!(matches!(c.proto, Proto::Tcp(TcpState::Established, _)));
        assert_eq!(
            c.status & (status::SEEN_REPLY | status::ASSURED | status::CONFIRMED),
            status::SEEN_REPLY | status::ASSURED | status::CONFIRMED
        );
        assert_eq!(c.expires, 1.2 + timeout::TCP_ESTABLISHED);
    }

    /// tcp_error's tcp_valid_flags: SYN+FIN, SYN+RST, a NULL scan and
    /// XMAS are INVALID; tcp_new: SYN/ACK, RST, FIN/ACK without a
    /// connection are INVALID; a bare ACK is picked up when
    /// nf_conntrack_tcp_loose=1 and INVALID when 0.
    #[test]
    fn tcp_invalid_without_connection() {
        let mut t = Table::default();
        let base = "IN=eth0 OUT= SRC=10.0.0.2 DST=10.0.0.1 PROTO=TCP SPT=1 DPT=2";
        for flags in [
            "SYN FIN",
            "RST SYN",
            "",
            "URG PSH FIN",
            "ACK SYN",
            "RST",
            "ACK FIN",
        ] {
            let r = t.track(&p(&format!("{base} {flags}")));
            assert_eq!(r.view.state, CtState::Invalid, "{flags}");
        }
        assert_eq!(
            t.track(&p(&format!("{base} ACK PSH"))).view.state,
            CtState::New
        );
        let mut strict = Table::new(Sysctl {
            tcp_loose: false,
            ..Sysctl::default()
        });
        assert_eq!(
            strict.track(&p(&format!("{base} ACK"))).view.state,
            CtState::Invalid
        );
    }

    /// An unconfirmed connection (its packet dropped) leaves no entry.
    #[test]
    fn dropped_first_packet_is_forgotten() {
        let mut t = Table::default();
        assert_eq!(t.track(&p(SYN)).view.state, CtState::New);
        assert_eq!(t.track(&p(SYNACK)).view.state, CtState::Invalid);
        assert_eq!(t.conns().count(), 0);
    }

    /// UDP: NEW, then ESTABLISHED both ways; expiry after 30 s unreplied.
    #[test]
    fn udp_and_expiry() {
        let mut t = Table::default();
        let out = "[ 10.0] IN= OUT=eth0 SRC=10.0.0.1 DST=9.9.9.9 PROTO=UDP SPT=5000 DPT=53";
        let back = "[ 10.5] IN=eth0 OUT= SRC=9.9.9.9 DST=10.0.0.1 PROTO=UDP SPT=53 DPT=5000";
        assert_eq!(track_confirm(&mut t, out), CtState::New);
        assert_eq!(track_confirm(&mut t, back), CtState::Established);
        let c = t.conns().next().unwrap();
        assert_eq!(c.status & status::ASSURED, 0);
        assert_eq!(c.expires, 10.5 + timeout::UDP_UNREPLIED);
        let late = "[ 41.0] IN= OUT=eth0 SRC=10.0.0.1 DST=9.9.9.9 PROTO=UDP SPT=5000 DPT=53";
        assert_eq!(track_confirm(&mut t, late), CtState::New);
        // Replied and still going after 2 s: a stream, ASSURED, 120 s.
        let again = "[ 44.0] IN=eth0 OUT= SRC=9.9.9.9 DST=10.0.0.1 PROTO=UDP SPT=53 DPT=5000";
        let more = "[ 44.1] IN= OUT=eth0 SRC=10.0.0.1 DST=9.9.9.9 PROTO=UDP SPT=5000 DPT=53";
        track_confirm(&mut t, again);
        assert_eq!(track_confirm(&mut t, more), CtState::Established);
        let c = t.conns().next().unwrap();
        assert_eq!(c.status & status::ASSURED, status::ASSURED);
        assert_eq!(c.expires, 44.1 + timeout::UDP_REPLIED);
    }

    /// ICMP: echo request NEW, reply ESTABLISHED; a lone echo reply is
    /// INVALID (icmp_new's valid_new[]); an error quoting a tracked
    /// connection is RELATED, quoting nothing known INVALID.
    #[test]
    fn icmp_echo_and_errors() {
        let mut t = Table::default();
        let req = "IN=eth0 OUT= SRC=10.0.0.2 DST=10.0.0.1 PROTO=ICMP TYPE=8 CODE=0 ID=7 SEQ=1";
        let rep = "IN= OUT=eth0 SRC=10.0.0.1 DST=10.0.0.2 PROTO=ICMP TYPE=0 CODE=0 ID=7 SEQ=1";
        let stray = "IN=eth0 OUT= SRC=10.0.0.3 DST=10.0.0.1 PROTO=ICMP TYPE=0 CODE=0 ID=9 SEQ=1";
        assert_eq!(track_confirm(&mut t, req), CtState::New);
        assert_eq!(track_confirm(&mut t, rep), CtState::Established);
        assert_eq!(track_confirm(&mut t, stray), CtState::Invalid);
        let udp = "IN= OUT=eth0 SRC=10.0.0.1 DST=10.0.0.2 PROTO=UDP SPT=5000 DPT=33434";
        track_confirm(&mut t, udp);
        let err = "IN=eth0 OUT= SRC=10.0.0.2 DST=10.0.0.1 PROTO=ICMP TYPE=3 CODE=3 [SRC=10.0.0.1 DST=10.0.0.2 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=0 PROTO=UDP SPT=5000 DPT=33434 LEN=8 ]";
        let r = t.track(&p(err));
        assert_eq!(r.view.state, CtState::Related);
        assert!(r.view.reply_dir);
        let unknown = err.replace("SPT=5000", "SPT=5001");
        assert_eq!(t.track(&p(&unknown)).view.state, CtState::Invalid);
        // Found by tests/live_stateful.rs: the same error to another of
        // the host's addresses is INVALID (nf_conntrack_inet_error: the
        // outer destination must be the connection's).
        let elsewhere = err.replace(
            "SRC=10.0.0.2 DST=10.0.0.1 PROTO=ICMP",
            "SRC=10.0.0.2 DST=10.0.0.7 PROTO=ICMP",
        );
        assert_eq!(t.track(&p(&elsewhere)).view.state, CtState::Invalid);
    }

    /// nf_conntrack_udp_timeout and _tcp_timeout_established (checked
    /// live by tests/live_stateful.rs with 1 s and 2 s): a flow idle
    /// longer is gone.
    #[test]
    fn timeout_sysctls() {
        let mut t = Table::new(Sysctl {
            udp_timeout: 1,
            tcp_loose: false,
            tcp_timeouts: TcpTimeouts {
                established: 2,
                ..TcpTimeouts::default()
            },
            ..Sysctl::default()
        });
        let out = "IN= OUT=eth0 SRC=10.0.0.1 DST=10.0.0.2 PROTO=UDP SPT=40053 DPT=53";
        let back = "IN=eth0 OUT= SRC=10.0.0.2 DST=10.0.0.1 PROTO=UDP SPT=53 DPT=40053";
        let ack = format!("{C2S} SEQ=101 ACK=701 WINDOW=502 ACK");
        let steps = [
            ("10.0", out.to_string()),
            ("10.5", back.to_string()),
            ("12.0", back.to_string()),
            ("20.0", format!("{C2S} SEQ=100 ACK=0 SYN")),
            (
                "20.1",
                format!("{S2C} SEQ=700 ACK=101 WINDOW=65160 ACK SYN"),
            ),
            ("20.2", ack.clone()),
            ("21.5", ack.clone()),
            ("24.0", ack),
        ];
        let states: Vec<CtState> = steps
            .iter()
            .map(|(at, l)| track_confirm(&mut t, &format!("[{at}] {l}")))
            .collect();
        use CtState::*;
        // UDP: replied within 1 s, NEW after; TCP: idle past 2 s, the
        // next ACK has no connection (INVALID without loose).
        assert_eq!(
            states,
            [
                New,
                Established,
                New,
                New,
                Established,
                Established,
                Established,
                Invalid
            ]
        );
    }

    /// A RST as the only reply kills the connection (nf_conntrack_tcp_packet).
    #[test]
    fn rst_reply_kills() {
        let mut t = Table::default();
        track_confirm(&mut t, SYN);
        let rst = "IN= OUT=eth0 SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP SPT=22 DPT=40000 ACK RST";
        assert_eq!(track_confirm(&mut t, rst), CtState::Established);
        assert_eq!(t.conns().count(), 0);
    }

    /// tcp_in_window through the table: with SEQ/ACK known, a segment
    /// beyond the receiver's window is INVALID and changes nothing; the
    /// same segment without numbers counts as in window.
    #[test]
    fn out_of_window_is_invalid() {
        let mut t = numbered();
        let base = C2S;
        let far = format!("{base} LEN=1040 SEQ=3000101 ACK=701 WINDOW=502 ACK PSH");
        assert_eq!(t.track(&p(&far)).view.state, CtState::Invalid);
        let blind = format!("{base} LEN=1040 WINDOW=502 ACK PSH");
        assert_eq!(t.track(&p(&blind)).view.state, CtState::Established);
        t.sysctl.tcp_be_liberal = true;
        assert_eq!(t.track(&p(&far)).view.state, CtState::Established);
    }

    /// The close of tcp_conntracks: FIN -> FIN_WAIT, ACK -> CLOSE_WAIT,
    /// FIN -> LAST_ACK, ACK -> TIME_WAIT, each with its timeout; a new
    /// SYN on TIME_WAIT reopens (NEW).
    #[test]
    fn tcp_close_and_reopen() {
        let mut t = established();
        let c2s = "IN=eth0 OUT= SRC=10.0.0.2 DST=10.0.0.1 PROTO=TCP SPT=40000 DPT=22";
        let s2c = "IN= OUT=eth0 SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP SPT=22 DPT=40000";
        let steps = [
            (
                format!("[ 2.0] {c2s} ACK FIN"),
                TcpState::FinWait,
                timeout::TCP_FIN_WAIT,
            ),
            (
                format!("[ 2.1] {s2c} ACK"),
                TcpState::CloseWait,
                timeout::TCP_CLOSE_WAIT,
            ),
            (
                format!("[ 2.2] {s2c} ACK FIN"),
                TcpState::LastAck,
                timeout::TCP_LAST_ACK,
            ),
            (
                format!("[ 2.3] {c2s} ACK"),
                TcpState::TimeWait,
                timeout::TCP_TIME_WAIT,
            ),
        ];
        for (line, state, to) in steps {
            assert_eq!(track_confirm(&mut t, &line), CtState::Established, "{line}");
            let c = t.conns().next().unwrap();
            assert!(matches!(c.proto, Proto::Tcp(s, _) if s == state), "{line}");
            assert_eq!(c.expires, t.now + to);
        }
        assert_eq!(
            track_confirm(&mut t, &format!("[ 3.0] {c2s} SYN")),
            CtState::New
        );
        let c = t.conns().next().unwrap();
        assert!(matches!(c.proto, Proto::Tcp(TcpState::SynSent, _)));
    }

    /// nf_conntrack_tcp_packet's sSS case: after the server's RST (no FIN,
    /// not this side's RST) a new SYN from the client is ignored, not a
    /// reopen: it keeps the closing connection's state.
    #[test]
    fn syn_after_peer_reset_is_ignored() {
        let mut t = established();
        let rst = "[ 2.0] IN= OUT=eth0 SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP SPT=22 DPT=40000 RST";
        assert_eq!(track_confirm(&mut t, rst), CtState::Established);
        let syn = "[ 2.5] IN=eth0 OUT= SRC=10.0.0.2 DST=10.0.0.1 PROTO=TCP SPT=40000 DPT=22 SYN";
        assert_eq!(track_confirm(&mut t, syn), CtState::Established);
        let c = t.conns().next().unwrap();
        assert!(matches!(c.proto, Proto::Tcp(TcpState::Close, _)));
        assert_eq!(c.expires, 2.0 + timeout::TCP_CLOSE);
    }

    /// The RST checks of nf_conntrack_tcp_packet on an ASSURED connection:
    /// an in-window RST off the expected sequence keeps ESTABLISHED (a
    /// challenge ACK may follow), one below the peer's ACK is INVALID, the
    /// exact one closes.
    #[test]
    fn rst_sequence_checks() {
        let mut t = numbered();
        let (c2s, s2c) = (C2S, S2C);
        track_confirm(
            &mut t,
            &format!("{s2c} LEN=40 SEQ=701 ACK=101 WINDOW=509 ACK"),
        );
        let state = |t: &Table| t.conns().next().map(|c| c.proto);
        let off = format!("{c2s} LEN=40 SEQ=5000 ACK=701 WINDOW=502 ACK RST");
        assert_eq!(track_confirm(&mut t, &off), CtState::Established);
        assert!(matches!(
            state(&t),
            Some(Proto::Tcp(TcpState::Established, _))
        ));
        let stale = format!("{c2s} LEN=40 SEQ=50 ACK=701 WINDOW=502 ACK RST");
        assert_eq!(t.track(&p(&stale)).view.state, CtState::Invalid);
        let exact = format!("{c2s} LEN=40 SEQ=101 ACK=701 WINDOW=502 ACK RST");
        assert_eq!(track_confirm(&mut t, &exact), CtState::Established);
        assert!(matches!(state(&t), Some(Proto::Tcp(TcpState::Close, _))));
    }
}
