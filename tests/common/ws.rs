//! A WebSocket client written from RFC 6455, independently of `src/wire/ws/`: what the
//! `tests/websocket_*.rs` files speak to the server with. They do not trust the server's own
//! WebSocket code, so this module has its own:
//!
//! - opening handshake, as literal request bytes ([`upgrade_request`]), with
//!   `Sec-WebSocket-Accept` recomputed from §4.2.2 ([`expected_accept`]: SHA-1 of key + GUID,
//!   base64);
//! - frame encoder ([`encode_frame`], [`encode_header`]): §5.2 framing with §5.3 masking, able
//!   to write what no well-behaved client would (RSV bits, reserved opcodes, unmasked frames,
//!   126-byte control frames);
//! - frame decoder ([`Client::next`], [`decode_header`]), which also checks what a server must
//!   never send (masked frames, RSV bits, non-minimal lengths) and reassembles fragmented
//!   messages ([`Client::message`]);
//! - deterministic payloads ([`payload`], [`extend_pattern`], [`pattern_mismatch`]) so that
//!   megabyte echoes are compared as they arrive, never stored twice.
//!
//! Use it with `mod common;` and `use common::ws::*;` (its `Client` and `show` are not
//! `common`'s, so do not glob-import both).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine as _;
use pushlab::config::Config;
use sha1::{Digest, Sha1};

use super::Rng;

/// How long any single expected frame or response may take to arrive.
pub const WAIT: Duration = Duration::from_secs(5);
/// How long "nothing arrives" is watched for (Autobahn waits 1 s; loopback needs far less).
pub const QUIET: Duration = Duration::from_millis(200);

// Opcodes (RFC 6455 §5.2), named once.
pub const CONTINUATION: u8 = 0x0;
pub const TEXT: u8 = 0x1;
pub const BINARY: u8 = 0x2;
pub const CLOSE: u8 = 0x8;
pub const PING: u8 = 0x9;
pub const PONG: u8 = 0xA;

// Reserved bits as Autobahn numbers them (`rsv = 4` is RSV1): shifted into byte 0 by 4.
pub const RSV1: u8 = 4;
pub const RSV2: u8 = 2;
pub const RSV3: u8 = 1;

/// RFC 6455 §1.3: the GUID appended to the key before hashing.
pub const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/// RFC 6455 §1.3's example nonce, and the accept value the RFC gives for it.
pub const RFC_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
pub const RFC_ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

// =====================================================================================
// Servers.
// =====================================================================================

/// pushlab on a free port, with `configure` applied to the test defaults.
pub fn server_with(configure: impl FnOnce(&mut Config)) -> SocketAddr {
    let mut config = super::config();
    configure(&mut config);
    super::start_with(config)
}

/// pushlab with the test defaults, on a free port.
pub fn server() -> SocketAddr {
    server_with(|_| {})
}

// =====================================================================================
// The client: RFC 6455 §4 (handshake) and §5 (framing), written from the RFC.
// =====================================================================================

