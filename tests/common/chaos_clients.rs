//! Resilient clients of the four reading transports, for `tests/chaos.rs`: blocking std
//! sockets, one thread each, written for a server that misbehaves on purpose (`--chaos`).
//!
//! Every client keeps a cursor (the last id it accepted) and on any failure — a connection
//! closed at once (chaos `drop`), one closed mid-answer or mid-stream (chaos `cut`), a
//! timeout — reconnects after a short random pause and resumes from that cursor (SPEC §2).
//! It also drops its own connection at random and resumes. Only whole messages count: a
//! poll answer shorter than its `Content-Length`, an SSE event without its blank line, a
//! WebSocket frame short of its length are discarded with the connection, never accepted.
//!
//! What a client saw is its [`Record`]: every id and data it accepted, in order, the jumps
//! it noticed (SPEC §2: "a client detects loss as a jump in ids"), how often it reconnected
//! and why.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{find, show, Rng, HOST};

/// A stream silent this long while it is still owed messages has failed.
pub const SILENCE: Duration = Duration::from_secs(4);
/// How long one blocking read waits before the client looks at its [`Control`] again.
const SLICE: Duration = Duration::from_millis(100);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Poll,
    LongPoll,
    Sse,
    WebSocket,
}

/// What one client is to do.
#[derive(Clone, Debug)]
pub struct Plan {
    pub transport: Transport,
    pub topic: String,
    /// Where it may connect; each connection picks one at random (one node today; the
    /// nodes of a Redis cluster later).
    pub nodes: Vec<SocketAddr>,
    pub seed: u64,
    /// Probability of dropping its own connection after each message it accepts.
    pub self_drop: f64,
    /// Once its cursor reaches this id, it disconnects and stays away until
    /// [`Control::back`] is set.
    pub away_at: Option<u64>,
}

/// What the test tells every client while they run.
#[derive(Default)]
pub struct Control {
    /// The topic's last id once the publishers are done (0 until then): a client whose
    /// cursor reaches it stops.
    pub last: AtomicU64,
    /// Clients kept away by [`Plan::away_at`] may come back.
    pub back: AtomicBool,
    /// Give up now (the test's deadline passed).
    pub stop: AtomicBool,
}

/// Why a connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Refused, or closed (FIN or reset) before a byte came back: chaos `drop`, or a
    /// keep-alive connection cut after its previous answer.
    Dropped,
    /// Closed part-way through an answer or a stream: chaos `cut`.
    Cut,
    TimedOut,
}

/// Everything one client saw.
#[derive(Clone, Debug, Default)]
pub struct Record {
    pub name: String,
    /// Every message accepted, in order: (id, data).
    pub got: Vec<(u64, String)>,
    pub cursor: u64,
    /// (cursor, first id after it) for each jump: `missed` = id - cursor - 1.
    pub jumps: Vec<(u64, u64)>,
    pub connections: u64,
    pub dropped: u64,
    pub cuts: u64,
    pub timeouts: u64,
    pub self_drops: u64,
    /// Whole answers that break the contract (a bad status, bad JSON, a wrong `next`).
    pub anomalies: Vec<String>,
    /// Kept away by its plan right now.
    pub away: bool,
    pub done: bool,
}

impl Record {
    pub fn reconnects(&self) -> u64 {
        self.connections.saturating_sub(1)
    }

    /// One line for a failure report.
    pub fn summary(&self) -> String {
        format!(
            "{}: cursor {}, {} messages, {} reconnects ({} dropped, {} cut, {} timeouts, {} self-drops), \
             jumps {:?}, done {}",
            self.name,
            self.cursor,
            self.got.len(),
            self.reconnects(),
            self.dropped,
            self.cuts,
            self.timeouts,
            self.self_drops,
            self.jumps,
            self.done
        )
    }
}

/// How a session ended.
enum End {
    Failed(Failure),
    SelfDrop,
    /// The plan's `away_at`, or the last id, or `stop`: leave the loop to decide.
    Leave,
}

/// One client on its thread; the record is shared so a test that times out can show it.
pub struct Reader {
    plan: Plan,
    control: Arc<Control>,
    record: Arc<Mutex<Record>>,
    rng: Rng,
}

