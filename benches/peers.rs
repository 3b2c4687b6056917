//! pushlab against its peers, side by side in one run: `cargo bench --bench peers`.
//!
//! Three servers run one after the other, each alone in a child process (this same binary,
//! re-run with `PEERS_SERVER` set; a fresh one for the SSE part and for the WebSocket part), so
//! that the resident memory and the CPU time read from `/proc/<pid>` are that server's own:
//!
//! - **pushlab**: `pushlab::spawn`, one `mio` event loop on one thread;
//! - **the peer on tokio's `current_thread` runtime**: one thread, like pushlab;
//! - **the peer on tokio's default `multi_thread` runtime**: one worker per core (2 here).
//!
//! The peer is what the libraries' own docs and examples build. For Server-Sent Events, axum
//! 0.8: `GET /sse` returns `Sse<impl Stream<Item = Result<Event, Infallible>>>` over the
//! connection's own `tokio::sync::broadcast::Receiver`, with the default `KeepAlive`, and
//! `POST /publish` sends into the channel. For WebSocket, tokio-tungstenite: the echo of its
//! `examples/echo-server.rs` (`accept_async`, `split`, `forward`), and a broadcast server, one
//! task per connection reading a `broadcast::Receiver` and writing text frames (published
//! through the same axum `/publish`). Where pushlab's contract puts bytes on the wire, the peer
//! puts the same: events carry `id:`, frames carry the message JSON, streams begin with
//! `retry: 3000`, and every socket has `TCP_NODELAY` (axum's documented `tap_io`), as
//! pushlab's do. The peer keeps no replay ring; pushlab keeps its default 1024 per topic.
//!
//! The clients are this process's own and identical for every server: one `mio` loop holds
//! every subscriber (SSE lines, or WebSocket frames cut by pushlab's `FrameHeader::parse`), a
//! keep-alive connection publishes, and the echo client is the blocking one of
//! `benches/ws_echo.rs`. Everything is on loopback, and the clients share the 2 cores with the
//! server. Each message's text carries its publish time (`#B 17 <unix-nanos>`), so latency is
//! "publish request written → message read by the subscriber", on one clock.
//!
//! The workloads, the same for every server: `N` SSE subscribers are opened (the server's RSS
//! difference between `N/2` and `N` open streams, per stream, is its memory per idle
//! subscriber); `M` messages are published at a steady rate, then `M` in one pipelined write,
//! three times (the median burst is kept): deliveries per second until every subscriber has
//! every message, latency p50 / p99, and the server's CPU per delivery. The same bursts go to
//! `N` WebSocket subscribers. Last, the echo: sequential 16-byte round trips, then 1 MiB ones.
//!
//! Sizes: `PEERS_N` subscribers (2 000), `PEERS_M` messages (200), `PEERS_RATE` messages per
//! second in the steady part (50). Every phase gives up after `PHASE_LIMIT`. For profiling one
//! server, `PEERS_SERVERS=pushlab` (a comma list of `SERVERS`) runs only those, and prints no
//! tables. `PEERS_WS_READ_BUFFER=4096` gives the tokio-tungstenite peer that read buffer
//! instead of tungstenite's default (`WebSocketConfig::read_buffer_size`, 128 KiB).
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pushlab::config::Config;
use pushlab::wire::ws::frame::{write_masked_frame, FrameHeader, OpCode};
use pushlab::wire::Status;

/// Every message's text is padded to this many bytes (a short chat line).
const DATA_LEN: usize = 64;
const SSE_TOPIC: &str = "fan";
const WS_TOPIC: &str = "wsfan";
/// A phase that has not finished by then is reported with what arrived.
const PHASE_LIMIT: Duration = Duration::from_secs(20);
/// Connections opened at a time: pushlab listens with a backlog of 128 (mio's, as std's).
const BATCH: usize = 100;
/// Sequential echo round trips of a 16-byte text message.
const ROUND_TRIPS: usize = 10_000;
const LARGE: usize = 1024 * 1024;
const LARGE_ROUNDS: usize = 10;
/// Bursts (and sets of 1 MiB echoes) per server; the median one is reported, so that one
/// disturbed by another process on this shared machine does not decide the table.
const REPEATS: usize = 3;
/// The servers in the order they run: the `PEERS_SERVER` value of each child.
const SERVERS: [&str; 3] = ["pushlab", "peer-current-thread", "peer-multi-thread"];

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// `/proc/loadavg`: whether something else was running beside the bench.
fn load_average() -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

fn unix_nanos() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64
}

struct Sizes {
    n: usize,
    m: usize,
    rate: usize,
}

