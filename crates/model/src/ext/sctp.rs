//! `-m sctp` (`libxt_sctp.c`): SCTP ports and chunk types. The kernel
//! takes it only with `-p sctp`.

use super::tcp::{parse_proto_ports, print_ports, Ports};
use super::{Call, Def, Errno, Ext, KernelCtx, Opt, Role, RuleCtx};
use crate::rule::IpSpec;
use crate::{Error, Result};

const O_SPORT: u8 = 0;
const O_DPORT: u8 = 1;
const O_CHUNKS: u8 = 2;

/// Chunk names, their types and the letters of their flags (bit 7 first),
/// in the order of the C table (whose index is what flags are kept under).
const CHUNKS: [(&str, u8, &str); 22] = [
    ("DATA", 0, "----IUBE"),
    ("INIT", 1, "--------"),
    ("INIT_ACK", 2, "--------"),
    ("SACK", 3, "--------"),
    ("HEARTBEAT", 4, "--------"),
    ("HEARTBEAT_ACK", 5, "--------"),
    ("ABORT", 6, "-------T"),
    ("SHUTDOWN", 7, "--------"),
    ("SHUTDOWN_ACK", 8, "--------"),
    ("ERROR", 9, "--------"),
    ("COOKIE_ECHO", 10, "--------"),
    ("COOKIE_ACK", 11, "--------"),
    ("ECN_ECNE", 12, "--------"),
    ("ECN_CWR", 13, "--------"),
    ("SHUTDOWN_COMPLETE", 14, "-------T"),
    ("I_DATA", 64, "----IUBE"),
    ("RE_CONFIG", 130, "--------"),
    ("PAD", 132, "--------"),
    ("ASCONF", 193, "--------"),
    ("ASCONF_ACK", 128, "--------"),
    ("FORWARD_TSN", 192, "--------"),
    ("I_FORWARD_TSN", 194, "--------"),
];

/// The chunk match kinds, as printed.
const KINDS: [&str; 3] = ["any", "all", "only"];

/// Flags of one chunk (`struct xt_sctp_flag_info`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkFlags {
    /// The key: an index into the chunk table (iptables keeps that, not
    /// the type, so only chunks whose index is their type print flags).
    pub chunk: u8,
    /// Required flag values.
    pub flag: u8,
    /// Flags tested.
    pub mask: u8,
}

/// `--chunk-types KIND LIST`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunks {
    /// Index into `any`, `all`, `only`.
    pub kind: usize,
    /// One bit per chunk type.
    pub map: [u32; 8],
    /// Flag tests.
    pub flags: Vec<ChunkFlags>,
    /// `! --chunk-types`.
    pub invert: bool,
}

/// The state of `-m sctp` (`struct xt_sctp_info`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sctp {
    /// `--sport` and its `!`.
    pub spts: Option<(Ports, bool)>,
    /// `--dport` and its `!`.
    pub dpts: Option<(Ports, bool)>,
    /// `--chunk-types`.
    pub chunks: Option<Chunks>,
}

/// `-m sctp`.
pub const DEF: Def = Def {
    name: "sctp",
    role: Role::Match,
    family: None,
    opts: &[
        Opt::req("source-port", O_SPORT).raw(),
        Opt::req("sport", O_SPORT).raw(),
        Opt::req("destination-port", O_DPORT).raw(),
        Opt::req("dport", O_DPORT).raw(),
        Opt::req("chunk-types", O_CHUNKS).raw(),
    ],
    new: |_| Box::<Sctp>::default(),
};

fn parse_chunks(kind: &str, list: &str) -> Result<Chunks> {
    let kind = KINDS
        .iter()
        .position(|k| k.eq_ignore_ascii_case(kind))
        .ok_or_else(|| Error::param("Match type has to be one of \"ALL\", \"ANY\" or \"ONLY\""))?;
    let mut c = Chunks {
        kind,
        map: [0; 8],
        flags: Vec::new(),
        invert: false,
    };
    if list.eq_ignore_ascii_case("ALL") {
        c.map = [u32::MAX; 8];
        return Ok(c);
    }
    if list.eq_ignore_ascii_case("NONE") {
        return Ok(c);
    }
    for item in list.split(',').filter(|s| !s.is_empty()) {
        let (name, letters) = match item.split_once(':') {
            Some((n, l)) => (n, Some(l)),
            None => (item, None),
        };
        let index = CHUNKS
            .iter()
            .position(|(n, _, _)| n.eq_ignore_ascii_case(name))
            .ok_or_else(|| Error::param(format!("Unknown sctp chunk `{name}'")))?;
        let (_, ty, valid) = CHUNKS[index];
        c.map[usize::from(ty / 32)] |= 1 << (ty % 32);
        for ch in letters.unwrap_or("").chars() {
            let pos = valid
                .find(ch.to_ascii_uppercase())
                .ok_or_else(|| Error::param(format!("Invalid flags for chunk type {index}")))?;
            let bit = 1u8 << (7 - pos);
            let at = match c.flags.iter().position(|f| usize::from(f.chunk) == index) {
                Some(at) => at,
                None => {
                    c.flags.push(ChunkFlags {
                        chunk: index as u8,
                        flag: 0,
                        mask: 0,
                    });
                    c.flags.len() - 1
                }
            };
            c.flags[at].mask |= bit;
            if ch.is_ascii_uppercase() {
                c.flags[at].flag |= bit;
            }
        }
    }
    Ok(c)
}

