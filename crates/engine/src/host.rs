//! The host the rules run on: its interfaces and addresses, its listening
//! sockets, the kernel settings the engine models, and the packets Linux
//! sends back for packets it accepts.
//!
//! # Contract
//! * [`Host::option`] takes one host option as the CLI spells it
//!   (`--iface NAME=ADDR/PREFIX`, `--listen tcp/22,udp/53`, `--sysctl
//!   KEY=VALUE`, `--join [IFACE=]GROUP` for a socket's multicast
//!   membership, `--sets FILE` holding what `ipset save` writes);
//!   [`Host::parse_file`] reads a host file holding the same
//!   options one per line without the dashes (`iface eth0=10.0.0.1/24`),
//!   `#` starting a comment. Errors are messages, never panics.
//! * Defaults are a fresh kernel's: `nf_conntrack_tcp_loose=1`,
//!   `nf_conntrack_checksum=1`, `nf_conntrack_tcp_be_liberal=0`,
//!   `nf_conntrack_tcp_ignore_invalid_rst=0`, `nf_conntrack_udp_timeout=30`,
//!   `nf_conntrack_udp_timeout_stream=120`, `nf_conntrack_icmp_timeout=30`,
//!   `nf_conntrack_tcp_timeout_{syn_sent,syn_recv,established,fin_wait,
//!   close_wait,last_ack,time_wait,close,unacknowledged,max_retrans}` as
//!   Linux's, `nf_conntrack_tcp_max_retrans=3`,
//!   `icmp_ratelimit=1000` (ms),
//!   `icmp_ratemask=6168`, `icmp_msgs_per_sec=1000`, `icmp_msgs_burst=50`,
//!   `rp_filter=0`, `ip_forward=0`, `tcp_rmem=4096 131072 6291456`,
//!   `rmem_max=212992`, `ipfrag_time=30`, `tcp_synack_retries=5`,
//!   `icmp_echo_ignore_broadcasts=1`. With
//!   no interface, every arriving packet is for this host.
//! * [`Host::reject`] is the packet a REJECT rule sends.
//! * [`Host::reply`] is the packet the stack answers an accepted local
//!   packet with: SYN-ACK from a listening TCP port (window and window
//!   scale as Linux picks them), RST to an ACK there and to anything but
//!   an RST at a closed port, nothing to a wrong checksum, ICMP port
//!   unreachable from a closed UDP port (rate limited per destination as
//!   `icmpv4_xrlim_allow` does), echo reply to an echo request. The reply
//!   leaves by the interface the packet came in on.

use crate::conntrack::Sysctl as CtSysctl;
use crate::eval::tcp_has_option;
use crate::packet::{tcp_flags as F, Packet, Transport};
use crate::tcp_window::{before, Segment};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

/// An interface with one IPv4 address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Iface {
    /// Its name.
    pub name: String,
    /// Its address.
    pub addr: Ipv4Addr,
    /// The prefix length of its subnet.
    pub prefix: u8,
}

impl Iface {
    fn contains(&self, ip: IpAddr) -> bool {
        let IpAddr::V4(ip) = ip else {
            return false;
        };
        let mask = u32::MAX
            .checked_shl(32 - u32::from(self.prefix))
            .unwrap_or(0);
        u32::from(ip) & mask == u32::from(self.addr) & mask
    }
}

/// The kernel settings the engine models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sysctl {
    /// The conntrack settings.
    pub ct: CtSysctl,
    /// `net.ipv4.icmp_ratelimit`, milliseconds per destination.
    pub icmp_ratelimit: u32,
    /// `net.ipv4.icmp_ratemask`: which ICMP types are limited.
    pub icmp_ratemask: u32,
    /// `net.ipv4.icmp_msgs_per_sec`.
    pub icmp_msgs_per_sec: u32,
    /// `net.ipv4.icmp_msgs_burst`.
    pub icmp_msgs_burst: u32,
    /// `net.ipv4.conf.all.rp_filter`: 0 off, 1 strict, 2 loose.
    pub rp_filter: u8,
    /// `net.ipv4.ip_forward`.
    pub ip_forward: bool,
    /// The largest receive buffer (`net.ipv4.tcp_rmem`'s third value),
    /// which sets the SYN-ACK's window scale.
    pub tcp_rmem_max: u32,
    /// `net.core.rmem_max`, which also bounds the window scale from below.
    pub rmem_max: u32,
    /// `net.ipv4.ipfrag_time`: seconds a datagram's fragments wait for
    /// the rest.
    pub ipfrag_time: u32,
    /// `net.ipv4.tcp_synack_retries`: how often a half-open connection's
    /// SYN-ACK is sent again.
    pub tcp_synack_retries: u32,
    /// `net.ipv4.icmp_echo_ignore_broadcasts`: echo requests to a
    /// broadcast or multicast address go unanswered.
    pub icmp_echo_ignore_broadcasts: bool,
}

impl Default for Sysctl {
    fn default() -> Self {
        Sysctl {
            ct: CtSysctl::default(),
            icmp_ratelimit: 1000,
            icmp_ratemask: 6168,
            icmp_msgs_per_sec: 1000,
            icmp_msgs_burst: 50,
            rp_filter: 0,
            ip_forward: false,
            tcp_rmem_max: 6_291_456,
            rmem_max: 212_992,
            ipfrag_time: 30,
            tcp_synack_retries: 5,
            icmp_echo_ignore_broadcasts: true,
        }
    }
}

