//! `-j LOG` (`libxt_LOG.c`): kernel logging of matching packets, with a
//! syslog level, a prefix and flags for extra packet details.

use super::{util, Call, Def, Ext, Opt, Role, RuleCtx};
use crate::rule::IpSpec;
use crate::{Error, Result};

/// The state of `-j LOG` (`struct xt_log_info`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Log {
    /// Syslog level 0..=7 (default 4, `warning`).
    pub level: u8,
    /// `XT_LOG_*` bits: 1 tcp-sequence, 2 tcp-options, 4 ip-options, 8 uid,
    /// 0x20 macdecode.
    pub flags: u8,
    /// The prefix, at most 29 bytes (longer text is cut).
    pub prefix: String,
}

const DEFAULT_LEVEL: u8 = 4;
const O_LEVEL: u8 = 6;
const O_PREFIX: u8 = 7;

/// Flag options in print order, with their `XT_LOG_*` bit and `-L` word.
const FLAGS: &[(&str, u8, &str)] = &[
    ("log-tcp-sequence", 0x01, "tcp-sequence"),
    ("log-tcp-options", 0x02, "tcp-options"),
    ("log-ip-options", 0x04, "ip-options"),
    ("log-uid", 0x08, "uid"),
    ("log-macdecode", 0x20, "macdecode"),
];

/// `-j LOG`.
pub const DEF: Def = Def {
    name: "LOG",
    role: Role::Target,
    family: None,
    opts: &[
        Opt::req("log-level", O_LEVEL),
        Opt::req("log-prefix", O_PREFIX),
        Opt::flag("log-tcp-sequence", 0),
        Opt::flag("log-tcp-options", 1),
        Opt::flag("log-ip-options", 2),
        Opt::flag("log-uid", 3),
        Opt::flag("log-macdecode", 5),
    ],
    new: |_| {
        Box::new(Log {
            level: DEFAULT_LEVEL,
            flags: 0,
            prefix: String::new(),
        })
    },
};

/// `xtopt_parse_sysloglevel`: 0..=7 or a level name.
fn parse_level(arg: &str) -> Result<u8> {
    const NAMES: &[(&str, u8)] = &[
        ("alert", 1),
        ("crit", 2),
        ("debug", 7),
        ("emerg", 0),
        ("error", 3),
        ("info", 6),
        ("notice", 5),
        ("panic", 0),
        ("warning", 4),
    ];
    if let Some(n) = util::xt_strtoul(arg, 0, 7) {
        return Ok(n as u8);
    }
    NAMES
        .iter()
        .find(|(n, _)| *n == arg)
        .map(|(_, v)| *v)
        .ok_or_else(|| Error::param(format!("log level \"{arg}\" unknown\n")))
}

/// The first syslog name of a level (`prioritynames` order).
fn level_name(level: u8) -> &'static str {
    [
        "emerg", "alert", "crit", "err", "warn", "notice", "info", "debug",
    ]
    .get(level as usize)
    .copied()
    .unwrap_or("")
}

/// The option framework's `XTTYPE_STRING` with `.min = 1`: the text cut to
/// `max` bytes (the kernel field's size less the terminator).
pub fn bounded_string(arg: &str, max: usize, newline_msg: &str) -> Result<String> {
    if arg.is_empty() {
        return Err(Error::param(
            "Argument must have a minimum length of 1 characters\n",
        ));
    }
    if arg.contains('\n') {
        return Err(Error::param(newline_msg));
    }
    let mut end = arg.len().min(max);
    while !arg.is_char_boundary(end) {
        end -= 1;
    }
    Ok(arg[..end].to_string())
}

impl Ext for Log {
    fn parse(&mut self, c: &Call, _ctx: &RuleCtx) -> Result<()> {
        match c.id {
            O_LEVEL => self.level = parse_level(c.arg())?,
            O_PREFIX => {
                self.prefix = bounded_string(c.arg(), 29, "Newlines not allowed in --log-prefix")?
            }
            _ => {
                if let Some((_, bit, _)) = FLAGS.iter().find(|(n, _, _)| *n == c.name) {
                    self.flags |= bit;
                }
            }
        }
        Ok(())
    }
    fn print(&self, out: &mut String, _ip: &IpSpec, numeric: bool) {
        out.push_str(" LOG");
        if numeric {
            out.push_str(&format!(" flags {} level {}", self.flags, self.level));
        } else {
            out.push_str(" level ");
            out.push_str(level_name(self.level));
            for (_, bit, word) in FLAGS {
                if self.flags & bit != 0 {
                    out.push(' ');
                    out.push_str(word);
                }
            }
        }
        if !self.prefix.is_empty() {
            out.push_str(&format!(" prefix \"{}\"", self.prefix));
        }
    }
    fn save(&self, out: &mut String, _ip: &IpSpec) {
        if !self.prefix.is_empty() {
            out.push_str(" --log-prefix");
            util::save_string(out, &self.prefix);
        }
        if self.level != DEFAULT_LEVEL {
            out.push_str(&format!(" --log-level {}", self.level));
        }
        for (name, bit, _) in FLAGS {
            if self.flags & bit != 0 {
                out.push_str(" --");
                out.push_str(name);
            }
        }
    }
}