/// `print_chunks`: the kind, then `NONE`, `ALL` or the chunk list.
fn chunks_text(out: &mut String, c: &Chunks, numeric: bool) {
    out.push(' ');
    out.push_str(KINDS.get(c.kind).copied().unwrap_or(""));
    if c.map == [0; 8] {
        out.push_str(" NONE");
        return;
    }
    if c.map == [u32::MAX; 8] {
        out.push_str(" ALL");
        return;
    }
    let mut first = true;
    for ty in 0..=255u8 {
        if c.map[usize::from(ty / 32)] & (1 << (ty % 32)) == 0 {
            continue;
        }
        out.push(if first { ' ' } else { ',' });
        first = false;
        if numeric {
            out.push_str(&format!("0x{ty:04X}"));
        } else if let Some((n, _, _)) = CHUNKS.iter().find(|(_, t, _)| *t == ty) {
            out.push_str(n);
        }
        for f in c.flags.iter().filter(|f| f.chunk == ty) {
            let Some((_, _, valid)) = CHUNKS.get(usize::from(ty)) else {
                continue;
            };
            if f.mask != 0 {
                out.push(':');
            }
            for bit in (0..8).rev().filter(|b| f.mask & (1 << b) != 0) {
                let letter = valid.as_bytes().get(7 - bit).copied().unwrap_or(b'-');
                out.push(if f.flag & (1 << bit) != 0 {
                    letter as char
                } else {
                    letter.to_ascii_lowercase() as char
                });
            }
        }
    }
}

fn save_ports(out: &mut String, opt: &str, p: Option<(Ports, bool)>) {
    if let Some(((lo, hi), inv)) = p {
        if inv {
            out.push_str(" !");
        }
        if lo != hi {
            out.push_str(&format!(" --{opt} {lo}:{hi}"));
        } else {
            out.push_str(&format!(" --{opt} {lo}"));
        }
    }
}

impl Ext for Sctp {
    fn parse(&mut self, c: &Call, _ctx: &RuleCtx) -> Result<()> {
        match c.id {
            O_SPORT | O_DPORT => {
                let (slot, what) = if c.id == O_SPORT {
                    (&mut self.spts, "source")
                } else {
                    (&mut self.dpts, "destination")
                };
                if slot.is_some() {
                    return Err(Error::param(format!("Only one `--{what}-port' allowed")));
                }
                *slot = Some((parse_proto_ports(c.arg(), "sctp")?, c.invert));
            }
            _ => {
                if self.chunks.is_some() {
                    return Err(Error::param("Only one `--chunk-types' allowed"));
                }
                let next = c
                    .rest
                    .first()
                    .filter(|w| !w.starts_with('-') && !w.starts_with('!'));
                let Some(list) = next else {
                    return Err(Error::param("--chunk-types requires two args"));
                };
                let mut chunks = parse_chunks(c.arg(), list)?;
                chunks.invert = c.invert;
                self.chunks = Some(chunks);
                c.consumed.set(1);
            }
        }
        Ok(())
    }
    fn kernel_check(&self, k: &KernelCtx) -> std::result::Result<(), Errno> {
        let ip = k.ip;
        // The kernel module is registered for protocol 132 only.
        Errno::unless(ip.proto == 132 && !ip.proto_inv)
    }
    fn print(&self, out: &mut String, _ip: &IpSpec, numeric: bool) {
        out.push_str(" sctp");
        if let Some((p, inv)) = self.spts {
            print_ports(out, "spt", p, inv, "sctp", numeric);
        }
        if let Some((p, inv)) = self.dpts {
            print_ports(out, "dpt", p, inv, "sctp", numeric);
        }
        if let Some(c) = &self.chunks {
            if c.invert {
                out.push_str(" !");
            }
            chunks_text(out, c, numeric);
        }
    }
    fn save(&self, out: &mut String, _ip: &IpSpec) {
        save_ports(out, "sport", self.spts);
        save_ports(out, "dport", self.dpts);
        if let Some(c) = &self.chunks {
            if c.invert {
                out.push_str(" !");
            }
            out.push_str(" --chunk-types");
            chunks_text(out, c, false);
        }
    }
}
