//! The end of every path through a connection. Whatever woke it — readiness, a timer, a
//! publish — a connection ends its turn in [`settle`]: output flushed, the replay fed as
//! output drains, the slow-consumer and closing rules applied, `WRITABLE` interest kept in
//! step with pending output, the timer re-armed. [`act`] carries out what a transport asked
//! for ([`Next`]); [`finish`] removes a connection for good.

use mio::{Interest, Token};

use crate::limits::{LINGER, OUTPUT_PAUSE, REPLAY_BATCH, REPLAY_PASSES, SLOW_CONSUMER_BYTES};
use crate::service::Service;
use crate::stats::Kind;
use crate::transport::Next;

use super::conn::{Connection, Mode};
use super::deadlines::rearm;
use super::fanout::subscriber;
use super::requests::answer_long_poll;
use super::slab::{Key, Slab};
use super::World;

/// Keep the connection, or drop it.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Fate {
    Keep,
    Close,
}

/// Carries out what a transport asked for.
pub(super) fn act<S: Service>(conn: &mut Connection, key: Key, world: &mut World<S>, next: Next) -> Fate {
    match next {
        Next::Stay => Fate::Keep,
        Next::Answer => answer_long_poll(conn, key, world),
        Next::Close => {
            enter_lingering(conn, key, world);
            Fate::Keep
        }
        Next::Drop => {
            // One last write of what is queued (the answer to a Close frame that came with
            // the FIN, say), into the kernel's buffer if it has room; then the socket goes.
            let _ = flush(conn, world);
            Fate::Close
        }
    }
}

/// Writes what the kernel accepts; records bytes and activity.
pub(super) fn flush<S>(conn: &mut Connection, world: &mut World<S>) -> Fate {
    if conn.out.is_empty() {
        conn.stalled_until = None;
        return Fate::Keep;
    }
    if stalled(conn, world) {
        return Fate::Keep;
    }
    match conn.out.flush_to(&mut conn.socket) {
        Ok((_, written)) => {
            if written > 0 {
                world.stats.wrote(written as u64);
                conn.active_at = world.clock.now;
                if world.config.chaos.as_ref().is_some_and(|c| world.dice.hit(c.cut)) {
                    log::info!("{}: chaos: cut after a write", conn.peer);
                    return Fate::Close;
                }
            }
            Fate::Keep
        }
        Err(e) => {
            log::debug!("{}: write: {e}", conn.peer);
            Fate::Close
        }
    }
}

/// `--chaos stall=D`: output waits a random 0..=D before it is written (the deadline that
/// ends the wait is the connection's, see `Connection::next_deadline`).
fn stalled<S>(conn: &mut Connection, world: &mut World<S>) -> bool {
    let Some(chaos) = &world.config.chaos else { return false };
    if chaos.stall.is_zero() {
        return false;
    }
    let now = world.clock.now;
    let until = *conn.stalled_until.get_or_insert_with(|| now + world.dice.up_to(chaos.stall));
    if now < until {
        return true;
    }
    conn.stalled_until = None;
    false
}

