//! `-m srh` (`libip6t_srh.c`, revision 1, IPv6 only): the segment routing
//! header's fields compared with values, and its previous, next and last
//! segment ids against prefixes.

use super::conntrack::parse_hostmask;
use super::{util, Call, Def, Ext, Opt, Role, RuleCtx};
use crate::addr::{ntop, AddrMask, Family};
use crate::rule::IpSpec;
use crate::Result;
use std::net::{IpAddr, Ipv6Addr};

/// The numeric options in id order (`O_SRH_*`, flag bit = id): name, the
/// field they set (eq/gt/lt of one field share it) and its maximum.
const NUMS: [(&str, usize, u64); 11] = [
    ("srh-next-hdr", 0, 255),
    ("srh-hdr-len-eq", 1, 255),
    ("srh-hdr-len-gt", 1, 255),
    ("srh-hdr-len-lt", 1, 255),
    ("srh-segs-left-eq", 2, 255),
    ("srh-segs-left-gt", 2, 255),
    ("srh-segs-left-lt", 2, 255),
    ("srh-last-entry-eq", 3, 255),
    ("srh-last-entry-gt", 3, 255),
    ("srh-last-entry-lt", 3, 255),
    ("srh-tag", 4, 65535),
];

/// The segment id options, ids 11 to 13.
const SIDS: [&str; 3] = ["srh-psid", "srh-nsid", "srh-lsid"];

/// The state of `-m srh` (`struct ip6t_srh1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Srh {
    /// `IP6T_SRH_*`: bit `id` set for each option given.
    pub flags: u16,
    /// `IP6T_SRH_INV_*`.
    pub invflags: u16,
    /// next-hdr, hdr-len, segs-left, last-entry, tag.
    pub fields: [u16; 5],
    /// psid, nsid, lsid: the address as given and the prefix length.
    pub sids: [(Ipv6Addr, u32); 3],
}

/// `-m srh`.
pub const DEF: Def = Def {
    name: "srh",
    role: Role::Match,
    family: Some(Family::V6),
    opts: &[
        Opt::req(NUMS[0].0, 0).inv(),
        Opt::req(NUMS[1].0, 1).inv(),
        Opt::req(NUMS[2].0, 2).inv(),
        Opt::req(NUMS[3].0, 3).inv(),
        Opt::req(NUMS[4].0, 4).inv(),
        Opt::req(NUMS[5].0, 5).inv(),
        Opt::req(NUMS[6].0, 6).inv(),
        Opt::req(NUMS[7].0, 7).inv(),
        Opt::req(NUMS[8].0, 8).inv(),
        Opt::req(NUMS[9].0, 9).inv(),
        Opt::req(NUMS[10].0, 10).inv(),
        Opt::req(SIDS[0], 11).inv(),
        Opt::req(SIDS[1], 12).inv(),
        Opt::req(SIDS[2], 13).inv(),
    ],
    new: |_| {
        Box::new(Srh {
            flags: 0,
            invflags: 0,
            fields: [0; 5],
            sids: [(Ipv6Addr::UNSPECIFIED, 0); 3],
        })
    },
};

impl Srh {
    fn inv(&self, id: usize) -> bool {
        self.invflags & (1 << id) != 0
    }
    fn given(&self, id: usize) -> bool {
        self.flags & (1 << id) != 0
    }
    fn sid_text(&self, i: usize) -> String {
        let (a, len) = self.sids[i];
        format!("{}/{len}", ntop(IpAddr::V6(a)))
    }
}

impl Ext for Srh {
    fn parse(&mut self, c: &Call, _ctx: &RuleCtx) -> Result<()> {
        let id = usize::from(c.id);
        match NUMS.get(id) {
            Some(&(_, field, max)) => {
                self.fields[field] = util::uint("srh", c.name, c.arg(), 0, max)? as u16;
            }
            None => {
                let (addr, mask) = parse_hostmask("srh", Family::V6, c.name, c.arg())?;
                let len = AddrMask::new(addr, mask).prefix_len().unwrap_or(128);
                if let (IpAddr::V6(a), Some(slot)) = (addr, self.sids.get_mut(id - NUMS.len())) {
                    *slot = (a, len);
                }
            }
        }
        self.flags |= 1 << id;
        if c.invert {
            self.invflags |= 1 << id;
        }
        Ok(())
    }
    fn print(&self, out: &mut String, _ip: &IpSpec, _numeric: bool) {
        out.push_str(" srh");
        for (id, (name, field, _)) in NUMS.iter().enumerate().filter(|(id, _)| self.given(*id)) {
            let inv = if self.inv(id) { "!" } else { "" };
            let label = name.trim_start_matches("srh-");
            out.push_str(&format!(" {label}:{inv}{}", self.fields[*field]));
        }
        for (i, name) in SIDS.iter().enumerate() {
            let id = NUMS.len() + i;
            if self.given(id) {
                let inv = if self.inv(id) { "!" } else { "" };
                let label = name.trim_start_matches("srh-");
                out.push_str(&format!(" {label} {inv} {}", self.sid_text(i)));
            }
        }
    }
    fn save(&self, out: &mut String, _ip: &IpSpec) {
        for (id, (name, field, _)) in NUMS.iter().enumerate().filter(|(id, _)| self.given(*id)) {
            util::inv_save(out, self.inv(id));
            out.push_str(&format!(" --{name} {}", self.fields[*field]));
        }
        for (i, name) in SIDS.iter().enumerate() {
            let id = NUMS.len() + i;
            if self.given(id) {
                util::inv_save(out, self.inv(id));
                out.push_str(&format!(" --{name} {}", self.sid_text(i)));
            }
        }
    }
}
