//! The few libc calls the load tool needs that neither std nor mio 1.x offers, declared here
//! rather than adding a dependency (as `src/server/rlimit.rs` does for the server):
//!
//! - **bind before connect.** mio 1.x has no `TcpSocket` any more (it went in mio 0.8, in
//!   favour of `socket2`), and `std::net::TcpStream::connect` cannot bind first. One source
//!   address reaches one destination from at most ~28 000 ephemeral ports
//!   (`/proc/sys/net/ipv4/ip_local_port_range`), so passing 64k connections to one server port
//!   takes several source addresses: 127.0.0.2, 127.0.0.3, … (all of 127.0.0.0/8 is loopback
//!   on Linux). [`connect_from`] is `socket` + `IP_BIND_ADDRESS_NO_PORT` + `bind` + a
//!   non-blocking `connect`; the option lets the kernel pick the port at `connect`, by the
//!   whole 4-tuple, instead of reserving one per `bind`.
//! - **the descriptor limit.** [`raise_nofile`]: soft limit to the hard limit, and the hard
//!   limit up to what is wanted where the process may (`CAP_SYS_RESOURCE`).
//! - **clock ticks.** [`clock_ticks`]: `sysconf(_SC_CLK_TCK)`, the unit of `/proc/PID/stat`.
#![allow(unsafe_code)]

use std::io;
use std::net::{SocketAddrV4, TcpStream};

#[cfg(target_os = "linux")]
mod ffi {
    /// `struct sockaddr_in`: family (native order), port and address (network order), zeros.
    #[repr(C)]
    pub struct SockAddrIn {
        pub family: u16,
        pub port: [u8; 2],
        pub addr: [u8; 4],
        pub zero: [u8; 8],
    }
    #[repr(C)]
    pub struct RLimit {
        pub cur: u64,
        pub max: u64,
    }
    pub const AF_INET: i32 = 2;
    pub const SOCK_STREAM: i32 = 1;
    pub const SOCK_NONBLOCK: i32 = 0o4000;
    pub const SOCK_CLOEXEC: i32 = 0o2000000;
    pub const IPPROTO_IP: i32 = 0;
    /// `linux/in.h`: bind reserves the address only; the port is chosen at `connect`.
    pub const IP_BIND_ADDRESS_NO_PORT: i32 = 24;
    pub const EINPROGRESS: i32 = 115;
    pub const RLIMIT_NOFILE: i32 = 7;
    pub const SC_CLK_TCK: i32 = 2;
    extern "C" {
        pub fn socket(domain: i32, kind: i32, protocol: i32) -> i32;
        pub fn setsockopt(fd: i32, level: i32, name: i32, value: *const core::ffi::c_void, len: u32) -> i32;
        pub fn bind(fd: i32, addr: *const SockAddrIn, len: u32) -> i32;
        pub fn connect(fd: i32, addr: *const SockAddrIn, len: u32) -> i32;
        pub fn getrlimit(resource: i32, rlim: *mut RLimit) -> i32;
        pub fn setrlimit(resource: i32, rlim: *const RLimit) -> i32;
        pub fn sysconf(name: i32) -> i64;
    }

    pub fn sockaddr(addr: std::net::SocketAddrV4) -> SockAddrIn {
        SockAddrIn {
            family: AF_INET as u16,
            port: addr.port().to_be_bytes(),
            addr: addr.ip().octets(),
            zero: [0; 8],
        }
    }
}

/// A non-blocking TCP connection to `to`, bound first to `from` (port 0: any). The connect
/// is in progress when this returns: the socket becomes writable once it is established.
#[cfg(target_os = "linux")]
pub fn connect_from(from: SocketAddrV4, to: SocketAddrV4) -> io::Result<TcpStream> {
    use std::os::fd::{FromRawFd, OwnedFd};
    let kind = ffi::SOCK_STREAM | ffi::SOCK_NONBLOCK | ffi::SOCK_CLOEXEC;
    // SAFETY: `socket` takes no pointers; a negative result is an error, checked next.
    let fd = unsafe { ffi::socket(ffi::AF_INET, kind, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a descriptor we just opened and nothing else owns: `OwnedFd` closes it
    // on every return below, including the error ones.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let one: i32 = 1;
    let opt = (&one as *const i32).cast();
    // SAFETY: `opt` points at a live i32 of the length given. A kernel before 4.2 does not
    // know the option: the bind below then reserves a port, which only lowers the ceiling.
    let _ = unsafe { ffi::setsockopt(fd, ffi::IPPROTO_IP, ffi::IP_BIND_ADDRESS_NO_PORT, opt, 4) };
    let (local, remote) = (ffi::sockaddr(from), ffi::sockaddr(to));
    let len = std::mem::size_of::<ffi::SockAddrIn>() as u32;
    // SAFETY: `local` is a valid `sockaddr_in` of `len` bytes that the call only reads.
    if unsafe { ffi::bind(fd, &local, len) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as for `bind`.
    if unsafe { ffi::connect(fd, &remote, len) } != 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(ffi::EINPROGRESS) {
            return Err(e);
        }
    }
    Ok(TcpStream::from(owned))
}

/// Elsewhere: no bind, a blocking connect (the load tool is written for Linux's `/proc`).
#[cfg(not(target_os = "linux"))]
pub fn connect_from(_from: SocketAddrV4, to: SocketAddrV4) -> io::Result<TcpStream> {
    let stream = TcpStream::connect(to)?;
    stream.set_nonblocking(true)?;
    Ok(stream)
}

/// Raises the soft descriptor limit to fit `wanted` descriptors, the hard limit too when the
/// process may; returns the soft limit now in force.
#[cfg(target_os = "linux")]
pub fn raise_nofile(wanted: u64) -> io::Result<u64> {
    let mut limit = ffi::RLimit { cur: 0, max: 0 };
    // SAFETY: `limit` is a valid, writable `struct rlimit` (two u64 on Linux).
    if unsafe { ffi::getrlimit(ffi::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if wanted > limit.max {
        let raised = ffi::RLimit { cur: wanted, max: wanted };
        // SAFETY: `raised` is a valid `struct rlimit` that the call only reads. Without
        // CAP_SYS_RESOURCE this fails with EPERM, and the hard limit stays the ceiling.
        if unsafe { ffi::setrlimit(ffi::RLIMIT_NOFILE, &raised) } == 0 {
            return Ok(wanted);
        }
    }
    let cur = wanted.clamp(limit.cur, limit.max);
    if cur > limit.cur {
        let raised = ffi::RLimit { cur, max: limit.max };
        // SAFETY: as above.
        if unsafe { ffi::setrlimit(ffi::RLIMIT_NOFILE, &raised) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(cur.max(limit.cur))
}

#[cfg(not(target_os = "linux"))]
pub fn raise_nofile(wanted: u64) -> io::Result<u64> {
    Ok(wanted)
}

/// Clock ticks per second, the unit of `utime` and `stime` in `/proc/PID/stat` (100 on
/// every Linux configuration in use, which is the fallback).
#[cfg(target_os = "linux")]
pub fn clock_ticks() -> u64 {
    // SAFETY: `sysconf` takes no pointers.
    let ticks = unsafe { ffi::sysconf(ffi::SC_CLK_TCK) };
    u64::try_from(ticks).ok().filter(|&t| t > 0).unwrap_or(100)
}

#[cfg(not(target_os = "linux"))]
pub fn clock_ticks() -> u64 {
    100
}
