//! Chapters 02–03 from the outside: publishing, short polling and long polling (SPEC §2–5,
//! §7 CORS, §9 `/stats`), spoken over raw `TcpStream`s to a real server on `127.0.0.1:0`.
//!
//! Every read has a timeout, so every test ends by itself; each test starts its own server,
//! so tests are independent and run in parallel.

mod common;

use std::io::Read;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{
    check_date_and_server, config, eventually, get, request, start, start_with, Client, Response, Rng,
};
use pushlab::config::Config;
use serde_json::Value;

// ---------------------------------------------------------------------------------------
// Helpers over `tests/common`.
// ---------------------------------------------------------------------------------------

/// pushlab with one setting changed from the test defaults.
fn server_with(adjust: impl FnOnce(&mut Config)) -> SocketAddr {
    let mut c = config();
    adjust(&mut c);
    start_with(c)
}

/// One request on a fresh connection.
fn ask(addr: SocketAddr, method: &str, target: &str, extra: &str, body: &[u8]) -> Response {
    common::fetch(addr, &request(method, target, extra, body))
}

fn status(addr: SocketAddr, target: &str) -> u16 {
    get(addr, target).status
}

/// `GET target`, which must be `200` JSON.
fn get_json(addr: SocketAddr, target: &str) -> Value {
    let r = get(addr, target);
    assert_eq!(r.status, 200, "GET {target}: {}", String::from_utf8_lossy(&r.body));
    r.json()
}

fn publish(addr: SocketAddr, topic: &str, data: &str) -> u64 {
    Client::connect(addr).publish(topic, data)
}

impl Client {
    /// Sends a request and reads its response on this (keep-alive) connection.
    fn ask(&mut self, method: &str, target: &str, extra: &str, body: &[u8]) -> Response {
        self.exchange(&request(method, target, extra, body))
    }

    fn publish(&mut self, topic: &str, data: &str) -> u64 {
        let r = self.ask("POST", &format!("/publish?topic={topic}"), "", data.as_bytes());
        assert_eq!(r.status, 200, "publish: {}", String::from_utf8_lossy(&r.body));
        r.json()["id"].as_u64().expect("id")
    }

    /// Sends a request without waiting for the answer (a long-poll to be held).
    fn send_get(&mut self, target: &str) {
        self.send(&request("GET", target, "", b""));
    }
}

/// Publishes `n` messages (`"0"`, `"1"`, …) pipelined on one connection.
fn publish_many(addr: SocketAddr, topic: &str, n: usize) {
    let mut client = Client::connect(addr);
    let mut all = Vec::new();
    for i in 0..n {
        all.extend(request("POST", &format!("/publish?topic={topic}"), "", i.to_string().as_bytes()));
    }
    client.send(&all);
    for _ in 0..n {
        assert_eq!(client.read_response().status, 200);
    }
}

fn ids(reply: &Value) -> Vec<u64> {
    reply["messages"].as_array().expect("messages").iter().map(|m| m["id"].as_u64().unwrap()).collect()
}

fn next(reply: &Value) -> u64 {
    reply["next"].as_u64().expect("next")
}

fn stats(addr: SocketAddr) -> Value {
    get_json(addr, "/stats")
}

fn held_long_polls(addr: SocketAddr) -> u64 {
    stats(addr)["connections"]["long_poll"].as_u64().unwrap()
}

