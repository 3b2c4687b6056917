//! One connection: its socket, its buffers, and what it is doing now.
//!
//! A connection is a state machine over [`Mode`]. Every connection starts in `Http`
//! (reading requests, writing responses); a request can move it to `LongPoll` (held), `Sse`
//! (streaming) or `WebSocket` (upgraded). `LongPoll` returns to `Http` after its reply.
//! `Lingering` is the end of every connection that closes with something to say: the last
//! response is flushed, our side is shut down, and whatever the client still sends is read
//! and dropped until it closes too — closing a socket with unread input would make the kernel
//! send a reset that can destroy the response in flight.
//!
//! ```text
//!            ┌──────────── reply ─────────────┐
//!            ▼                                │
//! accept → Http ── /long-poll (no news) ──→ LongPoll
//!            │ ── /sse ─────────────────────→ Sse
//!            │ ── GET + Upgrade: websocket ─→ WebSocket
//!            └── error / Connection: close ─→ Lingering → closed
//! ```

use std::io::{self, Read};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Instant;

use mio::net::TcpStream;

use crate::config::Config;
use crate::http::reader::RequestReader;
use crate::limits::MIN_READ;
use crate::outq::OutQueue;
use crate::stats::Kind;
use crate::transport::long_poll::HeldPoll;
use crate::transport::sse::SseStream;
use crate::transport::ws_session::WsSession;
use crate::wire::request::Version;

use super::BufferPool;

/// What a connection is doing; the streaming modes hold their transport's state machine.
pub enum Mode {
    Http,
    LongPoll(HeldPoll),
    Sse(SseStream),
    WebSocket(Box<WsSession>),
    /// Flushing the last bytes, then draining input until EOF or `until`.
    Lingering {
        until: Instant,
    },
}

impl Mode {
    pub fn kind(&self) -> Option<Kind> {
        match self {
            Mode::Http => Some(Kind::Http),
            Mode::LongPoll(_) => Some(Kind::LongPoll),
            Mode::Sse(_) => Some(Kind::Sse),
            Mode::WebSocket(_) => Some(Kind::WebSocket),
            Mode::Lingering { .. } => None,
        }
    }

    /// The topic this connection is subscribed to, if any.
    pub fn topic(&self) -> Option<&Rc<str>> {
        match self {
            Mode::LongPoll(held) => Some(&held.topic),
            Mode::Sse(stream) => Some(&stream.topic),
            Mode::WebSocket(ws) => ws.topic_name(),
            Mode::Http | Mode::Lingering { .. } => None,
        }
    }

    /// `true` while a stream still has retained messages to queue.
    pub fn is_replaying(&self) -> bool {
        match self {
            Mode::Sse(stream) => stream.is_replaying(),
            Mode::WebSocket(ws) => ws.is_replaying(),
            _ => false,
        }
    }

    /// Whether pushes fill this connection's output (SSE, `/ws`): the slow-consumer rule.
    pub fn is_pushed_to(&self) -> bool {
        match self {
            Mode::Sse(_) => true,
            Mode::WebSocket(ws) => ws.is_pushed_to(),
            _ => false,
        }
    }
}

pub struct Connection {
    pub socket: TcpStream,
    pub peer: SocketAddr,
    /// The input buffer, borrowed from the pool while it holds unread bytes (empty, and no
    /// allocation, otherwise). `input[pos..end]` is what the protocol has not consumed yet;
    /// `input[end..]` is initialised room for the next read.
    pub input: Vec<u8>,
    pub pos: usize,
    pub end: usize,
    /// A chunked request body being decoded.
    pub body_buf: Vec<u8>,
    pub reader: RequestReader,
    pub out: OutQueue,
    pub mode: Mode,
    /// HTTP version and persistence of the request being answered (for held replies).
    pub version: Version,
    pub keep_alive: bool,
    /// When the first byte of the current request head arrived (for the 408 timeout).
    pub head_started: Option<Instant>,
    /// When bytes last moved in either direction.
    pub active_at: Instant,
    /// The peer has closed its side (read returned 0).
    pub read_closed: bool,
    /// Edge-triggered readiness says there may be more to read.
    pub readable: bool,
    /// Input processing stopped because output backed up; resume once it drains.
    pub paused: bool,
    /// `WRITABLE` interest is registered (only while output is blocked).
    pub write_interest: bool,
    /// The next moment something must happen, as computed by [`Connection::next_deadline`].
    pub deadline: Option<Instant>,
    /// The earliest entry this connection has in the timer heap.
    pub armed: Option<Instant>,
    /// `--chaos stall=D`: output is held back until then.
    pub stalled_until: Option<Instant>,
}