fn main() -> io::Result<()> {
    if let Ok(kind) = std::env::var("PEERS_SERVER") {
        return serve(&kind);
    }
    let sizes = Sizes { n: env("PEERS_N", 2_000), m: env("PEERS_M", 200), rate: env("PEERS_RATE", 50) };
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let started = Instant::now();
    println!(
        "peers: {} subscribers, {} messages ({} msg/s steady, then {REPEATS} bursts); {workers} cores; \
         each server in its own process, the clients in this one",
        sizes.n, sizes.m, sizes.rate
    );
    println!("load average at the start: {}", load_average());
    let only = std::env::var("PEERS_SERVERS").unwrap_or_default();
    let mut results = Vec::new();
    for kind in SERVERS.into_iter().filter(|k| only.is_empty() || only.split(',').any(|o| o == *k)) {
        println!("\n{kind}:");
        results.push(measure(kind, &sizes)?);
    }
    if results.len() == SERVERS.len() {
        report(&results, &sizes, workers);
    }
    println!("\nload average at the end: {}", load_average());
    println!("peers: done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

// ---- the servers, in child processes

/// The child: starts one server, prints `listening SSE WS ECHO PUBLISH` (addresses), and
/// serves until its standard input closes.
fn serve(kind: &str) -> io::Result<()> {
    match kind {
        "pushlab" => {
            let addr = pushlab::spawn(Config { addr: "127.0.0.1:0".parse().unwrap(), ..Config::default() })?;
            println!("listening {addr} {addr} {addr} {addr}");
            wait_for_eof();
        }
        "peer-current-thread" => peer::run(tokio::runtime::Builder::new_current_thread())?,
        "peer-multi-thread" => peer::run(tokio::runtime::Builder::new_multi_thread())?,
        _ => return Err(io::Error::other(format!("unknown PEERS_SERVER {kind}"))),
    }
    std::process::exit(0)
}

fn wait_for_eof() {
    let _ = io::stdin().read_to_end(&mut Vec::new());
}

/// The peer: axum for SSE and publishing, tokio-tungstenite for WebSocket.
mod peer {
    use std::convert::Infallible;
    use std::io;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use axum::extract::State;
    use axum::http::header::CONTENT_TYPE;
    use axum::response::sse::{Event, KeepAlive, Sse};
    use axum::response::IntoResponse;
    use axum::routing::{get, post};
    use axum::serve::ListenerExt;
    use axum::Router;
    use futures_util::stream::{self, Stream};
    use futures_util::{future, SinkExt, StreamExt, TryStreamExt};
    use tokio::net::TcpListener;
    use tokio::net::TcpStream;
    use tokio::sync::broadcast::{self, error::RecvError};
    use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
    use tokio_tungstenite::tungstenite::{Error, Message};
    use tokio_tungstenite::WebSocketStream;

    /// Messages a subscriber may fall behind before it loses some (pushlab's replay default).
    const CAPACITY: usize = 1024;

    #[derive(Clone)]
    struct Channels {
        /// `(id, text)` of each message, for `/sse`.
        sse: broadcast::Sender<(u64, String)>,
        /// Each message as pushlab's JSON, for the WebSocket fan-out.
        ws: broadcast::Sender<String>,
        last_id: Arc<AtomicU64>,
    }

    pub fn run(mut runtime: tokio::runtime::Builder) -> io::Result<()> {
        runtime.enable_all().build()?.block_on(async {
            let (ws, _) = broadcast::channel(CAPACITY);
            let channels =
                Channels { sse: broadcast::channel(CAPACITY).0, ws: ws.clone(), last_id: Arc::default() };
            let http = TcpListener::bind("127.0.0.1:0").await?;
            let fanout = TcpListener::bind("127.0.0.1:0").await?;
            let echo = TcpListener::bind("127.0.0.1:0").await?;
            let http_addr = http.local_addr()?;
            println!("listening {http_addr} {} {} {http_addr}", fanout.local_addr()?, echo.local_addr()?);
            let app =
                Router::new().route("/sse", get(sse)).route("/publish", post(publish)).with_state(channels);
            let http = http.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            tokio::spawn(async move { axum::serve(http, app).await });
            let read_buffer = std::env::var("PEERS_WS_READ_BUFFER").ok().and_then(|v| v.parse().ok());
            tokio::spawn(fanout_server(fanout, ws, read_buffer));
            tokio::spawn(echo_server(echo, read_buffer));
            tokio::task::spawn_blocking(super::wait_for_eof).await.map_err(io::Error::other)
        })
    }

    /// `GET /sse`: `Sse` over a stream of this connection's broadcast messages.
    async fn sse(State(channels): State<Channels>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
        let receiver = channels.sse.subscribe();
        let preamble = stream::once(future::ready(Ok(Event::default().retry(Duration::from_secs(3)))));
        let messages = stream::unfold(receiver, |mut receiver| async move {
            loop {
                match receiver.recv().await {
                    Ok((id, text)) => {
                        return Some((Ok(Event::default().id(id.to_string()).data(text)), receiver))
                    }
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return None,
                }
            }
        });
        Sse::new(preamble.chain(messages)).keep_alive(KeepAlive::default())
    }

    /// `POST /publish`: one id, one JSON rendering, one send per channel.
    async fn publish(State(channels): State<Channels>, text: String) -> impl IntoResponse {
        let id = channels.last_id.fetch_add(1, Ordering::Relaxed) + 1;
        let time = super::unix_nanos() / 1_000_000;
        let json = serde_json::json!({ "id": id, "topic": super::WS_TOPIC, "data": text, "time": time });
        let _ = channels.ws.send(json.to_string());
        let _ = channels.sse.send((id, text));
        ([(CONTENT_TYPE, "application/json")], format!("{{\"id\":{id},\"topic\":\"{}\"}}", super::SSE_TOPIC))
    }

    /// `accept_async`, or with a read buffer of `read_buffer` bytes instead of the default.
    async fn accept(tcp: TcpStream, read_buffer: Option<usize>) -> Result<WebSocketStream<TcpStream>, Error> {
        match read_buffer {
            None => tokio_tungstenite::accept_async(tcp).await,
            Some(size) => {
                let config = WebSocketConfig::default().read_buffer_size(size);
                tokio_tungstenite::accept_async_with_config(tcp, Some(config)).await
            }
        }
    }

    /// tokio-tungstenite's `examples/echo-server.rs`: every text or binary message back.
    async fn echo_server(listener: TcpListener, read_buffer: Option<usize>) {
        while let Ok((tcp, _)) = listener.accept().await {
            let _ = tcp.set_nodelay(true);
            tokio::spawn(async move {
                let Ok(socket) = accept(tcp, read_buffer).await else { return };
                let (write, read) = socket.split();
                let _ = read.try_filter(|m| future::ready(m.is_text() || m.is_binary())).forward(write).await;
            });
        }
    }

    /// One task per connection: broadcast messages out as text frames.
    async fn fanout_server(
        listener: TcpListener,
        sender: broadcast::Sender<String>,
        read_buffer: Option<usize>,
    ) {
        while let Ok((tcp, _)) = listener.accept().await {
            let _ = tcp.set_nodelay(true);
            // Subscribed before the handshake: a client that has read `101` misses nothing.
            let mut receiver = sender.subscribe();
            tokio::spawn(async move {
                let Ok(socket) = accept(tcp, read_buffer).await else { return };
                let (mut write, mut read) = socket.split();
                loop {
                    tokio::select! {
                        message = receiver.recv() => match message {
                            Ok(json) => {
                                if write.send(Message::text(json)).await.is_err() {
                                    return;
                                }
                            }
                            Err(RecvError::Lagged(_)) => {}
                            Err(RecvError::Closed) => return,
                        },
                        // Reading answers pings and notices the close.
                        incoming = read.next() => if !matches!(incoming, Some(Ok(_))) { return },
                    }
                }
            });
        }
    }
}

/// A server in its child process, and where it serves what.
struct ServerProcess {
    child: Child,
    sse: SocketAddr,
    ws: SocketAddr,
    echo: SocketAddr,
    publish: SocketAddr,
}

impl ServerProcess {
    fn start(kind: &str) -> io::Result<ServerProcess> {
        let mut child = Command::new(std::env::current_exe()?)
            .env("PEERS_SERVER", kind)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line)?;
        let addrs: Vec<SocketAddr> = line.split_whitespace().skip(1).filter_map(|a| a.parse().ok()).collect();
        if addrs.len() != 4 {
            return Err(io::Error::other(format!("{kind} did not start: {line:?}")));
        }
        Ok(ServerProcess { child, sse: addrs[0], ws: addrs[1], echo: addrs[2], publish: addrs[3] })
    }

    /// The server's resident set size in bytes.
    fn rss(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        let kb = status.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1));
        kb.and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) * 1024.0
    }

    /// CPU time the server's threads have used, summed: the first field of each
    /// `/proc/<pid>/task/<tid>/schedstat` is nanoseconds on a CPU.
    fn cpu(&self) -> Duration {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{}/task", self.child.id())) else {
            return Duration::ZERO;
        };
        let nanos = tasks.flatten().filter_map(|task| {
            let stat = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
            stat.split_whitespace().next()?.parse::<u64>().ok()
        });
        Duration::from_nanos(nanos.sum())
    }
}

