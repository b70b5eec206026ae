//! The address a NAT range gives a new connection, as `get_unique_tuple`
//! and `find_best_ips_proto` (net/netfilter/nf_nat_core.c) pick it.
//!
//! # Contract
//! [`pick_addr`] takes the range, the manip type, the connection's
//! original tuple and the mappings other connections already have, and
//! returns the address:
//!
//! * a range of one address gives that address;
//! * source NAT keeps the original source when it lies in the range, else
//!   reuses the address an earlier connection from the same source
//!   address, port and protocol was given (`find_appropriate_src`) when
//!   that lies in the range;
//! * otherwise `jhash2` of the source address (as the kernel holds it:
//!   the network-order bytes read as a little-endian word, then three zero
//!   words), seeded with the destination address (0 with `--persistent`),
//!   scaled into the range (`reciprocal_scale`).
//!
//! Not modelled: a tuple already in use (`nf_nat_used_tuple`), which makes
//! the kernel pick another port, not another address.

use std::net::{IpAddr, Ipv4Addr};

/// `JHASH_INITVAL`.
const INITVAL: u32 = 0xdead_beef;

fn mix(a: &mut u32, b: &mut u32, c: &mut u32) {
    *a = a.wrapping_sub(*c) ^ c.rotate_left(4);
    *c = c.wrapping_add(*b);
    *b = b.wrapping_sub(*a) ^ a.rotate_left(6);
    *a = a.wrapping_add(*c);
    *c = c.wrapping_sub(*b) ^ b.rotate_left(8);
    *b = b.wrapping_add(*a);
    *a = a.wrapping_sub(*c) ^ c.rotate_left(16);
    *c = c.wrapping_add(*b);
    *b = b.wrapping_sub(*a) ^ a.rotate_left(19);
    *a = a.wrapping_add(*c);
    *c = c.wrapping_sub(*b) ^ b.rotate_left(4);
    *b = b.wrapping_add(*a);
}

fn last(a: &mut u32, b: &mut u32, c: &mut u32) {
    *c = (*c ^ *b).wrapping_sub(b.rotate_left(14));
    *a = (*a ^ *c).wrapping_sub(c.rotate_left(11));
    *b = (*b ^ *a).wrapping_sub(a.rotate_left(25));
    *c = (*c ^ *b).wrapping_sub(b.rotate_left(16));
    *a = (*a ^ *c).wrapping_sub(c.rotate_left(4));
    *b = (*b ^ *a).wrapping_sub(a.rotate_left(14));
    *c = (*c ^ *b).wrapping_sub(b.rotate_left(24));
}

/// The kernel's `jhash2` (lookup3's `hashword`) of `k`.
pub fn jhash2(k: &[u32], initval: u32) -> u32 {
    let start = INITVAL
        .wrapping_add((k.len() as u32) << 2)
        .wrapping_add(initval);
    let (mut a, mut b, mut c) = (start, start, start);
    let mut rest = k;
    while rest.len() > 3 {
        a = a.wrapping_add(rest[0]);
        b = b.wrapping_add(rest[1]);
        c = c.wrapping_add(rest[2]);
        mix(&mut a, &mut b, &mut c);
        rest = &rest[3..];
    }
    if rest.is_empty() {
        return c;
    }
    if let Some(&w) = rest.get(2) {
        c = c.wrapping_add(w);
    }
    if let Some(&w) = rest.get(1) {
        b = b.wrapping_add(w);
    }
    a = a.wrapping_add(rest[0]);
    last(&mut a, &mut b, &mut c);
    c
}

/// An IPv4 address as the kernel's `__be32` reads on a little-endian
/// machine.
fn word(a: Ipv4Addr) -> u32 {
    u32::from_le_bytes(a.octets())
}

/// The range's bounds as IPv4 addresses.
fn bounds(min: IpAddr, max: IpAddr) -> Option<(Ipv4Addr, Ipv4Addr)> {
    match (min, max) {
        (IpAddr::V4(a), IpAddr::V4(b)) => Some((a, b)),
        _ => None,
    }
}

