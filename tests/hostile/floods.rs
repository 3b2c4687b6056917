//! Many at once (SPEC §8): a flood past `--max-connections`, 10 000 connect/leave cycles, and
//! pipelining abuse — thousands of requests in one write, one request in hundreds of writes.

use std::net::{Shutdown, SocketAddr};
use std::time::Duration;

use crate::common::{chunked, request, show, Client};
use crate::{
    alone, descriptors_settle, open_descriptors, read_101, read_until, server, shared, upgrade, Bystander,
    Probe,
};

/// SPEC §8: "With `--max-connections N`, N connections are served; the next gets `503` and is
/// closed; nothing else slows." 40 connections — the probe, a bystander, 38 held long-polls,
/// SSE streams and WebSockets — fill the server; 600 more, from two threads, each get a
/// `503` and EOF; meanwhile the bystander is answered in time and every held one still gets
/// the message published after the flood. Then all leave, and a new connection is served.
#[test]
fn spec_8_a_flood_past_max_connections_gets_503_and_nothing_else_slows() {
    let _shared = shared();
    const MAX: usize = 40;
    const FLOOD: usize = 600;
    let addr = server(|c| c.max_connections = MAX);
    let mut probe = Probe::new(addr);
    let bystander = Bystander::start(addr, false);
    let mut held: Vec<(usize, Client)> = (0..MAX - 2)
        .map(|i| {
            let mut c = Client::connect(addr);
            match i % 3 {
                0 => c.send(&request("GET", "/long-poll?topic=flood", "", b"")),
                1 => {
                    c.send(&request("GET", "/sse?topic=flood", "", b""));
                    assert_eq!(c.read_head().status, 200);
                }
                _ => {
                    c.send(&upgrade("/ws?topic=flood"));
                    read_101(&mut c);
                }
            }
            (i % 3, c)
        })
        .collect();
    probe.wait_connections([2, 13, 13, 12], Duration::from_secs(3), "the server is full");
    let flood = |n: usize| {
        move || {
            for i in 0..n {
                let mut c = Client::connect(addr);
                let r = c.try_read_response(false).unwrap_or_else(|e| panic!("flood connection {i}: {e}"));
                assert_eq!(r.status, 503, "flood connection {i}: {}", show(&r.raw_head));
                assert!(c.is_closed(), "flood connection {i}: closed after the 503");
            }
        }
    };
    let floods = [std::thread::spawn(flood(FLOOD / 2)), std::thread::spawn(flood(FLOOD / 2))];
    floods.into_iter().for_each(|f| f.join().expect("a flood thread"));
    bystander.check("a flood of 600 connections past --max-connections");
    let s = probe.stats();
    assert_eq!(s["refused_over_limit"], FLOOD as u64, "{s}");
    let id = probe.publish("flood", b"after the flood");
    for (kind, c) in &mut held {
        if *kind == 0 {
            let r = c.read_response();
            assert_eq!(r.json()["messages"][0]["data"], "after the flood", "a held long-poll, id {id}");
        } else {
            read_until(c, b"after the flood", Duration::from_secs(5));
        }
    }
    drop(held);
    // The bystander's connection closes too, so only the probe is left.
    probe.wait_baseline("after the held connections left");
    let mut next = Client::connect(addr);
    let r = next.exchange(&request("GET", "/poll?topic=t", "", b""));
    assert_eq!(r.status, 200, "a new connection is served once there is room: {}", show(&r.raw_head));
}

/// One cycle of [`spec_8_10_000_connect_and_leave_cycles_leak_no_slab_entry_or_descriptor`].
fn cycle(addr: SocketAddr, kind: usize) {
    let mut c = Client::connect(addr);
    match kind {
        0 => {}
        1 => assert_eq!(c.exchange(&request("GET", "/poll?topic=t", "", b"")).status, 200),
        2 => c.send(&request("GET", "/poll?topic=t", "", b"")), // unread answer: a reset
        3 => {
            c.send(&request("GET", "/sse?topic=t", "", b""));
            assert_eq!(c.read_head().status, 200);
        }
        4 => {
            c.send(&upgrade("/ws?topic=t"));
            read_101(&mut c);
        }
        5 => c.send(&request("GET", "/long-poll?topic=t", "", b"")),
        6 => c.send(b"GET /poll?topic=t HTTP/1.1\r\nHo"),
        7 => {
            c.send(&request("GET", "/long-poll?topic=t", "", b""));
            c.shutdown_write();
        }
        _ => unreachable!(),
    }
}

