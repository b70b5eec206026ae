//! # ironwall-engine
//!
//! The packet engine (issue: walk packets through the chains as the kernel
//! does). [`packet`] reads packets written in the kernel's LOG syntax and
//! writes the LOG line the kernel would; [`wire`] turns packets into raw
//! bytes and back (pcap too); [`eval`] and [`walk`] take a packet through
//! a table with counters. `tests/live_kernel.rs` checks all of it against
//! the kernel. Conntrack, NAT and the host model build on it.

pub mod eval;
pub mod packet;
pub mod walk;
pub mod wire;

pub use packet::{LogFlags, Packet, Transport};
