//! How a client leaves (SPEC §8, its last two items; §5, §7), over raw TCP sockets.
//!
//! "A client that goes away — FIN or reset, with or without a WebSocket Close frame, mid-head,
//! mid-body, mid-frame or while held or streaming — is noticed and freed at once on every
//! route: its descriptor is closed and `/stats` stops counting it within a second." And:
//! "After a WebSocket Close frame has been sent, nothing else is sent on that connection
//! (RFC 6455 §5.5.1), whatever was queued or still to be replayed."
//!
//! Each case starts its own server in-process (`pushlab::spawn` on `127.0.0.1:0`) with a
//! heartbeat of 30 s and a long-poll timeout of 60 s, so that no timer can rescue a leave the
//! server failed to notice: within the few seconds a case lasts, only the leave itself can
//! free the connection. A case puts one connection at one *point* (the request and the leave
//! in one go, mid-head, mid-body, held, streaming, mid-frame, mid-replay, …), leaves in one
//! *way* ([`Leave`]), and then requires, measured from the moment it left:
//!
//! - within 1 s, `/stats` `connections` back at the baseline — only the probe, the one
//!   keep-alive connection every case reads `/stats` on, counted as `http`;
//! - within 1 s, the server's descriptor for the connection closed: the server is
//!   in-process, so its sockets are ours, and those on its port must be down to the probe's
//!   one ([`check_descriptors`], from `/proc/net/tcp` and `/proc/self/fd`);
//! - after a FIN, within 1.5 s, EOF (or a reset) on the client's still-open reading side: the
//!   server closed its side too.
//!
//! Every case first makes sure the server really got where the case says (a stream counted,
//! a replay not yet finished, `accepted` gone up), so that no assertion can hold vacuously.
//!
//! The ways of leaving, with std only (no `socket2`, no `libc`: `TcpStream::set_linger` is
//! unstable, and `libc` is only a transitive dependency here):
//! - [`Leave::Fin`]: `shutdown(Write)`, then read until the server closes;
//! - [`Leave::Close`]: `close()` with nothing unread, which sends a FIN too but reads no more;
//! - [`Leave::Reset`]: `close()` with unread bytes in the receive buffer, which makes the
//!   kernel send a reset instead of a FIN (RFC 1122 §4.2.2.13; the self-check
//!   `client_self_check_close_with_unread_input_resets_and_without_sends_fin` proves it here).
//!   So a reset needs the server to have sent something first: where it would not have, the
//!   case pipelines a `GET /poll` in front, whose answer stays unread. A reset of a connection
//!   that never received a byte (a fresh idle one; the request and the reset in one go) needs
//!   `SO_LINGER` 0 and is not covered.
//!
//! "The request and the leave in one go" must reach the server's read together. Written
//! back to back they usually do, but a fast server could read the request before the FIN
//! arrives, and then the case would test "while held" instead. So those cases first give the
//! server a batch of pipelined requests on the probe to chew on ([`Lab::keep_busy`]): the new
//! connection's request and its FIN are both in the kernel before the server first reads it.
//!
//! Cases of one test run in parallel threads, each with its own server, so a test lasts as
//! long as its slowest case (about 1.5 s when a case fails, well under 1 s when all pass).

mod common;

use std::collections::HashSet;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use common::{config, find, request, show, start_with, Client, Rng};
use pushlab::config::Config;
use serde_json::Value;

/// SPEC §8: "freed at once … `/stats` stops counting it within a second".
const FREED_WITHIN: Duration = Duration::from_secs(1);
/// After our FIN, how long the server may take to close its side too.
const EOF_WITHIN: Duration = Duration::from_millis(1500);
/// Longest any setup step waits for the server to get where the case wants it.
const SETUP: Duration = Duration::from_secs(3);
/// How often `/stats` and the descriptors are looked at while waiting.
const POLL_EVERY: Duration = Duration::from_millis(5);
/// Time for bytes just written to reach the server's read (there is no way to see that they
/// have, where the server answers nothing).
const ARRIVE: Duration = Duration::from_millis(30);

/// Heartbeat of every server here: long, so that no ping or keep-alive rescues a leave.
const HEARTBEAT: Duration = Duration::from_secs(30);
/// `--long-poll-timeout` of every server here: long, so no timeout ends a held poll.
const LONG_POLL_TIMEOUT: Duration = Duration::from_secs(60);

/// Retained messages for the mid-replay cases, and their size: 7.4 MB, more than the kernel
/// buffers (`tcp_wmem` tops out at 4 MiB) and the server's replay batch hold, so a client
/// that reads 16 KiB and leaves does so in the middle of the replay (each case checks that
/// it did).
const REPLAY_MESSAGES: usize = 120;
const REPLAY_SIZE: usize = 60 * 1024;
/// A binary message `/echo` sends back: larger than the kernel buffers, so a client that
/// reads 16 KiB of the echo and leaves does so in the middle of it.
const ECHO_SIZE: usize = 6 * 1024 * 1024;
/// Pipelined requests that keep the server busy while a connection's request and FIN arrive.
const BUSY_REQUESTS: usize = 1000;

// Opcodes (RFC 6455 §5.2).
const CONTINUATION: u8 = 0x0;
const TEXT: u8 = 0x1;
const BINARY: u8 = 0x2;
const CLOSE: u8 = 0x8;
const PING: u8 = 0x9;
const PONG: u8 = 0xA;
const FIN: u8 = 0x80;

/// RFC 6455 §1.3's example nonce.
const WS_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

// =====================================================================================
// Cases: a point, a way of leaving, and what must follow.
// =====================================================================================

/// How the client goes away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Leave {
    /// `shutdown(Write)`: a FIN; the client keeps reading until the server closes too.
    Fin,
    /// `close()` with nothing unread: a FIN, and the client reads no more.
    Close,
    /// `close()` with unread input: a reset.
    Reset,
}

const EVERY_WAY: [Leave; 3] = [Leave::Fin, Leave::Close, Leave::Reset];
/// For points where nothing can be unread yet (see the module docs on resets).
const FIN_OR_CLOSE: [Leave; 2] = [Leave::Fin, Leave::Close];

impl Leave {
    fn describe(self) -> &'static str {
        match self {
            Leave::Fin => "FIN (shutdown(Write), then read)",
            Leave::Close => "close() with nothing unread (FIN)",
            Leave::Reset => "close() with unread input (reset)",
        }
    }
}

/// Where a connection is when its client leaves, and what must hold afterwards.
#[derive(Clone, Copy)]
struct Point {
    what: &'static str,
    /// Brings one connection to the point; returns it, ready to leave.
    setup: fn(&mut Lab, Leave) -> Result<Conn, String>,
    /// Checks after the connection is freed: the bytes it received (all of them after a
    /// FIN; those read before leaving otherwise).
    after: fn(&mut Lab, Leave, &[u8]) -> Result<(), String>,
}

fn nothing_more(_: &mut Lab, _: Leave, _: &[u8]) -> Result<(), String> {
    Ok(())
}

