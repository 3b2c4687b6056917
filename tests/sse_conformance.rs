//! Server-Sent Events conformance (SPEC §6, WHATWG HTML §9.2), over raw TCP sockets.
//!
//! Heads up! These tests do not trust the server's own encoders. They read the wire with two
//! decoders written here, from the specifications, independently of `src/wire/`:
//!
//! - [`ChunkDecoder`]: RFC 9112 §7.1 chunked transfer coding — so the tests can see *chunk
//!   boundaries*, which SPEC §6 pins down (one chunk per event; the `retry:` preamble and each
//!   heartbeat are chunks of their own);
//! - [`EventStream`]: WHATWG HTML §9.2.5 "Parsing an event stream" and §9.2.6 "Interpreting an
//!   event stream" — the algorithm a browser's `EventSource` runs: line splitting at CRLF, LF
//!   or CR, one leading BOM dropped, fields, the data buffer, the last event ID buffer,
//!   `retry`, and dispatch on a blank line.
//!
//! Each test starts its own server in-process (`pushlab::spawn` on `127.0.0.1:0`) and names
//! the rule it checks. The slow-consumer test measures this process's resident memory, so it
//! runs alone: every test holds [`SERIAL`] for reading, that one for writing.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::RwLock;
use std::time::{Duration, Instant};

use pushlab::config::Config;

mod common;
use common::{config, eventually, fetch, get, request, show, start_with, HOST};

/// Readers: every test but the memory one; the writer: the memory test (see the file header).
static SERIAL: RwLock<()> = RwLock::new(());

/// How long any single expected piece of the stream may take to arrive.
const WAIT: Duration = Duration::from_secs(5);

// =====================================================================================
// The oracles: RFC 9112 §7.1 chunked decoding and the WHATWG event-stream algorithm.
// =====================================================================================

/// One item of a chunked body.
#[derive(Debug, PartialEq, Eq)]
enum Chunk {
    /// `chunk-size [chunk-ext] CRLF chunk-data CRLF`, with the extension text if any.
    Data { data: Vec<u8>, ext: Option<String> },
    /// `last-chunk trailer-section CRLF`: the body is over.
    Last,
}

/// RFC 9112 §7.1, incremental: `decode` consumes nothing until a whole chunk is buffered.
///
/// ```text
/// chunked-body = *chunk last-chunk trailer-section CRLF
/// chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
/// chunk-size   = 1*HEXDIG
/// last-chunk   = 1*("0") [ chunk-ext ] CRLF
/// ```
struct ChunkDecoder;

impl ChunkDecoder {
    /// `Ok(None)`: need more bytes. `Ok(Some((chunk, used)))`: one chunk, `used` bytes long.
    fn decode(buf: &[u8]) -> Result<Option<(Chunk, usize)>, String> {
        let Some(line_end) = find_crlf(buf) else {
            if buf.len() > 1024 {
                return Err(format!("chunk-size line longer than 1 KiB: {}", show(&buf[..64])));
            }
            return Ok(None);
        };
        let line = &buf[..line_end];
        let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
        if digits == 0 {
            return Err(format!("chunk-size must be 1*HEXDIG, line was {}", show(line)));
        }
        let size = usize::from_str_radix(std::str::from_utf8(&line[..digits]).unwrap(), 16)
            .map_err(|e| format!("chunk-size {:?}: {e}", show(&line[..digits])))?;
        let rest = &line[digits..];
        // chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
        let ext = match rest.iter().position(|&b| b != b' ' && b != b'\t') {
            None => None,
            Some(i) if rest[i] == b';' => Some(String::from_utf8_lossy(&rest[i..]).into_owned()),
            Some(_) => return Err(format!("junk after chunk-size: {}", show(line))),
        };
        let data_start = line_end + 2;
        if size == 0 {
            // trailer-section = *( field-line CRLF ), then the final CRLF.
            let mut at = data_start;
            loop {
                let Some(end) = find_crlf(&buf[at..]) else { return Ok(None) };
                at += end + 2;
                if end == 0 {
                    return Ok(Some((Chunk::Last, at)));
                }
            }
        }
        let data_end = data_start + size;
        if buf.len() < data_end + 2 {
            return Ok(None);
        }
        if &buf[data_end..data_end + 2] != b"\r\n" {
            return Err(format!(
                "chunk-data of {size} bytes not followed by CRLF: {}",
                show(&buf[..data_end + 2])
            ));
        }
        Ok(Some((Chunk::Data { data: buf[data_start..data_end].to_vec(), ext }, data_end + 2)))
    }
}

/// Stream bytes as text, for comparing with what the server should have written.
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn find_crlf(buf: &[u8]) -> Option<usize> {
    buf.windows(2).position(|w| w == b"\r\n")
}

/// One `MessageEvent` as `EventSource` would dispatch it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Event {
    kind: String,
    data: String,
    last_event_id: String,
}

/// WHATWG HTML §9.2.5–§9.2.6: the event-stream algorithm, fed bytes as they arrive.
#[derive(Default)]
struct EventStream {
    /// Bytes of a line not yet ended.
    pending: Vec<u8>,
    /// The leading-BOM question is settled.
    bom_settled: bool,
    /// The last line ended in CR: an LF right after it belongs to the same line break.
    after_cr: bool,
    data: String,
    event_type: String,
    last_event_id_buffer: String,
    /// The event source's "last event ID string".
    last_event_id: String,
    /// The event source's "reconnection time", once a valid `retry` field set it.
    reconnection_time: Option<u64>,
    events: Vec<Event>,
    /// Comment lines. §9.2.6 says to ignore them; recorded here only so tests can see
    /// heartbeats. Never affects `events`.
    comments: Vec<String>,
}

