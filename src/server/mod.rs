//! `server` — the one place that touches `mio`: the event loop, the connection slab, timers,
//! buffers (chapter 00).
//!
//! Each loop is single-threaded and readiness-based. `Poll::poll` sleeps until a socket is
//! ready or the earliest timer is due; then, for each ready socket, the connection is
//! *driven*: read until `WouldBlock`, let the protocol consume the input, write until
//! `WouldBlock`, compute the connection's next deadline. Messages published during the turn
//! are delivered to their subscribers before the loop sleeps again.
//!
//! With `--workers N` there are N such loops, one thread each, sharing nothing on the hot
//! path: each owns the connections it was given, its slab, timers, buffers and hub replica.
//! Loop 0 accepts and hands every other connection round-robin to the next loop
//! (`accept.rs`); a message published on one loop reaches the others through the hub's bus
//! and a `mio::Waker` (chapter 09).
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
//! | `mod.rs` | binding, starting the loops, one loop's turn, the clock, the buffer pool |
//! | `accept.rs` | accepting, `--max-connections`, handing connections to the other loops |
//! | `conn.rs` | one connection: socket, input buffer, output queue, `Mode` |
//! | `readiness.rs` | a ready socket: reading, fairness, input and end of input to the mode |
//! | `requests.rs` | pipelined requests → service → reply; a held long-poll's answer |
//! | `fanout.rs` | messages published this turn → their subscribers' transports |
//! | `deadlines.rs` | the timer heap: timeouts, heartbeats, lingering's end |
//! | `settle.rs` | the end of every path: flush, replay, slow consumers, closing, interest |
//! | `trace.rs` | `RUST_LOG=trace`: the wire, annotated |
//! | `slab.rs`, `timer.rs`, `rlimit.rs` | the connection slab, the timer heap, the descriptor limit |

mod accept;
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

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Registry, Token, Waker};

use crate::config::chaos::Dice;
use crate::config::Config;
use crate::hub::bus::{Bus, Wake};
use crate::hub::Hub;
use crate::limits::{BUFFER_POOL, EVENTS_PER_POLL, READ_BUFFER};
use crate::service::{Ctx, Service};
use crate::stats::Stats;
use crate::wire::date;
use accept::Shared;
use conn::Connection;
use slab::{Key, Slab};
use timer::Timers;

/// The listener's token; connections use their slab index, which never reaches it.
const LISTENER: Token = Token(usize::MAX);
/// The token of a loop's `Waker`: another loop handed it a connection or published.
const WAKER: Token = Token(usize::MAX - 1);

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
    /// `--chaos`'s dice (unused when it is off).
    dice: Dice,
    registry: Registry,
    /// What the loops of the process share: the connection count, the hand-over queues.
    shared: Arc<Shared>,
    /// Connections with output queued during this turn, flushed before the loop sleeps.
    dirty: Vec<Key>,
    /// Connections that stopped reading for fairness with bytes still waiting.
    again: Vec<Key>,
    /// Scratch list of subscribers, reused by every delivery.
    subscribers: Vec<crate::hub::Subscriber>,
}

impl<S> World<S> {
    /// The service, and the context it is called with: the hub, the configuration, the
    /// counters and the time (`Service::call`, `answer`, `on_ws_message`). The hub first
    /// takes in what other loops published, so a request is never answered from a replica
    /// older than a publish answered before the request arrived.
    fn service_and_ctx(&mut self) -> (&mut S, Ctx<'_>) {
        self.hub.receive();
        let World { service, hub, config, stats, clock, .. } = self;
        (service, Ctx { hub, config, stats, now: clock.now, now_ms: clock.unix_ms })
    }
}

/// A bound server: the listener and one `Poll` per loop, not yet serving.
pub struct Server<F> {
    listener: TcpListener,
    polls: Vec<Poll>,
    stats: Vec<Stats>,
    bus: Option<Arc<Bus>>,
    shared: Arc<Shared>,
    config: Config,
    make: F,
}

