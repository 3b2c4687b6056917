//! Accepting: `--max-connections`, and spreading connections over the loops (SPEC §8, §10).
//!
//! Loop 0 owns the listening socket. It accepts until `WouldBlock` (the listener is
//! edge-triggered too), refuses what is over the process's limit with `503`, and gives the
//! rest to the loops in turn: its own it registers at once; another loop's goes into that
//! loop's hand-over queue, and the loop is woken. Round-robin spreads connections exactly
//! evenly by count — the balance chapter 09 measures — where `SO_REUSEPORT` would spread them
//! by a hash of the client's address and port, unevenly for a handful of clients, and would
//! need a socket option `mio` does not offer.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use mio::net::TcpStream;
use mio::{Interest, Token, Waker};

use crate::service::Service;
use crate::stats::Kind;

use super::conn::Connection;
use super::{deadlines, EventLoop};

/// Accepted connections waiting for the loop they were given to.
type Queue = Mutex<Vec<(TcpStream, SocketAddr)>>;

/// What the loops of one process share besides the hub's bus.
pub(super) struct Shared {
    /// Connections open in the whole process: `--max-connections` is per process.
    open: AtomicUsize,
    /// One per loop: connections loop 0 accepted for it, not yet registered.
    handed: Box<[Queue]>,
    wakers: Box<[Arc<Waker>]>,
}

impl Shared {
    pub(super) fn new(wakers: Vec<Arc<Waker>>) -> Shared {
        Shared {
            open: AtomicUsize::new(0),
            handed: wakers.iter().map(|_| Mutex::new(Vec::new())).collect(),
            wakers: wakers.into_boxed_slice(),
        }
    }

    fn loops(&self) -> usize {
        self.wakers.len()
    }

    /// A connection was removed from some loop's slab.
    pub(super) fn closed(&self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
    }

    fn queue(&self, to: usize) -> std::sync::MutexGuard<'_, Vec<(TcpStream, SocketAddr)>> {
        // Pushing or taking a socket cannot leave the queue half-changed: poison is harmless.
        self.handed[to].lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn hand_over(&self, to: usize, socket: TcpStream, peer: SocketAddr) {
        let was_empty = {
            let mut queue = self.queue(to);
            queue.push((socket, peer));
            queue.len() == 1
        };
        // A queue that was not empty has a wake-up pending already.
        if was_empty {
            if let Err(e) = self.wakers[to].wake() {
                log::warn!("{peer}: waking loop {to} failed: {e}");
            }
        }
    }
}

impl<S: Service> EventLoop<S> {
    /// Accepts until `WouldBlock`, and spreads what it accepted over the loops.
    pub(super) fn accept_all(&mut self) {
        loop {
            let Some(listener) = &self.listener else { return };
            let (mut socket, peer) = match listener.accept() {
                Ok(accepted) => accepted,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // Out of descriptors (EMFILE) or a connection reset before accept:
                    // nothing to do but wait for the next readiness.
                    log::warn!("accept failed: {e}");
                    return;
                }
            };
            let open = self.world.shared.open.load(Ordering::Relaxed);
            if open >= self.world.config.max_connections {
                self.world.stats.refused_over_limit();
                refuse(&mut socket, &self.world.clock.date);
                log::debug!("{peer}: refused, {open} connections open");
                continue;
            }
            if self.world.config.chaos.as_ref().is_some_and(|c| self.world.dice.hit(c.drop)) {
                log::info!("{peer}: chaos: dropped at accept");
                continue;
            }
            let shared = &self.world.shared;
            shared.open.fetch_add(1, Ordering::Relaxed);
            self.world.stats.accepted();
            // Push servers write small messages that must leave at once: no Nagle delay.
            if let Err(e) = socket.set_nodelay(true) {
                log::debug!("{peer}: set_nodelay: {e}");
            }
            let to = self.next;
            self.next = (self.next + 1) % shared.loops();
            if to == self.me {
                self.adopt(socket, peer);
            } else {
                shared.hand_over(to, socket, peer);
            }
        }
    }

    /// Registers the connections loop 0 handed to this loop.
    pub(super) fn adopt_handed_over(&mut self) {
        if self.world.shared.loops() == 1 {
            return;
        }
        let handed = std::mem::take(&mut *self.world.shared.queue(self.me));
        for (socket, peer) in handed {
            self.adopt(socket, peer);
        }
    }

    /// Makes `socket` one of this loop's connections. Bytes the client sent already are
    /// reported by the registration itself (epoll reports what is ready when it is added).
    fn adopt(&mut self, mut socket: TcpStream, peer: SocketAddr) {
        let key = self.conns.vacant_key();
        if let Err(e) = self.world.registry.register(&mut socket, Token(key.index), Interest::READABLE) {
            log::warn!("{peer}: register failed: {e}");
            self.world.shared.closed();
            return;
        }
        let conn = Connection::new(socket, peer, self.world.clock.now);
        let key = self.conns.insert(conn);
        self.world.stats.enter(Kind::Http);
        log::debug!("{peer}: connected as #{} on loop {}", key.index, self.me);
        if let Some(conn) = self.conns.get_key_mut(key) {
            deadlines::rearm(conn, key, &mut self.world.timers, &self.world.config);
        }
    }
}

/// SPEC §8: over `--max-connections`, the next connection gets `503` and is closed. The
/// refusal is one non-blocking write of a few bytes into an empty socket buffer, so it cannot
/// stall the loop; whatever the client sent already is read first so closing sends FIN,
/// not a reset that could destroy the `503` in flight.
fn refuse(socket: &mut TcpStream, date: &[u8]) {
    let mut sink = [0u8; 1024];
    let _ = socket.read(&mut sink);
    let mut head = Vec::with_capacity(160);
    head.extend_from_slice(b"HTTP/1.1 503 Service Unavailable\r\nDate: ");
    head.extend_from_slice(date);
    head.extend_from_slice(
        b"\r\nServer: pushlab\r\nContent-Type: text/plain\r\nContent-Length: 20\r\nConnection: close\r\n\r\ntoo many connections",
    );
    let _ = socket.write(&head);
    let _ = socket.shutdown(std::net::Shutdown::Write);
}
