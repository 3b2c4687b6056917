//! Shared helpers of the integration tests: real servers on `127.0.0.1:0`, and a small
//! HTTP/1.1 client that speaks raw bytes over `std::net::TcpStream`.
//!
//! Use it from a test file with `mod common;` and `use common::*;` (or `common::start()`).
//!
//! The rules every helper keeps, so that every test ends by itself:
//! - nothing is mocked: each server is the real event loop on its own thread, each client a
//!   real socket;
//! - every read has a deadline ([`PATIENCE`] unless the test says otherwise), and a helper
//!   that waits for something that never comes panics (or returns an `Err`) with the bytes it
//!   did get, escaped by [`show`]; a test that waits for the server to change its state
//!   (a `/stats` counter, a freed slot) polls with [`eventually`], which fails naming what
//!   never happened;
//! - the client is strict about what the server sends: a response with conflicting framing
//!   (two `Content-Length`s, `Content-Length` beside `Transfer-Encoding`, a bad chunk) is a
//!   [`ReadError::Malformed`], never silently accepted.
//!
//! | item | what it is |
//! |---|---|
//! | [`start`], [`start_with`], [`config`] | pushlab's own routes ([`pushlab::spawn`]) |
//! | [`start_echo`], [`start_echo_with`], [`Echo`] | the `01_http` demo's echo service |
//! | [`serve`] | any [`Service`] on its own server thread |
//! | [`Client`] | one connection: `send`, `read_response`, `read_head`, `is_closed`, … |
//! | [`Response`] | status line, headers in order, body (de-chunked) |
//! | [`request`], [`chunked`], [`fetch`], [`get`] | building requests, one-shot exchanges |
//! | [`check_date_and_server`], [`parse_http_date`] | SPEC §8: `Date` and `Server` on responses |
//! | [`eventually`], [`poll_until`] | waiting, with a deadline, for a condition to hold |
//! | [`Rng`] | the seeded generator of every randomised test |
//! | [`ws`] | the WebSocket client of the `websocket_*.rs` files (RFC 6455, written from the RFC) |
// Every test file compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use std::fmt::Display;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pushlab::config::Config;
use pushlab::http::reader::Request;
use pushlab::http::response::Response as ServerResponse;
use pushlab::service::{Ctx, Reply, Service};

pub mod ws;

/// Longest a helper waits for bytes that should come, or [`eventually`] for a condition.
pub const PATIENCE: Duration = Duration::from_secs(5);

/// The `Host` every helper-built request carries.
pub const HOST: &str = "pushlab.test";

// =====================================================================================
// Servers
// =====================================================================================

/// The default configuration on a free port of `127.0.0.1`: start from this and change
/// fields, e.g. `start_with(Config { max_connections: 3, ..config() })`.
pub fn config() -> Config {
    Config { addr: "127.0.0.1:0".parse().unwrap(), ..Config::default() }
}

/// pushlab with its defaults, on a free port.
pub fn start() -> SocketAddr {
    start_with(config())
}

/// pushlab with `config` (build it from [`config`] so the port is free).
pub fn start_with(config: Config) -> SocketAddr {
    pushlab::spawn(config).expect("pushlab starts")
}

/// Echoes every request body back with `200 OK`, whatever the method and path: the
/// `Echo` of `demos/01_http.rs`, the test subject the public h1spec checks expect.
pub struct Echo;

impl Service for Echo {
    fn call(&mut self, request: &Request<'_>, _ctx: &mut Ctx<'_>) -> Reply {
        Reply::Response(ServerResponse::ok("application/octet-stream", request.body.to_vec()))
    }
}

/// The echo server, on a free port.
pub fn start_echo() -> SocketAddr {
    start_echo_with(config())
}

/// The echo server with `config`.
pub fn start_echo_with(config: Config) -> SocketAddr {
    serve(config, || Echo)
}

