//! Walking one packet through one table's chains, as `ipt_do_table` does:
//! rules in order, every match must hold, a verdict ends the walk, a jump
//! pushes a return point, a goto does not, `RETURN` (or the end of a user
//! chain) pops, the end of a built-in chain applies its policy. Counters
//! are kept beside the ruleset so that the walk itself does not change the
//! model.
//!
//! Matches are evaluated by [`Eval`] objects compiled from the model's
//! extensions ([`compile`]) with a [`Ctx`] (conntrack view, time, host
//! facts); an extension the engine does not know yet is an error at
//! compile time, never a silent pass.
//!
//! Targets: the standard verdicts; `LOG` writes its line and goes on;
//! `MARK` changes the mark the later rules see ([`Trace::mark`]); `CT
//! --notrack` is noted ([`Trace::notrack`]); the NAT targets end the walk
//! with ACCEPT and hand their binding to the caller ([`Trace::nat`]);
//! `REJECT` ends it with DROP ([`Trace::reject`]); any other extension
//! target goes on (they are non-terminal).

use crate::conntrack::{CtState, CtView};
use crate::eval::{compile, Ctx, Eval, Unsupported};
use crate::packet::{LogFlags, Packet, Transport};
use ironwall_model::addr::Iface;
use ironwall_model::ext::comment::Comment;
use ironwall_model::ext::ct::{Ct, NOTRACK_FLAG};
use ironwall_model::ext::log::Log;
use ironwall_model::ext::mark_tg::MarkTarget;
use ironwall_model::ext::nat::Nat;
use ironwall_model::ext::reject::Reject;
use ironwall_model::ext::set_tg::SetTarget;
use ironwall_model::ext::tcpmss_tg::{Tcpmss, CLAMP_PMTU};
use ironwall_model::rule::{IpSpec, Rule, Target};
use ironwall_model::ruleset::Table;
use std::borrow::Cow;
use std::net::IpAddr;
use std::rc::Rc;

/// A standard verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Let the packet go on.
    Accept,
    /// Drop it.
    Drop,
    /// Hand it to user space.
    Queue,
}

/// The result of a walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace<'a> {
    /// The verdict.
    pub verdict: Verdict,
    /// The rules the packet matched, in order, and how it left chains.
    pub steps: Vec<Step>,
    /// The lines LOG rules wrote (prefix included, without the syslog
    /// header or the kernel timestamp).
    pub logs: Vec<String>,
    /// The NAT target that ended the walk (its verdict is ACCEPT).
    pub nat: Option<&'a Nat>,
    /// The REJECT target that ended the walk (its verdict is DROP).
    pub reject: Option<&'a Reject>,
    /// A `-j CT --notrack` rule matched.
    pub notrack: bool,
    /// The packet mark after `-j MARK` rules, when one ran.
    pub mark: Option<u32>,
    /// The TCP options and IP total length after a `-j TCPMSS` rule
    /// changed them.
    pub tcp_options: Option<(Vec<u8>, u16)>,
}

impl Trace<'_> {
    /// ACCEPT, with nothing recorded.
    pub fn accept() -> Self {
        Trace {
            verdict: Verdict::Accept,
            steps: Vec::new(),
            logs: Vec::new(),
            nat: None,
            reject: None,
            notrack: false,
            mark: None,
            tcp_options: None,
        }
    }
}

/// How much a walk records besides its verdict, counters and results.
#[derive(Debug)]
pub enum Record<'s> {
    /// Every step ([`Trace::steps`]) and each LOG line as its own string
    /// ([`Trace::logs`]): for traces.
    Detail,
    /// No steps; each LOG line is appended to the buffer, ending in a
    /// newline: for replay.
    Quiet(&'s mut String),
}

/// One step of a walk, for traces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The chain.
    pub chain: Rc<str>,
    /// The 1-based rule number; 0 for the chain's policy or end.
    pub rule: usize,
    /// What happened: `match`, `jump X`, `goto X`, `return`, `policy`, or
    /// `hotdrop` (a match dropped the packet it could not read; the rule
    /// is not counted).
    pub action: Cow<'static, str>,
}

/// An address as a number (IPv4 in the low 32 bits).
fn addr_bits(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => u128::from(u32::from(v)),
        IpAddr::V6(v) => u128::from(v),
    }
}

