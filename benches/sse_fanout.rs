//! What a Server-Sent Events fan-out costs, measured (chapter 04):
//! `cargo bench --bench sse_fanout`.
//!
//! pushlab runs in this process on loopback. The run has three parts:
//!
//! 1. **One subscriber, unloaded.** A plain `TcpStream` reads `/sse`; `SINGLE` messages are
//!    published one at a time, each after the previous one arrived: the latency from "about to
//!    send `POST /publish`" to "event read by the subscriber", and the exact bytes of one
//!    event on the wire.
//! 2. **`N` idle subscribers.** A child process (this same binary, re-run with
//!    `SSE_FANOUT_CLIENT` set: each process may hold 20 000 descriptors here, and `N` server
//!    sockets plus `N` client sockets would not fit in one) opens `N` streams with one `mio`
//!    loop. The server's resident memory is read at `N/2` and at `N` streams: the difference
//!    divided by `N/2` is the memory of one idle subscriber, without fixed costs.
//! 3. **Fan-out.** `PACED` messages, each published when every subscriber has the previous
//!    one: the latency of every delivery and of the last subscriber per message. Then `BURST`
//!    messages in one pipelined write: the time until every subscriber has every message, so
//!    deliveries per second through the one event loop, and the server thread's CPU time.
//!
//! Timestamps travel in the message text (`P <k> <unix-nanos>`), so the child measures
//! latency with the same clock the publisher used. Sizes: `SSE_FANOUT_N` (10 000),
//! `SSE_FANOUT_PACED` (50), `SSE_FANOUT_BURST` (100).
use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pushlab::config::Config;

/// Messages in the unloaded single-subscriber part.
const SINGLE: usize = 1000;
/// Every message's data is padded to this many bytes (a short chat line).
const DATA_LEN: usize = 64;
const TOPIC: &str = "fan";
/// The child gives up after this long, so the bench always ends.
const CHILD_LIMIT: Duration = Duration::from_secs(50);

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn unix_nanos() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64
}

/// `P 17 1732390000123456789 ....` padded with dots to `DATA_LEN`.
fn message(kind: char, k: usize) -> String {
    let mut text = format!("{kind} {k} {}", unix_nanos());
    while text.len() < DATA_LEN {
        text.push('.');
    }
    text
}