/// §4.2.2 item 5.4: base64(SHA-1(key ++ GUID)).
pub fn expected_accept(key: &str) -> String {
    let digest = Sha1::digest(format!("{key}{GUID}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(digest)
}

/// §5.3: `octet i ^= key[i mod 4]`, where `offset` is the payload position of `data[0]`.
pub fn mask(data: &mut [u8], key: [u8; 4], offset: usize) {
    for (i, b) in data.iter_mut().enumerate() {
        *b ^= key[(offset + i) % 4];
    }
}

/// [`mask`] eight bytes at a time, for the megabytes of section 9 (a debug build runs the
/// byte loop too slowly). `mask_word_equals_mask` proves the two agree.
pub fn mask_fast(data: &mut [u8], key: [u8; 4], offset: usize) {
    let k: [u8; 4] = std::array::from_fn(|i| key[(offset + i) % 4]);
    let word = u64::from_ne_bytes([k[0], k[1], k[2], k[3], k[0], k[1], k[2], k[3]]);
    let mut chunks = data.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let v = u64::from_ne_bytes((&*chunk).try_into().unwrap()) ^ word;
        chunk.copy_from_slice(&v.to_ne_bytes());
    }
    mask(chunks.into_remainder(), k, 0);
}

/// A frame header (§5.2): FIN, RSV (Autobahn's 3-bit number), opcode, MASK and key, and the
/// payload length in the shortest of the 7-, 16- and 64-bit forms.
pub fn encode_header(fin: bool, rsv: u8, opcode: u8, len: u64, key: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(14);
    out.push(if fin { 0x80 } else { 0 } | (rsv & 0b111) << 4 | (opcode & 0x0F));
    let mask_bit = if key.is_some() { 0x80 } else { 0 };
    if len <= 125 {
        out.push(mask_bit | len as u8);
    } else if len <= 0xFFFF {
        out.push(mask_bit | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(mask_bit | 127);
        out.extend_from_slice(&len.to_be_bytes());
    }
    if let Some(key) = key {
        out.extend_from_slice(&key);
    }
    out
}

/// A whole frame; masked with `key` if given (a client's frames always are, §5.1).
pub fn encode_frame(fin: bool, rsv: u8, opcode: u8, payload: &[u8], key: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = encode_header(fin, rsv, opcode, payload.len() as u64, key);
    let start = out.len();
    out.extend_from_slice(payload);
    if let Some(key) = key {
        mask(&mut out[start..], key, 0);
    }
    out
}

/// A close frame body: code, then reason (§5.5.1).
pub fn close_body(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut body = code.to_be_bytes().to_vec();
    body.extend_from_slice(reason);
    body
}

/// One frame from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub fin: bool,
    /// RFC 7692 §6: the message is compressed (only where permessage-deflate was negotiated).
    pub rsv1: bool,
    pub opcode: u8,
    pub payload: Vec<u8>,
}

/// What the server did next.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    Frame(Frame),
    /// The server closed the TCP connection (FIN, or a reset after its close frame).
    Eof,
}

/// A parsed header of a server frame.
pub struct Header {
    pub fin: bool,
    pub rsv1: bool,
    pub opcode: u8,
    pub len: u64,
    pub header_len: usize,
}

/// Decodes a server frame's header at the start of `buf` (`None`: `buf` ends inside it),
/// panicking on what a server must never send.
pub fn decode_header(buf: &[u8]) -> Option<Header> {
    if buf.len() < 2 {
        return None;
    }
    let (b0, b1) = (buf[0], buf[1]);
    // §5.2: "MUST be 0 unless an extension is negotiated". RSV1 is permessage-deflate's
    // (RFC 7692 §6); `Client::next` checks it was negotiated.
    assert_eq!(b0 & 0x30, 0, "server frame with RSV2 or RSV3 set: {:02x?}", &buf[..2]);
    // §5.1: "A server MUST NOT mask any frames that it sends to the client."
    assert_eq!(b1 & 0x80, 0, "server frame is masked: {:02x?}", &buf[..2]);
    let (len, header_len) = match b1 & 0x7F {
        126 if buf.len() >= 4 => (u16::from_be_bytes([buf[2], buf[3]]) as u64, 4),
        127 if buf.len() >= 10 => (u64::from_be_bytes(buf[2..10].try_into().unwrap()), 10),
        126 | 127 => return None,
        n => (n as u64, 2),
    };
    // §5.2: "the minimal number of bytes MUST be used to encode the length".
    match header_len {
        4 => assert!(len > 125, "16-bit length {len} is not minimal"),
        10 => {
            assert!(len > 0xFFFF && len >> 63 == 0, "64-bit length {len} is not minimal or has its MSB set")
        }
        _ => {}
    }
    Some(Header { fin: b0 & 0x80 != 0, rsv1: b0 & 0x40 != 0, opcode: b0 & 0x0F, len, header_len })
}

/// One client connection: the socket, what was read and not yet decoded, and where masking
/// keys come from.
pub struct Client {
    stream: TcpStream,
    /// Read and not yet decoded.
    pub buf: Vec<u8>,
    /// Masking keys: seeded, so runs repeat (a real client uses a strong RNG, §10.3).
    rng: Rng,
    /// permessage-deflate was negotiated: compressed frames (RSV1) are allowed.
    pub deflate: bool,
}

