//! Bytes no client should send (SPEC §8: "No input … may panic the server, stall other
//! clients or grow memory without bound"), and clients that stop sending but keep reading.
//!
//! Random bytes go to every route at every stage a route has: as a whole request, after a
//! request line, as a body (plain and chunked), behind a held long-poll, into a live SSE
//! stream, and as WebSocket frames on `/ws` and `/echo`; and valid pipelines get mutated
//! (bytes flipped, inserted, deleted, repeated). Every garbage connection ends with a FIN, so
//! nothing waits for a timer: the server must answer with a well-formed status line or not at
//! all, close its side, keep serving the probe, and count nothing once they are all gone.
//! The generator is seeded ([`Rng`]): a failure replays exactly.

use std::io::Write;
use std::time::Duration;

use crate::common::{request, show, Client, Rng};
use crate::{client_frame, server, shared, upgrade, Probe};

/// Statuses a garbage request may get (SPEC §8's list, plus what a valid request that
/// garbage happened to form would get).
const STATUSES: &[&str] = &[
    "100", "101", "200", "204", "400", "403", "404", "405", "408", "413", "414", "426", "431", "501", "505",
];

/// What goes before the garbage, by route and stage.
fn stages() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("nothing: garbage as the request", Vec::new()),
        ("a request line: garbage as header fields", b"GET /poll?topic=g HTTP/1.1\r\n".to_vec()),
        ("GET /stats, garbage in the target", b"GET /stats?".to_vec()),
        (
            "a /publish head: garbage as the body",
            request("POST", "/publish?topic=g", "Content-Length: 300\r\n", b""),
        ),
        (
            "a chunked /publish head: garbage as chunks",
            request("POST", "/publish?topic=g", "Transfer-Encoding: chunked\r\n", b""),
        ),
        ("a held /long-poll: garbage pipelined behind", request("GET", "/long-poll?topic=g", "", b"")),
        ("an SSE stream: garbage sent into it", request("GET", "/sse?topic=g", "", b"")),
        ("an open /ws: garbage as frames", upgrade("/ws?topic=g")),
        ("an open /echo: garbage as frames", upgrade("/echo")),
        (
            "an open /echo, one valid frame: garbage after it",
            [upgrade("/echo"), client_frame(true, 0x1, b"ok")].concat(),
        ),
    ]
}

/// `n` random bytes, half the time from an alphabet of HTTP's own punctuation and tokens, so
/// the parser gets past its first byte more often.
fn garbage(rng: &mut Rng, n: usize) -> Vec<u8> {
    const HTTPISH: &[u8] = b"\r\n\r\n:: ;=,\t/?%GETPOSTHTTP/1.10123456789abcdefABCDEF-chunked\x00\x7f\xff";
    let httpish = rng.below(2) == 0;
    (0..n).map(|_| if httpish { *rng.pick(HTTPISH) } else { rng.byte() }).collect()
}

/// A valid pipeline with a few random edits.
fn mutated(rng: &mut Rng) -> Vec<u8> {
    let mut bytes = [
        request("POST", "/publish?topic=g", "", b"hello"),
        request("POST", "/publish?topic=g", "Transfer-Encoding: chunked\r\n", b"3\r\nabc\r\n0\r\n\r\n"),
        request("GET", "/poll?topic=g&since=0&limit=5", "Origin: http://pushlab.test\r\n", b""),
        request("GET", "/long-poll?topic=g&since=0", "", b""),
        request("HEAD", "/sse?topic=g", "", b""),
    ]
    .concat();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(bytes.len());
        match rng.below(4) {
            0 => bytes[at] = rng.byte(),
            1 => bytes.insert(at, rng.byte()),
            2 => drop(bytes.drain(at..(at + 1 + rng.below(8)).min(bytes.len()))),
            _ => {
                let piece = bytes[at..(at + 1 + rng.below(16)).min(bytes.len())].to_vec();
                bytes.splice(at..at, piece);
            }
        }
    }
    bytes
}

