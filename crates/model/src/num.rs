//! Number parsing with the C library's rules, as iptables uses them.
//!
//! iptables reads most numbers with `strtoul(s, &end, 0)`: leading blanks
//! and a sign are allowed, `0x` selects hexadecimal and a leading `0` octal,
//! and the whole string must be used. A negative number wraps around and so
//! is out of every range but `-0`.

/// Parses like `xtables_strtoul` with base 0, requiring the whole string.
/// Returns `None` when the text is not a number or is outside `min..=max`.
pub fn strtoul(s: &str, min: u64, max: u64) -> Option<u64> {
    let (v, rest) = strtoul_prefix(s)?;
    if !rest.is_empty() || v < min || v > max {
        return None;
    }
    Some(v)
}

/// Skips C `isspace` blanks and an optional sign: (negative, rest).
fn blanks_and_sign(s: &str) -> (bool, &str) {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    }
}

/// Parses the longest numeric prefix of `s` (base 0), returning the value
/// and the rest. `None` when no digit was read. Overflow saturates to
/// `u64::MAX` like `strtoumax`.
pub fn strtoul_prefix(s: &str) -> Option<(u64, &str)> {
    let (neg, t) = blanks_and_sign(s);
    let (radix, digits) = if (t.starts_with("0x") || t.starts_with("0X"))
        && t[2..].starts_with(|c: char| c.is_ascii_hexdigit())
    {
        (16, &t[2..])
    } else if t.starts_with('0') {
        (8, t)
    } else {
        (10, t)
    };
    let len = digits
        .find(|c: char| !c.is_digit(radix))
        .unwrap_or(digits.len());
    if len == 0 {
        return None;
    }
    let mut v: u64 = 0;
    let mut overflow = false;
    for c in digits[..len].chars() {
        let d = c.to_digit(radix).unwrap_or(0) as u64;
        match v.checked_mul(radix as u64).and_then(|x| x.checked_add(d)) {
            Some(n) => v = n,
            None => overflow = true,
        }
    }
    if overflow {
        v = u64::MAX;
    } else if neg {
        v = v.wrapping_neg();
    }
    Some((v, &digits[len..]))
}

/// Parses a plain decimal number like `sscanf("%llu")` would for counters:
/// leading blanks, optional sign (a `-` negates modulo 2^64), digits;
/// overflow saturates; trailing text is ignored.
pub fn scan_u64(s: &str) -> Option<u64> {
    scan_u64_prefix(s).map(|(v, _)| v)
}

/// [`scan_u64`] returning also the text after the number.
pub fn scan_u64_prefix(s: &str) -> Option<(u64, &str)> {
    let (neg, t) = blanks_and_sign(s);
    let len = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    if len == 0 {
        return None;
    }
    let mut v: Option<u64> = Some(0);
    for c in t[..len].bytes() {
        v = v
            .and_then(|x| x.checked_mul(10))
            .and_then(|x| x.checked_add(u64::from(c - b'0')));
    }
    let v = match v {
        None => u64::MAX,
        Some(v) if neg => v.wrapping_neg(),
        Some(v) => v,
    };
    Some((v, &t[len..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_rules() {
        assert_eq!(strtoul("22", 0, 65535), Some(22));
        assert_eq!(strtoul("0x16", 0, 65535), Some(22));
        assert_eq!(strtoul("026", 0, 65535), Some(22));
        assert_eq!(strtoul("08", 0, 65535), None);
        assert_eq!(strtoul("-1", 0, 65535), None);
        assert_eq!(strtoul("-0", 0, 65535), Some(0));
        assert_eq!(strtoul(" 7", 0, 65535), Some(7));
        assert_eq!(strtoul("65536", 0, 65535), None);
        assert_eq!(strtoul("", 0, 65535), None);
        assert_eq!(strtoul("1a", 0, 65535), None);
        assert_eq!(strtoul_prefix("12:34"), Some((12, ":34")));
        // sscanf("%llu") as iptables-restore reads counters (checked live).
        assert_eq!(scan_u64("-5"), Some(u64::MAX - 4));
        assert_eq!(scan_u64("-0"), Some(0));
        assert_eq!(scan_u64("-18446744073709551615"), Some(1));
        assert_eq!(scan_u64("99999999999999999999"), Some(u64::MAX));
        assert_eq!(scan_u64("0x10"), Some(0));
        assert_eq!(scan_u64("x"), None);
    }
}