/// Binds `make()`'s service with `config` and runs it on a new thread; returns the bound
/// address. The service is made on the server thread (the server need not be `Send`).
pub fn serve<S, F>(config: Config, make: F) -> SocketAddr
where
    S: Service + 'static,
    F: Fn() -> S + Send + Sync + 'static,
{
    pushlab::spawn_service(config, make).expect("server binds")
}

// =====================================================================================
// Requests
// =====================================================================================

/// An HTTP/1.1 request with `Host: pushlab.test`, the `extra` header lines (each ending in
/// `\r\n`), and `Content-Length` when there is a body or the method is `POST` (unless `extra`
/// sets a `Transfer-Encoding` or a `Content-Length` itself).
pub fn request(method: &str, target: &str, extra: &str, body: &[u8]) -> Vec<u8> {
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {HOST}\r\n{extra}");
    let lower = extra.to_ascii_lowercase();
    let framed = lower.contains("transfer-encoding:") || lower.contains("content-length:");
    if (method == "POST" || !body.is_empty()) && !framed {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// `pieces` in the chunked transfer coding (RFC 9112 §7.1), one chunk each, then the last
/// chunk and an empty trailer section.
pub fn chunked(pieces: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for piece in pieces.iter().filter(|p| !p.is_empty()) {
        out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// Sends `raw` on a fresh connection and reads one response (with no body if `raw` is a
/// `HEAD` request).
pub fn fetch(addr: SocketAddr, raw: &[u8]) -> Response {
    Client::connect(addr).exchange(raw)
}

/// `GET target` on a fresh connection.
pub fn get(addr: SocketAddr, target: &str) -> Response {
    fetch(addr, &request("GET", target, "", b""))
}

// =====================================================================================
// Responses
// =====================================================================================

/// One response as it came off the wire.
#[derive(Clone, Debug)]
pub struct Response {
    /// `HTTP/1.1` (the version in the status line).
    pub version: String,
    pub status: u16,
    pub reason: String,
    /// Every header line, in order, names as sent, values without surrounding whitespace.
    pub headers: Vec<(String, String)>,
    /// The body: de-chunked if it was chunked; empty for a response to `HEAD`, for `1xx`,
    /// `204`, `304`, and for [`Client::read_head`].
    pub body: Vec<u8>,
    /// The head exactly as received, status line to blank line inclusive.
    pub raw_head: Vec<u8>,
    /// How the body was delimited.
    pub framing: BodyFraming,
}

/// How a response body was delimited (RFC 9112 §6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyFraming {
    /// No body: `HEAD`, `1xx`, `204`, `304`, or only the head was read.
    None,
    Length(usize),
    Chunked,
    /// The body ran until the server closed the connection.
    Close,
}

impl Response {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Every header called `name`, in order.
    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
    }

    pub fn has_header(&self, name: &str) -> bool {
        self.header(name).is_some()
    }

    /// The header names, lower-cased, in order (to compare a `HEAD` answer with a `GET`'s).
    pub fn header_names(&self) -> Vec<String> {
        self.headers.iter().map(|(n, _)| n.to_ascii_lowercase()).collect()
    }

    /// True if a `Connection` header lists `token` (case-insensitive, comma lists).
    pub fn connection_has(&self, token: &str) -> bool {
        self.headers_named("Connection")
            .iter()
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    /// The body as UTF-8 (panics otherwise).
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap_or_else(|_| panic!("body is not UTF-8: {}", show(&self.body)))
    }

    /// The body as JSON (panics otherwise).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", show(&self.body)))
    }
}

/// Why a response could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// The server closed (or reset) the connection; `got` is what came before.
    Closed { got: Vec<u8> },
    /// The deadline passed; `got` is what came (and is still unread).
    TimedOut { got: Vec<u8> },
    /// The bytes are not a well-formed HTTP/1.1 response.
    Malformed { why: String, got: Vec<u8> },
    /// Any other socket error.
    Io(io::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Closed { got } => write!(f, "connection closed after {}", show(got)),
            ReadError::TimedOut { got } => write!(f, "timed out after {}", show(got)),
            ReadError::Malformed { why, got } => write!(f, "malformed response ({why}): {}", show(got)),
            ReadError::Io(e) => write!(f, "socket error: {e}"),
        }
    }
}