/// Starts `plan` on a thread; its record fills in as it runs.
pub fn spawn(plan: Plan, control: Arc<Control>) -> (Arc<Mutex<Record>>, std::thread::JoinHandle<()>) {
    let name = format!("{:?}#{}", plan.transport, plan.seed);
    let record = Arc::new(Mutex::new(Record { name, ..Record::default() }));
    let mut reader = Reader { rng: Rng(plan.seed | 1), plan, control, record: record.clone() };
    (record, std::thread::spawn(move || reader.run()))
}

impl Reader {
    fn run(&mut self) {
        loop {
            if self.should_stop() {
                break;
            }
            if self.kept_away() {
                self.record.lock().unwrap().away = true;
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
            self.record.lock().unwrap().away = false;
            let node = *self.rng.pick(&self.plan.nodes);
            let end = match Conn::open(node) {
                Ok(mut conn) => {
                    self.record.lock().unwrap().connections += 1;
                    match self.plan.transport {
                        Transport::Poll | Transport::LongPoll => self.polls(&mut conn),
                        Transport::Sse => self.sse(&mut conn),
                        Transport::WebSocket => self.websocket(&mut conn),
                    }
                }
                Err(failure) => End::Failed(failure),
            };
            {
                let mut r = self.record.lock().unwrap();
                match end {
                    End::Failed(Failure::Dropped) => r.dropped += 1,
                    End::Failed(Failure::Cut) => r.cuts += 1,
                    End::Failed(Failure::TimedOut) => r.timeouts += 1,
                    End::SelfDrop => r.self_drops += 1,
                    End::Leave => {}
                }
            }
            if !matches!(end, End::Leave) {
                std::thread::sleep(Duration::from_millis(self.rng.below(30) as u64));
            }
        }
        self.record.lock().unwrap().done = true;
    }

    fn cursor(&self) -> u64 {
        self.record.lock().unwrap().cursor
    }

    fn should_stop(&self) -> bool {
        let last = self.control.last.load(Ordering::SeqCst);
        self.control.stop.load(Ordering::SeqCst) || (last > 0 && self.cursor() >= last)
    }

    fn kept_away(&self) -> bool {
        self.plan.away_at.is_some_and(|at| self.cursor() >= at) && !self.control.back.load(Ordering::SeqCst)
    }

    /// After each message: leave, drop the connection on purpose, or go on.
    fn after_message(&mut self) -> Option<End> {
        if self.should_stop() || self.kept_away() {
            return Some(End::Leave);
        }
        let p = (self.plan.self_drop * 1e6) as usize;
        (self.rng.below(1_000_000) < p).then_some(End::SelfDrop)
    }

    /// Takes one whole message. A message at or before the cursor is a duplicate (SPEC §2:
    /// a client that resumes with its cursor is sent nothing it has); one past `cursor + 1`
    /// is a jump, the signal that the replay window was exceeded.
    fn accept(&mut self, id: u64, data: String) {
        let mut r = self.record.lock().unwrap();
        if id > r.cursor + 1 {
            let from = r.cursor;
            r.jumps.push((from, id));
        }
        if id <= r.cursor {
            let why = format!("duplicate: id {id} again after cursor {}", r.cursor);
            r.anomalies.push(why);
        }
        r.got.push((id, data));
        r.cursor = r.cursor.max(id);
    }

    fn anomaly(&mut self, why: String) {
        self.record.lock().unwrap().anomalies.push(why);
    }

    /// `/poll` every ~20 ms, or `/long-poll` held up to a second, on one keep-alive
    /// connection, each request from the cursor (SPEC §4, §5).
    fn polls(&mut self, conn: &mut Conn) -> End {
        let mut answered = 0;
        loop {
            let cursor = self.cursor();
            let limit = *self.rng.pick(&[5, 50, 100]);
            let topic = &self.plan.topic;
            let target = match self.plan.transport {
                Transport::Poll => format!("/poll?topic={topic}&since={cursor}&limit={limit}"),
                _ => format!("/long-poll?topic={topic}&since={cursor}&limit={limit}&timeout=1"),
            };
            let request = format!("GET {target} HTTP/1.1\r\nHost: {HOST}\r\n\r\n");
            if conn.stream.write_all(request.as_bytes()).is_err() {
                return End::Failed(if answered > 0 { Failure::Cut } else { Failure::Dropped });
            }
            let (status, body) = match conn.read_response(Instant::now() + SILENCE) {
                Ok(answer) => answer,
                // Closed at once after an answer on this connection: cut after that write.
                Err(Failure::Dropped) if answered > 0 => return End::Failed(Failure::Cut),
                Err(failure) => return End::Failed(failure),
            };
            let answer: Value = match serde_json::from_slice(&body) {
                Ok(v) if status == 200 => v,
                _ => {
                    self.anomaly(format!("{target}: {status} {}", show(&body)));
                    return End::Failed(Failure::Cut);
                }
            };
            answered += 1;
            let messages = answer["messages"].as_array().cloned().unwrap_or_default();
            for m in &messages {
                match (m["id"].as_u64(), m["data"].as_str()) {
                    (Some(id), Some(data)) => self.accept(id, data.to_string()),
                    _ => self.anomaly(format!("{target}: message {m}")),
                }
            }
            // SPEC §4: `next` is the last id included, or the cursor when none are.
            let next = messages.last().and_then(|m| m["id"].as_u64()).unwrap_or(cursor);
            if answer["next"].as_u64() != Some(next) {
                self.anomaly(format!("{target}: next {} instead of {next}", answer["next"]));
            }
            for _ in 0..messages.len().max(1) {
                if let Some(end) = self.after_message() {
                    return end;
                }
            }
            if self.plan.transport == Transport::Poll {
                std::thread::sleep(Duration::from_millis(10 + self.rng.below(20) as u64));
            }
        }
    }

    /// `/sse` from the cursor, given as `since=` or, half the time, as `Last-Event-ID` (which
    /// wins over a `since=0` beside it, SPEC §6); events parsed from the chunked body.
    fn sse(&mut self, conn: &mut Conn) -> End {
        let (cursor, topic) = (self.cursor(), &self.plan.topic);
        let request = if self.rng.below(2) == 0 {
            format!("GET /sse?topic={topic}&since={cursor} HTTP/1.1\r\nHost: {HOST}\r\n\r\n")
        } else {
            format!(
                "GET /sse?topic={topic}&since=0 HTTP/1.1\r\nHost: {HOST}\r\nLast-Event-ID: {cursor}\r\n\r\n"
            )
        };
        if conn.stream.write_all(request.as_bytes()).is_err() {
            return End::Failed(Failure::Dropped);
        }
        match conn.read_head(Instant::now() + SILENCE) {
            Ok((200, _)) => {}
            Ok((status, head)) => {
                self.anomaly(format!("/sse answered {status}: {head}"));
                return End::Failed(Failure::Cut);
            }
            Err(failure) => return End::Failed(failure),
        }
        // The chunked body, de-chunked as whole chunks arrive; events parsed from that.
        let mut body: Vec<u8> = Vec::new();
        let (mut id, mut data): (Option<u64>, Option<String>) = (None, None);
        let mut heard = Instant::now();
        loop {
            while let Some((chunk, used)) = next_chunk(&conn.buf) {
                body.extend_from_slice(&chunk);
                conn.buf.drain(..used);
            }
            // WHATWG event-stream: lines end in LF; a blank line dispatches the event.
            while let Some(eol) = body.iter().position(|&b| b == b'\n') {
                let line = String::from_utf8_lossy(&body[..eol]).trim_end_matches('\r').to_string();
                body.drain(..=eol);
                if let Some(v) = line.strip_prefix("id: ") {
                    id = v.parse().ok();
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data = Some(match data.take() {
                        Some(d) => format!("{d}\n{v}"),
                        None => v.to_string(),
                    });
                } else if line.is_empty() {
                    match (id.take(), data.take()) {
                        (Some(id), Some(data)) => {
                            self.accept(id, data);
                            if let Some(end) = self.after_message() {
                                return end;
                            }
                        }
                        (None, None) => {} // the `retry:` preamble, a keep-alive
                        (id, data) => self.anomaly(format!("SSE event id {id:?} data {data:?}")),
                    }
                }
            }
            match conn.fill() {
                Fill::Data => heard = Instant::now(),
                Fill::Eof => return End::Failed(Failure::Cut),
                Fill::Quiet if heard.elapsed() > SILENCE => return End::Failed(Failure::TimedOut),
                Fill::Quiet if self.should_stop() || self.kept_away() => return End::Leave,
                Fill::Quiet => {}
            }
        }
    }

    /// `/ws` from the cursor: one text frame per message (SPEC §7). The client's own frames
    /// (a pong, a Close when it leaves politely) are masked, RFC 6455 §5.1.
    fn websocket(&mut self, conn: &mut Conn) -> End {
        let (cursor, topic) = (self.cursor(), &self.plan.topic);
        let request = format!(
            "GET /ws?topic={topic}&since={cursor} HTTP/1.1\r\nHost: {HOST}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\n\r\n"
        );
        if conn.stream.write_all(request.as_bytes()).is_err() {
            return End::Failed(Failure::Dropped);
        }
        match conn.read_head(Instant::now() + SILENCE) {
            Ok((101, _)) => {}
            Ok((status, head)) => {
                self.anomaly(format!("/ws answered {status}: {head}"));
                return End::Failed(Failure::Cut);
            }
            Err(failure) => return End::Failed(failure),
        }
        let mut heard = Instant::now();
        loop {
            while let Some((fin, opcode, payload, used)) = next_frame(&conn.buf) {
                conn.buf.drain(..used);
                match opcode {
                    TEXT if fin => {
                        let message: Value = serde_json::from_slice(&payload).unwrap_or_default();
                        match (message["id"].as_u64(), message["data"].as_str()) {
                            (Some(id), Some(data)) => self.accept(id, data.to_string()),
                            _ => self.anomaly(format!("/ws frame {}", show(&payload))),
                        }
                        if let Some(end) = self.after_message() {
                            // Leave politely half the time: a masked Close 1000.
                            if self.rng.below(2) == 0 {
                                let frame = masked(CLOSE, &1000u16.to_be_bytes(), &mut self.rng);
                                let _ = conn.stream.write_all(&frame);
                            }
                            return end;
                        }
                    }
                    PING => {
                        let _ = conn.stream.write_all(&masked(PONG, &payload, &mut self.rng));
                    }
                    CLOSE => return End::Failed(Failure::Cut),
                    _ => self.anomaly(format!("/ws frame opcode {opcode:#x} fin {fin}")),
                }
            }
            match conn.fill() {
                Fill::Data => heard = Instant::now(),
                Fill::Eof => return End::Failed(Failure::Cut),
                Fill::Quiet if heard.elapsed() > SILENCE => return End::Failed(Failure::TimedOut),
                Fill::Quiet if self.should_stop() || self.kept_away() => return End::Leave,
                Fill::Quiet => {}
            }
        }
    }
}

// =====================================================================================
// Bytes on one connection
// =====================================================================================

/// A socket and what was read from it and not yet used.
pub struct Conn {
    pub stream: TcpStream,
    pub buf: Vec<u8>,
}

pub enum Fill {
    Data,
    /// EOF or a reset.
    Eof,
    /// Nothing for one read-timeout slice.
    Quiet,
}

impl Conn {
    /// A fresh connection to `node`, reads in [`SLICE`]s.
    pub fn open(node: SocketAddr) -> Result<Conn, Failure> {
        let stream = TcpStream::connect(node).map_err(|_| Failure::Dropped)?;
        let _ = stream.set_nodelay(true);
        let _ = stream.set_read_timeout(Some(SLICE));
        Ok(Conn { stream, buf: Vec::new() })
    }

