//! SPEC §10, many loops in one process: `--workers N`. Every case starts its own server with
//! an explicit number of loops (the rest of the suite runs with `PUSHLAB_WORKERS`, default
//! the cores), and speaks raw bytes to it over real sockets.
//!
//! What "a connection is on loop k" means is visible from outside in `/stats`:
//! `connections_per_worker` counts each loop's open connections.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::ws::Client as WsClient;
use common::*;
use pushlab::config::Config;
use serde_json::Value;

fn with_workers(workers: usize) -> Config {
    // Timers far away: whatever arrives below arrives because of a wake-up, not a timeout.
    Config {
        workers,
        heartbeat: Duration::from_secs(60),
        long_poll_timeout: Duration::from_secs(60),
        ..config()
    }
}

fn stats(client: &mut Client) -> Value {
    let r = client.exchange(&request("GET", "/stats", "", b""));
    assert_eq!(r.status, 200);
    r.json()
}

fn publish(client: &mut Client, topic: &str, data: &str) -> u64 {
    let r = client.exchange(&request("POST", &format!("/publish?topic={topic}"), "", data.as_bytes()));
    assert_eq!(r.status, 200, "publish: {}", r.text());
    r.json()["id"].as_u64().expect("an id")
}

/// A `/ws` subscriber, past its handshake.
fn subscriber(addr: SocketAddr, topic: &str) -> WsClient {
    WsClient::ws(addr, &format!("/ws?topic={topic}&since=0"))
}

/// The id of the next message pushed to `ws`.
fn next_id(ws: &mut WsClient) -> u64 {
    let (_, payload) = ws.message();
    let v: Value = serde_json::from_slice(&payload).expect("a JSON message");
    v["id"].as_u64().expect("an id")
}

fn per_worker(stats: &Value) -> Vec<u64> {
    stats["connections_per_worker"]
        .as_array()
        .expect("an array")
        .iter()
        .map(|n| n.as_u64().unwrap())
        .collect()
}

#[test]
fn spec_10_stats_name_the_loops_and_the_broker() {
    for workers in [1, 4] {
        let addr = start_with(with_workers(workers));
        let s = stats(&mut Client::connect(addr));
        assert_eq!(s["workers"], workers as u64, "{s}");
        assert_eq!(s["broker"], "local", "{s}");
        assert_eq!(per_worker(&s).len(), workers, "{s}");
    }
}

#[test]
fn spec_10_connections_are_spread_evenly_over_the_loops() {
    let addr = start_with(with_workers(4));
    // Loop 0 hands connections out in turn: 4 × 10 idle keep-alive connections, then the probe.
    let idle: Vec<Client> = (0..40).map(|_| Client::connect(addr)).collect();
    let mut probe = Client::connect(addr);
    let spread = eventually("41 connections counted", || {
        let spread = per_worker(&stats(&mut probe));
        (spread.iter().sum::<u64>() == 41).then_some(spread)
    });
    // 41 in turn over 4 loops: one loop has the probe as its eleventh.
    let mut sorted = spread.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, vec![10, 10, 10, 11], "per loop: {spread:?}");
    drop(idle);
    eventually("the idle connections are freed on every loop", || {
        per_worker(&stats(&mut probe)).iter().sum::<u64>() == 1
    });
}

#[test]
fn spec_10_a_publish_on_one_loop_reaches_every_loop_at_once() {
    let addr = start_with(with_workers(4));
    // Eight subscribers of each transport that pushes: two per loop.
    let mut sockets: Vec<WsClient> = (0..8).map(|_| subscriber(addr, "fan")).collect();
    let mut streams: Vec<Client> = (0..8)
        .map(|_| {
            let mut c = Client::connect(addr);
            c.send(&request("GET", "/sse?topic=fan&since=0", "", b""));
            assert_eq!(c.read_head().status, 200);
            c
        })
        .collect();
    let mut probe = Client::connect(addr);
    eventually("every subscriber counted", || {
        let s = stats(&mut probe);
        s["connections"]["websocket"] == 8 && s["connections"]["sse"] == 8
    });
    let mut held: Vec<Client> = (0..8)
        .map(|_| {
            let mut c = Client::connect(addr);
            c.send(&request("GET", "/long-poll?topic=fan&since=0", "", b""));
            c
        })
        .collect();
    eventually("every long-poll held", || stats(&mut probe)["connections"]["long_poll"] == 8);
    let published = Instant::now();
    assert_eq!(publish(&mut probe, "fan", "hello, every loop"), 1);
    for ws in &mut sockets {
        assert_eq!(next_id(ws), 1);
    }
    for sse in &mut streams {
        let text = read_until(sse, b"hello, every loop");
        assert!(text.contains("id: 1\n"), "{text}");
    }
    for poll in &mut held {
        let r = poll.read_response();
        assert_eq!(r.json()["messages"][0]["id"], 1, "{}", r.text());
    }
    // Heartbeat and long-poll timeout are a minute away: only a wake-up explains this.
    assert!(published.elapsed() < Duration::from_secs(30), "took {:?}", published.elapsed());
    let s = stats(&mut probe);
    assert_eq!(s["delivered"]["websocket"], 8, "{s}");
    assert_eq!(s["delivered"]["sse"], 8, "{s}");
    assert_eq!(s["delivered"]["long_poll"], 8, "{s}");
}