/// What one attempt to read more found.
enum Fill {
    Data,
    Eof,
    TimedOut,
}

// =====================================================================================
// The client
// =====================================================================================

/// One client connection and its unread input.
pub struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
    eof: bool,
    patience: Duration,
}

impl Client {
    /// Connects (with `TCP_NODELAY`, so each `send` leaves at once).
    pub fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
        stream.set_nodelay(true).expect("set_nodelay");
        Client { stream, buf: Vec::new(), eof: false, patience: PATIENCE }
    }

    /// Changes how long reads wait (default [`PATIENCE`]).
    pub fn set_patience(&mut self, patience: Duration) {
        self.patience = patience;
    }

    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Bytes received and not yet consumed by a `read_*`.
    pub fn unread(&self) -> &[u8] {
        &self.buf
    }

    /// Writes all of `bytes`; panics if the connection is gone.
    pub fn send(&mut self, bytes: &[u8]) {
        self.try_send(bytes).unwrap_or_else(|e| panic!("write failed: {e}"));
    }

    /// Writes all of `bytes`; the error when the server has closed the connection.
    pub fn try_send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Writes `bytes` one byte per `write` call, pausing `pause` between them.
    pub fn send_bytewise(&mut self, bytes: &[u8], pause: Duration) {
        for byte in bytes {
            self.send(std::slice::from_ref(byte));
            if !pause.is_zero() {
                std::thread::sleep(pause);
            }
        }
    }

    /// Closes our sending side (the server reads EOF); reading still works.
    pub fn shutdown_write(&self) {
        let _ = self.stream.shutdown(Shutdown::Write);
    }

    /// Sends `raw` and reads one response: with no body if `raw` is a `HEAD` request.
    pub fn exchange(&mut self, raw: &[u8]) -> Response {
        self.send(raw);
        let head_only = raw.starts_with(b"HEAD ");
        self.try_read_response(head_only).unwrap_or_else(|e| panic!("request {}: {e}", show_head(raw)))
    }

    /// Reads one whole response to a request other than `HEAD`. Panics on failure.
    pub fn read_response(&mut self) -> Response {
        self.try_read_response(false).unwrap_or_else(|e| panic!("reading a response: {e}"))
    }

    /// Reads one whole response to a `method` request (`HEAD`: no body whatever the headers).
    pub fn read_response_to(&mut self, method: &str) -> Response {
        self.try_read_response(method == "HEAD")
            .unwrap_or_else(|e| panic!("reading a response to {method}: {e}"))
    }

    /// Reads responses until a final one (not `1xx`, except `101`), returning it.
    pub fn read_final_response(&mut self) -> Response {
        loop {
            let response = self.read_response();
            if !(100..200).contains(&response.status) || response.status == 101 {
                return response;
            }
        }
    }

    /// Reads only the status line and headers (for a streaming body, which stays unread).
    pub fn read_head(&mut self) -> Response {
        let deadline = Instant::now() + self.patience;
        self.try_read_head(deadline).unwrap_or_else(|e| panic!("reading a response head: {e}"))
    }

    /// Reads one whole response; `head_only` for the answer to a `HEAD` request. On a
    /// timeout nothing is consumed, so the caller may send more and try again.
    pub fn try_read_response(&mut self, head_only: bool) -> Result<Response, ReadError> {
        let deadline = Instant::now() + self.patience;
        let head_len = self.await_head(deadline)?;
        let mut response = parse_head(&self.buf[..head_len])?;
        let no_body =
            head_only || (100..200).contains(&response.status) || matches!(response.status, 204 | 304);
        response.framing = if no_body { BodyFraming::None } else { body_framing(&response, &self.buf)? };
        let body_len = match response.framing {
            BodyFraming::None => 0,
            BodyFraming::Length(n) => {
                while self.buf.len() < head_len + n {
                    self.fill_or_fail(deadline)?;
                }
                response.body = self.buf[head_len..head_len + n].to_vec();
                n
            }
            BodyFraming::Chunked => loop {
                match decode_chunked(&self.buf[head_len..]) {
                    Ok(Some((body, used))) => {
                        response.body = body;
                        break used;
                    }
                    Ok(None) => self.fill_or_fail(deadline)?,
                    Err(why) => return Err(ReadError::Malformed { why, got: self.buf.clone() }),
                }
            },
            BodyFraming::Close => {
                while !self.eof {
                    self.fill_or_fail_unless_eof(deadline)?;
                }
                response.body = self.buf[head_len..].to_vec();
                self.buf.len() - head_len
            }
        };
        self.buf.drain(..head_len + body_len);
        Ok(response)
    }

    fn try_read_head(&mut self, deadline: Instant) -> Result<Response, ReadError> {
        let head_len = self.await_head(deadline)?;
        let response = parse_head(&self.buf[..head_len])?;
        self.buf.drain(..head_len);
        Ok(response)
    }

    /// Reads until the buffer holds a whole head; returns its length.
    fn await_head(&mut self, deadline: Instant) -> Result<usize, ReadError> {
        loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                return Ok(i + 4);
            }
            self.fill_or_fail(deadline)?;
        }
    }

    /// Reads everything until the server closes the connection; panics on a timeout.
    pub fn read_to_close(&mut self) -> Vec<u8> {
        let deadline = Instant::now() + self.patience;
        while !self.eof {
            match self.fill(deadline) {
                Ok(Fill::TimedOut) => panic!("no EOF within {:?}; got {}", self.patience, show(&self.buf)),
                Ok(_) => {}
                Err(e) => panic!("read_to_close: {e}"),
            }
        }
        std::mem::take(&mut self.buf)
    }

    /// Waits up to the patience for the server to close the connection. True on EOF or a
    /// reset; false on a timeout. Bytes that arrive meanwhile stay in [`Client::unread`].
    pub fn is_closed(&mut self) -> bool {
        let deadline = Instant::now() + self.patience;
        while !self.eof {
            match self.fill(deadline) {
                Ok(Fill::TimedOut) => return false,
                Ok(_) => {}
                Err(_) => return true,
            }
        }
        true
    }

    /// Asserts that the server closes the connection without sending anything more.
    pub fn expect_closed(&mut self, context: &str) {
        assert!(self.is_closed(), "{context}: connection still open after {:?}", self.patience);
        assert!(self.buf.is_empty(), "{context}: unexpected bytes before the close: {}", show(&self.buf));
    }

    /// True if, for `wait`, nothing arrives and the connection stays open. Bytes that do
    /// arrive stay in [`Client::unread`].
    pub fn stays_open(&mut self, wait: Duration) -> bool {
        if !self.buf.is_empty() || self.eof {
            return false;
        }
        matches!(self.fill(Instant::now() + wait), Ok(Fill::TimedOut))
    }

    /// One read, waiting at most until `deadline`. A reset counts as EOF.
    fn fill(&mut self, deadline: Instant) -> io::Result<Fill> {
        if self.eof {
            return Ok(Fill::Eof);
        }
        let mut chunk = [0u8; 64 * 1024];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(Fill::TimedOut);
            }
            self.stream.set_read_timeout(Some(left))?;
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(Fill::Eof);
                }
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(Fill::Data);
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted) => {
                    self.eof = true;
                    return Ok(Fill::Eof);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// One read that must bring bytes.
    fn fill_or_fail(&mut self, deadline: Instant) -> Result<(), ReadError> {
        match self.fill(deadline) {
            Ok(Fill::Data) => Ok(()),
            Ok(Fill::Eof) => Err(ReadError::Closed { got: self.buf.clone() }),
            Ok(Fill::TimedOut) => Err(ReadError::TimedOut { got: self.buf.clone() }),
            Err(e) => Err(ReadError::Io(e)),
        }
    }

    /// One read that may bring bytes or EOF.
    fn fill_or_fail_unless_eof(&mut self, deadline: Instant) -> Result<(), ReadError> {
        match self.fill(deadline) {
            Ok(Fill::Data | Fill::Eof) => Ok(()),
            Ok(Fill::TimedOut) => Err(ReadError::TimedOut { got: self.buf.clone() }),
            Err(e) => Err(ReadError::Io(e)),
        }
    }
}