impl EventStream {
    fn feed(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
        if !self.bom_settled {
            // §9.2.5: the stream is decoded with "UTF-8 decode", which drops one leading BOM.
            const BOM: &[u8] = b"\xEF\xBB\xBF";
            let n = self.pending.len().min(3);
            if self.pending[..n] != BOM[..n] {
                self.bom_settled = true;
            } else if n == 3 {
                self.pending.drain(..3);
                self.bom_settled = true;
            } else {
                return;
            }
        }
        let mut at = 0;
        loop {
            if self.after_cr {
                if at == self.pending.len() {
                    break;
                }
                // §9.2.5 end-of-line = ( cr lf / cr / lf ): CR LF is one line break.
                if self.pending[at] == b'\n' {
                    at += 1;
                }
                self.after_cr = false;
            }
            let Some(end) = self.pending[at..].iter().position(|&b| b == b'\r' || b == b'\n') else {
                break;
            };
            let line_end = at + end;
            self.after_cr = self.pending[line_end] == b'\r';
            // "UTF-8 decode": malformed sequences become U+FFFD. CR and LF never occur inside a
            // multi-byte sequence, so decoding line by line decodes the same text.
            let line = String::from_utf8_lossy(&self.pending[at..line_end]).into_owned();
            self.process_line(&line);
            at = line_end + 1;
        }
        self.pending.drain(..at);
    }

    /// §9.2.6, one line.
    fn process_line(&mut self, line: &str) {
        if line.is_empty() {
            // "If the line is empty (a blank line): Dispatch the event."
            self.dispatch();
        } else if let Some(comment) = line.strip_prefix(':') {
            // "If the line starts with a U+003A COLON character (:): Ignore the line."
            self.comments.push(comment.to_string());
        } else if let Some((field, value)) = line.split_once(':') {
            // "If value starts with a U+0020 SPACE character, remove it from value."
            let value = value.strip_prefix(' ').unwrap_or(value);
            self.process_field(field, value);
        } else {
            // The whole line is the field name; the value is the empty string.
            self.process_field(line, "");
        }
    }

    fn process_field(&mut self, field: &str, value: &str) {
        match field {
            "event" => self.event_type = value.to_string(),
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
            }
            "id" if !value.contains('\0') => self.last_event_id_buffer = value.to_string(),
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                self.reconnection_time = value.parse().ok();
            }
            _ => {} // "Otherwise: The field is ignored."
        }
    }

    /// §9.2.6 "dispatch the event", steps 1–7.
    fn dispatch(&mut self) {
        // 1. The last event ID string takes the buffer's value (the buffer is not reset).
        self.last_event_id.clone_from(&self.last_event_id_buffer);
        // 2. An empty data buffer dispatches nothing.
        if self.data.is_empty() {
            self.event_type.clear();
            return;
        }
        // 3. One trailing LF is removed.
        if self.data.ends_with('\n') {
            self.data.pop();
        }
        // 4–6. A MessageEvent, type "message" unless the event type buffer says otherwise.
        let kind = if self.event_type.is_empty() { "message".to_string() } else { self.event_type.clone() };
        self.events.push(Event {
            kind,
            data: std::mem::take(&mut self.data),
            last_event_id: self.last_event_id.clone(),
        });
        // 7. Both buffers are emptied.
        self.event_type.clear();
    }

    /// True between events: no partial line, no half-built event.
    fn at_event_boundary(&self) -> bool {
        self.pending.is_empty() && self.data.is_empty() && self.event_type.is_empty()
    }
}

// =====================================================================================
// Raw HTTP over TCP.
// =====================================================================================

/// A response head.
#[derive(Debug)]
struct Head {
    status_line: String,
    status: u16,
    headers: Vec<(String, String)>,
}

impl Head {
    fn parse(raw: &[u8]) -> Head {
        let text = std::str::from_utf8(raw).expect("response head is ASCII");
        let mut lines = text.split("\r\n");
        let status_line = lines.next().unwrap().to_string();
        let status = status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status code");
        let headers = lines
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (name, value) = l.split_once(':').unwrap_or_else(|| panic!("header line {l:?}"));
                (name.to_string(), value.trim().to_string())
            })
            .collect();
        Head { status_line, status, headers }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn count(&self, name: &str) -> usize {
        self.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).count()
    }
}

/// A client connection with its unread input.
struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
    eof: bool,
}

