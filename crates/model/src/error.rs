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
    /// Exit code 1, worded by iptables itself: `iptables v1.8.11
    /// (ironwall): MSG` without the help hint.
    Problem,
    /// Exit code 3: an unknown table (`VERSION_PROBLEM`).
    Version,
    /// Exit code 2, the message printed bare (no program prefix), then
    /// the help hint: "Bad argument `x'", or only the hint when empty.
    Usage,
}

impl Kind {
    /// The process exit code iptables uses for this kind of failure.
    pub fn exit_code(self) -> i32 {
        match self {
            Kind::Other | Kind::Problem => 1,
            Kind::Parameter | Kind::Usage => 2,
            Kind::Version => 3,
            Kind::Kernel => 4,
        }
    }
}

/// An error from parsing or applying an iptables command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// What went wrong, without the program prefix.
    pub kind: Kind,
    /// The message, as iptables words it.
    pub msg: String,
    /// Warnings printed to stderr before the message.
    pub before: String,
    /// What the command printed to stdout before failing (`-v` lines).
    pub stdout: String,
    /// An other problem whose errno was `EINVAL`: the standalone command
    /// adds "Run `dmesg' for more information."; iptables-restore does not.
    pub einval: bool,
}

/// Result alias for the model.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An error of `kind`.
    pub fn new(kind: Kind, msg: impl Into<String>) -> Self {
        Error {
            kind,
            msg: msg.into(),
            before: String::new(),
            stdout: String::new(),
            einval: false,
        }
    }
    /// An other problem (exit 1) from an `EINVAL` failure.
    pub fn einval(msg: impl Into<String>) -> Self {
        Error {
            einval: true,
            ..Error::new(Kind::Other, msg)
        }
    }
    /// A parameter problem (exit 2).
    pub fn param(msg: impl Into<String>) -> Self {
        Error::new(Kind::Parameter, msg)
    }
    /// An other problem (exit 1).
    pub fn other(msg: impl Into<String>) -> Self {
        Error::new(Kind::Other, msg)
    }
    /// A refusal at commit (exit 4).
    pub fn kernel(msg: impl Into<String>) -> Self {
        Error::new(Kind::Kernel, msg)
    }
    /// The process exit code iptables uses for this error.
    pub fn exit_code(&self) -> i32 {
        self.kind.exit_code()
    }
    /// The text iptables writes to stderr for this error, for program `prog`
    /// (`iptables`, `ip6tables`).
    pub fn render(&self, prog: &str) -> String {
        let prefix = format!("{prog} v{} (ironwall): ", crate::IPTABLES_VERSION);
        let hint = format!("Try `{prog} -h' or '{prog} --help' for more information.\n");
        let msg = &self.msg;
        let text = match self.kind {
            Kind::Parameter => format!("{prefix}{msg}\n{hint}"),
            Kind::Usage if msg.is_empty() => hint,
            Kind::Usage => format!("{msg}\n{hint}"),
            Kind::Problem => format!("{prefix}{msg}\n"),
            Kind::Kernel => format!("{prefix} {msg}\n"),
            Kind::Version => {
                format!("{prefix}{msg}\nPerhaps iptables or your kernel needs to be upgraded.\n")
            }
            Kind::Other if self.einval => {
                format!("{prog}: {msg} Run `dmesg' for more information.\n")
            }
            Kind::Other => format!("{prog}: {msg}\n"),
        };
        format!("{}{text}", self.before)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.msg.trim_end_matches('\n'))
    }
}

impl std::error::Error for Error {}