/// Runs every point with every way of leaving, each case on its own server, all in parallel;
/// fails listing every case that failed.
fn run_points(points: &[Point], leaves: &[Leave]) {
    let _shared = shared();
    let cases: Vec<(Point, Leave)> =
        points.iter().flat_map(|&p| leaves.iter().map(move |&l| (p, l))).collect();
    let mut results: Vec<(String, Case)> = std::thread::scope(|s| {
        let running: Vec<_> = cases
            .iter()
            .map(|&(point, how)| {
                let label = format!("{}, leaving by {}", point.what, how.describe());
                (label, s.spawn(move || run_case(point, how)))
            })
            .collect();
        running
            .into_iter()
            .map(|(label, handle)| {
                let case = handle.join().unwrap_or_else(|e| Case {
                    failures: vec![format!("panicked: {}", panic_text(&e))],
                    left: None,
                });
                (label, case)
            })
            .collect()
    });
    check_descriptors(&mut results);
    let failures: Vec<String> = results
        .iter()
        .filter(|(_, case)| !case.failures.is_empty())
        .map(|(label, case)| format!("- {label}:\n    {}", case.failures.join("\n    ")))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// What one case found.
struct Case {
    failures: Vec<String>,
    /// When the client left, and the server (kept, with its probe, for
    /// [`check_descriptors`]); `None` if the case ended before it could leave.
    left: Option<(Instant, Lab)>,
}

/// SPEC §8: "its descriptor is closed … within a second". The server is in-process, so its
/// sockets are ours: those whose local port is the server's ([`server_sockets`]) must be
/// down to the probe's one within 1 s of the leave. `/proc/net/tcp` costs the kernel time in
/// proportion to every socket of the machine (`TIME_WAIT` ones too), so it is read once for
/// all the cases of a test, and again every 50 ms only while a case is within its second.
fn check_descriptors(results: &mut [(String, Case)]) {
    let mut pending: Vec<usize> = (0..results.len()).filter(|&i| results[i].1.left.is_some()).collect();
    while !pending.is_empty() {
        let (table, open) = (tcp_table(), open_sockets());
        let now = Instant::now();
        pending.retain(|&i| {
            let case = &mut results[i].1;
            let Some((at, lab)) = &case.left else { return false };
            let held = server_sockets_in(&table, &open, lab.addr.port());
            if held == 1 {
                return false;
            }
            if now < *at + FREED_WITHIN {
                return true;
            }
            case.failures.push(format!(
                "descriptor not closed: {} ms after the leave the server holds {held} sockets, 1 is the probe's",
                (now - *at).as_millis()
            ));
            false
        });
        if !pending.is_empty() {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// One case: a fresh server, the setup, the leave, the checks.
fn run_case(point: Point, how: Leave) -> Case {
    let mut lab = Lab::start();
    let accepted = lab.counter("accepted") + 1;
    let fail = |e: String| Case { failures: vec![e], left: None };
    let conn = match (point.setup)(&mut lab, how) {
        Ok(conn) => conn,
        Err(e) => return fail(format!("setup: {e}")),
    };
    let left = match leave(conn, how) {
        Ok(left) => left,
        Err(e) => return fail(e),
    };
    let Left { at, conn, mut got } = left;
    let mut failures = Vec::new();
    std::thread::scope(|s| {
        // After a FIN the client reads until EOF, from the moment it left: however long the
        // checks below take, they do not eat into the server's time to close.
        let eof = conn.map(|mut conn| {
            s.spawn(move || {
                let result = conn.read_to_eof(at + EOF_WITHIN);
                (result, conn)
            })
        });
        let by = at + FREED_WITHIN;
        // The server has seen the connection (so that "not counted" means "freed")…
        if let Err(e) = lab.wait_until("the server accepts the connection", at, by, |s| {
            s["accepted"].as_u64() >= Some(accepted)
        }) {
            failures.push(e);
        // … and counts it no more.
        } else if let Err(e) = lab.wait_until("/stats stops counting the connection", at, by, at_baseline) {
            failures.push(e);
        }
        if let Some(eof) = eof {
            let (result, conn) = eof.join().expect("the reading thread");
            if let Err(e) = result {
                failures.push(format!("the server never closed its side: {e}"));
            }
            got = conn.got;
        }
    });
    if let Err(e) = (point.after)(&mut lab, how, &got) {
        failures.push(e);
    }
    Case { failures, left: Some((at, lab)) }
}

/// A connection its client has left.
struct Left {
    /// When the client left: every deadline counts from here.
    at: Instant,
    /// The connection, still readable, after a FIN.
    conn: Option<Conn>,
    /// What it had received before leaving.
    got: Vec<u8>,
}

fn leave(mut conn: Conn, how: Leave) -> Result<Left, String> {
    match how {
        Leave::Fin => {
            let _ = conn.stream.shutdown(Shutdown::Write);
            Ok(Left { at: Instant::now(), got: Vec::new(), conn: Some(conn) })
        }
        Leave::Close => {
            conn.drain_now();
            let got = std::mem::take(&mut conn.got);
            drop(conn);
            Ok(Left { at: Instant::now(), conn: None, got })
        }
        Leave::Reset => {
            if !conn.has_unread(Instant::now() + SETUP) {
                return Err("setup: nothing unread, so close() would send a FIN, not a reset".into());
            }
            let got = std::mem::take(&mut conn.got);
            drop(conn);
            Ok(Left { at: Instant::now(), conn: None, got })
        }
    }
}

// =====================================================================================
// SPEC §8: a request and the leave in one go. /poll and /publish still answer;
// /long-poll, /sse and the WebSocket routes are freed at once.
// =====================================================================================

/// Writes `bytes` on a new connection while the server is busy, so that the FIN (or the
/// close) that follows reaches its first read together with the request.
fn in_one_go(lab: &mut Lab, bytes: &[u8]) -> Result<Conn, String> {
    lab.keep_busy();
    let mut conn = Conn::connect(lab.addr);
    conn.send(bytes)?;
    Ok(conn)
}

#[test]
fn spec_8_fin_with_a_poll_request_still_gets_the_full_answer() {
    run_points(
        &[Point {
            what: "/poll, the request and the leave in one go",
            setup: |lab, _| in_one_go(lab, &request("GET", "/poll?topic=t", "", b"")),
            after: |_, how, got| {
                if how != Leave::Fin {
                    return Ok(());
                }
                let (status, body) =
                    first_response(got).ok_or(format!("no whole response: {}", show(got)))?;
                let json: Value =
                    serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))?;
                (status == 200 && json["topic"] == "t" && json["messages"].is_array())
                    .then_some(())
                    .ok_or(format!("not the /poll answer: {}", show(got)))
            },
        }],
        &FIN_OR_CLOSE,
    );
}

#[test]
fn spec_8_fin_with_a_publish_request_still_gets_the_full_answer_and_publishes() {
    run_points(
        &[Point {
            what: "/publish, the request and the leave in one go",
            setup: |lab, _| in_one_go(lab, &request("POST", "/publish?topic=t", "", b"hello")),
            after: |lab, how, got| {
                if how == Leave::Fin {
                    let (status, body) =
                        first_response(got).ok_or(format!("no whole response: {}", show(got)))?;
                    let json: Value =
                        serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))?;
                    if status != 200 || json["id"] != 1 {
                        return Err(format!("not the /publish answer: {}", show(got)));
                    }
                }
                lab.expect_published("t", &["hello"])
            },
        }],
        &FIN_OR_CLOSE,
    );
}

#[test]
fn spec_8_fin_with_the_request_frees_a_long_poll() {
    run_points(
        &[Point {
            what: "/long-poll, the request and the leave in one go",
            setup: |lab, _| in_one_go(lab, &request("GET", "/long-poll?topic=t", "", b"")),
            after: nothing_more,
        }],
        &FIN_OR_CLOSE,
    );
}

#[test]
fn spec_8_fin_with_the_request_frees_an_sse_stream() {
    run_points(
        &[Point {
            what: "/sse, the request and the leave in one go",
            setup: |lab, _| in_one_go(lab, &request("GET", "/sse?topic=t", "", b"")),
            after: nothing_more,
        }],
        &FIN_OR_CLOSE,
    );
}

#[test]
fn spec_8_fin_with_the_handshake_frees_a_websocket() {
    run_points(
        &[
            Point {
                what: "/ws, the handshake and the leave in one go",
                setup: |lab, _| in_one_go(lab, &upgrade("/ws?topic=t")),
                after: nothing_more,
            },
            Point {
                what: "/echo, the handshake and the leave in one go",
                setup: |lab, _| in_one_go(lab, &upgrade("/echo")),
                after: nothing_more,
            },
        ],
        &FIN_OR_CLOSE,
    );
}

// =====================================================================================
// SPEC §8: mid-head and mid-body, on every route.
// =====================================================================================

/// A request pipelined in front when the case resets: its answer is the unread input.
fn reset_prefix(how: Leave) -> Vec<u8> {
    if how == Leave::Reset {
        request("GET", "/poll?topic=warm-up", "", b"")
    } else {
        Vec::new()
    }
}