impl Client {
    fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_nodelay(true).unwrap();
        Client { stream, buf: Vec::new(), eof: false }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("send request");
    }

    /// Reads once, waiting at most until `deadline`. Returns false on timeout.
    fn read_some(&mut self, deadline: Instant) -> bool {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        self.stream.set_read_timeout(Some(left)).unwrap();
        let mut tmp = [0u8; 64 * 1024];
        match self.stream.read(&mut tmp) {
            Ok(0) => {
                self.eof = true;
                true
            }
            Ok(n) => {
                self.buf.extend_from_slice(&tmp[..n]);
                true
            }
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => false,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => true,
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                self.eof = true;
                true
            }
            Err(e) => panic!("read: {e}"),
        }
    }

    /// The response head; its bytes are consumed, what follows stays buffered.
    fn head(&mut self) -> Head {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = Head::parse(&self.buf[..end]);
                self.buf.drain(..end + 4);
                return head;
            }
            assert!(!self.eof, "connection closed before a response head: {}", show(&self.buf));
            assert!(self.read_some(deadline), "no response head within {WAIT:?}: {}", show(&self.buf));
        }
    }

    /// The next chunk of a chunked body, within `wait`.
    fn chunk_within(&mut self, wait: Duration) -> Option<Chunk> {
        let deadline = Instant::now() + wait;
        loop {
            match ChunkDecoder::decode(&self.buf) {
                Ok(Some((chunk, used))) => {
                    self.buf.drain(..used);
                    return Some(chunk);
                }
                Ok(None) => {}
                Err(e) => panic!("RFC 9112 §7.1 violated: {e}"),
            }
            if self.eof || !self.read_some(deadline) {
                return None;
            }
        }
    }

    /// The data of the next chunk; it must be a data chunk with no extension.
    fn chunk(&mut self) -> Vec<u8> {
        match self.chunk_within(WAIT) {
            Some(Chunk::Data { data, ext: None }) => data,
            Some(other) => panic!("expected a plain data chunk, got {other:?}"),
            None => panic!("no chunk within {WAIT:?} (eof: {}, buffered: {:?})", self.eof, show(&self.buf)),
        }
    }

    /// A whole response with `Content-Length`.
    fn response(&mut self) -> (Head, Vec<u8>) {
        let head = self.head();
        let len: usize = head.get("Content-Length").expect("Content-Length").parse().unwrap();
        let deadline = Instant::now() + WAIT;
        while self.buf.len() < len {
            assert!(!self.eof && self.read_some(deadline), "body of {len} bytes did not arrive");
        }
        let body = self.buf.drain(..len).collect();
        (head, body)
    }

    /// Everything until the peer closes (or `wait` passes). Returns whether it closed.
    fn read_to_close(&mut self, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        while !self.eof {
            if !self.read_some(deadline) {
                return false;
            }
        }
        true
    }
}

/// Opens `GET target` on HTTP/1.1 and reads the head.
fn open_sse(addr: SocketAddr, target: &str, extra: &str) -> (Client, Head) {
    let mut c = Client::connect(addr);
    c.send(&request("GET", target, extra, b""));
    let head = c.head();
    (c, head)
}

/// Publishes on a keep-alive connection; returns the id.
fn publish_on(c: &mut common::Client, topic: &str, data: &[u8]) -> u64 {
    let reply = c.exchange(&request("POST", &format!("/publish?topic={topic}"), "", data));
    assert_eq!(reply.status, 200, "publish: {}", show(&reply.body));
    reply.json()["id"].as_u64().expect("publish reply has an id")
}

fn publish(addr: SocketAddr, topic: &str, data: &str) -> u64 {
    let reply = fetch(addr, &request("POST", &format!("/publish?topic={topic}"), "", data.as_bytes()));
    assert_eq!(reply.status, 200, "publish: {}", show(&reply.body));
    reply.json()["id"].as_u64().expect("publish reply has an id")
}

fn stats(addr: SocketAddr) -> serde_json::Value {
    let reply = get(addr, "/stats");
    assert_eq!(reply.status, 200);
    reply.json()
}

fn sse_connections(addr: SocketAddr) -> u64 {
    stats(addr)["connections"]["sse"].as_u64().unwrap()
}

/// Reads one chunk, feeds it to the WHATWG parser, and checks it held exactly one event.
fn one_event(c: &mut Client, es: &mut EventStream) -> (Vec<u8>, Event) {
    let chunk = c.chunk();
    let before = es.events.len();
    es.feed(&chunk);
    assert_eq!(
        es.events.len(),
        before + 1,
        "SPEC §6: one chunk per event; this chunk held {} events: {:?}",
        es.events.len() - before,
        show(&chunk)
    );
    assert!(es.at_event_boundary(), "SPEC §6: the chunk must end where its event ends: {}", show(&chunk));
    (chunk, es.events[before].clone())
}

/// Reads the head and the `retry:` preamble of a fresh HTTP/1.1 stream.
fn open_stream(addr: SocketAddr, target: &str, extra: &str) -> (Client, EventStream) {
    let (mut c, head) = open_sse(addr, target, extra);
    assert_eq!(head.status, 200, "{target}: {}", head.status_line);
    let mut es = EventStream::default();
    let first = c.chunk();
    assert_eq!(text(&first), "retry: 3000\n\n", "SPEC §6: the first chunk is exactly the retry preamble");
    es.feed(&first);
    (c, es)
}

fn ids(events: &[Event]) -> Vec<u64> {
    events.iter().map(|e| e.last_event_id.parse().unwrap()).collect()
}

// =====================================================================================
// The oracle checks itself: the WHATWG algorithm on known streams.
// =====================================================================================

#[test]
fn whatwg_oracle_article_snippet_never_dispatches() {
    // The seed article's server: `res.write(`data:${'new data'}`)` once a second. No line end
    // at all, so there is never even a complete line, let alone the blank line that dispatches.
    let mut es = EventStream::default();
    for _ in 0..10 {
        es.feed(b"data:new data");
    }
    assert!(es.events.is_empty());
    // With "\n" but still no blank line: ten data lines pile up in the data buffer, unsent.
    let mut es = EventStream::default();
    for _ in 0..10 {
        es.feed(b"data:new data\n");
    }
    assert!(es.events.is_empty());
    assert_eq!(es.data, "new data\n".repeat(10));
    // The fix is one more "\n" per event.
    let mut es = EventStream::default();
    es.feed(b"data:new data\n\n");
    assert_eq!(es.events[0].data, "new data");
}

