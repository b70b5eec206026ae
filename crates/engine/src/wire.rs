//! Packets on the wire: a [`Packet`] as the raw IPv4 bytes the kernel
//! would receive, and raw bytes (IPv4, Ethernet frames, pcap files) back
//! into packets.
//!
//! # Contract
//! * [`to_ipv4`] writes the IP header (options padded with zero bytes to a
//!   multiple of four, TOS byte = `TOS | PREC`, the reserved "CE" bit, DF,
//!   MF, fragment offset, TTL, ID, total length = `Packet::len`), then the
//!   transport header (TCP with seq/ack/flags/window/urgent pointer/options,
//!   UDP with its length, ICMP echo or error with the quoted packet) and
//!   zero bytes up to `len`. Checksums are right unless [`Corrupt`] asks
//!   otherwise. A packet with an IPv6 address is an error.
//! * [`from_ipv4`], [`from_ethernet`] and [`read_pcap`] never panic; an
//!   error names the byte offset where the input went wrong.
//!
//! The TCP reserved nibble: `RES=` is what the kernel logs,
//! `(flag word & reserved bits) >> 22`, so the three reserved bits of the
//! 13th byte (0x0E) are `RES=0x08`..`0x38`; the lowest bit of that nibble
//! is the AE flag ([`tcp_flags::AE`]).

use crate::packet::{tcp_flags, Packet, Transport};
use std::net::{IpAddr, Ipv4Addr};

/// A wire error: what went wrong and at which byte offset of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("byte offset {offset}: {what}")]
pub struct WireError {
    /// Offset of the byte where the input went wrong.
    pub offset: usize,
    /// What was wrong.
    pub what: String,
}

fn werr(offset: usize, what: impl Into<String>) -> WireError {
    WireError {
        offset,
        what: what.into(),
    }
}

/// Which checksums to write wrong (for the checksum-validation cases):
/// the right value plus one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Corrupt {
    /// The IP header checksum.
    pub ip: bool,
    /// The TCP, UDP or ICMP checksum.
    pub transport: bool,
}

/// The Internet checksum (RFC 1071) of `data`, starting from `sum`.
fn fold(mut sum: u32, data: &[u8]) -> u16 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(*last) << 8;
    }
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    !(sum as u16)
}

/// The pseudo-header sum for TCP/UDP.
fn pseudo(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, len: usize) -> u32 {
    let s = src.octets();
    let d = dst.octets();
    [
        u16::from_be_bytes([s[0], s[1]]),
        u16::from_be_bytes([s[2], s[3]]),
        u16::from_be_bytes([d[0], d[1]]),
        u16::from_be_bytes([d[2], d[3]]),
        u16::from(proto),
        len as u16,
    ]
    .iter()
    .map(|&w| u32::from(w))
    .sum()
}

fn v4(a: IpAddr, which: &str) -> Result<Ipv4Addr, WireError> {
    match a {
        IpAddr::V4(a) => Ok(a),
        IpAddr::V6(_) => Err(werr(0, format!("{which} is not an IPv4 address"))),
    }
}

fn padded(opts: &[u8]) -> Vec<u8> {
    let mut o = opts.to_vec();
    o.resize(opts.len().div_ceil(4) * 4, 0);
    o
}

/// Whether the IPv4 header at the start of `ip` has a right checksum (the
/// kernel drops a packet whose header checksum is wrong before any hook).
/// False when the header does not fit.
pub fn header_checksum_ok(ip: &[u8]) -> bool {
    let ihl = usize::from(ip.first().map_or(0, |b| b & 0x0F)) * 4;
    ihl >= 20 && ip.get(..ihl).is_some_and(|h| fold(0, h) == 0)
}

/// Cuts the raw IPv4 packet `whole` into fragments as a sender would:
/// for each piece (start and end of its data, more fragments, don't
/// fragment) the header copied with its total length, flags, offset
/// (start / 8) and header checksum written; the data `whole` holds there
/// (a range beyond it is cut short). The pieces may overlap or leave
/// gaps, as crafted fragments do.
pub fn split(whole: &[u8], pieces: &[(usize, usize, bool, bool)]) -> Vec<Vec<u8>> {
    let ihl = usize::from(whole.first().map_or(5, |b| b & 0x0F)) * 4;
    let (hdr, data) = whole.split_at(ihl.min(whole.len()));
    pieces
        .iter()
        .map(|&(from, to, more, df)| {
            let mut b = hdr.to_vec();
            b.extend_from_slice(data.get(from..to.min(data.len())).unwrap_or(&[]));
            if b.len() >= 20 {
                let tot = (b.len() as u16).to_be_bytes();
                b[2..4].copy_from_slice(&tot);
                let flags = (u16::from(df) << 14) | (u16::from(more) << 13);
                b[6..8].copy_from_slice(&(flags | (from / 8) as u16 & 0x1FFF).to_be_bytes());
                b[10..12].copy_from_slice(&[0, 0]);
                let sum = fold(0, &b[..ihl]);
                b[10..12].copy_from_slice(&sum.to_be_bytes());
            }
            b
        })
        .collect()
}

