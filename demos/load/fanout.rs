//! `sse-fanout` and `ws-fanout`: N subscribers on one topic, M messages published; every
//! subscriber must get every message exactly once.
//!
//! 1. The subscribers open (`--connect-window` at a time) until every one is live: its
//!    `/sse` answered `200`, or its `/ws` answered `101`.
//! 2. One publisher writes the M `POST /publish` requests — all at once (pipelined, at most
//!    `publisher::WINDOW` unanswered), or `--rate` per second — noting when each went out.
//! 3. Every delivery is looked up by its run number: its latency (publish written → frame or
//!    event read), and its bit in that subscriber's ledger (lost, duplicated, out of order).
//!
//! The phase ends when every subscriber has all M, or after `--timeout`. Deliveries per
//! second are over the window first publish → last delivery; CPU over the same phase.
//! `--warmup W` messages go first, unmeasured (but accounted: lost and duplicated count
//! them too), so that the figures are a warm server's, not its first allocations'.
use std::io;
use std::time::{Duration, Instant};

use pushlab::wire::ws::frame::OpCode;

use super::args::{Args, Scenario};
use super::message::{from_payload, seq_of};
use super::net::{Client, Fleet, Opening};
use super::publisher::due_count;
use super::publisher::{due, Publisher};
use super::report::{si, Delivered, Meter, Progress, ResultLine};
use super::server_proc::Server;
use super::tally::{Account, Histogram, IdCheck, Ledger};
use super::{sse, ws};

pub struct Shared {
    request: Vec<u8>,
    expected: u64,
    sent_at: Vec<Option<Instant>>,
    latency: Histogram,
    ids: IdCheck,
    ready: usize,
    /// First receipts of this run's messages, and subscribers that have all of them.
    deliveries: u64,
    complete: usize,
    last_delivery: Option<Instant>,
    /// Deliveries that carried no run number of ours.
    unreadable: u64,
}

enum Feed {
    Sse(sse::SseStream),
    Ws(ws::WsStream),
}

pub struct Sub {
    feed: Feed,
    ledger: Ledger,
}

impl Shared {
    fn deliver(&mut self, ledger: &mut Ledger, id: Option<u64>, seq: Option<u64>, now: Instant) {
        let Some(seq) = seq else {
            self.unreadable += 1;
            return;
        };
        if let Some(id) = id {
            self.ids.record(id, seq);
        }
        if ledger.record(seq) {
            self.deliveries += 1;
            self.last_delivery = Some(now);
            if let Some(Some(sent)) = self.sent_at.get(seq as usize) {
                self.latency.record(now.saturating_duration_since(*sent).as_nanos() as u64);
            }
            if ledger.unique == self.expected {
                self.complete += 1;
            }
        }
    }
}

impl Client for Sub {
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
        let ledger = &mut self.ledger;
        match &mut self.feed {
            Feed::Sse(stream) => stream.input(data, |item| match item {
                sse::Item::Head(_) => shared.ready += 1,
                sse::Item::Event { id, data } => {
                    let id = id.and_then(|i| std::str::from_utf8(i).ok()?.parse().ok());
                    shared.deliver(ledger, id, seq_of(data), now)
                }
            }),
            Feed::Ws(stream) => stream.input(data, out, |item| match item {
                ws::Item::Open => shared.ready += 1,
                ws::Item::Message { opcode: OpCode::Text, payload } => {
                    let (id, seq) = from_payload(payload);
                    shared.deliver(ledger, id, seq, now)
                }
                ws::Item::Message { .. } | ws::Item::Closed => {}
            }),
        }
    }
}

/// Publishes messages `seqs` (paced from the phase's start) and waits until every subscriber
/// has every message so far, or `--timeout`; returns when the phase started.
fn phase(
    fleet: &mut Fleet<Sub>,
    publisher: &mut Publisher,
    shared: &mut Shared,
    a: &Args,
    seqs: std::ops::Range<u64>,
    progress: &mut Progress,
) -> io::Result<Instant> {
    shared.expected = seqs.end;
    shared.complete = fleet.slots.iter().filter(|s| s.client.ledger.unique >= seqs.end).count();
    let (m, expected) = (seqs.end - seqs.start, (seqs.end - seqs.start) * a.conns as u64);
    let start = Instant::now();
    let deadline = start + a.timeout;
    // A subscriber the server closed will never complete: it is counted in `lost`.
    while (shared.complete + fleet.closed < a.conns || publisher.sent < seqs.end) && Instant::now() < deadline
    {
        let due_now = seqs.start + due_count(start, a.rate, m);
        let n = due_now.saturating_sub(publisher.sent).min(publisher.room());
        if n > 0 {
            publisher.publish(n, &mut shared.sent_at)?;
        }
        let wait = if publisher.sent < seqs.end && a.rate > 0.0 {
            due(start, publisher.sent - seqs.start, a.rate)
                .saturating_duration_since(Instant::now())
                .min(Duration::from_millis(10))
        } else {
            Duration::from_millis(10)
        };
        if fleet.turn(wait, shared)? {
            publisher.pump(fleet.scratch())?;
        }
        let secs = start.elapsed().as_secs_f64();
        progress.tick(|| {
            format!(
                "published {}/{m}, delivered {}/{expected} ({}/s), {} of {} subscribers complete",
                publisher.sent - seqs.start,
                shared.deliveries,
                si(shared.deliveries as f64 / secs.max(1e-9)),
                shared.complete,
                a.conns
            )
        });
    }
    Ok(start)
}

