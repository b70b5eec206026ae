//! The hooks across tables, as netfilter runs them for a local host.
//!
//! # Contract
//! [`Engine::process`] takes one packet and returns its [`Outcome`]. The
//! direction comes from the packet: `IN=` only is arriving (to INPUT when
//! the destination, after nat PREROUTING, is a local address, else
//! forwarded), `IN=` and `OUT=` is forwarded, `OUT=` only is sent by this
//! host. The order is the kernel's (hook priorities of `nf_ip_hook_priorities`):
//!
//! * arriving: raw PREROUTING, conntrack, mangle PREROUTING, nat
//!   PREROUTING, routing (rp_filter, ip_forward), then either mangle/filter/
//!   security/nat INPUT, or (TTL lowered, or time exceeded sent) mangle/
//!   filter/security FORWARD and mangle/nat POSTROUTING; conntrack
//!   confirmation at the end;
//! * sent: raw OUTPUT, conntrack, mangle OUTPUT, nat OUTPUT, filter OUTPUT,
//!   security OUTPUT, mangle POSTROUTING, nat POSTROUTING, confirmation;
//!   a packet to one of the host's own addresses (or 127/8) then comes
//!   back in through `lo` as an arriving packet, with its connection.
//!
//! Fragments are joined first ([`crate::defrag`]: one that completes
//! nothing reaches no hook), and the host's timers due by a packet's time
//! run before it (SYN-ACK retransmissions, fragment reassembly timeouts:
//! see `timers.rs`, [`Engine::advance_to`]).
//!
//! A table's chain is walked only when the ruleset holds that chain (with
//! iptables-nft an absent table registers no hook). nat chains are walked
//! only for a connection's first packet, once per manip type
//! (`nf_nat_inet_fn`); the binding they make (DNAT, SNAT, MASQUERADE,
//! REDIRECT; from an address range the one `nat_range` picks as the
//! kernel does; a port kept when inside the
//! range, else the range's first) is kept in the connection and applied to
//! its later packets and replies (`nf_nat_packet`). Counters (per rule,
//! per policy, bytes = IP total length) are kept per table.
//!
//! When an arriving packet is accepted for a local address, the host's
//! answer ([`Host::reply`]) is sent through the sent-packet hooks, and its
//! outcome attached; a packet in the reply direction of a connection, or
//! of one seen both ways, reaches its socket and gets no answer, except
//! after an RST closed it and during the handshake (see
//! `reaches_socket`). A packet a
//! REJECT rule drops on its way in or out is answered ([`Host::reject`])
//! the same way (the host's own packet: to itself through lo); the reset
//! or ICMP error carries the rejected packet's connection as RELATED
//! (`nf_ct_attach`; `icmp_glue_bits` attaches every ICMP error), confirmed
//! or not, as does a time exceeded on the way through. A RELATED packet
//! other than an ICMP error walks the nat chains while its connection has
//! no binding; a new connection whose tuples clash with a live one's is
//! dropped at confirmation when NAT has no port or id to change.

mod multicast;
mod timers;

use crate::conntrack::{self, status, CtState, Handle, Tuple};
use crate::defrag;
use crate::eval::{Ctx, RecentLists, Sock, Unsupported};
use crate::host::Host;
use crate::nat_range;
use crate::packet::{tcp_flags, Packet, Transport};
use crate::walk::{Compiled, Record, Step, Trace, Verdict};
use ironwall_model::ext::log::Log;
use ironwall_model::ext::nat::{Kind, Nat, MAP_IPS, PERSISTENT, PROTO_SPECIFIED};
use ironwall_model::rule::{Rule, Target};
use ironwall_model::ruleset::Ruleset;
use std::borrow::Cow;
use std::cell::RefCell;
use std::net::{IpAddr, Ipv4Addr};
use std::rc::Rc;

/// One table walk, summarised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Walk {
    /// The table.
    pub table: &'static str,
    /// The built-in chain walked.
    pub chain: &'static str,
    /// Its verdict.
    pub verdict: Verdict,
    /// The steps.
    pub steps: Vec<Step>,
}

impl Walk {
    /// The guide's arrow form: `INPUT -> MALICIOUS -> STDIN -> FRIENDLY ->
    /// ACCEPT` (chains entered, then the verdict; `DROP (policy)` when the
    /// policy decided).
    pub fn arrows(&self) -> String {
        let mut parts = vec![self.chain.to_string()];
        let mut policy = false;
        for s in &self.steps {
            if let Some(c) = s
                .action
                .strip_prefix("jump ")
                .or_else(|| s.action.strip_prefix("goto "))
            {
                parts.push(c.to_string());
            }
            policy = s.action == "policy";
        }
        let v = match self.verdict {
            Verdict::Accept => "ACCEPT",
            Verdict::Drop => "DROP",
            Verdict::Queue => "QUEUE",
        };
        let last = self.steps.last().map(|s| &*s.action).unwrap_or("");
        if policy {
            parts.push(format!("{v} (policy)"));
        } else if last == v {
            parts.push(v.to_string());
        } else {
            parts.push(format!("{last} ({v})"));
        }
        parts.join(" -> ")
    }
}

/// A table's walk as iptables TRACE (`xtables-monitor --trace`) writes
/// its events, rule handles as positions: `TABLE:CHAIN:N:VERDICT` for the
/// N-th rule of a chain that matched (CONTINUE for a rule without a
/// verdict, RETURN, `JUMP:X`, `GOTO:X`; a target that ends the walk, as
/// NAT or REJECT, shows the walk's verdict), `TABLE:CHAIN:policy:VERDICT`
/// for a built-in chain's policy, nothing for the end of a user chain.
/// The live tests hold these to the kernel's.
pub fn trace_events(table: &str, verdict: Verdict, steps: &[Step]) -> Vec<String> {
    let name = |v: Verdict| match v {
        Verdict::Accept => "ACCEPT",
        Verdict::Drop => "DROP",
        Verdict::Queue => "QUEUE",
    };
    let last = steps.len().saturating_sub(1);
    steps
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let what = match &*s.action {
                "policy" => return Some(format!("{table}:{}:policy:{}", s.chain, name(verdict))),
                "return" if s.rule == 0 => return None,
                "return" => "RETURN".to_string(),
                "hotdrop" | "DROP" => "DROP".to_string(),
                "ACCEPT" => "ACCEPT".to_string(),
                "match" => "CONTINUE".to_string(),
                a => match a.split_once(' ') {
                    Some(("jump", c)) => format!("JUMP:{c}"),
                    Some(("goto", c)) => format!("GOTO:{c}"),
                    _ if i == last => name(verdict).to_string(),
                    _ => "CONTINUE".to_string(),
                },
            };
            Some(format!("{table}:{}:{}:{what}", s.chain, s.rule))
        })
        .collect()
}

impl Walk {
    /// Its TRACE events ([`trace_events`]).
    pub fn trace_events(&self) -> Vec<String> {
        trace_events(self.table, self.verdict, &self.steps)
    }
}

/// What happened to one packet.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The packet as it came.
    pub packet: Packet,
    /// The packet as it left (after NAT).
    pub out: Packet,
    /// The final verdict.
    pub verdict: Verdict,
    /// Its conntrack state.
    pub ct: CtState,
    /// The table walks in order.
    pub walks: Vec<Walk>,
    /// The LOG lines written, in order.
    pub logs: Vec<String>,
    /// NAT rewrites, as text (`DNAT 10.0.0.1:22 -> 172.17.0.4:8022`).
    pub nat: Vec<String>,
    /// What dropped it outside the rules (`routing`, `rp_filter`, `ttl`;
    /// `defrag` for a fragment that completed no datagram: held or
    /// discarded before any hook, its `ct` INVALID as it has none).
    pub dropped_by: Option<&'static str>,
    /// The `--reject-with` type number of the REJECT rule that dropped it.
    pub rejected: Option<usize>,
    /// The host's answer, when it sent one.
    pub reply: Option<Box<Outcome>>,
    /// What the host's timers sent before this packet, once its time
    /// came (SYN-ACKs sent again, fragment reassembly timeouts; see
    /// [`Engine::advance_to`]).
    pub timers: Vec<Outcome>,
}

impl Outcome {
    /// The outcome of `packet` before it went anywhere.
    fn new(packet: Packet) -> Outcome {
        Outcome {
            packet,
            out: Packet::default(),
            verdict: Verdict::Accept,
            ct: CtState::Invalid,
            walks: Vec::new(),
            logs: Vec::new(),
            nat: Vec::new(),
            dropped_by: None,
            rejected: None,
            reply: None,
            timers: Vec::new(),
        }
    }

    /// The LOG lines of this outcome's timers, itself and its replies,
    /// in order, each ending in a newline (as [`Engine::process_quiet`]
    /// writes them).
    pub fn all_logs(&self, into: &mut String) {
        for t in &self.timers {
            t.all_logs(into);
        }
        for l in &self.logs {
            into.push_str(l);
            into.push('\n');
        }
        if let Some(r) = &self.reply {
            r.all_logs(into);
        }
    }
}

/// What the walk of a hook decided, for the next steps.
#[derive(Debug, Clone, Copy)]
struct Hooked<'a> {
    verdict: Verdict,
    /// The NAT target that ended it.
    nat: Option<&'a Nat>,
    /// A `-j CT --notrack` rule matched.
    notrack: bool,
}

