//! Reading the kernel's LOG lines of a lab namespace from `/dev/kmsg`.
//!
//! The kernel logs `LOG` rules of a namespace other than the host's only
//! while the host-wide `net.netfilter.nf_log_all_netns` is 1. [`LogAllNetns`]
//! sets it and puts the old value back when the last guard of the process
//! drops (also on panic). Processes take turns: the first guard of a
//! process holds an exclusive lock on [`LOCK`] until its last guard drops,
//! so two test processes never both own the sysctl (one could otherwise
//! restore it under the other, or restore the other's 1 for good). Lines
//! are told apart by a log prefix unique to the test ([`unique_prefix`]),
//! so tests running side by side do not mix.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ALL_NETNS: &str = "/proc/sys/net/netfilter/nf_log_all_netns";

/// The host-wide lock file whose exclusive `flock` a process holds while
/// it owns the sysctl.
pub const LOCK: &str = "/run/ironwall-lab-nf_log_all_netns.lock";

/// The process's ownership of the sysctl: live guards, and while there are
/// any, the value to restore and the locked file.
static GUARDS: Mutex<(usize, Option<(String, File)>)> = Mutex::new((0, None));

/// While alive, `net.netfilter.nf_log_all_netns` is 1.
#[derive(Debug)]
pub struct LogAllNetns(());

impl LogAllNetns {
    /// Sets the sysctl to 1, remembering the old value (the first guard of
    /// the process only, after waiting for any other process to finish).
    pub fn enable() -> io::Result<LogAllNetns> {
        let mut g = GUARDS.lock().unwrap_or_else(|e| e.into_inner());
        if g.0 == 0 {
            let lock = File::options()
                .create(true)
                .truncate(false)
                .write(true)
                .open(LOCK)?;
            // SAFETY: flock on a descriptor this function owns; the lock
            // goes with the descriptor when the file is dropped.
            if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) } != 0 {
                return Err(io::Error::last_os_error());
            }
            let old = std::fs::read_to_string(ALL_NETNS)?;
            std::fs::write(ALL_NETNS, "1")?;
            g.1 = Some((old.trim().to_string(), lock));
        }
        g.0 += 1;
        Ok(LogAllNetns(()))
    }
}

impl Drop for LogAllNetns {
    fn drop(&mut self) {
        let mut g = GUARDS.lock().unwrap_or_else(|e| e.into_inner());
        g.0 = g.0.saturating_sub(1);
        if g.0 == 0 {
            if let Some((old, lock)) = g.1.take() {
                let _ = std::fs::write(ALL_NETNS, old);
                drop(lock);
            }
        }
    }
}

static PREFIXES: AtomicUsize = AtomicUsize::new(0);

/// A log prefix no other test of any process uses at the same time:
/// `iw` + process id + counter + `:` (at most 20 bytes, within LOG's 29).
pub fn unique_prefix() -> String {
    let n = PREFIXES.fetch_add(1, Ordering::SeqCst);
    format!("iw{}n{n}:", std::process::id())
}

/// A reader of kernel log records written after it was opened. It reads
/// on a thread of its own from the moment it is opened, so that a burst
/// of LOG lines cannot overrun the kernel's ring buffer before the test
/// gets to them.
#[derive(Debug)]
pub struct Kmsg {
    found: Arc<Mutex<Vec<String>>>,
    /// Records lost to an overrun ring buffer (`EPIPE`).
    lost: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Kmsg {
    /// Opens `/dev/kmsg` at its end and starts collecting the messages
    /// (without the record header, `\xNN` escapes undone) that start with
    /// `prefix`.
    pub fn open(prefix: &str) -> io::Result<Kmsg> {
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open("/dev/kmsg")?;
        file.seek(SeekFrom::End(0))?;
        let found = Arc::new(Mutex::new(Vec::new()));
        let lost = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (found, lost, stop, prefix) = (
                found.clone(),
                lost.clone(),
                stop.clone(),
                prefix.to_string(),
            );
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 8192];
                while !stop.load(Ordering::SeqCst) {
                    match file.read(&mut buf) {
                        Ok(n) if n > 0 => {
                            if let Some(msg) = record_message(&buf[..n]) {
                                if msg.starts_with(&prefix) {
                                    found.lock().unwrap_or_else(|e| e.into_inner()).push(msg);
                                }
                            }
                        }
                        Err(e) if e.raw_os_error() == Some(libc::EPIPE) => {
                            lost.fetch_add(1, Ordering::SeqCst);
                        }
                        _ => std::thread::sleep(Duration::from_millis(2)),
                    }
                }
            })
        };
        Ok(Kmsg {
            found,
            lost,
            stop,
            thread: Some(thread),
        })
    }

    /// How many times records were lost because the ring buffer overran.
    pub fn lost(&self) -> usize {
        self.lost.load(Ordering::SeqCst)
    }

    /// The lines collected, once `want` were found and no more came for
    /// `quiet`, or when `limit` passed.
    pub fn lines(&self, want: usize, quiet: Duration, limit: Duration) -> Vec<String> {
        let end = Instant::now() + limit;
        let (mut seen, mut last) = (usize::MAX, Instant::now());
        while Instant::now() < end {
            let n = self.found.lock().unwrap_or_else(|e| e.into_inner()).len();
            if n != seen {
                (seen, last) = (n, Instant::now());
            } else if n >= want && last.elapsed() >= quiet {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        self.found.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Drop for Kmsg {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The message of one `/dev/kmsg` record: `PRI,SEQ,TIME,FLAGS;MESSAGE\n`
/// then continuation lines.
fn record_message(rec: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(rec);
    let (_, rest) = text.split_once(';')?;
    let msg = rest.split('\n').next().unwrap_or("");
    Some(unescape(msg))
}

/// Undoes the `\xNN` escapes kmsg writes for unprintable bytes.
fn unescape(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && b.get(i + 1) == Some(&b'x') {
            if let Some(v) = s
                .get(i + 2..i + 4)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The gate of a live test that reads LOG lines: `None` (after one line
/// saying why) when kernel tests do not run here; otherwise the guard that
/// enables LOG lines of the lab's namespaces. Under `CI=true` a kernel log
/// that cannot be read fails the test instead of skipping it.
pub fn log_guard(what: &str) -> Option<LogAllNetns> {
    if !crate::kernel_tests(what) {
        return None;
    }
    let skip = |why: String| {
        assert!(!crate::in_ci(), "{what}: {why} (under CI=true)");
        eprintln!("skip {what}: {why}");
    };
    if let Err(e) = Kmsg::open(what) {
        skip(format!("/dev/kmsg: {e}"));
        return None;
    }
    match LogAllNetns::enable() {
        Ok(g) => Some(g),
        Err(e) => {
            skip(format!("nf_log_all_netns: {e}"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_escapes() {
        assert_eq!(
            record_message(b"4,1234,5678,-;pfx IN=a OUT= \\x5c \n SUBSYSTEM=x\n").as_deref(),
            Some("pfx IN=a OUT= \\ ")
        );
        assert_eq!(record_message(b"garbage"), None);
        assert_eq!(unescape("\\x4"), "\\x4");
    }
}
