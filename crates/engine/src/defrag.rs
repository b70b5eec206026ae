//! IPv4 defragmentation as conntrack's `nf_defrag_ipv4` does it, before
//! the first hook (raw PREROUTING for arriving packets, raw OUTPUT for
//! sent ones).
//!
//! # Contract
//! [`Defrag::add`] takes a fragment (a packet with `MF` or a fragment
//! offset) and returns the whole datagram when this fragment completes
//! it; until then the fragment is held and reaches no hook. The rules are
//! `ip_frag_queue`'s (net/ipv4/ip_fragment.c, inet_fragment.c):
//!
//! * a queue per source, destination, ID, protocol and direction (arriving
//!   and sent fragments are joined apart: `IP_DEFRAG_CONNTRACK_IN`/`_OUT`);
//! * a fragment with MF whose length is not a multiple of 8 is cut down
//!   to one; an empty one, a last fragment ending before data already
//!   held or at another end than an earlier last fragment, and data beyond
//!   a known end kill the queue;
//! * a fragment lying inside a run of fragments already held (a run grows
//!   when a fragment continues the one that ends furthest) is a duplicate:
//!   dropped, the queue kept; any other overlap kills the queue (RFC 5722
//!   as Linux applies it to IPv4);
//! * complete when the first and last fragments are in and the data adds
//!   up: the datagram has the first fragment's header (TTL, TOS, options,
//!   MAC), DF when the largest fragment had it, the total length of the
//!   whole, and the last fragment's interface and time; over 65535 bytes
//!   it is dropped. A late fragment of a completed datagram starts a new
//!   queue;
//! * a queue lives `net.ipv4.ipfrag_time` seconds from its first fragment
//!   (`ip_expire`, never extended); [`Defrag::expire`] removes the queues
//!   whose time passed and returns the first fragment of each arriving
//!   queue that had it, which the host answers with ICMP time exceeded
//!   (fragment reassembly, code 1) when it is for a local address.
//!
//! Not modelled: `ipfrag_max_dist` (a queue reset after 64 fragments from
//! its source to other queues), the memory thresholds, and the ECN
//! combination check (a [`Packet`] does not carry the ECN bits).

use crate::fasthash::FxHashMap;
use crate::packet::Packet;
use crate::wire::joined_checksum_ok;
use std::collections::hash_map::Entry;
use std::collections::VecDeque;
use std::net::IpAddr;

/// What identifies a fragment queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    src: IpAddr,
    dst: IpAddr,
    id: u16,
    proto: u8,
    /// Sent by this host (joined in raw OUTPUT).
    sent: bool,
}

/// One datagram being joined.
#[derive(Debug)]
struct Queue {
    key: Key,
    /// When `ip_expire` runs.
    expires: f64,
    /// The datagram's data length known so far (`q.len`).
    len: usize,
    /// Whether the last fragment came.
    last_in: bool,
    /// Data bytes held (`q.meat`).
    meat: usize,
    /// Runs of contiguous fragments, sorted, disjoint: (start, end).
    runs: Vec<(usize, usize)>,
    /// The end of the fragment that ends furthest (`fragments_tail`).
    tail_end: usize,
    /// The first fragment (offset 0).
    head: Option<Packet>,
    /// The largest fragment and the largest one with DF (IP length).
    max_size: usize,
    max_df_size: usize,
    /// The sum of the pieces' payload sums, while every piece has one.
    sum: Option<u32>,
}

/// The fragment queues of one host, by key, and their expiry times in
/// the order they were made (some of them for queues gone since).
#[derive(Debug, Default)]
pub struct Defrag {
    queues: FxHashMap<Key, Queue>,
    order: VecDeque<(f64, Key)>,
}

/// Whether a packet is a fragment (MF set or an offset).
pub fn is_fragment(p: &Packet) -> bool {
    p.mf || p.frag != 0
}

