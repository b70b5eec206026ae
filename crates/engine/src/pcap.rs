//! pcap files (Ethernet, IPv4) as packets.
//!
//! # Contract
//! * [`read`] splits a classic pcap file (microsecond or nanosecond
//!   magic, either byte order) into `(time, frame)` records; link types
//!   other than Ethernet (1) are an error. A truncated record ends the
//!   file. Never panics.
//! * [`frame_packet`] reads an Ethernet frame (an 802.1Q tag is skipped)
//!   holding IPv4 into a [`Packet`]: the 14-byte link header as `MAC=`,
//!   IP header fields and options, and TCP (ports, SEQ/ACK, window,
//!   reserved bits, flags, urgent pointer, options), UDP (ports, length) or
//!   ICMP (type, code, echo id/sequence, the quoted packet of an error,
//!   MTU, gateway, parameter). A header cut short leaves the transport as
//!   the bare protocol number. Interfaces are left empty: the caller says
//!   which way the frame went.

use crate::packet::{Packet, Transport};
use std::net::{IpAddr, Ipv4Addr};

/// A pcap error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Not a pcap file.
    #[error("not a pcap file (bad magic)")]
    Magic,
    /// A link type other than Ethernet.
    #[error("link type {0} is not Ethernet (1)")]
    LinkType(u32),
}

/// The records of a pcap file: time in seconds and frame bytes.
pub fn read(bytes: &[u8]) -> Result<Vec<(f64, &[u8])>, Error> {
    let magic = bytes.get(..4).ok_or(Error::Magic)?;
    let (le, nanos) = match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] => (true, false),
        [0xa1, 0xb2, 0xc3, 0xd4] => (false, false),
        [0x4d, 0x3c, 0xb2, 0xa1] => (true, true),
        [0xa1, 0xb2, 0x3c, 0x4d] => (false, true),
        _ => return Err(Error::Magic),
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
        Some(if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    };
    let link = u32_at(20).ok_or(Error::Magic)?;
    if link != 1 {
        return Err(Error::LinkType(link));
    }
    let mut out = Vec::new();
    let mut at = 24;
    while let (Some(sec), Some(frac), Some(len)) = (u32_at(at), u32_at(at + 4), u32_at(at + 8)) {
        let start = at + 16;
        let Some(frame) = bytes.get(start..start.saturating_add(len as usize)) else {
            break;
        };
        let scale = if nanos { 1e-9 } else { 1e-6 };
        out.push((f64::from(sec) + f64::from(frac) * scale, frame));
        at = start + frame.len();
    }
    Ok(out)
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// An Ethernet frame as a packet (see the module docs); `None` when it
/// does not hold IPv4.
pub fn frame_packet(frame: &[u8]) -> Option<Packet> {
    let mut off = 12;
    let mut ethertype = be16(frame, off)?;
    if ethertype == 0x8100 {
        off += 4;
        ethertype = be16(frame, off)?;
    }
    if ethertype != 0x0800 {
        return None;
    }
    let mut mac = frame.get(..12)?.to_vec();
    mac.extend([8, 0]);
    let mut p = ip_packet(frame.get(off + 2..)?, true)?;
    p.mac = Some(mac);
    Some(p)
}

/// An IPv4 packet; `outer` reads an ICMP error's quoted packet too.
fn ip_packet(ip: &[u8], outer: bool) -> Option<Packet> {
    let first = *ip.first()?;
    if first >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(first & 0x0F) * 4;
    let tos = *ip.get(1)?;
    let frag_word = be16(ip, 6)?;
    let addr = |at: usize| -> Option<IpAddr> {
        let b: [u8; 4] = ip.get(at..at + 4)?.try_into().ok()?;
        Some(IpAddr::V4(Ipv4Addr::from(b)))
    };
    let mut p = Packet {
        len: be16(ip, 2)?,
        tos: tos & 0x1E,
        prec: tos & 0xE0,
        ce: frag_word & 0x8000 != 0,
        df: frag_word & 0x4000 != 0,
        mf: frag_word & 0x2000 != 0,
        frag: frag_word & 0x1FFF,
        id: be16(ip, 4)?,
        ttl: *ip.get(8)?,
        src: addr(12)?,
        dst: addr(16)?,
        ip_options: ip.get(20..ihl).map(<[u8]>::to_vec).unwrap_or_default(),
        ..Packet::default()
    };
    let proto = *ip.get(9)?;
    let l4 = ip.get(ihl..).unwrap_or(&[]);
    p.transport = if p.frag != 0 {
        Transport::Other(proto)
    } else {
        transport(proto, l4, outer).unwrap_or(Transport::Other(proto))
    };
    Some(p)
}

