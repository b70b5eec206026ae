//! The regression corpus: small self-contained cases, each a ruleset, the
//! host, a packet stream and what the real kernel made of it, in one text
//! file (`crates/engine/tests/corpus/cases/*.case`).
//!
//! ```text
//! # What the case is about (comment lines before the first section).
//! [rules]
//! *filter
//! ...
//! COMMIT
//! [host]
//! iface srv-c=10.137.0.1/24        (a host file: `ironwall --host`)
//! sysctl net.netfilter.nf_conntrack_tcp_loose=0
//! [packets]
//! [0.000000] IN=srv-c OUT= MAC=... SRC=... (LOG syntax, with times)
//! badsum [0.010000] IN=srv-c ...   (its TCP/UDP/ICMP checksum is wrong)
//! [counters]
//! *filter                          (recorded: `iptables-save -c`,
//! :INPUT ACCEPT [2:80]              without the Generated/Completed lines)
//! [1:40] -A INPUT ...
//! COMMIT
//! [logs]
//! in: IN=srv-c OUT= MAC=...        (recorded: the LOG lines, in order)
//! [answers]
//! IN= OUT= SRC=10.137.0.1 ... RST  (recorded: what the host sent on its
//!                                   own, in LOG syntax, sorted; see
//!                                   [`answer_line`])
//! [paths]
//! IN=srv-c ... => filter:INPUT:1:ACCEPT  (recorded: TRACE, sorted)
//! ```
//!
//! A section starts at a line that is its name in brackets; `#` lines in
//! `[host]` and `[packets]` are comments; empty lines are ignored except
//! inside `[rules]` and `[counters]`. `[counters]`, `[logs]`, `[answers]` and
//! `[paths]` are written only from the kernel, by the engine's live corpus test in
//! record mode (`IRONWALL_LAB_RECORD=1`); a case without them is new and
//! waits for its recording. Errors name the file and line; nothing here
//! panics on bad input.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A line of a section, with its 1-based line number in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub n: usize,
    pub text: String,
}

/// A packet of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CasePacket {
    /// Its line number in the file.
    pub n: usize,
    /// The LOG-syntax line (without the `badsum` word).
    pub line: String,
    /// Its transport checksum is wrong.
    pub badsum: bool,
}

/// One case (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Case {
    /// The comment lines before the first section.
    pub about: Vec<String>,
    /// The ruleset, as iptables-restore reads it.
    pub rules: String,
    /// The line number of `[rules]` (the ruleset's line N is the file's
    /// line `rules_at + N`).
    pub rules_at: usize,
    /// The host file's lines.
    pub host: Vec<Line>,
    /// The `[packets]` section as written (comments kept).
    pub stream: Vec<Line>,
    /// The kernel's `iptables-save -c`, comment lines left out.
    pub counters: Option<String>,
    /// The kernel's LOG lines, in order.
    pub logs: Option<Vec<String>>,
    /// The packets the host sent on its own (answers), sorted.
    pub answers: Option<Vec<String>>,
    /// Every packet's way through the tables as TRACE showed it, one a
    /// line, sorted.
    pub paths: Option<Vec<String>>,
}

const SECTIONS: [&str; 7] = [
    "rules", "host", "packets", "counters", "logs", "answers", "paths",
];