#[test]
fn whatwg_oracle_line_ends_bom_fields_and_dispatch() {
    let mut es = EventStream::default();
    // A BOM and a CR LF split across feeds, CR alone, LF alone.
    for piece in [&b"\xEF\xBB"[..], b"\xBFid: 1\r", b"\ndata:a\rdata:  b\n", b"\n", b"event: x\ndata\n\n"] {
        es.feed(piece);
    }
    es.feed(b": comment\nretry: 12\nretry: x\nid: 2\0\ndata: c\n\nid\n\ndata: unfinished");
    assert_eq!(es.reconnection_time, Some(12));
    let got: Vec<_> =
        es.events.iter().map(|e| (e.kind.as_str(), e.data.as_str(), e.last_event_id.as_str())).collect();
    assert_eq!(got, [("message", "a\n b", "1"), ("x", "", "1"), ("message", "c", "1")]);
    assert_eq!(es.last_event_id, "", "a bare `id` line resets the last event ID");
    assert!(!es.at_event_boundary(), "the unfinished event is pending, never dispatched");
}

#[test]
fn rfc9112_oracle_chunk_decoder() {
    let body = b"5\r\nhello\r\nA;x=y\r\n0123456789\r\n0\r\nTrailer: t\r\n\r\n";
    let (c1, n1) = ChunkDecoder::decode(body).unwrap().unwrap();
    assert_eq!(c1, Chunk::Data { data: b"hello".to_vec(), ext: None });
    let (c2, n2) = ChunkDecoder::decode(&body[n1..]).unwrap().unwrap();
    assert_eq!(c2, Chunk::Data { data: b"0123456789".to_vec(), ext: Some(";x=y".into()) });
    assert_eq!(ChunkDecoder::decode(&body[n1 + n2..]).unwrap(), Some((Chunk::Last, body.len() - n1 - n2)));
    for cut in 0..n1 {
        assert_eq!(ChunkDecoder::decode(&body[..cut]).unwrap(), None, "a prefix is Partial");
    }
    assert!(ChunkDecoder::decode(b"5\r\nhelloXX").is_err());
    assert!(ChunkDecoder::decode(b"x\r\n").is_err());
}

// =====================================================================================
// SPEC §6 against the server.
// =====================================================================================

#[test]
fn spec6_head_status_and_headers_on_http11() {
    let _serial = SERIAL.read();
    let addr = start_with(config());
    let (_c, head) = open_sse(addr, "/sse?topic=headers", "");
    assert_eq!(head.status_line, "HTTP/1.1 200 OK");
    assert_eq!(head.get("Content-Type"), Some("text/event-stream"));
    assert_eq!(head.get("Cache-Control"), Some("no-cache"));
    assert_eq!(head.get("X-Accel-Buffering"), Some("no"), "asks nginx-like proxies not to buffer");
    assert_eq!(head.get("Transfer-Encoding"), Some("chunked"), "SPEC §6: chunked on HTTP/1.1");
    assert_eq!(head.count("Content-Length"), 0, "RFC 9112 §6.1: never both; a stream has no length");
    assert_eq!((head.count("Server"), head.get("Server")), (1, Some("pushlab")), "SPEC §8: Server");
    assert_eq!(head.count("Date"), 1, "SPEC §8: every response has one Date");
    let date = head.get("Date").unwrap();
    assert!(common::parse_http_date(date).is_some(), "SPEC §8: Date {date:?} is an IMF-fixdate");
    assert!(!head.get("Connection").is_some_and(|v| v.eq_ignore_ascii_case("close")));
}

#[test]
fn spec6_first_chunk_is_exactly_retry_3000_then_one_chunk_per_event() {
    let _serial = SERIAL.read();
    let addr = start_with(config());
    let (mut c, mut es) = open_stream(addr, "/sse?topic=chunks", "");
    assert_eq!(es.reconnection_time, Some(3000), "WHATWG §9.2.6: `retry` sets the reconnection time");
    assert!(es.events.is_empty(), "the preamble dispatches nothing: its data buffer is empty");
    for (i, sent) in ["first", "second", "third"].into_iter().enumerate() {
        let sent_at = Instant::now();
        let id = publish(addr, "chunks", sent);
        assert_eq!(id, i as u64 + 1, "SPEC §2: ids are 1, 2, 3, …");
        let (chunk, event) = one_event(&mut c, &mut es);
        assert!(sent_at.elapsed() < Duration::from_secs(2), "SPEC §6: written as soon as the event exists");
        assert_eq!(
            text(&chunk),
            format!("id: {id}\ndata: {sent}\n\n"),
            "SPEC §6: `id: N`, `data:` lines, blank"
        );
        assert_eq!(event, Event { kind: "message".into(), data: sent.into(), last_event_id: id.to_string() });
    }
}

