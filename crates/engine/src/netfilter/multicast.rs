//! The loopback copy of a multicast this host sends (`ip_mc_output`): a
//! packet to a group the host joined on the interface it leaves by
//! (224.0.0.1 on every one, `--join` groups) is cloned; the copy goes
//! through POSTROUTING first (so its POSTROUTING counts twice; the copy
//! confirms the connection), then, once the original left, comes back in
//! on that interface (`dev_loopback_xmit`: no link-layer header, `MAC=`
//! empty) with the original's connection, through PREROUTING and INPUT.
//! A multicast to a group not joined there uses `ip_output`: no copy.

use super::{Engine, Outcome};
use crate::conntrack::Handle;
use crate::eval::Ctx;
use crate::packet::Packet;
use std::borrow::Cow;
use std::net::IpAddr;

impl Engine<'_> {
    /// The copy of `p` that loops back, once it passed POSTROUTING; `None`
    /// when `p` does not loop back or the copy was dropped there.
    pub(super) fn loop_copy(
        &mut self,
        h: Handle,
        p: &Packet,
        cx: &mut Ctx,
        out: &mut Outcome,
    ) -> Option<(Handle, Packet)> {
        let IpAddr::V4(dst) = p.dst else {
            return None;
        };
        if !dst.is_multicast() || self.host.route_input(p.dst, &p.iface_out) != Some(true) {
            return None;
        }
        let mut copy = Cow::Owned(p.clone());
        let h = self.postrouting(h, &mut copy, cx, out)?;
        Some((h, copy.into_owned()))
    }

    /// The looped copy comes back in on the interface it left by.
    pub(super) fn loop_in(&mut self, (h, mut copy): (Handle, Packet), cx: &Ctx, out: &mut Outcome) {
        copy.iface_in = std::mem::take(&mut copy.iface_out);
        copy.mac = Some(Vec::new());
        let view = self.ct.view(h, cx.ct.state, cx.ct.reply_dir);
        self.arriving(&mut Cow::Owned(copy), out, Some((h, view)));
    }
}
