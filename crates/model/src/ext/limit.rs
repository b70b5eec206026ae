//! `-m limit` (`libxt_limit.c`): a token-bucket rate limit.
//!
//! iptables-nft 1.8.9 turns it into the native nft `limit` expression
//! (a rate per second, minute, hour or day, and a burst) and reads that back,
//! so what is kept is the rate after that round trip, and a burst of 0
//! becomes the kernel's default of 5.

use super::{util, Call, Def, Ext, Opt, Role, RuleCtx};
use crate::rule::IpSpec;
use crate::{Error, Result};

/// `XT_LIMIT_SCALE`: the average is kept in 1/10000 seconds per packet.
const SCALE: u32 = 10000;
/// The default burst.
const BURST: u32 = 5;

/// Units from the longest: (name in listings, `SCALE` × seconds).
const UNITS: [(&str, u32); 4] = [
    ("day", SCALE * 24 * 60 * 60),
    ("hour", SCALE * 60 * 60),
    ("min", SCALE * 60),
    ("sec", SCALE),
];

/// The state of `-m limit` (`struct xt_rateinfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    /// The average period between packets, in 1/10000 s.
    pub avg: u32,
    /// The burst.
    pub burst: u32,
}

const O_LIMIT: u8 = 0;
const O_BURST: u8 = 1;

/// `-m limit`.
pub const DEF: Def = Def {
    name: "limit",
    role: Role::Match,
    family: None,
    opts: &[Opt::req("limit", O_LIMIT), Opt::req("limit-burst", O_BURST)],
    new: |_| {
        Box::new(Limit {
            avg: UNITS[1].1 / 3,
            burst: BURST,
        })
    },
};

/// `atoi`: blanks, a sign, decimal digits; the C `int` result as the
/// unsigned value the extension stores.
fn atoi_u32(s: &str) -> u32 {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut v: i64 = 0;
    for b in t.bytes().take_while(u8::is_ascii_digit) {
        v = v.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if neg {
        v = -v;
    }
    v as u32
}

/// `parse_rate`: `N[/second|/minute|/hour|/day]` (any prefix of the unit,
/// any case) to the average period; `Ok(None)` for a bad rate.
fn parse_rate(rate: &str) -> Result<Option<u32>> {
    let mult = match rate.split_once('/') {
        None => 1,
        Some((_, unit)) => {
            let is = |full: &str| {
                full.len() >= unit.len() && full[..unit.len()].eq_ignore_ascii_case(unit)
            };
            if unit.is_empty() {
                return Ok(None);
            } else if is("second") {
                1
            } else if is("minute") {
                60
            } else if is("hour") {
                60 * 60
            } else if is("day") {
                24 * 60 * 60
            } else {
                return Ok(None);
            }
        }
    };
    let r = atoi_u32(rate);
    if r == 0 {
        return Ok(None);
    }
    match SCALE * mult / r {
        0 => Err(Error::param(format!("Rate too fast \"{rate}\""))),
        v => Ok(Some(v)),
    }
}

/// The unit `print_rate` (and iptables-nft's conversion) picks for `avg`.
fn unit_for(avg: u32) -> (&'static str, u32) {
    let mut i = 1;
    while i < UNITS.len() {
        let m = UNITS[i].1;
        if avg == 0 || avg > m || m / avg < m % avg {
            break;
        }
        i += 1;
    }
    UNITS[i - 1]
}

/// `print_rate`: ` N/unit`.
fn rate_text(out: &mut String, avg: u32) {
    if avg == 0 {
        out.push_str(" inf");
        return;
    }
    let (name, mult) = unit_for(avg);
    out.push_str(&format!(" {}/{name}", mult / avg));
}

impl Ext for Limit {
    fn parse(&mut self, c: &Call, _ctx: &RuleCtx) -> Result<()> {
        if c.id == O_LIMIT {
            self.avg = parse_rate(c.arg())?
                .ok_or_else(|| Error::param(format!("bad rate \"{}\"'", c.arg())))?;
        } else {
            self.burst = util::uint("limit", c.name, c.arg(), 0, 10000)? as u32;
        }
        Ok(())
    }
    fn finish(&mut self, _seen: u32, _ctx: &RuleCtx) -> Result<()> {
        // The nft limit expression holds packets per unit; reading it back
        // gives the period again.
        let (_, mult) = unit_for(self.avg);
        if let Some(avg) = mult.checked_div(self.avg).and_then(|r| mult.checked_div(r)) {
            self.avg = avg;
        }
        if self.burst == 0 {
            self.burst = BURST;
        }
        Ok(())
    }
    fn print(&self, out: &mut String, _ip: &IpSpec, _numeric: bool) {
        out.push_str(" limit: avg");
        rate_text(out, self.avg);
        out.push_str(&format!(" burst {}", self.burst));
    }
    fn save(&self, out: &mut String, _ip: &IpSpec) {
        out.push_str(" --limit");
        rate_text(out, self.avg);
        if self.burst != BURST {
            out.push_str(&format!(" --limit-burst {}", self.burst));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates() {
        assert_eq!(parse_rate("3/hour").unwrap(), Some(12_000_000));
        assert_eq!(parse_rate("1/s").unwrap(), Some(10000));
        assert_eq!(parse_rate("5/").unwrap(), None);
        assert_eq!(parse_rate("5/x").unwrap(), None);
        assert_eq!(parse_rate("0/sec").unwrap(), None);
        assert!(parse_rate("10001/sec").is_err());
        assert!(parse_rate("-5/sec").is_err());
        let mut s = String::new();
        rate_text(&mut s, 1);
        assert_eq!(s, " 10000/sec");
    }
}
