//! Errors, with the exit codes and message shapes of iptables.
//!
//! iptables has three kinds of failure, and prints each differently:
//! * a *parameter problem* (exit 2): `iptables v1.8.11 (ironwall): MSG` then
//!   ``Try `iptables -h' or 'iptables --help' for more information.``
//! * an *other problem* (exit 1): `iptables: MSG.` as the kernel side reports
//!   it ("Chain already exists.", "Index of deletion too big.");
//! * a *refusal by the kernel* at commit (exit 4, iptables-nft): for example a
//!   target used in a table or hook it is not valid in.

use std::fmt;

/// The kind of failure, which fixes the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Exit code 1.
    Other,
    /// Exit code 2: bad command line.
    Parameter,
    /// Exit code 4: the kernel refused the change (iptables-nft).
    Kernel,
}

/// An error from parsing or applying an iptables command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// What went wrong, without the program prefix.
    pub kind: Kind,
    /// The message, as iptables words it.
    pub msg: String,
}

/// Result alias for the model.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A parameter problem (exit 2).
    pub fn param(msg: impl Into<String>) -> Self {
        Error {
            kind: Kind::Parameter,
            msg: msg.into(),
        }
    }
    /// An other problem (exit 1).
    pub fn other(msg: impl Into<String>) -> Self {
        Error {
            kind: Kind::Other,
            msg: msg.into(),
        }
    }
    /// A refusal at commit (exit 4).
    pub fn kernel(msg: impl Into<String>) -> Self {
        Error {
            kind: Kind::Kernel,
            msg: msg.into(),
        }
    }
    /// The process exit code iptables uses for this error.
    pub fn exit_code(&self) -> i32 {
        match self.kind {
            Kind::Other => 1,
            Kind::Parameter => 2,
            Kind::Kernel => 4,
        }
    }
    /// The text iptables writes to stderr for this error, for program `prog`
    /// (`iptables`, `ip6tables`).
    pub fn render(&self, prog: &str) -> String {
        match self.kind {
            Kind::Parameter => format!(
                "{prog} v{ver} (ironwall): {msg}\nTry `{prog} -h' or '{prog} --help' for more information.\n",
                ver = crate::IPTABLES_VERSION,
                msg = self.msg.trim_end_matches('\n')
            ),
            Kind::Kernel => format!(
                "{prog} v{ver} (ironwall):  {msg}\n",
                ver = crate::IPTABLES_VERSION,
                msg = self.msg
            ),
            Kind::Other => format!("{prog}: {}\n", self.msg),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.msg.trim_end_matches('\n'))
    }
}

impl std::error::Error for Error {}

/// Shorthand: `Err(Error::param(format!(...)))`.
#[macro_export]
macro_rules! bail_param {
    ($($t:tt)*) => { return Err($crate::Error::param(format!($($t)*))) };
}