/// The raw IPv4 packet for `pkt`, with right checksums.
pub fn to_ipv4(pkt: &Packet) -> Result<Vec<u8>, WireError> {
    to_ipv4_with(pkt, Corrupt::default())
}

/// The raw IPv4 packet for `pkt`, with the checksums `corrupt` names
/// written wrong.
pub fn to_ipv4_with(pkt: &Packet, corrupt: Corrupt) -> Result<Vec<u8>, WireError> {
    let src = v4(pkt.src, "SRC")?;
    let dst = v4(pkt.dst, "DST")?;
    let ip_opts = padded(&pkt.ip_options);
    if ip_opts.len() > 40 {
        return Err(werr(20, "IP options longer than 40 bytes"));
    }
    let ihl = 20 + ip_opts.len();
    let mut l4 = transport_bytes(pkt)?;
    let total = usize::from(pkt.len).max(ihl + l4.len());
    l4.resize(total - ihl, 0);
    let bad = u16::from(corrupt.transport);
    match &pkt.transport {
        Transport::Tcp { .. } | Transport::Udp { .. } => {
            let at = if pkt.transport.proto() == 6 { 16 } else { 6 };
            let sum = fold(pseudo(src, dst, pkt.transport.proto(), l4.len()), &l4);
            // UDP writes a computed 0 as 0xFFFF (0 means "no checksum").
            let sum = if at == 6 && sum == 0 { 0xFFFF } else { sum };
            l4[at..at + 2].copy_from_slice(&sum.wrapping_add(bad).to_be_bytes());
        }
        Transport::Icmp { .. } => {
            let sum = fold(0, &l4);
            l4[2..4].copy_from_slice(&sum.wrapping_add(bad).to_be_bytes());
        }
        Transport::Other(_) => {}
    }
    let mut b = Vec::with_capacity(total);
    b.push(0x40 | (ihl / 4) as u8);
    b.push(pkt.tos | pkt.prec);
    b.extend_from_slice(&pkt.len.to_be_bytes());
    b.extend_from_slice(&pkt.id.to_be_bytes());
    let frag = (u16::from(pkt.ce) << 15)
        | (u16::from(pkt.df) << 14)
        | (u16::from(pkt.mf) << 13)
        | (pkt.frag & 0x1FFF);
    b.extend_from_slice(&frag.to_be_bytes());
    b.push(pkt.ttl);
    b.push(pkt.transport.proto());
    b.extend_from_slice(&[0, 0]);
    b.extend_from_slice(&src.octets());
    b.extend_from_slice(&dst.octets());
    b.extend_from_slice(&ip_opts);
    let sum = fold(0, &b).wrapping_add(u16::from(corrupt.ip));
    b[10..12].copy_from_slice(&sum.to_be_bytes());
    b.extend_from_slice(&l4);
    Ok(b)
}

/// The transport header (and for ICMP errors the quoted packet), with a
/// zero checksum.
fn transport_bytes(pkt: &Packet) -> Result<Vec<u8>, WireError> {
    let mut t = Vec::new();
    match &pkt.transport {
        Transport::Tcp {
            spt,
            dpt,
            seq,
            ack,
            window,
            res,
            flags,
            urgp,
            options,
        } => {
            let opts = padded(options);
            if opts.len() > 40 {
                return Err(werr(20, "TCP options longer than 40 bytes"));
            }
            t.extend_from_slice(&spt.to_be_bytes());
            t.extend_from_slice(&dpt.to_be_bytes());
            t.extend_from_slice(&seq.unwrap_or(0).to_be_bytes());
            t.extend_from_slice(&ack.unwrap_or(0).to_be_bytes());
            let doff = ((20 + opts.len()) / 4) as u8;
            let ae = u8::from(flags & tcp_flags::AE != 0);
            t.push(doff << 4 | ((res >> 2) & 0x0E) | ae);
            t.push((flags & 0xFF) as u8);
            t.extend_from_slice(&window.to_be_bytes());
            t.extend_from_slice(&[0, 0]);
            t.extend_from_slice(&urgp.to_be_bytes());
            t.extend_from_slice(&opts);
        }
        Transport::Udp { spt, dpt, len, .. } => {
            t.extend_from_slice(&spt.to_be_bytes());
            t.extend_from_slice(&dpt.to_be_bytes());
            t.extend_from_slice(&len.to_be_bytes());
            t.extend_from_slice(&[0, 0]);
        }
        Transport::Icmp {
            typ,
            code,
            id,
            seq,
            inner,
            mtu,
            gateway,
            parameter,
        } => {
            t.extend_from_slice(&[*typ, *code, 0, 0]);
            match typ {
                3 | 4 | 5 | 11 | 12 => {
                    let mut rest = [0u8; 4];
                    match typ {
                        3 => rest[2..].copy_from_slice(&mtu.unwrap_or(0).to_be_bytes()),
                        5 => rest = gateway.unwrap_or(Ipv4Addr::UNSPECIFIED).octets(),
                        12 => rest[0] = parameter.unwrap_or(0),
                        _ => {}
                    }
                    t.extend_from_slice(&rest);
                    if let Some(q) = inner {
                        t.extend_from_slice(&to_ipv4(q)?);
                    }
                }
                _ => {
                    t.extend_from_slice(&id.unwrap_or(0).to_be_bytes());
                    t.extend_from_slice(&seq.unwrap_or(0).to_be_bytes());
                }
            }
        }
        Transport::Other(_) => {}
    }
    Ok(t)
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
        *b.get(at + 2)?,
        *b.get(at + 3)?,
    ]))
}