/// Defines [`Hook`]: each variant with its table and chain.
macro_rules! hooks {
    ($($hook:ident: $table:literal $chain:literal,)*) => {
        /// A table's built-in chain that a hook walks.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum Hook {
            $($hook,)*
        }

        impl Hook {
            /// Every hook, in the order of their numbers.
            const ALL: [Hook; [$(Hook::$hook),*].len()] = [$(Hook::$hook),*];

            /// The table and the chain.
            fn names(self) -> (&'static str, &'static str) {
                match self {
                    $(Hook::$hook => ($table, $chain),)*
                }
            }
        }
    };
}

hooks! {
    RawPrerouting: "raw" "PREROUTING",
    RawOutput: "raw" "OUTPUT",
    ManglePrerouting: "mangle" "PREROUTING",
    MangleInput: "mangle" "INPUT",
    MangleForward: "mangle" "FORWARD",
    MangleOutput: "mangle" "OUTPUT",
    ManglePostrouting: "mangle" "POSTROUTING",
    NatPrerouting: "nat" "PREROUTING",
    NatInput: "nat" "INPUT",
    NatOutput: "nat" "OUTPUT",
    NatPostrouting: "nat" "POSTROUTING",
    FilterInput: "filter" "INPUT",
    FilterForward: "filter" "FORWARD",
    FilterOutput: "filter" "OUTPUT",
    SecurityInput: "security" "INPUT",
    SecurityForward: "security" "FORWARD",
    SecurityOutput: "security" "OUTPUT",
}

/// The engine: compiled tables, one conntrack table, the host.
#[derive(Debug)]
pub struct Engine<'a> {
    tables: Vec<Compiled<'a>>,
    /// Whether a rule of any table is a REJECT.
    rejects: bool,
    /// Per [`Hook`]: the table that holds its built-in chain and the
    /// chain's index, resolved once.
    hooks: [Option<(usize, usize)>; Hook::ALL.len()],
    /// The connections.
    pub ct: conntrack::Table,
    /// The host.
    pub host: Host,
    /// The last arriving packet's connection, its view and time (for the
    /// packet a REJECT sends; kept only when a rule is a REJECT).
    last: Option<(Handle, conntrack::CtView, f64)>,
    /// The `recent` match's lists.
    pub recent: Rc<RefCell<RecentLists>>,
    /// The host's ipsets (`-m set`, `-j SET`).
    pub sets: Rc<RefCell<crate::ipset::Sets>>,
    /// Fragments being joined, half-open connections.
    held: timers::Held,
    /// While [`Engine::process_quiet`] runs: no steps, NAT texts or
    /// packet copies are kept, LOG lines go to `log_lines`.
    quiet: bool,
    /// The LOG lines of a quiet replay's packet, each ending in a newline.
    log_lines: String,
    /// The room of the packet copy a quiet replay made last ([`own`]).
    room: Packet,
    /// Outcomes a quiet replay is done with, to reuse.
    #[allow(
        clippy::vec_box,
        reason = "an outcome is handed on as a box (Outcome::reply); a box moves as a pointer"
    )]
    spare: Vec<Box<Outcome>>,
    /// Whether a rule makes the kernel track connections in this
    /// namespace ([`needs_conntrack`]); without, nat chains never run.
    nat_runs: bool,
    /// Set by [`Engine::process`] for a sent packet without `UID=`: its
    /// socket is root's, which `LOG --log-uid` writes.
    root_sock: bool,
    /// Whether a LOG rule writes UIDs (`--log-uid`): only then is a sent
    /// packet copied to carry its socket's owner.
    log_uid: bool,
}

/// The packet on its way through the hooks: the caller's until a hook
/// changes it (NAT, MARK, forwarding, loopback), then a copy ([`own`]).
type Pkt<'p> = Cow<'p, Packet>;

/// The packet to change: the first time, a copy of the caller's made in
/// `room` (the room of the copy a quiet replay made last).
fn own<'a>(p: &'a mut Pkt<'_>, room: &mut Packet) -> &'a mut Packet {
    if let Cow::Borrowed(theirs) = *p {
        let mut copy = std::mem::take(room);
        copy.clone_from(theirs);
        *p = Cow::Owned(copy);
    }
    p.to_mut()
}

/// Whether a rule asks for connection tracking (`nf_ct_netns_get`): a
/// conntrack or state match, a NAT or CT target. Without one (a nat
/// table of LOG rules alone, say) packets have no connection and the nat
/// chains are never walked (live: the corpus case rp-filter).
fn needs_conntrack(r: &Rule) -> bool {
    r.matches
        .iter()
        .any(|m| matches!(m.def.name, "conntrack" | "state"))
        || matches!(&r.target, Target::Ext(l)
            if matches!(l.def.name, "DNAT" | "SNAT" | "MASQUERADE" | "REDIRECT" | "CT"))
}

/// Every rule of every table.
fn rules(rs: &Ruleset) -> impl Iterator<Item = &Rule> {
    rs.tables
        .iter()
        .flat_map(|t| &t.chains)
        .flat_map(|c| &c.rules)
}

fn ports_mut(t: &mut Transport) -> Option<(&mut u16, &mut u16)> {
    match t {
        Transport::Tcp { spt, dpt, .. } | Transport::Udp { spt, dpt, .. } => Some((spt, dpt)),
        _ => None,
    }
}

fn endpoint(ip: IpAddr, port: u16, t: &Transport) -> String {
    match t {
        Transport::Tcp { .. } | Transport::Udp { .. } => format!("{ip}:{port}"),
        _ => ip.to_string(),
    }
}

/// The port a NAT range gives: the original when inside, else the first.
fn pick_port(n: &Nat, orig: u16) -> u16 {
    if n.flags & PROTO_SPECIFIED == 0 || (orig >= n.min_port && orig <= n.max_port) {
        orig
    } else {
        n.min_port
    }
}

impl<'a> Engine<'a> {
    /// Compiles every table of `rs`.
    pub fn new(rs: &'a Ruleset, mut host: Host) -> Result<Self, Unsupported> {
        let sets = Rc::new(RefCell::new(std::mem::take(&mut host.sets)));
        let tables = rs
            .tables
            .iter()
            .map(Compiled::new)
            .collect::<Result<Vec<_>, _>>()?;
        let hooks = Hook::ALL.map(|hook| {
            let (table, chain) = hook.names();
            tables.iter().enumerate().find_map(|(ti, t)| {
                (t.table().name() == table)
                    .then(|| t.builtin(chain).map(|ci| (ti, ci)))
                    .flatten()
            })
        });
        Ok(Engine {
            rejects: tables.iter().any(Compiled::rejects),
            tables,
            hooks,
            ct: conntrack::Table::new(host.sysctl.ct),
            host,
            last: None,
            recent: Rc::default(),
            sets,
            held: timers::Held::default(),
            quiet: false,
            log_lines: String::new(),
            room: Packet::default(),
            spare: Vec::new(),
            nat_runs: rules(rs).any(needs_conntrack),
            root_sock: false,
            log_uid: rules(rs).any(|r| {
                matches!(&r.target, Target::Ext(l)
                    if l.ext.as_any().downcast_ref::<Log>().is_some_and(|g| g.flags & 0x08 != 0))
            }),
        })
    }

    /// The compiled tables (their counters).
    pub fn tables(&self) -> &[Compiled<'a>] {
        &self.tables
    }

    /// Adds the counters the engine counted to `rs` (the ruleset it was
    /// built from, or a copy of it): per rule and per built-in policy.
    pub fn add_counters_to(&self, rs: &mut Ruleset) {
        for t in &self.tables {
            let Some(dst) = rs.table_mut(t.table().name()) else {
                continue;
            };
            for (ci, c) in t.table().chains.iter().enumerate() {
                let Some(dc) = dst.chain_mut(&c.name) else {
                    continue;
                };
                if let Some((p, b)) = t.policy.get(ci) {
                    dc.counters.packets += p;
                    dc.counters.bytes += b;
                }
                let rules = t.counters.get(ci).map(Vec::as_slice).unwrap_or(&[]);
                for (r, (p, b)) in dc.rules.iter_mut().zip(rules) {
                    r.counters.packets += p;
                    r.counters.bytes += b;
                }
            }
        }
    }

    /// The rule text of a step, as `iptables -S` prints it (`-A CHAIN
    /// ...`), or the policy line.
    pub fn rule_text(&self, table: &str, step: &Step) -> String {
        let t = self.tables.iter().find(|t| t.table().name() == table);
        let chain = t.and_then(|t| t.table().chain(&step.chain));
        match (chain, step.rule) {
            (Some(c), 0) if c.is_builtin() => {
                format!("-P {} {}", c.name, c.policy.unwrap_or("ACCEPT"))
            }
            (Some(c), 0) => format!("(end of {})", c.name),
            (Some(c), n) => c
                .rules
                .get(n - 1)
                .map(|r| format!("-A {}{}", c.name, r.save_text(false)))
                .unwrap_or_default(),
            _ => String::new(),
        }
    }