/// An interface test of a rule (`-i`/`-o`): the name (without a final
/// `+`), whether it is a prefix (`eth+`), whether inverted.
#[derive(Debug)]
struct IfaceCheck<'a> {
    name: &'a str,
    prefix: bool,
    invert: bool,
}

impl<'a> IfaceCheck<'a> {
    fn new(i: &'a Iface) -> Option<Self> {
        if !i.is_set() {
            return None;
        }
        let (name, prefix) = match i.name.strip_suffix('+') {
            Some(p) => (p, true),
            None => (i.name.as_str(), false),
        };
        Some(IfaceCheck {
            name,
            prefix,
            invert: i.invert,
        })
    }

    fn holds(&self, dev: &str) -> bool {
        let hit = if self.prefix {
            dev.starts_with(self.name)
        } else {
            dev == self.name
        };
        hit != self.invert
    }
}

/// The fixed part of a rule (`ip_packet_match`), with the addresses as
/// numbers.
#[derive(Debug)]
struct IpCheck<'a> {
    /// Address, mask and inversion, per side.
    src: (u128, u128, bool),
    dst: (u128, u128, bool),
    iniface: Option<IfaceCheck<'a>>,
    outiface: Option<IfaceCheck<'a>>,
    /// Protocol and inversion, when given.
    proto: Option<(u8, bool)>,
    /// `-f`: its inversion, when given.
    frag: Option<bool>,
}

/// What the fixed part of a rule reads of a packet, computed once a walk.
struct IpFacts<'p> {
    src: u128,
    dst: u128,
    iface_in: &'p str,
    iface_out: &'p str,
    proto: u8,
    frag: bool,
}

impl<'p> IpFacts<'p> {
    fn of(pkt: &'p Packet) -> Self {
        IpFacts {
            src: addr_bits(pkt.src),
            dst: addr_bits(pkt.dst),
            iface_in: &pkt.iface_in,
            iface_out: &pkt.iface_out,
            proto: pkt.transport.proto(),
            frag: pkt.frag != 0,
        }
    }
}

impl<'a> IpCheck<'a> {
    fn new(ip: &'a IpSpec) -> Self {
        IpCheck {
            src: (addr_bits(ip.src.addr), addr_bits(ip.src.mask), ip.src_inv),
            dst: (addr_bits(ip.dst.addr), addr_bits(ip.dst.mask), ip.dst_inv),
            iniface: IfaceCheck::new(&ip.iniface),
            outiface: IfaceCheck::new(&ip.outiface),
            proto: (ip.proto != 0).then_some((ip.proto, ip.proto_inv)),
            frag: ip.frag.then_some(ip.frag_inv),
        }
    }

    fn holds(&self, p: &IpFacts) -> bool {
        let addr = |(a, m, inv): (u128, u128, bool), x: u128| ((x & m) == a) != inv;
        addr(self.src, p.src)
            && addr(self.dst, p.dst)
            && self.iniface.as_ref().is_none_or(|i| i.holds(p.iface_in))
            && self.outiface.as_ref().is_none_or(|i| i.holds(p.iface_out))
            && self
                .proto
                .is_none_or(|(proto, inv)| (proto == p.proto) != inv)
            && self.frag.is_none_or(|inv| p.frag != inv)
    }
}

