//! Packets as the kernel's LOG target writes them, one packet a line.
//!
//! # Contract
//! * [`Packet::parse_line`] reads a line of a firewall log (optionally
//!   behind a syslog header, a kernel timestamp `[ 8486.974964]` and a log
//!   prefix; see [`crate::header`] for the headers and the time they give)
//!   into a validated [`Packet`]. It never panics; a malformed field
//!   is an [`Error`] naming the column and the token. Omitted fields take
//!   the defaults documented on [`Packet`].
//! * [`Packet::log_line`] writes the text the kernel's `nf_log_syslog`
//!   writes for the packet (after the prefix), field for field, with the
//!   trailing space the kernel leaves.
//!
//! Direction follows the log's `IN=`/`OUT=`: `IN` set means arriving, only
//! `OUT` set means sent by this host, both set means forwarded.

use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr};

/// A parse error: the 1-based column where the bad token starts, the
/// token, and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: `{token}`: expected {expected}")]
pub struct Error {
    /// 1-based byte column.
    pub column: usize,
    /// The offending token.
    pub token: String,
    /// What would have been accepted.
    pub expected: &'static str,
}

/// TCP flag bits as in the header's 13th byte, plus AE (bit 8 of the
/// 16-bit flag word, logged first).
pub mod tcp_flags {
    /// FIN.
    pub const FIN: u16 = 0x01;
    /// SYN.
    pub const SYN: u16 = 0x02;
    /// RST.
    pub const RST: u16 = 0x04;
    /// PSH.
    pub const PSH: u16 = 0x08;
    /// ACK.
    pub const ACK: u16 = 0x10;
    /// URG.
    pub const URG: u16 = 0x20;
    /// ECE.
    pub const ECE: u16 = 0x40;
    /// CWR.
    pub const CWR: u16 = 0x80;
    /// AE (accurate ECN).
    pub const AE: u16 = 0x100;
    /// Names in the order the kernel logs them.
    pub const LOG_ORDER: [(&str, u16); 9] = [
        ("AE", AE),
        ("CWR", CWR),
        ("ECE", ECE),
        ("URG", URG),
        ("ACK", ACK),
        ("PSH", PSH),
        ("RST", RST),
        ("SYN", SYN),
        ("FIN", FIN),
    ];
}

/// The transport part of a packet.
#[derive(Debug, Clone, PartialEq)]
pub enum Transport {
    /// TCP. `seq`/`ack` are `None` when the log did not show them; such a
    /// segment counts as in window.
    Tcp {
        /// Source port.
        spt: u16,
        /// Destination port.
        dpt: u16,
        /// Sequence number, if known.
        seq: Option<u32>,
        /// Acknowledgement number, if known.
        ack: Option<u32>,
        /// Window.
        window: u16,
        /// Reserved bits (`RES=0x..`).
        res: u8,
        /// Flag bits ([`tcp_flags`]).
        flags: u16,
        /// Urgent pointer.
        urgp: u16,
        /// Option bytes.
        options: Vec<u8>,
    },
    /// UDP (or UDP-Lite when `lite`).
    Udp {
        /// Source port.
        spt: u16,
        /// Destination port.
        dpt: u16,
        /// UDP length.
        len: u16,
        /// UDP-Lite.
        lite: bool,
    },
    /// ICMP.
    Icmp {
        /// Type.
        typ: u8,
        /// Code.
        code: u8,
        /// Echo identifier.
        id: Option<u16>,
        /// Echo sequence.
        seq: Option<u16>,
        /// The quoted packet of an error message.
        inner: Option<Box<Packet>>,
        /// `MTU=` of fragmentation-needed.
        mtu: Option<u16>,
        /// `GATEWAY=` of a redirect.
        gateway: Option<Ipv4Addr>,
        /// `PARAMETER=` of a parameter problem.
        parameter: Option<u8>,
    },
    /// Any other protocol, by number (a fragment of TCP/UDP/ICMP beyond
    /// the first also has no transport header).
    Other(u8),
}

impl Transport {
    /// The IP protocol number.
    pub fn proto(&self) -> u8 {
        match self {
            Transport::Tcp { .. } => 6,
            Transport::Udp { lite: false, .. } => 17,
            Transport::Udp { lite: true, .. } => 136,
            Transport::Icmp { .. } => 1,
            Transport::Other(p) => *p,
        }
    }
}

