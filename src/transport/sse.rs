//! A Server-Sent Events stream (SPEC §6, chapter 04).
//!
//! After the response head, the stream is a sequence of *pieces*: the `retry:` preamble, one
//! event per message, and `: keep-alive` comments when idle. On HTTP/1.1 each piece is one
//! chunk of the chunked body; on HTTP/1.0 the body is simply the pieces, ended by closing the
//! connection. Message events are encoded once per message by the hub
//! ([`crate::hub::Message::sse_chunk`]) and shared by every stream.

use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::hub::Message;
use crate::limits::SSE_RETRY_MS;
use crate::wire::{chunked, sse};

#[derive(Debug)]
pub struct SseStream {
    pub topic: Rc<str>,
    /// HTTP/1.1: chunked pieces; HTTP/1.0: raw pieces, close-delimited.
    pub chunked: bool,
    /// When the next heartbeat is due unless something else is written first.
    pub heartbeat_at: Instant,
    /// `Some(cursor)` while the replay is still being queued: messages after `cursor` are
    /// sent from the hub's ring as output drains, and live messages wait their turn in it.
    pub replay_after: Option<u64>,
    /// The id of the last message queued on this stream: a live message at or below it was
    /// already sent by the replay (or predates the stream) and is skipped.
    pub sent_up_to: u64,
}

impl SseStream {
    /// A stream that will replay the messages after `cursor`, then go live.
    pub fn new(topic: Rc<str>, cursor: u64, chunked: bool, now: Instant, heartbeat: Duration) -> SseStream {
        SseStream {
            topic,
            chunked,
            heartbeat_at: now + heartbeat,
            replay_after: Some(cursor),
            sent_up_to: cursor,
        }
    }

    /// The first piece: `retry: 3000` and a blank line (SPEC §6).
    pub fn preamble(&self, out: &mut Vec<u8>) {
        let mut piece = Vec::with_capacity(16);
        sse::write_retry(&mut piece, SSE_RETRY_MS);
        self.frame(&piece, out);
    }

    /// A `: keep-alive` comment, so idle proxies see traffic and dead peers are found.
    pub fn heartbeat(&self, out: &mut Vec<u8>) {
        let mut piece = Vec::with_capacity(16);
        sse::write_comment(&mut piece, "keep-alive");
        self.frame(&piece, out);
    }

    /// One message as this stream frames it, shared with every other stream framed alike.
    pub fn event(&self, message: &Message) -> Rc<[u8]> {
        if self.chunked {
            message.sse_chunk()
        } else {
            message.sse_event()
        }
    }

    fn frame(&self, piece: &[u8], out: &mut Vec<u8>) {
        if self.chunked {
            chunked::write_chunk(out, piece);
        } else {
            out.extend_from_slice(piece);
        }
    }
}