/// The host.
#[derive(Debug, Clone, Default)]
pub struct Host {
    /// Interfaces in the order given; the first is the default route.
    pub ifaces: Vec<Iface>,
    /// Listening sockets: (protocol number, port).
    pub listen: Vec<(u8, u16)>,
    /// Kernel settings.
    pub sysctl: Sysctl,
    /// Multicast groups joined by sockets (`--join [IFACE=]GROUP`): the
    /// interface (`None`: every one) and the group.
    pub groups: Vec<(Option<String>, Ipv4Addr)>,
    /// The ipsets (`--sets FILE`: what `ipset save` writes).
    pub sets: crate::ipset::Sets,
    /// Per-destination ICMP token buckets: (tokens ms, last time ms).
    peers: HashMap<IpAddr, (f64, f64)>,
    /// The global ICMP bucket: (credit, last time s).
    global: Option<(f64, f64)>,
}

fn parse_num<T: std::str::FromStr>(key: &str, v: &str) -> Result<T, String> {
    v.trim()
        .parse()
        .map_err(|_| format!("--sysctl {key}: bad value `{v}'"))
}

impl Host {
    /// Applies one host option (`--iface`, `--listen`, `--sysctl`) with
    /// its value.
    pub fn option(&mut self, name: &str, value: &str) -> Result<(), String> {
        match name.trim_start_matches('-') {
            "iface" => {
                let (n, a) = value
                    .split_once('=')
                    .ok_or_else(|| format!("--iface `{value}': expected NAME=ADDR/PREFIX"))?;
                let (addr, prefix) = a.split_once('/').unwrap_or((a, "32"));
                let addr: Ipv4Addr = addr
                    .parse()
                    .map_err(|_| format!("--iface `{value}': bad address"))?;
                let prefix: u8 = prefix
                    .parse()
                    .ok()
                    .filter(|p| *p <= 32)
                    .ok_or_else(|| format!("--iface `{value}': bad prefix"))?;
                if n.is_empty() {
                    return Err(format!("--iface `{value}': empty name"));
                }
                self.ifaces.push(Iface {
                    name: n.to_string(),
                    addr,
                    prefix,
                });
            }
            "listen" => {
                for item in value.split(',').filter(|s| !s.is_empty()) {
                    let (p, port) = item.split_once('/').ok_or_else(|| {
                        format!("--listen `{item}': expected tcp/PORT or udp/PORT")
                    })?;
                    let proto = match p {
                        "tcp" => 6,
                        "udp" => 17,
                        _ => return Err(format!("--listen `{item}': tcp or udp")),
                    };
                    let port = port
                        .parse()
                        .map_err(|_| format!("--listen `{item}': bad port"))?;
                    self.listen.push((proto, port));
                }
            }
            "sysctl" => {
                let (k, v) = value
                    .split_once('=')
                    .ok_or_else(|| format!("--sysctl `{value}': expected KEY=VALUE"))?;
                let key = k.trim().replace('/', ".");
                let short = key.rsplit('.').next().unwrap_or(&key);
                let s = &mut self.sysctl;
                match short {
                    "nf_conntrack_tcp_loose" => s.ct.tcp_loose = parse_num::<u32>(&key, v)? != 0,
                    "nf_conntrack_checksum" => s.ct.checksum = parse_num::<u32>(&key, v)? != 0,
                    "nf_conntrack_tcp_be_liberal" => {
                        s.ct.tcp_be_liberal = parse_num::<u32>(&key, v)? != 0
                    }
                    "nf_conntrack_tcp_ignore_invalid_rst" => {
                        s.ct.tcp_ignore_invalid_rst = parse_num::<u32>(&key, v)? != 0
                    }
                    "nf_conntrack_udp_timeout" => s.ct.udp_timeout = parse_num(&key, v)?,
                    "nf_conntrack_udp_timeout_stream" => {
                        s.ct.udp_timeout_stream = parse_num(&key, v)?
                    }
                    "nf_conntrack_icmp_timeout" => s.ct.icmp_timeout = parse_num(&key, v)?,
                    "nf_conntrack_tcp_max_retrans" => s.ct.tcp_max_retrans = parse_num(&key, v)?,
                    t if t.starts_with("nf_conntrack_tcp_timeout_") => {
                        let state = &t["nf_conntrack_tcp_timeout_".len()..];
                        if !s.ct.tcp_timeouts.set(state, parse_num(&key, v)?) {
                            return Err(format!("--sysctl {key}: not modelled"));
                        }
                    }
                    "icmp_ratelimit" => s.icmp_ratelimit = parse_num(&key, v)?,
                    "icmp_ratemask" => s.icmp_ratemask = parse_num(&key, v)?,
                    "icmp_msgs_per_sec" => s.icmp_msgs_per_sec = parse_num(&key, v)?,
                    "icmp_msgs_burst" => s.icmp_msgs_burst = parse_num(&key, v)?,
                    "rp_filter" => s.rp_filter = parse_num(&key, v)?,
                    "ip_forward" => s.ip_forward = parse_num::<u32>(&key, v)? != 0,
                    "tcp_rmem" => {
                        let max = v.split([' ', '\t', ',']).rfind(|w| !w.is_empty());
                        s.tcp_rmem_max = parse_num(&key, max.unwrap_or(""))?
                    }
                    "rmem_max" => s.rmem_max = parse_num(&key, v)?,
                    "ipfrag_time" => s.ipfrag_time = parse_num(&key, v)?,
                    "tcp_synack_retries" => s.tcp_synack_retries = parse_num(&key, v)?,
                    "icmp_echo_ignore_broadcasts" => {
                        s.icmp_echo_ignore_broadcasts = parse_num::<u32>(&key, v)? != 0
                    }
                    _ => return Err(format!("--sysctl {key}: not modelled")),
                }
            }
            "join" => {
                let (iface, group) = match value.split_once('=') {
                    Some((i, g)) => (Some(i.to_string()), g),
                    None => (None, value),
                };
                let group: Ipv4Addr = group
                    .parse()
                    .ok()
                    .filter(Ipv4Addr::is_multicast)
                    .ok_or_else(|| format!("--join `{value}': expected [IFACE=]GROUP"))?;
                self.groups.push((iface, group));
            }
            "sets" => {
                let text =
                    std::fs::read_to_string(value).map_err(|e| format!("--sets `{value}': {e}"))?;
                self.sets.load(&text)?;
            }
            other => return Err(format!("unknown host option `{other}'")),
        }
        Ok(())
    }

