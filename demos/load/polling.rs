//! `long-poll` and `short-poll`: N clients on keep-alive connections, each asking again
//! with its cursor (`since=`, the `next` of its last reply, SPEC §4–5) as soon as it has an
//! answer, while one publisher writes `--rate` messages per second for `--duration`.
//!
//! - **long-poll**: one `GET /long-poll` at a time per client; the server holds it until
//!   there is news. A delivery is one message in a reply; the reply count beside it shows
//!   how many messages each reply carried.
//! - **short-poll**: `--pipeline` `GET /poll` requests per write, all with the same cursor,
//!   the next batch when all are answered. The unit is the reply (most are empty: that is
//!   short polling's cost); messages are still accounted when `--rate` is set. Pipelined
//!   polls with one cursor see the same messages more than once — by design — so a reply's
//!   messages at or below the client's newest id are not counted again.
//!
//! Each client starts at `since=0` on a fresh topic, so it must see every message published:
//! the ledger checks that from the run numbers, and the ids against them.
use std::io;
use std::time::{Duration, Instant};

use pushlab::wire::Status;

use super::args::{Args, Scenario};
use super::http::{get_request, parse_response};
use super::message::{for_each_message, last_u64, seq_of};
use super::net::{Client, Fleet, Opening};
use super::publisher::{due_count, Publisher};
use super::report::{si, Delivered, Meter, Progress, ResultLine};
use super::server_proc::Server;
use super::tally::{Account, Histogram, IdCheck, Ledger};

pub struct Shared {
    host: String,
    topic: String,
    long: bool,
    pipeline: usize,
    /// Publishing is over: a client asks again only while it lacks some of the `published`.
    stopped: bool,
    published: u64,
    sent_at: Vec<Option<Instant>>,
    latency: Histogram,
    ids: IdCheck,
    connected: usize,
    requests: u64,
    replies: u64,
    deliveries: u64,
    first_reply: Option<Instant>,
    last_delivery: Option<Instant>,
    unreadable: u64,
}

pub struct Poller {
    cursor: u64,
    /// The newest server id seen (pipelined short polls: replies overlap).
    newest: u64,
    outstanding: usize,
    ledger: Ledger,
    dechunked: Vec<u8>,
}

impl Shared {
    fn request(&mut self, out: &mut Vec<u8>, cursor: u64) {
        let path = if self.long { "long-poll" } else { "poll" };
        get_request(out, &self.host, &format!("/{path}?topic={}&since={cursor}", self.topic));
        self.requests += 1;
    }
}

impl Poller {
    fn ask(&mut self, out: &mut Vec<u8>, shared: &mut Shared) {
        for _ in 0..shared.pipeline {
            shared.request(out, self.cursor);
        }
        self.outstanding = shared.pipeline;
    }
}

impl Client for Poller {
    type Shared = Shared;

    fn greeting(&mut self, out: &mut Vec<u8>, shared: &mut Shared) {
        shared.connected += 1;
        self.ask(out, shared);
    }

    fn input(
        &mut self,
        data: &[u8],
        now: Instant,
        out: &mut Vec<u8>,
        shared: &mut Shared,
    ) -> Result<usize, String> {
        let mut at = 0;
        while let Status::Complete((head, body, used)) = parse_response(&data[at..], &mut self.dechunked)? {
            at += used;
            if head.status != 200 {
                return Err(format!("a poll answered {}: {}", head.status, String::from_utf8_lossy(body)));
            }
            shared.replies += 1;
            shared.first_reply.get_or_insert(now);
            let (ledger, newest, filter) = (&mut self.ledger, &mut self.newest, shared.pipeline > 1);
            let mut newest_here = *newest;
            let mut unreadable = 0;
            for_each_message(body, |m| {
                let (Some(id), Some(seq)) = (m.id, m.data.and_then(seq_of)) else {
                    unreadable += 1;
                    return;
                };
                if filter && id <= *newest {
                    return; // a pipelined twin already brought it
                }
                newest_here = newest_here.max(id);
                shared.ids.record(id, seq);
                if ledger.record(seq) {
                    shared.deliveries += 1;
                    shared.last_delivery = Some(now);
                    if let Some(Some(sent)) = shared.sent_at.get(seq as usize) {
                        shared.latency.record(now.saturating_duration_since(*sent).as_nanos() as u64);
                    }
                }
            })?;
            *newest = newest_here;
            shared.unreadable += unreadable;
            let next = last_u64(body, "next").ok_or("a poll reply without \"next\"")?;
            self.cursor = self.cursor.max(next);
            self.outstanding -= 1;
            if self.outstanding == 0 && (!shared.stopped || self.ledger.unique < shared.published) {
                self.ask(out, shared);
            }
        }
        Ok(at)
    }
}