/// A packet, with what the kernel logs of it.
///
/// Defaults for omitted fields: no interfaces, no MAC, `SRC`/`DST`
/// 0.0.0.0, `LEN` the size implied by the headers, `TOS`/`PREC` 0, `TTL`
/// 64, `ID` 0, no fragment flags, `PROTO` 0 (a bare IP packet), TCP window
/// 0, `RES` 0, no flags, `URGP` 0, no time.
#[derive(Debug, PartialEq)]
pub struct Packet {
    /// Seconds, from a kernel timestamp or a syslog time, if present.
    pub time: Option<f64>,
    /// The log prefix before `IN=` (may be empty).
    pub prefix: String,
    /// The input interface (`IN=`), empty for none.
    pub iface_in: String,
    /// The output interface (`OUT=`), empty for none.
    pub iface_out: String,
    /// The link-layer header bytes (`MAC=`), if any.
    pub mac: Option<Vec<u8>>,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IP total length.
    pub len: u16,
    /// TOS bits (`TOS=`, the low part).
    pub tos: u8,
    /// Precedence bits (`PREC=`).
    pub prec: u8,
    /// TTL.
    pub ttl: u8,
    /// IP identification.
    pub id: u16,
    /// Congestion experienced flag.
    pub ce: bool,
    /// Don't fragment.
    pub df: bool,
    /// More fragments.
    pub mf: bool,
    /// Fragment offset in 8-byte units.
    pub frag: u16,
    /// IP option bytes.
    pub ip_options: Vec<u8>,
    /// The transport part.
    pub transport: Transport,
    /// `UID=`/`GID=` of the local socket, if logged.
    pub uid_gid: Option<(u32, u32)>,
    /// The packet mark.
    pub mark: u32,
    /// Whether its TCP, UDP or ICMP checksum is wrong: known only from
    /// raw bytes ([`crate::wire`]); a log line never shows it.
    pub bad_checksum: bool,
    /// A fragment's payload sum: the ones' complement sum (folded, not
    /// inverted) of its bytes after the IP header, known only from raw
    /// bytes ([`crate::wire`]) and only when it can check the datagram's
    /// transport checksum after reassembly (not for a first UDP fragment
    /// whose checksum is zero, meaning none).
    pub frag_sum: Option<u16>,
}

impl Clone for Packet {
    fn clone(&self) -> Self {
        let mut p = Packet::default();
        p.clone_from(self);
        p
    }

    /// Field by field, keeping the room the strings and byte vectors
    /// already have (replay copies a packet per packet).
    fn clone_from(&mut self, source: &Self) {
        let Packet {
            time,
            prefix,
            iface_in,
            iface_out,
            mac,
            src,
            dst,
            len,
            tos,
            prec,
            ttl,
            id,
            ce,
            df,
            mf,
            frag,
            ip_options,
            transport,
            uid_gid,
            mark,
            bad_checksum,
            frag_sum,
        } = source;
        self.time = *time;
        self.prefix.clone_from(prefix);
        self.iface_in.clone_from(iface_in);
        self.iface_out.clone_from(iface_out);
        self.mac.clone_from(mac);
        self.src = *src;
        self.dst = *dst;
        self.len = *len;
        self.tos = *tos;
        self.prec = *prec;
        self.ttl = *ttl;
        self.id = *id;
        self.ce = *ce;
        self.df = *df;
        self.mf = *mf;
        self.frag = *frag;
        self.ip_options.clone_from(ip_options);
        self.transport.clone_from(transport);
        self.uid_gid = *uid_gid;
        self.mark = *mark;
        self.bad_checksum = *bad_checksum;
        self.frag_sum = *frag_sum;
    }
}

impl Default for Packet {
    fn default() -> Self {
        Packet {
            time: None,
            prefix: String::new(),
            iface_in: String::new(),
            iface_out: String::new(),
            mac: None,
            src: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            dst: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            len: 20,
            tos: 0,
            prec: 0,
            ttl: 64,
            id: 0,
            ce: false,
            df: false,
            mf: false,
            frag: 0,
            ip_options: Vec::new(),
            transport: Transport::Other(0),
            uid_gid: None,
            mark: 0,
            bad_checksum: false,
            frag_sum: None,
        }
    }
}