#[test]
fn whatwg_multiline_messages_lf_crlf_cr_become_data_lines_rejoined_with_lf() {
    let _serial = SERIAL.read();
    let addr = start_with(config());
    let (mut c, mut es) = open_stream(addr, "/sse?topic=lines", "");
    let cases = [
        ("a\nb", "a\nb"),
        ("a\r\nb", "a\nb"),
        ("a\rb", "a\nb"),
        ("one\r\rtwo\n\nthree", "one\n\ntwo\n\nthree"),
        ("trailing\n", "trailing\n"),
        ("\r\n", "\n"),
        ("  two leading spaces", "  two leading spaces"),
        ("data: not a field\nid: 999\n\nretry: 1", "data: not a field\nid: 999\n\nretry: 1"),
        (":not a comment", ":not a comment"),
        ("café ☕ 😀", "café ☕ 😀"),
    ];
    for (sent, expected) in cases {
        let id = publish(addr, "lines", sent);
        let (chunk, event) = one_event(&mut c, &mut es);
        assert_eq!(event.data, expected, "WHATWG §9.2.6: data lines rejoin with LF; sent {sent:?}");
        assert_eq!(event.last_event_id, id.to_string(), "an injected `id:` line must not take effect");
        let wire = text(&chunk);
        assert!(!wire.contains('\r'), "each line break becomes a new `data:` line: {wire:?}");
        let lines: Vec<&str> =
            wire.strip_suffix("\n\n").expect("ends with a blank line").split('\n').collect();
        assert_eq!(lines[0], format!("id: {id}"));
        assert!(lines[1..].iter().all(|l| l.starts_with("data:")), "only data lines after id: {wire:?}");
        assert_eq!(lines.len() - 1, expected.split('\n').count(), "one data line per line of text");
    }
    assert_eq!(es.reconnection_time, Some(3000), "an injected `retry:` must not take effect");
}

#[test]
fn spec2_since_replays_retained_then_streams_live() {
    let _serial = SERIAL.read();
    let addr = start_with(Config { replay: 4, ..config() });
    for i in 1..=6 {
        publish(addr, "replay", &format!("m{i}"));
    }
    // SPEC §2: since=3 asks for 4..=6 — replayed, each a chunk of its own — and then live.
    let (mut c, mut es) = open_stream(addr, "/sse?topic=replay&since=3", "");
    for _ in 4..=6 {
        one_event(&mut c, &mut es);
    }
    assert_eq!(ids(&es.events), [4, 5, 6]);
    assert_eq!(es.events[0].data, "m4");
    let id = publish(addr, "replay", "live");
    let (_, live) = one_event(&mut c, &mut es);
    assert_eq!((live.last_event_id, live.data), (id.to_string(), "live".to_string()), "replay, then live");
    // since=0: everything retained — the last 4 of 7 — and a cursor older than the ring the same.
    for target in ["/sse?topic=replay&since=0", "/sse?topic=replay&since=1"] {
        let (mut c, mut es) = open_stream(addr, target, "");
        for _ in 4..=7 {
            one_event(&mut c, &mut es);
        }
        assert_eq!(ids(&es.events), [4, 5, 6, 7], "{target}");
        assert!(c.chunk_within(Duration::from_millis(200)).is_none(), "{target}: nothing more");
    }
}

/// SPEC §2: every id exactly once. A stream that begins in the same loop turn as a publish
/// — here pipelined right behind it on one connection, while another subscriber makes the
/// publish a live delivery — gets the message from its replay and must not get it again
/// from the live push.
#[test]
fn spec2_a_stream_begun_in_the_same_turn_as_a_publish_gets_it_once() {
    let _serial = SERIAL.read();
    let addr = start_with(config());
    let (_standing, _) = open_stream(addr, "/sse?topic=same-turn", "");
    for round in 1..=20u64 {
        let mut c = Client::connect(addr);
        let mut both = request("POST", "/publish?topic=same-turn", "", format!("m{round}").as_bytes());
        both.extend(request("GET", &format!("/sse?topic=same-turn&since={}", round - 1), "", b""));
        c.send(&both);
        let (head, _) = c.response();
        assert_eq!(head.status, 200, "publish");
        let sse = c.head();
        assert_eq!(sse.status, 200, "sse");
        let mut es = EventStream::default();
        es.feed(&c.chunk());
        one_event(&mut c, &mut es);
        assert_eq!(ids(&es.events), [round], "round {round}");
        assert!(c.chunk_within(Duration::from_millis(100)).is_none(), "round {round}: id {round} came twice");
    }
}

#[test]
fn spec6_last_event_id_header_wins_over_since() {
    let _serial = SERIAL.read();
    let addr = start_with(config());
    for i in 1..=5 {
        publish(addr, "resume", &format!("m{i}"));
    }
    // WHATWG §9.2.4: a reconnecting EventSource sends `Last-Event-ID`; SPEC §6: it beats since.
    let (mut c, mut es) = open_stream(addr, "/sse?topic=resume&since=1", "Last-Event-ID: 3\r\n");
    one_event(&mut c, &mut es);
    one_event(&mut c, &mut es);
    assert_eq!(ids(&es.events), [4, 5]);
    assert!(c.chunk_within(Duration::from_millis(200)).is_none(), "nothing before 4 is sent");
    // A Last-Event-ID that is not one of our ids is ignored: `since` applies.
    let (mut c, mut es) = open_stream(addr, "/sse?topic=resume&since=4", "Last-Event-ID: not-a-number\r\n");
    one_event(&mut c, &mut es);
    assert_eq!(ids(&es.events), [5]);
}

#[test]
fn spec2_since_absent_means_from_now_and_beyond_latest_means_latest() {
    let _serial = SERIAL.read();
    let addr = start_with(config());
    for i in 1..=3 {
        publish(addr, "now", &format!("old {i}"));
    }
    for target in ["/sse?topic=now", "/sse?topic=now&since=999"] {
        let (mut c, mut es) = open_stream(addr, target, "");
        assert!(c.chunk_within(Duration::from_millis(200)).is_none(), "{target}: nothing old is sent");
        let id = publish(addr, "now", "new");
        let (_, event) = one_event(&mut c, &mut es);
        assert_eq!((event.last_event_id, event.data), (id.to_string(), "new".to_string()), "{target}");
    }
}