pub fn run(a: &Args, server: &Server, topic: &str, r: &mut ResultLine) -> Result<bool, String> {
    let io = |e: io::Error| e.to_string();
    let long = a.scenario == Scenario::LongPoll;
    let total = (a.rate * a.duration.as_secs_f64()).ceil() as u64;
    let mut shared = Shared {
        host: a.addr.to_string(),
        topic: topic.to_string(),
        long,
        pipeline: if long { 1 } else { a.pipeline },
        stopped: false,
        published: 0,
        sent_at: vec![None; total as usize],
        latency: Histogram::new(),
        ids: IdCheck::default(),
        connected: 0,
        requests: 0,
        replies: 0,
        deliveries: 0,
        first_reply: None,
        last_delivery: None,
        unreadable: 0,
    };
    let sources = a.source_addrs();
    let mut fleet: Fleet<Poller> = Fleet::new(a.addr, sources.clone()).map_err(io)?;
    let mut progress = Progress::new(a.scenario.name(), a.quiet);
    let make = |_| Poller {
        cursor: 0,
        newest: 0,
        outstanding: 0,
        ledger: Ledger::new(total),
        dechunked: Vec::new(),
    };
    let opening = Opening { target: a.conns, window: a.connect_window, timeout: a.timeout };
    // Ready when connected and asking: a held long-poll has no other sign of life.
    fleet.open_until_ready(
        opening,
        &mut shared,
        make,
        |s| s.connected,
        |_, s| progress.tick(|| format!("opening: {} of {} clients", s.connected, a.conns)),
    )?;
    let mut publisher = Publisher::connect(&fleet, sources[0], a.addr, topic, a.size).map_err(io)?;
    publisher.wait_connected(&mut fleet, &mut shared, a.timeout).map_err(io)?;
    // Let the first requests reach the server (and, for long polls, be held).
    let settle = Instant::now() + Duration::from_millis(200);
    while Instant::now() < settle {
        fleet.turn(Duration::from_millis(10), &mut shared).map_err(io)?;
    }

    let (replies0, requests0) = (shared.replies, shared.requests);
    let meter = Meter::start(server);
    let start = Instant::now();
    let stop_at = start + a.duration;
    let mut caught_up = false;
    let give_up = stop_at + a.timeout;
    loop {
        let now = Instant::now();
        if now >= stop_at {
            shared.stopped = true;
            shared.published = publisher.sent;
            // Done when the publishes are answered and every client has every message.
            if publisher.answered() >= publisher.sent {
                let sent = publisher.sent;
                caught_up = fleet.slots.iter().all(|s| s.conn.closed || s.client.ledger.unique >= sent);
            }
            if caught_up || now >= give_up {
                break;
            }
        } else {
            let n = due_count(start, a.rate, total).saturating_sub(publisher.sent).min(publisher.room());
            if n > 0 {
                publisher.publish(n, &mut shared.sent_at).map_err(io)?;
            }
        }
        if fleet.turn(Duration::from_millis(5), &mut shared).map_err(io)? {
            publisher.pump(fleet.scratch()).map_err(io)?;
        }
        let secs = start.elapsed().as_secs_f64();
        progress.tick(|| {
            format!(
                "published {}, {} replies ({}/s), {} deliveries ({}/s)",
                publisher.sent,
                shared.replies - replies0,
                si((shared.replies - replies0) as f64 / secs),
                shared.deliveries,
                si(shared.deliveries as f64 / secs)
            )
        });
    }
    let costs = meter.stop();
    progress.done();

    let mut account = Account::default();
    for slot in &fleet.slots {
        account.add(&slot.client.ledger, publisher.sent);
    }
    let replies = shared.replies - replies0;
    r.put("clients", a.conns).put("rate", a.rate).put("size", a.size);
    if long {
        // Deliveries over first publish → last delivery; the tail of held polls is idle time.
        let window = shared.last_delivery.map_or(costs.elapsed, |t| t.saturating_duration_since(start));
        costs.put(r, "delivery", shared.deliveries, window);
        r.put("replies", replies).float(
            "messages_per_reply",
            shared.deliveries as f64 / replies.max(1) as f64,
            2,
        );
    } else {
        costs.put(r, "reply", replies, costs.elapsed);
        r.put("pipeline", a.pipeline).put("messages_delivered", shared.deliveries);
    }
    r.put("requests", shared.requests - requests0).put("published", publisher.sent);
    let delivered = Delivered {
        latency: &shared.latency,
        account,
        unreadable: shared.unreadable,
        ids: shared.ids,
        publisher: &publisher,
        closed: fleet.closed,
        first_error: fleet.first_error.as_ref(),
    };
    Ok(delivered.put(a.scenario.name(), r) && replies > 0)
}