/// Parses a response head (status line, header lines, blank line).
fn parse_head(raw: &[u8]) -> Result<Response, ReadError> {
    let malformed = |why: String| ReadError::Malformed { why, got: raw.to_vec() };
    let text = std::str::from_utf8(raw).map_err(|_| malformed("head is not ASCII".into()))?;
    let mut lines =
        text.strip_suffix("\r\n\r\n").ok_or_else(|| malformed("no blank line".into()))?.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    // RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default().to_string();
    let code = parts.next().unwrap_or_default();
    let reason = parts.next().unwrap_or_default().to_string();
    if !(version.len() == 8 && version.starts_with("HTTP/1.")) {
        return Err(malformed(format!("status line {status_line:?}")));
    }
    let status = match code.parse::<u16>() {
        Ok(s) if code.len() == 3 && (100..600).contains(&s) => s,
        _ => return Err(malformed(format!("status code in {status_line:?}"))),
    };
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line.split_once(':').ok_or_else(|| malformed(format!("header line {line:?}")))?;
        if name.is_empty() || name.bytes().any(|b| b.is_ascii_whitespace()) {
            return Err(malformed(format!("header name in {line:?}")));
        }
        headers.push((name.to_string(), value.trim_matches([' ', '\t']).to_string()));
    }
    Ok(Response {
        version,
        status,
        reason,
        headers,
        body: Vec::new(),
        raw_head: raw.to_vec(),
        framing: BodyFraming::None,
    })
}