/// Reads an IPv4 packet. Bytes beyond the total length are ignored; an IP
/// header that does not fit, a version other than 4, or a transport
/// header cut short by the end of `bytes` (before the total length) is an
/// error naming its offset. A packet whose total length leaves no room for
/// its transport header is read as far as it goes (the kernel logs it
/// `INCOMPLETE [N bytes]`).
pub fn from_ipv4(bytes: &[u8]) -> Result<Packet, WireError> {
    ipv4_at(bytes, 0, true)
}

/// [`from_ipv4`] for the packet at `base` of a larger input (offsets in
/// errors count from the input's start). `whole` is false for the packet
/// quoted in an ICMP error, which may be cut short after its first 8
/// transport bytes.
fn ipv4_at(input: &[u8], base: usize, whole: bool) -> Result<Packet, WireError> {
    let b = input.get(base..).unwrap_or(&[]);
    let first = *b.first().ok_or_else(|| werr(base, "no IP header"))?;
    if first >> 4 != 4 {
        return Err(werr(base, format!("IP version {} is not 4", first >> 4)));
    }
    let ihl = usize::from(first & 0x0F) * 4;
    if ihl < 20 {
        return Err(werr(base, format!("IP header length {ihl} is below 20")));
    }
    if b.len() < ihl {
        return Err(werr(
            base + b.len(),
            format!("IP header of {ihl} bytes cut short"),
        ));
    }
    let tot = usize::from(be16(b, 2).unwrap_or(0));
    let frag = be16(b, 6).unwrap_or(0);
    let proto = b[9];
    let addr = |at: usize| Ipv4Addr::new(b[at], b[at + 1], b[at + 2], b[at + 3]);
    let mut pkt = Packet {
        src: IpAddr::V4(addr(12)),
        dst: IpAddr::V4(addr(16)),
        len: tot as u16,
        tos: b[1] & 0x1E,
        prec: b[1] & 0xE0,
        ttl: b[8],
        id: be16(b, 4).unwrap_or(0),
        ce: frag & 0x8000 != 0,
        df: frag & 0x4000 != 0,
        mf: frag & 0x2000 != 0,
        frag: frag & 0x1FFF,
        ip_options: b[20..ihl].to_vec(),
        ..Packet::default()
    };
    let end = if whole { tot.min(b.len()) } else { b.len() };
    let cut = whole && b.len() < tot;
    let l4 = b.get(ihl..end.max(ihl)).unwrap_or(&[]);
    let at = base + ihl;
    // A whole, unfragmented packet's transport checksum, when its header
    // is complete (a short one is another error): what conntrack
    // (nf_conntrack_checksum) and the stack check on arrival. UDP's zero
    // means none. A TCP or UDP checksum holding only the pseudo header's
    // sum was left to offload (CHECKSUM_PARTIAL: a packet a local socket
    // sent, over veth or as its sender captured it); the kernel does not
    // check it, so it counts as right.
    if whole && !cut && frag & 0x3FFF == 0 {
        let (s, d) = (addr(12), addr(16));
        let wrong = |at: usize| {
            let sum = pseudo(s, d, proto, l4.len());
            fold(sum, l4) != 0 && be16(l4, at) != Some(!fold(sum, &[]))
        };
        pkt.bad_checksum = match proto {
            6 if l4.len() >= 20 => wrong(16),
            17 if l4.len() >= 8 => be16(l4, 6).is_some_and(|c| c != 0) && wrong(6),
            1 if l4.len() >= 8 => fold(0, l4) != 0,
            _ => false,
        };
    }
    // A fragment's payload sum, for the datagram's checksum once joined
    // (none for a first UDP fragment whose checksum is zero: no checksum).
    if whole && !cut && frag & 0x3FFF != 0 {
        let no_udp_sum = proto == 17 && frag & 0x1FFF == 0 && be16(l4, 6) == Some(0);
        pkt.frag_sum = (!no_udp_sum).then(|| !fold(0, l4));
    }
    pkt.transport = if pkt.frag != 0 {
        Transport::Other(proto)
    } else {
        transport_at(
            proto,
            l4,
            at,
            cut,
            whole,
            input.get(..base + end).unwrap_or(input),
        )?
    };
    Ok(pkt)
}