/// Which packet options the LOG rule asked for (`--log-tcp-sequence`...).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogFlags {
    /// `--log-tcp-sequence`.
    pub tcp_seq: bool,
    /// `--log-tcp-options`.
    pub tcp_opt: bool,
    /// `--log-ip-options`.
    pub ip_opt: bool,
    /// `--log-uid`.
    pub uid: bool,
}

struct Tokens<'a> {
    line: &'a str,
    pos: usize,
}

impl<'a> Tokens<'a> {
    /// The next blank-separated token and its 1-based column.
    fn next(&mut self) -> Option<(usize, &'a str)> {
        let rest = &self.line[self.pos..];
        let skip = rest.len() - rest.trim_start().len();
        let start = self.pos + skip;
        if start >= self.line.len() {
            self.pos = self.line.len();
            return None;
        }
        let tail = &self.line[start..];
        let end = tail.find(char::is_whitespace).unwrap_or(tail.len());
        self.pos = start + end;
        Some((start + 1, &tail[..end]))
    }
}

fn err(column: usize, token: &str, expected: &'static str) -> Error {
    Error {
        column,
        token: token.to_string(),
        expected,
    }
}

fn num<T: std::str::FromStr>(
    col: usize,
    tok: &str,
    v: &str,
    what: &'static str,
) -> Result<T, Error> {
    v.parse().map_err(|_| err(col, tok, what))
}

fn hex_u8(col: usize, tok: &str, v: &str) -> Result<u8, Error> {
    let h = v
        .strip_prefix("0x")
        .or_else(|| v.strip_prefix("0X"))
        .unwrap_or(v);
    u8::from_str_radix(h, 16).map_err(|_| err(col, tok, "a hex byte like 0x00"))
}

fn hex_bytes(col: usize, tok: &str, v: &str, sep: bool) -> Result<Vec<u8>, Error> {
    let digits: String = if sep {
        v.split(':').collect()
    } else {
        v.to_string()
    };
    if !digits.len().is_multiple_of(2) || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(err(col, tok, "hex bytes"));
    }
    (0..digits.len() / 2)
        .map(|i| {
            u8::from_str_radix(&digits[2 * i..2 * i + 2], 16)
                .map_err(|_| err(col, tok, "hex bytes"))
        })
        .collect()
}

