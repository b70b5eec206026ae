//! The differential lab's network: three namespaces made for one test and
//! deleted when the [`Lab`] is dropped (also on panic).
//!
//! ```text
//!  trusted client  cli0 10.137.0.16/24 ──veth── srv-c 10.137.0.1/24 (+ .15, .17)
//!                                                  server
//!  stranger        str0 10.99.0.5/24  ──veth── srv-s 10.99.0.1/24
//! ```
//!
//! Every interface has a fixed MAC address and every neighbour a permanent
//! entry, so no ARP is needed; IPv6 is off in all three namespaces, so no
//! neighbour discovery or MLD reaches the counters. The server's kernel
//! settings that change what reaches its chains are set from
//! [`Controls`].
//!
//! Packets go out through [`RawLink`] (an `AF_PACKET` socket: the exact
//! frame bytes, bad checksums included) and come in through the same kind
//! of socket on the server's side, which sees every frame before the IP
//! layer: the test learns the packets the kernel itself added (a client's
//! RST to an unexpected SYN-ACK, retransmissions) instead of guessing them.
//! Real connections use std sockets made inside a namespace with
//! [`Netns::enter`].
//!
//! Lab rules: commands are argument vectors (no shell); traffic stays
//! between the lab's namespaces; every wait is bounded.

use crate::{triple, Netns};
use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::Command;
use std::time::{Duration, Instant};

/// One end of a link: a namespace's interface, its address and MAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct End {
    /// The interface name.
    pub iface: &'static str,
    /// Its (first) IPv4 address.
    pub addr: Ipv4Addr,
    /// Its MAC address.
    pub mac: [u8; 6],
}

/// The trusted client's interface.
pub const CLIENT: End = End {
    iface: "cli0",
    addr: Ipv4Addr::new(10, 137, 0, 16),
    mac: [0x02, 0x69, 0x77, 0, 0, 0x16],
};
/// The server's interface towards the trusted client.
pub const SERVER_C: End = End {
    iface: "srv-c",
    addr: Ipv4Addr::new(10, 137, 0, 1),
    mac: [0x02, 0x69, 0x77, 0, 1, 0x01],
};
/// The stranger's interface.
pub const STRANGER: End = End {
    iface: "str0",
    addr: Ipv4Addr::new(10, 99, 0, 5),
    mac: [0x02, 0x69, 0x77, 0, 0, 0x05],
};
/// The server's interface towards the stranger.
pub const SERVER_S: End = End {
    iface: "srv-s",
    addr: Ipv4Addr::new(10, 99, 0, 1),
    mac: [0x02, 0x69, 0x77, 0, 1, 0x02],
};
/// More server addresses on `srv-c`, at the edges of 10.137.0.0/28.
pub const SERVER_EXTRA: [Ipv4Addr; 2] =
    [Ipv4Addr::new(10, 137, 0, 15), Ipv4Addr::new(10, 137, 0, 17)];

/// The server's interfaces and addresses as host options spell them
/// (`NAME=ADDR/PREFIX`, for `--iface` or a host file's `iface`).
pub fn server_ifaces() -> Vec<String> {
    let mut v = vec![
        format!("{}={}/24", SERVER_C.iface, SERVER_C.addr),
        format!("{}={}/24", SERVER_S.iface, SERVER_S.addr),
    ];
    v.extend(
        SERVER_EXTRA
            .iter()
            .map(|a| format!("{}={a}/24", SERVER_C.iface)),
    );
    v
}

/// Other sources the stranger sends from (at the edges of 10.99.0.0/30
/// and /29). The server has permanent neighbour entries for them (the
/// stranger's MAC), so its replies leave at once instead of waiting on
/// ARP: a reply held for ARP is counted in OUTPUT but never seen on the
/// wire.
pub const STRANGER_SPOOF: [Ipv4Addr; 3] = [
    Ipv4Addr::new(10, 99, 0, 0),
    Ipv4Addr::new(10, 99, 0, 3),
    Ipv4Addr::new(10, 99, 0, 4),
];

/// The server's kernel settings the lab controls (and the engine models).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Controls {
    /// `net.ipv4.icmp_ratelimit` (0: no rate-limited ICMP).
    pub icmp_ratelimit: u32,
    /// `rp_filter` for all, default and each interface (0 off, 1 strict,
    /// 2 loose).
    pub rp_filter: u8,
    /// `net.netfilter.nf_conntrack_checksum`, set when conntrack is loaded.
    pub conntrack_checksum: bool,
}

