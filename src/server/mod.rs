//! `server` — the one place that touches `mio`: the event loop, the connection slab, timers,
//! buffers (chapter 00).
//!
//! The loop is single-threaded and readiness-based. `Poll::poll` sleeps until a socket is
//! ready or the earliest timer is due; then, for each ready socket, the connection is
//! *driven*: read until `WouldBlock`, let the protocol consume the input, write until
//! `WouldBlock`, compute the connection's next deadline. Messages published during the turn
//! are delivered to their subscribers before the loop sleeps again.
//!
//! Two rules from mio's `Poll` documentation shape every line here: readiness is
//! edge-triggered, so a socket must be drained until `WouldBlock` before waiting for it
//! again; and events may be spurious, so every read or write must tolerate `WouldBlock`.
//!
//! The server decides nothing about what a client is sent: requests go to the
//! [`crate::service::Service`], streams to their transport's state machine
//! (`crate::transport`), and the server carries out the [`Next`](crate::transport::Next)
//! they answer. One file per job:
//!
//! | file | job |
//! |---|---|
//! | `mod.rs` | binding, the loop, accepting, the clock, the buffer pool |
//! | `conn.rs` | one connection: socket, input buffer, output queue, `Mode` |
//! | `readiness.rs` | a ready socket: reading, fairness, input and end of input to the mode |
//! | `requests.rs` | pipelined requests → service → reply; a held long-poll's answer |
//! | `fanout.rs` | messages published this turn → their subscribers' transports |
//! | `deadlines.rs` | the timer heap: timeouts, heartbeats, lingering's end |
//! | `settle.rs` | the end of every path: flush, replay, slow consumers, closing, interest |
//! | `trace.rs` | `RUST_LOG=trace`: the wire, annotated |
//! | `slab.rs`, `timer.rs`, `rlimit.rs` | the connection slab, the timer heap, the descriptor limit |

pub mod conn;
mod deadlines;
mod fanout;
mod readiness;
mod requests;
mod rlimit;
mod settle;
pub mod slab;
pub mod timer;
mod trace;

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Instant, SystemTime};

use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Registry, Token};

use crate::config::Config;
use crate::hub::Hub;
use crate::limits::{BUFFER_POOL, EVENTS_PER_POLL, READ_BUFFER};
use crate::service::{Ctx, Service};
use crate::stats::Stats;
use crate::wire::date;
use conn::Connection;
use slab::{Key, Slab};
use timer::Timers;

/// The listener's token; connections use their slab index, which never reaches it.
const LISTENER: Token = Token(usize::MAX);

/// The clock, read once per loop turn.
pub struct Clock {
    pub now: Instant,
    pub unix_ms: u64,
    unix_s: u64,
    /// `Date` header value, reformatted only when the second changes.
    pub date: [u8; date::HTTP_DATE_LEN],
}

impl Clock {
    fn new() -> Clock {
        let mut clock =
            Clock { now: Instant::now(), unix_ms: 0, unix_s: u64::MAX, date: [b' '; date::HTTP_DATE_LEN] };
        clock.update();
        clock
    }

    fn update(&mut self) {
        self.now = Instant::now();
        self.unix_ms = date::unix_millis(SystemTime::now());
        let secs = self.unix_ms / 1000;
        if secs != self.unix_s {
            self.unix_s = secs;
            self.date = date::http_date(secs);
        }
    }
}

/// Read buffers kept for reuse: a connection borrows one while it has unparsed input and
/// gives it back when idle, so 100 000 idle connections hold no buffers at all.
#[derive(Default)]
pub struct BufferPool {
    free: Vec<Vec<u8>>,
}

impl BufferPool {
    /// A buffer of `READ_BUFFER` initialised bytes (zeroed once, when first made: reusing it
    /// costs no `memset`).
    pub fn take(&mut self) -> Vec<u8> {
        self.free.pop().unwrap_or_else(|| vec![0; READ_BUFFER])
    }

    pub fn give(&mut self, buf: Vec<u8>) {
        // Buffers that grew for a large body are freed, not kept.
        if self.free.len() < BUFFER_POOL && buf.len() == READ_BUFFER {
            self.free.push(buf);
        }
    }
}