/// A response head.
#[derive(Debug)]
pub struct Head {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub raw: String,
}

impl Head {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_nodelay(true).unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        Client {
            stream,
            buf: Vec::new(),
            rng: Rng(0x9E37_79B9_7F4A_7C15 ^ u64::from(addr.port())),
            deflate: false,
        }
    }

    /// Connects and completes the opening handshake on `path`, checking the `101`.
    pub fn ws(addr: SocketAddr, path: &str) -> Client {
        Client::ws_sending(addr, path, b"")
    }

    /// As [`Client::ws`], with `extra` bytes sent in the same write as the request.
    pub fn ws_sending(addr: SocketAddr, path: &str, extra: &[u8]) -> Client {
        let mut client = Client::connect(addr);
        let key = "x3JJHMbDL1EzLkh9GBhXDw==";
        let mut request = upgrade_request(path, &addr.to_string(), key).into_bytes();
        request.extend_from_slice(extra);
        client.send(&request);
        let head = client.read_head();
        assert_eq!(head.status, 101, "handshake refused:\n{}", head.raw);
        assert_eq!(head.header("Sec-WebSocket-Accept"), Some(expected_accept(key).as_str()), "{}", head.raw);
        client
    }

    /// A fresh masking key.
    pub fn key(&mut self) -> [u8; 4] {
        ((self.rng.next() >> 32) as u32).to_be_bytes()
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    /// Sends `bytes` in writes of `chop` bytes each (Autobahn's `chopsize`).
    pub fn send_chopped(&mut self, bytes: &[u8], chop: usize) {
        for piece in bytes.chunks(chop) {
            self.send(piece);
        }
    }

    /// A masked frame's bytes with a fresh key.
    pub fn frame(&mut self, fin: bool, rsv: u8, opcode: u8, payload: &[u8]) -> Vec<u8> {
        let key = self.key();
        encode_frame(fin, rsv, opcode, payload, Some(key))
    }

    pub fn send_frame(&mut self, fin: bool, opcode: u8, payload: &[u8]) {
        let bytes = self.frame(fin, 0, opcode, payload);
        self.send(&bytes);
    }

    /// Reads more input; `false` at EOF. Panics after [`WAIT`] without any.
    pub fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 64 * 1024];
        match self.stream.read(&mut chunk) {
            Ok(0) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
            // A reset after the server's close frame still ends the connection.
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => false,
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                panic!(
                    "nothing from the server for {WAIT:?}; unread: {:02x?}",
                    &self.buf[..self.buf.len().min(64)]
                )
            }
            Err(e) => panic!("read: {e}"),
        }
    }

    /// The response head (RFC 9112 §2.1), leaving any following bytes in `buf`.
    pub fn read_head(&mut self) -> Head {
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let raw = String::from_utf8(self.buf[..end + 4].to_vec()).expect("head is ASCII");
                self.buf.drain(..end + 4);
                let mut lines = raw.split("\r\n");
                let status_line = lines.next().unwrap();
                let status = status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status code");
                let headers = lines
                    .filter(|l| !l.is_empty())
                    .map(|l| {
                        let (n, v) = l.split_once(':').expect("header line");
                        (n.to_string(), v.trim().to_string())
                    })
                    .collect();
                return Head { status, headers, raw };
            }
            assert!(
                self.fill(),
                "connection closed before a response head; got {:?}",
                String::from_utf8_lossy(&self.buf)
            );
        }
    }

    /// A `Content-Length` body.
    pub fn read_body(&mut self, head: &Head) -> Vec<u8> {
        let len: usize = head.header("Content-Length").and_then(|v| v.parse().ok()).expect("Content-Length");
        while self.buf.len() < len {
            assert!(self.fill(), "connection closed inside a body");
        }
        self.buf.drain(..len).collect()
    }

    /// The next frame or EOF (server frames are checked by [`decode_header`]).
    pub fn next(&mut self) -> Next {
        loop {
            if let Some(h) = decode_header(&self.buf) {
                let end = h.header_len + h.len as usize;
                if self.buf.len() >= end {
                    assert!(
                        !h.rsv1 || self.deflate,
                        "RSV1 set, but no extension was negotiated: {:02x?}",
                        &self.buf[..2]
                    );
                    let payload = self.buf[h.header_len..end].to_vec();
                    self.buf.drain(..end);
                    return Next::Frame(Frame { fin: h.fin, rsv1: h.rsv1, opcode: h.opcode, payload });
                }
            }
            if !self.fill() {
                assert!(self.buf.is_empty(), "connection closed inside a frame: {:02x?}", self.buf);
                return Next::Eof;
            }
        }
    }

    pub fn next_frame(&mut self) -> Frame {
        match self.next() {
            Next::Frame(f) => f,
            Next::Eof => panic!("expected a frame, the server closed the connection"),
        }
    }

    /// The next data message, reassembled from fragments (§5.4); control frames between
    /// fragments are not expected from this server and fail the test.
    pub fn message(&mut self) -> (u8, Vec<u8>) {
        let first = self.next_frame();
        assert!(matches!(first.opcode, TEXT | BINARY), "expected a data frame, got {}", show(&first));
        let mut payload = first.payload;
        let mut fin = first.fin;
        while !fin {
            let f = self.next_frame();
            assert_eq!(f.opcode, CONTINUATION, "expected a continuation, got {}", show(&f));
            payload.extend_from_slice(&f.payload);
            fin = f.fin;
        }
        (first.opcode, payload)
    }

    pub fn expect_message(&mut self, opcode: u8, payload: &[u8]) {
        let (op, got) = self.message();
        assert_eq!(op, opcode, "opcode");
        if got != payload {
            panic!(
                "echo differs: sent {} bytes {:02x?}…, got {} bytes {:02x?}…",
                payload.len(),
                &payload[..payload.len().min(32)],
                got.len(),
                &got[..got.len().min(32)]
            );
        }
    }

    pub fn expect_frame(&mut self, opcode: u8, payload: &[u8]) {
        let f = self.next_frame();
        assert_eq!((f.opcode, f.fin, f.payload.as_slice()), (opcode, true, payload), "got {}", show(&f));
    }

    /// The next frame is a close frame; returns its code (`None` for an empty body) after
    /// checking the body is well formed (§5.5.1).
    pub fn expect_close_frame(&mut self) -> Option<u16> {
        let f = self.next_frame();
        assert_eq!(f.opcode, CLOSE, "expected a close frame, got {}", show(&f));
        match f.payload.as_slice() {
            [] => None,
            [_] => panic!("close frame with a 1-byte body"),
            [hi, lo, reason @ ..] => {
                assert!(std::str::from_utf8(reason).is_ok(), "close reason is not UTF-8: {reason:02x?}");
                Some(u16::from_be_bytes([*hi, *lo]))
            }
        }
    }

    /// The server fails the connection with `code`: its close frame comes next (nothing
    /// else before it), we answer it (§5.5.1), and the server closes TCP (§7.1.1).
    pub fn expect_close(&mut self, code: u16) {
        let got = self.expect_close_frame();
        assert_eq!(got, Some(code), "close code");
        let reply = self.frame(true, 0, CLOSE, &close_body(code, b""));
        // The server may already have closed its side; a failed write is fine here.
        let _ = self.stream.write_all(&reply);
        self.expect_eof();
    }

    /// We close with 1000; the server answers with close 1000 and closes TCP. RFC 6455
    /// §5.5.1: the answering endpoint "typically echos the status code it received", and
    /// pushlab does (docs/05-websocket.md, "The closing handshake").
    pub fn close_normally(&mut self) {
        let bytes = self.frame(true, 0, CLOSE, &close_body(1000, b""));
        self.send(&bytes);
        assert_eq!(self.expect_close_frame(), Some(1000), "the answer to close 1000 echoes 1000");
        self.expect_eof();
    }

    pub fn expect_eof(&mut self) {
        match self.next() {
            Next::Eof => {}
            Next::Frame(f) => panic!("expected the connection to close, got {}", show(&f)),
        }
    }

    /// Nothing arrives for `d`.
    pub fn expect_quiet(&mut self, d: Duration) {
        self.stream.set_read_timeout(Some(d)).unwrap();
        let mut byte = [0u8; 1];
        let r = self.stream.read(&mut byte);
        self.stream.set_read_timeout(Some(WAIT)).unwrap();
        match r {
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
            Ok(0) => panic!("expected silence, the server closed the connection"),
            Ok(_) => panic!("expected silence, got {:02x?}…", [&self.buf[..], &byte[..]].concat()),
            Err(e) => panic!("expected silence, got {e}"),
        }
    }
}