    /// A packet's context at time `now`, with the engine's `recent`
    /// lists.
    fn at(&self, now: f64) -> Ctx {
        Ctx {
            recent: Some(self.recent.clone()),
            sets: Some(self.sets.clone()),
            ..Ctx::at(now)
        }
    }

    /// Walks the hook's built-in chain when its table holds it; `None`
    /// when the table or chain does not exist.
    fn hook(
        &mut self,
        hook: Hook,
        pkt: &mut Pkt,
        cx: &Ctx,
        out: &mut Outcome,
    ) -> Option<Hooked<'a>> {
        let (ti, start) = self.hooks[hook as usize]?;
        let t = &mut self.tables[ti];
        // The host's view of the addresses, for addrtype and rpfilter.
        let with_host;
        let cx = if t.uses_host() {
            with_host = Ctx {
                addr_types: (self.host.addr_type(pkt.src), self.host.addr_type(pkt.dst)),
                reverse: (
                    self.host.addr_type(pkt.src),
                    self.host
                        .route(pkt.src)
                        .is_none_or(|i| i.name == pkt.iface_in),
                ),
                ..cx.clone()
            };
            &with_host
        } else {
            cx
        };
        let quiet = self.quiet;
        let rec = if quiet {
            Record::Quiet(&mut self.log_lines)
        } else {
            Record::Detail
        };
        let mut trace = Trace::accept();
        let verdict = t.walk_at(start, pkt, cx, rec, &mut trace);
        if let Some(m) = trace.mark.filter(|m| *m != pkt.mark) {
            own(pkt, &mut self.room).mark = m;
        }
        if let Some((o, len)) = trace.tcp_options.take() {
            let pkt = own(pkt, &mut self.room);
            pkt.len = len;
            if let Transport::Tcp { options, .. } = &mut pkt.transport {
                *options = o;
            }
        }
        if !quiet {
            let (table, chain) = hook.names();
            out.walks.push(Walk {
                table,
                chain,
                verdict,
                steps: std::mem::take(&mut trace.steps),
            });
            out.logs.append(&mut trace.logs);
        }
        out.rejected = trace.reject.as_ref().map(|r| r.with);
        Some(Hooked {
            verdict,
            nat: trace.nat,
            notrack: trace.notrack,
        })
    }

    /// Runs the nat chain for a new connection's manip type, records the
    /// binding, and applies the connection's NAT to the packet.
    fn nat_hook(
        &mut self,
        hook: Hook,
        src_manip: bool,
        h: Handle,
        pkt: &mut Pkt,
        cx: &mut Ctx,
        out: &mut Outcome,
    ) -> Verdict {
        if !self.nat_runs {
            return Verdict::Accept;
        }
        let done = self.ct.get(h).map(|c| {
            if src_manip {
                c.nat_done.0
            } else {
                c.nat_done.1
            }
        });
        // nf_nat_inet_fn: the rules run for a NEW packet, and for a RELATED
        // one that is not ICMP (an attached reset), while the connection's
        // manip is not set up; a RELATED ICMP error is only translated.
        let related =
            cx.ct.state == CtState::Related && !matches!(pkt.transport, Transport::Icmp { .. });
        if (cx.ct.state == CtState::New || related) && done == Some(false) {
            let trace = self.hook(hook, pkt, cx, out);
            if let Some(Hooked {
                verdict: Verdict::Drop,
                ..
            }) = trace
            {
                return Verdict::Drop;
            }
            if let Some(n) = trace.and_then(|t| t.nat) {
                self.bind(h, n, pkt);
            }
            if let Some(c) = self.ct.get_mut(h) {
                if src_manip {
                    c.nat_done.0 = true;
                } else {
                    c.nat_done.1 = true;
                }
            }
            let (state, reply_dir) = (cx.ct.state, cx.ct.reply_dir);
            self.ct.fill(&mut cx.ct, h, state, reply_dir);
        }
        if let Some(c) = self.ct.get(h) {
            if let Some((old, new)) = nat_apply(pkt, &mut self.room, c, cx.ct.reply_dir, src_manip)
            {
                if !self.quiet {
                    let kind = if src_manip { "SNAT" } else { "DNAT" };
                    out.nat.push(format!(
                        "{kind} {} -> {}",
                        endpoint(old.0, old.1, &pkt.transport),
                        endpoint(new.0, new.1, &pkt.transport)
                    ));
                }
            }
        }
        Verdict::Accept
    }

    /// Records a NAT binding: the connection's reply tuple changes.
    fn bind(&mut self, h: Handle, n: &Nat, pkt: &Packet) {
        let Some(c) = self.ct.get(h).copied() else {
            return;
        };
        let mut reply: Tuple = c.reply;
        let with_ports = matches!(c.orig.proto, 6 | 17 | 136);
        let (bit, dst_side) = match n.kind {
            Kind::Dnat | Kind::Redirect => (status::DST_NAT, true),
            Kind::Snat | Kind::Masquerade => (status::SRC_NAT, false),
        };
        let addr = match n.kind {
            Kind::Dnat | Kind::Snat if n.flags & MAP_IPS != 0 => {
                // An earlier connection from the same source, port and
                // protocol keeps its source address (find_appropriate_src).
                let earlier = (!dst_side)
                    .then(|| {
                        self.ct.conns().find(|o| {
                            o.status & status::SRC_NAT != 0
                                && (o.orig.src, o.orig.sport, o.orig.proto)
                                    == (c.orig.src, c.orig.sport, c.orig.proto)
                        })
                    })
                    .flatten()
                    .map(|o| o.reply.dst);
                Some(nat_range::pick_addr(
                    n.min_addr,
                    n.max_addr,
                    (c.orig.src, c.orig.dst),
                    !dst_side,
                    n.flags & PERSISTENT != 0,
                    earlier,
                ))
            }
            Kind::Redirect => Some(if pkt.iface_in.is_empty() {
                IpAddr::V4(Ipv4Addr::LOCALHOST)
            } else {
                self.host.addr_of(&pkt.iface_in).map_or(pkt.dst, IpAddr::V4)
            }),
            Kind::Masquerade => Some(
                self.host
                    .addr_of(&pkt.iface_out)
                    .map_or(pkt.src, IpAddr::V4),
            ),
            _ => None,
        };
        if dst_side {
            if let Some(a) = addr {
                reply.src = a;
            }
            if with_ports {
                reply.sport = pick_port(n, c.orig.dport);
            }
        } else {
            if let Some(a) = addr {
                reply.dst = a;
            }
            if with_ports {
                reply.dport = pick_port(n, c.orig.sport);
            }
        }
        if reply != c.reply {
            if let Some(cm) = self.ct.get_mut(h) {
                cm.status |= bit;
            }
            self.ct.set_reply(h, reply);
        }
    }

    /// Processes one packet (see the module docs), after the host's
    /// timers due by its time ([`Engine::advance_to`]). A fragment is
    /// held until its datagram is complete, which is then processed
    /// whole ([`crate::defrag`]).
    ///
    /// A packet sent by this host (only `OUT=`) comes from a process's
    /// socket owned by its logged `UID=`/`GID=`, else by root.
    pub fn process(&mut self, pkt: &Packet) -> Outcome {
        *self.process_own(pkt)
    }

    /// [`Engine::process`], the outcome boxed.
    fn process_own(&mut self, pkt: &Packet) -> Box<Outcome> {
        let timers = match pkt.time {
            Some(t) => self.advance_to(t),
            None => Vec::new(),
        };
        let whole;
        let pkt = if defrag::is_fragment(pkt) {
            match self.fragment(pkt) {
                Some(w) => {
                    whole = w;
                    &whole
                }
                None => return self.held_outcome(pkt, timers),
            }
        } else {
            pkt
        };
        let (uid, gid) = pkt.uid_gid.unwrap_or((0, 0));
        self.root_sock =
            pkt.uid_gid.is_none() && pkt.iface_in.is_empty() && !pkt.iface_out.is_empty();
        let mut out = self.process_as(pkt, None, Sock::User(uid, gid));
        out.timers = timers;
        out
    }

    /// [`Engine::process`] for replay: the same verdicts, counters,
    /// connections and LOG lines, without the trace. The LOG lines this
    /// packet and the host's answers write are appended to `logs`, each
    /// ending in a newline, in the order [`Outcome::logs`] and its
    /// replies give them.
    pub fn process_quiet(&mut self, pkt: &Packet, logs: &mut String) -> Verdict {
        self.quiet = true;
        let out = self.process_own(pkt);
        let verdict = out.verdict;
        self.recycle(out);
        self.quiet = false;
        if !self.log_lines.is_empty() {
            logs.push_str(&self.log_lines);
            self.log_lines.clear();
        }
        verdict
    }

    /// [`Engine::process`], for a packet whose connection is already
    /// attached (`nf_ct_attach`: an RST a REJECT sends is RELATED to the
    /// rejected packet's connection).
    fn process_as(
        &mut self,
        pkt: &Packet,
        attached: Option<(Handle, conntrack::CtView)>,
        sock: Sock,
    ) -> Box<Outcome> {
        let mut out = self.outcome(pkt);
        let mut p = Cow::Borrowed(pkt);
        // LOG --log-uid writes a process socket's owner (live: the corpus
        // case log-uid), not that of the stack's answers.
        if std::mem::take(&mut self.root_sock) && self.log_uid {
            own(&mut p, &mut self.room).uid_gid = Some((0, 0));
        }
        let arriving = !p.iface_in.is_empty() || p.iface_out.is_empty();
        self.last = None;
        let verdict = if arriving {
            self.arriving(&mut p, &mut out, None)
        } else {
            self.sent(&mut p, &mut out, attached, sock)
        };
        if let (Verdict::Drop, Some(with), Some((h, view, now))) =
            (verdict, out.rejected, self.last.clone())
        {
            if let Some(mut r) = self.host.reject(&p, with, now) {
                if !arriving {
                    // Rejected on its way out: the answer comes back to
                    // this host through lo, an ICMP error from the address
                    // the route back gives, its own (live: the corpus case
                    // output-reject).
                    r.iface_out = "lo".to_string();
                    if with != 7 {
                        r.src = p.src;
                    }
                }
                // Both the reset and the ICMP error carry the rejected
                // packet's connection (live: RELATED in OUTPUT).
                // The connection as the rules left it (a NAT binding made
                // since it was tracked: ctstate DNAT/SNAT).
                let view = self.ct.view(h, view.state, view.reply_dir);
                let attached = related_to(h, view);
                out.reply = Some(self.process_as(&r, attached, Sock::None));
            }
        }
        out.verdict = verdict;
        if !self.quiet {
            out.out = p.into_owned();
        } else if let Cow::Owned(copy) = p {
            self.room = copy;
        }
        out
    }

    /// A fresh outcome for `pkt`; a quiet replay keeps no packet copies
    /// and reuses the room of outcomes it is done with.
    fn outcome(&mut self, pkt: &Packet) -> Box<Outcome> {
        if !self.quiet {
            return Box::new(Outcome::new(pkt.clone()));
        }
        match self.spare.pop() {
            Some(mut o) => {
                o.verdict = Verdict::Accept;
                o.ct = CtState::Invalid;
                o.dropped_by = None;
                o.rejected = None;
                o
            }
            None => Box::new(Outcome::new(Packet::default())),
        }
    }

    /// Keeps the room of a quiet replay's outcome (and its replies') for
    /// the next packets.
    fn recycle(&mut self, mut out: Box<Outcome>) {
        if let Some(r) = out.reply.take() {
            self.recycle(r);
        }
        out.timers.clear();
        self.spare.push(out);
    }

    /// The packet's connection after its raw hook: the attached one, or
    /// conntrack's; its view goes to `cx`.
    fn connect(
        &mut self,
        raw: Option<Hooked>,
        attached: Option<(Handle, conntrack::CtView)>,
        p: &Packet,
        cx: &mut Ctx,
    ) -> Handle {
        if let Some((h, view)) = attached {
            cx.ct = view;
            return h;
        }
        if raw.is_some_and(|t| t.notrack) {
            let t = self.ct.untrack();
            cx.ct = t.view;
            return t.handle;
        }
        self.ct.track_into(p, &mut cx.ct)
    }

    fn arriving(
        &mut self,
        p: &mut Pkt,
        out: &mut Outcome,
        attached: Option<(Handle, conntrack::CtView)>,
    ) -> Verdict {
        let now = self.ct.advance(p);
        let mut cx = self.at(now);
        let raw = self.hook(Hook::RawPrerouting, p, &cx, out);
        if raw.as_ref().is_some_and(|t| t.verdict != Verdict::Accept) {
            return Verdict::Drop;
        }
        let h = self.connect(raw, attached, p, &mut cx);
        out.ct = cx.ct.state;
        if self.rejects {
            self.last = Some((h, cx.ct.clone(), now));
        }
        if self.stop(Hook::ManglePrerouting, p, &cx, out) {
            return Verdict::Drop;
        }
        if self.nat_hook(Hook::NatPrerouting, false, h, p, &mut cx, out) == Verdict::Drop {
            return Verdict::Drop;
        }
        // Broadcasts and the all-hosts group are delivered locally, other
        // groups and 0/8 dropped (Host::route_input).
        let Some(local) = self.host.route_input(p.dst, &p.iface_in) else {
            out.dropped_by = Some("routing");
            return Verdict::Drop;
        };
        let forwarded = !p.iface_out.is_empty() || !local;
        if !self.host.is_local(p.src) && !self.host.rp_ok(p.src, &p.iface_in) {
            out.dropped_by = Some("rp_filter");
            return Verdict::Drop;
        }
        if forwarded {
            if !self.host.sysctl.ip_forward && p.iface_out.is_empty() {
                out.dropped_by = Some("routing");
                return Verdict::Drop;
            }
            if p.iface_out.is_empty() {
                // ip_forward: a TTL that would reach 0 is answered with
                // time exceeded instead; else it drops by one before the
                // FORWARD hook. (A line with OUT= set was logged after
                // that, its TTL already lowered.)
                if p.ttl <= 1 {
                    out.dropped_by = Some("ttl");
                    if let Some(r) = self.host.time_exceeded(p, now) {
                        // It carries the packet's connection (live: RELATED).
                        let attached = related_to(h, cx.ct.clone());
                        out.reply = Some(self.process_as(&r, attached, Sock::Kernel));
                    }
                    return Verdict::Drop;
                }
                let iface_out = self
                    .host
                    .route(p.dst)
                    .map(|i| i.name.clone())
                    .unwrap_or_default();
                let p = own(p, &mut self.room);
                p.ttl -= 1;
                p.iface_out = iface_out;
            }
            for hook in [
                Hook::MangleForward,
                Hook::FilterForward,
                Hook::SecurityForward,
            ] {
                if self.stop(hook, p, &cx, out) {
                    return Verdict::Drop;
                }
            }
            return match self.postrouting(h, p, &mut cx, out) {
                Some(_) => Verdict::Accept,
                None => Verdict::Drop,
            };
        }
        for hook in [Hook::MangleInput, Hook::FilterInput, Hook::SecurityInput] {
            if self.stop(hook, p, &cx, out) {
                return Verdict::Drop;
            }
        }
        if self.nat_hook(Hook::NatInput, true, h, p, &mut cx, out) == Verdict::Drop {
            return Verdict::Drop;
        }
        // ipv4_confirm skips a RELATED reply (an attached error or reset
        // coming back through lo): its connection stays unconfirmed.
        if !(cx.ct.state == CtState::Related && cx.ct.reply_dir) {
            self.ct.confirm(h);
        }
        let socket = match cx.ct.state {
            CtState::Invalid => self.ct.socket_of(p),
            _ => None,
        };
        let reached = reaches_socket(socket.as_ref().unwrap_or(&cx.ct), &p.transport);
        let reply = if reached {
            None
        } else {
            self.host.reply(p, now)
        };
        if let Some(r) = self.handshake_seen(p, reached, reply, now) {
            // A SYN-ACK belongs to the listener (root's); the rest come
            // from kernel control sockets.
            let synack =
                matches!(r.transport, Transport::Tcp { flags, .. } if flags & tcp_flags::SYN != 0);
            let sock = if synack {
                Sock::User(0, 0)
            } else {
                Sock::Kernel
            };
            out.reply = Some(self.process_as(&r, None, sock));
        }
        Verdict::Accept
    }

    fn sent(
        &mut self,
        p: &mut Pkt,
        out: &mut Outcome,
        attached: Option<(Handle, conntrack::CtView)>,
        sock: Sock,
    ) -> Verdict {
        let now = self.ct.advance(p);
        let mut cx = Ctx {
            sock,
            ..self.at(now)
        };
        let raw = self.hook(Hook::RawOutput, p, &cx, out);
        if raw.as_ref().is_some_and(|t| t.verdict != Verdict::Accept) {
            return Verdict::Drop;
        }
        let h = self.connect(raw, attached, p, &mut cx);
        out.ct = cx.ct.state;
        if self.rejects {
            self.last = Some((h, cx.ct.clone(), now));
        }
        if self.stop(Hook::MangleOutput, p, &cx, out) {
            return Verdict::Drop;
        }
        if self.nat_hook(Hook::NatOutput, false, h, p, &mut cx, out) == Verdict::Drop {
            return Verdict::Drop;
        }
        for hook in [Hook::FilterOutput, Hook::SecurityOutput] {
            if self.stop(hook, p, &cx, out) {
                return Verdict::Drop;
            }
        }
        // A multicast to a group joined there loops back (multicast.rs).
        let looped = self.loop_copy(h, p, &mut cx, out);
        let left = self.postrouting(h, p, &mut cx, out);
        if let Some(copy) = looped {
            self.loop_in(copy, &cx, out);
        }
        let Some(h) = left else {
            return Verdict::Drop;
        };
        if !self.host.is_own(p.dst) {
            return Verdict::Accept;
        }
        // To this host: back in through lo, keeping its connection
        // (nf_conntrack_in leaves a packet that has one alone); lo's
        // header logs as 12 zero bytes and the IPv4 type.
        let back = own(p, &mut self.room);
        back.iface_in = "lo".into();
        back.iface_out.clear();
        // loopback_xmit orphans it: no socket on the way in.
        back.uid_gid = None;
        let mut mac = vec![0u8; 12];
        mac.extend([8, 0]);
        back.mac = Some(mac);
        let view = self.ct.view(h, cx.ct.state, cx.ct.reply_dir);
        self.arriving(p, out, Some((h, view)))
    }

    /// mangle and nat POSTROUTING and confirmation; the connection's
    /// handle after it, `None` when the packet was dropped.
    fn postrouting(
        &mut self,
        h: Handle,
        p: &mut Pkt,
        cx: &mut Ctx,
        out: &mut Outcome,
    ) -> Option<Handle> {
        if self.stop(Hook::ManglePostrouting, p, cx, out)
            || self.nat_hook(Hook::NatPostrouting, true, h, p, cx, out) == Verdict::Drop
        {
            return None;
        }
        // ipv4_confirm skips a RELATED reply (an attached reset).
        if cx.ct.state == CtState::Related && cx.ct.reply_dir {
            return Some(h);
        }
        let confirmed = self.ct.confirm(h);
        // __nf_conntrack_confirm: a new connection whose (NATed) tuples
        // clash with a live one is dropped. NAT picks another port or ICMP
        // id for a clash; a protocol without them (GRE, IGMP, ...) keeps
        // the clashing tuple, so two sources masqueraded to one address
        // for the same destination: the second is dropped.
        let portless = !matches!(p.transport.proto(), 1 | 6 | 17 | 136);
        if h == Handle::Unconfirmed && confirmed == Handle::None && portless {
            return None;
        }
        Some(confirmed)
    }

    /// Walks a hook; true when the packet is stopped there (DROP, REJECT,
    /// QUEUE without a listener).
    fn stop(&mut self, hook: Hook, p: &mut Pkt, cx: &Ctx, out: &mut Outcome) -> bool {
        self.hook(hook, p, cx, out)
            .is_some_and(|t| t.verdict != Verdict::Accept)
    }
}

