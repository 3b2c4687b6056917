//! WebSocket heartbeats (SPEC §7): an idle socket gets a ping every `--heartbeat`, and one
//! silent for two intervals is closed; pongs and messages both count as signs of life. The
//! server here runs with a heartbeat of [`HEARTBEAT`] instead of the default 15 s, so the
//! tests wait for a few hundred milliseconds, not minutes.
//!
//! The client is `tests/common/ws.rs`, written from RFC 6455 and not from `src/wire/ws/`;
//! every test starts its own server in-process on `127.0.0.1:0`.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::ws::*;

// =====================================================================================
// Heartbeats (SPEC §7): a ping every `--heartbeat`; silent for two intervals → closed.
// =====================================================================================

/// The heartbeat of these tests' servers (`Config::heartbeat`; the flag takes whole seconds).
const HEARTBEAT: Duration = Duration::from_millis(500);
/// How late a timer may fire on a loaded test machine and still count as on time.
const LATE: Duration = Duration::from_secs(1);
/// How early it may seem to fire: the tests start their clock before the server starts its
/// own, so this is only a margin for rounding.
const EARLY: Duration = Duration::from_millis(20);

fn heartbeat_server() -> SocketAddr {
    server_with(|c| c.heartbeat = HEARTBEAT)
}

#[test]
fn heartbeat_idle_socket_gets_pings_and_pongs_keep_it_open() {
    let addr = heartbeat_server();
    // Before the handshake, so before the server starts its clock: never late.
    let opened = Instant::now();
    let mut client = Client::ws(addr, "/echo");
    let mut pings = 0;
    // Three pings, each answered: the socket lives through three intervals, one more than a
    // silent socket would.
    while pings < 3 {
        let f = client.next_frame();
        assert_eq!(f.opcode, PING, "idle socket got {}", show(&f));
        assert!(f.payload.len() <= 125);
        if pings == 0 {
            let at = opened.elapsed();
            assert!(
                at >= HEARTBEAT - EARLY && at < HEARTBEAT + LATE,
                "first ping after {at:?} with a heartbeat of {HEARTBEAT:?}"
            );
        }
        pings += 1;
        let pong = client.frame(true, 0, PONG, &f.payload);
        client.send(&pong);
    }
    assert!(opened.elapsed() > HEARTBEAT * 2, "three pings came within two intervals");
    // Still open after more than two intervals: answering pings is not silence.
    client.send_frame(true, TEXT, b"still here");
    loop {
        let f = client.next_frame();
        if f.opcode == PING {
            let pong = client.frame(true, 0, PONG, &f.payload);
            client.send(&pong);
            continue;
        }
        assert_eq!((f.opcode, f.payload.as_slice()), (TEXT, &b"still here"[..]), "{}", show(&f));
        break;
    }
    client.close_normally();
}

#[test]
fn heartbeat_silent_socket_is_closed_after_two_intervals() {
    let addr = heartbeat_server();
    // Before the handshake, so before the server starts its clock: never late.
    let opened = Instant::now();
    let mut client = Client::ws(addr, "/echo");
    let f = client.next_frame();
    assert_eq!(f.opcode, PING, "{}", show(&f));
    // Never answered. SPEC §7 says the socket is closed, not how: a close frame first (a
    // going-away 1001, say) would be as good as closing TCP at once.
    loop {
        match client.next() {
            Next::Eof => break,
            Next::Frame(f) if matches!(f.opcode, PING | CLOSE) => continue,
            Next::Frame(f) => panic!("silent socket got {}", show(&f)),
        }
    }
    let at = opened.elapsed();
    assert!(
        at >= HEARTBEAT * 2 - EARLY && at < HEARTBEAT * 2 + LATE,
        "closed after {at:?} with a heartbeat of {HEARTBEAT:?}"
    );
}

#[test]
fn heartbeat_data_without_pongs_is_not_silence() {
    // SPEC §7: "silent" means nothing at all was received; messages count.
    let addr = heartbeat_server();
    // Before the handshake, so before the server starts its clock: never late.
    let opened = Instant::now();
    let mut client = Client::ws(addr, "/echo");
    let mut i = 0;
    // Half an interval past the two after which a silent socket is closed.
    while opened.elapsed() < HEARTBEAT * 5 / 2 {
        let text = format!("message {i}");
        client.send_frame(true, TEXT, text.as_bytes());
        loop {
            let f = client.next_frame();
            if f.opcode == PING {
                continue; // deliberately unanswered
            }
            assert_eq!((f.opcode, f.payload.as_slice()), (TEXT, text.as_bytes()), "{}", show(&f));
            break;
        }
        i += 1;
        std::thread::sleep(HEARTBEAT * 2 / 5);
    }
    client.close_normally();
}