impl Defrag {
    /// Adds a fragment seen at `now` (see the module docs); `sent` when
    /// this host sends it; `timeout` is `ipfrag_time` in seconds. Returns
    /// the whole datagram when this fragment completes it.
    pub fn add(&mut self, p: &Packet, sent: bool, now: f64, timeout: f64) -> Option<Packet> {
        let key = Key {
            src: p.src,
            dst: p.dst,
            id: p.id,
            proto: p.transport.proto(),
            sent,
        };
        let ihl = 20 + p.ip_options.len();
        // ip_rcv drops a total length shorter than the header first.
        let data = usize::from(p.len).checked_sub(ihl)?;
        let offset = usize::from(p.frag) * 8;
        let q = match self.queues.entry(key) {
            Entry::Occupied(q) => q.into_mut(),
            Entry::Vacant(v) => {
                self.order.push_back((now + timeout, key));
                v.insert(Queue {
                    key,
                    expires: now + timeout,
                    len: 0,
                    last_in: false,
                    meat: 0,
                    runs: Vec::new(),
                    tail_end: 0,
                    head: None,
                    max_size: 0,
                    max_df_size: 0,
                    sum: Some(0),
                })
            }
        };
        let mut end = offset + data;
        let mut trimmed = false;
        let ok = if !p.mf {
            let ok = end >= q.len && (!q.last_in || end == q.len);
            q.last_in = true;
            q.len = end;
            ok
        } else {
            if end & 7 != 0 {
                end &= !7;
                trimmed = true;
            }
            let ok = end <= q.len || !q.last_in;
            q.len = q.len.max(end);
            ok
        };
        if !ok || end == offset {
            self.kill(key);
            return None;
        }
        match insert(q, offset, end) {
            Insert::Ok => {}
            Insert::Duplicate => return None,
            Insert::Overlap => {
                self.kill(key);
                return None;
            }
        }
        q.meat += end - offset;
        q.sum = match (q.sum, p.frag_sum) {
            (Some(s), Some(f)) if !trimmed => Some(s + u32::from(f)),
            _ => None,
        };
        let size = end - offset + ihl;
        q.max_size = q.max_size.max(size);
        if p.df {
            q.max_df_size = q.max_df_size.max(size);
        }
        if offset == 0 {
            q.head = Some(p.clone());
        }
        if !(q.last_in && q.head.is_some() && q.meat == q.len) {
            return None;
        }
        let q = self.kill(key)?;
        let mut whole = q.head?;
        let hl = 20 + whole.ip_options.len();
        whole.len = u16::try_from(hl + q.len).ok()?;
        whole.mf = false;
        whole.frag = 0;
        whole.ce = false;
        whole.df = q.max_df_size == q.max_size;
        whole.iface_in.clone_from(&p.iface_in);
        whole.iface_out.clone_from(&p.iface_out);
        whole.time = p.time.or(whole.time);
        whole.bad_checksum = q
            .sum
            .is_some_and(|s| !joined_checksum_ok(whole.src, whole.dst, key.proto, q.len, s));
        whole.frag_sum = None;
        Some(whole)
    }

    /// Removes a queue (killed or complete); drops the expiry times of
    /// queues gone from the front of the order.
    fn kill(&mut self, key: Key) -> Option<Queue> {
        let q = self.queues.remove(&key);
        while let Some((t, k)) = self.order.front() {
            if self.queues.get(k).is_some_and(|q| q.expires == *t) {
                break;
            }
            self.order.pop_front();
        }
        q
    }

    /// Removes the queues whose time passed by `now`; returns, in the
    /// order they expire, the first fragment of each arriving queue that
    /// had it (`ip_expire` answers those).
    pub fn expire(&mut self, now: f64) -> Vec<Packet> {
        let mut heads = Vec::new();
        while let Some(&(t, key)) = self.order.front().filter(|(t, _)| *t <= now) {
            let live = self.queues.get(&key).is_some_and(|q| q.expires == t);
            let q = if live { self.kill(key) } else { None };
            if !live {
                self.order.pop_front();
            }
            if let Some(q) = q.filter(|q| !q.key.sent) {
                if let Some(mut h) = q.head {
                    h.time = Some(q.expires);
                    heads.push(h);
                }
            }
        }
        heads
    }

    /// When the next queue expires, if any is held.
    pub fn next_expiry(&self) -> Option<f64> {
        self.order.front().map(|(t, _)| *t)
    }

    /// How many datagrams are being joined.
    pub fn pending(&self) -> usize {
        self.queues.len()
    }
}

/// What `inet_frag_queue_insert` decided.
enum Insert {
    Ok,
    Duplicate,
    Overlap,
}