fn short(at: usize, what: &str, need: usize, have: usize) -> WireError {
    werr(
        at + have,
        format!("{what} header cut short: {have} of {need} bytes"),
    )
}

/// Reads the transport header from `l4` (the bytes within the packet's
/// total length). A header the packet itself is too short for is read as
/// far as it goes (missing fields zero, or `None` for seq/ack and echo
/// id/seq), as the kernel logs such a packet `INCOMPLETE [N bytes]`; when
/// `cut`, the capture ended before the packet did, and a short header is
/// an error instead. Only a `whole` packet's ICMP error has its quoted
/// packet read (the kernel logs one level).
fn transport_at(
    proto: u8,
    l4: &[u8],
    at: usize,
    cut: bool,
    whole: bool,
    input: &[u8],
) -> Result<Transport, WireError> {
    let need = match proto {
        6 => 20,
        1 | 17 | 136 => 8,
        _ => 0,
    };
    if cut && l4.len() < need {
        let what = if proto == 6 {
            "TCP"
        } else if proto == 1 {
            "ICMP"
        } else {
            "UDP"
        };
        return Err(short(at, what, need, l4.len()));
    }
    let mut h = [0u8; 60];
    let n = l4.len().min(60);
    h[..n].copy_from_slice(&l4[..n]);
    let has = |upto: usize| l4.len() >= upto;
    let w16 = |at: usize| u16::from_be_bytes([h[at], h[at + 1]]);
    Ok(match proto {
        6 => {
            let doff = usize::from(h[12] >> 4) * 4;
            if has(20) && doff < 20 {
                return Err(werr(at + 12, format!("TCP data offset {doff} is below 20")));
            }
            if cut && l4.len() < doff {
                return Err(short(at, "TCP", doff, l4.len()));
            }
            let ae = if h[12] & 1 != 0 { tcp_flags::AE } else { 0 };
            Transport::Tcp {
                spt: w16(0),
                dpt: w16(2),
                seq: be32(l4, 4),
                ack: be32(l4, 8),
                window: w16(14),
                res: (h[12] & 0x0E) << 2,
                flags: u16::from(h[13]) | ae,
                urgp: w16(18),
                options: l4.get(20..doff.min(l4.len())).unwrap_or(&[]).to_vec(),
            }
        }
        17 | 136 => Transport::Udp {
            spt: w16(0),
            dpt: w16(2),
            len: w16(4),
            lite: proto == 136,
        },
        1 => {
            let (typ, code) = (h[0], h[1]);
            let error = matches!(typ, 3 | 4 | 5 | 11 | 12);
            let inner = if error && whole && !cut && has(9) {
                Some(Box::new(ipv4_at(input, at + 8, false)?))
            } else {
                None
            };
            let echo = |at: usize| (!error && has(at + 2)).then(|| w16(at));
            Transport::Icmp {
                typ,
                code,
                id: echo(4),
                seq: echo(6),
                inner,
                mtu: (typ == 3 && code == 4).then(|| w16(6)),
                gateway: (typ == 5).then(|| Ipv4Addr::new(h[4], h[5], h[6], h[7])),
                parameter: (typ == 12).then_some(h[4]),
            }
        }
        p => Transport::Other(p),
    })
}

/// Whether a datagram joined from fragments has a right transport
/// checksum: `sum` is the sum of its pieces' [`Packet::frag_sum`]s
/// (8-byte aligned, so they add up), `l4_len` its transport length.
/// TCP and UDP sum the pseudo header too; ICMP does not; other
/// protocols have none the kernel checks.
pub fn joined_checksum_ok(src: IpAddr, dst: IpAddr, proto: u8, l4_len: usize, sum: u32) -> bool {
    let (IpAddr::V4(s), IpAddr::V4(d)) = (src, dst) else {
        return true;
    };
    match proto {
        6 | 17 => fold(sum + pseudo(s, d, proto, l4_len), &[]) == 0,
        1 => fold(sum, &[]) == 0,
        _ => true,
    }
}