#[test]
fn spec6_http10_body_is_close_delimited_without_chunked() {
    let _serial = SERIAL.read();
    let addr = start_with(config());
    publish(addr, "old", "replayed");
    let mut c = Client::connect(addr);
    c.send(b"GET /sse?topic=old&since=0 HTTP/1.0\r\n\r\n");
    let head = c.head();
    assert_eq!(head.status, 200);
    assert_eq!(head.get("Content-Type"), Some("text/event-stream"));
    assert_eq!(head.count("Transfer-Encoding"), 0, "RFC 9112 §6.1: no chunked coding to a 1.0 client");
    assert_eq!(head.count("Content-Length"), 0, "SPEC §6: close-delimited");
    assert_eq!(head.get("Connection"), Some("close"), "the body ends when the connection does");
    let deadline = Instant::now() + WAIT;
    while c.buf.len() < b"retry: 3000\n\nid: 1\ndata: replayed\n\n".len() {
        assert!(!c.eof && c.read_some(deadline), "replay did not arrive: {}", show(&c.buf));
    }
    let id = publish(addr, "old", "live");
    let expected = format!("retry: 3000\n\nid: 1\ndata: replayed\n\nid: {id}\ndata: live\n\n");
    while c.buf.len() < expected.len() {
        assert!(!c.eof && c.read_some(deadline), "live event did not arrive: {}", show(&c.buf));
    }
    assert_eq!(text(&c.buf), expected, "raw events, no chunk framing");
    let mut es = EventStream::default();
    es.feed(&c.buf);
    assert_eq!(ids(&es.events), [1, id]);
}

#[test]
fn spec6_heartbeat_comment_is_a_chunk_of_its_own_when_idle() {
    let _serial = SERIAL.read();
    // `Config::heartbeat` is a Duration; the flag's whole seconds would make this test slow.
    let heartbeat = Duration::from_millis(500);
    let addr = start_with(Config { heartbeat, ..config() });
    // Before the request, so before the server starts its heartbeat clock: never late.
    let opened = Instant::now();
    let (mut c, mut es) = open_stream(addr, "/sse?topic=idle", "");
    match c.chunk_within(heartbeat + WAIT) {
        Some(Chunk::Data { data, ext: None }) => {
            assert_eq!(text(&data), ": keep-alive\n\n", "SPEC §6: `: keep-alive` and a blank line");
            es.feed(&data);
        }
        other => panic!(
            "no heartbeat within {:?} of idling (heartbeat {heartbeat:?}): {other:?}",
            heartbeat + WAIT
        ),
    }
    let idle = opened.elapsed();
    assert!(
        idle >= heartbeat - Duration::from_millis(20),
        "a heartbeat after {idle:?} of {heartbeat:?} idle"
    );
    assert!(es.events.is_empty(), "WHATWG §9.2.6: a comment line is ignored");
    assert_eq!(es.comments, [" keep-alive"]);
    // Still a live stream afterwards.
    let id = publish(addr, "idle", "after the heartbeat");
    let (_, event) = one_event(&mut c, &mut es);
    assert_eq!(event.last_event_id, id.to_string());
}

#[test]
fn spec8_head_sse_answers_at_once_with_headers_and_no_body() {
    let _serial = SERIAL.read();
    let addr = start_with(config());
    let mut c = Client::connect(addr);
    // HEAD, then a second request on the same connection: if HEAD had a body (or held the
    // connection), the second response would not come next.
    let mut pipelined = request("HEAD", "/sse?topic=head", "", b"");
    pipelined.extend_from_slice(&request("GET", "/stats", "", b""));
    c.send(&pipelined);
    let started = Instant::now();
    let head = c.head();
    assert!(started.elapsed() < Duration::from_secs(2), "HEAD answers at once");
    assert_eq!(head.status, 200);
    assert_eq!(head.get("Content-Type"), Some("text/event-stream"), "RFC 9110 §9.3.2: GET's headers");
    assert_eq!(head.get("Cache-Control"), Some("no-cache"));
    let (next, body) = c.response();
    assert_eq!(next.status, 200, "the next bytes after HEAD's head are the next response");
    assert!(text(&body).starts_with("{\"uptime_s\""), "{}", show(&body));
    assert_eq!(stats(addr)["connections"]["sse"], 0, "HEAD never became a stream");
}