impl Packet {
    /// Parses one log line. See the module documentation.
    pub fn parse_line(line: &str) -> Result<Packet, Error> {
        let (time, body) = crate::header::strip(line);
        let offset = line.len() - body.len();
        let (prefix, fields) = match body.find("IN=") {
            Some(0) => ("", body),
            Some(p) if body[..p].ends_with(' ') || body[..p].is_empty() => (&body[..p], &body[p..]),
            Some(p) => (&body[..p], &body[p..]),
            None => ("", body),
        };
        let mut pkt = Packet {
            time,
            prefix: prefix.to_string(),
            ..Packet::default()
        };
        let mut toks = Tokens {
            line: fields,
            pos: 0,
        };
        let base = offset + prefix.len();
        let mut proto: Option<(usize, String)> = None;
        let mut tcp = TcpFields::default();
        let mut udp_len: Option<u16> = None;
        let mut icmp = IcmpFields::default();
        let mut len_seen = false;
        let mut incomplete: Option<u16> = None;
        while let Some((c0, tok)) = toks.next() {
            let col = base + c0;
            let (key, val) = match tok.split_once('=') {
                Some(kv) => kv,
                None => (tok, ""),
            };
            match key {
                "IN" => pkt.iface_in = val.to_string(),
                "OUT" => pkt.iface_out = val.to_string(),
                "MAC" => pkt.mac = Some(hex_bytes(col, tok, val, true)?),
                "SRC" => pkt.src = val.parse().map_err(|_| err(col, tok, "an IP address"))?,
                "DST" => pkt.dst = val.parse().map_err(|_| err(col, tok, "an IP address"))?,
                "LEN"
                    if proto
                        .as_ref()
                        .is_some_and(|(_, p)| p == "UDP" || p == "UDPLITE") =>
                {
                    udp_len = Some(num(col, tok, val, "a length 0-65535")?)
                }
                "LEN" => {
                    pkt.len = num(col, tok, val, "a length 0-65535")?;
                    len_seen = true;
                }
                "TOS" => pkt.tos = hex_u8(col, tok, val)?,
                "PREC" => pkt.prec = hex_u8(col, tok, val)?,
                "TTL" => pkt.ttl = num(col, tok, val, "a TTL 0-255")?,
                "ID" if proto.is_some() => {
                    icmp.id = Some(num(col, tok, val, "an echo id 0-65535")?)
                }
                "ID" => pkt.id = num(col, tok, val, "an IP id 0-65535")?,
                "CE" => pkt.ce = true,
                "DF" => pkt.df = true,
                "MF" => pkt.mf = true,
                _ if key.starts_with("FRAG:") => {
                    pkt.frag = num(col, tok, &key[5..], "a fragment offset")?
                }
                "PROTO" => proto = Some((col, val.to_string())),
                "SPT" => tcp.spt = num(col, tok, val, "a port 0-65535")?,
                "DPT" => tcp.dpt = num(col, tok, val, "a port 0-65535")?,
                "SEQ" if matches!(&proto, Some((_, p)) if p == "ICMP") => {
                    icmp.seq = Some(num(col, tok, val, "an echo sequence 0-65535")?)
                }
                "SEQ" => tcp.seq = Some(num(col, tok, val, "a sequence number")?),
                "ACK" if !val.is_empty() => tcp.ack = Some(num(col, tok, val, "an ack number")?),
                "WINDOW" => tcp.window = num(col, tok, val, "a window 0-65535")?,
                "RES" => tcp.res = hex_u8(col, tok, val)?,
                "URGP" => tcp.urgp = num(col, tok, val, "an urgent pointer 0-65535")?,
                "TYPE" => icmp.typ = num(col, tok, val, "an ICMP type 0-255")?,
                "CODE" => icmp.code = num(col, tok, val, "an ICMP code 0-255")?,
                "MTU" => icmp.mtu = Some(num(col, tok, val, "an MTU 0-65535")?),
                "GATEWAY" => {
                    icmp.gateway = Some(val.parse().map_err(|_| err(col, tok, "an IPv4 address"))?)
                }
                "INCOMPLETE" => {
                    // "INCOMPLETE [N bytes]": the transport header did not
                    // fit; N bytes of it were there.
                    let (c1, t1) = toks.next().ok_or_else(|| err(col, tok, "[N bytes]"))?;
                    let n = t1
                        .strip_prefix('[')
                        .and_then(|t| t.parse::<u16>().ok())
                        .ok_or_else(|| err(base + c1, t1, "[N"))?;
                    match toks.next() {
                        Some((_, "bytes]")) => incomplete = Some(n),
                        Some((c2, t2)) => return Err(err(base + c2, t2, "bytes]")),
                        None => return Err(err(base + c1, t1, "[N bytes]")),
                    }
                }
                "PARAMETER" => icmp.parameter = Some(num(col, tok, val, "a parameter 0-255")?),
                "UID" => {
                    let uid = num(col, tok, val, "a uid")?;
                    pkt.uid_gid = Some((uid, pkt.uid_gid.map_or(0, |g| g.1)));
                }
                "GID" => {
                    let gid = num(col, tok, val, "a gid")?;
                    pkt.uid_gid = Some((pkt.uid_gid.map_or(0, |g| g.0), gid));
                }
                "MARK" => {
                    let h = val.strip_prefix("0x").unwrap_or(val);
                    pkt.mark =
                        u32::from_str_radix(h, 16).map_err(|_| err(col, tok, "a hex mark"))?;
                }
                "OPT" => {
                    // "OPT (HEX)": IP options before PROTO, TCP options after.
                    let (c1, t1) = toks.next().ok_or_else(|| err(col, tok, "OPT (hex)"))?;
                    let hex = t1
                        .strip_prefix('(')
                        .and_then(|t| t.strip_suffix(')'))
                        .ok_or_else(|| err(base + c1, t1, "(hex bytes)"))?;
                    let bytes = hex_bytes(base + c1, t1, hex, false)?;
                    if proto.is_some() {
                        tcp.options = bytes;
                    } else {
                        pkt.ip_options = bytes;
                    }
                }
                "AE" | "CWR" | "ECE" | "URG" | "PSH" | "RST" | "SYN" | "FIN" => {
                    if let Some((_, f)) = tcp_flags::LOG_ORDER.iter().find(|(n, _)| *n == key) {
                        tcp.flags |= f;
                    }
                }
                "ACK" => tcp.flags |= tcp_flags::ACK,
                _ if tok.starts_with('[') || tok.starts_with(']') => {
                    // A quoted packet of an ICMP error: kept by the caller
                    // through `parse_inner`; here it ends the fields.
                    let inner_start = fields[..toks.pos].rfind('[').unwrap_or(0) + 1;
                    let inner_end = fields.rfind(']').unwrap_or(fields.len());
                    if inner_end > inner_start {
                        let inner_text = format!("IN= OUT= {}", &fields[inner_start..inner_end]);
                        if let Ok(inner) = Packet::parse_line(&inner_text) {
                            icmp.inner = Some(Box::new(inner));
                        }
                    }
                    toks.pos = inner_end.saturating_add(1).min(fields.len());
                }
                _ => return Err(err(col, tok, "a LOG field (IN=, SRC=, PROTO=, ...)")),
            }
        }
        pkt.transport = match proto {
            None => Transport::Other(0),
            Some((col, p)) => match p.as_str() {
                "TCP" if pkt.frag == 0 => Transport::Tcp {
                    spt: tcp.spt,
                    dpt: tcp.dpt,
                    seq: tcp.seq,
                    ack: tcp.ack,
                    window: tcp.window,
                    res: tcp.res,
                    flags: tcp.flags,
                    urgp: tcp.urgp,
                    options: tcp.options,
                },
                "UDP" | "UDPLITE" if pkt.frag == 0 => Transport::Udp {
                    spt: tcp.spt,
                    dpt: tcp.dpt,
                    len: udp_len.unwrap_or(8),
                    lite: p == "UDPLITE",
                },
                "ICMP" if pkt.frag == 0 => Transport::Icmp {
                    typ: icmp.typ,
                    code: icmp.code,
                    id: icmp.id,
                    seq: icmp.seq,
                    inner: icmp.inner,
                    mtu: icmp.mtu,
                    gateway: icmp.gateway,
                    parameter: icmp.parameter,
                },
                "TCP" => Transport::Other(6),
                "UDP" => Transport::Other(17),
                "UDPLITE" => Transport::Other(136),
                "ICMP" => Transport::Other(1),
                "AH" => Transport::Other(51),
                "ESP" => Transport::Other(50),
                n => Transport::Other(num(
                    col,
                    &format!("PROTO={n}"),
                    n,
                    "TCP, UDP, ICMP or a protocol number",
                )?),
            },
        };
        if !len_seen {
            pkt.len = match incomplete {
                Some(n) => (20 + pkt.ip_options.len() as u16).saturating_add(n),
                None => pkt.implied_len(),
            };
        }
        Ok(pkt)
    }

