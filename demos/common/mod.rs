//! What the polling demos (`02_short_poll.rs`, `03_long_poll.rs`) share, none of it the polling
//! itself: the `--addr` argument, the clock that publishes to [`TOPIC`] every second, one
//! HTTP/1.1 exchange in raw bytes over a `TcpStream`, and the tally of what the client shows
//! and what it costs.
//!
//! Each demo includes it with `#[path = "common/mod.rs"] mod common;`: an example is a crate
//! of its own, and examples cannot `use` one another.
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The topic the clock publishes to and the client follows.
pub const TOPIC: &str = "clock";

/// The address given as `--addr ADDR`, or `127.0.0.1:8080`.
pub fn addr_arg() -> io::Result<SocketAddr> {
    let addr = std::env::args().skip_while(|a| a != "--addr").nth(1).unwrap_or("127.0.0.1:8080".into());
    addr.parse().map_err(io::Error::other)
}

/// Starts the publisher on a thread of its own; it prints why if it ever stops.
pub fn spawn_clock(server: SocketAddr) {
    std::thread::spawn(move || clock(server).unwrap_or_else(|e| eprintln!("clock stopped: {e}")));
}

/// The publisher: `POST /publish?topic=clock` with the time, every second, on one connection.
fn clock(server: SocketAddr) -> io::Result<()> {
    let mut conn = TcpStream::connect(server)?;
    loop {
        let secs = now_ms() / 1000;
        let text = format!("{:02}:{:02}:{:02} UTC", secs / 3600 % 24, secs / 60 % 60, secs % 60);
        let head = format!(
            "POST /publish?topic={TOPIC} HTTP/1.1\r\nHost: {server}\r\nContent-Length: {}\r\n\r\n",
            text.len()
        );
        exchange(&mut conn, [head.as_bytes(), text.as_bytes()].concat().as_slice())?;
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// Writes one request and reads its response: (status, body, bytes received on the wire).
/// pushlab always sends `Content-Length` on these replies, which is all this reader handles.
pub fn exchange(conn: &mut TcpStream, request: &[u8]) -> io::Result<(u16, Vec<u8>, usize)> {
    conn.write_all(request)?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4) {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap_or(0));
            if buf.len() >= end + length {
                let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
                return Ok((status, buf[end..end + length].to_vec(), buf.len()));
            }
        }
        match conn.read(&mut chunk)? {
            0 => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "server closed the connection")),
            n => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// What the client has received and what that cost, printed every 5 s.
pub struct Costs {
    requests: u64,
    /// Bytes received, response heads included.
    bytes: usize,
    /// Replies with no message in them.
    empty: u64,
    /// Messages shown, and the sum of their publish→display delays.
    shown: u64,
    delay_ms: u64,
    report_at: Instant,
    /// Decimals of the requests/message ratio: short polling's 1.1 needs one, long polling's
    /// exact 1.00 reads better with two.
    decimals: usize,
}

impl Costs {
    pub fn new(decimals: usize) -> Costs {
        let report_at = Instant::now() + Duration::from_secs(5);
        Costs { requests: 0, bytes: 0, empty: 0, shown: 0, delay_ms: 0, report_at, decimals }
    }

    /// Counts one reply of `wire` bytes and prints its `messages` (a JSON array of
    /// `{id, time, data}`), each with how long ago it was published; then, if 5 s have passed
    /// since the last report, what it has all cost so far.
    pub fn record(&mut self, wire: usize, messages: &serde_json::Value) {
        let messages = messages.as_array().map_or(&[][..], Vec::as_slice);
        self.requests += 1;
        self.bytes += wire;
        if messages.is_empty() {
            self.empty += 1;
        }
        for m in messages {
            let late = now_ms().saturating_sub(m["time"].as_u64().unwrap_or(0));
            let (id, data) = (m["id"].as_u64().unwrap_or(0), m["data"].as_str().unwrap_or(""));
            println!("#{id:<4} {data}   (published {late} ms ago)");
            self.shown += 1;
            self.delay_ms += late;
        }
        if Instant::now() >= self.report_at {
            self.report_at += Duration::from_secs(5);
            let Costs { requests, bytes, empty, shown, delay_ms, decimals, .. } = *self;
            println!(
                "  [costs] {requests} requests, {bytes} bytes received, {empty} empty replies, \
                 {:.decimals$} requests/message, average delay {} ms",
                requests as f64 / shown.max(1) as f64,
                delay_ms / shown.max(1)
            );
        }
    }
}

/// Milliseconds since the Unix epoch, the unit of a message's `time`.
fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}
