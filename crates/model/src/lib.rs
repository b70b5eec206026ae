//! # ironwall-model
//!
//! The exact model of iptables rulesets, for IPv4 and IPv6: what the
//! `iptables` command line accepts and how it fails, what `-L`, `-S` and
//! `iptables-save` print (byte for byte), and what `iptables-restore` reads.
//! The reference is iptables-nft; listings follow upstream 1.8.11+.
//!
//! Map of the crate:
//! * [`parse`]: the command line → [`parse::Parsed`] (getopt, `!`,
//!   implicit protocol matches, the checks of `do_parse`);
//! * [`ext`]: one module per match or target, owning parse/print/save;
//! * [`rule`], [`ruleset`]: the data model;
//! * [`command`]: a parsed command applied to a ruleset;
//! * [`kernel`]: what the kernel refuses when a rule is committed;
//! * [`list`], [`save`]: `-L`, `-S`, `iptables-save`;
//! * [`restore`]: the `iptables-restore` input;
//! * [`addr`], [`names`], [`num`]: addresses, system name files, C-style
//!   numbers.
//!
//! ```
//! use ironwall_model::{addr::Family, ruleset::Ruleset, run_iptables};
//! let mut rs = Ruleset::new(Family::V4);
//! let args: Vec<String> = ["-A", "INPUT", "-p", "tcp", "--dport", "22", "-j", "ACCEPT"]
//!     .iter().map(|s| s.to_string()).collect();
//! run_iptables(&mut rs, &args, &[]).unwrap();
//! let out = run_iptables(&mut rs, &["-S".to_string()], &[]).unwrap();
//! assert!(out.stdout.contains("-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT"));
//! ```

pub mod addr;
pub mod command;
mod error;
pub mod ext;
pub mod kernel;
pub mod list;
pub mod names;
pub mod num;
pub mod parse;
pub mod restore;
pub mod rule;
pub mod ruleset;
pub mod save;

pub use error::{Error, Kind, Result};

/// The iptables version whose behaviour is modelled, as printed in
/// messages and headers.
pub const IPTABLES_VERSION: &str = "1.8.11";

/// Parses and applies one iptables command line to `rs`, all or nothing:
/// on error `rs` is left as it was.
pub fn run_iptables(
    rs: &mut ruleset::Ruleset,
    args: &[String],
    sets: &[ext::set::IpSet],
) -> Result<command::Outcome> {
    let env = parse::ParseEnv {
        family: rs.family,
        restore: false,
        table: "filter",
        sets,
    };
    let parsed = parse::parse(args, env)?;
    let mut work = rs.clone();
    let out = command::apply(&mut work, &parsed)?;
    if out.changed {
        *rs = work;
    }
    Ok(out)
}