/// Whether an accepted local packet reaches a connection's own socket
/// (which answers nothing the engine models), rather than the stack's
/// answers ([`Host::reply`]): a reply to a connection this host opened,
/// or a packet of a connection seen both ways. Not when an RST closed the
/// connection (conntrack's CLOSE): the socket went with it. Nor while the
/// handshake waits (conntrack's SYN_RECV, original direction) for a SYN
/// or an ACK: tcp_check_req sends the SYN-ACK again for a SYN, and an ACK
/// conntrack left there did not ack the SYN-ACK (the window check ignored
/// it), so the listener resets it.
fn reaches_socket(ct: &conntrack::CtView, t: &Transport) -> bool {
    let tcp_state = match ct.conn.map(|c| c.proto) {
        Some(conntrack::Proto::Tcp(s, _)) => Some(s),
        _ => None,
    };
    let flags = match t {
        Transport::Tcp { flags, .. } => flags & (tcp_flags::SYN | tcp_flags::ACK | tcp_flags::RST),
        _ => 0,
    };
    // icmp_echo answers every echo request, whatever its connection.
    if matches!(t, Transport::Icmp { typ: 8, .. }) {
        return false;
    }
    let closed = tcp_state == Some(conntrack::TcpState::Close);
    let handshake = tcp_state == Some(conntrack::TcpState::SynRecv)
        && !ct.reply_dir
        && matches!(flags, tcp_flags::SYN | tcp_flags::ACK);
    !closed && !handshake && (ct.reply_dir || ct.state == CtState::Established)
}

