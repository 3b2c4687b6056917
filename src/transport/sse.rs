//! A Server-Sent Events stream (SPEC §6, chapter 04).
//!
//! After the response head, the stream is a sequence of *pieces*: the `retry:` preamble, one
//! event per message, and `: keep-alive` comments when idle. On HTTP/1.1 each piece is one
//! chunk of the chunked body; on HTTP/1.0 the body is simply the pieces, ended by closing the
//! connection. A message's piece is encoded once ([`CHUNK`] or [`EVENT`]) and shared by every
//! stream that sends it, live or replayed.

use std::rc::Rc;
use std::time::{Duration, Instant};

use super::replay::Replay;
use super::Next;
use crate::hub::{Encoding, Hub, Message};
use crate::limits::SSE_RETRY_MS;
use crate::outq::OutQueue;
use crate::wire::{chunked, sse};

/// `id: 7\ndata: hello\n\n` inside one HTTP/1.1 chunk, chunk-size line and CRLF included.
pub const CHUNK: Encoding = Encoding(0);
/// The bare event, for close-delimited HTTP/1.0 streams.
pub const EVENT: Encoding = Encoding(1);

#[derive(Debug)]
pub struct SseStream {
    pub topic: Rc<str>,
    /// HTTP/1.1: chunked pieces; HTTP/1.0: raw pieces, close-delimited.
    chunked: bool,
    /// When the next heartbeat is due unless something else is written first.
    heartbeat_at: Instant,
    replay: Replay,
}

impl SseStream {
    /// A stream that will replay the messages after `cursor`, then go live. Queues the first
    /// piece, `retry: 3000` and a blank line (SPEC §6).
    pub fn open(
        topic: Rc<str>,
        cursor: u64,
        chunked: bool,
        now: Instant,
        heartbeat: Duration,
        out: &mut OutQueue,
    ) -> SseStream {
        let stream =
            SseStream { topic, chunked, heartbeat_at: now + heartbeat, replay: Replay::after(cursor) };
        let mut piece = Vec::with_capacity(16);
        sse::write_retry(&mut piece, SSE_RETRY_MS);
        stream.frame(&piece, out);
        stream
    }

    /// A message published on the topic: queued unless the replay will send it or already
    /// did; the heartbeat is then due `heartbeat` later. Returns whether it was queued.
    pub fn push(&mut self, message: &Message, now: Instant, heartbeat: Duration, out: &mut OutQueue) -> bool {
        if !self.replay.take_live(message.id) {
            return false;
        }
        out.push_shared(self.event(message));
        self.heartbeat_at = now + heartbeat;
        true
    }

    /// `true` while retained messages are still to be queued.
    pub fn is_replaying(&self) -> bool {
        self.replay.is_catching_up()
    }

    /// Queues the next batch of the replay, until `out` holds `budget` bytes; returns how
    /// many messages it queued.
    pub fn replay(&mut self, hub: &Hub, out: &mut OutQueue, budget: usize) -> u64 {
        let chunked = self.chunked;
        self.replay.feed(hub, &self.topic, out, budget, |m| event(m, chunked))
    }

    /// The deadline came: a `: keep-alive` comment, so idle proxies see traffic and dead
    /// peers are found.
    pub fn on_deadline(&mut self, now: Instant, heartbeat: Duration, out: &mut OutQueue) -> Next {
        if now >= self.heartbeat_at {
            let mut piece = Vec::with_capacity(16);
            sse::write_comment(&mut piece, "keep-alive");
            self.frame(&piece, out);
            self.heartbeat_at = now + heartbeat;
        }
        Next::Stay
    }

    /// The client closed its side: an `EventSource` never does that while it listens.
    pub fn on_eof(&mut self) -> Next {
        Next::Drop
    }

    pub fn deadline(&self) -> Instant {
        self.heartbeat_at
    }

    fn event(&self, message: &Message) -> Rc<[u8]> {
        event(message, self.chunked)
    }

    fn frame(&self, piece: &[u8], out: &mut OutQueue) {
        let mut bytes = Vec::with_capacity(piece.len() + 8);
        if self.chunked {
            chunked::write_chunk(&mut bytes, piece);
        } else {
            bytes.extend_from_slice(piece);
        }
        out.push_owned(bytes);
    }
}

/// One message as a stream frames it, shared with every other stream framed alike.
pub fn event(message: &Message, chunked: bool) -> Rc<[u8]> {
    if chunked {
        message.encoded(CHUNK, |m, out| {
            let event = m.encoded(EVENT, write_event);
            chunked::write_chunk(out, &event);
        })
    } else {
        message.encoded(EVENT, write_event)
    }
}

fn write_event(message: &Message, out: &mut Vec<u8>) {
    sse::write_event(out, Some(message.id), &message.data);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(out: &mut OutQueue) -> String {
        let mut got = Vec::new();
        out.flush_to(&mut got).expect("a Vec takes everything");
        String::from_utf8(got).expect("SSE is text")
    }

    #[test]
    fn preamble_replay_live_and_heartbeat_on_the_wire() {
        let now = Instant::now();
        let beat = Duration::from_secs(15);
        let mut hub = Hub::new(8);
        hub.publish("t", "a", 0);
        let mut out = OutQueue::new();
        let mut stream = SseStream::open("t".into(), 0, true, now, beat, &mut out);
        assert_eq!(stream.replay(&hub, &mut out, usize::MAX), 1);
        assert!(!stream.is_replaying());
        let b = hub.publish("t", "b", 0);
        assert!(stream.push(&b, now, beat, &mut out));
        assert!(!stream.push(&b, now, beat, &mut out), "each id once");
        assert_eq!(stream.on_deadline(now + beat, beat, &mut out), Next::Stay);
        assert_eq!(
            bytes(&mut out),
            "d\r\nretry: 3000\n\n\r\nf\r\nid: 1\ndata: a\n\n\r\nf\r\nid: 2\ndata: b\n\n\r\ne\r\n: keep-alive\n\n\r\n"
        );
        assert_eq!(stream.on_eof(), Next::Drop);
    }

    #[test]
    fn streams_share_one_encoding() {
        let mut hub = Hub::new(8);
        let m = hub.publish("t", "x", 0);
        assert!(Rc::ptr_eq(&event(&m, true), &event(&m, true)));
        assert_eq!(&*event(&m, false), b"id: 1\ndata: x\n\n");
    }
}
