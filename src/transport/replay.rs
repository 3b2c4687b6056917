//! The replay cursor one stream keeps (SSE and `/ws`, chapters 04–05): where the catch-up
//! from the hub's ring stands, and which live messages the stream already has.
//!
//! A stream that starts after cursor `c` owes its client every retained message with id
//! `> c`, then every message published later, each exactly once and in order (SPEC §2, §6).
//! Two sources feed it — the ring (replay) and live publishes — and the seam between them is
//! where messages get lost or doubled. The rules, in one place:
//!
//! - While replaying, live messages are *not* sent: they are in the ring too, after the
//!   ones being replayed, and the replay will reach them in order.
//! - The replay is queued in batches as output drains ([`Replay::feed`]'s `budget`), not all
//!   at once, so a reconnecting client's catch-up stays within memory bounds and never counts
//!   against the slow-consumer limit.
//! - Once caught up, a live message is sent only if its id is above the last one sent: a
//!   message the replay already queued, or one published before the stream began in the
//!   same loop turn, is skipped.

use std::rc::Rc;

use crate::hub::{Hub, Message};
use crate::outq::OutQueue;

#[derive(Debug)]
pub struct Replay {
    /// `Some(cursor)` while the catch-up after `cursor` is still being queued.
    after: Option<u64>,
    /// The id of the last message queued on this stream.
    sent_up_to: u64,
}

impl Replay {
    /// A stream that owes its client everything after `cursor`.
    pub fn after(cursor: u64) -> Replay {
        Replay { after: Some(cursor), sent_up_to: cursor }
    }

    /// `true` until every retained message after the cursor has been queued.
    pub fn is_catching_up(&self) -> bool {
        self.after.is_some()
    }

    /// The id of the last message queued.
    pub fn sent_up_to(&self) -> u64 {
        self.sent_up_to
    }

    /// Queues the next retained messages of `topic` after the cursor, encoded by `encode`,
    /// until `out` holds `budget` bytes. Returns how many it queued.
    pub fn feed(
        &mut self,
        hub: &Hub,
        topic: &str,
        out: &mut OutQueue,
        budget: usize,
        encode: impl Fn(&Message) -> Rc<[u8]>,
    ) -> u64 {
        let Some(mut cursor) = self.after else { return 0 };
        let mut queued = 0;
        let mut caught_up = true;
        for message in hub.after(topic, cursor, usize::MAX) {
            if out.len() >= budget {
                caught_up = false;
                break;
            }
            out.push_shared(encode(message));
            cursor = message.id;
            queued += 1;
        }
        self.sent_up_to = self.sent_up_to.max(cursor);
        self.after = if caught_up { None } else { Some(cursor) };
        queued
    }

    /// Whether the live message `id` should be sent now; if so, it counts as sent.
    pub fn take_live(&mut self, id: u64) -> bool {
        if self.after.is_some() || id <= self.sent_up_to {
            return false;
        }
        self.sent_up_to = id;
        true
    }

    /// Stops the catch-up: nothing more will be sent on this stream (it is closing).
    pub fn stop(&mut self) {
        self.after = None;
        self.sent_up_to = u64::MAX;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(out: &mut OutQueue) -> Vec<u8> {
        let mut bytes = Vec::new();
        out.flush_to(&mut bytes).expect("a Vec takes everything");
        bytes
    }

    fn one_byte(m: &Message) -> Rc<[u8]> {
        Rc::from(&[m.id as u8][..])
    }

    #[test]
    fn replay_then_live_sends_every_id_once_in_order() {
        let mut hub = Hub::new(16);
        for i in 0..5 {
            hub.publish("t", &i.to_string(), 0);
        }
        let mut replay = Replay::after(2);
        let mut out = OutQueue::new();
        // A budget of 1 byte: one message per batch.
        assert_eq!(replay.feed(&hub, "t", &mut out, 1, one_byte), 1);
        assert!(replay.is_catching_up());
        // Published while catching up: not sent live, the replay reaches it.
        let six = hub.publish("t", "6", 0);
        assert!(!replay.take_live(six.id));
        while replay.is_catching_up() {
            replay.feed(&hub, "t", &mut out, usize::MAX, one_byte);
        }
        assert!(!replay.take_live(six.id), "already sent by the replay");
        let seven = hub.publish("t", "7", 0);
        assert!(replay.take_live(seven.id));
        out.push_shared(one_byte(&seven));
        assert_eq!(ids(&mut out), [3, 4, 5, 6, 7]);
    }

    #[test]
    fn stopped_replay_sends_nothing() {
        let mut hub = Hub::new(16);
        hub.publish("t", "a", 0);
        let mut replay = Replay::after(0);
        replay.stop();
        let mut out = OutQueue::new();
        assert_eq!(replay.feed(&hub, "t", &mut out, usize::MAX, one_byte), 0);
        let b = hub.publish("t", "b", 0);
        assert!(!replay.take_live(b.id));
        assert!(out.is_empty());
    }
}
