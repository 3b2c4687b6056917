//! What polling costs, measured (chapters 02–03): `cargo bench --bench poll_costs`.
//!
//! Starts pushlab in-process on loopback, then runs side by side
//! - `CLIENTS` short-poll clients, each asking `GET /poll?since=N` every second, and
//! - `CLIENTS` long-poll clients, each asking `GET /long-poll?since=N&timeout=5` again as soon
//!   as a reply arrives,
//!
//! while a publisher sends one message every `PERIOD` for `ACTIVE`; then nothing is published
//! for `IDLE`. Every client counts requests, bytes each way, empty replies and, for each
//! message, the delay from its `time` (the server's clock at publish) to its arrival. The
//! table gives costs per delivered message in the active phase and per client per minute in
//! the idle phase. Override the sizes with `POLL_COSTS_CLIENTS`, `POLL_COSTS_PERIOD_MS`.
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pushlab::config::Config;

const ACTIVE: Duration = Duration::from_secs(20);
/// After the last publish, time for the last short-poll round to collect it.
const SETTLE: Duration = Duration::from_millis(1500);
const IDLE: Duration = Duration::from_secs(15);
const SHORT_INTERVAL: Duration = Duration::from_secs(1);
/// The long-poll hold in this run; the idle cost at the 25 s default is computed from it.
const LONG_TIMEOUT_S: u64 = 5;
const TOPIC: &str = "bench";

/// One phase's counters for one transport, summed over clients.
#[derive(Default, Clone)]
struct Costs {
    requests: u64,
    sent: u64,
    received: u64,
    empty: u64,
    delivered: u64,
    delays_ms: Vec<u64>,
}

impl Costs {
    fn add(&mut self, other: &Costs) {
        self.requests += other.requests;
        self.sent += other.sent;
        self.received += other.received;
        self.empty += other.empty;
        self.delivered += other.delivered;
        self.delays_ms.extend(&other.delays_ms);
    }
}

/// Times that split the run into phases.
#[derive(Clone, Copy)]
struct Plan {
    active_end: Instant,
    idle_end: Instant,
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() -> io::Result<()> {
    let clients = env("POLL_COSTS_CLIENTS", 50) as usize;
    let period = Duration::from_millis(env("POLL_COSTS_PERIOD_MS", 2000));
    let addr = pushlab::spawn(Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        replay: 100_000,
        ..Config::default()
    })?;
    let messages = (ACTIVE.as_millis() / period.as_millis()) as u64;
    let start = Instant::now();
    let active_end = start + period * messages as u32 + SETTLE;
    let plan = Plan { active_end, idle_end: active_end + IDLE };
    println!(
        "poll_costs: pushlab on {addr}; {clients} short-poll clients (every {SHORT_INTERVAL:?}) and {clients} long-poll \
         clients (timeout={LONG_TIMEOUT_S} s); {messages} messages, one every {period:?}; then {IDLE:?} idle"
    );