    /// The bytes after the IP header, by the total length: what the kernel
    /// can read of the transport header and payload.
    pub fn transport_len(&self) -> usize {
        usize::from(self.len).saturating_sub(20 + self.ip_options.len())
    }

    /// The IP total length implied by the headers when `LEN=` is absent.
    fn implied_len(&self) -> u16 {
        let ip = 20 + self.ip_options.len() as u16;
        ip + match &self.transport {
            Transport::Tcp { options, .. } => 20 + options.len() as u16,
            Transport::Udp { len, .. } => *len,
            Transport::Icmp { .. } => 8,
            Transport::Other(_) => 0,
        }
    }

    /// The text the kernel logs for this packet after the prefix: `IN=`
    /// to the end, with the trailing space.
    pub fn log_line(&self, flags: LogFlags) -> String {
        let mut m = String::new();
        self.write_log_line(&mut m, flags);
        m
    }

    /// [`Packet::log_line`], appended to `m` (no allocation of its own).
    pub fn write_log_line(&self, m: &mut String, flags: LogFlags) {
        m.push_str("IN=");
        m.push_str(&self.iface_in);
        m.push_str(" OUT=");
        m.push_str(&self.iface_out);
        m.push(' ');
        if let Some(mac) = &self.mac {
            if !self.iface_in.is_empty() {
                m.push_str("MAC=");
                for (i, b) in mac.iter().enumerate() {
                    if i > 0 {
                        m.push(':');
                    }
                    push_hex2(m, *b, false);
                }
                m.push(' ');
            }
        }
        self.dump_ipv4(m, flags, false, usize::from(self.len));
    }

