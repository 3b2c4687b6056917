//! The stateful target: a little server loop around pushlab's sans-IO machines, driven by a
//! sequence of operations decoded from the input, with the invariants checked as it goes and
//! on everything each client received at the end.
//!
//! The loop does what `src/server/` does, minus the sockets: streams are opened by real
//! requests through `Pushlab::call` (so cursors, `since` and the hold-or-answer choice are
//! the application's), `/ws` messages go to `Pushlab::on_ws_message` (text is published to
//! the hub, binary is refused with 1003), published messages are fanned out from
//! `Hub::take_fresh` to the subscribers, replays are fed by budget, deadlines fire, and each
//! `Next` is carried out as `server/settle.rs::act` does. A client's bytes are whatever the
//! operations let it read from its `OutQueue`.
//!
//! Invariants:
//! - no panic;
//! - WebSocket output is legal server frames, nothing after a Close (`server_frames.rs`); a
//!   refused binary message ends the output with 1003 and the application sees nothing after
//!   it; `/echo` sends back exactly the messages the application saw; `/ws` sends none back;
//! - ids strictly increase on every stream (SSE `id:` fields, `/ws` JSON ids, long-poll
//!   answers), each carries the data and topic it was published with, and an id is skipped
//!   only if it had left the replay ring when the replay got there;
//! - at the end, after one more turn, every live stream has delivered up to the topic's last
//!   id, and no held long-poll has news it was not answered with;
//! - bounded output: a replay batch ends within one message of its budget and adds nothing
//!   once the budget is reached; a push adds one message; a deadline adds at most one ping or
//!   comment; what WebSocket input makes us write is bounded by that input;
//! - deadlines are exact: `on_deadline` before `deadline()` does nothing, and a due deadline
//!   either ends the connection or moves past now (no timer that fires forever).
//!
//! This file decodes the operations and checks each client's bytes at the end;
//! `connection_loop.rs` is the server loop, `connection_wire.rs` reads the bytes back.
//!
//! Input: three setup bytes — the replay ring (1–16), the heartbeat (1–15 s), `/echo`'s
//! largest message (1–2041 bytes) — then operations, one byte each plus their arguments; see
//! [`Op`]. A missing argument reads as 0.

#[path = "connection_loop.rs"]
mod server_loop;
#[path = "connection_wire.rs"]
mod wire;

use std::time::{Duration, Instant};

use pushlab::app::Pushlab;
use pushlab::config::Config;
use pushlab::hub::{Hub, Subscriber};
use pushlab::limits::REPLAY_BATCH;
use pushlab::outq::OutQueue;
use pushlab::service::{Endpoint, Reply};
use pushlab::stats::Stats;
use pushlab::transport::long_poll::HeldPoll;
use pushlab::transport::sse::SseStream;
use pushlab::transport::ws_session::WsSession;
use pushlab::transport::Next;
use pushlab::wire::request::Version;
use pushlab::wire::ws::frame::{write_masked_frame, OpCode};

use server_loop::{
    act, call, deadline, deliver, on_deadline, replay, response_bytes, settle, turn, ws_input,
};
use wire::{Published, Seen};

const TOPICS: [&str; 2] = ["t", "u"];
const MAX_STREAMS: usize = 6;
/// RFC 6455 §5.7's example masking key.
const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
/// What published messages are made of: line breaks of every kind, JSON's escapes, a colon
/// that SSE must not mistake for a field, multi-byte characters, NUL.
const PIECES: [&str; 16] =
    ["a", "b", "7", "\n", "\r", "\r\n", ":", " ", "é", "\"", "\\", "\0", "😀", "id: 1", "data:", "\t"];
/// The most a deadline writes: `e\r\n: keep-alive\n\n\r\n` (a ping is 2 + 7 bytes).
const MAX_DEADLINE_OUTPUT: usize = 19;
const OPCODES: [OpCode; 6] =
    [OpCode::Text, OpCode::Binary, OpCode::Continuation, OpCode::Close, OpCode::Ping, OpCode::Pong];

/// The operations, by the value of their byte modulo 12.
#[derive(Clone, Copy, Debug)]
enum Op {
    /// `kind topic-and-since-mode since limit timeout`: a request that opens a stream.
    Open,
    /// `stream spec len payload… cut`: one masked frame, its bytes cut in two reads.
    Frame,
    /// `stream len bytes…`: raw bytes from the peer.
    Raw,
    /// `stream`: the peer's FIN.
    Eof,
    /// `topic len pieces…`: a message published (as `POST /publish` would).
    Publish,
    /// Fan out what was published to the subscribers.
    Deliver,
    /// `stream budget`: one replay batch with the given budget.
    Replay,
    /// `stream`: what `settle` does: flush, replay while the output has room.
    Settle,
    /// `stream n`: the client reads up to `8 n` bytes (0: everything).
    Read,
    /// `dt`: time passes; due deadlines fire.
    Time,
    /// `stream`: the stream's deadline handler called now, due or not.
    Deadline,
    /// The end of a loop turn: deliver, then settle every stream.
    Turn,
}

struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        let (&b, rest) = self.0.split_first().unwrap_or((&0, &[]));
        self.0 = rest;
        b
    }

    fn take(&mut self, n: usize) -> &[u8] {
        let (bytes, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        bytes
    }
}

enum Machine {
    /// Boxed, as `server/conn.rs` has it: a session is five times a stream.
    Ws {
        session: Box<WsSession>,
        echo: bool,
    },
    Sse(SseStream),
    Poll(HeldPoll),
}

struct Stream {
    machine: Machine,
    topic: &'static str,
    sub: Subscriber,
    /// The cursor the stream started after.
    cursor: u64,
    /// SSE on HTTP/1.1: each piece is a chunk.
    chunked: bool,
    out: OutQueue,
    /// Everything the client read.
    wire: Vec<u8>,
    /// At each replay call: how many bytes had been queued before it, and the oldest id the
    /// ring still held.
    floors: Vec<(usize, u64)>,
    /// The messages the application was handed, and whether it refused one.
    seen: Vec<Seen>,
    refused: bool,
    /// WebSocket input so far, and what it made us write.
    input: usize,
    answered_input: usize,
    /// `Next::Close`: the connection lingers; nothing more is pushed or fed to it.
    closing: bool,
}

impl Stream {
    fn queued(&self) -> usize {
        self.wire.len() + self.out.len()
    }

    fn read_all(&mut self) {
        self.out.flush_to(&mut self.wire).expect("a Vec takes everything");
        assert!(self.out.is_empty());
    }

    fn is_replaying(&self) -> bool {
        match &self.machine {
            Machine::Ws { session, .. } => session.is_replaying(),
            Machine::Sse(stream) => stream.is_replaying(),
            Machine::Poll(_) => false,
        }
    }
}

struct World {
    hub: Hub,
    ring: usize,
    service: Pushlab,
    config: Config,
    stats: Stats,
    start: Instant,
    now: Instant,
    published: Published,
    streams: Vec<Stream>,
    /// Streams that ended (dropped or answered), kept for the final check.
    ended: Vec<Stream>,
    subscribers: u64,
}

impl World {
    fn now_ms(&self) -> u64 {
        1_700_000_000_000 + (self.now - self.start).as_millis() as u64
    }

    fn heartbeat(&self) -> Duration {
        self.config.heartbeat
    }

    /// The oldest id the ring of `topic` holds now (the next id when it holds none).
    fn floor(&self, topic: &str) -> u64 {
        (self.hub.last_id(topic) + 1).saturating_sub(self.ring as u64).max(1)
    }
}

pub fn check(data: &[u8]) {
    let mut input = Input(data);
    let (ring, beat, echo) = (input.byte(), input.byte(), input.byte());
    let ring = 1 + usize::from(ring) % 16;
    let config = Config {
        replay: ring,
        heartbeat: Duration::from_secs(1 + u64::from(beat) % 15),
        max_message: 1 + usize::from(echo) * 8,
        ..Config::default()
    };
    let start = Instant::now();
    let mut world = World {
        hub: Hub::new(ring),
        ring,
        service: Pushlab::new(),
        config,
        stats: Stats::new(start),
        start,
        now: start,
        published: Published::default(),
        streams: Vec::new(),
        ended: Vec::new(),
        subscribers: 0,
    };
    use Op::*;
    const OPS: [Op; 12] =
        [Open, Frame, Raw, Eof, Publish, Deliver, Replay, Settle, Read, Time, Deadline, Turn];
    while !input.0.is_empty() {
        let op = OPS[usize::from(input.byte()) % OPS.len()];
        run(&mut world, op, &mut input);
    }
    finish(world);
}