    /// Reads a host file (see the module docs).
    pub fn parse_file(&mut self, text: &str) -> Result<(), String> {
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let (k, v) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            self.option(k, v.trim())
                .map_err(|e| format!("line {}: {e}", n + 1))?;
        }
        Ok(())
    }

    /// Whether `ip` is one of the host's addresses (any address when no
    /// interface is configured; 127/8 always).
    pub fn is_local(&self, ip: IpAddr) -> bool {
        if let IpAddr::V4(v) = ip {
            if v.is_loopback() {
                return true;
            }
        }
        self.ifaces.is_empty() || self.ifaces.iter().any(|i| IpAddr::V4(i.addr) == ip)
    }

    /// Whether `ip` is 127/8 or an address of one of the interfaces (a
    /// packet sent there comes back in through `lo`).
    pub fn is_own(&self, ip: IpAddr) -> bool {
        matches!(ip, IpAddr::V4(v) if v.is_loopback())
            || self.ifaces.iter().any(|i| IpAddr::V4(i.addr) == ip)
    }

    /// The routing type of an address (`inet_addr_type`): BROADCAST (3)
    /// for 0/8, 255.255.255.255 and an interface's subnet broadcast,
    /// MULTICAST (5) for 224/4, LOCAL (2) for the host's own addresses
    /// and 127/8, else UNICAST (1).
    pub fn addr_type(&self, ip: IpAddr) -> u8 {
        let IpAddr::V4(v) = ip else {
            return 1;
        };
        let bits = u32::from(v);
        if bits >> 24 == 0 || v.is_broadcast() {
            return 3;
        }
        if v.is_multicast() {
            return 5;
        }
        if self.is_own(ip) {
            return 2;
        }
        let subnet_broadcast = self.ifaces.iter().any(|i| {
            i.prefix < 31 && i.contains(ip) && {
                let host = u32::MAX >> i.prefix;
                bits & host == host
            }
        });
        if subnet_broadcast {
            3
        } else {
            1
        }
    }

    /// Where `ip_route_input` sends a packet to `dst` arriving on
    /// `iface`: `Some(true)` delivered here (an own address, a broadcast,
    /// the all-hosts group 224.0.0.1 every interface joins, a group a
    /// socket joined there), `Some(false)` forwarded (when ip_forward
    /// allows), `None` dropped at routing: a destination in 0/8
    /// (martian), a multicast group not joined on that interface (no
    /// multicast routing: IGMP included, `ip_check_mc_rcu`).
    pub fn route_input(&self, dst: IpAddr, iface: &str) -> Option<bool> {
        let IpAddr::V4(v) = dst else {
            return Some(self.is_local(dst));
        };
        if v.is_broadcast() {
            return Some(true);
        }
        if u32::from(v) >> 24 == 0 {
            return None;
        }
        if v.is_multicast() {
            let joined = v == Ipv4Addr::new(224, 0, 0, 1)
                || self
                    .groups
                    .iter()
                    .any(|(i, g)| *g == v && i.as_deref().is_none_or(|i| i == iface));
            return joined.then_some(true);
        }
        Some(self.is_local(dst) || self.addr_type(dst) == 3)
    }

    /// The interface a packet to `ip` leaves by (longest prefix, the
    /// first-added address of equal ones: the primary address the kernel
    /// takes as source; the first interface is the default route).
    pub fn route(&self, ip: IpAddr) -> Option<&Iface> {
        self.ifaces
            .iter()
            .rev()
            .filter(|i| i.contains(ip))
            .max_by_key(|i| i.prefix)
            .or(self.ifaces.first())
    }

    /// The address of an interface.
    pub fn addr_of(&self, name: &str) -> Option<Ipv4Addr> {
        self.ifaces.iter().find(|i| i.name == name).map(|i| i.addr)
    }

    /// `fib_validate_source` under rp_filter: false when a packet from
    /// `src` arriving on `iface` is dropped.
    pub fn rp_ok(&self, src: IpAddr, iface: &str) -> bool {
        if self.sysctl.rp_filter != 1 || self.ifaces.is_empty() {
            return true;
        }
        self.route(src).is_none_or(|i| i.name == iface)
    }

    /// The window scale a SYN-ACK offers (`tcp_select_initial_window`):
    /// the largest receive buffer's log2 less 15, at most 14.
    fn wscale(&self) -> u8 {
        let space = self.sysctl.tcp_rmem_max.max(self.sysctl.rmem_max);
        (space.max(1).ilog2().saturating_sub(15)).min(14) as u8
    }

    fn listening(&self, proto: u8, port: u16) -> bool {
        self.listen.contains(&(proto, port))
    }

    /// Whether an ICMP error of type `typ` to `dst` may be sent, for a
    /// type in icmp_ratemask: `icmp_global_allow` (a credit of
    /// icmp_msgs_burst, refilled at icmp_msgs_per_sec once at least 20 ms
    /// passed while it is used up), then `icmpv4_xrlim_allow` per
    /// destination (inet_peer_xrlim_allow: icmp_ratelimit ms a message,
    /// a burst of 6; none for loopback), then one credit consumed (the
    /// kernel since 6.11 takes 0 to 2 at random: a live comparison has to
    /// keep the global limit out of reach).
    fn icmp_allowed(&mut self, typ: u8, dst: IpAddr, now: f64) -> bool {
        if typ > 18 || self.sysctl.icmp_ratemask & (1 << typ) == 0 {
            return true;
        }
        let (mut credit, mut stamp) = self.global.unwrap_or((0.0, f64::NEG_INFINITY));
        if credit <= 0.0 {
            let delta = (now - stamp).min(1.0);
            let incr = (f64::from(self.sysctl.icmp_msgs_per_sec) * delta).floor();
            if delta < 0.02 || incr < 1.0 {
                return false;
            }
            credit = (credit + incr).min(f64::from(self.sysctl.icmp_msgs_burst));
            stamp = now;
        }
        let ms = now * 1000.0;
        let limit = f64::from(self.sysctl.icmp_ratelimit);
        let loopback = matches!(dst, IpAddr::V4(v) if v.is_loopback());
        let peer_ok = limit == 0.0 || loopback || {
            let (tokens, last) = self.peers.get(&dst).copied().unwrap_or((6.0 * limit, ms));
            let tokens = (tokens + (ms - last)).min(6.0 * limit);
            let ok = tokens >= limit;
            self.peers
                .insert(dst, (if ok { tokens - limit } else { tokens }, ms));
            ok
        };
        if peer_ok {
            credit -= 1.0;
        }
        self.global = Some((credit, stamp));
        peer_ok
    }

    /// The packet the stack answers `pkt` with, once `pkt` was accepted
    /// for a local address (see the module docs). `now` is the time.
    pub fn reply(&mut self, pkt: &Packet, now: f64) -> Option<Packet> {
        let r = self.stack_answer(pkt, now)?;
        Some(self.routed(r))
    }

    /// An answer leaves by the route to its destination (`lo` for the
    /// host's own addresses), not by the way the packet came: a packet
    /// with a foreign source on one link is answered through the default
    /// route.
    pub(crate) fn routed(&self, mut r: Packet) -> Packet {
        if self.is_own(r.dst) {
            r.iface_out = "lo".into();
        } else if let Some(i) = self.route(r.dst) {
            r.iface_out.clone_from(&i.name);
        }
        r
    }

    /// [`Host::reply`] before routing.
    fn stack_answer(&mut self, pkt: &Packet, now: f64) -> Option<Packet> {
        // Nothing answers a broadcast or multicast (tcp_v4_rcv discards
        // non-host packets, icmp_send skips them) but an echo request
        // when icmp_echo_ignore_broadcasts is 0 (icmp_rcv), answered from
        // the address of the interface it came in by
        // (fib_compute_spec_dst).
        if matches!(self.addr_type(pkt.dst), 3 | 5) {
            if self.sysctl.icmp_echo_ignore_broadcasts || pkt.bad_checksum {
                return None;
            }
            let from = self.addr_of(&pkt.iface_in)?;
            let to_iface = Packet {
                dst: IpAddr::V4(from),
                ..pkt.clone()
            };
            return self
                .stack_answer(&to_iface, now)
                .filter(|r| matches!(r.transport, Transport::Icmp { typ: 0, .. }));
        }
        // A wrong checksum: tcp_v4_rcv, __udp4_lib_rcv and icmp_rcv drop
        // the packet before anything answers it.
        if pkt.bad_checksum {
            return None;
        }
        match &pkt.transport {
            Transport::Tcp {
                dpt, flags, seq, ..
            } if self.listening(6, *dpt) => {
                // tcp_rcv_state_process in LISTEN: an ACK is reset, an
                // RST or a segment without SYN (or with FIN) discarded.
                if flags & F::RST != 0 {
                    return None;
                }
                if flags & F::ACK != 0 {
                    return tcp_reset(pkt);
                }
                if flags & (F::SYN | F::FIN) != F::SYN {
                    return None;
                }
                // tcp_ecn_create_request: a SYN asking for ECN (ECE and
                // CWR) in a packet not ECN-capable is granted it
                // (tcp_ecn=2): the SYN-ACK carries ECE.
                let ecn = if flags & (F::ECE | F::CWR) == F::ECE | F::CWR && !pkt.ce {
                    F::ECE
                } else {
                    0
                };
                let mut r = tcp_answer(
                    pkt,
                    Some(0),
                    seq.map(|s| s.wrapping_add(1)),
                    F::SYN | F::ACK | ecn,
                )?;
                // ipv4_default_advmss: the MTU less 40, at most 65495
                // (lo's 65536-byte MTU gives 65495; an Ethernet one 1460).
                let mtu: u32 = if pkt.iface_in == "lo" { 65536 } else { 1500 };
                let mss = (mtu - 40).min(65495) as u16;
                let opts = synack_options(pkt, mss, self.wscale());
                r.len = 40 + opts.len() as u16;
                // tcp_select_initial_window: 65535 rounded down to that
                // MSS less the timestamp option when it is used.
                let eff = if tcp_has_option(&opts, 8) {
                    mss - 12
                } else {
                    mss
                };
                if let Transport::Tcp {
                    window, options, ..
                } = &mut r.transport
                {
                    *window = 65535 / eff * eff;
                    *options = opts;
                }
                Some(r)
            }
            Transport::Tcp { .. } => tcp_reset(pkt),
            Transport::Udp { dpt, .. } if !self.listening(17, *dpt) => {
                self.icmp_error(pkt, 3, 3, now)
            }
            Transport::Icmp {
                typ: 8, id, seq, ..
            } => {
                let mut r = answer(pkt);
                r.len = pkt.len;
                r.transport = Transport::Icmp {
                    typ: 0,
                    code: 0,
                    id: *id,
                    seq: *seq,
                    inner: None,
                    mtu: None,
                    gateway: None,
                    parameter: None,
                };
                Some(r)
            }
            // ip_local_deliver_finish: a protocol no handler is
            // registered for is answered protocol unreachable (the lab's
            // kernel has handlers for ICMP, IGMP, TCP, UDP, PIM and
            // UDP-Lite, none for IPIP, GRE, ESP, AH, SCTP, ...).
            Transport::Other(p) if !matches!(p, 1 | 2 | 6 | 17 | 103 | 136) => {
                self.icmp_error(pkt, 3, 2, now)
            }
            _ => None,
        }
    }

    /// The packet `-j REJECT --reject-with` sends (`nf_send_reset`,
    /// `nf_send_unreach`), by the model's reply type number
    /// (`IPT_ICMP_*`, 7 = tcp-reset); `None` when the kernel sends none
    /// (a reset for a non-TCP packet or an RST, an ICMP error about an
    /// ICMP error, a rate-limited one).
    pub fn reject(&mut self, pkt: &Packet, with: usize, now: f64) -> Option<Packet> {
        // nf_send_unreach and nf_reject_ip_tcphdr_get verify the rejected
        // packet's checksum first: a wrong one gets no answer.
        if pkt.bad_checksum {
            return None;
        }
        let code = match with {
            7 => return tcp_reset(pkt).map(|r| self.routed(r)),
            0..=3 => with as u8,
            5 => 9,
            6 => 10,
            8 => 13,
            _ => return None,
        };
        let r = self.icmp_error(pkt, 3, code, now)?;
        Some(self.routed(r))
    }

    /// The time exceeded (TTL exceeded in transit) `ip_forward` sends for
    /// a packet whose TTL would reach 0, from the address of the interface
    /// that routes back to the sender (icmp_errors_use_inbound_ifaddr=0).
    pub fn time_exceeded(&mut self, pkt: &Packet, now: f64) -> Option<Packet> {
        let r = self.icmp_error(pkt, 11, 0, now)?;
        Some(self.routed(r))
    }

    /// The time exceeded (fragment reassembly, code 1) `ip_expire` sends
    /// when the datagram whose first fragment is `head` did not complete
    /// in time; only for a local destination (the address it was sent to
    /// answers).
    pub fn reassembly_timeout(&mut self, head: &Packet, now: f64) -> Option<Packet> {
        if !self.is_local(head.dst) {
            return None;
        }
        self.icmp_error(head, 11, 1, now)
    }

    /// `tcp_check_req`: what the half-open connection whose SYN-ACK is
    /// `synack` makes of the segment `seg` (anything but the SYN it
    /// answered, which the listener answers again). `None` when the
    /// numbers are unknown.
    /// In order: that SYN again (its sequence number, SYN without ACK or
    /// RST) is answered with the SYN-ACK again; an ACK of anything but the SYN-ACK goes to the listener
    /// (`return sk`: LISTEN resets it); a segment outside the receive
    /// window (`tcp_in_window` from the SYN's next sequence number, the
    /// SYN-ACK's window wide) is answered with the ACK
    /// `tcp_v4_reqsk_send_ack` sends (its sequence the SYN-ACK's next,
    /// its window the SYN-ACK's scaled down, timestamps when the
    /// handshake has them), an RST with none; in the window an RST ends
    /// the request, a SYN ends it with a reset; a segment without ACK is
    /// dropped; else the handshake completes (the child socket takes the
    /// segment).
    pub fn check_req(&self, seg: &Packet, synack: &Packet) -> Option<CheckReq> {
        let Transport::Tcp {
            seq: our,
            ack: Some(rcv_nxt),
            window,
            options,
            ..
        } = &synack.transport
        else {
            return None;
        };
        let s = Segment::of(seg)?;
        let rcv_isn = rcv_nxt.wrapping_sub(1);
        if s.seq == rcv_isn && s.flags & (F::SYN | F::ACK | F::RST) == F::SYN {
            return Some(CheckReq::Retransmit);
        }
        if s.flags & F::ACK != 0 && Some(s.ack) != our.map(|o| o.wrapping_add(1)) {
            return Some(CheckReq::Listener);
        }
        let rcv_nxt = *rcv_nxt;
        let end_win = rcv_nxt.wrapping_add(u32::from(*window));
        let in_window = s.seq == rcv_nxt
            || (before(rcv_nxt, s.end) && before(s.seq, end_win))
            || (s.seq == end_win && s.seq == s.end);
        if !in_window {
            if s.flags & F::RST != 0 {
                return Some(CheckReq::OutOfWindow(None, false));
            }
            let mut ack = tcp_answer(seg, our.map(|o| o.wrapping_add(1)), Some(rcv_nxt), F::ACK)
                .map(|a| self.routed(a))?;
            let wscale = if tcp_has_option(options, 3) {
                self.wscale()
            } else {
                0
            };
            let ts = tcp_has_option(options, 8);
            if let Transport::Tcp {
                window: w,
                options: o,
                ..
            } = &mut ack.transport
            {
                *w = window.checked_shr(u32::from(wscale)).unwrap_or(0);
                if ts {
                    *o = vec![1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0];
                }
            }
            ack.len = 40 + if ts { 12 } else { 0 };
            // tcp_oow_rate_limited: a segment with data (or FIN) and no
            // SYN is never limited.
            let limited = s.seq == s.end || s.flags & F::SYN != 0;
            return Some(CheckReq::OutOfWindow(Some(ack), limited));
        }
        // A SYN at the request's own sequence number is cut off (out of
        // the window, which starts after it).
        let syn = s.flags & F::SYN != 0 && s.seq != rcv_isn;
        Some(if s.flags & F::RST != 0 {
            CheckReq::Ends(None)
        } else if syn {
            CheckReq::Ends(tcp_reset(seg).map(|r| self.routed(r)))
        } else if s.flags & F::ACK == 0 {
            CheckReq::Dropped
        } else {
            CheckReq::Child
        })
    }

    /// `icmp_send`: an ICMP error quoting `pkt` (at most 576 bytes in
    /// all), rate limited. Its source is `pkt`'s destination only when
    /// that is local; else (a packet REJECTed or timed out on its way
    /// through) the address of the interface that routes back to the
    /// sender (`icmp_send` leaves saddr 0 for the route lookup when the
    /// packet's route is not RTCF_LOCAL).
    /// None about an ICMP error (`icmp_pointers[type].error`: 3, 4, 5,
    /// 11, 12) or an unknown ICMP type, whatever sends it (REJECT, time
    /// exceeded on the way through, ...).
    fn icmp_error(&mut self, pkt: &Packet, typ: u8, code: u8, now: f64) -> Option<Packet> {
        let about_error = matches!(
            pkt.transport,
            Transport::Icmp {
                typ: 3 | 4 | 5 | 11 | 12 | 19..,
                ..
            }
        );
        if about_error
            || pkt.frag != 0
            || matches!(self.addr_type(pkt.dst), 3 | 5)
            || !self.icmp_allowed(typ, pkt.src, now)
        {
            return None;
        }
        let mut quoted = pkt.clone();
        quoted.iface_in.clear();
        quoted.iface_out.clear();
        quoted.mac = None;
        quoted.time = None;
        quoted.prefix.clear();
        let mut r = answer(pkt);
        // icmp_send: from the quoted packet's destination when it is ours,
        // else from our address on the route back (a forwarded packet's
        // REJECT; live: the corpus case forward-reject).
        if !self.is_local(pkt.dst) {
            if let Some(i) = self.route(pkt.src) {
                r.src = IpAddr::V4(i.addr);
            }
        }
        r.len = 20 + 8 + pkt.len.min(576 - 28);
        // icmp_send: tos = (tos & IPTOS_TOS_MASK) | IPTOS_PREC_INTERNETCONTROL.
        r.tos = pkt.tos & 0x1E;
        r.prec = 0xC0;
        r.transport = Transport::Icmp {
            typ,
            code,
            id: None,
            seq: None,
            inner: Some(Box::new(quoted)),
            mtu: None,
            gateway: None,
            parameter: None,
        };
        Some(r)
    }
}