impl Drop for ServerProcess {
    /// Closing its standard input ends the child.
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

// ---- the workloads

/// What one server scored.
struct Measured {
    sse_idle: f64,
    sse_steady: Fanout,
    sse_burst: Fanout,
    ws_idle: f64,
    ws_burst: Fanout,
    echo: Echo,
}

/// Runs every workload against a `kind` of server: a fresh process for the SSE part and
/// another for the WebSocket part, so that neither part's memory reuses what the other freed.
fn measure(kind: &str, s: &Sizes) -> io::Result<Measured> {
    let server = &ServerProcess::start(kind)?;
    let sse_request = format!("GET /sse?topic={SSE_TOPIC} HTTP/1.1\r\nHost: bench\r\n\r\n");
    let mut subs = Subscribers::new(Feed::Sse, server.sse, sse_request)?;
    let sse_idle = subs.open_measuring_memory(server, s.n)?;
    let mut publisher = Publisher::connect(server.publish, SSE_TOPIC)?;
    let sse_steady = steady(&mut subs, &mut publisher, server, s)?;
    let sse_burst = bursts(&mut subs, &mut publisher, server, s)?;
    println!("  SSE: idle subscriber {sse_idle:.0} B; steady {sse_steady}; burst {sse_burst}");
    drop(subs);

    let server = &ServerProcess::start(kind)?;
    let mut publisher = Publisher::connect(server.publish, WS_TOPIC)?;
    let ws_request = format!(
        "GET /ws?topic={WS_TOPIC} HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    let mut subs = Subscribers::new(Feed::Ws, server.ws, ws_request)?;
    let ws_idle = subs.open_measuring_memory(server, s.n)?;
    let ws_burst = bursts(&mut subs, &mut publisher, server, s)?;
    println!("  WebSocket fan-out: idle subscriber {ws_idle:.0} B; burst {ws_burst}");
    drop(subs);
    settle();

    let echo = echo(server)?;
    println!("  WebSocket echo: {echo}");
    Ok(Measured { sse_idle, sse_steady, sse_burst, ws_idle, ws_burst, echo })
}

/// Lets the server finish what the last step started (closing, allocating) before a reading.
fn settle() {
    std::thread::sleep(Duration::from_millis(300));
}

/// `#S 17 1732390000123456789` padded with dots: kind, index, Unix nanos when published.
fn message(kind: u8, k: usize) -> String {
    let mut text = format!("#{} {k} {}", kind as char, unix_nanos());
    while text.len() < DATA_LEN {
        text.push('.');
    }
    text
}

/// Finds `#<kind> <k> <nanos>` in a delivered payload (an SSE `data:` line or a frame's JSON).
fn parse_message(payload: &[u8]) -> Option<(u8, u64)> {
    let at = payload.iter().position(|&b| b == b'#')?;
    let rest = payload.get(at + 1..)?;
    let kind = *rest.first()?;
    let mut words = rest[1..].split(|&b| b == b' ').filter(|w| !w.is_empty());
    let _k = words.next()?;
    let digits = words.next()?.iter().take_while(|b| b.is_ascii_digit());
    let nanos = digits.fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
    Some((kind, nanos))
}

/// The results of one fan-out phase.
struct Fanout {
    delivered: usize,
    expected: usize,
    /// From the first publish to the last delivery.
    elapsed: Duration,
    /// Every delivery's latency, sorted.
    latencies: Vec<Duration>,
    cpu: Duration,
    /// Bytes the subscribers read, per delivery.
    wire: f64,
}

impl Fanout {
    fn rate(&self) -> f64 {
        self.delivered as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn latency(&self, p: f64) -> Duration {
        percentile(&self.latencies, p)
    }

    /// Server CPU per delivery, in µs.
    fn cpu_per_delivery(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e6 / self.delivered.max(1) as f64
    }
}

impl std::fmt::Display for Fanout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.delivered < self.expected {
            write!(f, "INCOMPLETE {} of {} after {PHASE_LIMIT:?}, ", self.delivered, self.expected)?;
        }
        write!(
            f,
            "{:.0} deliveries/s in {:.0} ms, latency p50 {} p99 {}, CPU {:.2} µs/delivery, {:.0} B/delivery",
            self.rate(),
            self.elapsed.as_secs_f64() * 1e3,
            time(self.latency(0.5)),
            time(self.latency(0.99)),
            self.cpu_per_delivery(),
            self.wire
        )
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn time(d: Duration) -> String {
    if d < Duration::from_millis(1) {
        format!("{:.0} µs", d.as_secs_f64() * 1e6)
    } else {
        format!("{:.1} ms", d.as_secs_f64() * 1e3)
    }
}

/// `m` messages at `rate` per second, each written when due, while the subscribers read.
fn steady(
    subs: &mut Subscribers,
    publisher: &mut Publisher,
    server: &ServerProcess,
    s: &Sizes,
) -> io::Result<Fanout> {
    let mut tally = Tally::new(b'S', s.n * s.m);
    let interval = Duration::from_secs_f64(1.0 / s.rate as f64);
    let cpu = server.cpu();
    let (started, first) = (Instant::now(), unix_nanos());
    let deadline = started + interval * s.m as u32 + PHASE_LIMIT;
    let mut sent = 0;
    while tally.got < tally.expected && Instant::now() < deadline {
        let due = started + interval * sent as u32;
        let now = Instant::now();
        if sent < s.m && now >= due {
            publisher.send(&[message(b'S', sent)])?;
            sent += 1;
            continue;
        }
        let wait = if sent < s.m { due - now } else { Duration::from_millis(100) };
        subs.pump(wait, &mut tally)?;
    }
    let cpu = server.cpu() - cpu;
    publisher.replies(sent)?;
    Ok(tally.finish(first, cpu))
}

/// `REPEATS` bursts; returns the one with the median rate.
fn bursts(
    subs: &mut Subscribers,
    publisher: &mut Publisher,
    server: &ServerProcess,
    s: &Sizes,
) -> io::Result<Fanout> {
    let mut runs = Vec::new();
    for kind in (b'A'..).take(REPEATS) {
        runs.push(burst(subs, publisher, server, s, kind)?);
    }
    runs.sort_by(|a, b| a.rate().total_cmp(&b.rate()));
    let rates: Vec<String> = runs.iter().map(|r| format!("{:.0}", r.rate())).collect();
    println!("  {} bursts: {} deliveries/s, the median kept", REPEATS, rates.join(" / "));
    Ok(runs.swap_remove(REPEATS / 2))
}

/// `m` messages of `kind` in one pipelined write; done when every subscriber has every one.
fn burst(
    subs: &mut Subscribers,
    publisher: &mut Publisher,
    server: &ServerProcess,
    s: &Sizes,
    kind: u8,
) -> io::Result<Fanout> {
    let mut tally = Tally::new(kind, s.n * s.m);
    let cpu = server.cpu();
    let first = unix_nanos();
    let texts: Vec<String> = (0..s.m).map(|k| message(kind, k)).collect();
    publisher.send(&texts)?;
    let deadline = Instant::now() + PHASE_LIMIT;
    while tally.got < tally.expected && Instant::now() < deadline {
        subs.pump(Duration::from_millis(100), &mut tally)?;
    }
    let cpu = server.cpu() - cpu;
    publisher.replies(s.m)?;
    Ok(tally.finish(first, cpu))
}

/// Deliveries of one phase's messages (those of one kind).
struct Tally {
    kind: u8,
    expected: usize,
    got: usize,
    latencies: Vec<Duration>,
    last: u64,
    bytes: u64,
}

impl Tally {
    fn new(kind: u8, expected: usize) -> Tally {
        Tally { kind, expected, got: 0, latencies: Vec::with_capacity(expected), last: 0, bytes: 0 }
    }

    fn record(&mut self, payload: &[u8], now: u64) {
        if let Some((kind, sent)) = parse_message(payload) {
            if kind == self.kind {
                self.got += 1;
                self.latencies.push(Duration::from_nanos(now.saturating_sub(sent)));
                self.last = self.last.max(now);
            }
        }
    }

    fn finish(mut self, first: u64, cpu: Duration) -> Fanout {
        self.latencies.sort_unstable();
        Fanout {
            delivered: self.got,
            expected: self.expected,
            elapsed: Duration::from_nanos(self.last.saturating_sub(first)),
            wire: self.bytes as f64 / self.got.max(1) as f64,
            latencies: self.latencies,
            cpu,
        }
    }
}

// ---- the clients

/// What a subscriber reads.
#[derive(Clone, Copy, PartialEq)]
enum Feed {
    /// `text/event-stream` in chunks: the stream is ready at its `retry:` line.
    Sse,
    /// WebSocket frames: ready when the `101` head has been read.
    Ws,
}

struct Sub {
    stream: mio::net::TcpStream,
    requested: bool,
    ready: bool,
    /// Bytes read but not yet a whole line or frame.
    pending: Vec<u8>,
}

/// Every subscriber of a phase, on one `mio` loop.
struct Subscribers {
    poll: mio::Poll,
    events: mio::Events,
    feed: Feed,
    addr: SocketAddr,
    request: String,
    subs: Vec<Sub>,
    ready: usize,
    scratch: Vec<u8>,
}

impl Subscribers {
    fn new(feed: Feed, addr: SocketAddr, request: String) -> io::Result<Subscribers> {
        Ok(Subscribers {
            poll: mio::Poll::new()?,
            events: mio::Events::with_capacity(4096),
            feed,
            addr,
            request,
            subs: Vec::new(),
            ready: 0,
            scratch: vec![0; 64 * 1024],
        })
    }

    /// Opens `n` subscribers; returns the server's memory per idle subscriber, the RSS
    /// difference between `n/2` and `n` open streams (without the server's fixed costs).
    fn open_measuring_memory(&mut self, server: &ServerProcess, n: usize) -> io::Result<f64> {
        self.open(n / 2)?;
        settle();
        let half = server.rss();
        self.open(n)?;
        settle();
        Ok((server.rss() - half) / (n - n / 2) as f64)
    }

    /// Opens subscribers, `BATCH` at a time, until `target` are streaming.
    fn open(&mut self, target: usize) -> io::Result<()> {
        let deadline = Instant::now() + PHASE_LIMIT;
        let mut nothing = Tally::new(0, 0);
        while self.ready < target {
            if Instant::now() > deadline {
                return Err(io::Error::other(format!("only {} of {target} subscribers ready", self.ready)));
            }
            if self.subs.len() == self.ready {
                for _ in 0..BATCH.min(target - self.subs.len()) {
                    let mut stream = mio::net::TcpStream::connect(self.addr)?;
                    let token = mio::Token(self.subs.len());
                    let interest = mio::Interest::READABLE | mio::Interest::WRITABLE;
                    self.poll.registry().register(&mut stream, token, interest)?;
                    self.subs.push(Sub { stream, requested: false, ready: false, pending: Vec::new() });
                }
            }
            self.pump(Duration::from_millis(100), &mut nothing)?;
        }
        Ok(())
    }

    /// Waits up to `timeout` for readiness, then reads every ready socket until `WouldBlock`.
    fn pump(&mut self, timeout: Duration, tally: &mut Tally) -> io::Result<()> {
        match self.poll.poll(&mut self.events, Some(timeout)) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(()),
            result => result?,
        }
        for event in self.events.iter() {
            let sub = &mut self.subs[event.token().0];
            if !sub.requested {
                if !event.is_writable() || sub.stream.peer_addr().is_err() {
                    continue; // not connected yet
                }
                sub.stream.write_all(self.request.as_bytes())?;
                sub.requested = true;
                self.poll.registry().reregister(&mut sub.stream, event.token(), mio::Interest::READABLE)?;
            }
            loop {
                match sub.stream.read(&mut self.scratch) {
                    Ok(0) => return Err(io::Error::other("the server closed a subscriber")),
                    Ok(got) => {
                        tally.bytes += got as u64;
                        sub.pending.extend_from_slice(&self.scratch[..got]);
                        let was_ready = sub.ready;
                        let used = match self.feed {
                            Feed::Sse => sse_lines(&sub.pending, &mut sub.ready, tally),
                            Feed::Ws => ws_frames(&sub.pending, &mut sub.ready, tally),
                        };
                        sub.pending.drain(..used);
                        self.ready += usize::from(sub.ready && !was_ready);
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) if e.kind() == io::ErrorKind::NotConnected => break,
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }
}

/// Handles the complete lines of an SSE response; returns the bytes used. The head, chunk
/// sizes, `id:` lines and keep-alive comments start with neither `retry:` nor `data: `.
fn sse_lines(data: &[u8], ready: &mut bool, tally: &mut Tally) -> usize {
    let now = unix_nanos();
    let mut start = 0;
    while let Some(end) = data[start..].iter().position(|&b| b == b'\n') {
        let line = &data[start..start + end];
        start += end + 1;
        if line.starts_with(b"data: ") {
            tally.record(line, now);
        } else if line.starts_with(b"retry:") {
            *ready = true;
        }
    }
    start
}

/// Handles the `101` head, then every complete frame; returns the bytes used.
fn ws_frames(data: &[u8], ready: &mut bool, tally: &mut Tally) -> usize {
    let now = unix_nanos();
    let mut start = 0;
    if !*ready {
        let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") else { return 0 };
        assert!(data.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&data[..at]));
        *ready = true;
        start = at + 4;
    }
    while let Ok(Status::Complete((header, len))) = FrameHeader::parse(&data[start..]) {
        let end = start + len + header.payload_len as usize;
        if end > data.len() {
            break;
        }
        if header.opcode == OpCode::Text {
            tally.record(&data[start + len..end], now);
        }
        start = end;
    }
    start
}

/// A keep-alive connection that writes `POST /publish` requests and reads their replies.
struct Publisher {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
    topic: &'static str,
}

impl Publisher {
    fn connect(addr: SocketAddr, topic: &'static str) -> io::Result<Publisher> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(PHASE_LIMIT))?;
        Ok(Publisher { reader: BufReader::new(stream.try_clone()?), stream, topic })
    }

    /// Every request in one write; the replies are read later by `replies`.
    fn send(&mut self, texts: &[String]) -> io::Result<()> {
        let all: String = texts
            .iter()
            .map(|text| {
                format!(
                    "POST /publish?topic={} HTTP/1.1\r\nHost: bench\r\nContent-Length: {}\r\n\r\n{text}",
                    self.topic,
                    text.len()
                )
            })
            .collect();
        self.stream.write_all(all.as_bytes())
    }

    /// Reads `count` replies, each a `200` with a `Content-Length` body.
    fn replies(&mut self, count: usize) -> io::Result<()> {
        for _ in 0..count {
            let (mut len, mut line) = (0, String::new());
            self.reader.read_line(&mut line)?;
            if !line.starts_with("HTTP/1.1 200") {
                return Err(io::Error::other(format!("publish failed: {line:?}")));
            }
            while line != "\r\n" {
                line.clear();
                if self.reader.read_line(&mut line)? == 0 {
                    return Err(io::Error::other("publisher connection closed"));
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().map_err(io::Error::other)?;
                }
            }
            self.reader.read_exact(&mut vec![0; len])?;
        }
        Ok(())
    }
}

/// The blocking WebSocket client of `benches/ws_echo.rs`: masked frames out, whole frames in.
struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
    start: usize,
}

impl Client {
    fn connect(addr: SocketAddr, path: &str) -> io::Result<Client> {
        let mut stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )?;
        let mut client = Client { stream, buf: Vec::with_capacity(64 * 1024), start: 0 };
        let end = loop {
            if let Some(at) = client.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            client.fill()?;
        };
        if !client.buf.starts_with(b"HTTP/1.1 101") {
            return Err(io::Error::other(String::from_utf8_lossy(&client.buf[..end]).into_owned()));
        }
        client.start = end;
        Ok(client)
    }

    fn fill(&mut self) -> io::Result<()> {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        let len = self.buf.len();
        self.buf.resize(len + 64 * 1024, 0);
        let n = self.stream.read(&mut self.buf[len..])?;
        self.buf.truncate(len + n);
        if n == 0 {
            return Err(io::Error::other("server closed the connection"));
        }
        Ok(())
    }

    /// The next frame: (opcode, payload length); the payload is skipped.
    fn frame(&mut self) -> io::Result<(OpCode, usize)> {
        loop {
            if let Ok(Status::Complete((h, len))) = FrameHeader::parse(&self.buf[self.start..]) {
                let total = len + h.payload_len as usize;
                if self.buf.len() - self.start >= total {
                    self.start += total;
                    return Ok((h.opcode, h.payload_len as usize));
                }
                if self.buf.len() - self.start + 64 * 1024 > self.buf.capacity() {
                    self.buf.reserve(total);
                }
            }
            self.fill()?;
        }
    }

    /// Sends `message` (a whole masked frame) and waits for its echo.
    fn round_trip(&mut self, message: &[u8], opcode: OpCode, len: usize) -> io::Result<()> {
        self.stream.write_all(message)?;
        let got = self.frame()?;
        if got != (opcode, len) {
            return Err(io::Error::other(format!("echo of {len} bytes came back as {got:?}")));
        }
        Ok(())
    }
}

fn masked(opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 14);
    write_masked_frame(&mut out, true, opcode, payload, [0x37, 0xfa, 0x21, 0x3d]);
    out
}

struct Echo {
    /// Sequential 16-byte round trips, sorted.
    samples: Vec<Duration>,
    per_second: f64,
    cpu_per_round_trip: Duration,
    /// MiB through the server (in + out) per second, echoing 1 MiB messages.
    large: f64,
}

impl std::fmt::Display for Echo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "16 B p50 {} p99 {}, {:.0} round trips/s, CPU {:.1} µs each; 1 MiB {:.0} MiB/s",
            time(percentile(&self.samples, 0.5)),
            time(percentile(&self.samples, 0.99)),
            self.per_second,
            self.cpu_per_round_trip.as_secs_f64() * 1e6,
            self.large
        )
    }
}