/// Flush, feed the replay, apply the closing rules, keep `WRITABLE` interest in step with
/// pending output, re-arm the timer.
pub(super) fn settle<S>(conn: &mut Connection, key: Key, world: &mut World<S>) -> Fate {
    if flush(conn, world) == Fate::Close {
        return Fate::Close;
    }
    for _ in 0..REPLAY_PASSES {
        if !(conn.mode.is_replaying() && conn.out.len() < REPLAY_BATCH) {
            break;
        }
        feed_replay(conn, world);
        if flush(conn, world) == Fate::Close {
            return Fate::Close;
        }
    }
    // The kernel took every batch of this turn's share: no writable event will come to ask
    // for the next one, so it comes next turn, after the connection's input has been read.
    if conn.mode.is_replaying() && conn.out.len() < REPLAY_BATCH {
        world.again.push(key);
    }
    // SPEC §8: a consumer too slow to keep up with what is pushed to it is disconnected;
    // it resumes with its cursor. (Replies to a client's own input — echoes, pipelined
    // responses — are held back by not reading its input instead; see `read_cap`.)
    if conn.mode.is_pushed_to() && conn.out.len() > SLOW_CONSUMER_BYTES {
        log::warn!("{}: slow consumer, {} bytes unsent: disconnected", conn.peer, conn.out.len());
        world.stats.slow_consumer_dropped();
        return Fate::Close;
    }
    // The client closed its side after plain requests: finish answering what it sent
    // (unless backpressure paused that: then after the output drains and the requests still
    // in the input are answered — `paused` says some are), then close.
    if matches!(conn.mode, Mode::Http) && conn.read_closed && !conn.paused && conn.out.len() < OUTPUT_PAUSE {
        enter_lingering(conn, key, world);
    }
    if let Mode::Lingering { .. } = conn.mode {
        if conn.out.is_empty() {
            // RFC 9112 §9.6: half-close first, then read until the client closes too.
            if conn.read_closed {
                return Fate::Close;
            }
            let _ = conn.socket.shutdown(std::net::Shutdown::Write);
        }
    }
    // Output that backed up has drained inside this flush, so no writable event will come
    // to resume the input it paused: resume it next turn.
    if conn.paused && conn.out.len() < OUTPUT_PAUSE {
        conn.paused = false;
        world.again.push(key);
    }
    let want_write = !conn.out.is_empty();
    if want_write != conn.write_interest {
        let interest = if want_write { Interest::READABLE | Interest::WRITABLE } else { Interest::READABLE };
        if let Err(e) = world.registry.reregister(&mut conn.socket, Token(key.index), interest) {
            log::debug!("{}: reregister: {e}", conn.peer);
            return Fate::Close;
        }
        conn.write_interest = want_write;
    }
    rearm(conn, key, &mut world.timers, &world.config);
    Fate::Keep
}

/// Queues the next batch of a stream's replay (see `transport/replay.rs`). Replaying as
/// output drains — instead of queueing up to `--replay` messages at once — keeps a
/// reconnecting client's catch-up from counting against the slow-consumer limit.
fn feed_replay<S>(conn: &mut Connection, world: &mut World<S>) {
    let (kind, queued) = match &mut conn.mode {
        Mode::Sse(stream) => (Kind::Sse, stream.replay(&world.hub, &mut conn.out, REPLAY_BATCH)),
        Mode::WebSocket(ws) => (Kind::WebSocket, ws.replay(&world.hub, &mut conn.out, REPLAY_BATCH)),
        _ => return,
    };
    world.stats.delivered(kind, queued);
}

pub(super) fn set_mode<S>(conn: &mut Connection, world: &mut World<S>, mode: Mode) {
    if let Some(kind) = conn.mode.kind() {
        world.stats.leave(kind);
    }
    if let Some(kind) = mode.kind() {
        world.stats.enter(kind);
    }
    conn.mode = mode;
}

/// The connection says its last: flush, half-close, drain until the client closes too.
pub(super) fn enter_lingering<S>(conn: &mut Connection, key: Key, world: &mut World<S>) {
    if matches!(conn.mode, Mode::Lingering { .. }) {
        return;
    }
    if let Some(topic) = conn.mode.topic() {
        // Nothing more is pushed to a connection that is closing.
        world.hub.unsubscribe(topic, subscriber(key));
    }
    set_mode(conn, world, Mode::Lingering { until: world.clock.now + LINGER });
}

/// Removes a connection: unsubscribes it, returns its buffers, closes the socket.
pub(super) fn finish<S>(conns: &mut Slab<Connection>, world: &mut World<S>, key: Key, fate: Fate) {
    if fate == Fate::Keep {
        return;
    }
    let Some(mut conn) = conns.remove(key.index) else { return };
    if let Some(topic) = conn.mode.topic() {
        world.hub.unsubscribe(topic, subscriber(key));
    }
    if let Some(kind) = conn.mode.kind() {
        world.stats.leave(kind);
    }
    let _ = world.registry.deregister(&mut conn.socket);
    world.shared.closed();
    world.pool.give(std::mem::take(&mut conn.input));
    log::debug!("{}: closed", conn.peer);
}
