//! Walking one packet through one table's chains, as `ipt_do_table` does:
//! rules in order, every match must hold, a verdict ends the walk, a jump
//! pushes a return point, a goto does not, `RETURN` (or the end of a user
//! chain) pops, the end of a built-in chain applies its policy. Counters
//! are kept beside the ruleset so that the walk itself does not change the
//! model.
//!
//! Matches are evaluated by [`Eval`] objects compiled from the model's
//! extensions ([`compile`]); an extension the engine does not know yet is
//! an error at compile time, never a silent pass.

use crate::packet::{Packet, Transport};
use ironwall_model::ext::comment::Comment;
use ironwall_model::ext::tcp::TcpUdp;
use ironwall_model::ext::Loaded;
use ironwall_model::rule::{IpSpec, Rule, Target};
use ironwall_model::ruleset::Table;

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

/// One step of a walk, for traces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The chain.
    pub chain: String,
    /// The 1-based rule number; 0 for the chain's policy or end.
    pub rule: usize,
    /// What happened: `match`, `jump X`, `goto X`, `return`, `policy`.
    pub action: String,
}

/// What the engine needs of a match: does it hold for this packet.
pub trait Eval: std::fmt::Debug {
    /// True when the match holds.
    fn eval(&self, pkt: &Packet) -> bool;
}

/// The compile error for an extension the engine does not model yet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the engine does not model the `{0}` extension yet")]
pub struct Unsupported(pub String);

#[derive(Debug)]
struct TcpUdpEval(TcpUdp);

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
                let option_ok =
                    m.option == 0 || (tcp_has_option(options, m.option) != m.option_inv);
                in_range(*spt, m.spts, m.spts_inv)
                    && in_range(*dpt, m.dpts, m.dpts_inv)
                    && ((fl & m.flg_mask == m.flg_cmp) != m.flags_inv)
                    && option_ok
            }
            (Transport::Udp { spt, dpt, .. }, false) => {
                in_range(*spt, m.spts, m.spts_inv) && in_range(*dpt, m.dpts, m.dpts_inv)
            }
            _ => false,
        }
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

/// Compiles a model extension into an evaluator.
pub fn compile(m: &Loaded) -> Result<Box<dyn Eval>, Unsupported> {
    let any = m.ext.as_any();
    if let Some(t) = any.downcast_ref::<TcpUdp>() {
        return Ok(Box::new(TcpUdpEval(t.clone())));
    }
    if any.downcast_ref::<Comment>().is_some() {
        return Ok(Box::new(Always));
    }
    Err(Unsupported(m.def.name.to_string()))
}

/// Whether the fixed part of a rule holds for a packet.
pub fn ip_matches(ip: &IpSpec, pkt: &Packet) -> bool {
    let iface = |i: &ironwall_model::addr::Iface, dev: &str| {
        !i.is_set() || (i.matches_name(dev) != i.invert)
    };
    let proto = pkt.transport.proto();
    let frag = pkt.frag != 0;
    (ip.src.contains(pkt.src) != ip.src_inv)
        && (ip.dst.contains(pkt.dst) != ip.dst_inv)
        && iface(&ip.iniface, &pkt.iface_in)
        && iface(&ip.outiface, &pkt.iface_out)
        && (ip.proto == 0 || ((ip.proto == proto) != ip.proto_inv))
        && (!ip.frag || (frag != ip.frag_inv))
}

/// A table compiled for walking, with its counters.
#[derive(Debug)]
pub struct Compiled<'a> {
    table: &'a Table,
    evals: Vec<Vec<Vec<Box<dyn Eval>>>>,
    /// Rule counters: `[chain][rule] = (packets, bytes)`.
    pub counters: Vec<Vec<(u64, u64)>>,
    /// Policy counters per chain.
    pub policy: Vec<(u64, u64)>,
}

impl<'a> Compiled<'a> {
    /// Compiles every rule's matches.
    pub fn new(table: &'a Table) -> Result<Self, Unsupported> {
        let mut evals = Vec::new();
        for c in &table.chains {
            let mut rules = Vec::new();
            for r in &c.rules {
                rules.push(
                    r.matches
                        .iter()
                        .map(compile)
                        .collect::<Result<Vec<_>, _>>()?,
                );
            }
            evals.push(rules);
        }
        Ok(Compiled {
            table,
            counters: table
                .chains
                .iter()
                .map(|c| vec![(0, 0); c.rules.len()])
                .collect(),
            policy: vec![(0, 0); table.chains.len()],
            evals,
        })
    }

