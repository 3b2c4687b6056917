//! FIN and reset at every point (SPEC §8: "A client that goes away — FIN or reset … — is
//! noticed and freed at once on every route: its descriptor is closed and `/stats` stops
//! counting it within a second"), at the points `tests/disconnects.rs` does not visit:
//! inside the chunked coding (size line, extension, trailer), mid-head on the routes it
//! leaves out, inside a WebSocket frame header, length and masking key, mid-fragmented
//! message, in the middle of a large plain response, with a paused pipeline, and while the
//! server lingers after its own `400`, `408` or Close frame (whose timers — 2 s of
//! lingering, 5 s for the peer's Close — are longer than the second the leave is allowed).
//!
//! The ways of leaving, with std only (`TcpStream::set_linger` is unstable): a FIN is
//! `shutdown(Write)`; a quiet close is `close()` after reading everything that came; a reset
//! is `close()` with bytes still unread in the kernel's receive buffer, which makes Linux send
//! RST instead of FIN (RFC 1122 §4.2.2.13; `tests/disconnects.rs` has the self-check). So a
//! reset needs the server to have sent something: where it would not have, the case sends a
//! `GET /poll` first and leaves its answer unread.
//!
//! Each case has its own server; the cases of a test run in parallel. After the leave, within
//! one second `/stats` counts only the probe; after a FIN, the server closes its side too
//! (EOF within 1.5 s); topic `t` holds nothing (no half-sent publish went through); and the
//! server still answers.

use std::net::SocketAddr;
use std::time::Duration;

use crate::common::{poll_until, request, Client};
use crate::{client_frame, read_101, server, shared, upgrade, Probe};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Leave {
    Fin,
    Close,
    Reset,
}

const EVERY_WAY: &[Leave] = &[Leave::Fin, Leave::Close, Leave::Reset];
/// Where the server keeps sending, so nothing can be "read to the end" before a close.
const FIN_OR_RESET: &[Leave] = &[Leave::Fin, Leave::Reset];

struct Point {
    what: &'static str,
    ways: &'static [Leave],
    /// Brings a new connection to the point.
    setup: fn(SocketAddr, &mut Probe, Leave) -> Client,
}