/// `nf_ct_attach`: the packet the host sends about another (a reset, and
/// any ICMP error: `icmp_glue_bits` attaches too) carries that packet's
/// connection, RELATED in the other direction, confirmed or not; a packet
/// without a connection (INVALID, untracked) passes none on.
fn related_to(h: Handle, view: conntrack::CtView) -> Option<(Handle, conntrack::CtView)> {
    view.conn.is_some().then(|| {
        let related = conntrack::CtView {
            state: CtState::Related,
            reply_dir: !view.reply_dir,
            ..view
        };
        (h, related)
    })
}

/// Sets the source (or destination) address of a packet, and its port
/// when it has ports.
fn set_end(p: &mut Packet, source: bool, addr: IpAddr, port: u16) {
    if source {
        p.src = addr;
    } else {
        p.dst = addr;
    }
    if let Some((s, d)) = ports_mut(&mut p.transport) {
        if source {
            *s = port;
        } else {
            *d = port;
        }
    }
}

/// `nf_nat_packet`: rewrites the packet (its copy in `room`, [`own`]) for
/// the connection's NAT in this manip type and direction; returns the end
/// (address, port) before and after when it changed.
fn nat_apply(
    p: &mut Pkt,
    room: &mut Packet,
    c: &conntrack::Conn,
    reply_dir: bool,
    src_manip: bool,
) -> Option<((IpAddr, u16), (IpAddr, u16))> {
    let mut bit = if src_manip {
        status::SRC_NAT
    } else {
        status::DST_NAT
    };
    if reply_dir {
        bit ^= status::SRC_NAT | status::DST_NAT;
    }
    if c.status & bit == 0 {
        return None;
    }
    // The target is the inverse of the other direction's tuple.
    let other = if reply_dir { c.orig } else { c.reply };
    let (to_addr, to_port) = if src_manip {
        (other.dst, other.dport)
    } else {
        (other.src, other.sport)
    };
    let (old_addr, old_port) = {
        let ports = match &p.transport {
            Transport::Tcp { spt, dpt, .. } | Transport::Udp { spt, dpt, .. } => (*spt, *dpt),
            _ => (0, 0),
        };
        if src_manip {
            (p.src, ports.0)
        } else {
            (p.dst, ports.1)
        }
    };
    if (old_addr, old_port) == (to_addr, to_port) {
        return None;
    }
    let p = own(p, room);
    set_end(p, src_manip, to_addr, to_port);
    // nf_nat_icmp_reply_translation: the quoted packet went the other
    // way, so it gets the mirrored rewrite.
    if let Transport::Icmp { inner: Some(q), .. } = &mut p.transport {
        set_end(q, !src_manip, to_addr, to_port);
    }
    Some(((old_addr, old_port), (to_addr, to_port)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ironwall_model::addr::Family;

    fn rs(text: &str) -> Ruleset {
        let mut rs = Ruleset::new(Family::V4);
        ironwall_model::restore::restore(&mut rs, text, &Default::default(), &[]).unwrap();
        rs
    }

    fn host(opts: &[(&str, &str)]) -> Host {
        let mut h = Host::default();
        for (k, v) in opts {
            h.option(k, v).unwrap();
        }
        h
    }

    /// DNAT in PREROUTING for the first packet only; the binding rewrites
    /// later packets and un-NATs replies (nf_nat_inet_fn, nf_nat_packet).
    #[test]
    fn dnat_binding_applies_to_later_packets_and_replies() {
        let rs = rs("*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp -m tcp --dport 22 -j DNAT --to-destination 10.0.0.1:8022\nCOMMIT\n");
        let h = host(&[("iface", "eth0=10.0.0.1/24"), ("listen", "tcp/8022")]);
        let mut e = Engine::new(&rs, h).unwrap();
        let o = e.process(&tcp_in(22, "SYN"));
        assert_eq!(o.verdict, Verdict::Accept);
        assert_eq!(o.nat, ["DNAT 10.0.0.1:22 -> 10.0.0.1:8022"]);
        // The SYN-ACK from 8022 leaves with the original port restored.
        let r = o.reply.unwrap();
        assert_eq!(r.nat, ["SNAT 10.0.0.1:8022 -> 10.0.0.1:22"]);
        assert_eq!(r.ct, CtState::Established);
        let o2 = e.process(&tcp_in(22, "ACK"));
        assert_eq!(o2.nat, ["DNAT 10.0.0.1:22 -> 10.0.0.1:8022"]);
        // nat PREROUTING counted the first packet only.
        let nat = e
            .tables()
            .iter()
            .find(|t| t.table().name() == "nat")
            .unwrap();
        assert_eq!(nat.counters[0][0], (1, 40));
    }

    /// Found by tests/live_stateful.rs against Linux 6.18: an RST in the
    /// window closes the connection and its socket; the next ACK of the
    /// same flow reaches the listener, which resets it (seq = its ack).
    #[test]
    fn ack_after_reset_is_reset_by_the_listener() {
        let rs = rs("*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n");
        let mut e = Engine::new(&rs, host(&SSH)).unwrap();
        let seg = |seq: u32, ack: u32, flags: &str| {
            tcp_in(22, &format!("SEQ={seq} ACK={ack} WINDOW=502 {flags}"))
        };
        let o = e.process(&seg(100, 0, "SYN"));
        let Some(Transport::Tcp { seq: Some(isn), .. }) = o.reply.map(|r| r.out.transport) else {
            panic!("no SYN-ACK");
        };
        let s = isn.wrapping_add(1);
        assert!(e.process(&seg(101, s, "ACK")).reply.is_none());
        assert!(e.process(&seg(101, s, "ACK RST")).reply.is_none());
        let o = e.process(&seg(101, s, "ACK"));
        let r = o.reply.expect("the listener's reset");
        assert!(matches!(
            r.out.transport,
            Transport::Tcp { seq: Some(q), flags, .. } if q == s && flags == tcp_flags::RST
        ));
    }

    /// Found by tests/live_stateful.rs: with nf_conntrack_checksum=1 an
    /// arriving SYN with a wrong checksum is INVALID and unanswered; with
    /// 0 it is NEW and answered.
    #[test]
    fn bad_checksum_is_invalid() {
        let rs = rs("*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n");
        let mut syn = tcp_in(22, "SEQ=1 ACK=0 SYN");
        syn.bad_checksum = true;
        let o = Engine::new(&rs, host(&SSH)).unwrap().process(&syn);
        assert_eq!(o.ct, CtState::Invalid);
        assert!(o.reply.is_none());
        let mut h = host(&SSH);
        h.option("--sysctl", "net.netfilter.nf_conntrack_checksum=0")
            .unwrap();
        let o = Engine::new(&rs, h).unwrap().process(&syn);
        assert_eq!(o.ct, CtState::New);
    }

    /// Found by tests/live_stateful.rs: a SYN sent again while the
    /// handshake waits gets the SYN-ACK again, an ACK that does not ack
    /// it an RST (tcp_check_req).
    #[test]
    fn syn_again_gets_the_synack_again() {
        let rs = rs("*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n");
        let mut e = Engine::new(&rs, host(&SSH)).unwrap();
        let syn = tcp_in(22, "SEQ=900 ACK=0 SYN");
        let first = e.process(&syn).reply.expect("SYN-ACK");
        let again = e.process(&syn);
        assert_eq!(again.ct, CtState::Established);
        assert_eq!(again.reply.expect("SYN-ACK again").out, first.out);
        // An ACK of something else: the listener resets it (seq = its ack).
        let bad = e.process(&tcp_in(22, "SEQ=901 ACK=12345 ACK"));
        let rst = bad.reply.expect("the listener's reset");
        assert!(matches!(
            rst.out.transport,
            Transport::Tcp { seq: Some(12345), flags, .. } if flags == tcp_flags::RST
        ));
    }

    /// With ip_forward=0 a packet for another host never reaches FORWARD.
    #[test]
    fn forwarding_off_drops_at_routing() {
        let rs = rs(
            "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n",
        );
        let mut e = Engine::new(&rs, host(&[("iface", "eth0=10.0.0.1/24")])).unwrap();
        let p = Packet::parse_line("IN=eth0 OUT= SRC=10.0.0.9 DST=10.0.0.7 PROTO=UDP SPT=1 DPT=2")
            .unwrap();
        let o = e.process(&p);
        assert_eq!((o.verdict, o.dropped_by), (Verdict::Drop, Some("routing")));
        let mut e = Engine::new(
            &rs,
            host(&[
                ("iface", "eth0=10.0.0.1/24"),
                ("sysctl", "net.ipv4.ip_forward=1"),
            ]),
        )
        .unwrap();
        let o = e.process(&p);
        assert_eq!(
            o.walks.iter().map(|w| w.chain).collect::<Vec<_>>(),
            ["FORWARD"]
        );
    }

    /// REJECT answers through OUTPUT: the reset is RELATED to the
    /// rejected SYN's (unconfirmed) connection (nf_ct_attach); so is the
    /// port unreachable for a new UDP flow (icmp_glue_bits attaches the
    /// rejected packet's connection; live: the corpus case trace-targets,
    /// and the lab's OUTPUT counts it RELATED).
    #[test]
    fn reject_answers_go_through_output() {
        let rs = rs("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT DROP [0:0]\n-A INPUT -p tcp -m tcp --dport 23 -j REJECT --reject-with tcp-reset\n-A INPUT -p udp -j REJECT\n-A OUTPUT -m conntrack --ctstate RELATED -j ACCEPT\nCOMMIT\n");
        let mut e = Engine::new(&rs, host(&[("iface", "eth0=10.0.0.1/24")])).unwrap();
        let syn = Packet::parse_line(
            "IN=eth0 OUT= SRC=10.0.0.9 DST=10.0.0.1 PROTO=TCP SPT=40000 DPT=23 SEQ=5 ACK=0 SYN",
        )
        .unwrap();
        let o = e.process(&syn);
        assert_eq!((o.verdict, o.rejected), (Verdict::Drop, Some(7)));
        let rst = o.reply.unwrap();
        assert_eq!((rst.ct, rst.verdict), (CtState::Related, Verdict::Accept));
        assert!(matches!(
            rst.packet.transport,
            Transport::Tcp { ack: Some(6), .. }
        ));
        assert_eq!(e.ct.conns().count(), 0);
        let udp = udp_in(1, 2);
        let o = e.process(&udp);
        let icmp = o.reply.unwrap();
        assert_eq!((icmp.ct, icmp.verdict), (CtState::Related, Verdict::Accept));
    }

    /// A mark set in mangle PREROUTING (xt_MARK) is seen by filter INPUT
    /// (xt_mark) and by rules after it in the same chain.
    #[test]
    fn mark_set_in_mangle_reaches_filter() {
        let rs = rs("*mangle\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p udp -j MARK --set-mark 7\n-A PREROUTING -m mark --mark 7 -j MARK --or-mark 0x10\nCOMMIT\n*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m mark --mark 0x17 -j DROP\nCOMMIT\n");
        let mut e = Engine::new(&rs, Host::default()).unwrap();
        let udp = udp_in(1, 2);
        let o = e.process(&udp);
        assert_eq!(o.verdict, Verdict::Drop);
        assert_eq!(o.out.mark, 0x17);
    }

    /// rp_filter=1 (fib_validate_source, strict): a source whose route
    /// leaves by another interface is dropped before INPUT; 0 lets it in.
    #[test]
    fn strict_rp_filter() {
        let rs = rs("*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n");
        let ifaces = [
            ("iface", "eth0=10.0.0.1/24"),
            ("iface", "eth1=192.168.1.1/24"),
        ];
        let p =
            Packet::parse_line("IN=eth1 OUT= SRC=10.0.0.9 DST=192.168.1.1 PROTO=UDP SPT=1 DPT=2")
                .unwrap();
        let mut strict = host(&ifaces);
        strict
            .option("--sysctl", "net.ipv4.conf.all.rp_filter=1")
            .unwrap();
        let o = Engine::new(&rs, strict).unwrap().process(&p);
        assert_eq!(
            (o.verdict, o.dropped_by),
            (Verdict::Drop, Some("rp_filter"))
        );
        let o = Engine::new(&rs, host(&ifaces)).unwrap().process(&p);
        assert_eq!(o.verdict, Verdict::Accept);
    }

    /// addrtype (xt_addrtype) with the host's view: a subnet broadcast is
    /// BROADCAST and delivered locally, the host's address LOCAL.
    #[test]
    fn addrtype_from_the_host() {
        let rs = rs("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m addrtype --dst-type BROADCAST -j DROP\n-A INPUT -m addrtype --src-type UNICAST --dst-type LOCAL -j ACCEPT\nCOMMIT\n");
        let mut e = Engine::new(&rs, host(&[("iface", "eth0=10.0.0.1/24")])).unwrap();
        let bcast = Packet::parse_line(
            "IN=eth0 OUT= SRC=10.0.0.9 DST=10.0.0.255 PROTO=UDP SPT=138 DPT=138",
        )
        .unwrap();
        let o = e.process(&bcast);
        assert_eq!(arrows(&o), ["INPUT -> DROP"]);
        assert!(e.host.reply(&bcast, 0.0).is_none());
        let uni = udp_in(1, 2);
        let o = e.process(&uni);
        assert_eq!(arrows(&o), ["INPUT -> ACCEPT"]);
    }

    /// A host on 10.0.0.1/24 (eth0) and 192.168.1.1/24 (eth1), then
    /// `more` options.
    fn two_lans(more: &[(&str, &str)]) -> Host {
        let mut h = host(&[
            ("iface", "eth0=10.0.0.1/24"),
            ("iface", "eth1=192.168.1.1/24"),
        ]);
        for (k, v) in more {
            h.option(k, v).unwrap();
        }
        h
    }

    /// A host on 10.0.0.1/24 (eth0) listening on TCP port 22.
    const SSH: [(&str, &str); 2] = [("iface", "eth0=10.0.0.1/24"), ("listen", "tcp/22")];

    /// A TCP segment from 10.0.0.9:40000 to 10.0.0.1:`dpt` arriving on
    /// eth0, with `rest` (SEQ, ACK, flags).
    fn tcp_in(dpt: u16, rest: &str) -> Packet {
        Packet::parse_line(&format!(
            "IN=eth0 OUT= SRC=10.0.0.9 DST=10.0.0.1 LEN=40 PROTO=TCP SPT=40000 DPT={dpt} {rest}"
        ))
        .unwrap()
    }

    /// A UDP packet from 10.0.0.9 to 10.0.0.1 arriving on eth0.
    fn udp_in(spt: u16, dpt: u16) -> Packet {
        Packet::parse_line(&format!(
            "IN=eth0 OUT= SRC=10.0.0.9 DST=10.0.0.1 PROTO=UDP SPT={spt} DPT={dpt}"
        ))
        .unwrap()
    }

    fn arrows(o: &Outcome) -> Vec<String> {
        o.walks.iter().map(Walk::arrows).collect()
    }

    /// xt_rpfilter in raw PREROUTING with the host's routes: a source
    /// routed by another interface fails (unless --loose), the host's own
    /// address fails (unless --accept-local).
    #[test]
    fn rpfilter_match() {
        let rs = rs(
            "*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -m rpfilter --invert -j DROP\nCOMMIT\n",
        );
        let mut e = Engine::new(&rs, two_lans(&[])).unwrap();
        let from = |iface: &str, src: &str| {
            Packet::parse_line(&format!(
                "IN={iface} OUT= SRC={src} DST=10.0.0.1 PROTO=UDP SPT=1 DPT=2"
            ))
            .unwrap()
        };
        assert_eq!(
            e.process(&from("eth0", "10.0.0.9")).walks[0].verdict,
            Verdict::Accept
        );
        assert_eq!(e.process(&from("eth1", "10.0.0.9")).verdict, Verdict::Drop);
        assert_eq!(e.process(&from("eth0", "10.0.0.1")).verdict, Verdict::Drop);
        // The first interface is the default route.
        assert_eq!(
            e.process(&from("eth0", "198.51.100.7")).walks[0].verdict,
            Verdict::Accept
        );
    }

    /// Per table: every rule's counters, every policy's.
    type Counters = Vec<(Vec<Vec<(u64, u64)>>, Vec<(u64, u64)>)>;

    /// Every rule's and policy's counters of every table.
    fn counters(e: &Engine) -> Counters {
        e.tables()
            .iter()
            .map(|t| (t.counters.clone(), t.policy.clone()))
            .collect()
    }

    proptest::proptest! {
        /// Any sequence of packets, whatever their fields, goes through
        /// every hook without a panic; the quiet replay gives the same
        /// verdicts, LOG lines, counters and connections as the detailed
        /// one.
        #[test]
        fn never_panics_and_quiet_agrees(pkts in proptest::collection::vec(
            (0u8..4, 0u16..4, 0u16..4, proptest::option::of(proptest::num::u32::ANY),
             proptest::option::of(proptest::num::u32::ANY), 0u16..512, 0u8..20, 0u16..2000, 0u32..100),
            1..40,
        )) {
            let rs = rs("*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -p tcp -m tcp --dport 3 -j CT --notrack\n-A PREROUTING -j LOG --log-prefix \"raw \"\nCOMMIT\n*mangle\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -p udp -j MARK --set-mark 7\n-A OUTPUT -m addrtype --dst-type LOCAL -j LOG --log-prefix \"local \"\nCOMMIT\n*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp -m tcp --dport 2 -j DNAT --to-destination 10.0.0.1:3\n-A POSTROUTING -o eth1 -j MASQUERADE\nCOMMIT\n*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:IN - [0:0]\n-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A INPUT -j IN\n-A INPUT -p udp -j REJECT\n-A INPUT -p tcp -m tcp --dport 1 -j REJECT --reject-with tcp-reset\n-A INPUT -m limit --limit 2/sec -j LOG --log-tcp-sequence\n-A IN -m mark --mark 7 -j RETURN\n-A IN -p tcp -m tcp --tcp-flags SYN,ACK SYN -j LOG --log-prefix \"syn \"\n-A OUTPUT -j LOG --log-uid\nCOMMIT\n");
            let h = host(&[("iface", "eth0=10.0.0.1/24"), ("iface", "eth1=192.168.1.1/24"), ("listen", "tcp/3"), ("sysctl", "net.ipv4.ip_forward=1")]);
            let mut e = Engine::new(&rs, h.clone()).unwrap();
            let mut quiet = Engine::new(&rs, h).unwrap();
            let (mut logs, mut quiet_logs) = (String::new(), String::new());
            for (dir, spt, dpt, seq, ack, flags, typ, len, t) in pkts {
                let (i, o, src, dst) = match dir {
                    0 => ("eth0", "", "10.0.0.9", "10.0.0.1"),
                    1 => ("", "eth0", "10.0.0.1", "10.0.0.9"),
                    2 => ("eth0", "", "10.0.0.9", "192.168.1.7"),
                    _ => ("lo", "", "127.0.0.1", "127.0.0.1"),
                };
                let mut p = Packet {
                    time: Some(f64::from(t)),
                    iface_in: i.into(),
                    iface_out: o.into(),
                    src: src.parse().unwrap(),
                    dst: dst.parse().unwrap(),
                    len,
                    // Now and then a fragment (joined, held or expired).
                    mf: typ % 5 == 0 && spt % 2 == 0,
                    frag: if typ % 5 == 0 { dpt % 3 } else { 0 },
                    ..Packet::default()
                };
                p.transport = match typ % 4 {
                    0 => Transport::Tcp { spt, dpt, seq, ack, window: spt, res: 0, flags, urgp: 0, options: vec![3, 3, typ] },
                    1 => Transport::Udp { spt, dpt, len: 8, lite: false },
                    2 => Transport::Icmp { typ, code: 3, id: Some(spt), seq: Some(dpt), inner: Some(Box::new(p.clone())), mtu: None, gateway: None, parameter: None },
                    _ => Transport::Other(typ),
                };
                let o = e.process(&p);
                o.all_logs(&mut logs);
                proptest::prop_assert_eq!(quiet.process_quiet(&p, &mut quiet_logs), o.verdict);
            }
            proptest::prop_assert_eq!(logs, quiet_logs);
            proptest::prop_assert_eq!(counters(&e), counters(&quiet));
            proptest::prop_assert_eq!(e.ct.conns().count(), quiet.ct.conns().count());
        }
    }

    /// ip_forward: TTL 1 is not forwarded; time exceeded goes back from
    /// the address facing the sender, through OUTPUT.
    #[test]
    fn ttl_expires_in_transit() {
        let rs = rs(
            "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n",
        );
        let h = host(&[
            ("iface", "eth0=10.0.0.1/24"),
            ("iface", "eth1=192.168.1.1/24"),
            ("sysctl", "net.ipv4.ip_forward=1"),
        ]);
        let mut e = Engine::new(&rs, h).unwrap();
        let p = Packet::parse_line(
            "IN=eth0 OUT= SRC=10.0.0.9 DST=192.168.1.7 TTL=1 PROTO=UDP SPT=1 DPT=33434",
        )
        .unwrap();
        let o = e.process(&p);
        assert_eq!((o.verdict, o.dropped_by), (Verdict::Drop, Some("ttl")));
        let r = o.reply.unwrap();
        assert_eq!(r.packet.src.to_string(), "10.0.0.1");
        assert!(matches!(
            r.packet.transport,
            Transport::Icmp {
                typ: 11,
                code: 0,
                ..
            }
        ));
        assert_eq!(
            r.walks.iter().map(|w| w.chain).collect::<Vec<_>>(),
            ["OUTPUT"]
        );
    }

    /// An ICMP error from a DNAT backend is RELATED (icmp_error_message
    /// inverts the quoted tuple) and is translated back, outer and quoted
    /// packet, as nf_nat_icmp_reply_translation does.
    #[test]
    fn icmp_error_through_dnat() {
        let rs = rs("*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n-A PREROUTING -p udp -m udp --dport 53 -j DNAT --to-destination 192.168.1.7:5353\nCOMMIT\n");
        let mut e = Engine::new(&rs, two_lans(&[("sysctl", "net.ipv4.ip_forward=1")])).unwrap();
        let q = Packet::parse_line(
            "IN=eth0 OUT= SRC=10.0.0.9 DST=10.0.0.1 TTL=64 PROTO=UDP SPT=4000 DPT=53",
        )
        .unwrap();
        let o = e.process(&q);
        assert_eq!(o.nat, ["DNAT 10.0.0.1:53 -> 192.168.1.7:5353"]);
        let err = Packet::parse_line("IN=eth1 OUT= SRC=192.168.1.7 DST=10.0.0.9 TTL=64 PROTO=ICMP TYPE=3 CODE=3 [SRC=10.0.0.9 DST=192.168.1.7 LEN=28 TOS=0x00 PREC=0x00 TTL=63 ID=0 PROTO=UDP SPT=4000 DPT=5353 LEN=8 ]")
            .unwrap();
        let o = e.process(&err);
        assert_eq!((o.ct, o.verdict), (CtState::Related, Verdict::Accept));
        assert_eq!(o.out.src.to_string(), "10.0.0.1");
        let Transport::Icmp {
            inner: Some(inner), ..
        } = &o.out.transport
        else {
            panic!("no quoted packet");
        };
        assert_eq!(inner.dst.to_string(), "10.0.0.1");
        assert!(matches!(inner.transport, Transport::Udp { dpt: 53, .. }));
    }

    /// `-j CT --notrack` in raw: later raw rules see UNTRACKED, and so do
    /// the other tables; no connection is kept.
    #[test]
    fn notrack_is_untracked() {
        let rs = rs("*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -p udp -j CT --notrack\n-A PREROUTING -m conntrack --ctstate UNTRACKED -j ACCEPT\nCOMMIT\n*filter\n:INPUT DROP [0:0]\n-A INPUT -m state --state UNTRACKED -j ACCEPT\nCOMMIT\n");
        let mut e = Engine::new(&rs, Host::default()).unwrap();
        let p = udp_in(53, 5000);
        let o = e.process(&p);
        assert_eq!(arrows(&o), ["PREROUTING -> ACCEPT", "INPUT -> ACCEPT"]);
        assert_eq!(o.ct, CtState::Untracked);
        assert_eq!(e.ct.conns().count(), 0);
    }

    /// Fragments reach no hook until their datagram is complete, which
    /// is then logged whole (nf_defrag_ipv4 before raw PREROUTING); a
    /// datagram left incomplete past ipfrag_time is answered with time
    /// exceeded (fragment reassembly) through OUTPUT.
    #[test]
    fn fragments_join_before_the_first_hook() {
        let rs = rs("*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j LOG --log-prefix \"raw \"\nCOMMIT\n*filter\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -j LOG --log-prefix \"out \"\nCOMMIT\n");
        let h = host(&[
            ("iface", "eth0=10.0.0.1/24"),
            ("sysctl", "net.ipv4.ipfrag_time=2"),
        ]);
        let mut e = Engine::new(&rs, h).unwrap();
        let f = |t: u32, id: u16, rest: &str| {
            Packet::parse_line(&format!(
                "[{t}.000000] IN=eth0 OUT= SRC=10.0.0.9 DST=10.0.0.1 ID={id} {rest}"
            ))
            .unwrap()
        };
        let first = f(1, 5, "LEN=36 MF PROTO=UDP SPT=1 DPT=2 LEN=28");
        let o = e.process(&first);
        assert_eq!(
            (o.verdict, o.dropped_by, o.walks.len()),
            (Verdict::Drop, Some("defrag"), 0)
        );
        let o = e.process(&f(1, 5, "LEN=32 FRAG:2 PROTO=UDP"));
        assert_eq!(o.logs.len(), 1);
        assert!(
            o.logs[0]
                .contains(" LEN=48 TOS=0x00 PREC=0x00 TTL=64 ID=5 PROTO=UDP SPT=1 DPT=2 LEN=28 "),
            "{}",
            o.logs[0]
        );
        // A lone first fragment: 2 s later the next packet finds the
        // host's time exceeded sent before it.
        e.process(&f(2, 6, "LEN=36 MF PROTO=UDP SPT=1 DPT=2 LEN=28"));
        let o = e.process(&f(5, 7, "LEN=32 FRAG:2 PROTO=UDP"));
        assert_eq!(o.dropped_by, Some("defrag"));
        assert_eq!(o.timers.len(), 1);
        let t = &o.timers[0];
        assert_eq!(t.packet.time, Some(4.0));
        assert!(t.logs[0].contains("PROTO=ICMP TYPE=11 CODE=1 [SRC=10.0.0.9 DST=10.0.0.1 LEN=36 TOS=0x00 PREC=0x00 TTL=64 ID=6 MF PROTO=UDP SPT=1 DPT=2 LEN=28 ]"), "{}", t.logs[0]);
        let mut all = String::new();
        o.all_logs(&mut all);
        assert_eq!(all.lines().count(), 1);
    }

    /// A half-open connection's SYN-ACK is sent again through OUTPUT 1 s
    /// and 3 s after the SYN, before the packet whose time passes them;
    /// an ACK completing the handshake stops it (tests/live_host.rs
    /// compares these with the kernel).
    #[test]
    fn synack_retransmissions() {
        let rs =
            rs("*filter\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -j LOG --log-prefix \"out \"\nCOMMIT\n");
        let mut e = Engine::new(&rs, host(&SSH)).unwrap();
        let at = |t: f64, dpt: u16, rest: &str| {
            let mut p = tcp_in(dpt, rest);
            p.time = Some(t);
            p
        };
        let o = e.process(&at(10.0, 22, "SEQ=100 ACK=0 SYN"));
        assert!(o.reply.is_some());
        let o = e.process(&at(13.5, 23, "SEQ=1 ACK=0 SYN"));
        let times: Vec<_> = o.timers.iter().map(|t| t.packet.time).collect();
        assert_eq!(times, [Some(11.0), Some(13.0)]);
        assert!(o.timers.iter().all(|t| t.logs.len() == 1
            && t.logs[0].contains(" SPT=22 DPT=40000 ")
            && t.logs[0].contains(" ACK SYN ")));
        e.process(&at(13.6, 22, "SEQ=101 ACK=1 ACK"));
        assert!(e.advance_to(100.0).is_empty());
        // A repeated SYN is answered at once, restarting the interval;
        // another within 500 ms is not answered.
        let mut e = Engine::new(&rs, host(&SSH)).unwrap();
        e.process(&at(0.0, 22, "SEQ=100 ACK=0 SYN"));
        assert!(e.process(&at(0.6, 22, "SEQ=100 ACK=0 SYN")).reply.is_some());
        assert!(e.process(&at(0.7, 22, "SEQ=100 ACK=0 SYN")).reply.is_none());
        let times: Vec<_> = e
            .advance_to(4.0)
            .iter()
            .map(|t| t.packet.time.unwrap_or(0.0))
            .collect();
        assert_eq!(times, [1.6, 3.6]);
        // A SYN of another sequence number: outside the window an ACK
        // (the request stays), inside it a reset (RELATED to nothing:
        // conntrack lets it through as the answer to the SYN it ignored)
        // that ends the request.
        let mut e = Engine::new(&rs, host(&SSH)).unwrap();
        e.process(&at(0.0, 22, "SEQ=100 ACK=0 SYN"));
        let far = e.process(&at(0.3, 22, "SEQ=1000100 ACK=0 SYN"));
        let ack = far.reply.expect("an ACK");
        assert!(matches!(ack.out.transport,
            Transport::Tcp { flags, seq: Some(1), ack: Some(101), .. } if flags == tcp_flags::ACK));
        let near = e.process(&at(0.4, 22, "SEQ=1100 ACK=0 SYN"));
        let rst = near.reply.expect("a reset");
        assert!(matches!(rst.out.transport,
            Transport::Tcp { flags, ack: Some(1101), .. } if flags == tcp_flags::RST | tcp_flags::ACK));
        assert_eq!(
            (rst.ct, rst.verdict),
            (CtState::Established, Verdict::Accept)
        );
        assert!(e.advance_to(10.0).is_empty());
        // Unanswered: 5 retransmissions (1, 3, 7, 15, 31 s), then none.
        let mut e = Engine::new(&rs, host(&SSH)).unwrap();
        e.process(&at(0.0, 22, "SEQ=100 ACK=0 SYN"));
        let times: Vec<_> = e
            .advance_to(100.0)
            .iter()
            .map(|t| t.packet.time.unwrap_or(0.0))
            .collect();
        assert_eq!(times, [1.0, 3.0, 7.0, 15.0, 31.0]);
    }

    /// A multicast sent to a group this host joined there loops back
    /// (ip_mc_output): POSTROUTING twice (the copy first), then INPUT on
    /// the same interface with an empty MAC; to a group not joined, no
    /// copy.
    #[test]
    fn multicast_to_a_joined_group_loops_back() {
        let rs = rs("*mangle\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n*filter\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -j LOG --log-prefix \"in \"\nCOMMIT\n");
        let h = host(&[("iface", "eth0=10.0.0.1/24"), ("join", "eth0=239.1.2.4")]);
        let mut e = Engine::new(&rs, h).unwrap();
        let to = |g: &str| {
            Packet::parse_line(&format!(
                "IN= OUT=eth0 SRC=10.0.0.1 DST={g} LEN=28 TTL=1 PROTO=UDP SPT=5 DPT=6 LEN=8"
            ))
            .unwrap()
        };
        let walks = |o: &Outcome| -> Vec<String> {
            o.walks
                .iter()
                .map(|w| format!("{} {}", w.table, w.chain))
                .collect()
        };
        let o = e.process(&to("239.1.2.4"));
        assert_eq!(
            walks(&o),
            [
                "mangle OUTPUT",
                "filter OUTPUT",
                "mangle POSTROUTING",
                "mangle POSTROUTING",
                "mangle PREROUTING",
                "mangle INPUT",
                "filter INPUT"
            ]
        );
        assert!(
            o.logs[0].starts_with("in IN=eth0 OUT= MAC= SRC=10.0.0.1 DST=239.1.2.4 "),
            "{}",
            o.logs[0]
        );
        let o = e.process(&to("239.1.2.5"));
        assert_eq!(
            walks(&o),
            ["mangle OUTPUT", "filter OUTPUT", "mangle POSTROUTING"]
        );
    }

    /// nf_conntrack_tcp_max_retrans: the same ACK three more times cuts
    /// ESTABLISHED's timeout to timeout_max_retrans (300 s).
    #[test]
    fn retransmissions_cut_the_timeout() {
        let rs = rs("*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n");
        let mut e = Engine::new(&rs, host(&SSH)).unwrap();
        let at = |t: f64, rest: &str| {
            let mut p = tcp_in(22, rest);
            p.time = Some(t);
            p
        };
        e.process(&at(0.0, "SEQ=100 ACK=0 WINDOW=64240 SYN"));
        let left = |e: &Engine, now: f64| e.ct.conns().next().map(|c| c.expires - now);
        for i in 1..=4 {
            e.process(&at(f64::from(i), "SEQ=101 ACK=1 WINDOW=502 ACK"));
            let expect = if i < 4 { 432_000.0 } else { 300.0 };
            assert_eq!(left(&e, f64::from(i)), Some(expect), "ACK {i}");
        }
    }
}
