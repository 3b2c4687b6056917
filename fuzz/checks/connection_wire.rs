//! What the `connection` check reads back: the bytes each client received, parsed without
//! pushlab's own decoders — SSE's chunked framing and event blocks, `/ws` frames and their
//! JSON (by `serde_json`), long-poll answers — and compared with what was published.

#[path = "server_frames.rs"]
mod server_frames;

use std::io;

use pushlab::limits::WS_PING_PAYLOAD;
use pushlab::transport::websocket::MessageKind;
use pushlab::wire::ws::frame::OpCode;
use serde_json::Value;

/// Every message published, by topic and id, as the operations made them.
#[derive(Default)]
pub struct Published {
    topics: [Vec<(String, u64)>; 2],
}

impl Published {
    fn topic(&self, topic: &str) -> &[(String, u64)] {
        &self.topics[usize::from(topic == "u")]
    }

    /// Notes message `id` of `topic`: ids are 1, 2, 3, … per topic (SPEC §2).
    pub fn record(&mut self, topic: &str, id: u64, data: &str, time_ms: u64) {
        let messages = &mut self.topics[usize::from(topic == "u")];
        assert_eq!(id, messages.len() as u64 + 1, "ids of {topic:?} are not consecutive");
        messages.push((data.to_owned(), time_ms));
    }

    fn get(&self, topic: &str, id: u64) -> &(String, u64) {
        let index = usize::try_from(id).ok().and_then(|id| id.checked_sub(1));
        index.and_then(|i| self.topic(topic).get(i)).unwrap_or_else(|| panic!("{topic:?} has no id {id}"))
    }

    /// The longest data published on `topic`.
    pub fn largest(&self, topic: &str) -> usize {
        self.topic(topic).iter().map(|(data, _)| data.len()).max().unwrap_or(0)
    }
}

/// The most one message of `len` bytes may take on any stream: JSON escapes a byte in at
/// most 6, SSE splits at most every byte onto a `data: ` line of its own, plus the id, the
/// time, the topic and a frame or chunk header.
pub fn bound(len: usize) -> usize {
    8 * len + 96
}

/// A message the application was handed.
pub struct Seen {
    pub kind: MessageKind,
    pub payload: Vec<u8>,
}

/// A client that reads at most `room` bytes, then blocks.
pub struct Reader<'a> {
    pub got: &'a mut Vec<u8>,
    pub room: usize,
}

impl io::Write for Reader<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.room == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = buf.len().min(self.room);
        self.got.extend_from_slice(&buf[..n]);
        self.room -= n;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `{"id":N,"topic":T,"data":D,"time":MS}` (SPEC §2) for a message of `topic` that was
/// published with that data at that time. Returns the id.
fn check_message(message: &Value, topic: &str, published: &Published) -> u64 {
    let id = message["id"].as_u64().unwrap_or_else(|| panic!("no id in {message}"));
    let (data, time) = published.get(topic, id);
    assert_eq!(message["topic"].as_str(), Some(topic), "{message}");
    assert_eq!(message["data"].as_str(), Some(data.as_str()), "{message}");
    assert_eq!(message["time"].as_u64(), Some(*time), "{message}");
    assert_eq!(message.as_object().map(|o| o.len()), Some(4), "{message}");
    id
}

/// `/ws`: text frames of JSON messages of the stream's topic, pings of ours, pongs, one
/// Close at most and last; 1003 when a binary message was refused. Returns where each
/// message starts and its id.
pub fn ws_ids(wire: &[u8], topic: &str, published: &Published, refused: bool) -> Vec<(usize, u64)> {
    let frames = server_frames::parse(wire);
    let mut ids = Vec::new();
    for (at, frame) in &frames {
        match frame.opcode {
            OpCode::Text => {
                let message: Value = serde_json::from_slice(frame.payload).expect("a /ws push is JSON");
                ids.push((*at, check_message(&message, topic, published)));
            }
            OpCode::Ping => assert_eq!(frame.payload, WS_PING_PAYLOAD),
            OpCode::Pong | OpCode::Close => {}
            other => panic!("/ws sent a {other:?} frame"),
        }
    }
    if refused {
        let (_, last) = frames.last().expect("a refusal is answered");
        assert!(last.opcode == OpCode::Close && last.payload.starts_with(&1003u16.to_be_bytes()), "no 1003");
    }
    ids
}

/// `/echo`: every message the application saw, sent back unchanged and in order.
pub fn check_echo(wire: &[u8], seen: &[Seen], refused: bool) {
    assert!(!refused, "/echo refuses nothing");
    let frames = server_frames::parse(wire);
    let mut echoes =
        frames.iter().map(|(_, f)| f).filter(|f| matches!(f.opcode, OpCode::Text | OpCode::Binary));
    for message in seen {
        let echo = echoes.next().expect("a message not echoed");
        let kind = if echo.opcode == OpCode::Text { MessageKind::Text } else { MessageKind::Binary };
        assert!(kind == message.kind && echo.payload == message.payload, "an echo that differs");
    }
    assert!(echoes.next().is_none(), "an echo of nothing");
    for (_, frame) in &frames {
        if frame.opcode == OpCode::Ping {
            assert_eq!(frame.payload, WS_PING_PAYLOAD);
        }
    }
}

