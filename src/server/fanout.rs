//! Fan-out: every message published during a loop turn, handed to the connections
//! subscribed to its topic before the loop sleeps again.
//!
//! Each transport decides what a message means to it (`push` for SSE and `/ws`, `on_message`
//! for a held long-poll); what they queue is the message's shared encoding, so 10 000
//! subscribers cost 10 000 reference counts, not 10 000 copies. The writes happen in
//! [`flush_dirty`], so several messages for one connection leave in one `writev`.

use crate::hub::Subscriber;
use crate::service::Service;
use crate::stats::Kind;
use crate::transport::Next;

use super::conn::{Connection, Mode};
use super::settle::{act, finish, settle, Fate};
use super::slab::{Key, Slab};
use super::{trace, World};

/// The hub's name for connection `key`: index and generation, so a stale subscription never
/// reaches a connection that reused the slot.
pub(super) fn subscriber(key: Key) -> Subscriber {
    Subscriber(((key.generation as u64) << 32) | key.index as u64)
}

fn key_of(sub: Subscriber) -> Key {
    Key { index: (sub.0 & 0xffff_ffff) as usize, generation: (sub.0 >> 32) as u32 }
}

/// Hands every message published this turn to the connections subscribed to its topic.
pub(super) fn deliver_fresh<S: Service>(conns: &mut Slab<Connection>, world: &mut World<S>) {
    loop {
        let fresh = world.hub.take_fresh();
        if fresh.is_empty() {
            return;
        }
        for message in fresh {
            let mut subscribers = std::mem::take(&mut world.subscribers);
            world.hub.subscribers_into(&message.topic, &mut subscribers);
            if log::log_enabled!(log::Level::Trace) {
                trace::message(&message, subscribers.len());
            }
            let (now, heartbeat) = (world.clock.now, world.config.heartbeat);
            for &sub in &subscribers {
                let key = key_of(sub);
                let Some(conn) = conns.get_key_mut(key) else { continue };
                let fate = match &mut conn.mode {
                    Mode::LongPoll(held) => match held.on_message(&message) {
                        Next::Stay => continue,
                        next => act(conn, key, world, next),
                    },
                    Mode::Sse(stream) => {
                        if !stream.push(&message, now, heartbeat, &mut conn.out) {
                            continue;
                        }
                        world.stats.delivered(Kind::Sse, 1);
                        Fate::Keep
                    }
                    Mode::WebSocket(ws) => {
                        if !ws.push(&message, &mut conn.out) {
                            continue;
                        }
                        world.stats.delivered(Kind::WebSocket, 1);
                        Fate::Keep
                    }
                    Mode::Http | Mode::Lingering { .. } => continue,
                };
                if fate == Fate::Close {
                    finish(conns, world, key, fate);
                } else {
                    world.dirty.push(key);
                }
            }
            world.subscribers = subscribers;
        }
    }
}

/// Flushes every connection that got output from a delivery this turn.
pub(super) fn flush_dirty<S: Service>(conns: &mut Slab<Connection>, world: &mut World<S>) {
    let mut dirty = std::mem::take(&mut world.dirty);
    dirty.sort_unstable();
    dirty.dedup();
    for &key in &dirty {
        let Some(conn) = conns.get_key_mut(key) else { continue };
        let fate = settle(conn, key, world);
        finish(conns, world, key, fate);
    }
    dirty.clear();
    world.dirty = dirty;
}