/// Sends `partial` (after the reset prefix) on a new connection and gives it time to arrive.
fn partial(lab: &mut Lab, how: Leave, partial: &[u8]) -> Result<Conn, String> {
    let mut conn = Conn::connect(lab.addr);
    let mut bytes = reset_prefix(how);
    bytes.extend_from_slice(partial);
    conn.send(&bytes)?;
    std::thread::sleep(ARRIVE);
    Ok(conn)
}

fn upgrade_head_cut() -> Vec<u8> {
    let full = upgrade("/ws?topic=t");
    let cut = find(&full, b"Sec-WebSocket-Key: ").unwrap() + 25;
    full[..cut].to_vec()
}

#[test]
fn spec_8_leaving_mid_head_frees_the_connection_on_every_route() {
    run_points(
        &[
            Point {
                what: "/poll, mid-head",
                setup: |lab, how| partial(lab, how, b"GET /poll?topic=t HTTP/1.1\r\nHost: pushlab.test\r\n"),
                after: nothing_more,
            },
            Point {
                what: "/publish, mid-head",
                setup: |lab, how| {
                    partial(lab, how, b"POST /publish?topic=t HTTP/1.1\r\nHost: pushlab.test\r\nContent-Le")
                },
                after: |lab, _, _| lab.expect_published("t", &[]),
            },
            Point {
                what: "/long-poll, mid-head",
                setup: |lab, how| partial(lab, how, b"GET /long-poll?topic=t HTTP/1.1\r\nHo"),
                after: nothing_more,
            },
            Point {
                what: "/sse, mid-head",
                setup: |lab, how| {
                    partial(
                        lab,
                        how,
                        b"GET /sse?topic=t HTTP/1.1\r\nHost: pushlab.test\r\nAccept: text/event-stream\r\n",
                    )
                },
                after: nothing_more,
            },
            Point {
                what: "/ws, mid-head (in the middle of Sec-WebSocket-Key)",
                setup: |lab, how| partial(lab, how, &upgrade_head_cut()),
                after: nothing_more,
            },
            Point {
                what: "/ (any route), mid request line",
                setup: |lab, how| partial(lab, how, b"GET /po"),
                after: nothing_more,
            },
        ],
        &EVERY_WAY,
    );
}

#[test]
fn spec_8_leaving_mid_body_frees_a_publish_and_publishes_nothing() {
    run_points(
        &[
            Point {
                what: "/publish, mid-body (Content-Length: 100, 40 bytes sent)",
                setup: |lab, how| {
                    let mut bytes = request("POST", "/publish?topic=t", "Content-Length: 100\r\n", b"");
                    bytes.extend_from_slice(&[b'x'; 40]);
                    partial(lab, how, &bytes)
                },
                after: |lab, _, _| lab.expect_published("t", &[]),
            },
            Point {
                what: "/publish, mid-body (chunked, between chunks)",
                setup: |lab, how| {
                    let mut bytes =
                        request("POST", "/publish?topic=t", "Transfer-Encoding: chunked\r\n", b"");
                    bytes.extend_from_slice(b"5\r\nhello\r\n");
                    partial(lab, how, &bytes)
                },
                after: |lab, _, _| lab.expect_published("t", &[]),
            },
            Point {
                what: "/publish, mid-body (chunked, inside a chunk)",
                setup: |lab, how| {
                    let mut bytes =
                        request("POST", "/publish?topic=t", "Transfer-Encoding: chunked\r\n", b"");
                    bytes.extend_from_slice(b"a\r\nhel");
                    partial(lab, how, &bytes)
                },
                after: |lab, _, _| lab.expect_published("t", &[]),
            },
            Point {
                what: "/publish, after 100 Continue, before the body",
                setup: |lab, how| {
                    let mut conn = Conn::connect(lab.addr);
                    let head = request(
                        "POST",
                        "/publish?topic=t",
                        "Expect: 100-continue\r\nContent-Length: 10\r\n",
                        b"",
                    );
                    conn.send(&head)?;
                    if how == Leave::Reset {
                        return Ok(conn); // the 100 Continue stays unread
                    }
                    conn.read_until("100 Continue", Instant::now() + SETUP, |got| {
                        got.starts_with(b"HTTP/1.1 100 ") && head_end(got).is_some()
                    })?;
                    Ok(conn)
                },
                after: |lab, _, _| lab.expect_published("t", &[]),
            },
        ],
        &EVERY_WAY,
    );
}

// =====================================================================================
// SPEC §5, §8: a held long-poll.
// =====================================================================================

#[test]
fn spec_5_leaving_while_held_frees_a_long_poll() {
    run_points(
        &[Point {
            what: "/long-poll, while held",
            setup: |lab, how| {
                let mut conn = Conn::connect(lab.addr);
                let mut bytes = reset_prefix(how);
                bytes.extend_from_slice(&request("GET", "/long-poll?topic=t", "", b""));
                conn.send(&bytes)?;
                lab.wait_for("the long-poll is held", |s| s["connections"]["long_poll"] == 1)?;
                Ok(conn)
            },
            after: nothing_more,
        }],
        &EVERY_WAY,
    );
}

// =====================================================================================
// SPEC §6, §8: an SSE stream, idle or replaying.
// =====================================================================================

fn open_sse(lab: &mut Lab, target: &str) -> Result<Conn, String> {
    let mut conn = Conn::connect(lab.addr);
    conn.send(&request("GET", target, "", b""))?;
    lab.wait_for("the stream is counted", |s| s["connections"]["sse"] == 1)?;
    Ok(conn)
}

#[test]
fn spec_8_leaving_an_idle_sse_stream_frees_it() {
    run_points(
        &[Point {
            what: "/sse, streaming, idle",
            setup: |lab, how| {
                let mut conn = open_sse(lab, "/sse?topic=t")?;
                if how != Leave::Reset {
                    conn.read_until("the retry preamble", Instant::now() + SETUP, |got| {
                        find(got, b"retry: 3000").is_some()
                    })?;
                }
                Ok(conn)
            },
            after: nothing_more,
        }],
        &EVERY_WAY,
    );
}

#[test]
fn spec_8_leaving_mid_replay_frees_an_sse_stream() {
    run_points(
        &[Point {
            what: "/sse, mid-replay (7 MB retained, 16 KiB read)",
            setup: |lab, _| {
                lab.publish_many("t", REPLAY_MESSAGES, REPLAY_SIZE);
                let mut conn = open_sse(lab, "/sse?topic=t&since=0")?;
                read_a_little(lab, &mut conn, "sse")?;
                Ok(conn)
            },
            after: nothing_more,
        }],
        &EVERY_WAY,
    );
}

/// Reads 16 KiB at most, then checks that the replay is still going on.
fn read_a_little(lab: &mut Lab, conn: &mut Conn, transport: &str) -> Result<(), String> {
    conn.read_some(16 * 1024, Instant::now() + SETUP)?;
    let delivered = lab.counter_in("delivered", transport);
    if delivered >= REPLAY_MESSAGES as u64 {
        return Err(format!("the replay was all queued ({delivered} messages) before the client left"));
    }
    Ok(())
}

// =====================================================================================
// SPEC §7, §8: WebSocket (/ws and /echo) without a Close frame.
// =====================================================================================

/// A connection upgraded on `target`; its `101` head is read unless the case resets.
fn open_ws(lab: &mut Lab, target: &str, how: Leave) -> Result<Conn, String> {
    let mut conn = Conn::connect(lab.addr);
    conn.send(&upgrade(target))?;
    lab.wait_for("the upgrade is counted", |s| s["connections"]["websocket"] == 1)?;
    if how != Leave::Reset {
        conn.read_101()?;
    }
    Ok(conn)
}

#[test]
fn spec_8_leaving_an_open_websocket_without_a_close_frame_frees_it() {
    run_points(
        &[
            Point {
                what: "/ws, open, idle",
                setup: |lab, how| open_ws(lab, "/ws?topic=t", how),
                after: nothing_more,
            },
            Point {
                what: "/echo, open, idle",
                setup: |lab, how| open_ws(lab, "/echo", how),
                after: nothing_more,
            },
        ],
        &EVERY_WAY,
    );
}

