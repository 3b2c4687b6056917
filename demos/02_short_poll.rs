//! Chapter 02 demo: short polling, end to end, in one process.
//!
//! Starts pushlab in-process, a "clock" publisher that POSTs the time to topic `clock` every
//! second, and a terminal client that asks `GET /poll?topic=clock&since=N` every second on one
//! keep-alive connection — printing each message as it arrives and, every 5 s, what polling
//! costs: requests, bytes, empty replies, and the publish→display delay.
//!
//! ```text
//! cargo run --example 02_short_poll [-- --addr 127.0.0.1:8080]
//! ```
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pushlab::config::Config;

const TOPIC: &str = "clock";
const INTERVAL: Duration = Duration::from_secs(1);

fn main() -> io::Result<()> {
    let addr = std::env::args().skip_while(|a| a != "--addr").nth(1).unwrap_or("127.0.0.1:8080".into());
    let addr: SocketAddr = addr.parse().map_err(io::Error::other)?;
    let bound = pushlab::spawn(Config { addr, ..Config::default() })?;
    println!("pushlab listening on http://{bound}");
    println!("the same transport in a browser: http://{bound}/demos/short-poll.html?topic={TOPIC}");
    std::thread::spawn(move || clock(bound).unwrap_or_else(|e| eprintln!("clock stopped: {e}")));
    // Where the polls fall between the clock's ticks is luck: a real client's phase is random.
    let phase = Duration::from_millis(u64::from(
        SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().subsec_millis(),
    ));
    println!("polling every {INTERVAL:?}, {phase:?} after each tick of the clock: each message waits about that long");
    std::thread::sleep(phase);

    let mut conn = TcpStream::connect(bound)?;
    let mut poll_at = Instant::now();
    let (mut requests, mut bytes, mut empty, mut shown, mut delay_ms) = (0u64, 0usize, 0u64, 0u64, 0u64);
    let mut cursor: Option<u64> = None; // no `since` on the first request: "from now"
    let mut report_at = Instant::now() + Duration::from_secs(5);
    loop {
        let since = cursor.map(|c| format!("&since={c}")).unwrap_or_default();
        let request = format!("GET /poll?topic={TOPIC}{since} HTTP/1.1\r\nHost: {bound}\r\n\r\n");
        let (status, body, wire) = exchange(&mut conn, request.as_bytes())?;
        requests += 1;
        bytes += wire;
        let reply: serde_json::Value = serde_json::from_slice(&body).map_err(io::Error::other)?;
        assert_eq!(status, 200, "{reply}");
        let messages = reply["messages"].as_array().cloned().unwrap_or_default();
        if messages.is_empty() {
            empty += 1;
        }
        if cursor.is_none() {
            println!("first reply (no since, so \"from now\"): next = {}", reply["next"]);
        }
        for m in &messages {
            let late = now_ms().saturating_sub(m["time"].as_u64().unwrap_or(0));
            let (id, data) = (m["id"].as_u64().unwrap_or(0), m["data"].as_str().unwrap_or(""));
            println!("#{id:<4} {data}   (published {late} ms ago)");
            shown += 1;
            delay_ms += late;
        }
        cursor = reply["next"].as_u64(); // the cursor: resume after the last id seen
        if Instant::now() >= report_at {
            report_at += Duration::from_secs(5);
            println!(
                "  [costs] {requests} requests, {bytes} bytes received, {empty} empty replies, \
                 {:.1} requests/message, average delay {} ms",
                requests as f64 / shown.max(1) as f64,
                delay_ms / shown.max(1)
            );
        }
        poll_at += INTERVAL;
        std::thread::sleep(poll_at.saturating_duration_since(Instant::now()));
    }
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
fn exchange(conn: &mut TcpStream, request: &[u8]) -> io::Result<(u16, Vec<u8>, usize)> {
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

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}