/// RFC 9112 §6.3, from the client's side, strictly.
fn body_framing(response: &Response, got: &[u8]) -> Result<BodyFraming, ReadError> {
    let malformed = |why: &str| ReadError::Malformed { why: why.to_string(), got: got.to_vec() };
    let lengths = response.headers_named("Content-Length");
    let codings = response.headers_named("Transfer-Encoding");
    if !codings.is_empty() {
        if !lengths.is_empty() {
            return Err(malformed("both Content-Length and Transfer-Encoding"));
        }
        return match codings.join(",").rsplit(',').next().map(str::trim) {
            Some(last) if last.eq_ignore_ascii_case("chunked") => Ok(BodyFraming::Chunked),
            _ => Ok(BodyFraming::Close),
        };
    }
    match lengths.as_slice() {
        [] => Ok(BodyFraming::Close),
        [one] if !one.is_empty() && one.bytes().all(|b| b.is_ascii_digit()) => {
            Ok(BodyFraming::Length(one.parse().map_err(|_| malformed("Content-Length too large"))?))
        }
        [_] => Err(malformed("Content-Length is not digits")),
        _ => Err(malformed("more than one Content-Length")),
    }
}

/// Decodes a chunked body (RFC 9112 §7.1) at the start of `input`: `Ok(None)` if more bytes
/// are needed, else the body and how many input bytes it took (trailers included).
pub fn decode_chunked(input: &[u8]) -> Result<Option<(Vec<u8>, usize)>, String> {
    let mut body = Vec::new();
    let mut pos = 0;
    loop {
        let Some(eol) = find(&input[pos..], b"\r\n") else { return Ok(None) };
        let line = &input[pos..pos + eol];
        // chunk-size [ chunk-ext ]: the size is the hex digits before any `;` or whitespace.
        let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
        let rest = &line[digits..];
        if digits == 0
            || !(rest.is_empty()
                || rest.starts_with(b";")
                || rest.starts_with(b" ")
                || rest.starts_with(b"\t"))
        {
            return Err(format!("chunk-size line {}", show(line)));
        }
        let size = usize::from_str_radix(std::str::from_utf8(&line[..digits]).unwrap(), 16)
            .map_err(|_| format!("chunk size overflows: {}", show(line)))?;
        pos += eol + 2;
        if size == 0 {
            // trailer-section CRLF
            loop {
                let Some(eol) = find(&input[pos..], b"\r\n") else { return Ok(None) };
                pos += eol + 2;
                if eol == 0 {
                    return Ok(Some((body, pos)));
                }
            }
        }
        if input.len() < pos + size + 2 {
            return Ok(None);
        }
        body.extend_from_slice(&input[pos..pos + size]);
        if &input[pos + size..pos + size + 2] != b"\r\n" {
            return Err(format!("chunk data not followed by CRLF: {}", show(&input[pos..])));
        }
        pos += size + 2;
    }
}