    /// Sends `request` and reads its whole answer.
    pub fn exchange(&mut self, request: &[u8]) -> Result<(u16, Vec<u8>), Failure> {
        self.stream.write_all(request).map_err(|_| Failure::Dropped)?;
        self.read_response(Instant::now() + SILENCE)
    }

    /// One read of up to one [`SLICE`].
    pub fn fill(&mut self) -> Fill {
        let mut chunk = [0u8; 16 * 1024];
        match self.stream.read(&mut chunk) {
            Ok(0) => Fill::Eof,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Fill::Data
            }
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) =>
            {
                Fill::Quiet
            }
            Err(_) => Fill::Eof,
        }
    }

    /// Reads until `need` says how many bytes make a whole unit, or fails: `Dropped` if
    /// the connection ended before anything came (`started`: before this call), `Cut` if it
    /// ended part-way.
    fn fill_until(
        &mut self,
        deadline: Instant,
        started: bool,
        need: impl Fn(&[u8]) -> Option<usize>,
    ) -> Result<usize, Failure> {
        loop {
            if let Some(n) = need(&self.buf) {
                return Ok(n);
            }
            match self.fill() {
                Fill::Data => {}
                Fill::Eof if self.buf.is_empty() && !started => return Err(Failure::Dropped),
                Fill::Eof => return Err(Failure::Cut),
                Fill::Quiet if Instant::now() > deadline => return Err(Failure::TimedOut),
                Fill::Quiet => {}
            }
        }
    }

    /// A response head: its status and its text; the body stays in `buf`.
    pub fn read_head(&mut self, deadline: Instant) -> Result<(u16, String), Failure> {
        let len = self.fill_until(deadline, false, |b| find(b, b"\r\n\r\n").map(|i| i + 4))?;
        let head = String::from_utf8_lossy(&self.buf[..len]).into_owned();
        self.buf.drain(..len);
        let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        Ok((status, head))
    }

    /// A whole `Content-Length` response: status and body. Fewer bytes than announced and
    /// then EOF is a cut, never an answer.
    pub fn read_response(&mut self, deadline: Instant) -> Result<(u16, Vec<u8>), Failure> {
        let (status, head) = self.read_head(deadline)?;
        let length = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string())
            })
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(0);
        self.fill_until(deadline, true, |b| (b.len() >= length).then_some(length))?;
        Ok((status, self.buf.drain(..length).collect()))
    }
}