impl Case {
    /// Reads a case; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Case, String> {
        let mut case = Case::default();
        let mut section: Option<&str> = None;
        let mut seen: Vec<&str> = Vec::new();
        let mut counters = String::new();
        let mut logs = Vec::new();
        let mut answers = Vec::new();
        let mut paths = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let n = i + 1;
            let t = raw.trim_end();
            if let Some(name) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
                if let Some(s) = SECTIONS.iter().find(|s| **s == name) {
                    if seen.contains(s) {
                        return Err(format!("{file}:{n}: section [{name}] twice"));
                    }
                    seen.push(s);
                    section = Some(s);
                    if name == "rules" {
                        case.rules_at = n;
                    }
                    continue;
                }
                if name.chars().all(|c| c.is_ascii_lowercase()) && !name.is_empty() {
                    return Err(format!("{file}:{n}: unknown section [{name}]"));
                }
            }
            let line = Line {
                n,
                text: t.to_string(),
            };
            match section {
                None if t.is_empty() || t.starts_with('#') => case.about.push(t.to_string()),
                None => return Err(format!("{file}:{n}: text before the first section")),
                Some("rules") => {
                    case.rules.push_str(t);
                    case.rules.push('\n');
                }
                Some("counters") => {
                    counters.push_str(t);
                    counters.push('\n');
                }
                Some(_) if t.trim().is_empty() => {}
                Some("host") => case.host.push(line),
                Some("packets") => case.stream.push(line),
                Some("logs") => logs.push(t.to_string()),
                Some("answers") => answers.push(t.to_string()),
                Some(_) => paths.push(t.to_string()),
            }
        }
        for need in ["rules", "host", "packets"] {
            if !seen.contains(&need) {
                return Err(format!("{file}: no [{need}] section"));
            }
        }
        if seen.contains(&"counters") {
            case.counters = Some(counters);
        }
        if seen.contains(&"logs") {
            case.logs = Some(logs);
        }
        if seen.contains(&"answers") {
            case.answers = Some(answers);
        }
        if seen.contains(&"paths") {
            case.paths = Some(paths);
        }
        Ok(case)
    }

    /// The host file's text (for `Host::parse_file`, whose errors name
    /// lines of this text: see [`Case::host_line`]).
    pub fn host_text(&self) -> String {
        self.host.iter().map(|l| format!("{}\n", l.text)).collect()
    }

    /// The file's line number of the host text's `i`-th line (1-based).
    pub fn host_line(&self, i: usize) -> usize {
        self.host.get(i.wrapping_sub(1)).map_or(0, |l| l.n)
    }

    /// The packets of the stream, comments left out.
    pub fn packets(&self) -> Vec<CasePacket> {
        self.stream
            .iter()
            .filter(|l| !l.text.trim_start().starts_with('#'))
            .map(|l| {
                let t = l.text.trim_start();
                match t.strip_prefix("badsum ") {
                    Some(rest) => CasePacket {
                        n: l.n,
                        line: rest.to_string(),
                        badsum: true,
                    },
                    None => CasePacket {
                        n: l.n,
                        line: t.to_string(),
                        badsum: false,
                    },
                }
            })
            .collect()
    }

    /// The case as a file.
    pub fn text(&self) -> String {
        let mut o = String::new();
        for l in &self.about {
            let _ = writeln!(o, "{l}");
        }
        let _ = write!(o, "[rules]\n{}", self.rules);
        let _ = writeln!(o, "[host]");
        for l in &self.host {
            let _ = writeln!(o, "{}", l.text);
        }
        let _ = writeln!(o, "[packets]");
        for l in &self.stream {
            let _ = writeln!(o, "{}", l.text);
        }
        if let Some(c) = &self.counters {
            let _ = write!(o, "[counters]\n{c}");
        }
        for (name, lines) in [
            ("logs", &self.logs),
            ("answers", &self.answers),
            ("paths", &self.paths),
        ] {
            if let Some(lines) = lines {
                let _ = writeln!(o, "[{name}]");
                for l in lines {
                    let _ = writeln!(o, "{l}");
                }
            }
        }
        o
    }
}

/// A packet the host sent, as a case keeps it: its LOG-syntax line
/// (written without interfaces, MAC, mark, TCP sequence numbers or
/// options) with the IP ID, which the kernel picks, made 0.
pub fn answer_line(log_line: &str) -> String {
    let mut out = Vec::new();
    let mut first = true;
    for w in log_line.split_whitespace() {
        if first && w.starts_with("ID=") {
            first = false;
            out.push("ID=0");
        } else {
            out.push(w);
        }
    }
    out.join(" ")
}

/// Every policy's and rule's counters of an `iptables-save -c` text, one
/// a line (`filter INPUT policy [2:80]`, `filter INPUT 1 [1:40]`),
/// sorted: saves are compared by position, as iptables-nft saves some
/// rules in other words than it was given, and lists tables in its own
/// order.
pub fn save_counters(save: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut table = "";
    let mut rules: Vec<(&str, usize)> = Vec::new();
    for l in save.lines() {
        if let Some(t) = l.strip_prefix('*') {
            table = t.trim();
            rules.clear();
        } else if let Some(rest) = l.strip_prefix(':') {
            let words: Vec<&str> = rest.split_whitespace().collect();
            if let [chain, policy, counts] = words[..] {
                if policy != "-" {
                    out.push(format!("{table} {chain} policy {counts}"));
                }
            }
        } else if let Some((counts, rule)) = l.split_once(" -A ") {
            let chain = rule.split_whitespace().next().unwrap_or("");
            let n = match rules.iter_mut().find(|(c, _)| *c == chain) {
                Some((_, n)) => {
                    *n += 1;
                    *n
                }
                None => {
                    rules.push((chain, 1));
                    1
                }
            };
            out.push(format!("{table} {chain} {n} {counts}"));
        }
    }
    out.sort();
    out
}

/// The `*.case` files of `dir`, sorted.
pub fn case_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "case"))
        .collect();
    v.sort();
    Ok(v)
}

