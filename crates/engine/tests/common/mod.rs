//! Helpers shared by the live differential tests (`live_kernel.rs`,
//! `live_stateful.rs`).

use ironwall_lab::kmsg::{Kmsg, LogAllNetns};
use ironwall_model::addr::Family;
use ironwall_model::restore::{restore, RestoreOpts};
use ironwall_model::ruleset::Ruleset;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

/// The gate of a live test that reads LOG lines: `None` (after one line
/// saying why) when kernel tests do not run here; otherwise the guard that
/// enables LOG lines of the lab's namespaces. Under `CI=true` a kernel log
/// that cannot be read fails the test instead of skipping it.
pub fn log_guard(what: &str) -> Option<LogAllNetns> {
    if !ironwall_lab::kernel_tests(what) {
        return None;
    }
    let skip = |why: String| {
        assert!(!ironwall_lab::in_ci(), "{what}: {why} (under CI=true)");
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

/// Prints the `what` (LOG lines, paths) only one side has; returns how
/// many there are.
pub fn multiset_diff(what: &str, ours: &[String], kernel: &[String]) -> usize {
    let mut only_kernel: Vec<&String> = kernel.iter().collect();
    let mut only_ours = Vec::new();
    for l in ours {
        match only_kernel.iter().position(|k| *k == l) {
            Some(i) => {
                only_kernel.swap_remove(i);
            }
            None => only_ours.push(l),
        }
    }
    for l in &only_ours {
        eprintln!("{what} only ironwall has: {l:?}");
    }
    for l in &only_kernel {
        eprintln!("{what} only the kernel has: {l:?}");
    }
    only_ours.len() + only_kernel.len()
}

/// The model of a ruleset text (`counters`: with its `[p:b]` counters)
/// naming the ipsets `sets`.
pub fn model(rules: &str, counters: bool, sets: &[String]) -> Ruleset {
    let mut rs = Ruleset::new(Family::V4);
    let opts = RestoreOpts {
        counters,
        ..RestoreOpts::default()
    };
    restore(&mut rs, rules, &opts, sets).expect("our model loads the ruleset");
    rs
}

/// A real TCP connection from a socket made in `client` to `addr`, where
/// `listener` listens: handshake, `hello` one way and `world` back, then
/// the client closes, then the server; waits a little for the last
/// segments. Returns the client's port.
pub fn talk(client: &ironwall_lab::Netns, listener: &TcpListener, addr: SocketAddr) -> u16 {
    let mut conn = client
        .enter(|| TcpStream::connect_timeout(&addr, Duration::from_secs(2)))
        .expect("enter the client's namespace")
        .expect("connect");
    let (mut srv, peer) = listener.accept().expect("accept");
    for s in [&conn, &srv] {
        s.set_read_timeout(Some(Duration::from_secs(2)))
            .expect("timeout");
    }
    conn.write_all(b"hello").expect("write");
    let mut buf = [0u8; 5];
    srv.read_exact(&mut buf).expect("server read");
    srv.write_all(b"world").expect("write back");
    conn.read_exact(&mut buf).expect("client read");
    drop(conn);
    let mut rest = Vec::new();
    let _ = srv.read_to_end(&mut rest);
    drop(srv);
    std::thread::sleep(Duration::from_millis(50));
    peer.port()
}
