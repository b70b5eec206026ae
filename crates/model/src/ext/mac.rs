//! `-m mac` (`libxt_mac.c`): the source MAC address. The kernel allows it
//! only in the PREROUTING, INPUT and FORWARD hooks.

use super::{Call, Def, Ext, Opt, Role, RuleCtx};
use crate::rule::IpSpec;
use crate::{Error, Result};
use std::any::Any;

/// The state of `-m mac` (`struct xt_mac_info`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mac {
    /// The address.
    pub addr: [u8; 6],
    /// `!`.
    pub invert: bool,
}

/// `-m mac`.
pub const DEF: Def = Def {
    name: "mac",
    role: Role::Match,
    family: None,
    opts: &[Opt::req("mac-source", 0).mand().inv()],
    new: |_| Box::<Mac>::default(),
};

/// The built-in chains whose hooks `xt_mac` accepts.
pub const HOOKS: &[&str] = &["PREROUTING", "INPUT", "FORWARD"];

/// C `strtoul(s, &end, 16)` on one component: the value (as the byte it is
/// stored in) and how many bytes were read (0 when no digit was read).
fn strtoul16(s: &str) -> (u8, usize) {
    let b = s.as_bytes();
    let mut i = b
        .iter()
        .position(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))
        .unwrap_or(b.len());
    let neg = b.get(i) == Some(&b'-');
    if matches!(b.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    if b.get(i) == Some(&b'0')
        && matches!(b.get(i + 1), Some(b'x' | b'X'))
        && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
    {
        i += 2;
    }
    let start = i;
    let mut v: u64 = 0;
    while let Some(d) = b.get(i).and_then(|c| (*c as char).to_digit(16)) {
        v = v.saturating_mul(16).saturating_add(d as u64);
        i += 1;
    }
    if i == start {
        return (0, 0);
    }
    let v = if neg { v.wrapping_neg() } else { v };
    (v as u8, i)
}

/// `xtopt_parse_ethermac`: six hex components of at most two characters
/// each, separated by `:`.
pub fn parse_mac(s: &str) -> Result<[u8; 6]> {
    let bad = || Error::param("Invalid MAC address specified.");
    let mut out = [0u8; 6];
    let mut rest = s;
    for (i, slot) in out.iter_mut().enumerate() {
        let (v, used) = strtoul16(rest);
        if used > 2 {
            return Err(bad());
        }
        *slot = v;
        let tail = &rest[used..];
        if i < 5 {
            rest = tail.strip_prefix(':').ok_or_else(bad)?;
        } else if !tail.is_empty() {
            return Err(bad());
        }
    }
    Ok(out)
}

/// `xtables_print_mac`: lower-case, two digits each.
pub fn mac_text(m: &[u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

impl Ext for Mac {
    fn parse(&mut self, c: &Call, _ctx: &RuleCtx) -> Result<()> {
        self.addr = parse_mac(c.arg())?;
        self.invert |= c.invert;
        Ok(())
    }

    fn print(&self, out: &mut String, _ip: &IpSpec, _numeric: bool) {
        out.push_str(" MAC ");
        if self.invert {
            out.push_str("! ");
        }
        out.push_str(&mac_text(&self.addr));
    }

    fn save(&self, out: &mut String, _ip: &IpSpec) {
        if self.invert {
            out.push_str(" !");
        }
        out.push_str(" --mac-source ");
        out.push_str(&mac_text(&self.addr));
    }

    fn hooks(&self) -> Option<&'static [&'static str]> {
        Some(HOOKS)
    }

    fn clone_box(&self) -> Box<dyn Ext> {
        Box::new(self.clone())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_forms() {
        assert_eq!(
            mac_text(&parse_mac("aa:BB:c:d:e:f").unwrap()),
            "aa:bb:0c:0d:0e:0f"
        );
        assert_eq!(parse_mac(":::::").ok(), Some([0; 6]));
        assert!(parse_mac("42:01:02:03:04").is_err());
        assert!(parse_mac("42:01:02:03:04:05:06").is_err());
        assert!(parse_mac("420:01:02:03:04:05").is_err());
    }
}