/// The opening handshake request of RFC 6455 §4.1 for `path`, as a browser sends it.
pub fn upgrade_request(path: &str, host: &str, key: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
}

/// A frame in a line, for assertion messages.
pub fn show(f: &Frame) -> String {
    let p = &f.payload;
    format!(
        "frame opcode {:#x} fin {} len {} payload {:02x?}",
        f.opcode,
        f.fin,
        p.len(),
        &p[..p.len().min(32)]
    )
}

// =====================================================================================
// Payloads.
// =====================================================================================

/// Deterministic payloads, so large echoes are compared as they arrive instead of stored
/// twice: printable ASCII for text, every byte value for binary, repeating every [`PERIOD`]
/// bytes. The period is prime, so it never lines up with the 4-byte masking key.
pub const PERIOD: usize = 4093;

/// One period of the pattern of `opcode`'s payloads.
pub fn table(opcode: u8) -> &'static [u8] {
    static TEXT_TABLE: OnceLock<Vec<u8>> = OnceLock::new();
    static BINARY_TABLE: OnceLock<Vec<u8>> = OnceLock::new();
    if opcode == TEXT {
        TEXT_TABLE.get_or_init(|| (0..PERIOD).map(|i| b'!' + (i * 7 % 94) as u8).collect())
    } else {
        BINARY_TABLE.get_or_init(|| {
            (0..PERIOD).map(|i| ((i as u32).wrapping_mul(2_654_435_761) >> 24) as u8).collect()
        })
    }
}