#[test]
fn spec7_cors_listed_origin_echoed_with_vary_unlisted_gets_none() {
    let _serial = SERIAL.read();
    let listed = "http://app.example:3000";
    let addr = start_with(Config { allow_origins: vec![listed.to_string()], ..config() });
    let (_c, head) = open_sse(addr, "/sse?topic=cors", &format!("Origin: {listed}\r\n"));
    assert_eq!(head.status, 200);
    assert_eq!(head.get("Access-Control-Allow-Origin"), Some(listed), "echoed exactly");
    assert_eq!(head.get("Vary"), Some("Origin"));
    let (_c, head) = open_sse(addr, "/sse?topic=cors", "Origin: http://evil.example\r\n");
    assert_eq!(head.status, 200, "the browser, not the server, hides the stream");
    for (name, _) in &head.headers {
        assert!(!name.to_ascii_lowercase().starts_with("access-control-"), "unlisted origin got {name}");
    }
    // A page that sets `Last-Event-ID` itself (fetch-based clients) needs a preflight.
    let preflight = format!(
        "OPTIONS /sse?topic=cors HTTP/1.1\r\nHost: {HOST}\r\nOrigin: {listed}\r\n\
         Access-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: last-event-id\r\n\r\n"
    );
    let mut c = Client::connect(addr);
    c.send(preflight.as_bytes());
    let head = c.head();
    assert_eq!(head.status, 204);
    assert_eq!(head.get("Access-Control-Allow-Origin"), Some(listed));
    let allowed = head.get("Access-Control-Allow-Headers").expect("Access-Control-Allow-Headers");
    assert!(
        allowed.split(',').any(|h| h.trim().eq_ignore_ascii_case("last-event-id")),
        "SPEC §7: the preflight allows what was requested: {allowed}"
    );
}

#[test]
fn spec2_invalid_topic_or_cursor_is_400() {
    let _serial = SERIAL.read();
    let addr = start_with(config());
    let long = "t".repeat(65);
    for target in [
        "/sse",
        "/sse?topic=",
        "/sse?topic=a%20b",
        "/sse?topic=a/b",
        "/sse?topic=caf%C3%A9",
        &format!("/sse?topic={long}"),
        "/sse?topic=ok&since=-1",
        "/sse?topic=ok&since=1x",
        "/sse?topic=ok&since=99999999999999999999999",
    ] {
        let (mut c, head) = open_sse(addr, target, "");
        assert_eq!(head.status, 400, "{target}");
        assert_ne!(head.get("Content-Type"), Some("text/event-stream"), "{target}");
        assert!(c.read_to_close(WAIT), "{target}: SPEC §8: the connection closes after a 400");
    }
    let (_c, head) = open_sse(addr, &format!("/sse?topic={}", "t".repeat(64)), "");
    assert_eq!(head.status, 200, "64 characters of [A-Za-z0-9._-] is a topic");
}

#[test]
fn spec9_stats_count_sse_connections_and_deliveries() {
    let _serial = SERIAL.read();
    let addr = start_with(config());
    let delivered = |addr| stats(addr)["delivered"]["sse"].as_u64().unwrap();
    assert_eq!(sse_connections(addr), 0);
    publish(addr, "count", "replayed");
    let mut clients: Vec<_> = (0..3).map(|_| open_stream(addr, "/sse?topic=count&since=0", "")).collect();
    for (c, es) in &mut clients {
        one_event(c, es);
    }
    assert_eq!(sse_connections(addr), 3, "connections.sse counts open streams");
    assert_eq!(delivered(addr), 3, "a replayed event is a delivered message");
    publish(addr, "count", "a");
    publish(addr, "count", "b");
    for (c, es) in &mut clients {
        one_event(c, es);
        one_event(c, es);
    }
    assert_eq!(delivered(addr), 9, "delivered.sse counts every event handed to every stream");
    clients.truncate(1);
    eventually("connections.sse back to 1 after two clients hung up", || sse_connections(addr) == 1);
    clients.clear();
    eventually("connections.sse back to 0", || sse_connections(addr) == 0);
}

// =====================================================================================
// SPEC §8: slow consumers.
// =====================================================================================

/// This process's resident set size (the server runs in-process), in bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).expect("VmRSS line");
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
}

/// A message whose every byte says which id it is, so the tests can check content by id.
fn payload(id: u64, len: usize) -> Vec<u8> {
    let prefix = format!("#{id:08}:");
    // `vec![byte; len]` is one memset even unoptimised, unlike a `resize` loop.
    let mut data = vec![b'a' + (id % 26) as u8; len];
    data[..prefix.len()].copy_from_slice(prefix.as_bytes());
    data
}

fn check_payload(event: &Event, len: usize) {
    let id: u64 = event.last_event_id.parse().unwrap();
    assert!(event.data.as_bytes() == payload(id, len), "event {id}: data does not match what was published");
}

/// Everything a (formerly) non-reading client finds in its socket, decoded.
fn drain_stream(c: &mut Client) -> EventStream {
    assert!(c.read_to_close(Duration::from_secs(10)), "SPEC §8: the slow consumer's socket is closed");
    let mut rest = std::mem::take(&mut c.buf);
    let end = rest.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head");
    assert_eq!(Head::parse(&rest[..end]).status, 200);
    rest.drain(..end + 4);
    let mut es = EventStream::default();
    while let Ok(Some((Chunk::Data { data, .. }, used))) = ChunkDecoder::decode(&rest) {
        es.feed(&data);
        rest.drain(..used);
    }
    // The connection was cut mid-stream: whatever is left is a partial chunk, never an event.
    es
}