/// An Ethernet frame: destination, source, EtherType 0x0800, then the
/// packet.
pub fn to_ethernet(pkt: &Packet, dst: [u8; 6], src: [u8; 6]) -> Result<Vec<u8>, WireError> {
    to_ethernet_with(pkt, dst, src, Corrupt::default())
}

/// [`to_ethernet`] with checksums written wrong as `corrupt` says.
pub fn to_ethernet_with(
    pkt: &Packet,
    dst: [u8; 6],
    src: [u8; 6],
    corrupt: Corrupt,
) -> Result<Vec<u8>, WireError> {
    let mut f = Vec::with_capacity(14 + usize::from(pkt.len));
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&[0x08, 0x00]);
    f.extend_from_slice(&to_ipv4_with(pkt, corrupt)?);
    Ok(f)
}

/// Reads an Ethernet frame holding IPv4; the packet's `mac` is the 14
/// header bytes, as the kernel logs them in `MAC=`.
pub fn from_ethernet(frame: &[u8]) -> Result<Packet, WireError> {
    let hdr = frame
        .get(..14)
        .ok_or_else(|| short(0, "Ethernet", 14, frame.len()))?;
    if hdr[12..14] != [0x08, 0x00] {
        return Err(werr(
            12,
            format!("EtherType 0x{:02x}{:02x} is not IPv4", hdr[12], hdr[13]),
        ));
    }
    let mut pkt = ipv4_at(frame, 14, true)?;
    pkt.mac = Some(hdr.to_vec());
    Ok(pkt)
}

/// One record of a pcap file: the packet, or why it could not be read.
/// What a pcap file's first four bytes say: (little-endian, nanosecond
/// timestamps), or `None` when they are not a pcap magic number.
pub fn pcap_magic(head: &[u8]) -> Option<(bool, bool)> {
    match head {
        [0xd4, 0xc3, 0xb2, 0xa1, ..] => Some((true, false)),
        [0xa1, 0xb2, 0xc3, 0xd4, ..] => Some((false, false)),
        [0x4d, 0x3c, 0xb2, 0xa1, ..] => Some((true, true)),
        [0xa1, 0xb2, 0x3c, 0x4d, ..] => Some((false, true)),
        _ => None,
    }
}

pub type PcapRecord = Result<Packet, WireError>;