fn echo(server: &ServerProcess) -> io::Result<Echo> {
    let mut client = Client::connect(server.echo, "/echo")?;
    let small = masked(OpCode::Text, b"0123456789abcdef");
    let mut samples = Vec::with_capacity(ROUND_TRIPS);
    let cpu = server.cpu();
    let started = Instant::now();
    for _ in 0..ROUND_TRIPS {
        let t = Instant::now();
        client.round_trip(&small, OpCode::Text, 16)?;
        samples.push(t.elapsed());
    }
    let per_second = ROUND_TRIPS as f64 / started.elapsed().as_secs_f64();
    let cpu_per_round_trip = (server.cpu() - cpu) / ROUND_TRIPS as u32;
    samples.sort_unstable();

    let payload: Vec<u8> = (0..LARGE as u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let large = masked(OpCode::Binary, &payload);
    client.round_trip(&large, OpCode::Binary, LARGE)?; // warm the buffers
    let mut rates = Vec::new();
    for _ in 0..REPEATS {
        let started = Instant::now();
        for _ in 0..LARGE_ROUNDS {
            client.round_trip(&large, OpCode::Binary, LARGE)?;
        }
        rates.push((2 * LARGE_ROUNDS) as f64 / started.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    let large = rates[REPEATS / 2];
    Ok(Echo { samples, per_second, cpu_per_round_trip, large })
}

// ---- the tables

const MORE: &str = " (more is better)";
const LESS: &str = " (less is better)";

/// One row of a table: the measure, which way is better, how a value reads, and the value of
/// each server (pushlab, the peer on `current_thread`, the peer on `multi_thread`).
struct Row {
    name: String,
    better: &'static str,
    show: fn(f64) -> String,
    values: [f64; 3],
}

/// Prints one markdown table: a row per measure, a column per server, then pushlab ÷ each peer.
fn table(title: &str, peer: &str, workers: usize, rows: &[Row]) {
    println!("\n{title}\n");
    println!(
        "| measure | pushlab | {peer}, current_thread | {peer}, multi_thread ({workers} workers) | \
         pushlab ÷ peer (current_thread / multi_thread) |"
    );
    println!("|---|--:|--:|--:|--:|");
    for Row { name, better, show, values: [ours, one, many] } in rows {
        let (a, b, c) = (show(*ours), show(*one), show(*many));
        println!("| {name}{better} | {a} | {b} | {c} | {:.2}× / {:.2}× |", ours / one, ours / many);
    }
}

fn rate(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2} M/s", v / 1e6)
    } else {
        format!("{:.0} k/s", v / 1e3)
    }
}

fn micros(v: f64) -> String {
    time(Duration::from_secs_f64(v / 1e6))
}

fn micros_fine(v: f64) -> String {
    format!("{v:.2} µs")
}

fn bytes(v: f64) -> String {
    format!("{v:.0} B")
}

fn mib_per_s(v: f64) -> String {
    format!("{v:.0} MiB/s")
}

fn report(r: &[Measured], s: &Sizes, workers: usize) {
    let row = |name: &str, better, show, value: &dyn Fn(&Measured) -> f64| Row {
        name: name.to_string(),
        better,
        show,
        values: [value(&r[0]), value(&r[1]), value(&r[2])],
    };
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let (n, m, steady) = (s.n, s.m, format!("steady {} msg/s", s.rate));
    println!(
        "\nRatios are pushlab ÷ peer: above 1 on a 'more is better' row, or below 1 on a 'less is \
         better' row, is pushlab ahead. Burst rows are the median of {REPEATS} bursts."
    );
    table(
        &format!("SSE fan-out, {n} subscribers × {m} messages: pushlab `/sse` against axum 0.8 `Sse`"),
        "axum",
        workers,
        &[
            row("burst: deliveries/s", MORE, rate, &|x| x.sse_burst.rate()),
            row("burst: everyone has everything", LESS, micros, &|x| us(x.sse_burst.elapsed)),
            row("burst: latency p50", LESS, micros, &|x| us(x.sse_burst.latency(0.5))),
            row("burst: latency p99", LESS, micros, &|x| us(x.sse_burst.latency(0.99))),
            row("burst: server CPU per delivery", LESS, micros_fine, &|x| x.sse_burst.cpu_per_delivery()),
            row(&format!("{steady}: latency p50"), LESS, micros, &|x| us(x.sse_steady.latency(0.5))),
            row(&format!("{steady}: latency p99"), LESS, micros, &|x| us(x.sse_steady.latency(0.99))),
            row(&format!("{steady}: server CPU per delivery"), LESS, micros_fine, &|x| {
                x.sse_steady.cpu_per_delivery()
            }),
            row("server memory per idle subscriber", LESS, bytes, &|x| x.sse_idle),
            row("bytes read per delivery", "", bytes, &|x| x.sse_burst.wire),
        ],
    );
    table(
        &format!(
            "WebSocket fan-out, {n} subscribers × {m} messages: pushlab `/ws` against tokio-tungstenite"
        ),
        "tokio-tungstenite",
        workers,
        &[
            row("burst: deliveries/s", MORE, rate, &|x| x.ws_burst.rate()),
            row("burst: everyone has everything", LESS, micros, &|x| us(x.ws_burst.elapsed)),
            row("burst: latency p50", LESS, micros, &|x| us(x.ws_burst.latency(0.5))),
            row("burst: latency p99", LESS, micros, &|x| us(x.ws_burst.latency(0.99))),
            row("burst: server CPU per delivery", LESS, micros_fine, &|x| x.ws_burst.cpu_per_delivery()),
            row("server memory per idle subscriber", LESS, bytes, &|x| x.ws_idle),
            row("bytes read per delivery", "", bytes, &|x| x.ws_burst.wire),
        ],
    );
    table(
        "WebSocket echo: pushlab `/echo` against tokio-tungstenite's echo example",
        "tokio-tungstenite",
        workers,
        &[
            row(&format!("16 B, {ROUND_TRIPS} sequential: round trips/s"), MORE, rate, &|x| {
                x.echo.per_second
            }),
            row("16 B: round trip p50", LESS, micros, &|x| us(percentile(&x.echo.samples, 0.5))),
            row("16 B: round trip p99", LESS, micros, &|x| us(percentile(&x.echo.samples, 0.99))),
            row("16 B: server CPU per round trip", LESS, micros_fine, &|x| us(x.echo.cpu_per_round_trip)),
            row(&format!("1 MiB, median of {REPEATS} × {LARGE_ROUNDS}: in + out"), MORE, mib_per_s, &|x| {
                x.echo.large
            }),
        ],
    );
}
