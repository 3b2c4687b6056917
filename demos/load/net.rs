//! The client side of the event loop: one `mio::Poll` for every connection of a run.
//!
//! A [`Conn`] is a non-blocking socket with what it still has to write and what it has read
//! but not yet parsed. A [`Fleet`] is a slab of connections that all run the same
//! [`Client`] — a sans-IO state machine: bytes in, bytes to write out — and one "side"
//! connection (the publisher) sharing the poll. The loop keeps mio's two rules (spurious
//! events happen; read until `WouldBlock`) with one economy a load generator needs: a read
//! that returns less than the buffer has drained the socket, so the extra read that would
//! only say `WouldBlock` is skipped (a TCP socket returns all it has, up to the buffer).
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token};

/// The token of the side connection.
pub const SIDE: Token = Token(usize::MAX - 1);
/// Bytes read per `read` call; one buffer for all connections.
const SCRATCH: usize = 64 * 1024;

/// One connection.
pub struct Conn {
    pub stream: mio::net::TcpStream,
    pub connected: bool,
    /// The server closed it (or it failed); it takes no more events.
    pub closed: bool,
    out: Vec<u8>,
    pending: Vec<u8>,
}

/// What a read pass ended with.
#[derive(Debug, PartialEq, Eq)]
pub enum Read0 {
    /// Everything the socket had was read.
    Drained,
    /// The server closed its side.
    Eof,
}

impl Conn {
    /// Starts connecting from `from` (a loopback source address, any port) to `to`.
    pub fn connect(from: Ipv4Addr, to: SocketAddrV4) -> io::Result<Conn> {
        let std = super::sys::connect_from(SocketAddrV4::new(from, 0), to)?;
        Ok(Conn {
            stream: mio::net::TcpStream::from_std(std),
            connected: false,
            closed: false,
            out: Vec::new(),
            pending: Vec::new(),
        })
    }