/// Reads a classic pcap file (either byte order, micro- or nanosecond
/// times) of Ethernet (link type 1) or raw IPv4 (101, 228) frames. A bad
/// file header or a record cut short ends the reading with an error; a
/// record that is not IPv4 is an error record and reading goes on. Each
/// packet's `time` is the record's time stamp. Offsets count from the
/// file's start.
pub fn read_pcap(data: &[u8]) -> Result<Vec<PcapRecord>, WireError> {
    let magic = data
        .get(..4)
        .ok_or_else(|| short(0, "pcap file", 24, data.len()))?;
    let (le, nanos) =
        pcap_magic(magic).ok_or_else(|| werr(0, "not a pcap file (bad magic number)"))?;
    let u32_at = |at: usize| -> Option<u32> {
        let w: [u8; 4] = data.get(at..at + 4)?.try_into().ok()?;
        Some(if le {
            u32::from_le_bytes(w)
        } else {
            u32::from_be_bytes(w)
        })
    };
    let link = u32_at(20).ok_or_else(|| short(0, "pcap file", 24, data.len()))? & 0x0FFF_FFFF;
    if !matches!(link, 1 | 101 | 228) {
        return Err(werr(
            20,
            format!("link type {link} is neither Ethernet nor raw IPv4"),
        ));
    }
    let mut out = Vec::new();
    let mut at = 24;
    while at < data.len() {
        let (Some(sec), Some(frac), Some(incl)) = (u32_at(at), u32_at(at + 4), u32_at(at + 8))
        else {
            return Err(short(at, "pcap record", 16, data.len() - at));
        };
        let start = at + 16;
        let end = start.saturating_add(incl as usize);
        if end > data.len() {
            return Err(werr(
                data.len(),
                format!("pcap record at {at} of {incl} bytes cut short"),
            ));
        }
        let body = &data[..end];
        let rec = if link == 1 {
            from_ethernet(&body[start..]).map_err(|e| werr(start + e.offset, e.what))
        } else {
            ipv4_at(body, start, true)
        };
        let time = f64::from(sec) + f64::from(frac) / if nanos { 1e9 } else { 1e6 };
        out.push(rec.map(|mut p| {
            p.time = Some(time);
            p
        }));
        at = end;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(s: &str) -> Packet {
        Packet::parse_line(s).unwrap()
    }

    /// Encodes and decodes; the decoded packet must equal the original
    /// (whose optional fields are all given).
    fn round_trip(s: &str) {
        let p = line(s);
        let b = to_ipv4(&p).unwrap();
        assert_eq!(b.len(), usize::from(p.len), "{s}");
        let ihl = usize::from(b[0] & 0x0F) * 4;
        assert_eq!(fold(0, &b[..ihl]), 0, "IP checksum of {s}");
        let mut q = from_ipv4(&b).unwrap();
        assert_eq!(q.frag_sum.is_some(), p.mf || p.frag != 0, "{s}");
        q.frag_sum = None;
        assert_eq!(q, p, "{s}");
    }

    #[test]
    fn tcp_round_trips() {
        round_trip("IN= OUT= SRC=10.137.0.16 DST=10.137.0.1 LEN=64 TOS=0x10 PREC=0xE0 TTL=63 ID=758 CE DF MF PROTO=TCP SPT=56296 DPT=8443 SEQ=1 ACK=4294967295 WINDOW=64240 RES=0x38 AE CWR ECE URG ACK PSH RST SYN FIN URGP=7 OPT (020405B40101080A00000001)");
        round_trip("IN= OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=44 TTL=1 ID=0 OPT (01010101) PROTO=TCP SPT=0 DPT=65535 SEQ=0 ACK=0 WINDOW=0 RES=0x00 SYN URGP=0");
    }

    #[test]
    fn udp_icmp_fragments_round_trip() {
        round_trip(
            "IN= OUT= SRC=10.99.0.5 DST=10.137.0.1 LEN=40 TTL=64 ID=9 PROTO=UDP SPT=5353 DPT=53 LEN=20",
        );
        round_trip("IN= OUT= SRC=10.99.0.5 DST=10.137.0.1 LEN=84 TTL=64 ID=1 DF PROTO=ICMP TYPE=8 CODE=0 ID=77 SEQ=3");
        round_trip(
            "IN= OUT= SRC=10.99.0.5 DST=10.137.0.1 LEN=100 TTL=64 ID=1 MF FRAG:185 PROTO=UDP",
        );
        round_trip("IN= OUT= SRC=10.99.0.5 DST=10.137.0.1 LEN=30 TTL=64 ID=1 PROTO=47");
    }

    #[test]
    fn icmp_error_quotes_its_packet() {
        let s = "IN= OUT= SRC=10.137.0.1 DST=10.137.0.16 LEN=68 TTL=64 ID=5 PROTO=ICMP TYPE=3 CODE=3 [SRC=10.137.0.16 DST=10.137.0.1 LEN=40 TOS=0x00 PREC=0x00 TTL=64 ID=1 PROTO=UDP SPT=4000 DPT=9 LEN=20 ] ";
        let p = line(s);
        let b = to_ipv4(&p).unwrap();
        let q = from_ipv4(&b).unwrap();
        assert_eq!(
            q.log_line(Default::default()),
            p.log_line(Default::default())
        );
        let Transport::Icmp { inner: Some(i), .. } = &q.transport else {
            panic!("no quoted packet: {q:?}")
        };
        assert_eq!(i.len, 40);
    }

    /// Found by tests/live_stateful.rs: conntrack (nf_conntrack_checksum)
    /// makes a wrong transport checksum INVALID, so reading raw bytes
    /// tells it; a checksum left to offload (the pseudo header's sum, as
    /// veth carries a local socket's segments) and UDP's zero are right.
    #[test]
    fn bad_checksum_is_read() {
        let corrupt = Corrupt {
            ip: false,
            transport: true,
        };
        for l in [
            "SRC=10.0.0.1 DST=10.0.0.2 LEN=41 PROTO=TCP SPT=1 DPT=2 SEQ=5 ACK=0 WINDOW=9 RES=0x00 ACK URGP=0",
            "SRC=10.0.0.1 DST=10.0.0.2 LEN=30 PROTO=UDP SPT=1 DPT=2 LEN=10",
            "SRC=10.0.0.1 DST=10.0.0.2 LEN=28 PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=1",
        ] {
            let p = line(l);
            assert!(!from_ipv4(&to_ipv4(&p).unwrap()).unwrap().bad_checksum, "{l}");
            let bad = to_ipv4_with(&p, corrupt).unwrap();
            assert!(from_ipv4(&bad).unwrap().bad_checksum, "{l}");
        }
        let p = line("SRC=10.0.0.1 DST=10.0.0.2 LEN=40 PROTO=TCP SPT=1 DPT=2 SEQ=5 ACK=0 WINDOW=9 RES=0x00 ACK URGP=0");
        let mut b = to_ipv4(&p).unwrap();
        let partial = !fold(
            pseudo([10, 0, 0, 1].into(), [10, 0, 0, 2].into(), 6, 20),
            &[],
        );
        b[36..38].copy_from_slice(&partial.to_be_bytes());
        assert!(!from_ipv4(&b).unwrap().bad_checksum);
        let mut u = to_ipv4(&line(
            "SRC=10.0.0.1 DST=10.0.0.2 LEN=28 PROTO=UDP SPT=1 DPT=2 LEN=8",
        ))
        .unwrap();
        u[26..28].copy_from_slice(&[0, 0]);
        assert!(!from_ipv4(&u).unwrap().bad_checksum);
    }

    #[test]
    fn checksums_right_and_wrong() {
        let p = line("IN= OUT= SRC=10.0.0.1 DST=10.0.0.2 LEN=41 TTL=64 PROTO=TCP SPT=1 DPT=2 SEQ=5 ACK=0 WINDOW=9 RES=0x00 ACK URGP=0");
        let good = to_ipv4(&p).unwrap();
        // TCP checksum over pseudo header and segment folds to zero.
        let seg = &good[20..];
        assert_eq!(
            fold(
                pseudo([10, 0, 0, 1].into(), [10, 0, 0, 2].into(), 6, seg.len()),
                seg
            ),
            0
        );
        let bad = to_ipv4_with(
            &p,
            Corrupt {
                ip: true,
                transport: true,
            },
        )
        .unwrap();
        assert_ne!(fold(0, &bad[..20]), 0);
        assert_ne!(good[36..38], bad[36..38]);
        // A real SYN captured from Linux: checksums as the kernel wrote them.
        let real = [
            0x45, 0x00, 0x00, 0x3c, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x06, 0xb1, 0xe6, 0xac, 0x10,
            0x0a, 0x63, 0xac, 0x10, 0x0a, 0x0c,
        ];
        assert_eq!(fold(0, &real), 0);
    }

    #[test]
    fn ethernet_and_pcap() {
        let p = line(
            "IN= OUT= SRC=10.0.0.1 DST=10.0.0.2 LEN=28 TTL=64 PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=1",
        );
        let f = to_ethernet(&p, [2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]).unwrap();
        let q = from_ethernet(&f).unwrap();
        assert_eq!(q.mac.as_deref(), Some(&f[..14]));
        let mut file = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
        file.extend_from_slice(&[0; 8]);
        file.extend_from_slice(&65535u32.to_le_bytes());
        file.extend_from_slice(&1u32.to_le_bytes());
        for rec in [&f[..], &f[..20]] {
            file.extend_from_slice(&7u32.to_le_bytes());
            file.extend_from_slice(&500_000u32.to_le_bytes());
            file.extend_from_slice(&(rec.len() as u32).to_le_bytes());
            file.extend_from_slice(&(rec.len() as u32).to_le_bytes());
            file.extend_from_slice(rec);
        }
        let recs = read_pcap(&file).unwrap();
        assert_eq!(recs.len(), 2);
        let first = recs[0].as_ref().unwrap();
        assert_eq!(first.time, Some(7.5));
        // The second record holds 20 bytes: the IP header is cut short at
        // the end of the record, 24 + 16 + 42 + 16 + 6 bytes into the file.
        assert_eq!(recs[1].as_ref().unwrap_err().offset, 24 + 16 + 42 + 16 + 20);
        // A record header cut short names where the file ends.
        let e = read_pcap(&file[..file.len() - 1]).unwrap_err();
        assert_eq!(e.offset, file.len() - 1);
        assert_eq!(read_pcap(b"nope").unwrap_err().offset, 0);
    }

    #[test]
    fn short_transport_headers_read_as_far_as_they_go() {
        for s in [
            "IN= OUT= SRC=10.0.0.1 DST=10.0.0.2 LEN=28 TTL=64 PROTO=TCP SPT=1 DPT=2 SEQ=3 WINDOW=0 RES=0x00 URGP=0",
            "IN= OUT= SRC=10.0.0.1 DST=10.0.0.2 LEN=24 TTL=64 PROTO=UDP SPT=1 DPT=2 LEN=0",
            "IN= OUT= SRC=10.0.0.1 DST=10.0.0.2 LEN=28 TTL=64 PROTO=ICMP TYPE=13 CODE=0 ID=1 SEQ=2",
        ] {
            let p = line(s);
            let b = to_ipv4(&p).unwrap();
            let q = from_ipv4(&b).unwrap();
            assert_eq!(q, p, "{s}");
            assert!(q.log_line(Default::default()).contains("INCOMPLETE ["), "{s}");
        }
    }

    #[test]
    fn errors_name_offsets() {
        assert_eq!(from_ipv4(&[]).unwrap_err().offset, 0);
        assert_eq!(from_ipv4(&[0x60; 40]).unwrap_err().offset, 0);
        let p = line("IN= OUT= SRC=10.0.0.1 DST=10.0.0.2 LEN=40 PROTO=TCP SPT=1 DPT=2");
        let b = to_ipv4(&p).unwrap();
        assert_eq!(from_ipv4(&b[..30]).unwrap_err().offset, 30);
    }

    /// Whole packets (every header fits in the total length, options a
    /// multiple of four bytes, no fragments): what `to_ipv4` writes,
    /// `from_ipv4` reads back unchanged.
    fn whole_packets() -> impl proptest::strategy::Strategy<Value = Packet> {
        use proptest::prelude::*;
        let opts = |max: usize| {
            proptest::collection::vec(any::<u8>(), 0..=max / 4).prop_map(|w| {
                let mut v = Vec::new();
                for b in w {
                    v.extend_from_slice(&[b, b, b, b]);
                }
                v
            })
        };
        let tcp = (
            any::<(u16, u16, u32, u32, u16)>(),
            0u8..8,
            any::<u16>(),
            any::<u16>(),
            opts(40),
        )
            .prop_map(
                |((spt, dpt, seq, ack, window), res, flags, urgp, options)| Transport::Tcp {
                    spt,
                    dpt,
                    seq: Some(seq),
                    ack: Some(ack),
                    window,
                    res: res << 3,
                    flags: flags & 0x1FF,
                    urgp,
                    options,
                },
            );
        let udp = (any::<(u16, u16, u16)>(), any::<bool>()).prop_map(|((spt, dpt, len), lite)| {
            Transport::Udp {
                spt,
                dpt,
                len,
                lite,
            }
        });
        let echo = (prop_oneof![Just(0u8), Just(8)], any::<(u8, u16, u16)>()).prop_map(
            |(typ, (code, id, seq))| Transport::Icmp {
                typ,
                code,
                id: Some(id),
                seq: Some(seq),
                inner: None,
                mtu: None,
                gateway: None,
                parameter: None,
            },
        );
        let other = prop_oneof![Just(47u8), Just(50), Just(132)].prop_map(Transport::Other);
        (
            any::<([u8; 4], [u8; 4], u8, u8, u8, u16, bool, bool)>(),
            opts(40),
            prop_oneof![tcp, udp, echo, other],
            0u16..200,
        )
            .prop_map(
                |((s, d, tos, prec, ttl, id, ce, df), ip_options, transport, extra)| {
                    let mut p = Packet {
                        src: IpAddr::V4(s.into()),
                        dst: IpAddr::V4(d.into()),
                        tos: tos & 0x1E,
                        prec: prec & 0xE0,
                        ttl,
                        id,
                        ce,
                        df,
                        ip_options,
                        transport,
                        ..Packet::default()
                    };
                    p.len = u16::try_from(to_ipv4(&p).map_or(0, |b| b.len())).unwrap_or(0) + extra;
                    p
                },
            )
    }

    proptest::proptest! {
        #[test]
        fn whole_packets_round_trip(p in whole_packets()) {
            let b = to_ipv4(&p).unwrap();
            proptest::prop_assert!(header_checksum_ok(&b));
            let q = from_ipv4(&b).unwrap();
            proptest::prop_assert_eq!(&q, &p);
            let flags = crate::packet::LogFlags { tcp_seq: true, tcp_opt: true, ip_opt: true, uid: false };
            proptest::prop_assert_eq!(q.log_line(flags), p.log_line(flags));
        }

        #[test]
        fn parsing_bytes_never_panics(b in proptest::collection::vec(proptest::num::u8::ANY, 0..120)) {
            let _ = from_ipv4(&b);
            let _ = from_ethernet(&b);
            let _ = read_pcap(&b);
        }

        #[test]
        fn parsing_ipv4_like_bytes_never_panics(
            ihl in 0u8..16, proto in proptest::sample::select(vec![1u8, 6, 17, 136, 47]),
            tail in proptest::collection::vec(proptest::num::u8::ANY, 0..100),
        ) {
            let mut b = vec![0x40 | ihl, 0, 0, 100, 0, 0, 0, 0, 64, proto, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8];
            b.extend_from_slice(&tail);
            let _ = from_ipv4(&b);
        }
    }
}