/// Waits until `/stats` shows exactly `n` held long-polls.
fn wait_held(addr: SocketAddr, n: u64) {
    eventually(&format!("{n} held long-polls"), || match held_long_polls(addr) {
        held if held == n => Ok(()),
        held => Err(format!("{held} held")),
    });
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

// ---------------------------------------------------------------------------------------
// SPEC §2: topics, ids, the message JSON, the cursor.
// ---------------------------------------------------------------------------------------

#[test]
fn topic_is_1_to_64_of_the_allowed_characters() {
    let addr = start();
    let longest = "A-Z_a.z-09".repeat(7)[..64].to_string();
    assert_eq!(status(addr, &format!("/poll?topic={longest}")), 200);
    assert_eq!(ask(addr, "POST", &format!("/publish?topic={longest}"), "", b"x").status, 200);
    let too_long = "x".repeat(65);
    for bad in
        [too_long.as_str(), "", "a/b", "a:b", "a%20b", "caf%C3%A9", "a*", "a%00", "a+b", "a%2Bb", "%7E"]
    {
        for path in ["/poll", "/long-poll"] {
            let r = get(addr, &format!("{path}?topic={bad}"));
            assert_eq!(r.status, 400, "{path} topic {bad:?}");
        }
        assert_eq!(
            ask(addr, "POST", &format!("/publish?topic={bad}"), "", b"x").status,
            400,
            "publish {bad:?}"
        );
    }
    for missing in ["/poll", "/poll?", "/poll?since=0", "/long-poll?timeout=1", "/poll?Topic=a"] {
        assert_eq!(status(addr, missing), 400, "{missing}");
    }
    assert_eq!(ask(addr, "POST", "/publish", "", b"x").status, 400);
}

#[test]
fn ids_are_consecutive_per_topic_and_the_publish_reply_is_exact() {
    let addr = start();
    let mut client = Client::connect(addr);
    let mut seen = std::collections::HashMap::new();
    for (i, topic) in ["a", "b", "a", "a", "c", "b", "a"].iter().enumerate() {
        let r = client.ask("POST", &format!("/publish?topic={topic}"), "", format!("m{i}").as_bytes());
        assert_eq!(r.status, 200);
        assert_eq!(r.header("Content-Type"), Some("application/json"));
        let id = seen.entry(*topic).and_modify(|n| *n += 1).or_insert(1u64);
        assert_eq!(r.text(), format!(r#"{{"id":{id},"topic":"{topic}"}}"#));
    }
    let a = get_json(addr, "/poll?topic=a&since=0");
    assert_eq!(ids(&a), [1, 2, 3, 4]);
    let data: Vec<_> =
        a["messages"].as_array().unwrap().iter().map(|m| m["data"].as_str().unwrap()).collect();
    assert_eq!(data, ["m0", "m2", "m3", "m6"]);
    assert_eq!(ids(&get_json(addr, "/poll?topic=b&since=0")), [1, 2]);
}

#[test]
fn message_json_has_exactly_the_spec_shape_and_time_is_now() {
    let addr = start();
    let before = now_ms();
    publish(addr, "shape", "hello");
    let after = now_ms();
    let r = get(addr, "/poll?topic=shape&since=0");
    let time = r.json()["messages"][0]["time"].as_u64().expect("time is a number");
    // SPEC §2: the server's time at publish, and the server runs in this process, on this clock.
    assert!((before..=after).contains(&time), "time {time} not within [{before}, {after}]");
    // The exact bytes: key order, no spaces (SPEC §2 and §4).
    assert_eq!(
        r.text(),
        format!(
            r#"{{"topic":"shape","messages":[{{"id":1,"topic":"shape","data":"hello","time":{time}}}],"next":1}}"#
        )
    );
}

#[test]
fn the_cursor_since_absent_zero_older_and_beyond() {
    let addr = start();
    // Never published: nothing, and the cursor is 0 however it is asked.
    for q in ["", "&since=0", "&since=5"] {
        let empty = get_json(addr, &format!("/poll?topic=fresh{q}"));
        assert_eq!((ids(&empty), next(&empty)), (vec![], 0), "{q}");
    }
    for i in 1..=3 {
        publish(addr, "cur", &format!("m{i}"));
    }
    let cases: &[(&str, &[u64], u64)] = &[
        ("", &[], 3), // absent: from now, nothing old
        ("&since=0", &[1, 2, 3], 3),
        ("&since=1", &[2, 3], 3),
        ("&since=2", &[3], 3),
        ("&since=3", &[], 3),
        ("&since=99", &[], 3), // beyond the latest (a restarted server): the latest
        ("&since=18446744073709551615", &[], 3),
        ("&since=007", &[], 3),     // leading zeros are digits
        ("&since=%31", &[2, 3], 3), // percent-decoded before parsing
    ];
    for &(q, want, want_next) in cases {
        let reply = get_json(addr, &format!("/poll?topic=cur{q}"));
        assert_eq!(ids(&reply), want, "{q}");
        assert_eq!(next(&reply), want_next, "{q}");
        assert_eq!(reply["topic"], "cur");
    }
}

#[test]
fn replay_window_keeps_the_last_n() {
    let addr = server_with(|c| c.replay = 5);
    publish_many(addr, "r", 12);
    assert_eq!(ids(&get_json(addr, "/poll?topic=r&since=0")), [8, 9, 10, 11, 12]);
    assert_eq!(ids(&get_json(addr, "/poll?topic=r&since=3")), [8, 9, 10, 11, 12], "older than the ring");
    assert_eq!(ids(&get_json(addr, "/poll?topic=r&since=9")), [10, 11, 12]);
    assert_eq!(ids(&get_json(addr, "/long-poll?topic=r&since=0&limit=2")), [8, 9]);
    // The ids go on past the window.
    assert_eq!(publish(addr, "r", "x"), 13);
}

#[test]
fn limit_defaults_to_100_and_is_clamped_to_1_through_1000() {
    let addr = server_with(|c| c.replay = 2000);
    publish_many(addr, "lim", 1100);
    let cases = [
        ("", 100),
        ("&limit=0", 1),
        ("&limit=1", 1),
        ("&limit=7", 7),
        ("&limit=1000", 1000),
        ("&limit=5000", 1000),
    ];
    for (q, n) in cases {
        for path in ["/poll", "/long-poll"] {
            let reply = get_json(addr, &format!("{path}?topic=lim&since=0{q}"));
            assert_eq!(ids(&reply), (1..=n).collect::<Vec<u64>>(), "{path} {q}");
            assert_eq!(next(&reply), n, "{path} {q}: next is the last id included");
        }
    }
    let reply = get_json(addr, "/poll?topic=lim&since=1095&limit=100");
    assert_eq!((ids(&reply), next(&reply)), ((1096..=1100).collect(), 1100));
    let huge = get_json(addr, "/poll?topic=lim&since=0&limit=18446744073709551615");
    assert_eq!(ids(&huge).len(), 1000);
}

#[test]
fn since_limit_and_timeout_must_be_plain_digits() {
    let addr = start();
    publish(addr, "n", "x");
    let bad = [
        "-1",
        "1.5",
        "+3",
        "%2B3",
        "%203",
        "3%20",
        "",
        "0x10",
        "1e3",
        "99999999999999999999999",
        "18446744073709551616",
        "%G1",
    ];
    for value in bad {
        for (path, name) in [
            ("/poll", "since"),
            ("/poll", "limit"),
            ("/long-poll", "since"),
            ("/long-poll", "limit"),
            ("/long-poll", "timeout"),
        ] {
            let r = get(addr, &format!("{path}?topic=n&{name}={value}"));
            assert_eq!(r.status, 400, "{path} {name}={value:?}");
        }
    }
    // A raw space cannot even be sent: it ends the request-target (RFC 9112 §3.2).
    assert_eq!(status(addr, "/poll?topic=n&since= 3"), 400);
}

#[test]
fn query_values_are_percent_decoded_and_plus_stays_plus() {
    let addr = start();
    let r = ask(addr, "POST", "/publish?topic=a%2Eb", "", b"dotted");
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), r#"{"id":1,"topic":"a.b"}"#, "the reply names the decoded topic");
    let reply = get_json(addr, "/poll?topic=a.b&since=0");
    assert_eq!((ids(&reply), reply["messages"][0]["topic"].as_str()), (vec![1], Some("a.b")));
    assert_eq!(ids(&get_json(addr, "/poll?%74opic=%61%2eb&since=0")), [1], "names and lowercase hex too");
    for q in
        ["topic=%G1", "topic=a%2", "topic=a%", "topic=a&x=%zz", "topic=a&since=%3", "topic=a+b", "topic=%FF"]
    {
        assert_eq!(status(addr, &format!("/poll?{q}")), 400, "{q}");
        assert_eq!(ask(addr, "POST", &format!("/publish?{q}"), "", b"x").status, 400, "publish {q}");
    }
}

// ---------------------------------------------------------------------------------------
// SPEC §3: publishing.
// ---------------------------------------------------------------------------------------

/// The data of message `id` on `topic`, read back through `/poll`.
fn data_of(addr: SocketAddr, topic: &str, id: u64) -> String {
    let reply = get_json(addr, &format!("/poll?topic={topic}&since={}&limit=1", id - 1));
    assert_eq!(ids(&reply), [id]);
    reply["messages"][0]["data"].as_str().unwrap().to_string()
}

#[test]
fn publish_takes_content_length_and_chunked_bodies() {
    let addr = start();
    let mut c = Client::connect(addr);
    let r = c.ask("POST", "/publish?topic=p", "Content-Type: text/plain\r\n", b"plain body");
    assert_eq!((r.status, r.text()), (200, r#"{"id":1,"topic":"p"}"#));
    let chunked = b"5\r\nhello\r\n1;ext=1\r\n,\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n";
    let r = c.ask("POST", "/publish?topic=p", "Transfer-Encoding: chunked\r\n", chunked);
    assert_eq!((r.status, r.text()), (200, r#"{"id":2,"topic":"p"}"#));
    assert_eq!(data_of(addr, "p", 1), "plain body");
    assert_eq!(data_of(addr, "p", 2), "hello, world");
}

#[test]
fn publish_refuses_empty_and_invalid_utf8_bodies() {
    let addr = start();
    let empty_chunked = ask(addr, "POST", "/publish?topic=e", "Transfer-Encoding: chunked\r\n", b"0\r\n\r\n");
    assert_eq!(empty_chunked.status, 400);
    assert_eq!(ask(addr, "POST", "/publish?topic=e", "", b"").status, 400);
    // No framing at all: a request without a body.
    let mut c = Client::connect(addr);
    c.send(b"POST /publish?topic=e HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(c.read_response().status, 400);
    for bad in [&b"\xff"[..], b"ok\xc3", b"\xc0\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"a\x80b"] {
        let mut c = Client::connect(addr);
        assert_eq!(c.ask("POST", "/publish?topic=e", "", bad).status, 400, "{bad:?}");
        assert!(c.is_closed(), "a 400 closes the connection (SPEC §8)");
    }
    assert_eq!(next(&get_json(addr, "/poll?topic=e")), 0, "nothing was published");
}

#[test]
fn publish_body_limit_is_65536_bytes() {
    let addr = start();
    let mut c = Client::connect(addr);
    let exactly = "é".repeat(32768);
    assert_eq!(exactly.len(), 65536);
    assert_eq!(c.publish("big", &exactly), 1);
    assert_eq!(data_of(addr, "big", 1), exactly);

    // Chunked, exactly the limit in three chunks: accepted.
    let mut body = Vec::new();
    for part in [30000, 30000, 5536] {
        body.extend(format!("{part:x}\r\n").bytes());
        body.extend(std::iter::repeat_n(b'y', part));
        body.extend(b"\r\n");
    }
    body.extend(b"0\r\n\r\n");
    assert_eq!(c.ask("POST", "/publish?topic=big", "Transfer-Encoding: chunked\r\n", &body).status, 200);

    // Content-Length one over: refused before the body is sent.
    let mut c = Client::connect(addr);
    c.send(b"POST /publish?topic=big HTTP/1.1\r\nHost: x\r\nContent-Length: 65537\r\n\r\n");
    assert_eq!(c.read_response().status, 413);
    assert!(c.is_closed());
    // Even when the client waits for `100 Continue`, it gets 413 and no 100.
    let mut c = Client::connect(addr);
    c.send(b"POST /publish?topic=big HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 999999\r\n\r\n");
    assert_eq!(c.read_response().status, 413);

    // Chunked one over: 413 as well.
    let mut body = Vec::new();
    for part in [40000, 25537] {
        body.extend(format!("{part:x}\r\n").bytes());
        body.extend(std::iter::repeat_n(b'z', part));
        body.extend(b"\r\n");
    }
    body.extend(b"0\r\n\r\n");
    let mut c = Client::connect(addr);
    // The server may answer before it has read everything; a failed write is fine.
    let _ = c.try_send(&request("POST", "/publish?topic=big", "Transfer-Encoding: chunked\r\n", &body));
    assert_eq!(c.read_response().status, 413);
    assert_eq!(next(&get_json(addr, "/poll?topic=big")), 2, "the refused bodies published nothing");
}

#[test]
fn json_escaping_round_trips_every_awkward_character() {
    let addr = start();
    let mut texts: Vec<String> = (0u32..0x20).map(|c| char::from_u32(c).unwrap().to_string()).collect();
    texts.extend(
        [
            "\"",
            "\\",
            "\u{7f}",
            "/",
            "é",
            "中文",
            "😀",
            "\u{2028}",
            "\u{2029}",
            "\u{feff}",
            "\u{ffff}",
            "</script>",
            "\\u0000",
        ]
        .map(String::from),
    );
    let all: String = texts.concat();
    texts.push(format!("say \"hi\"\r\n\tC:\\path\\{all}"));
    texts.push(all);
    let mut c = Client::connect(addr);
    for (i, text) in texts.iter().enumerate() {
        assert_eq!(c.publish("esc", text), i as u64 + 1);
    }
    let r = get(addr, "/poll?topic=esc&since=0&limit=1000");
    assert!(r.body.iter().all(|&b| b >= 0x20), "no raw control bytes in the JSON text");
    let reply = r.json();
    let got: Vec<&str> =
        reply["messages"].as_array().unwrap().iter().map(|m| m["data"].as_str().unwrap()).collect();
    assert_eq!(got, texts.iter().map(String::as_str).collect::<Vec<_>>());
    // The same through a long-poll.
    let lp = get_json(addr, &format!("/long-poll?topic=esc&since={}", texts.len() - 1));
    assert_eq!(lp["messages"][0]["data"].as_str(), texts.last().map(String::as_str));
}

// ---------------------------------------------------------------------------------------
// SPEC §4–5: reply headers, CORS (§7).
// ---------------------------------------------------------------------------------------

#[test]
fn poll_replies_are_json_and_never_cached() {
    let addr = start();
    publish(addr, "h", "x");
    for target in [
        "/poll?topic=h",
        "/poll?topic=h&since=0",
        "/long-poll?topic=h&since=0",
        "/long-poll?topic=h&timeout=1",
    ] {
        let r = get(addr, target);
        assert_eq!(r.status, 200, "{target}");
        assert_eq!(r.header("Cache-Control"), Some("no-store"), "{target}");
        assert_eq!(r.header("Content-Type"), Some("application/json"), "{target}");
        check_date_and_server(target, &r);
    }
}

const LISTED: &str = "http://example.test";

#[test]
fn cors_echoes_a_listed_origin_only() {
    let addr = server_with(|c| c.allow_origins = vec![LISTED.into()]);
    publish(addr, "c", "x");
    let listed = format!("Origin: {LISTED}\r\n");
    let targets = [
        ("GET", "/poll?topic=c&since=0"),
        ("GET", "/long-poll?topic=c&since=0"),
        ("POST", "/publish?topic=c"),
        ("GET", "/poll?topic=bad/topic"), // a refusal carries it too, so the page can read why
    ];
    for (method, target) in targets {
        let body: &[u8] = if method == "POST" { b"y" } else { b"" };
        let r = ask(addr, method, target, &listed, body);
        assert_eq!(r.header("Access-Control-Allow-Origin"), Some(LISTED), "{method} {target}");
        assert_eq!(r.header("Vary"), Some("Origin"), "{method} {target}");
        for other in
            ["Origin: http://evil.test\r\n", "Origin: http://example.test/\r\n", "Origin: null\r\n", ""]
        {
            let r = ask(addr, method, target, other, body);
            assert!(!r.has_header("Access-Control-Allow-Origin"), "{method} {target} {other:?}");
        }
    }
    // A held long-poll remembers the origin for its eventual reply.
    let mut held = Client::connect(addr);
    held.send(&request("GET", "/long-poll?topic=c", &listed, b""));
    wait_held(addr, 1);
    let id = publish(addr, "c", "z");
    let r = held.read_response();
    assert_eq!(ids(&r.json()), [id]);
    assert_eq!((r.header("Access-Control-Allow-Origin"), r.header("Vary")), (Some(LISTED), Some("Origin")));
}

#[test]
fn cors_preflight() {
    let addr = server_with(|c| c.allow_origins = vec![LISTED.into()]);
    for path in ["/publish?topic=c", "/poll?topic=c", "/long-poll?topic=c", "/sse?topic=c"] {
        for wants in ["content-type", "last-event-id", "Content-Type"] {
            let extra = format!(
                "Origin: {LISTED}\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: {wants}\r\n"
            );
            let r = ask(addr, "OPTIONS", path, &extra, b"");
            assert_eq!(r.status, 204, "{path}");
            assert_eq!(r.header("Access-Control-Allow-Origin"), Some(LISTED));
            let methods = r.header("Access-Control-Allow-Methods").expect("Allow-Methods");
            for m in ["GET", "POST", "OPTIONS"] {
                assert!(methods.split(',').any(|x| x.trim() == m), "{methods}");
            }
            let allowed =
                r.header("Access-Control-Allow-Headers").expect("Allow-Headers").to_ascii_lowercase();
            assert!(
                allowed.split(',').any(|h| h.trim() == wants.to_ascii_lowercase()),
                "{allowed} lacks {wants}"
            );
            let max_age: u64 = r.header("Access-Control-Max-Age").expect("Max-Age").parse().unwrap();
            assert!(max_age > 0);
            assert!(!r.has_header("Content-Length"), "204 has no Content-Length (SPEC §8)");
        }
        let unlisted = "Origin: http://evil.test\r\nAccess-Control-Request-Method: POST\r\n";
        let r = ask(addr, "OPTIONS", path, unlisted, b"");
        assert_eq!(r.status, 403, "{path}");
        assert!(!r.has_header("Access-Control-Allow-Origin"));
    }
}

// ---------------------------------------------------------------------------------------
// SPEC §5: long polling.
// ---------------------------------------------------------------------------------------

#[test]
fn long_poll_answers_at_once_when_there_is_news() {
    let addr = start();
    publish(addr, "lp", "a");
    publish(addr, "lp", "b");
    let t0 = Instant::now();
    let reply = get_json(addr, "/long-poll?topic=lp&since=0");
    assert!(t0.elapsed() < Duration::from_millis(500), "took {:?}", t0.elapsed());
    assert_eq!((ids(&reply), next(&reply)), (vec![1, 2], 2));
    assert_eq!(ids(&get_json(addr, "/long-poll?topic=lp&since=1")), [2]);
}

#[test]
fn a_held_long_poll_is_released_by_a_publish_at_once() {
    let addr = start();
    publish(addr, "rel", "old"); // `since` absent means from now: this one is not news
    let mut held = Client::connect(addr);
    held.send_get("/long-poll?topic=rel");
    let mut other = Client::connect(addr); // another topic: must stay held
    other.send_get("/long-poll?topic=unrelated&timeout=5");
    wait_held(addr, 2);
    assert!(held.stays_open(Duration::from_millis(200)), "held, not answered");

    let t0 = Instant::now();
    let id = publish(addr, "rel", "news");
    let published = t0.elapsed();
    let r = held.read_response();
    let released = t0.elapsed();
    assert!(published < Duration::from_secs(1), "publish took {published:?}");
    assert!(released < Duration::from_secs(1), "release took {released:?}");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Cache-Control"), Some("no-store"));
    let reply = r.json();
    assert_eq!((ids(&reply), next(&reply), id), (vec![2], 2, 2));
    assert_eq!(reply["messages"][0]["data"], "news");
    assert!(other.stays_open(Duration::from_millis(200)), "a publish on another topic releases nothing");
    assert_eq!(held_long_polls(addr), 1);
}

#[test]
fn a_held_long_poll_released_by_a_burst_respects_limit() {
    let addr = start();
    let mut held = Client::connect(addr);
    held.send_get("/long-poll?topic=burst&since=0&limit=2");
    wait_held(addr, 1);
    // Five publishes in one write: usually one loop turn, so the reply may carry several.
    let mut all = Vec::new();
    for i in 0..5 {
        all.extend(request("POST", "/publish?topic=burst", "", format!("m{i}").as_bytes()));
    }
    let mut publisher = Client::connect(addr);
    publisher.send(&all);
    let reply = held.read_response().json();
    let got = ids(&reply);
    assert!(!got.is_empty() && got.len() <= 2, "{got:?}");
    assert_eq!(got, (1..=got.len() as u64).collect::<Vec<_>>());
    assert_eq!(next(&reply), got.len() as u64);
}

#[test]
fn long_poll_timeouts_and_clamping() {
    let addr = server_with(|c| c.long_poll_timeout = Duration::from_secs(2));
    publish_many(addr, "t", 3);
    // (query, expected wait, expected next). Run side by side: the test takes ~2 s.
    let cases: Vec<(&str, f64, u64)> = vec![
        ("topic=t&timeout=1", 1.0, 3),
        ("topic=t&since=3&timeout=1", 1.0, 3),
        ("topic=t&since=7&timeout=1", 1.0, 3), // beyond the latest: the latest
        ("topic=empty&since=0&timeout=1", 1.0, 0),
        ("topic=t&timeout=0", 1.0, 3), // clamped up to 1 s
        ("topic=t&timeout=00", 1.0, 3),
        ("topic=t", 2.0, 3), // the server's --long-poll-timeout
    ];
    let threads: Vec<_> = cases
        .into_iter()
        .map(|(q, secs, want_next)| {
            std::thread::spawn(move || {
                let t0 = Instant::now();
                let r = get(addr, &format!("/long-poll?{q}"));
                let took = t0.elapsed().as_secs_f64();
                assert!(
                    took > secs - 0.1 && took < secs + 0.9,
                    "{q}: answered after {took:.3} s, want ~{secs} s"
                );
                assert_eq!(r.status, 200, "{q}");
                assert_eq!(r.header("Cache-Control"), Some("no-store"));
                let reply = r.json();
                assert_eq!(reply["messages"], serde_json::json!([]), "{q}");
                assert_eq!(next(&reply), want_next, "{q}");
            })
        })
        .collect();
    // timeout=1000 and u64::MAX are clamped to 120 s: still held after 2.5 s, then released.
    let mut long = Client::connect(addr);
    long.send_get("/long-poll?topic=long&timeout=1000");
    let mut longest = Client::connect(addr);
    longest.send_get("/long-poll?topic=long&timeout=18446744073709551615");
    for t in threads {
        t.join().expect("case passed");
    }
    std::thread::sleep(Duration::from_millis(500));
    assert!(long.stays_open(Duration::from_millis(10)), "timeout=1000 still held after 2.5 s");
    assert!(longest.stays_open(Duration::from_millis(10)));
    publish(addr, "long", "done");
    assert_eq!(ids(&long.read_response().json()), [1]);
    assert_eq!(ids(&longest.read_response().json()), [1]);
}

#[test]
fn the_connection_stays_open_after_a_long_poll_reply() {
    let addr = start();
    let mut c = Client::connect(addr);
    // After a timeout reply.
    assert_eq!(next(&c.ask("GET", "/long-poll?topic=k&timeout=1", "", b"").json()), 0);
    assert_eq!(c.ask("GET", "/poll?topic=k", "", b"").status, 200);
    // After a release.
    c.send_get("/long-poll?topic=k&since=0");
    wait_held(addr, 1);
    publish(addr, "k", "one");
    let reply = c.read_response().json();
    assert_eq!(ids(&reply), [1]);
    // The next long-poll with the cursor, on the same connection.
    c.send_get(&format!("/long-poll?topic=k&since={}", next(&reply)));
    wait_held(addr, 1);
    publish(addr, "k", "two");
    assert_eq!(ids(&c.read_response().json()), [2]);
    // A request pipelined behind a held long-poll waits its turn, then is answered.
    let mut both = request("GET", "/long-poll?topic=k&since=2&timeout=5", "", b"");
    both.extend(request("GET", "/poll?topic=k&since=0", "", b""));
    c.send(&both);
    wait_held(addr, 1);
    assert!(c.stays_open(Duration::from_millis(100)), "the poll behind it must not overtake");
    publish(addr, "k", "three");
    assert_eq!(ids(&c.read_response().json()), [3]);
    assert_eq!(ids(&c.read_response().json()), [1, 2, 3]);
    assert_eq!(held_long_polls(addr), 0);
}

#[test]
fn head_on_long_poll_answers_at_once() {
    let addr = start();
    let mut c = Client::connect(addr);
    let t0 = Instant::now();
    let r = c.ask("HEAD", "/long-poll?topic=hd&timeout=10", "", b"");
    assert!(t0.elapsed() < Duration::from_millis(500), "took {:?}", t0.elapsed());
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    let expected_len = br#"{"topic":"hd","messages":[],"next":0}"#.len().to_string();
    assert_eq!(r.header("Content-Length"), Some(expected_len.as_str()), "the GET's headers");
    // No body followed: the next response on the connection starts cleanly.
    assert_eq!(c.ask("GET", "/poll?topic=hd", "", b"").json()["next"], 0);
    assert_eq!(held_long_polls(addr), 0);
}

#[test]
fn a_client_that_disconnects_while_held_is_freed_at_once() {
    let addr = start();
    let mut clients: Vec<Client> = (0..20).map(|_| Client::connect(addr)).collect();
    for c in &mut clients {
        c.send_get("/long-poll?topic=gone&timeout=60");
    }
    wait_held(addr, 20);
    // One half-closes (shutdown of its sending side), the rest close outright.
    clients[0].shutdown_write();
    let t0 = Instant::now();
    drop(clients);
    wait_held(addr, 0);
    assert!(t0.elapsed() < Duration::from_secs(1), "freed after {:?}", t0.elapsed());
    // The topic still works.
    assert_eq!(publish(addr, "gone", "x"), 1);
}

#[test]
fn a_thousand_long_polls_released_by_one_publish() {
    const N: usize = 1000;
    let addr = start();
    let raw = request("GET", "/long-poll?topic=crowd&timeout=30", "", b"");
    let mut clients: Vec<Client> = (0..N).map(|_| Client::connect(addr)).collect();
    for c in &mut clients {
        c.send(&raw);
    }
    wait_held(addr, N as u64);
    let before = stats(addr)["delivered"]["long_poll"].as_u64().unwrap();
    let t0 = Instant::now();
    assert_eq!(publish(addr, "crowd", "to everyone"), 1);
    for (i, c) in clients.iter_mut().enumerate() {
        let reply = c.read_response().json();
        assert_eq!(ids(&reply), [1], "client {i}");
        assert_eq!(reply["messages"][0]["data"], "to everyone");
    }
    let took = t0.elapsed();
    assert!(took < Duration::from_secs(3), "releasing {N} took {took:?}");
    let s = stats(addr);
    assert_eq!(s["connections"]["long_poll"], 0);
    assert_eq!(s["delivered"]["long_poll"].as_u64().unwrap() - before, N as u64);
}

/// One resuming reader: connects, polls or long-polls with its cursor, and now and then
/// hangs up at a random point — mid-request, while held, mid-reply. Returns every id it
/// accepted, in order. A reply it did not read whole does not count: the cursor stays put.
fn resuming_reader(addr: SocketAddr, seed: u64, total: u64) -> Vec<u64> {
    let mut rng = Rng(seed);
    let mut cursor = 0;
    let mut got = Vec::with_capacity(total as usize);
    let mut conn: Option<Client> = None;
    let give_up = Instant::now() + Duration::from_secs(20);
    while cursor < total {
        assert!(Instant::now() < give_up, "reader {seed} stuck at cursor {cursor}");
        let limit = match rng.below(3) {
            0 => String::new(),
            _ => format!("&limit={}", 1 + rng.below(40)),
        };
        let path = if rng.below(4) == 0 { "/poll" } else { "/long-poll" };
        let raw = request("GET", &format!("{path}?topic=noloss&since={cursor}&timeout=1{limit}"), "", b"");
        let c = conn.get_or_insert_with(|| Client::connect(addr));
        match rng.below(10) {
            0 => {
                // Hang up halfway through the request.
                let cut = 1 + rng.below(raw.len() - 1);
                let _ = c.try_send(&raw[..cut]);
                conn = None;
            }
            1 => {
                // Hang up right after asking (while held, or with the reply in flight).
                let _ = c.try_send(&raw);
                conn = None;
            }
            2 => {
                // Read a little of the reply, then hang up.
                let _ = c.try_send(&raw);
                let mut stream = c.stream();
                stream.set_read_timeout(Some(Duration::from_millis(1 + rng.below(30) as u64))).unwrap();
                let mut some = vec![0u8; 1 + rng.below(300)];
                let _ = stream.read(&mut some);
                conn = None;
            }
            _ => {
                c.send(&raw);
                let reply = c.read_response().json();
                let fresh = ids(&reply);
                let expected: Vec<u64> = (cursor + 1..=cursor + fresh.len() as u64).collect();
                assert_eq!(fresh, expected, "reader {seed}: a gap or a repeat after cursor {cursor}");
                for m in reply["messages"].as_array().unwrap() {
                    assert_eq!(m["data"].as_str().unwrap(), format!("m{}", m["id"]));
                }
                got.extend(&fresh);
                let new_cursor = fresh.last().copied().unwrap_or(cursor);
                assert_eq!(next(&reply), new_cursor);
                cursor = new_cursor;
                if path == "/poll" && fresh.is_empty() {
                    std::thread::sleep(Duration::from_millis(2));
                }
                if rng.below(8) == 0 {
                    conn = None; // an orderly reconnect now and then
                }
            }
        }
    }
    got
}

#[test]
fn resuming_readers_lose_nothing_and_see_nothing_twice() {
    const TOTAL: u64 = 2000;
    let addr = server_with(|c| c.replay = 4096);
    let readers: Vec<_> = (1..=6u64)
        .map(|seed| std::thread::spawn(move || resuming_reader(addr, seed * 0x9E37_79B9, TOTAL)))
        .collect();
    let mut publisher = Client::connect(addr);
    for i in 1..=TOTAL {
        assert_eq!(publisher.publish("noloss", &format!("m{i}")), i);
        if i % 4 == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    for reader in readers {
        let got = reader.join().expect("reader");
        assert_eq!(got, (1..=TOTAL).collect::<Vec<_>>());
    }
}

// ---------------------------------------------------------------------------------------
// SPEC §9: the counters move.
// ---------------------------------------------------------------------------------------

fn counter(s: &Value, path: &[&str]) -> u64 {
    path.iter().fold(s, |v, k| &v[*k]).as_u64().unwrap_or_else(|| panic!("{path:?} in {s}"))
}

#[test]
fn stats_count_publishes_and_deliveries() {
    let addr = start();
    let s0 = stats(addr);
    assert_eq!(counter(&s0, &["published"]), 0);
    assert_eq!(counter(&s0, &["topics"]), 0);
    publish_many(addr, "s", 3);
    publish(addr, "s2", "x");
    let s1 = stats(addr);
    assert_eq!(counter(&s1, &["published"]), 4);
    assert_eq!(counter(&s1, &["topics"]), 2);

    get_json(addr, "/poll?topic=s&since=0"); // 3 delivered by polling
    get_json(addr, "/poll?topic=s"); // none
    get_json(addr, "/long-poll?topic=s&since=1"); // 2 delivered at once by long polling
    let s2 = stats(addr);
    assert_eq!(counter(&s2, &["delivered", "poll"]), 3);
    assert_eq!(counter(&s2, &["delivered", "long_poll"]), 2);

    let mut held = Client::connect(addr);
    held.send_get("/long-poll?topic=s");
    wait_held(addr, 1);
    publish(addr, "s", "four");
    assert_eq!(ids(&held.read_response().json()), [4]);
    let s3 = stats(addr);
    assert_eq!(counter(&s3, &["delivered", "long_poll"]), 3);
    assert_eq!(counter(&s3, &["published"]), 5);
    assert_eq!(counter(&s3, &["connections", "long_poll"]), 0);
    assert!(counter(&s3, &["bytes_written"]) > counter(&s2, &["bytes_written"]));
}

#[test]
fn stats_count_every_message_a_released_long_poll_carries() {
    let addr = start();
    let mut held = Client::connect(addr);
    held.send_get("/long-poll?topic=pair&since=0");
    wait_held(addr, 1);
    // Two publishes in one write: both are normally handled in one loop turn, so the one
    // reply carries both messages.
    let mut two = request("POST", "/publish?topic=pair", "", b"a");
    two.extend(request("POST", "/publish?topic=pair", "", b"b"));
    let mut publisher = Client::connect(addr);
    publisher.send(&two);
    let carried = ids(&held.read_response().json()).len() as u64;
    let counted = counter(&stats(addr), &["delivered", "long_poll"]);
    assert_eq!(counted, carried, "delivered.long_poll counts the messages the reply carried");
}