/// A 20-byte masked text frame cut in two: the header and 10 bytes of payload, and the rest.
fn split_frame() -> (Vec<u8>, Vec<u8>) {
    let mut frame = client_frame(FIN | TEXT, b"half of this frame..");
    let rest = frame.split_off(frame.len() - 10);
    (frame, rest)
}

/// The first half of [`split_frame`].
fn half_a_frame() -> Vec<u8> {
    split_frame().0
}

fn ws_then(lab: &mut Lab, target: &str, how: Leave, bytes: &[u8]) -> Result<Conn, String> {
    let mut conn = open_ws(lab, target, how)?;
    conn.send(bytes)?;
    std::thread::sleep(ARRIVE);
    Ok(conn)
}

#[test]
fn spec_8_leaving_mid_frame_or_mid_message_frees_a_websocket() {
    run_points(
        &[
            Point {
                what: "/ws, mid-frame (half a text frame)",
                setup: |lab, how| ws_then(lab, "/ws?topic=t", how, &half_a_frame()),
                after: |lab, _, _| lab.expect_published("t", &[]),
            },
            Point {
                what: "/echo, mid-frame (half a text frame)",
                setup: |lab, how| ws_then(lab, "/echo", how, &half_a_frame()),
                after: nothing_more,
            },
            Point {
                what: "/echo, mid-frame (half a frame header)",
                setup: |lab, how| ws_then(lab, "/echo", how, &client_frame(FIN | BINARY, &[7; 300])[..3]),
                after: nothing_more,
            },
            Point {
                what: "/ws, mid-message (first fragment only)",
                setup: |lab, how| ws_then(lab, "/ws?topic=t", how, &client_frame(TEXT, b"hel")),
                after: |lab, _, _| lab.expect_published("t", &[]),
            },
            Point {
                what: "/echo, mid-message (first fragment only)",
                setup: |lab, how| ws_then(lab, "/echo", how, &client_frame(TEXT, b"hel")),
                after: nothing_more,
            },
        ],
        &EVERY_WAY,
    );
}

#[test]
fn spec_8_leaving_mid_replay_or_mid_echo_frees_a_websocket() {
    run_points(
        &[
            Point {
                what: "/ws, mid-replay (7 MB retained, 16 KiB read)",
                setup: |lab, how| {
                    lab.publish_many("t", REPLAY_MESSAGES, REPLAY_SIZE);
                    let mut conn = open_ws(lab, "/ws?topic=t&since=0", how)?;
                    read_a_little(lab, &mut conn, "websocket")?;
                    Ok(conn)
                },
                after: nothing_more,
            },
            Point {
                what: "/echo, mid-echo (6 MiB message, 16 KiB of the echo read)",
                setup: |lab, _| {
                    // The 101 is read whatever the way: the echo is the unread input.
                    let mut conn = open_ws(lab, "/echo", Leave::Fin)?;
                    let before = lab.counter("bytes_written");
                    conn.send(&client_frame(FIN | BINARY, &vec![0x5a; ECHO_SIZE]))?;
                    conn.read_some(16 * 1024, Instant::now() + SETUP)?;
                    let written = lab.counter("bytes_written") - before;
                    if written >= ECHO_SIZE as u64 {
                        return Err(format!(
                            "the whole echo was written ({written} bytes) before the client left"
                        ));
                    }
                    Ok(conn)
                },
                after: nothing_more,
            },
        ],
        &EVERY_WAY,
    );
}

// =====================================================================================
// SPEC §7, §8: WebSocket with a Close frame.
// =====================================================================================

#[test]
fn spec_8_leaving_right_after_a_close_frame_frees_a_websocket() {
    run_points(
        &[
            Point {
                what: "/ws, a Close(1000) sent, then gone",
                setup: |lab, how| ws_then(lab, "/ws?topic=t", how, &close_frame(1000)),
                after: close_answered,
            },
            Point {
                what: "/echo, a Close(1000) sent, then gone",
                setup: |lab, how| ws_then(lab, "/echo", how, &close_frame(1000)),
                after: close_answered,
            },
        ],
        &EVERY_WAY,
    );
}

/// After a FIN: the server answered our Close with its own, the last frame it sent.
fn close_answered(_: &mut Lab, how: Leave, got: &[u8]) -> Result<(), String> {
    if how != Leave::Fin {
        return Ok(());
    }
    let frames = frames_after_101(got)?;
    match frames.last() {
        Some(f) if f.opcode == CLOSE && matches!(close_code(f), None | Some(1000)) => Ok(()),
        _ => Err(format!("our Close(1000) was not answered with a Close: {}", describe(&frames))),
    }
}

// =====================================================================================
// SPEC §8: idle keep-alive connections.
// =====================================================================================

#[test]
fn spec_8_leaving_an_idle_keep_alive_connection_frees_it() {
    run_points(
        &[Point {
            what: "a fresh connection that never sent a byte",
            setup: |lab, _| {
                let accepted = lab.counter("accepted") + 1;
                let conn = Conn::connect(lab.addr);
                lab.wait_for("the server accepts it", |s| s["accepted"].as_u64() >= Some(accepted))?;
                Ok(conn)
            },
            after: nothing_more,
        }],
        &FIN_OR_CLOSE,
    );
    run_points(
        &[
            Point {
                what: "idle keep-alive after a /poll answer",
                setup: |lab, how| {
                    let mut conn = Conn::connect(lab.addr);
                    conn.send(&request("GET", "/poll?topic=t", "", b""))?;
                    if how != Leave::Reset {
                        conn.read_response()?;
                    }
                    Ok(conn)
                },
                after: nothing_more,
            },
            Point {
                what: "idle keep-alive after a long-poll was answered",
                setup: |lab, how| {
                    let mut conn = Conn::connect(lab.addr);
                    conn.send(&request("GET", "/long-poll?topic=t", "", b""))?;
                    lab.wait_for("the long-poll is held", |s| s["connections"]["long_poll"] == 1)?;
                    lab.publish("t", "wake up");
                    lab.wait_for("the long-poll is answered", |s| {
                        s["connections"]["long_poll"] == 0 && s["connections"]["http"] == 2
                    })?;
                    if how != Leave::Reset {
                        conn.read_response()?;
                    }
                    Ok(conn)
                },
                after: nothing_more,
            },
        ],
        &EVERY_WAY,
    );
}

// =====================================================================================
// RFC 6455 §5.5.1 (SPEC §8, last item): nothing after the server's Close.
// =====================================================================================

/// Fails unless the server sent a Close and nothing after it.
fn nothing_after_the_close(frames: &[Frame]) -> Result<(), String> {
    let Some(at) = frames.iter().position(|f| f.opcode == CLOSE) else {
        return Err(format!("the server never sent a Close: {}", describe(frames)));
    };
    let after = &frames[at + 1..];
    if !after.is_empty() {
        return Err(format!(
            "{} frame(s) after the server's Close({:?}) (frame {} of {}): {}",
            after.len(),
            close_code(&frames[at]),
            at + 1,
            frames.len(),
            describe(after)
        ));
    }
    Ok(())
}

/// One WebSocket exchange on a fresh server.
struct Exchange {
    target: &'static str,
    /// Messages published to topic `t` first (20 bytes each).
    retained: usize,
    /// `bytes` go in the same write as the handshake (else after the `101` is read).
    with_handshake: bool,
    bytes: Vec<u8>,
    /// Sent once the server's Close has come (the rest of a frame `bytes` left unfinished).
    then: Vec<u8>,
    /// `bytes` hold our Close already; otherwise we answer the server's with Close(1000).
    we_closed: bool,
}

impl Exchange {
    fn new(target: &'static str, with_handshake: bool, bytes: Vec<u8>) -> Exchange {
        Exchange { target, retained: 0, with_handshake, bytes, then: Vec::new(), we_closed: false }
    }