impl<S, F> Server<F>
where
    S: Service + 'static,
    F: Fn() -> S + Send + Sync + 'static,
{
    /// Binds the listening socket and makes `config.workers` loops' `Poll`s and `Waker`s.
    /// Nothing is served until [`Server::run`], which calls `make` once on each loop's
    /// thread: the service need not be `Send`.
    pub fn bind(config: Config, make: F) -> io::Result<Server<F>> {
        rlimit::raise_nofile(config.max_connections);
        if let Some(chaos) = &config.chaos {
            log::warn!("{}", chaos.describe());
        }
        let workers = config.workers.max(1);
        let polls = (0..workers).map(|_| Poll::new()).collect::<io::Result<Vec<_>>>()?;
        let mut listener = TcpListener::bind(config.addr)?;
        polls[0].registry().register(&mut listener, LISTENER, Interest::READABLE)?;
        let wakers = polls
            .iter()
            .map(|p| Waker::new(p.registry(), WAKER).map(Arc::new))
            .collect::<io::Result<Vec<_>>>()?;
        let bus = (workers > 1).then(|| Bus::new(wakers.iter().map(|w| wake(w.clone())).collect()));
        Ok(Server {
            listener,
            stats: Stats::per_loop(Instant::now(), workers),
            polls,
            bus,
            shared: Arc::new(Shared::new(wakers)),
            config,
            make,
        })
    }

    /// The address actually bound (with `--addr 127.0.0.1:0`, the port the kernel picked).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Starts loops 1.. on threads of their own and runs loop 0 on this one, forever.
    /// Returns only if loop 0's polling fails.
    pub fn run(self) -> io::Result<()> {
        let Server { listener, polls, stats, bus, shared, config, make } = self;
        let make = Arc::new(make);
        let mut loops = polls.into_iter().zip(stats).enumerate();
        let (_, (first_poll, first_stats)) = loops.next().expect("at least one loop");
        for (me, (poll, stats)) in loops {
            let (make, bus, shared, config) = (make.clone(), bus.clone(), shared.clone(), config.clone());
            std::thread::Builder::new().name(format!("pushlab-{me}")).spawn(move || {
                let hub = hub_for(&bus, config.replay, me);
                match EventLoop::new(me, poll, None, make(), hub, stats, config, shared) {
                    Ok(event_loop) => {
                        if let Err(e) = event_loop.run() {
                            log::error!("event loop {me} failed: {e}");
                        }
                    }
                    Err(e) => log::error!("event loop {me} could not start: {e}"),
                }
            })?;
        }
        let hub = hub_for(&bus, config.replay, 0);
        EventLoop::new(0, first_poll, Some(listener), make(), hub, first_stats, config, shared)?.run()
    }
}

fn hub_for(bus: &Option<Arc<Bus>>, replay: usize, me: usize) -> Hub {
    match bus {
        Some(bus) => Hub::on_bus(replay, bus.clone(), me),
        None => Hub::new(replay),
    }
}

/// The hub's way of waking a loop: its `Waker`.
fn wake(waker: Arc<Waker>) -> Wake {
    Box::new(move || {
        if let Err(e) = waker.wake() {
            log::warn!("waking a loop failed: {e}");
        }
    })
}

/// One event loop: its `Poll`, its connections, and everything else it owns.
struct EventLoop<S> {
    me: usize,
    poll: Poll,
    /// Loop 0's: the listening socket.
    listener: Option<TcpListener>,
    conns: Slab<Connection>,
    world: World<S>,
    /// The loop the next accepted connection goes to.
    next: usize,
}

impl<S: Service> EventLoop<S> {
    #[allow(clippy::too_many_arguments)]
    fn new(
        me: usize,
        poll: Poll,
        listener: Option<TcpListener>,
        service: S,
        hub: Hub,
        stats: Stats,
        config: Config,
        shared: Arc<Shared>,
    ) -> io::Result<EventLoop<S>> {
        let registry = poll.registry().try_clone()?;
        let dice = config.chaos.as_ref().map_or(Dice::default(), |c| c.dice(me));
        let world = World {
            dice,
            service,
            hub,
            stats,
            config,
            timers: Timers::new(),
            clock: Clock::new(),
            pool: BufferPool::default(),
            registry,
            shared,
            dirty: Vec::new(),
            again: Vec::new(),
            subscribers: Vec::new(),
        };
        Ok(EventLoop { me, poll, listener, conns: Slab::new(), world, next: 0 })
    }

    /// Serves forever. Returns only if polling itself fails.
    fn run(mut self) -> io::Result<()> {
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
            // What other loops sent while this one slept, before anything is answered: the
            // messages they published, and the connections handed to this loop.
            self.world.hub.receive();
            self.adopt_handed_over();
            for event in events.iter() {
                match event.token() {
                    LISTENER => self.accept_all(),
                    WAKER => {}
                    token => readiness::on_event(&mut self.conns, &mut self.world, token.0, event),
                }
            }
            readiness::drive_again(&mut self.conns, &mut self.world);
            deadlines::fire_timers(&mut self.conns, &mut self.world);
            fanout::deliver_fresh(&mut self.conns, &mut self.world);
            fanout::flush_dirty(&mut self.conns, &mut self.world);
        }
    }
}