/// What a matching rule does, decided when compiling.
#[derive(Debug)]
enum Action<'a> {
    /// No target: counted, the walk goes on.
    None,
    /// LOG: its line, and on.
    Log(&'a Log),
    /// A NAT target: ends the walk (ACCEPT) with the binding.
    Nat(&'a Nat),
    /// REJECT: ends the walk (DROP).
    Reject(&'a Reject),
    /// `CT --notrack`: untracked from here on.
    Notrack,
    /// MARK: changes the packet's mark.
    Mark(&'a MarkTarget),
    /// TCPMSS: clamps or adds the MSS option.
    Tcpmss(&'a Tcpmss),
    /// SET: adds to or deletes from ipsets.
    Set(&'a SetTarget),
    /// Any other extension target: on.
    Other,
    /// RETURN.
    Return,
    /// ACCEPT, DROP or QUEUE: the name and the verdict.
    Verdict(&'static str, Verdict),
    /// A jump or goto to the chain with this index (`None`: a chain
    /// that does not exist; the walk drops).
    Jump(Option<usize>, bool),
}

/// One rule, compiled.
#[derive(Debug)]
struct Compiled1<'a> {
    rule: &'a Rule,
    ip: IpCheck<'a>,
    /// The matches, without those that always hold (comment).
    evals: Vec<Box<dyn Eval>>,
    action: Action<'a>,
}

/// A table compiled for walking, with its counters.
#[derive(Debug)]
pub struct Compiled<'a> {
    table: &'a Table,
    /// Chain names, shared by the steps.
    names: Vec<Rc<str>>,
    /// The built-in chains the kernel holds (not absent), by name.
    builtins: Vec<(&'a str, usize)>,
    /// `[chain][rule]`.
    rules: Vec<Vec<Compiled1<'a>>>,
    /// Rule counters: `[chain][rule] = (packets, bytes)`.
    pub counters: Vec<Vec<(u64, u64)>>,
    /// Policy counters per chain.
    pub policy: Vec<(u64, u64)>,
    /// The policy verdict per chain (ACCEPT for a user chain, never used).
    policies: Vec<Verdict>,
    /// Whether a rule reads the host's view of addresses (addrtype,
    /// rpfilter: [`Ctx::addr_types`], [`Ctx::reverse`]).
    uses_host: bool,
    /// Whether a rule's target is REJECT.
    rejects: bool,
    /// The return points of a walk (kept to reuse their room).
    stack: Vec<(usize, usize)>,
}

/// The action of `target`; `index` finds a chain by name.
fn action<'a>(target: &'a Target, index: impl Fn(&str) -> Option<usize>) -> Action<'a> {
    match target {
        Target::None => Action::None,
        Target::Verdict("RETURN") => Action::Return,
        Target::Verdict(v) => Action::Verdict(v, verdict(v)),
        Target::Jump(name) => Action::Jump(index(name), false),
        Target::Goto(name) => Action::Jump(index(name), true),
        Target::Ext(l) => {
            let any = l.ext.as_any();
            if let Some(log) = any.downcast_ref::<Log>() {
                Action::Log(log)
            } else if let Some(n) = any.downcast_ref::<Nat>() {
                Action::Nat(n)
            } else if let Some(r) = any.downcast_ref::<Reject>() {
                Action::Reject(r)
            } else if any
                .downcast_ref::<Ct>()
                .is_some_and(|ct| ct.flags & NOTRACK_FLAG != 0)
            {
                Action::Notrack
            } else if let Some(m) = any.downcast_ref::<MarkTarget>() {
                Action::Mark(m)
            } else if let Some(t) = any.downcast_ref::<Tcpmss>() {
                Action::Tcpmss(t)
            } else if let Some(s) = any.downcast_ref::<SetTarget>() {
                Action::Set(s)
            } else {
                Action::Other
            }
        }
    }
}

impl<'a> Compiled<'a> {
    /// Compiles every rule's matches.
    pub fn new(table: &'a Table) -> Result<Self, Unsupported> {
        let index = |name: &str| table.chains.iter().position(|c| c.name == name);
        let mut rules = Vec::new();
        for c in &table.chains {
            let mut compiled = Vec::new();
            for r in &c.rules {
                let mut evals = Vec::new();
                for m in &r.matches {
                    let e = compile(m)?;
                    if !m.ext.as_any().is::<Comment>() {
                        evals.push(e);
                    }
                }
                compiled.push(Compiled1 {
                    rule: r,
                    ip: IpCheck::new(&r.ip),
                    evals,
                    action: action(&r.target, index),
                });
            }
            rules.push(compiled);
        }
        let builtins = table
            .chains
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_builtin() && table.present_chain(&c.name).is_some())
            .map(|(i, c)| (c.name.as_str(), i))
            .collect();
        let rejects = rules
            .iter()
            .flatten()
            .any(|r| matches!(r.action, Action::Reject(_)));
        Ok(Compiled {
            table,
            builtins,
            rules,
            names: table
                .chains
                .iter()
                .map(|c| Rc::from(c.name.as_str()))
                .collect(),
            counters: table
                .chains
                .iter()
                .map(|c| vec![(0, 0); c.rules.len()])
                .collect(),
            policy: vec![(0, 0); table.chains.len()],
            policies: table
                .chains
                .iter()
                .map(|c| verdict(c.policy.unwrap_or("ACCEPT")))
                .collect(),
            uses_host: table.chains.iter().flat_map(|c| &c.rules).any(|r| {
                r.matches
                    .iter()
                    .any(|m| matches!(m.def.name, "addrtype" | "rpfilter"))
            }),
            rejects,
            stack: Vec::new(),
        })
    }

    /// Whether a rule's target is REJECT.
    pub fn rejects(&self) -> bool {
        self.rejects
    }

    /// Whether a rule reads the host's view of addresses (addrtype,
    /// rpfilter).
    pub fn uses_host(&self) -> bool {
        self.uses_host
    }

    /// The index of a built-in chain the kernel holds (iptables-nft
    /// registers a hook only for the base chains that exist).
    pub fn builtin(&self, chain: &str) -> Option<usize> {
        self.builtins
            .iter()
            .find(|(n, _)| *n == chain)
            .map(|(_, i)| *i)
    }

    /// Walks `pkt` from built-in chain `chain`; returns the verdict and
    /// the steps taken. A rule whose target is an extension (LOG, ...)
    /// is counted and the walk goes on, as for non-terminal targets.
    pub fn walk(&mut self, chain: &str, pkt: &Packet, cx: &Ctx) -> Trace<'a> {
        self.walk_with(chain, pkt, cx, Record::Detail)
    }

    /// [`Compiled::walk`], recording as much as `rec` asks: the verdict,
    /// counters, NAT/REJECT/notrack/mark results and LOG lines are the
    /// same either way.
    pub fn walk_with(&mut self, chain: &str, pkt: &Packet, cx: &Ctx, rec: Record<'_>) -> Trace<'a> {
        match self.builtin(chain) {
            Some(start) => {
                let mut trace = Trace::accept();
                trace.verdict = self.walk_at(start, pkt, cx, rec, &mut trace);
                trace
            }
            None => Trace::accept(),
        }
    }

    /// [`Compiled::walk_with`] from the chain with this index
    /// ([`Compiled::builtin`]), recording into `out` (whose verdict is
    /// left alone): returns the verdict.
    pub fn walk_at(
        &mut self,
        start: usize,
        pkt: &Packet,
        cx: &Ctx,
        mut rec: Record<'_>,
        out: &mut Trace<'a>,
    ) -> Verdict {
        // A chain without rules (quiet: no step to record) is its policy.
        if matches!(rec, Record::Quiet(_)) && self.rules.get(start).is_some_and(Vec::is_empty) {
            return self.policy_verdict(start, u64::from(pkt.len));
        }
        let mut stack = std::mem::take(&mut self.stack);
        stack.clear();
        let verdict = self.walk_inner(start, pkt, cx, out, &mut rec, &mut stack);
        self.stack = stack;
        verdict
    }

    /// The table walked.
    pub fn table(&self) -> &Table {
        self.table
    }

    fn walk_inner(
        &mut self,
        start: usize,
        pkt: &Packet,
        cx: &Ctx,
        out: &mut Trace<'a>,
        rec: &mut Record<'_>,
        stack: &mut Vec<(usize, usize)>,
    ) -> Verdict {
        // A MARK rule changes the mark the later matches see (and only
        // the mark: the fixed part reads the packet as it came).
        let mut cur = Cow::Borrowed(pkt);
        let mut cx = Cow::Borrowed(cx);
        let facts = IpFacts::of(pkt);
        let detail = matches!(rec, Record::Detail);
        // A step, recorded only for a detailed walk.
        let note = |steps: &mut Vec<Step>,
                    name: &Rc<str>,
                    rule: usize,
                    action: &dyn Fn() -> Cow<'static, str>| {
            if detail {
                steps.push(Step {
                    chain: name.clone(),
                    rule,
                    action: action(),
                });
            }
        };
        let mut bytes = u64::from(pkt.len);
        let (mut ci, mut ri) = (start, 0usize);
        // Bounded: every rule visit advances, loops are refused by the model.
        for _ in 0..1_000_000 {
            let rules = &self.rules[ci];
            // Rules whose fixed part fails are passed over in a tight loop
            // (a long chain is mostly those).
            ri += rules
                .get(ri..)
                .unwrap_or_default()
                .iter()
                .take_while(|r| !r.ip.holds(&facts))
                .count();
            let Some(r) = rules.get(ri) else {
                if let Some((pc, pr)) = stack.pop() {
                    note(&mut out.steps, &self.names[ci], 0, &|| {
                        Cow::Borrowed("return")
                    });
                    ci = pc;
                    ri = pr;
                    continue;
                }
                note(&mut out.steps, &self.names[start], 0, &|| {
                    Cow::Borrowed("policy")
                });
                return self.policy_verdict(start, bytes);
            };
            let mut hit = true;
            for e in &r.evals {
                if e.hotdrop(&cur) {
                    note(&mut out.steps, &self.names[ci], ri + 1, &|| {
                        Cow::Borrowed("hotdrop")
                    });
                    return Verdict::Drop;
                }
                if !e.eval(&cur, &cx) {
                    hit = false;
                    break;
                }
            }
            if !hit {
                ri += 1;
                continue;
            }
            let counter = &mut self.counters[ci][ri];
            counter.0 += 1;
            counter.1 += bytes;
            let name = &self.names[ci];
            let rule = ri + 1;
            match &r.action {
                Action::Return => {
                    note(&mut out.steps, name, rule, &|| Cow::Borrowed("return"));
                    match stack.pop() {
                        Some((pc, pr)) => {
                            ci = pc;
                            ri = pr;
                        }
                        None => {
                            note(&mut out.steps, &self.names[start], 0, &|| {
                                Cow::Borrowed("policy")
                            });
                            return self.policy_verdict(start, bytes);
                        }
                    }
                    continue;
                }
                Action::Verdict(name_of, v) => {
                    note(&mut out.steps, name, rule, &|| Cow::Borrowed(name_of));
                    return *v;
                }
                Action::Jump(next, goto) => {
                    note(&mut out.steps, name, rule, &|| {
                        let kind = if *goto { "goto" } else { "jump" };
                        Cow::Owned(format!("{kind} {}", r.rule.target.chain().unwrap_or("")))
                    });
                    let Some(next) = *next else {
                        return Verdict::Drop;
                    };
                    if !goto {
                        stack.push((ci, ri + 1));
                    }
                    ci = next;
                    ri = 0;
                    continue;
                }
                Action::None => note(&mut out.steps, name, rule, &|| Cow::Borrowed("match")),
                _ => {
                    if let Target::Ext(l) = &r.rule.target {
                        note(&mut out.steps, name, rule, &|| Cow::Borrowed(l.def.name));
                    }
                }
            }
            match &r.action {
                Action::Log(log) => match rec {
                    Record::Detail => out.logs.push(log_text(log, &cur)),
                    Record::Quiet(buf) => {
                        write_log(buf, log, &cur);
                        buf.push('\n');
                    }
                },
                Action::Nat(n) => {
                    out.nat = Some(*n);
                    return Verdict::Accept;
                }
                Action::Reject(rj) => {
                    out.reject = Some(*rj);
                    return Verdict::Drop;
                }
                Action::Notrack => {
                    // The packet is untracked from here on.
                    out.notrack = true;
                    cx.to_mut().ct = CtView::none(CtState::Untracked);
                }
                Action::Mark(m) => {
                    // xt_MARK (mark_tg): (mark & ~mask) ^ value.
                    let p = cur.to_mut();
                    p.mark = (p.mark & !m.mask) ^ m.mark;
                    out.mark = Some(p.mark);
                }
                Action::Tcpmss(t) => match tcpmss(&cur, t.mss) {
                    Err(()) => return Verdict::Drop,
                    Ok(None) => {}
                    Ok(Some((options, len))) => {
                        // Later rules and the policy count the new length.
                        bytes = u64::from(len);
                        let p = cur.to_mut();
                        p.len = len;
                        if let Transport::Tcp { options: o, .. } = &mut p.transport {
                            o.clone_from(&options);
                        }
                        out.tcp_options = Some((options, len));
                    }
                },
                Action::Set(s) => {
                    if let Some(m) = crate::ipset::target(s, &cur, &cx) {
                        cur.to_mut().mark = m;
                        out.mark = Some(m);
                    }
                }
                _ => {}
            }
            ri += 1;
        }
        Verdict::Drop
    }
}

impl Compiled<'_> {
    /// The end of the walk without a verdict: the built-in chain's policy,
    /// counted.
    fn policy_verdict(&mut self, start: usize, bytes: u64) -> Verdict {
        self.policy[start].0 += 1;
        self.policy[start].1 += bytes;
        self.policies[start]
    }
}

