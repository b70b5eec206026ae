//! TCP window tracking, as `tcp_in_window` of nf_conntrack_proto_tcp.c
//! does it: per direction the highest sequence end seen, the highest
//! acceptable end, the largest window and the highest ACK.
//!
//! # Contract
//! A segment is checked only when its sequence numbers are known: `SEQ=`
//! present, and `ACK=` present when the ACK flag is set (a log line
//! written without `--log-tcp-sequence` has neither, and such a segment
//! counts as in window, leaving the state unchanged). The payload length
//! is the IP total length minus the IP header (20 bytes and the logged IP
//! options) and the TCP header (20 bytes and the logged TCP options).
//! SACK blocks are not read (`sack` = `ack`). A connection picked up
//! mid-stream is liberal (`IP_CT_TCP_FLAG_BE_LIBERAL`, set by `tcp_new`):
//! every segment passes. Since Linux 6.0 a segment below the window or an
//! overly delayed ACK is ignored (passes with its connection, which does
//! not change) rather than INVALID.

use crate::packet::{tcp_flags as F, Packet, Transport};

/// One direction's window data (`struct ip_ct_tcp_state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Seen {
    /// `td_end`: max of seq + len.
    pub end: u32,
    /// `td_maxend`: max of ack + max(win, 1).
    pub maxend: u32,
    /// `td_maxwin`: max(win).
    pub maxwin: u32,
    /// `td_maxack`, once set.
    pub maxack: Option<u32>,
    /// `td_scale`.
    pub scale: u8,
    /// The window scale option was sent.
    pub wscale: bool,
}

/// Both directions (index 0 original, 1 reply).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Window {
    /// Per direction.
    pub seen: [Seen; 2],
    /// Picked up mid-stream: no window checks.
    pub liberal: bool,
    /// A FIN began the close (`IP_CT_TCP_FLAG_CLOSE_INIT`).
    pub close_init: bool,
    /// The last packet let through (`last_dir`, `last_index`,
    /// `last_end`).
    pub last: Option<Last>,
    /// The last plain ACK segment in window: direction, sequence, ack,
    /// end and raw window (`last_seq`... of the retransmission check).
    pub last_ack_seg: Option<(usize, u32, u32, u32, u32)>,
    /// How often it came again in a row (`retrans`).
    pub retrans: u32,
}

/// The last TCP packet a connection let through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Last {
    /// Its direction (0 original).
    pub dir: usize,
    /// Its flag bits.
    pub flags: u16,
    /// Its sequence end, when known.
    pub end: Option<u32>,
}

impl Last {
    /// An RST.
    pub fn rst(&self) -> bool {
        self.flags & F::RST != 0
    }
    /// A SYN without ACK (`TCP_SYN_SET`).
    pub fn syn(&self) -> bool {
        self.flags & (F::SYN | F::ACK | F::RST) == F::SYN
    }
    /// A plain ACK (`TCP_ACK_SET`: ACK without SYN, FIN or RST).
    pub fn ack(&self) -> bool {
        self.flags & (F::SYN | F::FIN | F::RST | F::ACK) == F::ACK
    }
}

/// The verdict of [`Window::check`] (`enum nf_ct_tcp_action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InWindow {
    /// In window: the state machine goes on.
    Accept,
    /// Let through with its connection, which is left as it was.
    Ignore,
    /// INVALID.
    Invalid,
}

/// The numbers of one segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number (0 without ACK).
    pub ack: u32,
    /// `seq + payload + SYN + FIN` (`segment_seq_plus_len`).
    pub end: u32,
    /// The window field.
    pub win: u32,
    /// Flag bits.
    pub flags: u16,
    /// Window scale option value, if present.
    pub wscale: Option<u8>,
}