fn run(world: &mut World, op: Op, input: &mut Input<'_>) {
    let pick = |world: &World, b: u8| {
        let open: Vec<usize> = (0..world.streams.len()).filter(|&i| !world.streams[i].closing).collect();
        (!open.is_empty()).then(|| open[usize::from(b) % open.len()])
    };
    match op {
        Op::Open => open(world, input),
        Op::Frame => {
            let (at, spec, len) = (input.byte(), input.byte(), input.byte());
            let payload = input.take(usize::from(len) % 64).to_vec();
            let cut = input.byte();
            let opcode = OPCODES[usize::from(spec & 0x0f) % OPCODES.len()];
            let mut frame = Vec::new();
            write_masked_frame(&mut frame, spec & 0x80 == 0, opcode, &payload, KEY);
            let cut = usize::from(cut) % (frame.len() + 1);
            if let Some(i) = pick(world, at) {
                ws_input(world, i, &frame[..cut]);
                if !world.streams.get(i).is_some_and(|s| s.closing) {
                    ws_input(world, i, &frame[cut..]);
                }
            }
        }
        Op::Raw => {
            let (at, len) = (input.byte(), input.byte());
            let bytes = input.take(usize::from(len)).to_vec();
            if let Some(i) = pick(world, at) {
                ws_input(world, i, &bytes);
            }
        }
        Op::Eof => {
            if let Some(i) = pick(world, input.byte()) {
                let next = match &mut world.streams[i].machine {
                    Machine::Ws { session, .. } => session.on_eof(),
                    Machine::Sse(stream) => stream.on_eof(),
                    Machine::Poll(held) => held.on_eof(),
                };
                assert_eq!(next, Next::Drop, "SPEC §8: a peer that hangs up is dropped");
                act(world, i, next);
            }
        }
        Op::Publish => {
            let (topic, len) = (TOPICS[usize::from(input.byte() & 1)], input.byte());
            let data: String =
                input.take(usize::from(len) % 16).iter().map(|&b| PIECES[usize::from(b) % 16]).collect();
            let now_ms = world.now_ms();
            let message = world.hub.publish(topic, &data, now_ms);
            world.published.record(topic, message.id, &data, now_ms);
        }
        Op::Deliver => deliver(world),
        Op::Replay => {
            let (at, budget) = (input.byte(), input.byte());
            if let Some(i) = pick(world, at) {
                let budget = match budget % 4 {
                    0 => usize::from(budget / 4),
                    1 => world.streams[i].out.len() + 1,
                    2 => REPLAY_BATCH,
                    _ => usize::from(budget) * 32,
                };
                replay(world, i, budget);
            }
        }
        Op::Settle => {
            if let Some(i) = pick(world, input.byte()) {
                settle(world, i);
            }
        }
        Op::Read => {
            let (at, n) = (input.byte(), input.byte());
            if let Some(i) = pick(world, at) {
                let stream = &mut world.streams[i];
                if n == 0 {
                    stream.read_all();
                } else {
                    let mut reader = wire::Reader { got: &mut stream.wire, room: usize::from(n) * 8 };
                    stream.out.flush_to(&mut reader).expect("a full reader blocks, it does not fail");
                }
            }
        }
        Op::Time => {
            let dt = input.byte();
            let beat = world.heartbeat();
            world.now += match dt >> 6 {
                0 => Duration::from_millis(u64::from(dt) * 10),
                1 => Duration::from_secs(u64::from(dt & 63)),
                2 => beat,
                _ => 2 * beat + Duration::from_secs(5),
            };
            // The timers: every stream whose deadline has come, as `fire_timers` does.
            let mut i = 0;
            while i < world.streams.len() {
                let before = world.streams.len();
                if !world.streams[i].closing && deadline(world, i) <= world.now {
                    on_deadline(world, i);
                }
                if world.streams.len() == before {
                    i += 1;
                }
            }
        }
        Op::Deadline => {
            if let Some(i) = pick(world, input.byte()) {
                on_deadline(world, i);
            }
        }
        Op::Turn => turn(world),
    }
}