    /// Writes the IP part. `avail` is how many bytes of the packet the
    /// kernel holds from this IP header on (the total length for the
    /// packet itself, what is left of the outer packet for a quoted one):
    /// a transport header that does not fit is logged as `INCOMPLETE [N
    /// bytes]`, as `nf_log_syslog` does.
    fn dump_ipv4(&self, m: &mut String, flags: LogFlags, inner: bool, avail: usize) {
        let l4 = avail.saturating_sub(20 + self.ip_options.len());
        // The common fields, written without the formatting machinery
        // (replay writes many LOG lines).
        m.push_str("SRC=");
        push_addr(m, self.src);
        m.push_str(" DST=");
        push_addr(m, self.dst);
        m.push_str(" LEN=");
        push_num(m, self.len.into());
        m.push_str(" TOS=0x");
        push_hex2(m, self.tos, true);
        m.push_str(" PREC=0x");
        push_hex2(m, self.prec, true);
        m.push_str(" TTL=");
        push_num(m, self.ttl.into());
        m.push_str(" ID=");
        push_num(m, self.id.into());
        m.push(' ');
        if self.ce {
            m.push_str("CE ");
        }
        if self.df {
            m.push_str("DF ");
        }
        if self.mf {
            m.push_str("MF ");
        }
        if self.frag != 0 {
            let _ = write!(m, "FRAG:{} ", self.frag);
        }
        if flags.ip_opt && !self.ip_options.is_empty() {
            m.push_str("OPT (");
            for b in &self.ip_options {
                push_hex2(m, *b, true);
            }
            m.push_str(") ");
        }
        match &self.transport {
            Transport::Tcp {
                spt,
                dpt,
                seq,
                ack,
                window,
                res,
                flags: f,
                urgp,
                options,
            } if l4 >= 20 => {
                m.push_str("PROTO=TCP SPT=");
                push_num(m, (*spt).into());
                m.push_str(" DPT=");
                push_num(m, (*dpt).into());
                m.push(' ');
                if flags.tcp_seq {
                    m.push_str("SEQ=");
                    push_num(m, seq.unwrap_or(0).into());
                    m.push_str(" ACK=");
                    push_num(m, ack.unwrap_or(0).into());
                    m.push(' ');
                }
                m.push_str("WINDOW=");
                push_num(m, (*window).into());
                m.push_str(" RES=0x");
                push_hex2(m, *res, false);
                m.push(' ');
                for (name, bit) in tcp_flags::LOG_ORDER {
                    if f & bit != 0 {
                        m.push_str(name);
                        m.push(' ');
                    }
                }
                m.push_str("URGP=");
                push_num(m, (*urgp).into());
                m.push(' ');
                if flags.tcp_opt && !options.is_empty() {
                    m.push_str("OPT (");
                    for b in options {
                        push_hex2(m, *b, true);
                    }
                    m.push_str(") ");
                }
            }
            Transport::Udp {
                spt,
                dpt,
                len,
                lite,
            } if l4 >= 8 => {
                m.push_str(if *lite {
                    "PROTO=UDPLITE SPT="
                } else {
                    "PROTO=UDP SPT="
                });
                push_num(m, (*spt).into());
                m.push_str(" DPT=");
                push_num(m, (*dpt).into());
                m.push_str(" LEN=");
                push_num(m, (*len).into());
                m.push(' ');
            }
            Transport::Icmp {
                typ,
                code,
                id,
                seq,
                inner: quoted,
                mtu,
                gateway,
                parameter,
            } if l4 >= 8 => {
                let _ = write!(m, "PROTO=ICMP TYPE={typ} CODE={code} ");
                if l4 < icmp_required_len(*typ) {
                    let _ = write!(m, "INCOMPLETE [{l4} bytes] ");
                    return self.dump_tail(m, flags, inner);
                }
                match typ {
                    0 | 8 => {
                        let _ = write!(m, "ID={} SEQ={} ", id.unwrap_or(0), seq.unwrap_or(0));
                    }
                    12 => {
                        let _ = write!(m, "PARAMETER={} ", parameter.unwrap_or(0));
                    }
                    3 | 4 | 5 | 11 => {
                        if *typ == 5 {
                            let _ =
                                write!(m, "GATEWAY={} ", gateway.unwrap_or(Ipv4Addr::UNSPECIFIED));
                        }
                        if let (false, Some(q)) = (inner, quoted) {
                            m.push('[');
                            q.dump_ipv4(m, flags, true, l4 - 8);
                            m.push_str("] ");
                        }
                        if *typ == 3 && *code == 4 {
                            let _ = write!(m, "MTU={} ", mtu.unwrap_or(0));
                        }
                    }
                    _ => {}
                }
            }
            t @ (Transport::Tcp { .. } | Transport::Udp { .. } | Transport::Icmp { .. }) => {
                let name = match t {
                    Transport::Tcp { .. } => "TCP",
                    Transport::Udp { lite: true, .. } => "UDPLITE",
                    Transport::Udp { .. } => "UDP",
                    _ => "ICMP",
                };
                let _ = write!(m, "PROTO={name} INCOMPLETE [{l4} bytes] ");
            }
            Transport::Other(p) => match p {
                6 => m.push_str("PROTO=TCP "),
                17 => m.push_str("PROTO=UDP "),
                136 => m.push_str("PROTO=UDPLITE "),
                1 => m.push_str("PROTO=ICMP "),
                50 => m.push_str("PROTO=ESP "),
                51 => {}
                _ => {
                    let _ = write!(m, "PROTO={p} ");
                }
            },
        }
        self.dump_tail(m, flags, inner);
    }