impl Default for Controls {
    fn default() -> Self {
        Controls {
            icmp_ratelimit: 0,
            rp_filter: 0,
            conntrack_checksum: true,
        }
    }
}

/// The three namespaces and their links.
#[derive(Debug)]
pub struct Lab {
    /// The trusted client (10.137.0.16).
    pub client: Netns,
    /// The stranger (10.99.0.5).
    pub stranger: Netns,
    /// The server (10.137.0.1 towards the client, 10.99.0.1 towards the
    /// stranger).
    pub server: Netns,
}

fn mac_text(m: [u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Runs `ip ARGS`; an error carries its stderr.
fn ip(args: &[&str]) -> io::Result<()> {
    let (code, _, err) = triple(crate::run_with_input(
        {
            let mut c = Command::new("ip");
            c.args(args);
            c
        },
        None,
    ));
    if code == 0 {
        Ok(())
    } else {
        Err(io::Error::other(format!("ip {}: {err}", args.join(" "))))
    }
}

/// A permanent neighbour entry in namespace `ns`: `addr` is at `mac` on
/// `dev`.
fn neighbour(ns: &str, addr: Ipv4Addr, mac: [u8; 6], dev: &str) -> io::Result<()> {
    ip(&[
        "-n",
        ns,
        "neigh",
        "replace",
        &addr.to_string(),
        "lladdr",
        &mac_text(mac),
        "dev",
        dev,
        "nud",
        "permanent",
    ])
}

impl Lab {
    /// Makes the namespaces, links, addresses, routes and neighbour entries,
    /// and applies `controls` to the server. Panics when the kernel refuses
    /// (the namespaces made so far are deleted).
    pub fn new(tag: &str, controls: &Controls) -> Lab {
        let lab = Lab {
            client: Netns::new(&format!("{tag}-c")),
            stranger: Netns::new(&format!("{tag}-t")),
            server: Netns::new(&format!("{tag}-s")),
        };
        if let Err(e) = lab.build(controls) {
            panic!("lab {tag}: {e}");
        }
        lab
    }

    fn build(&self, controls: &Controls) -> io::Result<()> {
        for ns in [&self.client, &self.stranger, &self.server] {
            ns.sysctl(&[
                ("net.ipv6.conf.all.disable_ipv6", "1"),
                ("net.ipv6.conf.default.disable_ipv6", "1"),
            ])?;
            ip(&["-n", ns.name(), "link", "set", "lo", "up"])?;
        }
        let s = self.server.name();
        for (peer, near, far) in [
            (&self.client, SERVER_C, CLIENT),
            (&self.stranger, SERVER_S, STRANGER),
        ] {
            let p = peer.name();
            let (near_mac, far_mac) = (mac_text(near.mac), mac_text(far.mac));
            ip(&[
                "-n", s, "link", "add", near.iface, "address", &near_mac, "type", "veth", "peer",
                "name", far.iface, "netns", p, "address", &far_mac,
            ])?;
            for (ns, end, other) in [(s, near, far), (p, far, near)] {
                ip(&[
                    "-n",
                    ns,
                    "addr",
                    "add",
                    &format!("{}/24", end.addr),
                    "dev",
                    end.iface,
                ])?;
                ip(&["-n", ns, "link", "set", end.iface, "up"])?;
                neighbour(ns, other.addr, other.mac, end.iface)?;
            }
            ip(&[
                "-n",
                p,
                "route",
                "add",
                "default",
                "via",
                &near.addr.to_string(),
            ])?;
        }
        for a in STRANGER_SPOOF {
            neighbour(s, a, STRANGER.mac, SERVER_S.iface)?;
        }
        for a in SERVER_EXTRA {
            ip(&[
                "-n",
                s,
                "addr",
                "add",
                &format!("{a}/24"),
                "dev",
                SERVER_C.iface,
            ])?;
        }
        self.apply(controls)
    }

    /// Sets the server's kernel settings from `controls` (again: after a
    /// ruleset loaded conntrack, its checksum setting exists).
    pub fn apply(&self, controls: &Controls) -> io::Result<()> {
        let rl = controls.icmp_ratelimit.to_string();
        let rp = controls.rp_filter.to_string();
        let mut set = vec![("net.ipv4.icmp_ratelimit".to_string(), rl)];
        for dev in ["all", "default", SERVER_C.iface, SERVER_S.iface] {
            set.push((format!("net.ipv4.conf.{dev}.rp_filter"), rp.clone()));
        }
        let pairs: Vec<(&str, &str)> = set.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        self.server.sysctl(&pairs)?;
        let ck = if controls.conntrack_checksum {
            "1"
        } else {
            "0"
        };
        let (code, out, _) = triple(self.server.run(
            "sysctl",
            &["-n", "net.netfilter.nf_conntrack_checksum"],
            None,
        ));
        if code == 0 && !out.trim().is_empty() {
            self.server
                .sysctl(&[("net.netfilter.nf_conntrack_checksum", ck)])?;
        }
        Ok(())
    }

    /// Renames the server's interface `end` ([`SERVER_C`] or [`SERVER_S`])
    /// to `name` (as a ruleset written for other interface names needs):
    /// down, renamed, up, and its permanent neighbour entries, which the
    /// link going down deleted, made again. Its addresses stay; the
    /// constants keep the old name, so the caller uses `name` from then on.
    pub fn rename_server(&self, end: End, name: &str) -> io::Result<()> {
        let s = self.server.name();
        ip(&["-n", s, "link", "set", end.iface, "down"])?;
        ip(&["-n", s, "link", "set", end.iface, "name", name])?;
        ip(&["-n", s, "link", "set", name, "up"])?;
        if end == SERVER_S {
            neighbour(s, STRANGER.addr, STRANGER.mac, name)?;
            for a in STRANGER_SPOOF {
                neighbour(s, a, STRANGER.mac, name)?;
            }
            Ok(())
        } else {
            neighbour(s, CLIENT.addr, CLIENT.mac, name)
        }
    }

    /// The sending namespace and the server-side end for `from`
    /// ([`CLIENT`] or [`STRANGER`]).
    pub fn peer(&self, from: End) -> (&Netns, End) {
        if from == STRANGER {
            (&self.stranger, SERVER_S)
        } else {
            (&self.client, SERVER_C)
        }
    }
}

impl Netns {
    /// Sets sysctls inside the namespace (`sysctl -q -w K=V ...`).
    pub fn sysctl(&self, pairs: &[(&str, &str)]) -> io::Result<()> {
        let kv: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut args = vec!["-q", "-w"];
        args.extend(kv.iter().map(String::as_str));
        let (code, _, err) = triple(self.run("sysctl", &args, None));
        if code == 0 {
            Ok(())
        } else {
            Err(io::Error::other(format!("sysctl {}: {err}", kv.join(" "))))
        }
    }

    /// Runs `f` on a new thread that has joined this namespace, and
    /// returns its result. Sockets made by `f` stay in the namespace
    /// wherever they are used later; the calling thread's namespace does
    /// not change (`setns` acts per thread, and tests run many threads).
    pub fn enter<T: Send>(&self, f: impl FnOnce() -> T + Send) -> io::Result<T> {
        let file = std::fs::File::open(format!("/run/netns/{}", self.name()))?;
        std::thread::scope(|s| {
            s.spawn(|| {
                // SAFETY: setns on a valid namespace fd; affects this
                // thread only.
                if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(f())
            })
            .join()
            .map_err(|_| io::Error::other("thread in namespace panicked"))?
        })
    }
}

/// A frame seen by a [`RawLink`].
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// `sll_pkttype`: 0 to this host, 1 broadcast, 2 multicast, 3 to
    /// another host, 4 sent by this host.
    pub pkttype: u8,
    /// The frame bytes from the Ethernet header on.
    pub data: Vec<u8>,
    /// When the kernel took it (`SIOCGSTAMP`, seconds since the epoch;
    /// 0 when unknown).
    pub time: f64,
}

/// `SIOCGSTAMP` (asm-generic/sockios.h): the last frame's time.
const SIOCGSTAMP: libc::c_ulong = 0x8906;

/// `PACKET_HOST`: a frame addressed to this host.
pub const PACKET_HOST: u8 = 0;
/// `PACKET_BROADCAST`: a frame to the link-layer broadcast address.
pub const PACKET_BROADCAST: u8 = 1;
/// `PACKET_MULTICAST`: a frame to a link-layer multicast address.
pub const PACKET_MULTICAST: u8 = 2;
/// `PACKET_OUTGOING`: a frame this host sent.
pub const PACKET_OUTGOING: u8 = 4;

/// An `AF_PACKET` socket bound to one interface of a namespace: sends raw
/// Ethernet frames and sees every frame on the interface.
#[derive(Debug)]
pub struct RawLink {
    fd: OwnedFd,
}

fn check(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

impl RawLink {
    /// Opens the socket inside `ns` on `iface`. It is made with protocol 0
    /// (receiving nothing) and bound to the interface with `ETH_P_ALL`, so
    /// it never sees another interface's frames.
    pub fn open(ns: &Netns, iface: &str) -> io::Result<RawLink> {
        let name = std::ffi::CString::new(iface).map_err(io::Error::other)?;
        ns.enter(|| {
            // SAFETY: plain socket calls on a descriptor this function owns.
            unsafe {
                let idx = libc::if_nametoindex(name.as_ptr());
                if idx == 0 {
                    return Err(io::Error::last_os_error());
                }
                let fd = OwnedFd::from_raw_fd(check(libc::socket(
                    libc::AF_PACKET,
                    libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                    0,
                ))?);
                let buf: libc::c_int = 8 << 20;
                check(libc::setsockopt(
                    fd.as_raw_fd(),
                    libc::SOL_SOCKET,
                    libc::SO_RCVBUFFORCE,
                    (&buf as *const libc::c_int).cast(),
                    std::mem::size_of::<libc::c_int>() as libc::socklen_t,
                ))?;
                // The first SIOCGSTAMP turns timestamps on (it fails: no
                // frame yet); each frame read later has its time.
                let mut tv: libc::timeval = std::mem::zeroed();
                libc::ioctl(fd.as_raw_fd(), SIOCGSTAMP, &mut tv);
                let mut sll: libc::sockaddr_ll = std::mem::zeroed();
                sll.sll_family = libc::AF_PACKET as u16;
                sll.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
                sll.sll_ifindex = idx as i32;
                check(libc::bind(
                    fd.as_raw_fd(),
                    (&sll as *const libc::sockaddr_ll).cast(),
                    std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
                ))?;
                Ok(RawLink { fd })
            }
        })?
    }

    /// Sends one frame as it is.
    pub fn send(&self, frame: &[u8]) -> io::Result<()> {
        // SAFETY: the buffer is valid for its length.
        let n = unsafe { libc::send(self.fd.as_raw_fd(), frame.as_ptr().cast(), frame.len(), 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        if n as usize != frame.len() {
            return Err(io::Error::other(format!(
                "sent {n} of {} bytes",
                frame.len()
            )));
        }
        Ok(())
    }

    /// The next frame, waiting at most `wait`.
    pub fn recv(&self, wait: Duration) -> Option<Frame> {
        let mut pfd = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = wait.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: one valid pollfd.
        if unsafe { libc::poll(&mut pfd, 1, ms) } <= 0 {
            return None;
        }
        let mut buf = vec![0u8; 65_600];
        // SAFETY: valid buffers and lengths; sockaddr_ll is plain data.
        unsafe {
            let mut sll: libc::sockaddr_ll = std::mem::zeroed();
            let mut len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            let n = libc::recvfrom(
                self.fd.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT,
                (&mut sll as *mut libc::sockaddr_ll).cast(),
                &mut len,
            );
            if n < 0 {
                // A socket bound to an interface that was down when it
                // came up reports ENETDOWN once; the frames after it
                // still come.
                if io::Error::last_os_error().raw_os_error() == Some(libc::ENETDOWN) {
                    return self.recv(wait);
                }
                return None;
            }
            buf.truncate(n as usize);
            let mut tv: libc::timeval = std::mem::zeroed();
            let time = if libc::ioctl(self.fd.as_raw_fd(), SIOCGSTAMP, &mut tv) == 0 {
                tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6
            } else {
                0.0
            };
            Some(Frame {
                pkttype: sll.sll_pkttype,
                data: buf,
                time,
            })
        }
    }

    /// Every frame until none came for `quiet`, or `limit` passed.
    pub fn drain(&self, quiet: Duration, limit: Duration) -> Vec<Frame> {
        let end = Instant::now() + limit;
        let mut out = Vec::new();
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.recv(quiet.min(left)) {
                Some(f) => out.push(f),
                None => break,
            }
        }
        out
    }
}

/// Sends one IPv4 packet (header included, as `bytes` hold it) from a
/// raw socket of `ns`: it leaves through that namespace's own stack (its
/// OUTPUT hooks, conntrack and routing), as a process's packet would.
pub fn send_ipv4(ns: &Netns, bytes: &[u8]) -> io::Result<()> {
    let dst = match bytes.get(16..20) {
        Some(d) => [d[0], d[1], d[2], d[3]],
        None => return Err(io::Error::other("not an IPv4 packet")),
    };
    ns.enter(|| {
        // SAFETY: plain socket calls on a descriptor this function owns;
        // the buffer is valid for its length.
        unsafe {
            let fd = OwnedFd::from_raw_fd(check(libc::socket(
                libc::AF_INET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::IPPROTO_RAW,
            ))?);
            let mut sin: libc::sockaddr_in = std::mem::zeroed();
            sin.sin_family = libc::AF_INET as u16;
            sin.sin_addr.s_addr = u32::from_ne_bytes(dst);
            let n = libc::sendto(
                fd.as_raw_fd(),
                bytes.as_ptr().cast(),
                bytes.len(),
                0,
                (&sin as *const libc::sockaddr_in).cast(),
                std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
            );
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        }
    })?
}

/// `xtables-monitor --trace` running in a namespace, its lines collected
/// on a thread. Stopped (the process killed by its own handle) by
/// [`Monitor::finish`] or on drop.
#[derive(Debug)]
pub struct Monitor {
    child: std::process::Child,
    lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Monitor {
    /// Starts `xtables-monitor --trace` in `ns`. It subscribes some time
    /// after it starts: a test sends probes until [`Monitor::saw`] one.
    pub fn trace(ns: &Netns) -> io::Result<Monitor> {
        use std::io::BufRead;
        let mut child = Command::new("ip")
            .args(["netns", "exec", ns.name(), "xtables-monitor", "--trace"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()?;
        let out = child
            .stdout
            .take()
            .ok_or_else(|| io::Error::other("no stdout"))?;
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = lines.clone();
        let thread = std::thread::spawn(move || {
            for l in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                sink.lock().unwrap_or_else(|e| e.into_inner()).push(l);
            }
        });
        Ok(Monitor {
            child,
            lines,
            thread: Some(thread),
        })
    }

    /// Whether a line holding `needle` came within `limit` (for a probe
    /// that shows the monitor is ready).
    pub fn saw(&self, needle: &str, limit: Duration) -> bool {
        let end = Instant::now() + limit;
        loop {
            let lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
            if lines.iter().any(|l| l.contains(needle)) {
                return true;
            }
            drop(lines);
            if Instant::now() >= end {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Forgets every line so far.
    pub fn clear(&self) {
        self.lines.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Waits until no line came for `quiet` (at most `limit`), stops the
    /// monitor and returns its lines. Panics if the monitor had exited on
    /// its own: xtables-monitor exits when its netlink socket overflows
    /// ("No buffer space available"), as when traced packets come in a
    /// burst faster than it prints them (it asks the kernel for each
    /// traced rule's text), and every later event is lost.
    pub fn finish(mut self, quiet: Duration, limit: Duration) -> Vec<String> {
        let end = Instant::now() + limit;
        let (mut seen, mut last) = (usize::MAX, Instant::now());
        while Instant::now() < end {
            let n = self.lines.lock().unwrap_or_else(|e| e.into_inner()).len();
            if n != seen {
                (seen, last) = (n, Instant::now());
            } else if last.elapsed() >= quiet {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("xtables-monitor --trace exited on its own ({status}): its socket overflowed, events were lost; send traced packets more slowly");
        }
        self.stop();
        let lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        lines.clone()
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A real TCP connection from a socket made in `client` to `addr`, where
/// `listener` listens: handshake, `hello` one way and `world` back, then
/// the client closes, then the server; waits a little for the last
/// segments. Returns the client's port.
pub fn talk(client: &Netns, listener: &std::net::TcpListener, addr: std::net::SocketAddr) -> u16 {
    let mut conn = client
        .enter(|| std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)))
        .expect("enter the client's namespace")
        .expect("connect");
    let (mut srv, peer) = listener.accept().expect("accept");
    for s in [&conn, &srv] {
        s.set_read_timeout(Some(Duration::from_secs(2)))
            .expect("timeout");
    }
    use std::io::{Read, Write};
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

/// Pins the calling thread to the CPU it runs on. Frames a thread sends
/// into a veth link queue on the backlog of the CPU it runs on; frames
/// queued on two CPUs' backlogs may reach the stack out of the order they
/// were sent (and stamped) in, which a test comparing with a replay in
/// time order must avoid (a `limit` match, conntrack).
pub fn pin_thread() -> io::Result<()> {
    // SAFETY: sched_getcpu and sched_setaffinity on the calling thread
    // with a zeroed, then filled, cpu_set_t.
    unsafe {
        let cpu = libc::sched_getcpu();
        if cpu < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu as usize, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}