/// Parses `P <k> <nanos>` out of an event's data line.
fn parse_data(line: &[u8]) -> Option<(u8, usize, u64)> {
    let rest = line.strip_prefix(b"data: ")?;
    let text = std::str::from_utf8(rest).ok()?;
    let mut words = text.split(' ');
    let kind = words.next()?.as_bytes().first().copied()?;
    let k = words.next()?.parse().ok()?;
    let nanos = words.next()?.trim_end_matches('.').parse().ok()?;
    Some((kind, k, nanos))
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// "p50 / p90 / p99 / p99.9 / max" of microsecond values.
fn spread(mut us: Vec<u64>) -> String {
    us.sort_unstable();
    let ms = |v: u64| format!("{:.3}", v as f64 / 1000.0);
    format!(
        "{} / {} / {} / {} / {} ms",
        ms(percentile(&us, 0.5)),
        ms(percentile(&us, 0.9)),
        ms(percentile(&us, 0.99)),
        ms(percentile(&us, 0.999)),
        ms(*us.last().unwrap_or(&0))
    )
}

fn main() -> io::Result<()> {
    if let Ok(addr) = std::env::var("SSE_FANOUT_CLIENT") {
        return client::run(addr.parse().expect("SSE_FANOUT_CLIENT is an address"));
    }
    let n = env("SSE_FANOUT_N", 10_000);
    let (paced, burst) = (env("SSE_FANOUT_PACED", 50), env("SSE_FANOUT_BURST", 100));
    // No heartbeats during the run; enough replay that nothing is evicted.
    let config = Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        heartbeat: Duration::from_secs(600),
        replay: 4096,
        ..Config::default()
    };
    let addr = pushlab::spawn(config)?;
    let started = Instant::now();
    println!(
        "sse_fanout: pushlab on {addr}, in-process; {n} subscribers, {paced} paced + {burst} burst messages"
    );
    let mut publisher = Publisher::connect(addr)?;

    // ---- 1. one subscriber, unloaded
    let (latencies, wire) = single(addr, &mut publisher)?;
    println!("\n1. one subscriber, {SINGLE} messages one at a time (publish request sent -> event read)");
    println!("   latency p50 / p90 / p99 / p99.9 / max: {}", spread(latencies));
    println!("   one event on the wire ({} bytes for {DATA_LEN} bytes of data): {:?}", wire.len(), wire);

    // ---- 2. N idle subscribers, in a child process
    let exe = std::env::current_exe()?;
    let mut child = Command::new(exe)
        .env("SSE_FANOUT_CLIENT", addr.to_string())
        .env("SSE_FANOUT_N", n.to_string())
        .env("SSE_FANOUT_PACED", paced.to_string())
        .env("SSE_FANOUT_BURST", burst.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut to_child = child.stdin.take().unwrap();
    let mut from_child = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut expect = |prefix: &str| -> io::Result<String> {
        for line in from_child.by_ref() {
            let line = line?;
            if line.starts_with(prefix) {
                return Ok(line);
            }
            if line.starts_with("error") {
                return Err(io::Error::other(line));
            }
        }
        Err(io::Error::other(format!("the client process ended before '{prefix}'")))
    };
    let connect_started = Instant::now();
    expect("ready")?;
    std::thread::sleep(Duration::from_millis(300));
    let (rss_half, slab_half) = (rss(), slab());
    writeln!(to_child, "go")?;
    expect("ready")?;
    let connect_time = connect_started.elapsed();
    std::thread::sleep(Duration::from_millis(300));
    let (rss_full, slab_full) = (rss(), slab());
    let open = publisher.stats()?;
    let per_sub = (rss_full as f64 - rss_half as f64) / (n - n / 2) as f64;
    println!("\n2. {n} idle subscribers (streams open at pushlab: {})", json_u64(&open, "\"sse\":"));
    println!("   opened in {:.2} s (in batches of {}, loopback)", connect_time.as_secs_f64(), client::BATCH);
    println!(
        "   server RSS: {:.1} MiB at {} streams, {:.1} MiB at {n}: {:.0} bytes per idle subscriber",
        rss_half as f64 / 1048576.0,
        n / 2,
        rss_full as f64 / 1048576.0,
        per_sub
    );
    println!(
        "   kernel slab (/proc/meminfo, whole machine): {:.0} bytes per connection, both ends of loopback",
        (slab_full as f64 - slab_half as f64) / (n - n / 2) as f64
    );

    // ---- 3. fan-out
    writeln!(to_child, "go")?;
    let cpu_before = server_cpu();
    for k in 0..paced {
        publisher.publish(&message('P', k))?;
        expect("got")?;
    }
    let cpu_paced = server_cpu() - cpu_before;
    let paced_report = expect("paced")?;
    let written_before = json_u64(&publisher.stats()?, "\"bytes_written\":");
    let replies_before = publisher.reply_bytes;
    let cpu_before = server_cpu();
    let burst_sent = unix_nanos();
    let burst_messages: Vec<String> = (0..burst).map(|k| message('B', k)).collect();
    publisher.publish_pipelined(&burst_messages)?;
    let done = expect("burst")?;
    let cpu_burst = server_cpu() - cpu_before;
    let replies = publisher.reply_bytes - replies_before;
    let written = json_u64(&publisher.stats()?, "\"bytes_written\":") - written_before;
    let _ = child.wait();

    // "paced all=… | last=…" → {all: …, last: …}
    let fields = |line: &str| -> HashMap<String, String> {
        let after_word = line.split_once(' ').map_or("", |(_, rest)| rest);
        after_word.split(" | ").filter_map(|f| f.split_once('=')).map(|(k, v)| (k.into(), v.into())).collect()
    };
    let p = fields(&paced_report);
    let b = fields(&done);
    let last: u64 = b["last"].parse().unwrap();
    let elapsed = Duration::from_nanos(last - burst_sent);
    let deliveries = (n * burst) as f64;
    println!("\n3. fan-out to {n} subscribers on one event loop");
    println!("   paced, {paced} messages, each after the previous reached everyone:");
    println!("     every delivery     p50 / p90 / p99 / p99.9 / max: {}", p["all"]);
    println!("     last subscriber    p50 / p90 / p99 / p99.9 / max: {}", p["last"]);
    println!(
        "     server CPU: {:.1} ms per message ({:.2} µs per delivery)",
        cpu_paced / paced as f64 * 1e3,
        cpu_paced / (n * paced) as f64 * 1e6
    );
    println!("   burst, {burst} messages in one pipelined write:");
    println!(
        "     everyone has everything after {:.1} ms: {:.0} deliveries/s ({:.2} µs each)",
        elapsed.as_secs_f64() * 1e3,
        deliveries / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / deliveries
    );
    println!("     every delivery     p50 / p90 / p99 / p99.9 / max: {}", b["all"]);
    println!(
        "     bytes written by the server: {written} = {:.1} per delivery (events only, no publish replies: {:.1})",
        written as f64 / deliveries,
        (written - replies) as f64 / deliveries
    );
    println!("     server CPU: {:.3} s ({:.2} µs per delivery)", cpu_burst, cpu_burst / deliveries * 1e6);
    println!("\nsse_fanout: done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Part 1: a blocking subscriber and a serial publisher.
fn single(addr: SocketAddr, publisher: &mut Publisher) -> io::Result<(Vec<u64>, String)> {
    let mut sub = TcpStream::connect(addr)?;
    sub.set_nodelay(true)?;
    sub.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(sub, "GET /sse?topic=single HTTP/1.1\r\nHost: bench\r\n\r\n")?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    // Head and the retry preamble.
    while !buf.ends_with(b"retry: 3000\n\n\r\n") {
        let got = sub.read(&mut chunk)?;
        if got == 0 {
            return Err(io::Error::other("stream closed during the head"));
        }
        buf.extend_from_slice(&chunk[..got]);
    }
    let mut latencies = Vec::with_capacity(SINGLE);
    let mut wire = String::new();
    for k in 0..SINGLE {
        buf.clear();
        let sent = Instant::now();
        publisher.publish_to("single", &message('S', k))?;
        // An event chunk ends with "\n\n\r\n"; the publish reply has already been read.
        while !buf.ends_with(b"\n\n\r\n") {
            let got = sub.read(&mut chunk)?;
            if got == 0 {
                return Err(io::Error::other("stream closed"));
            }
            buf.extend_from_slice(&chunk[..got]);
        }
        latencies.push(sent.elapsed().as_micros() as u64);
        if k == SINGLE - 1 {
            wire = String::from_utf8_lossy(&buf).into_owned();
        }
    }
    Ok((latencies, wire))
}

/// A keep-alive connection that publishes and reads replies.
struct Publisher {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
    /// Bytes of `/publish` replies read, to tell them apart from event bytes.
    reply_bytes: u64,
}

impl Publisher {
    fn connect(addr: SocketAddr) -> io::Result<Publisher> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(Publisher { reader: BufReader::new(stream.try_clone()?), stream, reply_bytes: 0 })
    }

    fn request(topic: &str, text: &str) -> String {
        format!(
            "POST /publish?topic={topic} HTTP/1.1\r\nHost: bench\r\nContent-Length: {}\r\n\r\n{text}",
            text.len()
        )
    }

    fn publish(&mut self, text: &str) -> io::Result<()> {
        self.publish_to(TOPIC, text)
    }

    fn publish_to(&mut self, topic: &str, text: &str) -> io::Result<()> {
        self.stream.write_all(Publisher::request(topic, text).as_bytes())?;
        self.reply()?;
        Ok(())
    }

    /// All messages in one write: the server publishes them in one loop turn.
    fn publish_pipelined(&mut self, texts: &[String]) -> io::Result<()> {
        let all: String = texts.iter().map(|t| Publisher::request(TOPIC, t)).collect();
        self.stream.write_all(all.as_bytes())?;
        for _ in texts {
            self.reply()?;
        }
        Ok(())
    }

    fn stats(&mut self) -> io::Result<String> {
        self.stream.write_all(b"GET /stats HTTP/1.1\r\nHost: bench\r\n\r\n")?;
        let before = self.reply_bytes;
        let body = self.reply()?;
        self.reply_bytes = before; // a /stats reply is not a publish reply
        Ok(body)
    }

    /// Reads one `Content-Length` reply; returns its body.
    fn reply(&mut self) -> io::Result<String> {
        let mut len = 0;
        let mut line = String::new();
        loop {
            line.clear();
            let got = self.reader.read_line(&mut line)?;
            if got == 0 {
                return Err(io::Error::other("publisher connection closed"));
            }
            self.reply_bytes += got as u64;
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().map_err(io::Error::other)?;
            }
        }
        let mut body = vec![0; len];
        self.reader.read_exact(&mut body)?;
        self.reply_bytes += len as u64;
        Ok(String::from_utf8_lossy(&body).into_owned())
    }
}

fn json_u64(json: &str, key: &str) -> u64 {
    let at = json.find(key).map(|i| i + key.len()).unwrap_or(json.len());
    json[at..].chars().take_while(|c| c.is_ascii_digit()).collect::<String>().parse().unwrap_or(0)
}

/// This process's resident set size in bytes (the server is in this process).
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1));
    kb.and_then(|v| v.parse::<u64>().ok()).unwrap_or(0) * 1024
}