fn transport(proto: u8, l4: &[u8], outer: bool) -> Option<Transport> {
    Some(match proto {
        6 => {
            let doff = usize::from(*l4.get(12)? >> 4) * 4;
            let flags16 = be16(l4, 12)?;
            Transport::Tcp {
                spt: be16(l4, 0)?,
                dpt: be16(l4, 2)?,
                seq: Some(be32(l4, 4)?),
                ack: Some(be32(l4, 8)?),
                window: be16(l4, 14)?,
                res: ((flags16 >> 8) & 0x0E) as u8,
                flags: flags16 & 0x1FF,
                urgp: be16(l4, 18)?,
                options: l4.get(20..doff).map(<[u8]>::to_vec).unwrap_or_default(),
            }
        }
        17 | 136 => Transport::Udp {
            spt: be16(l4, 0)?,
            dpt: be16(l4, 2)?,
            len: be16(l4, 4)?,
            lite: proto == 136,
        },
        1 => {
            let typ = *l4.first()?;
            let code = *l4.get(1)?;
            let echo = matches!(typ, 0 | 8);
            let error = matches!(typ, 3 | 4 | 5 | 11 | 12);
            Transport::Icmp {
                typ,
                code,
                id: if echo { be16(l4, 4) } else { None },
                seq: if echo { be16(l4, 6) } else { None },
                inner: if error && outer {
                    l4.get(8..).and_then(|q| ip_packet(q, false)).map(Box::new)
                } else {
                    None
                },
                mtu: if typ == 3 && code == 4 {
                    be16(l4, 6)
                } else {
                    None
                },
                gateway: if typ == 5 {
                    let b: [u8; 4] = l4.get(4..8)?.try_into().ok()?;
                    Some(Ipv4Addr::from(b))
                } else {
                    None
                },
                parameter: if typ == 12 { l4.get(4).copied() } else { None },
            }
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::LogFlags;

    /// A SYN as tcpdump writes it comes back as the guide's LOG line.
    #[test]
    fn syn_frame_reads_as_its_log_line() {
        let mut frame = vec![
            0x00, 0x16, 0x3e, 0x5e, 0x6c, 0x00, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0x08, 0x00,
        ];
        frame.extend([
            0x45, 0x00, 0x00, 0x34, 0x02, 0xf6, 0x40, 0x00, 0x3f, 0x06, 0, 0, 10, 137, 0, 14, 10,
            137, 0, 16,
        ]);
        frame.extend([
            0xdb, 0xe8, 0x20, 0xfb, 0, 0, 0, 1, 0, 0, 0, 0, 0x80, 0x02, 0xfa, 0xf0, 0, 0, 0, 0,
        ]);
        frame.extend([2, 4, 5, 0xb4, 1, 3, 3, 7, 1, 1, 4, 2]);
        let mut file = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
        file.extend([0; 8]);
        file.extend(65535u32.to_le_bytes());
        file.extend(1u32.to_le_bytes());
        file.extend(8486u32.to_le_bytes());
        file.extend(974964u32.to_le_bytes());
        file.extend((frame.len() as u32).to_le_bytes());
        file.extend((frame.len() as u32).to_le_bytes());
        file.extend(&frame);
        file.extend([1, 2, 3]);
        let recs = read(&file).unwrap();
        assert_eq!(recs.len(), 1);
        assert!((recs[0].0 - 8486.974964).abs() < 1e-9);
        let mut p = frame_packet(recs[0].1).unwrap();
        p.iface_in = "eth0".into();
        assert_eq!(
            p.log_line(LogFlags::default()),
            "IN=eth0 OUT= MAC=00:16:3e:5e:6c:00:fe:ff:ff:ff:ff:ff:08:00 SRC=10.137.0.14 DST=10.137.0.16 LEN=52 TOS=0x00 PREC=0x00 TTL=63 ID=758 DF PROTO=TCP SPT=56296 DPT=8443 WINDOW=64240 RES=0x00 SYN URGP=0 "
        );
        assert_eq!(read(b"nope").unwrap_err(), Error::Magic);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = frame_packet(&bytes);
            let mut file = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0];
            file.extend(&bytes);
            let _ = read(&file);
        }
    }
}