// =====================================================================================
// Date and Server (SPEC §8, RFC 9110 §6.6.1, §10.2.4)
// =====================================================================================

/// Panics unless `r` has exactly one `Date` (an IMF-fixdate within 5 s of now) and exactly
/// one `Server: pushlab`. `label` names the response in the message.
pub fn check_date_and_server(label: &str, r: &Response) {
    let dates = r.headers_named("Date");
    assert_eq!(dates.len(), 1, "{label}: expected one Date header, got {dates:?}\n{}", show(&r.raw_head));
    let date = parse_http_date(dates[0])
        .unwrap_or_else(|| panic!("{label}: Date {:?} is not an IMF-fixdate", dates[0]));
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    assert!(date.abs_diff(now) <= 5, "{label}: Date {:?} is {}s away from now", dates[0], date.abs_diff(now));
    assert_eq!(r.headers_named("Server"), ["pushlab"], "{label}: Server header\n{}", show(&r.raw_head));
}

/// Parses an IMF-fixdate (RFC 9110 §5.6.7), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`, into Unix
/// seconds; `None` if it is not exactly one (including a wrong day name).
pub fn parse_http_date(s: &str) -> Option<u64> {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]; // 1970-01-01 was a Thursday
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let b = s.as_bytes();
    if b.len() != 29
        || &s[3..5] != ", "
        || b[7] != b' '
        || b[11] != b' '
        || b[16] != b' '
        || &s[25..] != " GMT"
    {
        return None;
    }
    if b[19] != b':' || b[22] != b':' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u64> {
        let part = &s[range];
        part.bytes().all(|c| c.is_ascii_digit()).then(|| part.parse().ok()).flatten()
    };
    let (day, year) = (num(5..7)?, num(12..16)?);
    let month = MONTHS.iter().position(|m| *m == &s[8..11])? as u64 + 1;
    let (hour, minute, second) = (num(17..19)?, num(20..22)?, num(23..25)?);
    if !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 || year < 1970 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm), for dates from 1970 on.
    let (y, m) = if month <= 2 { (year - 1, month + 9) } else { (year, month - 3) };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = (era * 146_097 + doe).checked_sub(719_468)?;
    if DAYS[(days % 7) as usize] != &s[..3] {
        return None;
    }
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

// =====================================================================================
// Waiting for the server to get somewhere
// =====================================================================================

/// How long [`poll_until`] sleeps between two looks.
const POLL_EVERY: Duration = Duration::from_millis(10);