/// SPEC §8: every leave is "noticed and freed at once": after 10 000 connections of every
/// kind — a bare connect, a plain request, an unread answer, an SSE stream, a WebSocket, a
/// held long-poll, half a head, a half-closed long-poll — come and go, `/stats` counts only
/// the probe, `accepted` went up by exactly 10 000 (none refused, none lost), and the
/// process holds no more descriptors than before.
#[test]
fn spec_8_10_000_connect_and_leave_cycles_leak_no_slab_entry_or_descriptor() {
    let _alone = alone();
    const CYCLES: usize = 10_000;
    let addr = server(|_| {});
    let mut probe = Probe::new(addr);
    let accepted = probe.counter("accepted");
    let before = open_descriptors();
    let threads: Vec<_> = (0..2)
        .map(|t| {
            std::thread::spawn(move || {
                for i in 0..CYCLES / 2 {
                    cycle(addr, (i * 2 + t) % 8);
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().expect("a cycling thread"));
    probe.wait_connections([1, 0, 0, 0], Duration::from_secs(2), "10 000 cycles later");
    let accepted = probe.counter("accepted") - accepted - probe.reconnects;
    assert_eq!(accepted, CYCLES as u64, "every cycle accepted, once");
    if let Err(after) = descriptors_settle(before, Duration::from_secs(2)) {
        panic!("{before} descriptors before {CYCLES} cycles, {after} after");
    }
    probe.still_serves("after 10 000 cycles");
}

/// RFC 9112 §9.3.2, SPEC §8 "Pipelined requests are answered in order": 2 400 requests in
/// one write — a publish, then a poll for exactly the message it published, and a `404`
/// every hundredth — answered in order, the publishes numbered 1, 2, 3, … as sent. The
/// answers pass the output pause many times over, so the server must stop and resume
/// parsing by itself.
#[test]
fn rfc9112_9_3_2_thousands_of_requests_in_one_write_are_answered_in_order() {
    let _shared = shared();
    const PAIRS: usize = 1200;
    let addr = server(|_| {});
    let mut c = Client::connect(addr);
    let mut raw = Vec::new();
    for i in 0..PAIRS {
        raw.extend(request("POST", "/publish?topic=pipe", "", format!("m{i}").as_bytes()));
        let target = if i % 100 == 99 {
            "/nowhere".to_string()
        } else {
            format!("/poll?topic=pipe&since={i}&limit=1")
        };
        raw.extend(request("GET", &target, "", b""));
    }
    let mut writer = c.stream().try_clone().unwrap();
    let sender = std::thread::spawn(move || std::io::Write::write_all(&mut writer, &raw));
    for i in 0..PAIRS {
        let r = c.read_response();
        assert_eq!(
            (r.status, r.text()),
            (200, &*format!(r#"{{"id":{},"topic":"pipe"}}"#, i + 1)),
            "publish {i}"
        );
        let r = c.read_response();
        if i % 100 == 99 {
            assert_eq!(r.status, 404, "request {}", 2 * i + 1);
            continue;
        }
        let json = r.json();
        assert_eq!(json["messages"][0]["id"], i as u64 + 1, "poll {i}: {json}");
        assert_eq!(json["messages"][0]["data"], format!("m{i}"), "poll {i}");
    }
    sender.join().unwrap().expect("all sent");
    assert!(c.stays_open(Duration::from_millis(100)), "nothing more: {}", show(c.unread()));
}

/// RFC 9112 §2.2: a message may arrive in any number of pieces. Three pipelined requests —
/// a chunked publish, a poll, a WebSocket handshake and a frame — sent one byte per write
/// (TCP_NODELAY, a pause every byte so that the server reads them one by one) are answered
/// exactly as if sent at once.
#[test]
fn rfc9112_2_2_a_request_split_across_hundreds_of_writes_is_answered() {
    let _shared = shared();
    let addr = server(|_| {});
    let mut c = Client::connect(addr);
    let mut raw = request(
        "POST",
        "/publish?topic=split",
        "Transfer-Encoding: chunked\r\nX-Padding: a header to make the head longer\r\n",
        &chunked(&[b"split ", b"into ", b"bytes"]),
    );
    raw.extend(request("GET", "/poll?topic=split&since=0", "", b""));
    raw.extend(upgrade("/echo"));
    raw.extend(crate::client_frame(true, 0x1, b"and a frame"));
    assert!(raw.len() > 300, "{} bytes", raw.len());
    c.set_patience(Duration::from_secs(10));
    c.send_bytewise(&raw, Duration::from_micros(500));
    assert_eq!(c.read_response().text(), r#"{"id":1,"topic":"split"}"#);
    assert_eq!(c.read_response().json()["messages"][0]["data"], "split into bytes");
    read_101(&mut c);
    read_until(&mut c, b"\x81\x0band a frame", Duration::from_secs(5));
    let _ = c.stream().shutdown(Shutdown::Both);
}