    /// Sends, waits for the server's Close, completes the closing handshake, reads until the
    /// server closes TCP; returns every frame the server sent after its `101`.
    fn run(&self) -> Result<Vec<Frame>, String> {
        let mut lab = Lab::start();
        if self.retained > 0 {
            lab.publish_many("t", self.retained, 20);
        }
        let mut conn = if self.with_handshake {
            let mut conn = Conn::connect(lab.addr);
            conn.send(&[upgrade(self.target), self.bytes.clone()].concat())?;
            conn
        } else {
            let mut conn = open_ws(&mut lab, self.target, Leave::Fin)?;
            conn.send(&self.bytes)?;
            conn
        };
        let deadline = Instant::now() + EOF_WITHIN;
        conn.read_until("the server's Close", deadline, |got| {
            head_end(got).is_some_and(|end| {
                server_frames(&got[end..]).is_ok_and(|(frames, _)| frames.iter().any(|f| f.opcode == CLOSE))
            })
        })?;
        // The server may be closing already: a failed write is fine.
        let _ = conn.send(&self.then);
        if !self.we_closed {
            let _ = conn.send(&close_frame(1000));
        }
        conn.read_to_eof(deadline)?;
        frames_after_101(&conn.got)
    }
}

/// What must hold of the frames an [`Exchange`] got.
type FramesCheck = fn(&[Frame]) -> Result<(), String>;

/// Runs `variants` in parallel threads; fails listing every one that failed.
fn run_variants(variants: Vec<(&'static str, Exchange, FramesCheck)>) {
    let _shared = shared();
    let total = variants.len();
    let failures: Vec<String> = std::thread::scope(|s| {
        let running: Vec<_> = variants
            .into_iter()
            .map(|(what, exchange, check)| (what, s.spawn(move || exchange.run().and_then(|f| check(&f)))))
            .collect();
        running
            .into_iter()
            .filter_map(|(what, handle)| {
                let result = handle.join().unwrap_or_else(|e| Err(format!("panicked: {}", panic_text(&e))));
                result.err().map(|e| format!("- {what}: {e}"))
            })
            .collect()
    });
    assert!(failures.is_empty(), "{} of {total} variants failed:\n{}", failures.len(), failures.join("\n"));
}

fn binary_frame() -> Vec<u8> {
    client_frame(FIN | BINARY, b"\x00\x01binary\xff")
}

#[test]
fn rfc6455_5_5_1_nothing_follows_the_close_when_frames_come_with_the_handshake() {
    let replaying = |bytes: Vec<u8>, we_closed: bool| Exchange {
        retained: 50,
        we_closed,
        ..Exchange::new("/ws?topic=t&since=0", true, bytes)
    };
    run_variants(vec![
        (
            "/ws?since=0, 50 messages to replay, a Close(1000) behind the handshake",
            replaying(close_frame(1000), true),
            nothing_after_the_close,
        ),
        (
            "/ws?since=0, 50 messages to replay, a binary message (Close 1003) behind the handshake",
            replaying(binary_frame(), false),
            nothing_after_the_close,
        ),
        (
            "/ws, a text and a binary message (Close 1003) behind the handshake: the text's push may not follow",
            Exchange::new("/ws?topic=t", true, [client_frame(FIN | TEXT, b"mine"), binary_frame()].concat()),
            nothing_after_the_close,
        ),
        (
            "/ws open, a text and a binary message (Close 1003) in one write",
            Exchange::new("/ws?topic=t", false, [client_frame(FIN | TEXT, b"mine"), binary_frame()].concat()),
            nothing_after_the_close,
        ),
        (
            "/echo, a text message and a Close(1000) behind the handshake",
            Exchange {
                we_closed: true,
                ..Exchange::new("/echo", true, [client_frame(FIN | TEXT, b"echo me"), close_frame(1000)].concat())
            },
            |frames| match frames.first() {
                Some(f) if f.opcode == TEXT && f.payload == b"echo me" => nothing_after_the_close(frames),
                _ => Err(format!("expected the echo, then the Close: {}", describe(frames))),
            },
        ),
    ]);
}

#[test]
fn rfc6455_5_5_1_nothing_follows_the_close_answering_a_close_sent_mid_replay() {
    let _shared = shared();
    let mut lab = Lab::start();
    lab.publish_many("t", REPLAY_MESSAGES, REPLAY_SIZE);
    let mut conn = open_ws(&mut lab, "/ws?topic=t&since=0", Leave::Fin).unwrap_or_else(|e| panic!("{e}"));
    read_a_little(&mut lab, &mut conn, "websocket").unwrap_or_else(|e| panic!("setup: {e}"));
    conn.send(&close_frame(1000)).unwrap();
    conn.read_to_eof(Instant::now() + Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("the server never closed: {e}"));
    let frames = frames_after_101(&conn.got).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        frames.len() < 1 + REPLAY_MESSAGES,
        "the whole replay came before the Close, so it did not arrive mid-replay: {}",
        describe(&frames)
    );
    nothing_after_the_close(&frames).unwrap_or_else(|e| panic!("RFC 6455 §5.5.1: {e}"));
}

// =====================================================================================
// SPEC §7: binary on /ws gets close 1003, whatever follows it in the same read.
// =====================================================================================

/// The server's first frame is Close(1003), and nothing follows it: a refused binary message
/// closes the connection there, so what came after it is neither answered nor published.
fn closed_1003_at_once(frames: &[Frame]) -> Result<(), String> {
    let Some(at) = frames.iter().position(|f| f.opcode == CLOSE) else {
        return Err(format!("no Close: {}", describe(frames)));
    };
    let code = close_code(&frames[at]);
    if code != Some(1003) {
        return Err(format!("closed with {code:?} instead of 1003: {}", describe(frames)));
    }
    if at > 0 {
        return Err(format!(
            "answered what came after the refused binary message before its Close(1003): {}",
            describe(frames)
        ));
    }
    nothing_after_the_close(frames)
}

#[test]
fn spec_7_binary_on_ws_gets_1003_whatever_follows_it_in_the_same_write() {
    let then = |more: Vec<u8>| Exchange::new("/ws?topic=t", false, [binary_frame(), more].concat());
    let (half, rest) = split_frame();
    run_variants(vec![
        ("a binary message alone", then(Vec::new()), closed_1003_at_once),
        (
            "a binary message, then a text message",
            then(client_frame(FIN | TEXT, b"after")),
            closed_1003_at_once,
        ),
        ("a binary message, then a ping", then(client_frame(FIN | PING, b"ping")), closed_1003_at_once),
        ("a binary message, then a pong", then(client_frame(FIN | PONG, b"pong")), closed_1003_at_once),
        ("a binary message, then another binary message", then(binary_frame()), closed_1003_at_once),
        (
            "a binary message, then half a text frame",
            Exchange { then: rest, ..then(half) },
            closed_1003_at_once,
        ),
        (
            "a binary message, then a Close(1000)",
            Exchange { we_closed: true, ..then(close_frame(1000)) },
            closed_1003_at_once,
        ),
        (
            "a binary message of 200 bytes (16-bit length), then a text message",
            Exchange::new(
                "/ws?topic=t",
                false,
                [client_frame(FIN | BINARY, &[0xfe; 200]), client_frame(FIN | TEXT, b"after")].concat(),
            ),
            closed_1003_at_once,
        ),
        (
            "a binary message in two fragments, then a text message",
            Exchange::new(
                "/ws?topic=t",
                false,
                [
                    client_frame(BINARY, b"frag"),
                    client_frame(FIN | CONTINUATION, b"ment"),
                    client_frame(FIN | TEXT, b"after"),
                ]
                .concat(),
            ),
            closed_1003_at_once,
        ),
        (
            "a binary message in two fragments with a ping between",
            Exchange::new(
                "/ws?topic=t",
                false,
                [
                    client_frame(BINARY, b"frag"),
                    client_frame(FIN | PING, b""),
                    client_frame(FIN | CONTINUATION, b"ment"),
                ]
                .concat(),
            ),
            // The ping came before the message was complete: its pong may come first.
            |frames| match frames.first() {
                Some(f) if f.opcode == PONG => closed_1003_at_once(&frames[1..]),
                _ => closed_1003_at_once(frames),
            },
        ),
    ]);
}