/// What the probe given to [`eventually`] answers: `true`, `Some(value)` or `Ok(value)` once
/// the awaited thing has happened; `false`, `None` or `Err(how things stand)` while it has not
/// (an `Err`'s text goes into the failure message).
pub trait Probe {
    /// What [`eventually`] returns.
    type Output;
    /// `Ok` when done, else what to report if it never is.
    fn outcome(self) -> Result<Self::Output, Option<String>>;
}

impl Probe for bool {
    type Output = ();
    fn outcome(self) -> Result<(), Option<String>> {
        if self {
            Ok(())
        } else {
            Err(None)
        }
    }
}

impl<T> Probe for Option<T> {
    type Output = T;
    fn outcome(self) -> Result<T, Option<String>> {
        self.ok_or(None)
    }
}

impl<T, E: Display> Probe for Result<T, E> {
    type Output = T;
    fn outcome(self) -> Result<T, Option<String>> {
        self.map_err(|e| Some(e.to_string()))
    }
}

/// Asks `probe` every 10 ms until it answers that `what` has happened, and returns what it
/// yields; panics after [`PATIENCE`] with "never happened: `what`" (and, for a `Result`
/// probe, the last state it reported). The probe runs at least once, and once more at the
/// deadline.
///
/// ```ignore
/// eventually("connections.sse back to 0", || sse_connections(addr) == 0);
/// ```
pub fn eventually<P: Probe>(what: &str, probe: impl FnMut() -> P) -> P::Output {
    match poll_until(PATIENCE, probe) {
        Ok(value) => value,
        Err(None) => panic!("never happened within {PATIENCE:?}: {what}"),
        Err(Some(last)) => panic!("never happened within {PATIENCE:?}: {what} (last: {last})"),
    }
}

/// The loop of [`eventually`], for a caller with its own deadline or failure message: the
/// probe's value, or on timeout the last state it reported.
pub fn poll_until<P: Probe>(
    patience: Duration,
    mut probe: impl FnMut() -> P,
) -> Result<P::Output, Option<String>> {
    let deadline = Instant::now() + patience;
    loop {
        let last = match probe().outcome() {
            Ok(value) => return Ok(value),
            Err(last) => last,
        };
        if Instant::now() >= deadline {
            return Err(last);
        }
        std::thread::sleep(POLL_EVERY);
    }
}

// =====================================================================================
// Bytes
// =====================================================================================

/// The first position of `needle` in `haystack`.
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `bytes` as a quoted string with `\r`, `\n` and non-printables escaped, shortened in the
/// middle when long — for assertion messages.
pub fn show(bytes: &[u8]) -> String {
    const MAX: usize = 600;
    let escape = |b: &[u8]| b.escape_ascii().to_string();
    if bytes.len() <= MAX {
        format!("\"{}\"", escape(bytes))
    } else {
        let (head, tail) = (&bytes[..MAX / 2], &bytes[bytes.len() - MAX / 4..]);
        format!(
            "\"{}\" …({} bytes)… \"{}\"",
            escape(head),
            bytes.len() - head.len() - tail.len(),
            escape(tail)
        )
    }
}

/// The request line of `raw`, for messages.
fn show_head(raw: &[u8]) -> String {
    let end = find(raw, b"\r\n").unwrap_or(raw.len()).min(120);
    show(&raw[..end])
}

/// The one seeded generator of the integration tests (xorshift64*, Vigna 2016): random-looking
/// tests that replay exactly from their seed, on every run and machine, with no crate. Its
/// twin `src/wire/test_rng.rs` serves the unit tests under `src/wire/` (which cannot see this
/// file, nor it theirs); the two keep the same generator and the same methods. `Rng(seed)`
/// starts one; the seed must not be 0, the one state xorshift never leaves.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n` > 0), from the better high bits.
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "Rng::below(0)");
        ((self.next() >> 11) % n as u64) as usize
    }

    /// A random byte (the top eight bits).
    pub fn byte(&mut self) -> u8 {
        (self.next() >> 56) as u8
    }

    /// One of `items` (not empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}