/// `before(a, b)` of net/tcp.h: a precedes b modulo 2^32.
pub fn before(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

fn after(a: u32, b: u32) -> bool {
    before(b, a)
}

/// The window scale option (kind 3, length 3), capped at 14 (RFC 1323).
fn wscale_of(opts: &[u8]) -> Option<u8> {
    let mut i = 0;
    while i < opts.len() {
        match opts[i] {
            0 => return None,
            1 => i += 1,
            kind => {
                let len = usize::from(*opts.get(i + 1)?);
                if len < 2 || i + len > opts.len() {
                    return None;
                }
                if kind == 3 && len == 3 {
                    return Some(opts[i + 2].min(14));
                }
                i += len;
            }
        }
    }
    None
}

impl Segment {
    /// The segment of a TCP packet when its numbers are known (see the
    /// module docs).
    pub fn of(pkt: &Packet) -> Option<Segment> {
        let Transport::Tcp {
            seq,
            ack,
            window,
            flags,
            options,
            ..
        } = &pkt.transport
        else {
            return None;
        };
        let seq = (*seq)?;
        let ack = if flags & F::ACK != 0 { (*ack)? } else { 0 };
        let headers = 40 + pkt.ip_options.len() + options.len();
        let payload = usize::from(pkt.len).saturating_sub(headers) as u32;
        let syn_fin = u32::from(flags & F::SYN != 0) + u32::from(flags & F::FIN != 0);
        Some(Segment {
            seq,
            ack,
            end: seq.wrapping_add(payload).wrapping_add(syn_fin),
            win: u32::from(*window),
            flags: *flags,
            wscale: wscale_of(options),
        })
    }

    fn has(&self, f: u16) -> bool {
        self.flags & f != 0
    }
}

impl Window {
    /// `tcp_new` for a SYN.
    pub fn from_syn(s: &Segment) -> Window {
        let mut w = Window::default();
        let o = &mut w.seen[0];
        o.end = s.end;
        o.maxend = s.end;
        o.maxwin = s.win.max(1);
        o.scale = s.wscale.unwrap_or(0);
        o.wscale = s.wscale.is_some();
        w
    }

    /// `tcp_new` for a picked-up segment: liberal.
    pub fn picked_up(s: Option<&Segment>) -> Window {
        let mut w = Window {
            liberal: true,
            ..Window::default()
        };
        if let Some(s) = s {
            let o = &mut w.seen[0];
            o.end = s.end;
            o.maxwin = s.win.max(1);
            o.maxend = s.end.wrapping_add(o.maxwin);
        }
        w
    }

    /// The highest ACK the other direction sent, for the invalid-RST test.
    pub fn maxack(&self, dir: usize) -> Option<u32> {
        self.seen[dir & 1].maxack
    }

    /// `tcp_in_window` (Linux 6.x): the verdict on the segment in
    /// direction `dir` (0 original), with `syn_sent`/`syn_recv` the
    /// connection's state; the window data is updated when it is
    /// accepted.
    pub fn check(&mut self, syn_sent: bool, syn_recv: bool, dir: usize, s: &Segment) -> InWindow {
        let dir = dir & 1;
        let (mut sender, mut receiver) = (self.seen[dir], self.seen[1 - dir]);
        let (mut seq, mut end) = (s.seq, s.end);
        let (mut ack, win) = (s.ack, s.win);
        if sender.maxwin == 0 {
            if s.has(F::SYN) {
                sender.end = end;
                sender.maxend = end;
                sender.maxwin = win.max(1);
                sender.scale = s.wscale.unwrap_or(0);
                sender.wscale = s.wscale.is_some();
                if !(sender.wscale && receiver.wscale) {
                    sender.scale = 0;
                    receiver.scale = 0;
                }
                if !s.has(F::ACK) {
                    self.seen[dir] = sender;
                    self.seen[1 - dir] = receiver;
                    return InWindow::Accept;
                }
            } else {
                sender.end = end;
                let swin = win << sender.scale;
                sender.maxwin = swin.max(1);
                sender.maxend = end.wrapping_add(sender.maxwin);
                if receiver.maxwin == 0 {
                    receiver.end = ack;
                    receiver.maxend = ack;
                }
            }
        } else if ((syn_sent && dir == 0) || (syn_recv && dir == 1)) && after(end, sender.end) {
            sender.end = end;
            sender.maxend = end;
            sender.maxwin = win.max(1);
            sender.scale = s.wscale.unwrap_or(0);
            sender.wscale = s.wscale.is_some();
        }
        if !s.has(F::ACK) || (s.has(F::RST) && ack == 0) {
            ack = receiver.end;
        }
        let sack = ack;
        if seq == end && (!s.has(F::RST) || (seq == 0 && syn_sent)) {
            seq = sender.end;
            end = sender.end;
        }
        // The initialisation above stays whatever the verdict.
        self.seen[dir] = sender;
        self.seen[1 - dir] = receiver;
        let maxackwin = sender.maxwin.max(66000);
        // Beyond the receiver's window or acking unseen data: INVALID;
        // already acknowledged data or an overly delayed ACK: ignored
        // (nf_tcp_log_invalid; a liberal connection accepts all).
        let verdict = if !before(seq, sender.maxend.wrapping_add(1))
            || !before(sack, receiver.end.wrapping_add(1))
        {
            InWindow::Invalid
        } else if (receiver.maxwin != 0
            && !after(
                end,
                sender.end.wrapping_sub(receiver.maxwin).wrapping_sub(1),
            ))
            || !after(sack, receiver.end.wrapping_sub(maxackwin).wrapping_sub(1))
        {
            InWindow::Ignore
        } else {
            InWindow::Accept
        };
        if verdict != InWindow::Accept {
            return if self.liberal {
                InWindow::Accept
            } else {
                verdict
            };
        }
        let win = if s.has(F::SYN) {
            win
        } else {
            win << sender.scale
        };
        let swin = win.wrapping_add(sack.wrapping_sub(ack));
        sender.maxwin = sender.maxwin.max(swin);
        if after(end, sender.end) {
            sender.end = end;
        }
        if s.has(F::ACK) {
            sender.maxack = Some(match sender.maxack {
                Some(m) if !after(ack, m) => m,
                _ => ack,
            });
        }
        // A plain ACK segment identical to the last one is a
        // retransmission.
        if s.flags & (F::SYN | F::FIN | F::RST | F::ACK) == F::ACK {
            let this = (dir, seq, ack, end, s.win);
            if self.last_ack_seg == Some(this) {
                self.retrans += 1;
            } else {
                self.last_ack_seg = Some(this);
                self.retrans = 0;
            }
        }
        if receiver.maxwin != 0 && after(end, sender.maxend) {
            receiver.maxwin = receiver
                .maxwin
                .wrapping_add(end.wrapping_sub(sender.maxend));
        }
        if after(sack.wrapping_add(win), receiver.maxend.wrapping_sub(1)) {
            receiver.maxend = sack.wrapping_add(win).wrapping_add(u32::from(win == 0));
        }
        self.seen[dir] = sender;
        self.seen[1 - dir] = receiver;
        InWindow::Accept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(line: &str) -> Segment {
        Segment::of(&Packet::parse_line(line).unwrap()).unwrap()
    }

    /// A handshake and data in window pass; data far beyond the
    /// receiver's window (condition I of tcp_in_window) and an ACK for
    /// data never sent (condition III) are INVALID; data below the window
    /// (condition II) is ignored ("ignore overly delayed tcp packets",
    /// Linux 6.0).
    #[test]
    fn in_and_out_of_window() {
        let syn = seg(
            "SRC=1.1.1.1 DST=2.2.2.2 LEN=40 PROTO=TCP SPT=1 DPT=2 SEQ=1000 ACK=0 WINDOW=64240 SYN",
        );
        let mut w = Window::from_syn(&syn);
        assert_eq!(w.check(false, false, 0, &syn), InWindow::Accept);
        let synack = seg("SRC=2.2.2.2 DST=1.1.1.1 LEN=40 PROTO=TCP SPT=2 DPT=1 SEQ=5000 ACK=1001 WINDOW=65160 ACK SYN");
        assert_eq!(w.check(true, false, 1, &synack), InWindow::Accept);
        let ack = seg(
            "SRC=1.1.1.1 DST=2.2.2.2 LEN=40 PROTO=TCP SPT=1 DPT=2 SEQ=1001 ACK=5001 WINDOW=502 ACK",
        );
        assert_eq!(w.check(false, true, 0, &ack), InWindow::Accept);
        let data = seg("SRC=1.1.1.1 DST=2.2.2.2 LEN=140 PROTO=TCP SPT=1 DPT=2 SEQ=1001 ACK=5001 WINDOW=502 ACK PSH");
        assert_eq!(w.check(false, false, 0, &data), InWindow::Accept);
        let far = seg("SRC=1.1.1.1 DST=2.2.2.2 LEN=140 PROTO=TCP SPT=1 DPT=2 SEQ=901001 ACK=5001 WINDOW=502 ACK PSH");
        assert_eq!(w.check(false, false, 0, &far), InWindow::Invalid);
        let unseen = seg(
            "SRC=2.2.2.2 DST=1.1.1.1 LEN=40 PROTO=TCP SPT=2 DPT=1 SEQ=5001 ACK=9999 WINDOW=500 ACK",
        );
        assert_eq!(w.check(false, false, 1, &unseen), InWindow::Invalid);
        let mut liberal = Window::picked_up(Some(&ack));
        assert_eq!(liberal.check(false, false, 1, &unseen), InWindow::Accept);
        // Data the receiver already acknowledged, far behind: ignored.
        let old = seg("SRC=1.1.1.1 DST=2.2.2.2 LEN=140 PROTO=TCP SPT=1 DPT=2 SEQ=4000000000 ACK=5001 WINDOW=502 ACK PSH");
        assert_eq!(w.check(false, false, 0, &old), InWindow::Ignore);
    }

    #[test]
    fn unknown_numbers_are_not_checked() {
        let p = Packet::parse_line("SRC=1.1.1.1 DST=2.2.2.2 PROTO=TCP SPT=1 DPT=2 ACK").unwrap();
        assert!(Segment::of(&p).is_none());
        assert_eq!(wscale_of(&[1, 3, 3, 20]), Some(14));
        assert_eq!(wscale_of(&[2, 9]), None);
    }
}
