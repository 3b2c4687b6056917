//! Chapter 04 demo: a Server-Sent Events clock on the bare standard library — the event
//! stream without pushlab's machinery, correct where the classic tutorial snippet is not.
//!
//! The seed article's server (Node.js) is:
//!
//! ```js
//! res.writeHead(200, {'Content-Type':'text/event-stream', 'Cache-Control':'no-cache', ...});
//! setInterval(() => { res.write(`data:${'new data'}`); }, 1000);
//! ```
//!
//! Its bytes are `data:new datadata:new datadata:new data…`: no line end, so not even one line
//! is ever complete (WHATWG HTML §9.2.5: a line ends at CR LF, LF or CR), and no blank line, the
//! only thing that dispatches an event (§9.2.6: "If the line is empty (a blank line): Dispatch
//! the event"). `onmessage` never fires; the data buffer just grows. Every event below ends
//! with `\n\n`, carries an `id:` so a reconnecting browser can say where it was
//! (`Last-Event-ID`), and the stream opens with `retry:`. Comments keep idle proxies awake.
//!
//! ```text
//! cargo run --example 04_sse            # or: cargo run --example 04_sse -- 127.0.0.1:9000
//! curl -N http://127.0.0.1:8084/clock
//! curl -N -H 'Last-Event-ID: 3' http://127.0.0.1:8084/clock   # replays the ticks after 3
//! ```
//!
//! A thread per client is fine for a demo; pushlab serves every stream from one event loop
//! and frames each event as one HTTP/1.1 chunk. Here the body simply ends with the connection.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A tick every 5 s; a `: keep-alive` comment after 2 s of silence (pushlab's default is 15 s,
/// shortened here so you can watch both).
const TICK: Duration = Duration::from_secs(5);
const HEARTBEAT: Duration = Duration::from_secs(2);

const PAGE: &str = "<!doctype html><meta charset=utf-8><title>04_sse clock</title><ol id=ticks></ol>
<script>const es = new EventSource('/clock');
es.onmessage = (e) => { const li = document.createElement('li');
  li.textContent = '#' + e.lastEventId + ' ' + e.data; ticks.append(li); };</script>";

fn main() {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8084".into());
    let listener = TcpListener::bind(&addr).expect("cannot listen");
    let started = Instant::now();
    println!("04_sse listening on http://{addr}");
    println!("  watch the raw stream:  curl -N http://{addr}/clock");
    println!("  or in a browser:       open http://{addr}/ , or in any page's console:");
    println!(
        "    new EventSource('http://{addr}/clock').onmessage = (e) => console.log(e.lastEventId, e.data)"
    );
    for stream in listener.incoming().flatten() {
        thread::spawn(move || {
            let _ = serve(stream, started);
        });
    }
}

fn serve(mut stream: TcpStream, started: Instant) -> std::io::Result<()> {
    // The request head: the path, and `Last-Event-ID` if the browser is reconnecting.
    let mut reader = BufReader::new(stream.try_clone()?);
    let (mut path, mut last_id) = (String::new(), None::<u64>);
    let mut line = String::new();
    while reader.read_line(&mut line)? > 0 && !line.trim_end().is_empty() {
        if path.is_empty() {
            path = line.split(' ').nth(1).unwrap_or("/").to_string();
        } else if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("last-event-id") {
                last_id = value.trim().parse().ok(); // not one of our ids: start from now
            }
        }
        line.clear();
    }
    if path.split('?').next() != Some("/clock") {
        let head = format!("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", PAGE.len());
        return stream.write_all((head + PAGE).as_bytes());
    }
    // `text/event-stream` is what makes EventSource accept the response at all.
    // `Access-Control-Allow-Origin: *` lets a page on any origin read the clock (CORS).
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\
                Access-Control-Allow-Origin: *\r\nConnection: close\r\n\r\n";
    stream.write_all(head.as_bytes())?;
    // The reconnection delay, in ms; the blank line ends this block (it dispatches nothing).
    stream.write_all(b"retry: 3000\n\n")?;
    // Tick n happens at started + n * TICK, so any missed tick can be written again: a
    // reconnecting client gets the ticks after its Last-Event-ID (at most the last 60).
    let now_tick = || (started.elapsed().as_secs_f64() / TICK.as_secs_f64()) as u64;
    let mut next = last_id.map_or(now_tick() + 1, |id| (id + 1).max(now_tick().saturating_sub(59)));
    let mut spoke = Instant::now();
    loop {
        while next <= now_tick() {
            let tick_time = SystemTime::now() - (started.elapsed() - TICK * next as u32);
            let secs = tick_time.duration_since(UNIX_EPOCH).unwrap().as_secs();
            let text = format!("{:02}:{:02}:{:02} UTC", secs / 3600 % 24, secs / 60 % 60, secs % 60);
            // One event: `id:`, one `data:` line per line of text, and THE BLANK LINE.
            stream.write_all(format!("id: {next}\ndata: tick {next} at {text}\n\n").as_bytes())?;
            (next, spoke) = (next + 1, Instant::now());
        }
        if spoke.elapsed() >= HEARTBEAT {
            // A comment line (starts with ':'): ignored by the client, seen by every proxy.
            stream.write_all(b": keep-alive\n\n")?;
            spoke = Instant::now();
        }
        thread::sleep(Duration::from_millis(100));
    }
}
