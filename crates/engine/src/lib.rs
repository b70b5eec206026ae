//! # ironwall-engine
//!
//! The packet engine (issue: walk packets through the chains as the kernel
//! does). [`packet`] reads packets written in the kernel's LOG syntax and
//! writes the LOG line the kernel would; [`wire`] turns packets into raw
//! bytes and back (pcap too); [`eval`] and [`walk`] run one table;
//! [`conntrack`] (with [`tcp_window`]) classifies packets into connections;
//! [`host`] is the machine the rules run on and its answers; [`defrag`]
//! joins fragments as conntrack does before the first hook; [`header`]
//! reads the syslog or dmesg header of a log line and its time;
//! [`ipset`] holds the host's sets; [`nat_range`] picks an address of a
//! NAT range as the kernel does; [`netfilter::Engine`] runs a packet
//! through every hook and table, with counters, LOG lines, NAT and the
//! host's timers. The live tests under `tests/` compare all of it with
//! the kernel (the README's "Agreement with the kernel"); see the README
//! for the contract.
//!
//! # Example
//!
//! The guide's question, "which rule drops this?", for a stranger's SSH
//! attempt on a default-deny host, then the counters `iptables-save -c`
//! would show:
//!
//! ```
//! use ironwall_engine::{host::Host, netfilter::Engine, walk::Verdict, Packet};
//! use ironwall_model::{addr::Family, restore, ruleset::Ruleset, save};
//!
//! let mut rules = Ruleset::new(Family::V4);
//! let text = "*filter\n:INPUT DROP [0:0]\n\
//!     -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n\
//!     -A INPUT -s 10.137.0.16/32 -p tcp -m tcp --dport 22 -j ACCEPT\n\
//!     -A INPUT -j LOG --log-prefix \"tcp.in.dropped \"\n\
//!     COMMIT\n";
//! restore::restore(&mut rules, text, &Default::default(), &[]).unwrap();
//!
//! let mut host = Host::default();
//! host.option("--iface", "eth0=10.137.0.1/24").unwrap();
//! host.option("--listen", "tcp/22").unwrap();
//! let mut engine = Engine::new(&rules, host).unwrap();
//!
//! let syn = "IN=eth0 OUT= SRC=10.137.0.99 DST=10.137.0.1 LEN=60 TTL=64 ID=1 DF \
//!            PROTO=TCP SPT=40000 DPT=22 WINDOW=64240 SYN URGP=0";
//! let out = engine.process(&Packet::parse_line(syn).unwrap());
//! assert_eq!(out.verdict, Verdict::Drop);
//! assert_eq!(out.walks[0].arrows(), "INPUT -> DROP (policy)");
//! assert!(out.logs[0].starts_with("tcp.in.dropped IN=eth0 OUT= SRC=10.137.0.99 "));
//!
//! // The trusted client gets in, and the host answers with a SYN-ACK.
//! let ok = engine.process(&Packet::parse_line(&syn.replace(".99", ".16")).unwrap());
//! assert_eq!(ok.verdict, Verdict::Accept);
//! assert!(ok.reply.is_some());
//!
//! // The engine borrows the rules it runs; the counters go to a copy.
//! let mut counted = rules.clone();
//! engine.add_counters_to(&mut counted);
//! let saved = save::save(&counted, None, true, "iptables-save", "now");
//! assert!(saved.contains(":INPUT DROP [1:60]"));
//! assert!(saved.contains("[1:60] -A INPUT -j LOG --log-prefix \"tcp.in.dropped \""));
//! ```

pub mod conntrack;
pub mod defrag;
pub mod eval;
mod fasthash;
pub mod header;
pub mod host;
pub mod ipset;
pub mod nat_range;
pub mod netfilter;
pub mod packet;
pub mod tcp_window;
pub mod walk;
pub mod wire;

pub use packet::{LogFlags, Packet, Transport};
