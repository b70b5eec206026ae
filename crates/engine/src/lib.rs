//! # ironwall-engine
//!
//! The packet engine (issue: walk packets through the chains as the kernel
//! does). This first part is the wire side: [`packet`] reads packets
//! written in the kernel's LOG syntax and writes the LOG line the kernel
//! would. Traversal, conntrack, counters and NAT build on it.

pub mod conntrack;
pub mod eval;
pub mod host;
pub mod netfilter;
pub mod packet;
pub mod tcp_window;
pub mod walk;

pub use packet::{LogFlags, Packet, Transport};