// =====================================================================================
// SPEC §8: descriptors, over many connections.
// =====================================================================================

/// Kinds of cycle in [`spec_8_descriptors_return_to_baseline_after_500_mixed_connect_and_leave_cycles`].
const CYCLES: &[&str] = &[
    "connect, close at once",
    "GET /poll, FIN at once",
    "GET /poll answered, reset",
    "half a request head, close",
    "POST /publish mid-body, close",
    "GET /long-poll, close at once",
    "GET /long-poll held, reset",
    "GET /sse, reset",
    "GET /sse, retry read, close",
    "/ws handshake, reset",
    "/ws open, close without a Close frame",
    "/echo, half a frame, close",
    "/echo, Close frame answered, close",
];

fn cycle(addr: SocketAddr, kind: usize) -> Result<(), String> {
    let deadline = Instant::now() + SETUP;
    let mut conn = Conn::connect(addr);
    match kind {
        0 => {}
        1 => {
            conn.send(&request("GET", "/poll?topic=t", "", b""))?;
            let _ = conn.stream.shutdown(Shutdown::Write);
        }
        2 => {
            conn.send(&request("GET", "/poll?topic=t", "", b""))?;
            conn.has_unread(deadline).then_some(()).ok_or("no /poll answer")?;
        }
        3 => conn.send(b"GET /poll?topic=t HTTP/1.1\r\nHo")?,
        4 => conn.send(&request("POST", "/publish?topic=t", "Content-Length: 10\r\n", b"")[..])?,
        5 => conn.send(&request("GET", "/long-poll?topic=t", "", b""))?,
        6 => {
            let mut bytes = request("GET", "/poll?topic=t", "", b"");
            bytes.extend_from_slice(&request("GET", "/long-poll?topic=t", "", b""));
            conn.send(&bytes)?;
            conn.has_unread(deadline).then_some(()).ok_or("no /poll answer")?;
        }
        7 | 9 => {
            conn.send(&if kind == 7 {
                request("GET", "/sse?topic=t", "", b"")
            } else {
                upgrade("/ws?topic=t")
            })?;
            conn.has_unread(deadline).then_some(()).ok_or("no answer")?;
        }
        8 => {
            conn.send(&request("GET", "/sse?topic=t", "", b""))?;
            conn.read_until("the retry preamble", deadline, |got| find(got, b"retry: 3000").is_some())?;
        }
        10..=12 => {
            conn.send(&upgrade(if kind == 10 { "/ws?topic=t" } else { "/echo" }))?;
            conn.read_101()?;
            if kind == 11 {
                conn.send(&half_a_frame())?;
            } else if kind == 12 {
                conn.send(&close_frame(1000))?;
                conn.read_until("the Close answer", deadline, |got| {
                    frames_after_101(got).is_ok_and(|f| f.iter().any(|f| f.opcode == CLOSE))
                })?;
            }
        }
        _ => unreachable!(),
    }
    Ok(())
}

#[test]
fn spec_8_descriptors_return_to_baseline_after_500_mixed_connect_and_leave_cycles() {
    // Counts every descriptor of the process, so no other test may open or close any meanwhile.
    let _alone = alone();
    let mut lab = Lab::start();
    let before = open_descriptors();
    let mut rng = Rng(0x00d1_5c0e_c7ed);
    let mut done = [0usize; CYCLES.len()];
    for i in 0..500 {
        let kind = rng.below(CYCLES.len());
        cycle(lab.addr, kind).unwrap_or_else(|e| panic!("cycle {i} ({}): {e}", CYCLES[kind]));
        done[kind] += 1;
    }
    let left = Instant::now();
    let settled = lab.wait_descriptors(left, left + Duration::from_secs(2));
    let stats = lab.stats();
    let mix: Vec<String> = CYCLES.iter().zip(done).map(|(what, n)| format!("{n} × {what}")).collect();
    if let Err(e) = settled {
        panic!("{e}\n/stats connections: {}\nthe cycles: {}", stats["connections"], mix.join(", "));
    }
    // The whole process: back to where it was, give or take the few a test harness may hold.
    let deadline = left + Duration::from_secs(2);
    let mut after = open_descriptors();
    while after > before + 4 && Instant::now() < deadline {
        std::thread::sleep(POLL_EVERY);
        after = open_descriptors();
    }
    assert!(
        after <= before + 4,
        "{before} descriptors open before 500 cycles, {after} after\n/stats connections: {}\nthe cycles: {}",
        stats["connections"],
        mix.join(", ")
    );
    assert!(at_baseline(&stats), "/stats connections after 500 cycles: {}", stats["connections"]);
}

// =====================================================================================
// Self-checks of this file's own client.
// =====================================================================================

#[test]
fn client_self_check_close_with_unread_input_resets_and_without_sends_fin() {
    let _shared = shared();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    for how in [Leave::Reset, Leave::Close] {
        let conn = Conn::connect(addr);
        let (mut server, _) = listener.accept().unwrap();
        server.write_all(b"unread").unwrap();
        server.set_read_timeout(Some(SETUP)).unwrap();
        if how == Leave::Close {
            let mut conn = conn;
            conn.read_until("the bytes", Instant::now() + SETUP, |got| got == b"unread").unwrap();
            leave(conn, how).unwrap();
        } else {
            leave(conn, how).unwrap();
        }
        let mut buf = [0u8; 16];
        match (how, server.read(&mut buf)) {
            (Leave::Reset, Err(e)) if e.kind() == ErrorKind::ConnectionReset => {}
            (Leave::Close, Ok(0)) => {}
            (how, other) => panic!("{}: the other side read {other:?}", how.describe()),
        }
    }
}