fn insert(q: &mut Queue, offset: usize, end: usize) -> Insert {
    if q.runs.is_empty() || end > q.tail_end {
        if q.tail_end > offset && !q.runs.is_empty() {
            return Insert::Overlap;
        }
        match q.runs.iter_mut().find(|r| r.1 == q.tail_end) {
            Some(run) if offset == q.tail_end => run.1 = end,
            _ => q.runs.push((offset, end)),
        }
        q.tail_end = end;
        q.runs.sort_unstable();
        return Insert::Ok;
    }
    if let Some(r) = q.runs.iter().find(|r| offset < r.1 && end > r.0) {
        return if offset >= r.0 && end <= r.1 {
            Insert::Duplicate
        } else {
            Insert::Overlap
        };
    }
    q.runs.push((offset, end));
    q.runs.sort_unstable();
    Insert::Ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frag(line: &str) -> Packet {
        Packet::parse_line(&format!(
            "IN=eth0 OUT= SRC=10.0.0.9 DST=10.0.0.1 ID=7 {line}"
        ))
        .unwrap()
    }

    fn feed(d: &mut Defrag, lines: &[&str]) -> Vec<Option<Packet>> {
        lines
            .iter()
            .map(|l| d.add(&frag(l), false, 0.0, 30.0))
            .collect()
    }

    /// Joined in any order; the whole has the first fragment's transport
    /// header, the total length, no fragment bits.
    #[test]
    fn joins_in_any_order() {
        let mut d = Defrag::default();
        let out = feed(
            &mut d,
            &[
                "LEN=32 FRAG:2 PROTO=UDP",
                "LEN=36 MF PROTO=UDP SPT=1 DPT=2 LEN=28",
            ],
        );
        let whole = out[1].as_ref().unwrap();
        assert!(out[0].is_none());
        assert_eq!((whole.len, whole.mf, whole.frag), (48, false, 0));
        assert_eq!(
            whole.log_line(Default::default()),
            frag("LEN=48 PROTO=UDP SPT=1 DPT=2 LEN=28").log_line(Default::default())
        );
        assert_eq!(d.pending(), 0);
    }

    /// A duplicate is ignored; an overlap kills the queue; a late
    /// duplicate of a completed datagram starts a new queue.
    #[test]
    fn duplicates_and_overlaps() {
        let mut d = Defrag::default();
        let out = feed(
            &mut d,
            &[
                "LEN=36 MF PROTO=UDP SPT=1 DPT=2 LEN=36",
                "LEN=36 MF PROTO=UDP SPT=1 DPT=2 LEN=36",
                "LEN=36 MF FRAG:2 PROTO=UDP",
                "LEN=28 FRAG:4 PROTO=UDP",
            ],
        );
        assert!(out[..3].iter().all(Option::is_none));
        assert_eq!(out[3].as_ref().unwrap().len, 60);
        assert!(feed(&mut d, &["LEN=28 FRAG:4 PROTO=UDP"])[0].is_none());
        assert_eq!(d.pending(), 1);
        let mut d = Defrag::default();
        let out = feed(
            &mut d,
            &[
                "LEN=44 MF PROTO=UDP SPT=1 DPT=2 LEN=36",
                "LEN=36 MF FRAG:2 PROTO=UDP",
                "LEN=28 FRAG:4 PROTO=UDP",
            ],
        );
        assert!(out.iter().all(Option::is_none));
        assert_eq!(d.pending(), 1, "the overlap killed the first queue");
    }

    /// Inside a run (two fragments appended in order) is a duplicate
    /// (ignored, the datagram completes);
    /// the same bytes across two runs made out of order an overlap.
    #[test]
    fn runs_decide_duplicates() {
        let run = [
            "LEN=36 MF PROTO=UDP SPT=1 DPT=2 LEN=44",
            "LEN=36 MF FRAG:2 PROTO=UDP",
            "LEN=36 MF FRAG:1 PROTO=UDP",
            "LEN=28 FRAG:4 PROTO=UDP",
        ];
        let mut d = Defrag::default();
        assert_eq!(feed(&mut d, &run)[3].as_ref().map(|w| w.len), Some(60));
        let mut d = Defrag::default();
        let out = feed(&mut d, &[run[1], run[0], run[2]]);
        assert!(out.iter().all(Option::is_none));
        assert_eq!(d.pending(), 0, "an overlap of two runs kills it");
    }

    /// A last fragment ending before held data, or at another end, and
    /// data beyond a known end kill the queue; an MF fragment is cut to
    /// 8 bytes.
    #[test]
    fn corrupt_ends() {
        for lines in [
            &["LEN=36 MF FRAG:4 PROTO=UDP", "LEN=28 FRAG:2 PROTO=UDP"][..],
            &["LEN=28 FRAG:4 PROTO=UDP", "LEN=36 FRAG:4 PROTO=UDP"],
            &["LEN=28 FRAG:4 PROTO=UDP", "LEN=36 MF FRAG:4 PROTO=UDP"],
            &["LEN=20 MF FRAG:4 PROTO=UDP"],
        ] {
            let mut d = Defrag::default();
            feed(&mut d, lines);
            assert_eq!(d.pending(), 0, "{lines:?}");
        }
        let mut d = Defrag::default();
        let out = feed(
            &mut d,
            &[
                "LEN=39 MF PROTO=UDP SPT=1 DPT=2 LEN=24",
                "LEN=28 FRAG:2 PROTO=UDP",
            ],
        );
        assert_eq!(out[1].as_ref().unwrap().len, 44);
    }

    /// Queues expire ipfrag_time after their first fragment; only one that
    /// held the first fragment is answered.
    #[test]
    fn expiry() {
        let mut d = Defrag::default();
        d.add(
            &frag("LEN=36 MF PROTO=UDP SPT=1 DPT=2 LEN=28"),
            false,
            1.0,
            30.0,
        );
        let mut other = frag("LEN=28 FRAG:2 PROTO=UDP");
        other.id = 8;
        d.add(&other, false, 2.0, 30.0);
        assert_eq!(d.next_expiry(), Some(31.0));
        assert!(d.expire(30.5).is_empty());
        let heads = d.expire(32.0);
        assert_eq!(heads.len(), 1);
        assert_eq!((heads[0].id, heads[0].time), (7, Some(31.0)));
        assert_eq!(d.pending(), 0);
    }

    /// From raw bytes: a datagram split in two keeps its right checksum
    /// once joined; fragments whose checksum covers the first piece only
    /// make a datagram with a wrong one.
    #[test]
    fn joined_checksums() {
        let whole = frag("LEN=48 PROTO=UDP SPT=1 DPT=2 LEN=28");
        let bytes = crate::wire::to_ipv4(&whole).unwrap();
        let pieces = crate::wire::split(&bytes, &[(16, 28, false, false), (0, 16, true, true)]);
        let piece = |i: usize| {
            let b: &[u8] = &pieces[i];
            assert!(crate::wire::header_checksum_ok(b));
            crate::wire::from_ipv4(b).unwrap()
        };
        let mut d = Defrag::default();
        assert!(d.add(&piece(0), false, 0.0, 30.0).is_none());
        let w = d.add(&piece(1), false, 0.0, 30.0).unwrap();
        // DF: the largest fragment (36 bytes) had it.
        assert_eq!((w.len, w.bad_checksum, w.df), (48, false, true));
        let first = crate::wire::to_ipv4(&frag("LEN=36 MF PROTO=UDP SPT=1 DPT=2 LEN=28")).unwrap();
        let second = crate::wire::to_ipv4(&frag("LEN=32 FRAG:2 PROTO=UDP")).unwrap();
        d.add(&crate::wire::from_ipv4(&first).unwrap(), false, 0.0, 30.0);
        let w = d
            .add(&crate::wire::from_ipv4(&second).unwrap(), false, 0.0, 30.0)
            .unwrap();
        assert!(w.bad_checksum);
    }

    proptest::proptest! {
        /// Any fragments, in any order, never panic; a datagram, once
        /// joined, holds exactly the data of its pieces.
        #[test]
        fn never_panics(frags in proptest::collection::vec(
            (0u16..8, 0u16..40, proptest::bool::ANY, proptest::bool::ANY, 0u16..3), 1..12,
        )) {
            let mut d = Defrag::default();
            for (i, (off, len, mf, df, id)) in frags.into_iter().enumerate() {
                let p = Packet {
                    id,
                    len: len + 20,
                    mf,
                    df,
                    frag: off,
                    frag_sum: Some(off),
                    ..Packet::default()
                };
                if let Some(w) = d.add(&p, false, i as f64, 5.0) {
                    proptest::prop_assert!(!w.mf && w.frag == 0 && w.len >= 20);
                }
            }
            d.expire(100.0);
            proptest::prop_assert_eq!(d.pending(), 0);
        }
    }
}