    /// The fields after the transport part: UID/GID and MARK, for the
    /// packet itself (not a quoted one).
    fn dump_tail(&self, m: &mut String, flags: LogFlags, inner: bool) {
        if !inner {
            if let (true, Some((u, g))) = (flags.uid, self.uid_gid) {
                let _ = write!(m, "UID={u} GID={g} ");
            }
            if self.mark != 0 {
                let _ = write!(m, "MARK=0x{:x} ", self.mark);
            }
        }
    }
}

/// The bytes an ICMP message of type `typ` needs before the kernel logs
/// its fields (`required_len` of `nf_log_syslog`); 8 (the header) for the
/// types it does not list.
fn icmp_required_len(typ: u8) -> usize {
    match typ {
        0 | 8 => 4,
        3 | 4 | 5 | 11 | 12 => 8 + 20,
        13 | 14 => 20,
        17 | 18 => 12,
        _ => 0,
    }
}

#[derive(Default)]
struct TcpFields {
    spt: u16,
    dpt: u16,
    seq: Option<u32>,
    ack: Option<u32>,
    window: u16,
    res: u8,
    flags: u16,
    urgp: u16,
    options: Vec<u8>,
}

#[derive(Default)]
struct IcmpFields {
    typ: u8,
    code: u8,
    id: Option<u16>,
    seq: Option<u16>,
    inner: Option<Box<Packet>>,
    mtu: Option<u16>,
    gateway: Option<Ipv4Addr>,
    parameter: Option<u8>,
}

/// Appends `v` in decimal.
fn push_num(m: &mut String, mut v: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for d in &digits[i..] {
        m.push(char::from(*d));
    }
}

/// Appends `b` as two hex digits.
fn push_hex2(m: &mut String, b: u8, upper: bool) {
    let set: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    m.push(char::from(set[usize::from(b >> 4)]));
    m.push(char::from(set[usize::from(b & 15)]));
}

