//! `ws-echo`: C connections to `/echo`, each keeping `--inflight` messages of `--size` bytes
//! in flight for `--duration`: echoes per second, round-trip p50/p99/max, CPU per echo.
//!
//! The message is masked once and its bytes reused (see `ws.rs`); each echo is checked —
//! same opcode, same bytes — and answered by the next message in the same write as any
//! other reply, so a connection costs the load one `read` and one `write` per round trip.
use std::collections::VecDeque;
use std::io;
use std::time::{Duration, Instant};

use pushlab::wire::ws::frame::OpCode;

use super::args::Args;
use super::net::{Client, Fleet, Opening};
use super::report::{si, Meter, Progress, ResultLine};
use super::server_proc::Server;
use super::tally::Histogram;
use super::ws;

pub struct Shared {
    request: Vec<u8>,
    payload: Vec<u8>,
    frame: Vec<u8>,
    sending: bool,
    ready: usize,
    echoed: u64,
    wrong: u64,
    in_flight: u64,
    /// Messages in flight on a connection the server closed.
    unanswered: u64,
    latency: Histogram,
}

pub struct Echoer {
    stream: ws::WsStream,
    sent: VecDeque<Instant>,
}

impl Client for Echoer {
    type Shared = Shared;

    fn greeting(&mut self, out: &mut Vec<u8>, shared: &mut Shared) {
        out.extend_from_slice(&shared.request);
    }

    fn input(
        &mut self,
        data: &[u8],
        now: Instant,
        out: &mut Vec<u8>,
        shared: &mut Shared,
    ) -> Result<usize, String> {
        let sent = &mut self.sent;
        let mut answered = 0;
        let used = self.stream.input(data, out, |item| match item {
            ws::Item::Open => shared.ready += 1,
            ws::Item::Message { opcode, payload } => {
                if opcode != OpCode::Text || payload != shared.payload {
                    shared.wrong += 1;
                }
                if let Some(at) = sent.pop_front() {
                    shared.latency.record(now.saturating_duration_since(at).as_nanos() as u64);
                    shared.echoed += 1;
                    shared.in_flight -= 1;
                    answered += 1;
                }
            }
            ws::Item::Closed => {}
        })?;
        // Each echo is answered by the next message, all in the one write that follows.
        if shared.sending {
            for _ in 0..answered {
                out.extend_from_slice(&shared.frame);
                sent.push_back(now);
            }
            shared.in_flight += answered;
        }
        Ok(used)
    }

    fn closed(&mut self, shared: &mut Shared) {
        shared.in_flight -= self.sent.len() as u64;
        shared.unanswered += self.sent.len() as u64;
        self.sent.clear();
    }
}

pub fn run(a: &Args, server: &Server, r: &mut ResultLine) -> Result<bool, String> {
    let io = |e: io::Error| e.to_string();
    let mut request = Vec::new();
    ws::handshake_request(&mut request, &a.addr.to_string(), "/echo");
    let payload: Vec<u8> = (0..a.size).map(|i| b'a' + (i % 26) as u8).collect();
    let mut frame = Vec::new();
    ws::masked(&mut frame, OpCode::Text, &payload);
    let mut shared = Shared {
        request,
        payload,
        frame,
        sending: false,
        ready: 0,
        echoed: 0,
        wrong: 0,
        in_flight: 0,
        unanswered: 0,
        latency: Histogram::new(),
    };
    let mut fleet: Fleet<Echoer> = Fleet::new(a.addr, a.source_addrs()).map_err(io)?;
    let mut progress = Progress::new("ws-echo", a.quiet);
    let make = |_| Echoer { stream: ws::WsStream::default(), sent: VecDeque::with_capacity(a.inflight) };
    let opening = Opening { target: a.conns, window: a.connect_window, timeout: a.timeout };
    fleet.open_until_ready(
        opening,
        &mut shared,
        make,
        |s| s.ready,
        |_, s| progress.tick(|| format!("opening: {} of {} connections", s.ready, a.conns)),
    )?;

    let meter = Meter::start(server);
    let start = Instant::now();
    shared.sending = true;
    let burst = shared.frame.repeat(a.inflight);
    for i in 0..fleet.slots.len() {
        let slot = &mut fleet.slots[i];
        slot.client.sent.extend(std::iter::repeat_n(start, a.inflight));
        shared.in_flight += a.inflight as u64;
        slot.conn.send(&burst).map_err(io)?;
    }
    let stop_at = start + a.duration;
    let give_up = stop_at + a.timeout;
    while (shared.sending || shared.in_flight > 0) && Instant::now() < give_up {
        if shared.sending && Instant::now() >= stop_at {
            shared.sending = false; // the last round trips finish; no new ones start
        }
        fleet.turn(Duration::from_millis(10), &mut shared).map_err(io)?;
        if fleet.closed == a.conns {
            break;
        }
        let secs = start.elapsed().as_secs_f64();
        progress.tick(|| {
            format!(
                "{} echoes ({}/s), p99 so far {:.0} µs",
                shared.echoed,
                si(shared.echoed as f64 / secs),
                shared.latency.percentile(0.99) as f64 / 1e3
            )
        });
    }
    let costs = meter.stop();
    progress.done();
    r.put("conns", a.conns).put("size", a.size).put("inflight", a.inflight);
    costs.put(r, "echo", shared.echoed, costs.elapsed);
    r.latencies(&shared.latency)
        .put("wrong", shared.wrong)
        .put("unanswered", shared.in_flight + shared.unanswered)
        .put("closed", fleet.closed);
    if let Some(e) = &fleet.first_error {
        eprintln!("ws-echo: {e}");
    }
    Ok(shared.wrong == 0
        && shared.in_flight + shared.unanswered == 0
        && fleet.closed == 0
        && shared.echoed > 0)
}