    fn index(&self, chain: &str) -> Option<usize> {
        self.table.chains.iter().position(|c| c.name == chain)
    }

    /// Walks `pkt` from built-in chain `chain`; returns the verdict and
    /// the steps taken. A rule whose target is an extension (LOG, ...)
    /// is counted and the walk goes on, as for non-terminal targets.
    pub fn walk(&mut self, chain: &str, pkt: &Packet) -> (Verdict, Vec<Step>) {
        let mut steps = Vec::new();
        let Some(start) = self.index(chain) else {
            return (Verdict::Accept, steps);
        };
        let bytes = u64::from(pkt.len);
        let mut stack: Vec<(usize, usize)> = Vec::new();
        let (mut ci, mut ri) = (start, 0usize);
        // Bounded: every rule visit advances, loops are refused by the model.
        for _ in 0..1_000_000 {
            let c = &self.table.chains[ci];
            if ri >= c.rules.len() {
                if let Some((pc, pr)) = stack.pop() {
                    steps.push(Step {
                        chain: c.name.clone(),
                        rule: 0,
                        action: "return".into(),
                    });
                    ci = pc;
                    ri = pr;
                    continue;
                }
                return (self.policy_verdict(start, bytes, &mut steps), steps);
            }
            let rule: &Rule = &c.rules[ri];
            let hit = ip_matches(&rule.ip, pkt) && self.evals[ci][ri].iter().all(|e| e.eval(pkt));
            if !hit {
                ri += 1;
                continue;
            }
            self.counters[ci][ri].0 += 1;
            self.counters[ci][ri].1 += bytes;
            let mut step = Step {
                chain: c.name.clone(),
                rule: ri + 1,
                action: "match".into(),
            };
            match &rule.target {
                Target::None | Target::Ext(_) => {
                    steps.push(step);
                    ri += 1;
                }
                Target::Verdict("RETURN") => {
                    step.action = "return".into();
                    steps.push(step);
                    match stack.pop() {
                        Some((pc, pr)) => {
                            ci = pc;
                            ri = pr;
                        }
                        None => return (self.policy_verdict(start, bytes, &mut steps), steps),
                    }
                }
                Target::Verdict(v) => {
                    step.action = v.to_string();
                    steps.push(step);
                    return (verdict(v), steps);
                }
                Target::Jump(name) | Target::Goto(name) => {
                    let is_goto = matches!(rule.target, Target::Goto(_));
                    step.action = format!("{} {name}", if is_goto { "goto" } else { "jump" });
                    steps.push(step);
                    let Some(next) = self.index(name) else {
                        return (Verdict::Drop, steps);
                    };
                    if !is_goto {
                        stack.push((ci, ri + 1));
                    }
                    ci = next;
                    ri = 0;
                }
            }
        }
        (Verdict::Drop, steps)
    }
}

impl Compiled<'_> {
    /// The end of the walk without a verdict: the built-in chain's policy,
    /// counted.
    fn policy_verdict(&mut self, start: usize, bytes: u64, steps: &mut Vec<Step>) -> Verdict {
        let c = &self.table.chains[start];
        self.policy[start].0 += 1;
        self.policy[start].1 += bytes;
        steps.push(Step {
            chain: c.name.clone(),
            rule: 0,
            action: "policy".into(),
        });
        verdict(c.policy.unwrap_or("ACCEPT"))
    }
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
        let (v, steps) = c.walk("INPUT", &ok);
        assert_eq!(v, Verdict::Accept);
        let path: Vec<String> = steps.iter().map(|s| s.chain.clone()).collect();
        assert_eq!(path, ["INPUT", "STDIN", "FRIENDLY"]);
        let stranger = Packet::parse_line(
            "IN=eth0 OUT= SRC=10.9.9.9 DST=10.137.0.1 LEN=60 PROTO=TCP SPT=40000 DPT=22 SYN",
        )
        .unwrap();
        let (v, _) = c.walk("INPUT", &stranger);
        assert_eq!(v, Verdict::Drop);
        let input = t.chains.iter().position(|ch| ch.name == "INPUT").unwrap();
        assert_eq!(c.policy[input], (1, 60));
        assert_eq!(c.counters[input][0], (2, 120));
    }
}