/// An SSE body: `retry: 3000`, then events `id: N` + `data: …` lines and `: keep-alive`
/// comments, each a block ended by a blank line (WHATWG HTML §9.2.5); on HTTP/1.1 each block
/// is one non-empty chunk (RFC 9112 §7.1: a zero-size chunk would end the response). Each
/// event's data, read as §9.2.6 does, is the message's with its line breaks made LF.
/// Returns where each event starts and its id.
pub fn sse_ids(wire: &[u8], chunked: bool, topic: &str, published: &Published) -> Vec<(usize, u64)> {
    let blocks = if chunked { dechunk(wire) } else { vec![(0, wire)] };
    let mut ids = Vec::new();
    let mut first = true;
    for (at, bytes) in blocks {
        let text = std::str::from_utf8(bytes).expect("an event stream is UTF-8");
        let mut rest = text;
        while !rest.is_empty() {
            let end = rest.find("\n\n").unwrap_or_else(|| panic!("a block without its blank line: {rest:?}"));
            let block = &rest[..end];
            let start = at + (text.len() - rest.len());
            rest = &rest[end + 2..];
            if chunked {
                assert!(rest.is_empty(), "one chunk, one block");
            }
            if std::mem::take(&mut first) {
                assert_eq!(block, "retry: 3000", "the stream opens with its retry delay");
                continue;
            }
            if block == ": keep-alive" {
                continue;
            }
            let mut lines = block.split('\n');
            let id = lines.next().and_then(|l| l.strip_prefix("id: ")).and_then(|n| n.parse().ok());
            let id: u64 = id.unwrap_or_else(|| panic!("an event without an id: {block:?}"));
            let data: Vec<&str> = lines.map(|l| l.strip_prefix("data: ").expect("a data line")).collect();
            assert!(!data.is_empty(), "an event without data");
            let want = published.get(topic, id).0.replace("\r\n", "\n").replace('\r', "\n");
            assert_eq!(data.join("\n"), want, "event {id}");
            ids.push((start, id));
        }
    }
    assert!(!first, "an SSE stream without its retry");
    ids
}

/// `chunk = chunk-size CRLF chunk-data CRLF` (RFC 9112 §7.1), every chunk whole and
/// non-empty. Returns where each chunk's data starts and the data.
fn dechunk(mut wire: &[u8]) -> Vec<(usize, &[u8])> {
    let total = wire.len();
    let mut chunks = Vec::new();
    while !wire.is_empty() {
        let line = wire.windows(2).position(|w| w == b"\r\n").expect("a chunk-size line");
        let size = std::str::from_utf8(&wire[..line]).ok().and_then(|s| usize::from_str_radix(s, 16).ok());
        let size = size.expect("a hex chunk-size");
        assert!(size > 0, "a zero-size chunk ends the stream");
        let data = &wire[line + 2..];
        assert!(data.len() >= size + 2 && &data[size..size + 2] == b"\r\n", "a truncated chunk");
        chunks.push((total - data.len(), &data[..size]));
        wire = &data[size + 2..];
    }
    chunks
}

/// A long-poll answer: `200` with `{"topic":T,"messages":[…],"next":M}` (SPEC §4) holding
/// the retained messages after `cursor` — from the oldest still in the ring, `floor`, to
/// `last` — at most `limit`, each as published; `next` is the last one's id, or `cursor`.
pub fn check_poll_answer(
    bytes: &[u8],
    topic: &str,
    cursor: u64,
    limit: usize,
    floor: u64,
    last: u64,
    published: &Published,
) {
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head");
    let (head, body) = (std::str::from_utf8(&bytes[..end]).expect("an ASCII head"), &bytes[end + 4..]);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    let length = format!("Content-Length: {}", body.len());
    assert!(head.split("\r\n").any(|line| line == length), "{head}");
    let answer: Value = serde_json::from_slice(body).expect("a poll answer is JSON");
    assert_eq!(answer["topic"].as_str(), Some(topic));
    let messages = answer["messages"].as_array().expect("messages");
    let ids: Vec<u64> = messages.iter().map(|m| check_message(m, topic, published)).collect();
    let want: Vec<u64> = (floor.max(cursor + 1)..=last).take(limit).collect();
    assert_eq!(ids, want, "answer after {cursor} (ring {floor}..={last}, limit {limit})");
    assert_eq!(answer["next"].as_u64(), Some(ids.last().copied().unwrap_or(cursor)));
}