/// One whole chunk at the start of `buf` (RFC 9112 §7.1): its data and the bytes it took.
/// `None` until it is all there (the last chunk, `0`, ends the stream: `None` as well).
pub fn next_chunk(buf: &[u8]) -> Option<(Vec<u8>, usize)> {
    let eol = find(buf, b"\r\n")?;
    let size = usize::from_str_radix(std::str::from_utf8(&buf[..eol]).ok()?.trim(), 16).ok()?;
    let start = eol + 2;
    if size == 0 || buf.len() < start + size + 2 {
        return None;
    }
    Some((buf[start..start + size].to_vec(), start + size + 2))
}

// RFC 6455 §5.2: opcodes.
pub const TEXT: u8 = 0x1;
pub const CLOSE: u8 = 0x8;
pub const PING: u8 = 0x9;
pub const PONG: u8 = 0xA;
const FIN: u8 = 0x80;
const MASK: u8 = 0x80;
const OPCODE: u8 = 0x0F;
const LENGTH: u8 = 0x7F;

/// The whole (unmasked) server frame at the start of `buf`: FIN, opcode, payload and the
/// bytes it took; `None` until it is all there.
pub fn next_frame(buf: &[u8]) -> Option<(bool, u8, Vec<u8>, usize)> {
    let (len, header): (usize, usize) = match *buf.get(1)? & LENGTH {
        126 => (u16::from_be_bytes(buf.get(2..4)?.try_into().ok()?) as usize, 4),
        127 => (u64::from_be_bytes(buf.get(2..10)?.try_into().ok()?) as usize, 10),
        n => (n as usize, 2),
    };
    let payload = buf.get(header..header.checked_add(len)?)?.to_vec();
    Some((buf[0] & FIN != 0, buf[0] & OPCODE, payload, header + len))
}

/// A client frame (RFC 6455 §5.3: masked with a fresh key), payload ≤ 125 bytes.
pub fn masked(opcode: u8, payload: &[u8], rng: &mut Rng) -> Vec<u8> {
    let key = (rng.next() as u32).to_be_bytes();
    let mut frame = vec![FIN | opcode, MASK | payload.len() as u8];
    frame.extend_from_slice(&key);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    frame
}
