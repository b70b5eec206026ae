//! `iptables -L`: the table listing, byte for byte as iptables prints it
//! (`print_header`, `print_rule_details`, `xtables_print_num`), with
//! protocol names in the prot column under `-n` as upstream 1.8.11+.

use crate::rule::{proto_to_name, Rule, Target};
use crate::ruleset::{Chain, Table};
use std::fmt::Write;

/// Listing options.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListFormat {
    /// `-n`.
    pub numeric: bool,
    /// `-v`.
    pub verbose: bool,
    /// `-x`.
    pub exact: bool,
    /// `--line-numbers`.
    pub line_numbers: bool,
    /// `FMT_NOTABLE`: one line without columns, as `-v` prints a rule
    /// given to `-A`/`-I`/`-D`/`-R`/`-C` (no counters, no line number).
    pub notable: bool,
}

/// `xtables_print_num`: K/M/G/T abbreviations unless `exact`; `table`
/// pads to the column width.
pub fn print_num(out: &mut String, n: u64, exact: bool, table: bool) {
    if exact {
        if table {
            let _ = write!(out, "{n:8} ");
        } else {
            let _ = write!(out, "{n} ");
        }
        return;
    }
    if n <= 99999 {
        if table {
            let _ = write!(out, "{n:5} ");
        } else {
            let _ = write!(out, "{n} ");
        }
        return;
    }
    let mut v = n.wrapping_add(500) / 1000;
    for unit in ['K', 'M', 'G'] {
        if v <= 9999 {
            if table {
                let _ = write!(out, "{v:4}{unit} ");
            } else {
                let _ = write!(out, "{v}{unit} ");
            }
            return;
        }
        v = v.wrapping_add(500) / 1000;
    }
    if table {
        let _ = write!(out, "{v:4}T ");
    } else {
        let _ = write!(out, "{v}T ");
    }
}

fn header(out: &mut String, f: ListFormat, chain: &Chain, refs: usize) {
    let _ = write!(out, "Chain {}", chain.name);
    match chain.policy {
        Some(pol) => {
            let _ = write!(out, " (policy {pol}");
            if f.verbose {
                out.push(' ');
                print_num(out, chain.counters.packets, f.exact, false);
                out.push_str("packets, ");
                print_num(out, chain.counters.bytes, f.exact, false);
                out.push_str("bytes");
            }
            out.push_str(")\n");
        }
        None => {
            let _ = writeln!(out, " ({refs} references)");
        }
    }
    if f.line_numbers {
        out.push_str("num  ");
    }
    if f.verbose {
        if f.exact {
            out.push_str("    pkts      bytes ");
        } else {
            out.push_str(" pkts bytes ");
        }
    }
    let _ = write!(out, "{:<9} ", "target");
    out.push_str(" prot opt");
    if f.verbose {
        let _ = write!(out, " {:<6} {:<6} ", "in", "out");
    }
    let _ = write!(out, " {:<19} ", "source");
    let _ = writeln!(out, " {:<19} ", "destination");
}

/// One rule line of `-L` (with its newline); under `notable` the line
/// `-v` prints for a rule command.
pub fn rule_line(out: &mut String, f: ListFormat, num: usize, rule: &Rule) {
    let ip = &rule.ip;
    // FMT(tab, notab): padded column or bare text.
    let col = |out: &mut String, text: &str, width: usize| {
        if f.notable {
            let _ = write!(out, "{text} ");
        } else {
            let _ = write!(out, "{text:<width$} ");
        }
    };
    if f.line_numbers && !f.notable {
        let _ = write!(out, "{num:<4} ");
    }
    if f.verbose && !f.notable {
        print_num(out, rule.counters.packets, f.exact, true);
        print_num(out, rule.counters.bytes, f.exact, true);
    }
    col(out, rule.target.name(), 9);
    out.push(if ip.proto_inv { '!' } else { ' ' });
    match proto_to_name(ip.proto, f.numeric) {
        Some(n) => col(out, n, 4),
        None => col(out, &ip.proto.to_string(), 4),
    }
    if f.notable {
        out.push_str("opt ");
    }
    out.push(if ip.frag_inv { '!' } else { '-' });
    out.push(if ip.frag { 'f' } else { '-' });
    out.push(' ');
    if f.verbose {
        let any = if f.numeric { "*" } else { "any" };
        let text = |i: &crate::addr::Iface| {
            let name = if i.is_set() { i.name.as_str() } else { any };
            format!("{}{}", if i.invert { "!" } else { "" }, name)
        };
        if f.notable {
            let _ = write!(out, "in {} out {} ", text(&ip.iniface), text(&ip.outiface));
        } else {
            let _ = write!(out, " {:<6} ", text(&ip.iniface));
            let _ = write!(out, "{:<6} ", text(&ip.outiface));
        }
    }
    out.push(if ip.src_inv { '!' } else { ' ' });
    col(out, &ip.src.list_text(f.numeric), 19);
    out.push(if ip.dst_inv { '!' } else { ' ' });
    if f.notable {
        let _ = write!(out, "-> {}  ", ip.dst.list_text(f.numeric));
    } else {
        col(out, &ip.dst.list_text(f.numeric), 19);
    }
    if let Target::Goto(_) = rule.target {
        out.push_str("[goto] ");
    }
    for m in &rule.matches {
        m.ext.print(out, ip, f.numeric);
    }
    if let Target::Ext(t) = &rule.target {
        t.ext.print(out, ip, f.numeric);
    }
    out.push('\n');
}

/// `-L [CHAIN [N]]` for a table. `None` when the chain does not exist.
pub fn list(
    table: &Table,
    chain: Option<&str>,
    rulenum: Option<u32>,
    f: ListFormat,
) -> Option<String> {
    let mut out = String::new();
    if let Some(name) = chain {
        let c = table.chain(name)?;
        if let Some(n) = rulenum {
            if let Some(r) = c.rules.get(n as usize - 1) {
                rule_line(&mut out, f, n as usize, r);
            }
            return Some(out);
        }
        chain_block(&mut out, f, table, c);
        return Some(out);
    }
    for (i, c) in table.ordered().into_iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        chain_block(&mut out, f, table, c);
    }
    Some(out)
}

fn chain_block(out: &mut String, f: ListFormat, table: &Table, c: &Chain) {
    header(out, f, c, table.references(&c.name));
    for (i, r) in c.rules.iter().enumerate() {
        rule_line(out, f, i + 1, r);
    }
}