/// `tcpmss_mangle_packet`: the TCP options and IP total length after
/// `-j TCPMSS` (`None`: unchanged; `Err`: the kernel drops the packet).
/// An MSS option above the new MSS is lowered (never raised); without
/// one, a segment without payload whose header has room gets one at the
/// front, at most 536 (RFC 1122's default). Clamping to the path MTU
/// takes the smaller MTU of the way out and the way back (1500 on
/// Ethernet, 65536 on lo) less 40.
fn tcpmss(p: &Packet, mss: u16) -> Result<Option<(Vec<u8>, u16)>, ()> {
    let Transport::Tcp { options, .. } = &p.transport else {
        return Ok(None);
    };
    let mtu = |iface: &str| if iface == "lo" { 65536u32 } else { 1500 };
    let back = if p.iface_in.is_empty() {
        65536
    } else {
        mtu(&p.iface_in)
    };
    let new = if mss == CLAMP_PMTU {
        let min = mtu(&p.iface_out).min(back);
        u16::try_from(min - 40).unwrap_or(u16::MAX)
    } else {
        mss
    };
    let tcp_len = usize::from(p.len).saturating_sub(20 + p.ip_options.len());
    let hdr = 20 + options.len();
    if tcp_len < hdr {
        return Err(());
    }
    let mut i = 0;
    while i + 4 <= options.len() {
        if options[i] == 2 && options[i + 1] == 4 {
            let old = u16::from_be_bytes([options[i + 2], options[i + 3]]);
            if old <= new {
                return Ok(None);
            }
            let mut o = options.clone();
            o[i + 2..i + 4].copy_from_slice(&new.to_be_bytes());
            return Ok(Some((o, p.len)));
        }
        i += match options[i + 1] {
            _ if options[i] <= 1 => 1,
            0 => 1,
            n => usize::from(n),
        };
    }
    if tcp_len > hdr || hdr >= 60 {
        return Ok(None);
    }
    let mut o = vec![2, 4];
    o.extend(new.min(536).to_be_bytes());
    o.extend_from_slice(options);
    Ok(Some((o, p.len.saturating_add(4))))
}