/// What a half-open connection makes of a segment ([`Host::check_req`]).
#[derive(Debug, Clone, PartialEq)]
pub enum CheckReq {
    /// The SYN again: answered with the SYN-ACK again.
    Retransmit,
    /// A wrong ACK number: the listener answers it (a reset).
    Listener,
    /// Outside the window: the answer (none for an RST), and whether it
    /// is rate limited (`tcp_oow_rate_limited`).
    OutOfWindow(Option<Packet>, bool),
    /// An RST or a SYN in the window ends the request (a SYN answered
    /// with a reset).
    Ends(Option<Packet>),
    /// No ACK: dropped, the request stays.
    Dropped,
    /// The handshake completes: the request ends, the new socket takes
    /// the segment.
    Child,
}

/// The bare answer to `pkt`: addresses swapped, out by its way in.
fn answer(pkt: &Packet) -> Packet {
    Packet {
        time: pkt.time,
        iface_out: pkt.iface_in.clone(),
        src: pkt.dst,
        dst: pkt.src,
        ..Packet::default()
    }
}

/// A 40-byte TCP answer with DF set.
fn tcp_answer(pkt: &Packet, seq: Option<u32>, ack: Option<u32>, flags: u16) -> Option<Packet> {
    let Transport::Tcp { spt, dpt, .. } = &pkt.transport else {
        return None;
    };
    let mut r = answer(pkt);
    r.df = true;
    r.len = 40;
    r.transport = Transport::Tcp {
        spt: *dpt,
        dpt: *spt,
        seq,
        ack,
        window: 0,
        res: 0,
        flags,
        urgp: 0,
        options: Vec::new(),
    };
    Some(r)
}