/// A request for a stream, as a client would send it; the reply opens the stream.
fn open(world: &mut World, input: &mut Input<'_>) {
    let (kind, mode, since, limit, timeout) =
        (input.byte(), input.byte(), input.byte(), input.byte(), input.byte());
    if world.streams.len() >= MAX_STREAMS {
        return;
    }
    let topic = TOPICS[usize::from(mode & 1)];
    // Bit 1: no cursor at all ("from now"); bit 2: SSE's cursor as Last-Event-ID (no
    // cursor for the others).
    let since = (mode & 2 == 0).then_some(since).filter(|_| mode & 4 == 0 || matches!(kind % 5, 2 | 3));
    let cursor = since.map(|s| format!("&since={s}")).filter(|_| mode & 4 == 0).unwrap_or_default();
    let last_event_id = since.filter(|_| mode & 4 != 0).map(|s| format!("Last-Event-ID: {s}\r\n"));
    let ws = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    let (request, version) = match kind % 5 {
        0 => (format!("GET /ws?topic={topic}{cursor} HTTP/1.1\r\n{ws}"), Version::Http11),
        1 => (format!("GET /echo HTTP/1.1\r\n{ws}"), Version::Http11),
        2 | 3 => {
            let v = if kind % 5 == 2 { Version::Http11 } else { Version::Http10 };
            let line = if v == Version::Http11 { "HTTP/1.1" } else { "HTTP/1.0" };
            let lei = last_event_id.unwrap_or_default();
            (format!("GET /sse?topic={topic}{cursor} {line}\r\n{lei}"), v)
        }
        _ => {
            let (limit, timeout) = (1 + limit % 8, timeout % 130);
            let query = format!("topic={topic}{cursor}&limit={limit}&timeout={timeout}");
            (format!("GET /long-poll?{query} HTTP/1.1\r\n"), Version::Http11)
        }
    };
    let request = format!("{request}Host: pushlab\r\n\r\n");
    let reply = call(world, request.as_bytes());
    world.subscribers += 1;
    let sub = Subscriber(world.subscribers);
    let (now, beat) = (world.now, world.heartbeat());
    let mut out = OutQueue::new();
    let (machine, cursor) = match reply {
        Reply::Sse { topic: t, cursor, .. } => {
            assert_eq!(&*t, topic);
            let chunked = version == Version::Http11;
            (Machine::Sse(SseStream::open(t, cursor, chunked, now, beat, &mut out)), cursor)
        }
        Reply::WebSocket { endpoint: Endpoint::Echo, max_message, .. } => {
            (Machine::Ws { session: Box::new(WsSession::echo(max_message, None, now)), echo: true }, 0)
        }
        Reply::WebSocket { endpoint: Endpoint::Topic { topic: t, cursor }, max_message, .. } => {
            assert_eq!(&*t, topic);
            (
                Machine::Ws {
                    session: Box::new(WsSession::topic(t, cursor, max_message, None, now)),
                    echo: false,
                },
                cursor,
            )
        }
        Reply::LongPoll(held) => {
            assert_eq!(&*held.topic, topic);
            assert!(world.hub.last_id(topic) <= held.cursor, "held although there is news");
            let cursor = held.cursor;
            (Machine::Poll(held), cursor)
        }
        Reply::Response(response) => {
            // A long-poll with news already: answered at once.
            let since = since.map(u64::from);
            let cursor = since.map_or(world.hub.last_id(topic), |s| s.min(world.hub.last_id(topic)));
            let limit = usize::from(1 + limit % 8);
            wire::check_poll_answer(
                &response_bytes(&response),
                topic,
                cursor,
                limit,
                world.floor(topic),
                world.hub.last_id(topic),
                &world.published,
            );
            return;
        }
    };
    let echo = matches!(machine, Machine::Ws { echo: true, .. });
    if !echo {
        world.hub.subscribe(topic, sub);
    }
    world.streams.push(Stream {
        machine,
        topic,
        sub,
        cursor,
        chunked: version == Version::Http11,
        out,
        wire: Vec::new(),
        floors: Vec::new(),
        seen: Vec::new(),
        refused: false,
        input: 0,
        answered_input: 0,
        closing: false,
    });
}

/// One more turn, everything read, then each client's bytes checked.
fn finish(mut world: World) {
    turn(&mut world);
    for i in 0..world.streams.len() {
        let stream = &world.streams[i];
        if let Machine::Poll(held) = &stream.machine {
            assert!(world.hub.last_id(stream.topic) <= held.cursor, "a held long-poll missed its news");
        }
    }
    let streams = std::mem::take(&mut world.streams);
    for mut stream in streams {
        stream.read_all();
        let live = !stream.closing
            && match &stream.machine {
                Machine::Ws { session, echo } => !echo && session.may_send(),
                Machine::Sse(_) => true,
                Machine::Poll(_) => false,
            };
        let through = live.then(|| world.hub.last_id(stream.topic));
        check_stream(&stream, through, &world.published);
    }
    for stream in &world.ended {
        check_stream(stream, None, &world.published);
    }
}

/// Everything one client received. `through`: the last id it must have by now.
fn check_stream(stream: &Stream, through: Option<u64>, published: &Published) {
    let ids = match &stream.machine {
        Machine::Ws { echo: true, .. } => {
            wire::check_echo(&stream.wire, &stream.seen, stream.refused);
            return;
        }
        Machine::Ws { echo: false, .. } => {
            wire::ws_ids(&stream.wire, stream.topic, published, stream.refused)
        }
        Machine::Sse(sse) => wire::sse_ids(&stream.wire, stream.chunked, &sse.topic, published),
        Machine::Poll(_) => return,
    };
    let mut prev = stream.cursor;
    for (at, id) in ids {
        assert!(id > prev, "id {id} after {prev}");
        if id > prev + 1 {
            // Ids prev+1 ..= id-1 were skipped: only if they had left the ring by the time
            // the replay got there.
            let floor = stream.floors.iter().rev().find(|(start, _)| *start <= at).map(|f| f.1);
            let floor = floor.expect("a message delivered before any replay");
            assert!(
                id - 1 < floor,
                "ids {}..={} skipped though the ring held them (oldest {floor})",
                prev + 1,
                id - 1
            );
        }
        prev = id;
    }
    if let Some(last) = through {
        assert_eq!(prev, last.max(stream.cursor), "a live stream behind its topic");
    }
}