/// Reads `client`'s stream until `needle` has arrived; returns what came, as text.
fn read_until(client: &mut Client, needle: &[u8]) -> String {
    let deadline = Instant::now() + PATIENCE;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let mut stream = client.stream();
    stream.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    while find(&got, needle).is_none() {
        assert!(Instant::now() < deadline, "never came: {}", show(needle));
        match std::io::Read::read(&mut stream, &mut buf) {
            Ok(0) => panic!("closed before {}", show(needle)),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn spec_10_ids_stay_consecutive_with_publishers_on_every_loop() {
    let addr = start_with(with_workers(4));
    let mut sockets: Vec<WsClient> = (0..4).map(|_| subscriber(addr, "race")).collect();
    let mut probe = Client::connect(addr);
    eventually("every subscriber counted", || stats(&mut probe)["connections"]["websocket"] == 4);
    const PUBLISHERS: usize = 4;
    const EACH: usize = 100;
    let ids: Vec<u64> = std::thread::scope(|s| {
        let running: Vec<_> = (0..PUBLISHERS)
            .map(|p| {
                s.spawn(move || {
                    let mut client = Client::connect(addr);
                    (0..EACH).map(|i| publish(&mut client, "race", &format!("{p}/{i}"))).collect::<Vec<_>>()
                })
            })
            .collect();
        running.into_iter().flat_map(|t| t.join().expect("a publisher")).collect()
    });
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    let total = (PUBLISHERS * EACH) as u64;
    assert_eq!(sorted, (1..=total).collect::<Vec<_>>(), "every id given once, none skipped");
    for (n, ws) in sockets.iter_mut().enumerate() {
        let got: Vec<u64> = (0..total).map(|_| next_id(ws)).collect();
        assert_eq!(got, (1..=total).collect::<Vec<_>>(), "subscriber {n}: every id once, in order");
    }
    // A poller on any loop sees the same history.
    for _ in 0..4 {
        let r = get(addr, &format!("/poll?topic=race&since={}&limit=1000", total - 10));
        let ids: Vec<u64> =
            r.json()["messages"].as_array().unwrap().iter().map(|m| m["id"].as_u64().unwrap()).collect();
        assert_eq!(ids, (total - 9..=total).collect::<Vec<_>>());
    }
}

#[test]
fn spec_10_a_publish_answered_on_one_loop_is_seen_by_the_next_request_on_any_loop() {
    let addr = start_with(with_workers(4));
    // Four keep-alive connections, one per loop; publish on one, poll at once on the others.
    let mut clients: Vec<Client> = (0..4).map(|_| Client::connect(addr)).collect();
    for round in 0..50u64 {
        let from = (round % 4) as usize;
        let id = publish(&mut clients[from], "ryw", &format!("round {round}"));
        assert_eq!(id, round + 1);
        for (n, client) in clients.iter_mut().enumerate() {
            let r = client.exchange(&request("GET", &format!("/poll?topic=ryw&since={}", id - 1), "", b""));
            assert_eq!(
                r.json()["messages"][0]["id"],
                id,
                "connection {n} after publishing on {from}: {}",
                r.text()
            );
        }
    }
}

#[test]
fn spec_10_max_connections_counts_the_whole_process() {
    let addr = start_with(Config { max_connections: 6, ..with_workers(4) });
    let mut open: Vec<Client> = (0..6).map(|_| Client::connect(addr)).collect();
    for client in &mut open {
        assert_eq!(client.exchange(&request("GET", "/stats", "", b"")).status, 200);
    }
    let mut over = Client::connect(addr);
    let r = over.read_response();
    assert_eq!(r.status, 503, "the seventh connection, whichever loop it would go to");
    over.expect_closed("after 503");
    drop(open.pop());
    let mut again = eventually("a freed slot is served again", || {
        let mut c = Client::connect(addr);
        c.try_send(&request("GET", "/stats", "", b"")).ok()?;
        let r = c.try_read_response(false).ok()?;
        (r.status == 200).then_some(c)
    });
    assert_eq!(stats(&mut again)["refused_over_limit"].as_u64().map(|n| n >= 1), Some(true));
}

#[test]
fn spec_10_one_loop_is_the_single_loop_of_the_book() {
    let addr = start_with(with_workers(1));
    let mut probe = Client::connect(addr);
    let mut ws = subscriber(addr, "one");
    eventually("subscribed", || stats(&mut probe)["connections"]["websocket"] == 1);
    for i in 1..=3 {
        assert_eq!(publish(&mut probe, "one", "x"), i);
        assert_eq!(next_id(&mut ws), i);
    }
    assert_eq!(per_worker(&stats(&mut probe)), vec![2]);
}