    let results: Arc<Mutex<[[Costs; 2]; 2]>> = Arc::default(); // [transport][phase]
    let mut threads = Vec::new();
    for i in 0..clients {
        for long in [false, true] {
            let results = results.clone();
            // Short-pollers start spread over one interval, as independent browsers would.
            let offset = SHORT_INTERVAL * i as u32 / clients as u32;
            threads.push(std::thread::spawn(move || {
                let mine = client(addr, long, offset, plan).expect("client");
                let mut all = results.lock().unwrap();
                for phase in 0..2 {
                    all[long as usize][phase].add(&mine[phase]);
                }
            }));
        }
    }
    // The publisher: one short message per period, on a keep-alive connection.
    std::thread::sleep(period / 2);
    let mut conn = TcpStream::connect(addr)?;
    for n in 1..=messages {
        let when = start + period * n as u32 - period / 2;
        std::thread::sleep(when.saturating_duration_since(Instant::now()));
        let body = format!("tick {n:06} from the bench publisher");
        let head = format!(
            "POST /publish?topic={TOPIC} HTTP/1.1\r\nHost: b\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        exchange(&mut conn, format!("{head}{body}").as_bytes())?;
    }
    std::thread::sleep(plan.idle_end.saturating_duration_since(Instant::now()));
    // Release the long-pollers still held, so every thread ends now.
    exchange(
        &mut conn,
        format!("POST /publish?topic={TOPIC} HTTP/1.1\r\nHost: b\r\nContent-Length: 3\r\n\r\nend").as_bytes(),
    )?;
    for t in threads {
        t.join().expect("client thread");
    }
    report(&results.lock().unwrap(), clients as u64, messages);
    Ok(())
}

/// One client: polls until the plan ends; returns its [active, idle] costs.
fn client(addr: SocketAddr, long: bool, offset: Duration, plan: Plan) -> io::Result<[Costs; 2]> {
    std::thread::sleep(offset);
    let mut conn = TcpStream::connect(addr)?;
    conn.set_nodelay(true)?;
    let mut costs: [Costs; 2] = Default::default();
    let mut cursor = 0;
    let mut next_at = Instant::now();
    while Instant::now() < plan.idle_end {
        let request = match long {
            true => format!("GET /long-poll?topic={TOPIC}&since={cursor}&timeout={LONG_TIMEOUT_S} HTTP/1.1\r\nHost: b\r\n\r\n"),
            false => format!("GET /poll?topic={TOPIC}&since={cursor} HTTP/1.1\r\nHost: b\r\n\r\n"),
        };
        let (body, received) = exchange(&mut conn, request.as_bytes())?;
        let arrived = Instant::now();
        let arrived_ms = now_ms();
        if arrived >= plan.idle_end {
            break;
        }
        let c = &mut costs[(arrived >= plan.active_end) as usize];
        let reply: serde_json::Value = serde_json::from_slice(&body).map_err(io::Error::other)?;
        let messages = reply["messages"].as_array().map_or(&[][..], |m| m.as_slice());
        c.requests += 1;
        c.sent += request.len() as u64;
        c.received += received as u64;
        c.empty += messages.is_empty() as u64;
        c.delivered += messages.len() as u64;
        c.delays_ms
            .extend(messages.iter().map(|m| arrived_ms.saturating_sub(m["time"].as_u64().unwrap_or(0))));
        cursor = reply["next"].as_u64().unwrap_or(cursor);
        if !long {
            next_at += SHORT_INTERVAL;
            std::thread::sleep(next_at.saturating_duration_since(Instant::now()));
        }
    }
    Ok(costs)
}

fn report(results: &[[Costs; 2]; 2], clients: u64, messages: u64) {
    let [short, long] = results;
    let per = |x: u64, n: u64| x as f64 / n.max(1) as f64;
    let row = |name: &str, f: &dyn Fn(&[Costs; 2]) -> String| {
        println!("{name:<44} {:>14} {:>14}", f(short), f(long))
    };
    println!();
    println!("{:<44} {:>14} {:>14}", "", "short poll", "long poll");
    println!("-- active phase (per delivered message) --");
    row("messages delivered (all clients)", &|c| format!("{} / {}", c[0].delivered, messages * clients));
    row("requests per delivered message", &|c| format!("{:.2}", per(c[0].requests, c[0].delivered)));
    row("empty replies", &|c| format!("{:.0} %", 100.0 * per(c[0].empty, c[0].requests)));
    row("bytes received per delivered message", &|c| format!("{:.0}", per(c[0].received, c[0].delivered)));
    row("bytes sent per delivered message", &|c| format!("{:.0}", per(c[0].sent, c[0].delivered)));
    let pct = |c: &[Costs; 2], q: f64| {
        let mut d = c[0].delays_ms.clone();
        d.sort_unstable();
        d.get(((d.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(0)
    };
    row("delay publish→receive, mean (ms)", &|c| {
        format!("{:.1}", per(c[0].delays_ms.iter().sum(), c[0].delays_ms.len() as u64))
    });
    row("delay p50 / p99 / max (ms)", &|c| format!("{} / {} / {}", pct(c, 0.5), pct(c, 0.99), pct(c, 1.0)));
    println!("-- idle phase ({} s, nothing published; per client per minute) --", IDLE.as_secs());
    let minute = 60.0 / IDLE.as_secs_f64() / clients as f64;
    row("requests", &|c| format!("{:.1}", c[1].requests as f64 * minute));
    row("bytes received", &|c| format!("{:.0}", c[1].received as f64 * minute));
    row("bytes sent", &|c| format!("{:.0}", c[1].sent as f64 * minute));
    let exchange = per(long[1].received + long[1].sent, long[1].requests);
    println!(
        "long poll at the 25 s default: {:.1} requests, {:.0} bytes per client per minute \
         (60/25 empty exchanges of {exchange:.0} bytes)",
        60.0 / 25.0,
        60.0 / 25.0 * exchange
    );
    use pushlab::server::{conn::Connection, slab::Key};
    use std::mem::size_of;
    println!(
        "server memory per held long-poll: HeldPoll {} B (inside a Connection of {} B in the slab), \
         timer entry {} B, hub subscription {} B + hash-set overhead",
        size_of::<pushlab::transport::long_poll::HeldPoll>(),
        size_of::<Connection>(),
        size_of::<std::cmp::Reverse<(Instant, Key)>>(),
        size_of::<pushlab::hub::Subscriber>()
    );
}

/// Writes one request, reads one `Content-Length` response: (body, bytes received).
fn exchange(conn: &mut TcpStream, request: &[u8]) -> io::Result<(Vec<u8>, usize)> {
    conn.write_all(request)?;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w: &[u8]| w == b"\r\n\r\n").map(|i| i + 4) {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap_or(0));
            if buf.len() >= end + length {
                return Ok((buf[end..end + length].to_vec(), buf.len()));
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