/// Runs every point with each of its ways, in parallel, and fails listing each failed case.
fn run(points: &[Point]) {
    let _shared = shared();
    let cases: Vec<(&Point, Leave)> =
        points.iter().flat_map(|p| p.ways.iter().map(move |&w| (p, w))).collect();
    let failures: Vec<String> = std::thread::scope(|s| {
        let running: Vec<_> =
            cases.iter().map(|&(p, how)| (p.what, how, s.spawn(move || run_case(p, how)))).collect();
        running
            .into_iter()
            .filter_map(|(what, how, h)| {
                h.join().err().map(|e| {
                    let text = e
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    format!("- {what}, leaving by {how:?}: {text}")
                })
            })
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

fn run_case(point: &Point, how: Leave) {
    let addr = server(|_| {});
    let mut probe = Probe::new(addr);
    let accepted = probe.counter("accepted") + 1;
    let mut conn = (point.setup)(addr, &mut probe, how);
    let seen = poll_until(Duration::from_secs(3), || probe.counter("accepted") >= accepted);
    assert!(seen.is_ok(), "setup: the server never accepted the connection");
    match how {
        Leave::Fin => {
            conn.shutdown_write();
            conn.set_patience(Duration::from_millis(1500));
            assert!(conn.is_closed(), "the server never closed its side after the FIN");
        }
        Leave::Close => drain(&conn),
        Leave::Reset => {
            assert!(has_unread(&conn), "setup: nothing unread, so close() would send a FIN, not a reset");
        }
    }
    drop(conn);
    probe.wait_baseline("after the leave");
    let r = probe.exchange(&request("GET", "/poll?topic=t&since=0", "", b""));
    assert_eq!(r.json()["messages"], serde_json::json!([]), "nothing half-sent was published");
    probe.still_serves("after the leave");
}

/// Reads whatever has arrived, so that `close()` sends a FIN.
fn drain(c: &Client) {
    let mut s = c.stream().try_clone().unwrap();
    s.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 64 * 1024];
    while matches!(std::io::Read::read(&mut s, &mut buf), Ok(n) if n > 0) {}
}

/// True once something waits unread in the kernel (within 3 s).
fn has_unread(c: &Client) -> bool {
    let s = c.stream();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    matches!(s.peek(&mut [0u8; 1]), Ok(n) if n > 0)
}

/// A `GET /poll` to leave unread when the case resets.
fn prefix(how: Leave) -> Vec<u8> {
    if how == Leave::Reset {
        request("GET", "/poll?topic=warm-up", "", b"")
    } else {
        Vec::new()
    }
}

/// A new connection that sent the reset prefix and `bytes`, given time to arrive.
fn sent(addr: SocketAddr, how: Leave, bytes: &[u8]) -> Client {
    let mut c = Client::connect(addr);
    c.send(&[prefix(how), bytes.to_vec()].concat());
    std::thread::sleep(Duration::from_millis(30));
    c
}

/// A publish of topic `t` whose chunked body is cut after `body`.
fn chunked_publish(addr: SocketAddr, how: Leave, body: &[u8]) -> Client {
    let head = request("POST", "/publish?topic=t", "Transfer-Encoding: chunked\r\n", b"");
    sent(addr, how, &[head, body.to_vec()].concat())
}

#[test]
fn spec_8_leaving_mid_chunk_frees_a_publish_and_publishes_nothing() {
    run(&[
        Point { what: "in a chunk-size line", ways: EVERY_WAY, setup: |a, _, h| chunked_publish(a, h, b"1") },
        Point {
            what: "in a chunk extension",
            ways: EVERY_WAY,
            setup: |a, _, h| chunked_publish(a, h, b"5;name=va"),
        },
        Point {
            what: "between chunk data and its CRLF",
            ways: EVERY_WAY,
            setup: |a, _, h| chunked_publish(a, h, b"5\r\nhello"),
        },
        Point {
            what: "after the last chunk",
            ways: EVERY_WAY,
            setup: |a, _, h| chunked_publish(a, h, b"5\r\nhello\r\n0\r\n"),
        },
        Point {
            what: "in the trailer section",
            ways: EVERY_WAY,
            setup: |a, _, h| chunked_publish(a, h, b"5\r\nhello\r\n0\r\nX-Trailer: 1"),
        },
    ]);
}

#[test]
fn spec_8_leaving_mid_head_frees_the_routes_disconnects_does_not_visit() {
    run(&[
        Point {
            what: "GET /stats, mid-head",
            ways: EVERY_WAY,
            setup: |a, _, h| sent(a, h, b"GET /stats HTTP/1.1\r\nHost: p"),
        },
        Point {
            what: "GET /, mid-head",
            ways: EVERY_WAY,
            setup: |a, _, h| sent(a, h, b"GET / HTTP/1.1\r\n"),
        },
        Point {
            what: "GET /demos/, mid-target",
            ways: EVERY_WAY,
            setup: |a, _, h| sent(a, h, b"GET /demos/ss"),
        },
        Point {
            what: "OPTIONS /publish preflight, mid-head",
            ways: EVERY_WAY,
            setup: |a, _, h| {
                sent(a, h, b"OPTIONS /publish?topic=t HTTP/1.1\r\nHost: pushlab.test\r\nOrigin: http://x\r\n")
            },
        },
        Point {
            what: "HEAD /sse, mid-head",
            ways: EVERY_WAY,
            setup: |a, _, h| sent(a, h, b"HEAD /sse?topic=t HTTP/1.1\r\nHost: pus"),
        },
        Point {
            what: "/echo handshake, in the Upgrade header",
            ways: EVERY_WAY,
            setup: |a, _, h| sent(a, h, b"GET /echo HTTP/1.1\r\nHost: pushlab.test\r\nUpgrade: webso"),
        },
        Point {
            what: "/ws handshake, all but the blank line",
            ways: EVERY_WAY,
            setup: |a, _, h| {
                let full = upgrade("/ws?topic=t");
                sent(a, h, &full[..full.len() - 2])
            },
        },
        Point {
            what: "POST /publish, between the head and a Content-Length body",
            ways: EVERY_WAY,
            setup: |a, _, h| sent(a, h, &request("POST", "/publish?topic=t", "Content-Length: 5\r\n", b"")),
        },
    ]);
}

/// A WebSocket on `target` (the `101` read) that then sent `bytes`; when the case resets, a
/// Ping goes first and its Pong stays unread.
fn ws_then(addr: SocketAddr, target: &str, how: Leave, bytes: &[u8]) -> Client {
    let mut c = Client::connect(addr);
    c.send(&upgrade(target));
    assert!(read_101(&mut c).is_empty(), "nothing before our first frame");
    let ping = if how == Leave::Reset { client_frame(true, 0x9, b"unread") } else { Vec::new() };
    c.send(&[ping, bytes.to_vec()].concat());
    std::thread::sleep(Duration::from_millis(30));
    c
}

fn cut(frame: Vec<u8>, at: usize) -> Vec<u8> {
    frame[..at].to_vec()
}

#[test]
fn spec_8_leaving_inside_a_frame_header_or_a_fragmented_message_frees_a_websocket() {
    run(&[
        Point {
            what: "/echo, one byte of a frame header",
            ways: EVERY_WAY,
            setup: |a, _, h| ws_then(a, "/echo", h, &[0x82]),
        },
        Point {
            what: "/echo, inside a 64-bit payload length",
            ways: EVERY_WAY,
            setup: |a, _, h| ws_then(a, "/echo", h, &cut(client_frame(true, 0x2, &[0; 70_000]), 5)),
        },
        Point {
            what: "/echo, inside the masking key",
            ways: EVERY_WAY,
            setup: |a, _, h| ws_then(a, "/echo", h, &cut(client_frame(true, 0x1, b"hi"), 4)),
        },
        Point {
            what: "/echo, half of a 1 MiB payload",
            ways: EVERY_WAY,
            setup: |a, _, h| {
                ws_then(a, "/echo", h, &cut(client_frame(true, 0x2, &vec![1; 1 << 20]), 1 << 19))
            },
        },
        Point {
            what: "/echo, a first fragment and no continuation",
            ways: EVERY_WAY,
            setup: |a, _, h| ws_then(a, "/echo", h, &client_frame(false, 0x1, b"to be continued")),
        },
        Point {
            what: "/ws, a first fragment and half its continuation",
            ways: EVERY_WAY,
            setup: |a, _, h| {
                let bytes =
                    [client_frame(false, 0x1, b"part one, "), cut(client_frame(true, 0x0, b"part two"), 9)]
                        .concat();
                ws_then(a, "/ws?topic=t", h, &bytes)
            },
        },
        Point {
            what: "/ws, half a Close frame",
            ways: EVERY_WAY,
            setup: |a, _, h| {
                ws_then(
                    a,
                    "/ws?topic=t",
                    h,
                    &cut(client_frame(true, 0x8, &[0x03, 0xe8, b'b', b'y', b'e']), 7),
                )
            },
        },
    ]);
}

/// Publishes 100 messages of 60 KiB on topic `big` (6 MB: more than the kernel buffers
/// take), pipelined on the probe.
fn fill_big(probe: &mut Probe) {
    let body = vec![b'b'; 60 * 1024];
    let batch = request("POST", "/publish?topic=big", "", &body).repeat(100);
    probe.send_all(&batch, 100);
}

/// Sends `target`'s request and reads 16 KiB of its (6 MB) answer.
fn mid_answer(addr: SocketAddr, probe: &mut Probe, target: &str) -> Client {
    fill_big(probe);
    let mut c = Client::connect(addr);
    c.send(&request("GET", target, "", b""));
    let mut s = c.stream().try_clone().unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    std::io::Read::read_exact(&mut s, &mut [0u8; 16 * 1024]).expect("the start of the answer");
    c
}

#[test]
fn spec_8_leaving_mid_response_or_while_the_server_lingers_frees_the_connection() {
    run(&[
        Point {
            what: "GET /poll, in the middle of a 6 MB answer",
            ways: FIN_OR_RESET,
            setup: |a, p, _| mid_answer(a, p, "/poll?topic=big&since=0&limit=1000"),
        },
        Point {
            what: "GET /long-poll, in the middle of a 6 MB answer (the replay of since=0)",
            ways: FIN_OR_RESET,
            setup: |a, p, _| mid_answer(a, p, "/long-poll?topic=big&since=0&limit=1000"),
        },
        Point {
            what: "200 pipelined requests, their 12 MB of answers unread (parsing paused)",
            ways: FIN_OR_RESET,
            setup: |a, p, _| {
                fill_big(p);
                let mut c = Client::connect(a);
                c.send(&request("GET", "/poll?topic=big&since=99", "", b"").repeat(200));
                std::thread::sleep(Duration::from_millis(100));
                c
            },
        },
        Point {
            what: "GET /sse over HTTP/1.0 (close-delimited), streaming",
            ways: EVERY_WAY,
            setup: |a, p, h| {
                let c = sent(a, h, b"GET /sse?topic=t HTTP/1.0\r\n\r\n");
                p.wait_connections([1, 0, 1, 0], Duration::from_secs(3), "setup: streaming");
                c
            },
        },
        Point {
            what: "lingering after a 400 (repeated Host)",
            ways: EVERY_WAY,
            setup: |a, _, h| {
                let mut c = sent(a, h, b"GET /poll?topic=t HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
                if h != Leave::Reset {
                    assert_eq!(c.read_response().status, 400);
                }
                c
            },
        },
        Point {
            what: "lingering after a 408",
            ways: EVERY_WAY,
            setup: |a, _, h| {
                let mut c = sent(a, h, b"GET /poll?topic=t HTTP/1.1\r\nHost: pushlab.test\r\nX-Half: ");
                if h != Leave::Reset {
                    c.set_patience(Duration::from_secs(3));
                    assert_eq!(c.read_response().status, 408);
                }
                c
            },
        },
        Point {
            what: "lingering after Connection: close was answered",
            ways: EVERY_WAY,
            setup: |a, _, h| {
                let mut c = sent(a, h, &request("GET", "/poll?topic=t", "Connection: close\r\n", b""));
                if h != Leave::Reset {
                    let _ = c.read_response();
                }
                c
            },
        },
        Point {
            what: "/echo, after the server's Close (1002 for RSV1), not answered",
            ways: EVERY_WAY,
            setup: |a, _, h| {
                let mut c = ws_then(
                    a,
                    "/echo",
                    Leave::Close,
                    &crate::common::ws::encode_frame(true, 4, 0x1, b"x", Some([1, 2, 3, 4])),
                );
                if h != Leave::Reset {
                    crate::read_until(&mut c, &[0x88], Duration::from_secs(3));
                }
                c
            },
        },
    ]);
}