    /// Whether the connect has finished: the check mio's docs prescribe on the first
    /// writable event (`take_error`, then `peer_addr`). Errors if it failed.
    pub fn check_connected(&mut self) -> io::Result<bool> {
        if self.connected {
            return Ok(true);
        }
        if let Some(e) = self.stream.take_error()? {
            return Err(e);
        }
        match self.stream.peer_addr() {
            Ok(_) => {
                self.connected = true;
                self.stream.set_nodelay(true)?;
                Ok(true)
            }
            Err(e) if e.kind() == ErrorKind::NotConnected => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Writes `bytes` now as far as the socket takes them; the rest waits for writability.
    pub fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        if !self.out.is_empty() || !self.connected {
            self.out.extend_from_slice(bytes);
            return Ok(());
        }
        let mut at = 0;
        while at < bytes.len() {
            match self.stream.write(&bytes[at..]) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => at += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.out.extend_from_slice(&bytes[at..]);
        Ok(())
    }

    /// Writes what is queued, as far as the socket takes it.
    pub fn flush(&mut self) -> io::Result<()> {
        let mut at = 0;
        while at < self.out.len() {
            match self.stream.write(&self.out[at..]) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => at += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.out.drain(..at);
        Ok(())
    }

    /// Bytes queued but not yet written.
    pub fn queued(&self) -> usize {
        self.out.len()
    }

    /// Reads until the socket is drained, handing everything not yet parsed to `parse`,
    /// which returns how many bytes it used; the rest is kept for the next call.
    pub fn read(
        &mut self,
        scratch: &mut [u8],
        mut parse: impl FnMut(&[u8], Instant) -> Result<usize, String>,
    ) -> io::Result<Read0> {
        loop {
            match self.stream.read(scratch) {
                Ok(0) => return Ok(Read0::Eof),
                Ok(n) => {
                    let now = Instant::now();
                    feed(&mut self.pending, &scratch[..n], |b| parse(b, now)).map_err(io::Error::other)?;
                    if n < scratch.len() {
                        return Ok(Read0::Drained);
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(Read0::Drained),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// Parses `fresh` after what `pending` held, keeping what `parse` did not use. Without
/// leftovers (the usual case) the fresh bytes are parsed where they lie, uncopied.
pub fn feed(
    pending: &mut Vec<u8>,
    fresh: &[u8],
    mut parse: impl FnMut(&[u8]) -> Result<usize, String>,
) -> Result<(), String> {
    if pending.is_empty() {
        let used = parse(fresh)?;
        pending.extend_from_slice(&fresh[used..]);
    } else {
        pending.extend_from_slice(fresh);
        let used = parse(pending)?;
        pending.drain(..used);
    }
    Ok(())
}

/// A connection's protocol, without sockets: what to send first, and what to do with input.
pub trait Client {
    /// What every client of a run updates: counters, latencies, the ledger totals.
    type Shared;
    /// Bytes to send as soon as the connection is up (the request).
    fn greeting(&mut self, out: &mut Vec<u8>, shared: &mut Self::Shared);
    /// Handles input read at `now`; may append bytes to send to `out`; returns the bytes used.
    fn input(
        &mut self,
        data: &[u8],
        now: Instant,
        out: &mut Vec<u8>,
        shared: &mut Self::Shared,
    ) -> Result<usize, String>;
    /// The server closed the connection, or it failed.
    fn closed(&mut self, _shared: &mut Self::Shared) {}
}

/// What an event said a socket is ready for.
#[derive(Clone, Copy)]
struct Ready {
    readable: bool,
    writable: bool,
}

/// How many connections to open, how many at once, and for how long at most.
#[derive(Clone, Copy, Debug)]
pub struct Opening {
    pub target: usize,
    pub window: usize,
    pub timeout: Duration,
}

pub struct Slot<C> {
    pub conn: Conn,
    pub client: C,
}

/// Every connection of a run, on one poll.
pub struct Fleet<C: Client> {
    poll: Poll,
    events: Events,
    pub slots: Vec<Slot<C>>,
    sources: Vec<Ipv4Addr>,
    target: SocketAddrV4,
    scratch: Vec<u8>,
    out: Vec<u8>,
    /// Connections the server closed or that failed, and the first reason.
    pub closed: usize,
    pub first_error: Option<String>,
}

impl<C: Client> Fleet<C> {
    pub fn new(target: SocketAddrV4, sources: Vec<Ipv4Addr>) -> io::Result<Fleet<C>> {
        Ok(Fleet {
            poll: Poll::new()?,
            events: Events::with_capacity(4096),
            slots: Vec::new(),
            sources,
            target,
            scratch: vec![0; SCRATCH],
            out: Vec::new(),
            closed: 0,
            first_error: None,
        })
    }

    /// Opens one more connection running `client`, from the next source address in turn.
    pub fn open(&mut self, client: C) -> io::Result<()> {
        let from = self.sources[self.slots.len() % self.sources.len()];
        let mut conn = Conn::connect(from, self.target)
            .map_err(|e| io::Error::new(e.kind(), format!("connect {from} → {}: {e}", self.target)))?;
        let token = Token(self.slots.len());
        self.poll.registry().register(&mut conn.stream, token, Interest::READABLE | Interest::WRITABLE)?;
        self.slots.push(Slot { conn, client });
        Ok(())
    }

    /// Registers the side connection (the publisher) on this poll.
    pub fn register_side(&self, conn: &mut Conn) -> io::Result<()> {
        self.poll.registry().register(&mut conn.stream, SIDE, Interest::READABLE | Interest::WRITABLE)
    }

    /// The shared read buffer, for the side connection's reads.
    pub fn scratch(&mut self) -> &mut [u8] {
        &mut self.scratch
    }

    /// Waits up to `timeout` for readiness and handles every event; true if the side
    /// connection had one (the caller handles it).
    pub fn turn(&mut self, timeout: Duration, shared: &mut C::Shared) -> io::Result<bool> {
        match self.poll.poll(&mut self.events, Some(timeout)) {
            Err(e) if e.kind() == ErrorKind::Interrupted => return Ok(false),
            result => result?,
        }
        let mut side = false;
        for event in self.events.iter() {
            let (token, writable) = (event.token(), event.is_writable());
            // A read only when there may be something to read: a writable-only event (the
            // peer's ACKs freed send space) would cost a `read` that says `WouldBlock`.
            let readable = event.is_readable() || event.is_read_closed() || event.is_error();
            if token == SIDE {
                side = true;
                continue;
            }
            let Some(slot) = self.slots.get_mut(token.0) else { continue };
            if slot.conn.closed {
                continue;
            }
            let ready = Ready { readable, writable };
            if let Err(e) = Self::service(slot, ready, &mut self.scratch, &mut self.out, shared) {
                slot.conn.closed = true;
                slot.client.closed(shared);
                self.closed += 1;
                let _ = self.poll.registry().deregister(&mut slot.conn.stream);
                if self.first_error.is_none() {
                    self.first_error = Some(e.to_string());
                }
            }
        }
        Ok(side)
    }

    /// One event of one connection: finish connecting, flush, read and parse, send replies.
    fn service(
        slot: &mut Slot<C>,
        Ready { readable, writable }: Ready,
        scratch: &mut [u8],
        out: &mut Vec<u8>,
        shared: &mut C::Shared,
    ) -> io::Result<()> {
        if !slot.conn.connected {
            if !slot.conn.check_connected()? {
                return Ok(()); // spurious: not connected yet
            }
            out.clear();
            slot.client.greeting(out, shared);
            slot.conn.send(out)?;
        }
        if writable && slot.conn.queued() > 0 {
            slot.conn.flush()?;
        }
        if !readable {
            return Ok(());
        }
        out.clear();
        let client = &mut slot.client;
        let end = slot.conn.read(scratch, |data, now| client.input(data, now, out, shared))?;
        slot.conn.send(out)?;
        match end {
            Read0::Drained => Ok(()),
            Read0::Eof => Err(io::Error::new(ErrorKind::UnexpectedEof, "the server closed a connection")),
        }
    }

    /// Opens connections, at most `window` not yet ready at a time, until `target` are
    /// ready by `ready(shared)`. A connection the server refuses or closes meanwhile ends it
    /// with an error, as does `timeout`; `progress` is called on every turn.
    pub fn open_until_ready(
        &mut self,
        Opening { target, window, timeout }: Opening,
        shared: &mut C::Shared,
        mut make: impl FnMut(usize) -> C,
        ready: impl Fn(&C::Shared) -> usize,
        mut progress: impl FnMut(&Self, &C::Shared),
    ) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        while ready(shared) < target {
            if let Some(e) = &self.first_error {
                return Err(format!("{} of {} connections ready, then: {e}", ready(shared), target));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "only {} of {target} connections ready after {timeout:?}",
                    ready(shared)
                ));
            }
            let opening = self.slots.len() - ready(shared).min(self.slots.len());
            for _ in 0..window.saturating_sub(opening).min(target - self.slots.len()) {
                let client = make(self.slots.len());
                self.open(client).map_err(|e| e.to_string())?;
            }
            self.turn(Duration::from_millis(5), shared).map_err(|e| e.to_string())?;
            progress(self, shared);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_keeps_what_was_not_used() {
        let mut pending = Vec::new();
        // Lines: a parser that uses whole lines only.
        let lines = |b: &[u8]| Ok(b.iter().rposition(|&c| c == b'\n').map_or(0, |i| i + 1));
        feed(&mut pending, b"one\ntw", lines).unwrap();
        assert_eq!(pending, b"tw");
        feed(&mut pending, b"o\nthree", lines).unwrap();
        assert_eq!(pending, b"three");
        feed(&mut pending, b"\n", lines).unwrap();
        assert!(pending.is_empty());
        assert_eq!(feed(&mut pending, b"x", |_| Err("bad".to_string())), Err("bad".to_string()));
    }
}