/// What a read pass found.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadOutcome {
    /// Drained to `WouldBlock` (or stopped at the input cap).
    Open,
    /// The peer closed its side.
    Eof,
}

impl Connection {
    pub fn new(socket: TcpStream, peer: SocketAddr, now: Instant) -> Connection {
        Connection {
            socket,
            peer,
            input: Vec::new(),
            pos: 0,
            end: 0,
            body_buf: Vec::new(),
            reader: RequestReader::new(),
            out: OutQueue::new(),
            mode: Mode::Http,
            version: Version::Http11,
            keep_alive: true,
            head_started: None,
            active_at: now,
            read_closed: false,
            readable: true,
            paused: false,
            write_interest: false,
            deadline: None,
            armed: None,
            stalled_until: None,
        }
    }

    pub fn unread(&self) -> &[u8] {
        &self.input[self.pos..self.end]
    }

    /// Reads until `WouldBlock`, EOF or `cap` unread bytes. Edge-triggered readiness means
    /// stopping early is only safe because `readable` remembers that more may be waiting.
    pub fn fill(&mut self, pool: &mut BufferPool, cap: usize) -> io::Result<ReadOutcome> {
        while self.readable && !self.read_closed {
            if self.end - self.pos >= cap {
                break;
            }
            if self.input.is_empty() {
                self.input = pool.take();
            }
            // The buffer is initialised once, when made; reads go into the room after `end`,
            // which grows (zeroing only the new part) when little is left.
            if self.input.len() - self.end < MIN_READ {
                self.input.resize(self.input.len() * 2, 0);
            }
            match self.socket.read(&mut self.input[self.end..]) {
                Ok(0) => self.read_closed = true,
                Ok(n) => self.end += n,
                Err(e) => match e.kind() {
                    io::ErrorKind::WouldBlock => self.readable = false,
                    io::ErrorKind::Interrupted => {}
                    _ => return Err(e),
                },
            }
        }
        Ok(if self.read_closed { ReadOutcome::Eof } else { ReadOutcome::Open })
    }

    /// Forgets consumed input; gives the buffer back to the pool when nothing is left.
    pub fn compact(&mut self, pool: &mut BufferPool) {
        if self.pos == 0 {
            return;
        }
        if self.pos >= self.end {
            pool.give(std::mem::take(&mut self.input));
            self.end = 0;
        } else {
            self.input.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
        }
        self.pos = 0;
    }

    /// Marks all unread input consumed.
    pub fn consume_all(&mut self) {
        self.pos = self.end;
    }

    /// The next moment this connection needs attention, whatever it is doing.
    pub fn next_deadline(&self, config: &Config) -> Option<Instant> {
        let own = match &self.mode {
            Mode::Http => Some(match self.head_started {
                Some(started) if self.reader.reading_head() => started + config.head_timeout,
                _ => self.active_at + config.idle_timeout,
            }),
            Mode::LongPoll(held) => Some(held.deadline),
            Mode::Sse(stream) => Some(stream.deadline()),
            Mode::WebSocket(ws) => Some(ws.deadline(config.heartbeat)),
            Mode::Lingering { until } => Some(*until),
        };
        // `--chaos stall=D`: held-back output is due when its wait ends.
        match (own, self.stalled_until) {
            (Some(own), Some(stall)) => Some(own.min(stall)),
            (own, stall) => own.or(stall),
        }
    }
}
