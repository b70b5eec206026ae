//! # ironwall-engine
//!
//! The packet engine (issue: walk packets through the chains as the kernel
//! does). [`packet`] reads packets written in the kernel's LOG syntax and
//! writes the LOG line the kernel would; [`wire`] turns packets into raw
//! bytes and back (pcap too); [`eval`] and [`walk`] run one table;
//! [`conntrack`] (with [`tcp_window`]) classifies packets into connections;
//! [`host`] is the machine the rules run on and its answers; [`defrag`]
//! joins fragments as conntrack does before the first hook;
//! [`netfilter::Engine`] runs a packet through every hook and table, with
//! counters, LOG lines and NAT. `tests/live_kernel.rs` checks the engine
//! against the kernel. See the README for the contract.

pub mod conntrack;
pub mod defrag;
pub mod eval;
mod fasthash;
pub mod host;
pub mod ipset;
pub mod nat_range;
pub mod netfilter;
pub mod packet;
pub mod tcp_window;
pub mod walk;
pub mod wire;

pub use packet::{LogFlags, Packet, Transport};