pub fn run(a: &Args, server: &Server, topic: &str, r: &mut ResultLine) -> Result<bool, String> {
    let io = |e: io::Error| e.to_string();
    let host = a.addr.to_string();
    let mut request = Vec::new();
    let wsocket = a.scenario == Scenario::WsFanout;
    if wsocket {
        let offer = if a.deflate { "permessage-deflate; client_max_window_bits" } else { "" };
        ws::handshake_offering(&mut request, &host, &format!("/ws?topic={topic}"), offer);
    } else {
        sse::request(&mut request, &host, &format!("/sse?topic={topic}"));
    }
    let m = a.messages;
    let total = a.warmup + m;
    let mut shared = Shared {
        request,
        expected: total,
        sent_at: vec![None; total as usize],
        latency: Histogram::new(),
        ids: IdCheck::default(),
        ready: 0,
        deliveries: 0,
        complete: 0,
        last_delivery: None,
        unreadable: 0,
    };
    let sources = a.source_addrs();
    let mut fleet: Fleet<Sub> = Fleet::new(a.addr, sources.clone()).map_err(io)?;
    let mut progress = Progress::new(a.scenario.name(), a.quiet);
    let make = |_| Sub {
        feed: match (wsocket, a.deflate) {
            (true, true) => Feed::Ws(ws::WsStream::deflating()),
            (true, false) => Feed::Ws(ws::WsStream::default()),
            _ => Feed::Sse(sse::SseStream::default()),
        },
        ledger: Ledger::new(total),
    };
    let opening = Opening { target: a.conns, window: a.connect_window, timeout: a.timeout };
    fleet.open_until_ready(
        opening,
        &mut shared,
        make,
        |s| s.ready,
        |f, s| {
            progress.tick(|| {
                format!(
                    "opening: {} of {} subscribers live ({} connecting)",
                    s.ready,
                    a.conns,
                    f.slots.len() - s.ready
                )
            })
        },
    )?;

    let mut publisher = Publisher::connect(&fleet, sources[0], a.addr, topic, a.size).map_err(io)?;
    publisher.wait_connected(&mut fleet, &mut shared, a.timeout).map_err(io)?;
    // A moment for every subscription to settle on servers that subscribe after answering.
    let settle = Instant::now() + Duration::from_millis(100);
    while Instant::now() < settle {
        fleet.turn(Duration::from_millis(10), &mut shared).map_err(io)?;
    }

    let warmup = a.warmup;
    if warmup > 0 {
        let mut quiet = Progress::new(a.scenario.name(), true);
        phase(&mut fleet, &mut publisher, &mut shared, a, 0..warmup, &mut quiet).map_err(io)?;
        shared.deliveries = 0;
        shared.latency = Histogram::new();
        shared.last_delivery = None;
    }
    let expected = a.conns as u64 * m;
    let meter = Meter::start(server);
    let start =
        phase(&mut fleet, &mut publisher, &mut shared, a, warmup..warmup + m, &mut progress).map_err(io)?;
    let costs = meter.stop();
    progress.done();
    // The replies to the last publishes, for the count of refusals.
    let replies_by = Instant::now() + Duration::from_secs(2);
    while publisher.answered() < publisher.sent && Instant::now() < replies_by {
        if fleet.turn(Duration::from_millis(10), &mut shared).map_err(io)? {
            publisher.pump(fleet.scratch()).map_err(io)?;
        }
    }

    let mut account = Account::default();
    for slot in &fleet.slots {
        account.add(&slot.client.ledger, publisher.sent);
    }
    let window = shared.last_delivery.map_or(Duration::ZERO, |t| t.saturating_duration_since(start));
    r.put("subs", a.conns).put("messages", m).put("warmup", warmup).put("size", a.size).put("rate", a.rate);
    costs.put(r, "delivery", shared.deliveries, window);
    r.put("expected", expected);
    let delivered = Delivered {
        latency: &shared.latency,
        account,
        unreadable: shared.unreadable,
        ids: shared.ids,
        publisher: &publisher,
        closed: fleet.closed,
        first_error: fleet.first_error.as_ref(),
    };
    Ok(delivered.put(a.scenario.name(), r))
}