/// Appends pattern bytes `from..from + n`.
pub fn extend_pattern(out: &mut Vec<u8>, opcode: u8, from: usize, n: usize) {
    let (table, mut i, end) = (table(opcode), from, from + n);
    while i < end {
        let at = i % PERIOD;
        let take = (PERIOD - at).min(end - i);
        out.extend_from_slice(&table[at..at + take]);
        i += take;
    }
}

/// The first index of `data` that differs from pattern bytes `from..`, if any.
pub fn pattern_mismatch(opcode: u8, from: usize, data: &[u8]) -> Option<usize> {
    let table = table(opcode);
    let mut done = 0;
    while done < data.len() {
        let at = (from + done) % PERIOD;
        let take = (PERIOD - at).min(data.len() - done);
        if data[done..done + take] != table[at..at + take] {
            let i = (0..take).find(|&k| data[done + k] != table[at + k]).unwrap();
            return Some(done + i);
        }
        done += take;
    }
    None
}

/// The first `len` pattern bytes of `opcode`.
pub fn payload(opcode: u8, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    extend_pattern(&mut out, opcode, 0, len);
    out
}

// =====================================================================================
// Writes: how a sequence of frames is cut into `write` calls (Autobahn's "chops").
// =====================================================================================

/// How [`send_frames`] cuts its frames into writes.
#[derive(Clone, Copy)]
pub enum Chops {
    /// All frames in one write.
    One,
    /// One write per frame.
    Frames,
    /// One write per byte.
    Octets,
}

/// Sends `frames` (already encoded) in the writes `chops` says.
pub fn send_frames(client: &mut Client, frames: &[Vec<u8>], chops: Chops) {
    match chops {
        Chops::One => client.send(&frames.concat()),
        Chops::Frames => frames.iter().for_each(|f| client.send(f)),
        Chops::Octets => client.send_chopped(&frames.concat(), 1),
    }
}