/// The options of Linux's SYN-ACK (`tcp_synack_options`, written by
/// `tcp_options_write`): MSS `mss` always; timestamps (with SACK-permitted
/// before them, or two NOPs), else NOP NOP SACK-permitted, when the SYN
/// offered them; NOP and window scale `wscale` when the SYN offered
/// scaling.
/// A SYN whose options were not logged is judged by its length: 20 bytes
/// of options are Linux's own (all four), 12 Windows' (no timestamps),
/// fewer none. Timestamp values are unknown (zero here).
fn synack_options(syn: &Packet, mss: u16, wscale: u8) -> Vec<u8> {
    let Transport::Tcp { options, .. } = &syn.transport else {
        return Vec::new();
    };
    let (ts, sack, ws) = if options.is_empty() {
        let extra = usize::from(syn.len).saturating_sub(40 + syn.ip_options.len());
        (extra >= 20, extra >= 12, extra >= 12)
    } else {
        let has = |kind| tcp_has_option(options, kind);
        (has(8), has(4), has(3))
    };
    let mut o = vec![2, 4];
    o.extend(mss.to_be_bytes());
    match (ts, sack) {
        (true, true) => o.extend([4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0]),
        (true, false) => o.extend([1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0]),
        (false, true) => o.extend([1, 1, 4, 2]),
        (false, false) => {}
    }
    if ws {
        o.extend([1, 3, 3, wscale]);
    }
    o
}