/// The kernel's slab allocations in bytes (`Slab:` of `/proc/meminfo`): where socket
/// structures live. Machine-wide, so only a difference over many sockets means anything.
fn slab() -> u64 {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let kb = meminfo.lines().find(|l| l.starts_with("Slab:")).and_then(|l| l.split_whitespace().nth(1));
    kb.and_then(|v| v.parse::<u64>().ok()).unwrap_or(0) * 1024
}

/// CPU seconds used so far by the server's event-loop thread (named `pushlab`), from
/// `/proc/self/task/*/stat` (utime + stime, in clock ticks of 1/100 s on Linux).
fn server_cpu() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return 0.0 };
    for task in tasks.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim() != "pushlab" {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // Fields after the parenthesised name: state is field 3, utime 14, stime 15.
        let after = stat.rsplit_once(") ").map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after.split(' ').collect();
        let ticks = |i: usize| fields.get(i - 3).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        return (ticks(14) + ticks(15)) / 100.0;
    }
    0.0
}

/// The child process: `N` SSE streams on one `mio` loop.
mod client {
    use super::*;
    use mio::net::TcpStream;
    use mio::{Events, Interest, Poll, Token};

    /// Connections opened at a time. mio listens with a backlog of 128 (as std does): a
    /// larger burst of SYNs overflows the accept queue, and the overflow waits for the
    /// kernel's 1 s SYN-ACK retransmission.
    pub const BATCH: usize = 100;