/// Whether `a` lies in `[min, max]`.
pub fn in_range(a: IpAddr, min: IpAddr, max: IpAddr) -> bool {
    match (a, bounds(min, max)) {
        (IpAddr::V4(a), Some((lo, hi))) => (u32::from(lo)..=u32::from(hi)).contains(&u32::from(a)),
        _ => false,
    }
}

/// The address a range `[min, max]` gives (see the module docs): `src`
/// and `dst` are the original tuple's addresses, `src_manip` the manip
/// type, `persistent` `--persistent`, `earlier` the address an earlier
/// connection from the same source was given (source NAT only).
pub fn pick_addr(
    min: IpAddr,
    max: IpAddr,
    (src, dst): (IpAddr, IpAddr),
    src_manip: bool,
    persistent: bool,
    earlier: Option<IpAddr>,
) -> IpAddr {
    let Some((lo, hi)) = bounds(min, max) else {
        return min;
    };
    if lo == hi {
        return min;
    }
    if src_manip {
        if in_range(src, min, max) {
            return src;
        }
        if let Some(e) = earlier.filter(|e| in_range(*e, min, max)) {
            return e;
        }
    }
    let (IpAddr::V4(s), IpAddr::V4(d)) = (src, dst) else {
        return min;
    };
    let seed = if persistent { 0 } else { word(d) };
    let j = jhash2(&[word(s), 0, 0, 0], seed);
    let dist = u32::from(hi).wrapping_sub(u32::from(lo)).wrapping_add(1);
    let scaled = ((u64::from(j) * u64::from(dist)) >> 32) as u32;
    IpAddr::V4(Ipv4Addr::from(u32::from(lo).wrapping_add(scaled)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// The empty key hashes to its start; the seed changes the hash
    /// (the values themselves are checked against the kernel's choices
    /// by tests/live_host.rs).
    #[test]
    fn jhash2_start_and_seed() {
        assert_eq!(jhash2(&[], 0), INITVAL);
        assert_ne!(jhash2(&[1, 0, 0, 0], 0), jhash2(&[1, 0, 0, 0], 1));
    }

    #[test]
    fn one_address_original_and_earlier() {
        let (a, b) = (ip("10.0.0.5"), ip("10.0.0.9"));
        assert_eq!(
            pick_addr(a, a, (ip("1.1.1.1"), ip("2.2.2.2")), true, false, None),
            a
        );
        // SNAT keeps a source inside the range.
        let inside = ip("10.0.0.7");
        assert_eq!(
            pick_addr(a, b, (inside, ip("2.2.2.2")), true, false, None),
            inside
        );
        assert_eq!(
            pick_addr(
                a,
                b,
                (ip("1.1.1.1"), ip("2.2.2.2")),
                true,
                false,
                Some(inside)
            ),
            inside
        );
        let got = pick_addr(a, b, (ip("1.1.1.1"), ip("2.2.2.2")), false, false, None);
        assert!(in_range(got, a, b));
    }

    /// The addresses Linux 6.18 gave in tests/live_host.rs: DNAT to
    /// 10.137.0.20-29 of packets to 10.137.0.200, SNAT to
    /// 10.137.0.100-109 of packets to 10.137.0.16 (and with --persistent).
    #[test]
    fn kernel_choices() {
        let (d0, d1) = (ip("10.137.0.20"), ip("10.137.0.29"));
        let (s0, s1) = (ip("10.137.0.100"), ip("10.137.0.109"));
        for (src, dnat, snat, persistent) in [
            ("10.137.0.1", 20, 109, 105),
            ("10.137.0.15", 24, 108, 104),
            ("10.137.0.17", 25, 106, 107),
            ("10.99.0.1", 27, 109, 102),
            ("10.137.0.103", 24, 103, 103),
        ] {
            let at = |n: u8| IpAddr::V4(Ipv4Addr::new(10, 137, 0, n));
            let to = (ip(src), ip("10.137.0.200"));
            assert_eq!(pick_addr(d0, d1, to, false, false, None), at(dnat), "{src}");
            let to = (ip(src), ip("10.137.0.16"));
            assert_eq!(pick_addr(s0, s1, to, true, false, None), at(snat), "{src}");
            assert_eq!(
                pick_addr(s0, s1, to, true, true, None),
                at(persistent),
                "{src}"
            );
        }
    }
}
