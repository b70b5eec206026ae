//! # ironwall-engine
//!
//! The packet engine (issue: walk packets through the chains as the kernel
//! does). [`packet`] reads packets written in the kernel's LOG syntax and
//! writes the LOG line the kernel would; [`eval`] and [`walk`] run one
//! table; [`conntrack`] (with [`tcp_window`]) classifies packets into
//! connections; [`host`] is the machine the rules run on and its answers;
//! [`netfilter::Engine`] runs a packet through every hook and table, with
//! counters, LOG lines and NAT. See the README for the contract.

pub mod conntrack;
pub mod eval;
pub mod host;
pub mod netfilter;
pub mod packet;
pub mod pcap;
pub mod tcp_window;
pub mod walk;

pub use packet::{LogFlags, Packet, Transport};