    struct Sub {
        stream: TcpStream,
        requested: bool,
        ready: bool,
        /// The end of the last read, when it stopped mid-line.
        partial: Vec<u8>,
    }

    struct Tally {
        n: usize,
        ready: usize,
        /// Deliveries per paced message, and the slowest latency of each.
        paced_count: Vec<usize>,
        paced_last: Vec<u64>,
        paced_all: Vec<u64>,
        burst_total: usize,
        burst_all: Vec<u64>,
        burst_last_recv: u64,
    }

    pub fn run(addr: SocketAddr) -> io::Result<()> {
        let n = env("SSE_FANOUT_N", 10_000);
        let (paced, burst) = (env("SSE_FANOUT_PACED", 50), env("SSE_FANOUT_BURST", 100));
        let started = Instant::now();
        let mut poll = Poll::new()?;
        let mut events = Events::with_capacity(4096);
        let mut subs: Vec<Sub> = Vec::with_capacity(n);
        let mut tally = Tally {
            n,
            ready: 0,
            paced_count: vec![0; paced],
            paced_last: vec![0; paced],
            paced_all: Vec::with_capacity(n * paced),
            burst_total: 0,
            burst_all: Vec::with_capacity(n * burst),
            burst_last_recv: 0,
        };
        let stdin = io::stdin();
        let mut out = io::stdout();
        let mut buf = vec![0u8; 64 * 1024];
        let mut stops = vec![n / 2, n].into_iter().peekable();
        while tally.burst_total < n * burst {
            if started.elapsed() > CHILD_LIMIT {
                writeln!(
                    out,
                    "error: gave up after {CHILD_LIMIT:?}: {} ready, {} burst deliveries",
                    tally.ready, tally.burst_total
                )?;
                std::process::exit(1);
            }
            // Open the next batch once the previous one is streaming.
            if subs.len() == tally.ready && subs.len() < n && stops.peek().is_some_and(|&s| subs.len() < s) {
                let stop = *stops.peek().unwrap();
                for _ in 0..BATCH.min(stop - subs.len()) {
                    let mut stream = TcpStream::connect(addr)?;
                    poll.registry().register(
                        &mut stream,
                        Token(subs.len()),
                        Interest::READABLE | Interest::WRITABLE,
                    )?;
                    subs.push(Sub { stream, requested: false, ready: false, partial: Vec::new() });
                }
            }
            if let Some(&stop) = stops.peek() {
                if tally.ready == stop {
                    stops.next();
                    eprintln!("[client] {stop} ready after {:?}", started.elapsed());
                    writeln!(out, "ready {stop}")?;
                    out.flush()?;
                    stdin.lock().read_line(&mut String::new())?;
                    continue;
                }
            }
            poll.poll(&mut events, Some(Duration::from_millis(100)))?;
            for event in events.iter() {
                let i = event.token().0;
                let sub = &mut subs[i];
                if !sub.requested && event.is_writable() {
                    if sub.stream.peer_addr().is_err() {
                        continue; // not connected yet
                    }
                    sub.stream.write_all(
                        format!("GET /sse?topic={TOPIC} HTTP/1.1\r\nHost: bench\r\n\r\n").as_bytes(),
                    )?;
                    sub.requested = true;
                    poll.registry().reregister(&mut sub.stream, event.token(), Interest::READABLE)?;
                }
                loop {
                    match sub.stream.read(&mut buf) {
                        Ok(0) => return Err(io::Error::other(format!("stream {i} closed by the server"))),
                        Ok(got) => tally.lines(sub, &buf[..got], &mut out)?,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) if e.kind() == io::ErrorKind::NotConnected => break,
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        writeln!(
            out,
            "burst all={} | last={}",
            spread(std::mem::take(&mut tally.burst_all)),
            tally.burst_last_recv
        )?;
        Ok(())
    }

    impl Tally {
        /// Scans what one read returned; a line cut by the end of the read waits in `partial`.
        fn lines(&mut self, sub: &mut Sub, bytes: &[u8], out: &mut io::Stdout) -> io::Result<()> {
            let now = unix_nanos();
            if sub.partial.is_empty() {
                let used = self.scan(&mut sub.ready, bytes, now, out)?;
                sub.partial.extend_from_slice(&bytes[used..]);
            } else {
                let mut data = std::mem::take(&mut sub.partial);
                data.extend_from_slice(bytes);
                let used = self.scan(&mut sub.ready, &data, now, out)?;
                sub.partial = data[used..].to_vec();
            }
            Ok(())
        }

        /// Handles every complete line of `data`; returns how many bytes that was.
        fn scan(
            &mut self,
            ready: &mut bool,
            data: &[u8],
            now: u64,
            out: &mut io::Stdout,
        ) -> io::Result<usize> {
            let mut start = 0;
            while let Some(end) = data[start..].iter().position(|&b| b == b'\n') {
                let line = &data[start..start + end];
                start += end + 1;
                if !*ready && line.starts_with(b"retry:") {
                    *ready = true;
                    self.ready += 1;
                    continue;
                }
                let Some((kind, k, sent)) = parse_data(line) else { continue };
                let us = now.saturating_sub(sent) / 1000;
                match kind {
                    b'P' if k < self.paced_count.len() => {
                        self.paced_all.push(us);
                        self.paced_last[k] = self.paced_last[k].max(us);
                        self.paced_count[k] += 1;
                        if self.paced_count[k] == self.n {
                            writeln!(out, "got {k}")?;
                            if k + 1 == self.paced_count.len() {
                                let (all, last) = (self.paced_all.clone(), self.paced_last.clone());
                                writeln!(out, "paced all={} | last={}", spread(all), spread(last))?;
                            }
                            out.flush()?;
                        }
                    }
                    b'B' => {
                        self.burst_all.push(us);
                        self.burst_total += 1;
                        self.burst_last_recv = self.burst_last_recv.max(now);
                    }
                    _ => {}
                }
            }
            Ok(start)
        }
    }
}
