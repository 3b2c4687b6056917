//! Readiness and fairness: what the loop does for a socket `mio` says is ready.
//!
//! mio's two rules shape this file: readiness is edge-triggered, so a socket is read until
//! `WouldBlock` (or the connection has had its share of the turn, and `World::again` brings
//! it back); and events may be spurious, so every read tolerates `WouldBlock`. What was
//! read is handed to whatever the connection is doing ([`consume`]), and the end of input is
//! handed on like any other input — after the bytes it came with, to the mode those bytes
//! led to.

use mio::event::Event;

use crate::limits::{MAX_HEAD, MAX_INPUT, OUTPUT_PAUSE, READ_BUFFER, READ_PASSES, WS_READ_CAP};
use crate::service::Service;
use crate::transport::Next;

use super::conn::{Connection, Mode};
use super::settle::{act, finish, flush, settle, Fate};
use super::slab::{Key, Slab};
use super::{requests, World};

/// A readiness event for connection `index`.
pub(super) fn on_event<S: Service>(
    conns: &mut Slab<Connection>,
    world: &mut World<S>,
    index: usize,
    event: &Event,
) {
    // Spurious events, and events for a connection closed earlier in this batch, are normal.
    let Some(key) = conns.key_of(index) else { return };
    let Some(conn) = conns.get_mut(index) else { return };
    if event.is_readable() || event.is_read_closed() || event.is_error() {
        conn.readable = true;
    }
    // A held or streaming client that hangs up is freed at once (SPEC §8), even when its
    // buffer is too full to read the EOF itself: nothing it sent matters any more. A
    // WebSocket is read first (a Close frame may precede the FIN), unless backpressure has
    // stopped its reading: then the EOF could never be read.
    let hung_up = event.is_read_closed() || event.is_error();
    let unreadable = match conn.mode {
        Mode::LongPoll(_) | Mode::Sse(_) => true,
        Mode::WebSocket(_) => read_cap(conn) == 0,
        Mode::Http | Mode::Lingering { .. } => false,
    };
    let fate = if hung_up && unreadable {
        conn.read_closed = true;
        end_of_input(conn, key, world)
    } else {
        drive(conn, key, world)
    };
    finish(conns, world, key, fate);
}

/// Drives the connections that ran out of passes last turn.
pub(super) fn drive_again<S: Service>(conns: &mut Slab<Connection>, world: &mut World<S>) {
    let mut again = std::mem::take(&mut world.again);
    again.sort_unstable();
    again.dedup();
    for key in again {
        let Some(conn) = conns.get_key_mut(key) else { continue };
        let fate = drive(conn, key, world);
        finish(conns, world, key, fate);
    }
}

/// Reads what there is, lets the connection's mode consume it, and settles.
fn drive<S: Service>(conn: &mut Connection, key: Key, world: &mut World<S>) -> Fate {
    // Output first: a writable event may have freed room, and output is what unblocks input.
    if flush(conn, world) == Fate::Close {
        return Fate::Close;
    }
    // Read and consume in passes until the socket is drained, the connection stops wanting
    // input, or it has had its fair share of the turn.
    for _ in 0..READ_PASSES {
        let cap = read_cap(conn);
        if cap == 0 {
            conn.paused = true;
            break;
        }
        let before = conn.end;
        if let Err(e) = conn.fill(&mut world.pool, cap) {
            log::debug!("{}: read: {e}", conn.peer);
            return Fate::Close;
        }
        if conn.end != before {
            conn.active_at = world.clock.now;
        }
        if consume(conn, key, world) == Fate::Close {
            return Fate::Close;
        }
        conn.compact(&mut world.pool);
        if !conn.readable || conn.read_closed || conn.unread().len() >= read_cap(conn) {
            // Stopped by backpressure (an echo filled the output) with input perhaps still
            // waiting in the kernel, where no new edge will announce it: `paused` makes
            // `settle` resume reading once the output drains, even inside its own flush.
            if conn.readable && !conn.read_closed && read_cap(conn) == 0 {
                conn.paused = true;
            }
            return settle(conn, key, world);
        }
        // Send what this pass produced before reading more (an echo must not pile up).
        if flush(conn, world) == Fate::Close {
            return Fate::Close;
        }
    }
    // Out of passes with bytes still waiting: come back next turn without waiting for an
    // event that may never come.
    if conn.readable && !conn.read_closed && read_cap(conn) > 0 {
        world.again.push(key);
    }
    settle(conn, key, world)
}

/// How much unread input a connection may hold now; 0 means "do not read".
fn read_cap(conn: &Connection) -> usize {
    let backed_up = conn.out.len() >= OUTPUT_PAUSE;
    match conn.mode {
        // Backpressure: a client that pipelines without reading, or sends WebSocket
        // messages faster than it reads the echoes, is not read until its output drains.
        Mode::Http | Mode::WebSocket(_) if backed_up => 0,
        Mode::Http => MAX_INPUT,
        Mode::WebSocket(_) => WS_READ_CAP,
        // Held and streaming connections read only to notice a hang-up; a few pipelined
        // bytes wait in the buffer for the long-poll to finish.
        Mode::LongPoll(_) | Mode::Sse(_) => MAX_HEAD,
        Mode::Lingering { .. } => READ_BUFFER,
    }
}

/// Hands the unread input to whatever the connection is doing; then, if the peer has closed
/// its side, the end of input — to whatever the connection is doing *now*, since the
/// request that arrived with the FIN may have just made it a long-poll, a stream or a
/// WebSocket (SPEC §8).
pub(super) fn consume<S: Service>(conn: &mut Connection, key: Key, world: &mut World<S>) -> Fate {
    let fate = match conn.mode {
        Mode::Http => requests::process_http(conn, key, world),
        Mode::WebSocket(_) => websocket_input(conn, key, world),
        Mode::LongPoll(_) | Mode::Sse(_) => Fate::Keep,
        Mode::Lingering { .. } => {
            conn.consume_all();
            Fate::Keep
        }
    };
    if fate == Fate::Close || !conn.read_closed {
        return fate;
    }
    end_of_input(conn, key, world)
}

/// The peer closed its side. Plain HTTP finishes answering what it was sent (`settle`
/// closes after that); held and streaming transports decide for themselves.
fn end_of_input<S: Service>(conn: &mut Connection, key: Key, world: &mut World<S>) -> Fate {
    let next = match &mut conn.mode {
        Mode::Http | Mode::Lingering { .. } => return Fate::Keep,
        Mode::LongPoll(held) => held.on_eof(),
        Mode::Sse(stream) => stream.on_eof(),
        Mode::WebSocket(ws) => ws.on_eof(),
    };
    log::debug!("{}: hung up while held or streaming", conn.peer);
    act(conn, key, world, next)
}

/// Feeds unread input to a WebSocket session; each complete message goes to the service.
pub(super) fn websocket_input<S: Service>(conn: &mut Connection, key: Key, world: &mut World<S>) -> Fate {
    let Connection { mode: Mode::WebSocket(session), input, pos, end, out, .. } = conn else {
        return Fate::Keep;
    };
    let now = world.clock.now;
    let (service, mut ctx) = world.service_and_ctx();
    let topic = session.topic_name().cloned();
    let next = session.on_input(&input[*pos..*end], now, out, &mut |kind, payload| {
        service.on_ws_message(topic.as_deref(), kind, payload, &mut ctx)
    });
    *pos = *end;
    if next == Next::Stay {
        return Fate::Keep;
    }
    act(conn, key, world, next)
}