#[test]
fn client_self_check_frames_match_rfc_6455_examples() {
    // §5.7: "A single-frame masked text message" with key 37 fa 21 3d.
    assert_eq!(
        client_frame_with_key(FIN | TEXT, b"Hello", [0x37, 0xfa, 0x21, 0x3d]),
        [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
    );
    // §5.7: "256 bytes binary message in a single unmasked frame" / "64KiB …": the lengths.
    assert_eq!(client_frame_with_key(FIN | BINARY, &[0; 256], [0; 4])[..4], [0x82, 0xFE, 0x01, 0x00]);
    assert_eq!(
        client_frame_with_key(FIN | BINARY, &[0; 65536], [0; 4])[..10],
        [0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0]
    );
    // §5.7: an unmasked "Hello", then a fragmented unmasked "Hel" + "lo", then a partial frame.
    let wire = [
        0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f, 0x88,
    ];
    let (frames, rest) = server_frames(&wire).unwrap();
    let got: Vec<(bool, u8, &[u8])> = frames.iter().map(|f| (f.fin, f.opcode, &f.payload[..])).collect();
    assert_eq!(got, [(true, TEXT, &b"Hello"[..]), (false, TEXT, b"Hel"), (true, CONTINUATION, b"lo")]);
    assert_eq!(rest, 1);
    assert!(server_frames(&[0x81, 0x85, 0, 0, 0, 0, 0]).is_err(), "a masked server frame is refused");
}

// =====================================================================================
// The lab: one server and its /stats probe.
// =====================================================================================

/// Every server here: the defaults, but timers too slow to rescue a leave.
fn lab_config() -> Config {
    Config { heartbeat: HEARTBEAT, long_poll_timeout: LONG_POLL_TIMEOUT, ..config() }
}

/// A server and the keep-alive connection `/stats` is read on (the baseline's one `http`).
struct Lab {
    addr: SocketAddr,
    probe: Client,
    /// Answers to [`Lab::keep_busy`]'s requests not read yet.
    pending: usize,
}

impl Lab {
    fn start() -> Lab {
        let addr = start_with(lab_config());
        let mut lab = Lab { addr, probe: Client::connect(addr), pending: 0 };
        let stats = lab.stats();
        assert!(at_baseline(&stats), "a fresh server's /stats: {}", stats["connections"]);
        lab
    }

    fn stats(&mut self) -> Value {
        while self.pending > 0 {
            let r = self.probe.read_response();
            assert_eq!(r.status, 200, "a busy-work /poll: {}", show(&r.body));
            self.pending -= 1;
        }
        let r = self.probe.exchange(&request("GET", "/stats", "", b""));
        assert_eq!(r.status, 200, "/stats: {}", show(&r.body));
        r.json()
    }

    fn counter(&mut self, name: &str) -> u64 {
        let stats = self.stats();
        stats[name].as_u64().unwrap_or_else(|| panic!("/stats has no {name}: {stats}"))
    }

    fn counter_in(&mut self, group: &str, name: &str) -> u64 {
        let stats = self.stats();
        stats[group][name].as_u64().unwrap_or_else(|| panic!("/stats has no {group}.{name}: {stats}"))
    }

    /// Polls `/stats` until `ok`, or fails at `deadline` showing the last `connections`;
    /// `since` is the moment the wait is measured from, for the message.
    fn wait_until(
        &mut self,
        what: &str,
        since: Instant,
        deadline: Instant,
        ok: impl Fn(&Value) -> bool,
    ) -> Result<Value, String> {
        loop {
            let stats = self.stats();
            if ok(&stats) {
                return Ok(stats);
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "{what}: not within {} ms; /stats connections {}",
                    (deadline - since).as_millis(),
                    stats["connections"]
                ));
            }
            std::thread::sleep(POLL_EVERY);
        }
    }

    /// Polls `/stats` for a setup step, for at most [`SETUP`].
    fn wait_for(&mut self, what: &str, ok: impl Fn(&Value) -> bool) -> Result<Value, String> {
        let now = Instant::now();
        self.wait_until(what, now, now + SETUP, ok)
    }

    /// Waits until the server holds no socket but the probe's.
    fn wait_descriptors(&mut self, since: Instant, deadline: Instant) -> Result<(), String> {
        loop {
            let open = server_sockets(self.addr.port());
            if open == 1 {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "descriptors not closed within {} ms: the server holds {open} sockets, 1 is the probe's",
                    (deadline - since).as_millis()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Pipelines [`BUSY_REQUESTS`] requests on the probe: work the server does in one go.
    fn keep_busy(&mut self) {
        let batch = request("GET", "/poll?topic=busy", "", b"").repeat(BUSY_REQUESTS);
        self.probe.send(&batch);
        self.pending += BUSY_REQUESTS;
    }

    fn publish(&mut self, topic: &str, data: &str) {
        let r =
            self.probe.exchange(&request("POST", &format!("/publish?topic={topic}"), "", data.as_bytes()));
        assert_eq!(r.status, 200, "publish: {}", show(&r.body));
    }

    /// Publishes `n` messages of `len` bytes, pipelined on the probe.
    fn publish_many(&mut self, topic: &str, n: usize, len: usize) {
        let alphabet: Vec<u8> = (0..len + 26).map(|j| b'a' + (j % 26) as u8).collect();
        let mut batch = Vec::with_capacity(n * (len + 100));
        for i in 0..n {
            let body = &alphabet[i % 26..i % 26 + len];
            batch.extend_from_slice(&request("POST", &format!("/publish?topic={topic}"), "", body));
        }
        self.probe.send(&batch);
        for _ in 0..n {
            let r = self.probe.read_response();
            assert_eq!(r.status, 200, "publish: {}", show(&r.body));
        }
    }

    /// What `topic` retains is exactly `texts`.
    fn expect_published(&mut self, topic: &str, texts: &[&str]) -> Result<(), String> {
        let r = self.probe.exchange(&request("GET", &format!("/poll?topic={topic}&since=0"), "", b""));
        let got: Vec<String> = r.json()["messages"]
            .as_array()
            .map(|m| m.iter().map(|m| m["data"].as_str().unwrap_or("?").to_string()).collect())
            .unwrap_or_default();
        (got == texts).then_some(()).ok_or(format!("topic {topic} holds {got:?}, expected {texts:?}"))
    }
}

/// Only the probe is open, and it is plain HTTP.
fn at_baseline(stats: &Value) -> bool {
    let c = &stats["connections"];
    c["http"] == 1 && c["long_poll"] == 0 && c["sse"] == 0 && c["websocket"] == 0
}

// =====================================================================================
// Descriptors (the server is in-process: its descriptors are ours).
// =====================================================================================

/// Every descriptor this process holds.
fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd").expect("/proc/self/fd").count()
}

/// The inodes of the sockets this process holds open: `/proc/self/fd` links to
/// `socket:[inode]` for each.
fn open_sockets() -> HashSet<u64> {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else { return HashSet::new() };
    dir.filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .filter_map(|link| {
            let link = link.to_string_lossy().into_owned();
            link.strip_prefix("socket:[")?.strip_suffix(']')?.parse::<u64>().ok()
        })
        .collect()
}

/// `/proc/net/tcp` (IPv4, which is all of loopback here), as `(local port, remote port,
/// state, inode)` rows.
fn tcp_table() -> Vec<(u16, u16, String, u64)> {
    let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
    let port = |address: &str| u16::from_str_radix(address.rsplit(':').next()?, 16).ok();
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            Some((
                port(fields.get(1)?)?,
                port(fields.get(2)?)?,
                fields.get(3)?.to_string(),
                fields.get(9)?.parse().ok()?,
            ))
        })
        .collect()
}

/// How many sockets this process holds whose local port is `port`: the server's accepted
/// connections (not its listener).
fn server_sockets(port: u16) -> usize {
    server_sockets_in(&tcp_table(), &open_sockets(), port)
}

/// [`server_sockets`], from a `table` and the set of `open` sockets read already.
fn server_sockets_in(table: &[(u16, u16, String, u64)], open: &HashSet<u64>, port: u16) -> usize {
    // State 0A is LISTEN.
    table
        .iter()
        .filter(|(local, _, state, inode)| *local == port && state != "0A" && open.contains(inode))
        .count()
}

/// The descriptor test counts every descriptor of the process: it runs alone; all other
/// tests share.
static DESCRIPTORS: RwLock<()> = RwLock::new(());

fn shared() -> RwLockReadGuard<'static, ()> {
    DESCRIPTORS.read().unwrap_or_else(|e| e.into_inner())
}

fn alone() -> RwLockWriteGuard<'static, ()> {
    DESCRIPTORS.write().unwrap_or_else(|e| e.into_inner())
}

// =====================================================================================
// The client connection.
// =====================================================================================

/// One raw connection and everything it has read.
struct Conn {
    stream: TcpStream,
    got: Vec<u8>,
}

enum Fill {
    Data,
    Eof,
    TimedOut,
}

impl Conn {
    fn connect(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
        stream.set_nodelay(true).unwrap();
        Conn { stream, got: Vec::new() }
    }

    fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.stream.write_all(bytes).map_err(|e| format!("write: {e}"))
    }

    /// One read of at most `max` bytes; EOF and a reset are both `Eof`.
    fn fill(&mut self, max: usize, deadline: Instant) -> Result<Fill, String> {
        let mut chunk = vec![0u8; max];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(Fill::TimedOut);
            }
            self.stream.set_read_timeout(Some(left)).unwrap();
            match self.stream.read(&mut chunk) {
                Ok(0) => return Ok(Fill::Eof),
                Ok(n) => {
                    self.got.extend_from_slice(&chunk[..n]);
                    return Ok(Fill::Data);
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                    ) => {}
                Err(e) if matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted) => {
                    return Ok(Fill::Eof)
                }
                Err(e) => return Err(format!("read: {e}")),
            }
        }
    }

    /// One read of at most `max` bytes, which must bring some.
    fn read_some(&mut self, max: usize, deadline: Instant) -> Result<(), String> {
        match self.fill(max, deadline)? {
            Fill::Data => Ok(()),
            Fill::Eof => Err(format!("closed after {}", show(&self.got))),
            Fill::TimedOut => Err(format!("nothing came; got {}", show(&self.got))),
        }
    }

    /// Reads until `done(everything read)`.
    fn read_until(
        &mut self,
        what: &str,
        deadline: Instant,
        done: impl Fn(&[u8]) -> bool,
    ) -> Result<(), String> {
        while !done(&self.got) {
            match self.fill(64 * 1024, deadline)? {
                Fill::Data => {}
                Fill::Eof => return Err(format!("waiting for {what}: closed after {}", show(&self.got))),
                Fill::TimedOut => {
                    return Err(format!("waiting for {what}: timed out after {}", show(&self.got)))
                }
            }
        }
        Ok(())
    }

    /// Reads one whole `Content-Length` response.
    fn read_response(&mut self) -> Result<(), String> {
        self.read_until("a response", Instant::now() + SETUP, |got| first_response(got).is_some())
    }

    /// Reads the `101` head of an upgrade, which must be one.
    fn read_101(&mut self) -> Result<(), String> {
        self.read_until("the 101 head", Instant::now() + SETUP, |got| head_end(got).is_some())?;
        if !self.got.starts_with(b"HTTP/1.1 101 ") {
            return Err(format!("the upgrade was refused: {}", show(&self.got)));
        }
        Ok(())
    }

    /// Reads until EOF or a reset.
    fn read_to_eof(&mut self, deadline: Instant) -> Result<(), String> {
        loop {
            match self.fill(256 * 1024, deadline)? {
                Fill::Data => {}
                Fill::Eof => return Ok(()),
                Fill::TimedOut => return Err(format!("no EOF in time; got {}", show(&self.got))),
            }
        }
    }

    /// Whether received bytes wait unread in the kernel (waiting for some until `deadline`).
    fn has_unread(&self, deadline: Instant) -> bool {
        let mut byte = [0u8; 1];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            self.stream.set_read_timeout(Some(left)).unwrap();
            match self.stream.peek(&mut byte) {
                Ok(n) => return n > 0,
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                    ) => {}
                Err(_) => return false,
            }
        }
    }

    /// Reads what has arrived (up to 1 MiB), without waiting, so a close sends a FIN.
    fn drain_now(&mut self) {
        let _ = self.stream.set_nonblocking(true);
        let mut chunk = vec![0u8; 64 * 1024];
        let mut total = 0;
        while total < 1024 * 1024 {
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    self.got.extend_from_slice(&chunk[..n]);
                    total += n;
                }
            }
        }
        let _ = self.stream.set_nonblocking(false);
    }
}

/// A thread's panic message.
fn panic_text(payload: &Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "(no message)".into())
}

// =====================================================================================
// HTTP bytes.
// =====================================================================================

fn head_end(bytes: &[u8]) -> Option<usize> {
    find(bytes, b"\r\n\r\n").map(|i| i + 4)
}

/// The status and body of the first response in `bytes`, if it is whole (`Content-Length`
/// framing; `100 Continue` is not a response here).
fn first_response(bytes: &[u8]) -> Option<(u16, &[u8])> {
    let end = head_end(bytes)?;
    let head = std::str::from_utf8(&bytes[..end]).ok()?;
    let status: u16 = head.get(9..12)?.parse().ok()?;
    let len: usize = head
        .lines()
        .find_map(|l| l.split_once(':').filter(|(n, _)| n.eq_ignore_ascii_case("content-length")))?
        .1
        .trim()
        .parse()
        .ok()?;
    (bytes.len() >= end + len).then(|| (status, &bytes[end..end + len]))
}

/// The opening handshake on `target` (RFC 6455 §4.1), without `Origin`.
fn upgrade(target: &str) -> Vec<u8> {
    let headers = format!(
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {WS_KEY}\r\nSec-WebSocket-Version: 13\r\n"
    );
    request("GET", target, &headers, b"")
}

// =====================================================================================
// WebSocket frames (RFC 6455 §5.2), written here from the RFC.
// =====================================================================================

/// A masked client frame: `first` is FIN | opcode; the key changes with every frame.
fn client_frame(first: u8, payload: &[u8]) -> Vec<u8> {
    static FRAMES: AtomicU32 = AtomicU32::new(1);
    let n = FRAMES.fetch_add(1, Ordering::Relaxed);
    client_frame_with_key(first, payload, n.wrapping_mul(2_654_435_761).to_be_bytes())
}

/// §5.2: the first byte, MASK | the 7-bit length (126: 16 more bits, 127: 64 more), the key,
/// and the payload masked with it (§5.3).
fn client_frame_with_key(first: u8, payload: &[u8], key: [u8; 4]) -> Vec<u8> {
    let mut out = vec![first];
    match payload.len() {
        n @ 0..=125 => out.push(0x80 | n as u8),
        n @ 126..=0xFFFF => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&key);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    out
}

fn close_frame(code: u16) -> Vec<u8> {
    client_frame(FIN | CLOSE, &code.to_be_bytes())
}

/// One frame from the server.
#[derive(Debug)]
struct Frame {
    fin: bool,
    opcode: u8,
    payload: Vec<u8>,
}

/// The whole frames at the start of `bytes`, and how many bytes of an unfinished one follow.
/// Server frames must be unmasked (§5.1) and have no RSV bits (no extension was negotiated).
fn server_frames(mut bytes: &[u8]) -> Result<(Vec<Frame>, usize), String> {
    let mut frames = Vec::new();
    loop {
        if bytes.len() < 2 {
            return Ok((frames, bytes.len()));
        }
        if bytes[1] & 0x80 != 0 || bytes[0] & 0x70 != 0 {
            return Err(format!(
                "frame {} from the server is masked or has RSV bits: {:02x?}",
                frames.len(),
                &bytes[..2]
            ));
        }
        let (len, header) = match bytes[1] & 0x7F {
            126 if bytes.len() >= 4 => (u16::from_be_bytes([bytes[2], bytes[3]]) as usize, 4),
            127 if bytes.len() >= 10 => (u64::from_be_bytes(bytes[2..10].try_into().unwrap()) as usize, 10),
            126 | 127 => return Ok((frames, bytes.len())),
            n => (n as usize, 2),
        };
        if bytes.len() < header + len {
            return Ok((frames, bytes.len()));
        }
        frames.push(Frame {
            fin: bytes[0] & 0x80 != 0,
            opcode: bytes[0] & 0x0F,
            payload: bytes[header..header + len].to_vec(),
        });
        bytes = &bytes[header + len..];
    }
}

/// The frames after a `101` head at the start of `bytes` (all of them whole).
fn frames_after_101(bytes: &[u8]) -> Result<Vec<Frame>, String> {
    let end = head_end(bytes).ok_or(format!("no response head: {}", show(bytes)))?;
    if !bytes.starts_with(b"HTTP/1.1 101 ") {
        return Err(format!("the upgrade was refused: {}", show(&bytes[..end])));
    }
    let (frames, rest) = server_frames(&bytes[end..])?;
    if rest != 0 {
        return Err(format!("{rest} bytes of an unfinished frame at the end: {}", describe(&frames)));
    }
    Ok(frames)
}

fn close_code(frame: &Frame) -> Option<u16> {
    (frame.payload.len() >= 2).then(|| u16::from_be_bytes([frame.payload[0], frame.payload[1]]))
}

/// Frames for a message: opcodes, close codes and the start of text payloads; long runs of
/// text frames are counted, not listed.
fn describe(frames: &[Frame]) -> String {
    let one = |f: &Frame| match f.opcode {
        CLOSE => format!("Close({:?})", close_code(f)),
        TEXT => {
            let text = String::from_utf8_lossy(&f.payload[..f.payload.len().min(24)]).into_owned();
            format!("Text({} bytes, {text:?}…)", f.payload.len())
        }
        op => format!("opcode {op:#x} ({} bytes)", f.payload.len()),
    };
    if frames.len() <= 6 {
        return format!("[{}]", frames.iter().map(one).collect::<Vec<_>>().join(", "));
    }
    let (head, tail) = (&frames[..3], &frames[frames.len() - 2..]);
    format!(
        "[{}, … {} more …, {}]",
        head.iter().map(one).collect::<Vec<_>>().join(", "),
        frames.len() - 5,
        tail.iter().map(one).collect::<Vec<_>>().join(", ")
    )
}