/// The line the kernel's LOG target writes for `pkt`.
pub fn log_text(log: &Log, pkt: &Packet) -> String {
    let mut m = String::new();
    write_log(&mut m, log, pkt);
    m
}

/// [`log_text`], appended to `m`.
pub fn write_log(m: &mut String, log: &Log, pkt: &Packet) {
    let flags = LogFlags {
        tcp_seq: log.flags & 0x01 != 0,
        tcp_opt: log.flags & 0x02 != 0,
        ip_opt: log.flags & 0x04 != 0,
        uid: log.flags & 0x08 != 0,
    };
    m.push_str(&log.prefix);
    pkt.write_log_line(m, flags);
}

fn verdict(name: &str) -> Verdict {
    match name {
        "DROP" => Verdict::Drop,
        "QUEUE" => Verdict::Queue,
        _ => Verdict::Accept,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ironwall_model::addr::Family;
    use ironwall_model::ruleset::Ruleset;

    fn rs(cmds: &[&str]) -> Ruleset {
        let mut rs = Ruleset::new(Family::V4);
        for c in cmds {
            let args = ironwall_model::restore::split_args(c).unwrap();
            ironwall_model::run_iptables(&mut rs, &args, &[]).unwrap();
        }
        rs
    }

    #[test]
    fn jumps_returns_and_policy() {
        let rs = rs(&[
            "-P INPUT DROP",
            "-N STDIN",
            "-N FRIENDLY",
            "-A INPUT -j STDIN",
            "-A STDIN -p tcp -m tcp --dport 22 -j FRIENDLY",
            "-A FRIENDLY -s 10.137.0.16/32 -j ACCEPT",
        ]);
        let t = rs.table("filter").unwrap();
        let mut c = Compiled::new(t).unwrap();
        let ok = Packet::parse_line(
            "IN=eth0 OUT= SRC=10.137.0.16 DST=10.137.0.1 LEN=60 PROTO=TCP SPT=40000 DPT=22 SYN",
        )
        .unwrap();
        let trace = c.walk("INPUT", &ok, &Ctx::default());
        assert_eq!(trace.verdict, Verdict::Accept);
        let path: Vec<String> = trace.steps.iter().map(|s| s.chain.to_string()).collect();
        assert_eq!(path, ["INPUT", "STDIN", "FRIENDLY"]);
        let stranger = Packet::parse_line(
            "IN=eth0 OUT= SRC=10.9.9.9 DST=10.137.0.1 LEN=60 PROTO=TCP SPT=40000 DPT=22 SYN",
        )
        .unwrap();
        assert_eq!(
            c.walk("INPUT", &stranger, &Ctx::default()).verdict,
            Verdict::Drop
        );
        let input = t.chains.iter().position(|ch| ch.name == "INPUT").unwrap();
        assert_eq!(c.policy[input], (1, 60));
        assert_eq!(c.counters[input][0], (2, 120));
    }

    #[test]
    fn log_rules_write_the_kernel_line() {
        let rs = rs(&["-A INPUT -p tcp -m tcp -j LOG --log-prefix \"tcp.in.dropped \""]);
        let mut c = Compiled::new(rs.table("filter").unwrap()).unwrap();
        let line = "IN=eth0 OUT= MAC=00:16:3e:5e:6c:00:fe:ff:ff:ff:ff:ff:08:00 SRC=10.137.0.14 DST=10.137.0.16 LEN=52 TOS=0x00 PREC=0x00 TTL=63 ID=758 DF PROTO=TCP SPT=56296 DPT=8443 WINDOW=64240 RES=0x00 SYN URGP=0";
        let t = c.walk("INPUT", &Packet::parse_line(line).unwrap(), &Ctx::default());
        assert_eq!(t.logs, [format!("tcp.in.dropped {line} ")]);
    }

    /// iptables-nft 1.8.9 semantics, each seen live by the differential
    /// test (crates/engine/tests/live_kernel.rs).
    #[test]
    fn nft_tcp_udp_semantics_and_hotdrop() {
        let rs = rs(&[
            "-A INPUT -p udp -m udp ! --sport 1000 ! --dport 2000",
            "-A INPUT -p tcp -m tcp ! --sport 0:65535",
            "-A INPUT -p tcp -m tcp --tcp-flags NONE SYN,ACK",
            "-A INPUT -p tcp -m tcp --dport 22",
            "-A INPUT -p tcp -m tcp",
            "-A INPUT -p icmp -m icmp --icmp-type 8",
        ]);
        let mut c = Compiled::new(rs.table("filter").unwrap()).unwrap();
        let p = |s: &str| {
            Packet::parse_line(&format!("IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 {s}")).unwrap()
        };
        let rules = |t: &Trace| {
            t.steps
                .iter()
                .map(|s| (s.rule, s.action.to_string()))
                .collect::<Vec<_>>()
        };
        // "Not both", where xtables would say "neither".
        let t = c.walk(
            "INPUT",
            &p("LEN=28 PROTO=UDP SPT=1000 DPT=53 LEN=8"),
            &Ctx::default(),
        );
        assert_eq!(rules(&t)[0], (1, "match".to_string()));
        let t = c.walk(
            "INPUT",
            &p("LEN=28 PROTO=UDP SPT=1000 DPT=2000 LEN=8"),
            &Ctx::default(),
        );
        assert_eq!(rules(&t)[0], (0, "policy".to_string()));
        // An inverted full port range and a flag mask of NONE are left
        // out: both rules match any TCP segment.
        let t = c.walk(
            "INPUT",
            &p("LEN=40 PROTO=TCP SPT=1 DPT=22 SYN"),
            &Ctx::default(),
        );
        let hit: Vec<usize> = rules(&t).iter().map(|r| r.0).collect();
        assert_eq!(hit, [2, 3, 4, 5, 0]);
        // A cut-short TCP header (8 bytes): the ports are there, so the
        // native port rule matches; the xtables `-m tcp` drops it
        // uncounted.
        let t = c.walk(
            "INPUT",
            &p("LEN=28 PROTO=TCP SPT=1 DPT=22"),
            &Ctx::default(),
        );
        assert_eq!(
            rules(&t),
            [
                (2, "match".to_string()),
                (3, "match".to_string()),
                (4, "match".to_string()),
                (5, "hotdrop".to_string())
            ]
        );
        assert_eq!(t.verdict, Verdict::Drop);
        let t = c.walk(
            "INPUT",
            &p("LEN=24 PROTO=ICMP TYPE=8 CODE=0"),
            &Ctx::default(),
        );
        assert_eq!(rules(&t), [(6, "hotdrop".to_string())]);
    }
}