/// Writes a new case (no recorded sections yet) named `name` into `dir`,
/// for a live differential test that found a disagreement: the ruleset,
/// the host file lines and the packet lines. Returns its path; record it
/// with `IRONWALL_LAB_RECORD=1`. A name already taken gets `-2`, `-3`...
pub fn dump(
    dir: &Path,
    name: &str,
    about: &str,
    rules: &str,
    host: &[String],
    packets: &[String],
) -> std::io::Result<PathBuf> {
    let line = |t: &String| Line {
        n: 0,
        text: t.clone(),
    };
    let case = Case {
        about: about.lines().map(|l| format!("# {l}")).collect(),
        rules: rules.to_string(),
        rules_at: 0,
        host: host.iter().map(line).collect(),
        stream: packets.iter().map(line).collect(),
        counters: None,
        logs: None,
        answers: None,
        paths: None,
    };
    std::fs::create_dir_all(dir)?;
    // A name already taken gets a number.
    let mut path = dir.join(format!("{name}.case"));
    for n in 2..1000 {
        if !path.exists() {
            break;
        }
        path = dir.join(format!("{name}-{n}.case"));
    }
    std::fs::write(&path, case.text())?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CASE: &str = "# about\n[rules]\n*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n[host]\niface srv-c=10.137.0.1/24\n[packets]\n# a comment\nbadsum [1.5] IN=srv-c SRC=1.2.3.4\n[counters]\n*filter\n:INPUT ACCEPT [1:20]\nCOMMIT\n[logs]\nx: IN=srv-c\n[answers]\nIN= OUT= ID=0\n[paths]\nK => filter:INPUT:policy:ACCEPT\n";

    #[test]
    fn round_trips() {
        let c = Case::parse("t.case", CASE).expect("parses");
        assert_eq!(c.text(), CASE);
        let p = c.packets();
        assert_eq!(p.len(), 1);
        assert!(p[0].badsum);
        assert_eq!(p[0].n, 10);
        assert_eq!(c.host_line(1), 7);
        assert_eq!(c.logs.as_deref(), Some(&["x: IN=srv-c".to_string()][..]));
        assert_eq!(
            c.answers.as_deref(),
            Some(&["IN= OUT= ID=0".to_string()][..])
        );
    }

    #[test]
    fn save_counters_by_position() {
        let save = "*nat\n:OUTPUT ACCEPT [1:2]\nCOMMIT\n*filter\n:INPUT DROP [3:4]\n:U - [0:0]\n[5:6] -A INPUT -j U\n[7:8] -A U -p tcp\n[9:10] -A INPUT -j LOG\nCOMMIT\n";
        assert_eq!(
            save_counters(save),
            [
                "filter INPUT 1 [5:6]",
                "filter INPUT 2 [9:10]",
                "filter INPUT policy [3:4]",
                "filter U 1 [7:8]",
                "nat OUTPUT policy [1:2]"
            ]
        );
    }

    #[test]
    fn answers_lose_the_ip_id_only() {
        assert_eq!(
            answer_line("IN= OUT= SRC=1.2.3.4 LEN=28 ID=4711 PROTO=ICMP TYPE=0 CODE=0 ID=9 SEQ=1 "),
            "IN= OUT= SRC=1.2.3.4 LEN=28 ID=0 PROTO=ICMP TYPE=0 CODE=0 ID=9 SEQ=1"
        );
    }

    #[test]
    fn dumps_parse_back_and_never_overwrite() {
        let dir = std::env::temp_dir().join(format!("iw-corpus-{}", std::process::id()));
        let host = ["iface srv-c=10.137.0.1/24".to_string()];
        let pkts = ["[1.000000] IN=srv-c SRC=1.2.3.4".to_string()];
        let write = || dump(&dir, "d", "why\nhow", "*filter\nCOMMIT\n", &host, &pkts);
        let (a, b) = (write().expect("dump"), write().expect("dump"));
        assert_eq!(b.file_name().and_then(|n| n.to_str()), Some("d-2.case"));
        let text = std::fs::read_to_string(&a).expect("read");
        let _ = std::fs::remove_dir_all(&dir);
        let c = Case::parse("d.case", &text).expect("parses");
        assert_eq!(c.about, ["# why", "# how"]);
        assert_eq!(c.packets()[0].line, pkts[0]);
        assert_eq!(
            (c.counters, c.logs, c.answers, c.paths),
            (None, None, None, None)
        );
    }

    #[test]
    fn errors_name_file_and_line() {
        for (text, want) in [
            ("junk\n", "t.case:1: text before the first section"),
            ("[rules]\n[rules]\n", "t.case:2: section [rules] twice"),
            ("[rulez]\n", "t.case:1: unknown section [rulez]"),
            ("[rules]\n[host]\n", "t.case: no [packets] section"),
        ] {
            assert_eq!(Case::parse("t.case", text), Err(want.to_string()));
        }
        // Odd bytes never panic: a few by hand, then seeded random texts
        // from the format's own characters.
        for text in ["[", "]", "[]", "\u{fffd}[\u{0}]", "[packets]\nbadsum"] {
            let _ = Case::parse("t.case", text);
        }
        let alphabet: Vec<char> = "[]#\n rulesthopackcnwgb\u{e9}=:0".chars().collect();
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2000 {
            let text: String = (0..40)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    alphabet[(x % alphabet.len() as u64) as usize]
                })
                .collect();
            if let Ok(c) = Case::parse("t.case", &text) {
                let _ = (c.packets(), c.host_text(), c.host_line(3), c.text());
            }
        }
    }
}