#[test]
fn spec8_slow_consumer_is_dropped_and_memory_stays_bounded() {
    let _serial = SERIAL.write().unwrap_or_else(|e| e.into_inner());
    const LEN: usize = 60 * 1024;
    const TOTAL: usize = 200 * 1024 * 1024;
    const LIMIT: u64 = 64 * 1024 * 1024;
    let replay = 16;
    let addr = start_with(Config { replay, ..config() });
    // The slow consumer: opens the stream and never reads a byte.
    let mut slow = Client::connect(addr);
    slow.send(&request("GET", "/sse?topic=firehose", "", b""));
    eventually("the slow consumer is streaming", || sse_connections(addr) == 1);

    let before = rss();
    let mut publisher = common::Client::connect(addr);
    let (mut latest, mut dropped_after) = (0, None);
    for n in 0..TOTAL / LEN {
        latest = publish_on(&mut publisher, "firehose", &payload(n as u64 + 1, LEN));
        if dropped_after.is_none() && n % 8 == 0 && stats(addr)["slow_consumers_dropped"].as_u64() >= Some(1)
        {
            dropped_after = Some(n + 1);
        }
        if n % 64 == 0 {
            let grown = rss().saturating_sub(before);
            assert!(grown < LIMIT, "RSS grew {} MiB after {} MiB published", grown >> 20, (n * LEN) >> 20);
        }
    }
    let grown = rss().saturating_sub(before);
    let s = stats(addr);
    eprintln!(
        "slow consumer: dropped after ~{dropped_after:?} messages of {LEN} B; RSS growth {} KiB after {} MiB",
        grown >> 10,
        TOTAL >> 20
    );
    assert_eq!(s["slow_consumers_dropped"], 1, "SPEC §8: the slow consumer, and only it, is disconnected");
    assert_eq!(s["connections"]["sse"], 0);
    assert!(
        grown < LIMIT,
        "SPEC §8: memory stays bounded; RSS grew {} MiB for {} MiB",
        grown >> 20,
        TOTAL >> 20
    );

    // What the kernel had accepted before the drop is still there to read, then EOF.
    let es = drain_stream(&mut slow);
    let seen = ids(&es.events);
    assert_eq!(seen, (1..=seen.len() as u64).collect::<Vec<_>>(), "SPEC §2: no gap before the drop");
    es.events.iter().for_each(|e| check_payload(e, LEN));
    let last_seen = seen.last().copied().unwrap_or(0);

    // The client resumes with its cursor and gets everything still retained.
    let (mut c, mut es) =
        open_stream(addr, "/sse?topic=firehose", &format!("Last-Event-ID: {last_seen}\r\n"));
    let first = (last_seen + 1).max(latest - replay as u64 + 1);
    for _ in first..=latest {
        one_event(&mut c, &mut es);
    }
    assert_eq!(ids(&es.events), (first..=latest).collect::<Vec<_>>());
    es.events.iter().for_each(|e| check_payload(e, LEN));
}

#[test]
fn spec8_dropped_slow_consumer_resumes_with_last_event_id_and_loses_nothing() {
    let _serial = SERIAL.read();
    const LEN: usize = 60 * 1024;
    // Enough replay that nothing published in this test falls out of the ring.
    let addr = start_with(Config { replay: 4096, ..config() });
    let mut slow = Client::connect(addr);
    slow.send(&request("GET", "/sse?topic=resume", "", b""));
    eventually("the slow consumer is streaming", || sse_connections(addr) == 1);
    let mut publisher = common::Client::connect(addr);
    let mut latest = 0;
    while stats(addr)["slow_consumers_dropped"].as_u64() < Some(1) {
        assert!(latest < 2000, "not dropped after {latest} messages of {LEN} B (> 100 MiB unread)");
        for _ in 0..8 {
            latest = publish_on(&mut publisher, "resume", &payload(latest + 1, LEN));
        }
    }
    for _ in 0..5 {
        latest = publish_on(&mut publisher, "resume", &payload(latest + 1, LEN));
    }
    let old = drain_stream(&mut slow);
    let last_seen = old.last_event_id.parse::<u64>().unwrap_or(0);
    assert!(last_seen < latest, "the consumer was dropped before it had everything");
    let (mut c, mut es) = open_stream(addr, "/sse?topic=resume", &format!("Last-Event-ID: {last_seen}\r\n"));
    for _ in last_seen + 1..=latest {
        one_event(&mut c, &mut es);
    }
    let mut all = old.events;
    all.extend(es.events.iter().cloned());
    assert_eq!(ids(&all), (1..=latest).collect::<Vec<_>>(), "SPEC §8: it loses nothing still retained");
    all.iter().for_each(|e| check_payload(e, LEN));
}

/// SPEC §6 + §8: a client that reads as fast as it can is not "too slow to keep up", even
/// when what it asks to be replayed is larger than 1 MiB plus the kernel's buffers.
///
/// The server queues a replay in batches as the socket drains (`feed_replay` in
/// `src/server/dispatch.rs`), so only a reader that stops reading is ever cut off.
#[test]
fn spec8_a_fast_reader_replaying_more_than_1_mib_is_not_dropped() {
    let _serial = SERIAL.write().unwrap_or_else(|e| e.into_inner());
    const LEN: usize = 16 * 1024;
    let addr = start_with(Config { replay: 1024, ..config() });
    let mut publisher = common::Client::connect(addr);
    for id in 1..=1024 {
        publish_on(&mut publisher, "backlog", &payload(id, LEN));
    }
    let (mut c, mut es) = open_stream(addr, "/sse?topic=backlog&since=0", "");
    for _ in 1..=1024 {
        match c.chunk_within(WAIT) {
            Some(Chunk::Data { data, .. }) => es.feed(&data),
            other => panic!(
                "stream ended after {} of 1024 replayed events ({other:?}); slow_consumers_dropped = {}",
                es.events.len(),
                stats(addr)["slow_consumers_dropped"]
            ),
        }
    }
    assert_eq!(ids(&es.events), (1..=1024).collect::<Vec<_>>());
    es.events.iter().for_each(|e| check_payload(e, LEN));
    assert_eq!(stats(addr)["slow_consumers_dropped"], 0);
}