/// Sends `bytes` and a FIN, then reads to EOF: what the server answered. Panics if the
/// server never closes, or answers with anything but a status line of [`STATUSES`].
fn attack(client: &mut Client, bytes: &[u8], what: &str) {
    // The server may stop reading (and answer 400) before all is sent: a failed write is fine.
    let _ = client.stream().write_all(bytes);
    client.shutdown_write();
    client.set_patience(Duration::from_secs(3));
    let got = client.read_to_close();
    if got.is_empty() {
        return;
    }
    let status_ok = got.len() >= 12
        && (got.starts_with(b"HTTP/1.1 ") || got.starts_with(b"HTTP/1.0 "))
        && STATUSES.iter().any(|s| got[9..12] == *s.as_bytes());
    assert!(status_ok, "{what}: sent {}\nanswered {}", show(bytes), show(&got));
}

#[test]
fn spec_8_random_bytes_on_every_route_get_a_status_or_a_close_and_the_server_serves_on() {
    let _shared = shared();
    let addr = server(|_| {});
    let mut probe = Probe::new(addr);
    std::thread::scope(|s| {
        for (n, (stage, prefix)) in stages().into_iter().enumerate() {
            s.spawn(move || {
                let mut rng = Rng(0x6a7b_a9e0 + n as u64);
                for i in 0..30 {
                    let len = [1, 7, 64, 512, 4096][i % 5] + rng.below(16);
                    let mut bytes = prefix.clone();
                    bytes.extend(garbage(&mut rng, len));
                    let mut c = Client::connect(addr);
                    attack(&mut c, &bytes, &format!("{stage}, attempt {i}"));
                }
            });
        }
        s.spawn(move || {
            let mut rng = Rng(0x0bad_5eed);
            for i in 0..100 {
                let bytes = mutated(&mut rng);
                attack(&mut Client::connect(addr), &bytes, &format!("mutated pipeline {i}"));
            }
        });
    });
    probe.still_serves("after 400 garbage connections");
    probe.wait_baseline("after the garbage");
}

/// RFC 9112 §9.6, SPEC §8: a client that half-closes after pipelining 300 requests whose
/// answers (16 MB) are far more than the server may queue still gets every answer, in order,
/// then EOF — although the server had to stop reading (backpressure) with the FIN behind the
/// requests it had not read yet.
#[test]
fn rfc9112_9_6_a_half_closed_client_gets_every_pipelined_answer_then_eof() {
    let _shared = shared();
    let addr = server(|_| {});
    let mut probe = Probe::new(addr);
    for i in 0..50 {
        probe.publish("half", format!("{i:0>1024}").as_bytes());
    }
    let mut c = Client::connect(addr);
    let mut raw = Vec::new();
    for i in 0..300 {
        let target = match i % 3 {
            0 => "/poll?topic=half&since=0",
            1 => "/long-poll?topic=half&since=0",
            _ => "/poll?topic=half&since=49",
        };
        raw.extend(request("GET", target, "", b""));
    }
    let mut writer = c.stream().try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        writer.write_all(&raw).expect("the requests");
        writer.shutdown(std::net::Shutdown::Write).expect("the FIN");
    });
    std::thread::sleep(Duration::from_millis(300));
    for i in 0..300 {
        let r = c.try_read_response(false).unwrap_or_else(|e| panic!("answer {i} of 300: {e}"));
        assert_eq!(r.status, 200, "answer {i}");
        let want = if i % 3 == 2 { 1 } else { 50 };
        assert_eq!(r.json()["messages"].as_array().map(Vec::len), Some(want), "answer {i}");
    }
    sender.join().unwrap();
    assert!(c.is_closed(), "EOF after the last answer");
    assert!(c.unread().is_empty(), "nothing after the last answer: {}", show(c.unread()));
    drop(c);
    probe.wait_baseline("after the half-closed client");
}
