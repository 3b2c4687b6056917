//! `idle`: K connections of one `--kind`, held open and doing nothing, and what they cost
//! the server in resident memory. The figure is a difference — RSS with K open minus RSS
//! with K/2 open, over K/2 — so the server's fixed costs (its binary, its buffers pools,
//! its allocator's arenas) cancel out, and what is left is the marginal cost of one more.
//!
//! | kind | each connection | live when |
//! |---|---|---|
//! | `ws` | `/ws?topic=T`, pings answered | the `101` is read |
//! | `sse` | `/sse?topic=T` | the `200` head is read |
//! | `long-poll` | `/long-poll?topic=T&since=0` held (asked again if answered) | the request is written |
//! | `http` | a keep-alive connection after one `/poll` exchange | the reply is read |
//!
//! Nothing is published to T: the connections stay idle. Each reading is taken after
//! `--settle` (1 s) of quiet, for the server to finish what the openings started.
use std::io;
use std::time::{Duration, Instant};

use pushlab::wire::Status;

use super::args::{Args, Kind};
use super::http::{get_request, parse_response};
use super::net::{Client, Fleet, Opening};
use super::report::{Progress, ResultLine};
use super::server_proc::Server;
use super::{sse, ws};

pub struct Shared {
    request: Vec<u8>,
    kind: Kind,
    live: usize,
}

pub enum Idler {
    Ws(ws::WsStream),
    Sse(sse::SseStream),
    /// A poll exchange: the reply's de-chunking scratch.
    Http(Vec<u8>),
}

impl Client for Idler {
    type Shared = Shared;

    fn greeting(&mut self, out: &mut Vec<u8>, shared: &mut Shared) {
        out.extend_from_slice(&shared.request);
        if shared.kind == Kind::LongPoll {
            shared.live += 1;
        }
    }

    fn input(
        &mut self,
        data: &[u8],
        _: Instant,
        out: &mut Vec<u8>,
        shared: &mut Shared,
    ) -> Result<usize, String> {
        match self {
            Idler::Ws(stream) => stream.input(data, out, |item| {
                if item == ws::Item::Open {
                    shared.live += 1;
                }
            }),
            Idler::Sse(stream) => stream.input(data, |item| {
                if let sse::Item::Head(_) = item {
                    shared.live += 1;
                }
            }),
            Idler::Http(dechunked) => {
                let mut at = 0;
                while let Status::Complete((head, _, used)) = parse_response(&data[at..], dechunked)? {
                    at += used;
                    if head.status != 200 {
                        return Err(format!("answered {}", head.status));
                    }
                    if shared.kind == Kind::LongPoll {
                        out.extend_from_slice(&shared.request); // held again
                    } else {
                        shared.live += 1;
                    }
                }
                Ok(at)
            }
        }
    }
}

/// Turns the loop for `d`, answering pings and re-asking long polls.
fn quiet(fleet: &mut Fleet<Idler>, shared: &mut Shared, d: Duration) -> Result<(), String> {
    let until = Instant::now() + d;
    while Instant::now() < until {
        fleet.turn(Duration::from_millis(50), shared).map_err(|e: io::Error| e.to_string())?;
    }
    Ok(())
}

pub fn run(a: &Args, server: &Server, topic: &str, r: &mut ResultLine) -> Result<bool, String> {
    let host = a.addr.to_string();
    let mut request = Vec::new();
    match a.kind {
        Kind::Ws => ws::handshake_request(&mut request, &host, &format!("/ws?topic={topic}")),
        Kind::Sse => sse::request(&mut request, &host, &format!("/sse?topic={topic}")),
        Kind::LongPoll => {
            get_request(&mut request, &host, &format!("/long-poll?topic={topic}&since=0&timeout=120"))
        }
        Kind::Http => get_request(&mut request, &host, &format!("/poll?topic={topic}")),
    }
    let mut shared = Shared { request, kind: a.kind, live: 0 };
    let mut fleet: Fleet<Idler> = Fleet::new(a.addr, a.source_addrs()).map_err(|e| e.to_string())?;
    let mut progress = Progress::new("idle", a.quiet);
    let kind = a.kind;
    let make = move |_| match kind {
        Kind::Ws => Idler::Ws(ws::WsStream::default()),
        Kind::Sse => Idler::Sse(sse::SseStream::default()),
        Kind::LongPoll | Kind::Http => Idler::Http(Vec::new()),
    };
    let half = a.conns / 2;
    let mut readings = Vec::new();
    for target in [half, a.conns] {
        let opening = Opening { target, window: a.connect_window, timeout: a.timeout };
        fleet.open_until_ready(
            opening,
            &mut shared,
            make,
            |s| s.live,
            |_, s| {
                progress.tick(|| format!("opening {} connections: {} of {target} live", kind.name(), s.live))
            },
        )?;
        quiet(&mut fleet, &mut shared, a.settle)?;
        readings.push(server.rss());
    }
    progress.done();
    quiet(&mut fleet, &mut shared, a.hold)?;
    let (at_half, at_full) = (readings[0], readings[1]);
    let per = (at_full as f64 - at_half as f64) / (a.conns - half) as f64;
    r.put("kind", kind.name())
        .put("conns", a.conns)
        .float("rss_per_conn_b", per, 0)
        .put("rss_half_kib", at_half / 1024)
        .put("rss_full_kib", at_full / 1024)
        .put("closed", fleet.closed);
    if let Some(e) = &fleet.first_error {
        eprintln!("idle: {e}");
    }
    Ok(fleet.closed == 0)
}