/// `tcp_v4_send_reset` / `nf_send_reset`: no answer to an RST; to a
/// segment with ACK an RST with seq = its ack; else RST|ACK acking it.
fn tcp_reset(pkt: &Packet) -> Option<Packet> {
    let Transport::Tcp {
        seq, ack, flags, ..
    } = &pkt.transport
    else {
        return None;
    };
    if flags & F::RST != 0 {
        return None;
    }
    if flags & F::ACK != 0 {
        return tcp_answer(pkt, *ack, None, F::RST);
    }
    let step = u32::from(flags & F::SYN != 0) + u32::from(flags & F::FIN != 0);
    tcp_answer(
        pkt,
        Some(0),
        seq.map(|s| s.wrapping_add(step)),
        F::RST | F::ACK,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> Host {
        let mut h = Host::default();
        h.option("--iface", "eth0=10.137.0.2/24").unwrap();
        h.option("--listen", "tcp/22,udp/53").unwrap();
        h
    }

    #[test]
    fn options_and_file() {
        let mut h = Host::default();
        h.parse_file("iface eth0=10.0.0.1/24 # lan\nlisten tcp/22\nsysctl net.netfilter.nf_conntrack_tcp_loose=0\n")
            .unwrap();
        assert!(!h.sysctl.ct.tcp_loose);
        assert!(h.is_local("10.0.0.1".parse().unwrap()));
        assert!(!h.is_local("10.0.0.9".parse().unwrap()));
        assert!(h.option("--iface", "eth0=10.0.0.1/33").is_err());
        assert!(h.option("--sysctl", "net.core.x=1").is_err());
        h.option("--sysctl", "net.netfilter.nf_conntrack_tcp_timeout_close=3")
            .unwrap();
        assert_eq!(h.sysctl.ct.tcp_timeouts.close, 3);
        h.option(
            "--sysctl",
            "net.netfilter.nf_conntrack_tcp_timeout_max_retrans=3",
        )
        .unwrap();
        assert_eq!(h.sysctl.ct.tcp_timeouts.max_retrans, 3);
        assert!(h.option("--listen", "sctp/1").is_err());
    }

    /// tcp_v4_send_reset: RST|ACK for a SYN to a closed port, SYN|ACK from
    /// a listener; a closed UDP port answers port unreachable
    /// (__udp4_lib_rcv -> icmp_send), limited per destination to a burst
    /// of 6 then one a second (inet_peer_xrlim_allow, XRLIM_BURST_FACTOR).
    #[test]
    fn replies() {
        let mut h = host();
        let syn = |port: u16| {
            Packet::parse_line(&format!(
                "IN=eth0 OUT= SRC=10.137.0.16 DST=10.137.0.2 PROTO=TCP SPT=40000 DPT={port} SEQ=100 ACK=0 SYN"
            ))
            .unwrap()
        };
        let sa = h.reply(&syn(22), 0.0).unwrap();
        // A 40-byte SYN (no options) gets MSS only.
        assert_eq!(sa.len, 44);
        assert!(
            matches!(sa.transport, Transport::Tcp { flags, ack: Some(101), .. } if flags == F::SYN | F::ACK)
        );
        let rst = h.reply(&syn(23), 0.0).unwrap();
        assert!(matches!(rst.transport, Transport::Tcp { flags, .. } if flags == F::RST | F::ACK));
        assert_eq!(rst.iface_out, "eth0");
        let udp = Packet::parse_line(
            "IN=eth0 OUT= SRC=10.137.0.16 DST=10.137.0.2 PROTO=UDP SPT=5000 DPT=9",
        )
        .unwrap();
        let sent = (0..10).filter(|_| h.reply(&udp, 5.0).is_some()).count();
        assert_eq!(sent, 6);
        assert!(h.reply(&udp, 6.0).is_some());
    }

    /// Found by tests/live_stateful.rs against Linux 6.18: a listener
    /// resets a segment with ACK (tcp_rcv_state_process in LISTEN) and
    /// ignores a bare FIN or SYN|FIN; the SYN-ACK's window is 65535
    /// rounded down to the MSS (1448 with timestamps, 1460 without) and
    /// its window scale follows the largest receive buffer (tcp_rmem
    /// 4096 131072 33554432: 10; the default 6291456: 7); through lo the
    /// MSS is 65495 (ipv4_default_advmss).
    #[test]
    fn listener_answers() {
        let mut h = host();
        let seg = |flags: &str, opt: &str| {
            Packet::parse_line(&format!(
                "IN=eth0 OUT= SRC=10.137.0.16 DST=10.137.0.2 PROTO=TCP SPT=40000 DPT=22 SEQ=100 ACK=2000 {flags} URGP=0 {opt}"
            ))
            .unwrap()
        };
        let rst = h.reply(&seg("ACK", ""), 0.0).unwrap();
        assert!(
            matches!(rst.transport, Transport::Tcp { flags, seq: Some(2000), .. } if flags == F::RST)
        );
        assert!(h.reply(&seg("ACK PSH FIN", ""), 0.0).is_some());
        assert!(h.reply(&seg("FIN", ""), 0.0).is_none());
        assert!(h.reply(&seg("SYN FIN", ""), 0.0).is_none());
        assert!(h.reply(&seg("RST", ""), 0.0).is_none());
        let window = |p: &Packet| match &p.transport {
            Transport::Tcp {
                window, options, ..
            } => (*window, options.last().copied()),
            _ => (0, None),
        };
        let mss_only = h.reply(&seg("SYN", "OPT (020405B4)"), 0.0).unwrap();
        assert_eq!(window(&mss_only), (64240, Some(0xb4)));
        let linux = "OPT (020405B40402080A000000010000000001030307)";
        let full = h.reply(&seg("SYN", linux), 0.0).unwrap();
        assert_eq!(window(&full), (65160, Some(7)));
        h.option("--sysctl", "net.ipv4.tcp_rmem=4096\t131072\t33554432")
            .unwrap();
        assert_eq!(
            window(&h.reply(&seg("SYN", linux), 0.0).unwrap()).1,
            Some(10)
        );
        // Through lo (MTU 65536): MSS 65495, window 65483 with timestamps.
        let mut lo = seg("SYN", linux);
        lo.iface_in = "lo".into();
        let r = h.reply(&lo, 0.0).unwrap();
        let Transport::Tcp { options, .. } = &r.transport else {
            panic!("not TCP");
        };
        assert_eq!(
            (window(&r).0, &options[..4]),
            (65483, &[2, 4, 0xff, 0xd7][..])
        );
        h.option("--sysctl", "net.core.rmem_max=2147483647")
            .unwrap();
        assert_eq!(
            window(&h.reply(&seg("SYN", linux), 0.0).unwrap()).1,
            Some(14)
        );
    }

    /// icmp_global_allow: with the per-destination limit off
    /// (icmp_ratelimit=0) a burst of icmp_msgs_burst errors, then nothing
    /// within 20 ms, then a refill of icmp_msgs_per_sec × elapsed.
    #[test]
    fn global_icmp_limit() {
        let mut h = host();
        h.option("--sysctl", "net.ipv4.icmp_ratelimit=0").unwrap();
        h.option("--sysctl", "net.ipv4.icmp_msgs_burst=3").unwrap();
        h.option("--sysctl", "net.ipv4.icmp_msgs_per_sec=100")
            .unwrap();
        let udp = Packet::parse_line(
            "IN=eth0 OUT= SRC=10.137.0.16 DST=10.137.0.2 PROTO=UDP SPT=5000 DPT=9",
        )
        .unwrap();
        let sent = |h: &mut Host, t: f64| (0..10).filter(|_| h.reply(&udp, t).is_some()).count();
        assert_eq!(sent(&mut h, 1.0), 3);
        assert_eq!(sent(&mut h, 1.01), 0);
        assert_eq!(sent(&mut h, 1.03), 3);
        assert_eq!(sent(&mut h, 1.06), 3);
    }

    /// tcp_check_req's order: the SYN again, a wrong ACK (to the listener),
    /// outside the window (an ACK, rate limited without data), an RST or
    /// SYN in the window (the end), no ACK (dropped), else the child.
    /// Live: the corpus case half-open-request.
    #[test]
    fn request_segments() {
        let mut h = host();
        let seg = |len: u16, seq: u32, ack: u32, flags: &str| {
            Packet::parse_line(&format!(
                "IN=eth0 OUT= SRC=10.137.0.16 DST=10.137.0.2 LEN={len} PROTO=TCP SPT=40000 DPT=22 SEQ={seq} ACK={ack} WINDOW=512 {flags}"
            ))
            .unwrap()
        };
        let sa = h.reply(&seg(40, 100, 0, "SYN"), 0.0).unwrap();
        let fate = |len, seq, ack, flags| h.check_req(&seg(len, seq, ack, flags), &sa);
        assert_eq!(fate(40, 100, 0, "SYN"), Some(CheckReq::Retransmit));
        assert_eq!(fate(40, 101, 7, "ACK"), Some(CheckReq::Listener));
        let far = 101 + 2_000_000_000;
        let Some(CheckReq::OutOfWindow(Some(ack), true)) = fate(40, far, 1, "ACK") else {
            panic!("a bare ACK outside the window");
        };
        assert!(matches!(
            ack.transport,
            Transport::Tcp {
                flags: F::ACK,
                seq: Some(1),
                ack: Some(101),
                ..
            }
        ));
        assert!(matches!(
            fate(50, far, 0, "PSH"),
            Some(CheckReq::OutOfWindow(Some(_), false))
        ));
        assert_eq!(
            fate(40, far, 0, "RST"),
            Some(CheckReq::OutOfWindow(None, false))
        );
        assert_eq!(fate(40, 101, 0, "RST"), Some(CheckReq::Ends(None)));
        assert!(matches!(
            fate(40, 102, 0, "SYN"),
            Some(CheckReq::Ends(Some(_)))
        ));
        assert_eq!(fate(50, 101, 0, "PSH"), Some(CheckReq::Dropped));
        assert_eq!(fate(50, 101, 1, "ACK PSH"), Some(CheckReq::Child));
    }
}