/// Appends an address as `Display` writes it.
fn push_addr(m: &mut String, a: IpAddr) {
    match a {
        IpAddr::V4(v) => {
            for (i, o) in v.octets().iter().enumerate() {
                if i > 0 {
                    m.push('.');
                }
                push_num(m, (*o).into());
            }
        }
        IpAddr::V6(_) => {
            let _ = write!(m, "{a}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The LOG writers without the formatting machinery write what
        /// `format!` writes.
        #[test]
        fn plain_writers_agree_with_format(v in proptest::num::u64::ANY, b in proptest::num::u8::ANY, a in proptest::num::u32::ANY) {
            let mut m = String::new();
            push_num(&mut m, v);
            m.push(' ');
            push_hex2(&mut m, b, true);
            push_hex2(&mut m, b, false);
            m.push(' ');
            push_addr(&mut m, IpAddr::V4(a.into()));
            let ip = Ipv4Addr::from(a);
            proptest::prop_assert_eq!(m, format!("{v} {b:02X}{b:02x} {ip}"));
        }
    }

    #[test]
    fn guide_line_round_trips() {
        let line = "Jun 30 06:06:13 mineos-tkldev kernel: [ 8486.974964] tcp.in.dropped IN=eth0 OUT= MAC=00:16:3e:5e:6c:00:fe:ff:ff:ff:ff:ff:08:00 SRC=10.137.0.14 DST=10.137.0.16 LEN=52 TOS=0x00 PREC=0x00 TTL=63 ID=758 DF PROTO=TCP SPT=56296 DPT=8443 WINDOW=64240 RES=0x00 SYN URGP=0";
        let p = Packet::parse_line(line).unwrap();
        assert_eq!(p.prefix, "tcp.in.dropped ");
        assert_eq!(p.time, Some(8486.974964));
        assert_eq!(p.len, 52);
        let body = &line[line.find("IN=").unwrap()..];
        assert_eq!(p.log_line(LogFlags::default()), format!("{body} "));
    }

    #[test]
    fn udp_line_round_trips() {
        let line = "udp.in.dropped IN=eno1 OUT= MAC=ff:ff:ff:ff:ff:ff:b0:6e:bf:bf:1d:c4:08:00 SRC=192.168.50.223 DST=192.168.50.255 LEN=229 TOS=0x00 PREC=0x00 TTL=128 ID=26400 PROTO=UDP SPT=138 DPT=138 LEN=209";
        let p = Packet::parse_line(line).unwrap();
        assert!(matches!(p.transport, Transport::Udp { len: 209, .. }));
        let body = &line[line.find("IN=").unwrap()..];
        assert_eq!(p.log_line(LogFlags::default()), format!("{body} "));
    }

    /// Lines the kernel wrote for packets whose transport header was cut
    /// short (seen live by the differential test): they parse, and are
    /// written back the same.
    #[test]
    fn incomplete_headers_round_trip() {
        for line in [
            "iw1n0:drop IN=srv-s OUT= MAC=02:69:77:00:01:02:02:69:77:00:00:05:08:00 SRC=10.99.0.5 DST=10.99.0.1 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=14 PROTO=ICMP TYPE=13 CODE=0 INCOMPLETE [8 bytes] ",
            "IN=eth0 OUT= SRC=10.99.0.5 DST=10.99.0.1 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=14 PROTO=TCP INCOMPLETE [8 bytes] ",
        ] {
            let p = Packet::parse_line(line).unwrap();
            assert_eq!(p.len, 28);
            let body = &line[line.find("IN=").unwrap()..];
            assert_eq!(p.log_line(LogFlags::default()), body);
        }
        let p = Packet::parse_line("IN= OUT= PROTO=UDP INCOMPLETE [3 bytes]").unwrap();
        assert_eq!(p.len, 23);
        let e = Packet::parse_line("IN= OUT= PROTO=UDP INCOMPLETE [3 words]").unwrap_err();
        assert_eq!(e.token, "words]");
    }

    #[test]
    fn bad_field_names_its_column() {
        let e = Packet::parse_line("IN=eth0 OUT= SRC=10.0.0.300 DST=1.2.3.4").unwrap_err();
        assert_eq!(e.column, 14);
        assert_eq!(e.token, "SRC=10.0.0.300");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in ".{0,200}") {
            let _ = Packet::parse_line(&s);
        }
    }
}