/// Everything but the connections, so a connection and the rest can be borrowed at once.
pub struct World<S> {
    pub service: S,
    pub hub: Hub,
    pub config: Config,
    pub stats: Stats,
    pub timers: Timers,
    pub clock: Clock,
    pub pool: BufferPool,
    registry: Registry,
    /// Connections with output queued during this turn, flushed before the loop sleeps.
    dirty: Vec<Key>,
    /// Connections that stopped reading for fairness with bytes still waiting.
    again: Vec<Key>,
    /// Scratch list of subscribers, reused by every delivery.
    subscribers: Vec<crate::hub::Subscriber>,
}

impl<S> World<S> {
    /// The service, and the context it is called with: the hub, the configuration, the
    /// counters and the time (`Service::call`, `answer`, `on_ws_message`).
    fn service_and_ctx(&mut self) -> (&mut S, Ctx<'_>) {
        let World { service, hub, config, stats, clock, .. } = self;
        (service, Ctx { hub, config, stats, now: clock.now, now_ms: clock.unix_ms })
    }
}

pub struct Server<S> {
    poll: Poll,
    listener: TcpListener,
    conns: Slab<Connection>,
    world: World<S>,
}

impl<S: Service> Server<S> {
    /// Binds the listening socket. Nothing is served until [`Server::run`].
    pub fn bind(config: Config, service: S) -> io::Result<Server<S>> {
        rlimit::raise_nofile(config.max_connections);
        let poll = Poll::new()?;
        let mut listener = TcpListener::bind(config.addr)?;
        poll.registry().register(&mut listener, LISTENER, Interest::READABLE)?;
        let registry = poll.registry().try_clone()?;
        let clock = Clock::new();
        let world = World {
            service,
            hub: Hub::new(config.replay),
            stats: Stats::new(clock.now),
            config,
            timers: Timers::new(),
            clock,
            pool: BufferPool::default(),
            registry,
            dirty: Vec::new(),
            again: Vec::new(),
            subscribers: Vec::new(),
        };
        Ok(Server { poll, listener, conns: Slab::new(), world })
    }

    /// The address actually bound (with `--addr 127.0.0.1:0`, the port the kernel picked).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves forever. Returns only if polling itself fails.
    pub fn run(mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(EVENTS_PER_POLL);
        loop {
            let timeout = if self.world.again.is_empty() {
                self.world.timers.timeout(Instant::now())
            } else {
                Some(std::time::Duration::ZERO)
            };
            match self.poll.poll(&mut events, timeout) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            self.world.clock.update();
            for event in events.iter() {
                if event.token() == LISTENER {
                    self.accept_all();
                } else {
                    readiness::on_event(&mut self.conns, &mut self.world, event.token().0, event);
                }
            }
            readiness::drive_again(&mut self.conns, &mut self.world);
            deadlines::fire_timers(&mut self.conns, &mut self.world);
            fanout::deliver_fresh(&mut self.conns, &mut self.world);
            fanout::flush_dirty(&mut self.conns, &mut self.world);
        }
    }

    /// Accepts until `WouldBlock` (the listener is edge-triggered too).
    fn accept_all(&mut self) {
        loop {
            let (mut socket, peer) = match self.listener.accept() {
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
            if self.conns.len() >= self.world.config.max_connections {
                self.world.stats.refused_over_limit += 1;
                refuse(&mut socket, &self.world.clock.date);
                log::debug!("{peer}: refused, {} connections open", self.conns.len());
                continue;
            }
            // Push servers write small messages that must leave at once: no Nagle delay.
            if let Err(e) = socket.set_nodelay(true) {
                log::debug!("{peer}: set_nodelay: {e}");
            }
            let key = self.conns.vacant_key();
            if let Err(e) = self.world.registry.register(&mut socket, Token(key.index), Interest::READABLE) {
                log::warn!("{peer}: register failed: {e}");
                continue;
            }
            let conn = Connection::new(socket, peer, self.world.clock.now);
            let key = self.conns.insert(conn);
            self.world.stats.accepted += 1;
            self.world.stats.enter(crate::stats::Kind::Http);
            log::debug!("{peer}: connected as #{}", key.index);
            if let Some(conn) = self.conns.get_key_mut(key) {
                deadlines::rearm(conn, key, &mut self.world.timers, &self.world.config);
            }
        }
    }
}

/// SPEC §8: over `--max-connections`, the next connection gets `503` and is closed. The
/// refusal is one non-blocking write of a few bytes into an empty socket buffer, so it cannot
/// stall the loop; whatever the client sent already is read first so closing sends FIN,
/// not a reset that could destroy the `503` in flight.
fn refuse(socket: &mut mio::net::TcpStream, date: &[u8]) {
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
