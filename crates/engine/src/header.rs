//! What may stand in front of a LOG line: a syslog header and a kernel
//! timestamp, and the time they give the packet.
//!
//! # Contract
//! [`strip`] recognises, in this order and each optional:
//! * a syslog header: RFC 3164 (`Nov 26 08:00:01 host kernel: `, as
//!   classic syslog files and `journalctl` print it), or an ISO 8601 time
//!   (`2026-11-26T08:00:01.123456+00:00 host kernel: `, rsyslog's
//!   high-precision format and `journalctl -o short-iso`), each followed by
//!   the host name and a tag ending in `:`;
//! * a kernel timestamp: `[ 8486.974964] ` (seconds since boot, as
//!   `dmesg` and kern.log print it) or `[Thu Nov 26 08:00:01 2026] `
//!   (`dmesg -T`).
//!
//! The time is in seconds: since boot for a kernel timestamp (which wins
//! when both are present: it is the finer clock), since the epoch for a
//! time with a year, and since the start of a non-leap year for an RFC
//! 3164 time (which has none). Only differences between the packets of one
//! stream matter (timeouts, the limit match), so a stream should keep to
//! one kind. Anything not recognised is left in place, for the caller to
//! read as the log prefix: this never fails and never panics.

/// Month abbreviations as syslog and `dmesg -T` write them.
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Strips the header, returning the time it gives and the rest of the
/// line (always a suffix of `line`).
pub fn strip(line: &str) -> (Option<f64>, &str) {
    let mut time = None;
    let mut rest = line.trim_start();
    if let Some((t, after)) = iso(rest).or_else(|| rfc3164(rest)) {
        time = Some(t);
        rest = skip_host_and_tag(after);
    }
    if let Some((t, after)) = kernel_stamp(rest) {
        time = Some(t);
        rest = after;
    }
    (time, rest)
}

/// The first word and what follows it (leading blanks skipped).
fn word(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start_matches(' ');
    let end = s.find(' ').unwrap_or(s.len());
    (end > 0).then(|| (&s[..end], &s[end..]))
}

/// Skips ` host tag: ` after a syslog time; the tag only when it ends
/// with `:` (`kernel:`, `kernel[0]:`).
fn skip_host_and_tag(after: &str) -> &str {
    let Some((_, rest)) = word(after) else {
        return after.trim_start_matches(' ');
    };
    match word(rest) {
        Some((tag, r)) if tag.ends_with(':') => r.strip_prefix(' ').unwrap_or(r),
        _ => rest.trim_start_matches(' '),
    }
}

