//! Deadlines: every connection has at most one "next moment something must happen"
//! ([`Connection::next_deadline`]) — a head timeout, an idle timeout, a long-poll's end, a
//! heartbeat, a close timeout, the end of lingering — kept in the timer heap of `timer.rs`.

use std::time::Instant;

use crate::config::Config;
use crate::http::response::Response;
use crate::http::status;
use crate::service::Service;
use crate::wire::request::Version;

use super::conn::{Connection, Mode};
use super::requests::write_response;
use super::settle::{act, enter_lingering, finish, settle, Fate};
use super::slab::{Key, Slab};
use super::timer::Timers;
use super::World;

/// Records the connection's next deadline, pushing a heap entry only if it is earlier than
/// the one already armed (see `timer.rs` on lazy cancellation).
pub(super) fn rearm(conn: &mut Connection, key: Key, timers: &mut Timers, config: &Config) {
    conn.deadline = conn.next_deadline(config);
    if let Some(when) = conn.deadline {
        if conn.armed.is_none_or(|armed| when < armed) {
            timers.arm(when, key);
            conn.armed = Some(when);
        }
    }
}

/// Runs every timer that is due.
pub(super) fn fire_timers<S: Service>(conns: &mut Slab<Connection>, world: &mut World<S>) {
    let now = world.clock.now;
    while let Some((when, key)) = world.timers.pop_due(now) {
        let Some(conn) = conns.get_key_mut(key) else { continue };
        if conn.armed == Some(when) {
            conn.armed = None;
        }
        let fate = match conn.deadline {
            Some(deadline) if deadline <= now => on_deadline(conn, key, world, now),
            // The deadline moved later since this entry was pushed: arm the real one.
            _ => {
                rearm(conn, key, &mut world.timers, &world.config);
                Fate::Keep
            }
        };
        finish(conns, world, key, fate);
    }
}

/// A connection's deadline has come: what that means depends on what it is doing.
fn on_deadline<S: Service>(conn: &mut Connection, key: Key, world: &mut World<S>, now: Instant) -> Fate {
    // `--chaos stall=D`: the held-back output's wait is over (the connection's own deadline,
    // if it is due too, fires next, when `settle` re-arms it).
    if conn.stalled_until.is_some_and(|until| until <= now) {
        return settle(conn, key, world);
    }
    let heartbeat = world.config.heartbeat;
    let next = match &mut conn.mode {
        Mode::Http => {
            if conn.head_started.is_none() || !conn.reader.reading_head() || conn.pos >= conn.end {
                log::debug!("{}: idle, closing", conn.peer);
                return Fate::Close;
            }
            // SPEC §8: a head not complete 10 s after its first byte.
            log::debug!("{}: request head timed out", conn.peer);
            let response = Response::error(status::REQUEST_TIMEOUT, "request head not complete in time");
            write_response(conn, world, &response, Version::Http11, false, false);
            enter_lingering(conn, key, world);
            return settle(conn, key, world);
        }
        Mode::LongPoll(held) => held.on_deadline(now),
        Mode::Sse(stream) => stream.on_deadline(now, heartbeat, &mut conn.out),
        Mode::WebSocket(ws) => ws.on_deadline(now, heartbeat, &mut conn.out),
        Mode::Lingering { .. } => return Fate::Close,
    };
    if act(conn, key, world, next) == Fate::Close {
        return Fate::Close;
    }
    settle(conn, key, world)
}