/// A number of exactly `n` ASCII digits.
fn digits(s: &str, n: usize) -> Option<u32> {
    (s.len() == n && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// `HH:MM:SS[.frac]` as seconds of the day.
fn clock(s: &str) -> Option<f64> {
    let mut it = s.splitn(3, ':');
    let (h, m, sec) = (it.next()?, it.next()?, it.next()?);
    let (whole, frac) = sec.split_once('.').unwrap_or((sec, ""));
    let (h, m, whole) = (digits(h, 2)?, digits(m, 2)?, digits(whole, 2)?);
    if h > 23 || m > 59 || whole > 60 {
        return None;
    }
    let frac = if frac.is_empty() {
        0.0
    } else if frac.bytes().all(|b| b.is_ascii_digit()) {
        format!("0.{frac}").parse().ok()?
    } else {
        return None;
    };
    Some(f64::from(h * 3600 + m * 60 + whole) + frac)
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A month name's number, 1 to 12.
fn month(s: &str) -> Option<u32> {
    MONTHS.iter().position(|m| *m == s).map(|i| i as u32 + 1)
}

/// `Mon DD HH:MM:SS` (day space-padded), as seconds since the start of a
/// non-leap year.
fn rfc3164(s: &str) -> Option<(f64, &str)> {
    let (mon, rest) = word(s)?;
    let (day, rest) = word(rest)?;
    let (hms, rest) = word(rest)?;
    let (m, d) = (month(mon)?, day.parse::<u32>().ok()?);
    if !(1..=31).contains(&d) || day.len() > 2 {
        return None;
    }
    let days = days_from_civil(1970, m, d);
    Some((days as f64 * 86_400.0 + clock(hms)?, rest))
}

/// `YYYY-MM-DDTHH:MM:SS[.frac][Z|+HH:MM|+HHMM]` as seconds since the epoch.
fn iso(s: &str) -> Option<(f64, &str)> {
    let (w, rest) = word(s)?;
    let (date, time) = w.split_once('T')?;
    let mut it = date.splitn(3, '-');
    let (y, m, d) = (
        digits(it.next()?, 4)?,
        digits(it.next()?, 2)?,
        digits(it.next()?, 2)?,
    );
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let (clock_part, offset) = match time.find(['Z', '+', '-']) {
        Some(i) => (&time[..i], &time[i..]),
        None => (time, ""),
    };
    let offset = match offset {
        "" | "Z" => 0.0,
        o => {
            let sign = if o.starts_with('-') { -1.0 } else { 1.0 };
            let hm = o[1..].replace(':', "");
            let (h, mi) = (digits(hm.get(..2)?, 2)?, digits(hm.get(2..)?, 2)?);
            sign * f64::from(h * 3600 + mi * 60)
        }
    };
    let days = days_from_civil(i64::from(y), m, d);
    Some((days as f64 * 86_400.0 + clock(clock_part)? - offset, rest))
}

/// `[ 8486.974964] ` or `[Thu Nov 26 08:00:01 2026] `.
fn kernel_stamp(s: &str) -> Option<(f64, &str)> {
    let inner = s.trim_start().strip_prefix('[')?;
    let end = inner.find(']')?;
    let (stamp, after) = (&inner[..end], &inner[end + 1..]);
    let after = after.strip_prefix(' ').unwrap_or(after);
    if let Ok(t) = stamp.trim().parse::<f64>() {
        return t.is_finite().then_some((t, after));
    }
    let mut w = stamp.split_whitespace();
    let (_, mon, day, hms, year) = (w.next()?, w.next()?, w.next()?, w.next()?, w.next()?);
    if w.next().is_some() {
        return None;
    }
    let (m, d, y) = (month(mon)?, day.parse::<u32>().ok()?, digits(year, 4)?);
    if !(1..=31).contains(&d) {
        return None;
    }
    let days = days_from_civil(i64::from(y), m, d);
    Some((days as f64 * 86_400.0 + clock(hms)?, after))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "tcp.in.dropped IN=eth0 OUT= SRC=10.0.0.1";

    #[test]
    fn headers() {
        let epoch = 1_795_658_401.0; // 2026-11-26T02:00:01Z (python3 datetime)
        for (line, time) in [
            (LOG.to_string(), None),
            (format!("[ 8486.974964] {LOG}"), Some(8486.974964)),
            (
                format!("Nov 26 02:00:01 mc kernel: [ 8486.974964] {LOG}"),
                Some(8486.974964),
            ),
            (
                format!("Nov 26 02:00:01 mc kernel: {LOG}"),
                Some((329.0 * 86_400.0) + 7201.0),
            ),
            (format!("Jan  2 00:00:01 mc kernel: {LOG}"), Some(86_401.0)),
            (
                format!("2026-11-26T02:00:01.500000+00:00 mc kernel: {LOG}"),
                Some(epoch + 0.5),
            ),
            (
                format!("2026-11-26T03:00:01+0100 mc kernel: {LOG}"),
                Some(epoch),
            ),
            (
                format!("2026-11-26T02:00:01Z mc kernel[0]: {LOG}"),
                Some(epoch),
            ),
            (format!("[Thu Nov 26 02:00:01 2026] {LOG}"), Some(epoch)),
        ] {
            assert_eq!(strip(&line), (time, LOG), "{line}");
        }
        // Not headers: left for the prefix.
        for line in [
            format!("Nov 99 02:00:01 mc kernel: {LOG}"),
            format!("[x] {LOG}"),
            format!("2026-13-01T00:00:00Z h k: {LOG}"),
        ] {
            assert_eq!(strip(&line).1, line, "{line}");
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_keeps_a_suffix(s in "\\PC{0,60}") {
            let (_, rest) = strip(&s);
            proptest::prop_assert!(s.ends_with(rest));
        }
    }
}
