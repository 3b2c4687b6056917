//! Slow clients (SPEC §8): slowloris heads and bodies, one byte every 200 ms, stalls, and
//! readers that never read.
//!
//! SPEC §8's time limits are scaled down (head 1 s, idle 2 s; see [`crate::server`]), so the
//! attacks last seconds: a head trickled for 2.5 s must get its `408` one second after its
//! first byte, not one second after its last.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use crate::common::{request, show, Client, ReadError};
use crate::{
    alone, client_frame, read_101, rss, server, shared, upgrade, Bystander, Probe, HEAD_TIMEOUT, IDLE_TIMEOUT,
};

const TRICKLE: Duration = Duration::from_millis(100);

/// SPEC §8: "a request head not complete 10 s after its first byte: `408` and close", against
/// 40 slowloris clients at once that each keep the head alive with a byte every 100 ms for
/// 2.5 s, while 10 slow bodies (a byte every 100 ms for 1.5 s: longer than the head timeout,
/// shorter than the idle one) still publish, and a bystander keeps being answered.
#[test]
fn spec_8_slowloris_heads_get_408_and_slow_bodies_publish_while_others_are_served() {
    let _shared = shared();
    const HEADS: usize = 40;
    const BODIES: usize = 10;
    const BODY_LEN: usize = 15;
    const HEAD_ROUNDS: usize = 25;
    let addr = server(|_| {});
    let mut probe = Probe::new(addr);
    let bystander = Bystander::start(addr, true);
    let mut heads: Vec<Client> = (0..HEADS)
        .map(|_| {
            let mut c = Client::connect(addr);
            c.send(b"GET /poll?topic=t HTTP/1.1\r\nHost: pushlab.test\r\nX-Slow: ");
            c
        })
        .collect();
    let mut bodies: Vec<Client> = (0..BODIES)
        .map(|_| {
            let mut c = Client::connect(addr);
            c.send(&request(
                "POST",
                "/publish?topic=slow-bodies",
                &format!("Content-Length: {BODY_LEN}\r\n"),
                b"",
            ));
            c
        })
        .collect();
    for round in 0..HEAD_ROUNDS {
        std::thread::sleep(TRICKLE);
        // After its 408 the server still reads (and drops) what a head sends: it lingers.
        heads.iter_mut().for_each(|h| drop(h.try_send(b"a")));
        if round < BODY_LEN {
            for (i, b) in bodies.iter_mut().enumerate() {
                b.send(&[b'a' + i as u8]);
            }
        }
    }
    // The trickle ended 2.5 s after each head's first byte. A server that restarted the clock
    // at every byte would not answer before 3.5 s, so the 408s must be in already.
    for (i, h) in heads.iter_mut().enumerate() {
        h.set_patience(Duration::from_millis(300));
        let r = match h.try_read_response(false) {
            Ok(r) => r,
            Err(ReadError::TimedOut { got }) => panic!(
                "head {i}: no 408 {HEAD_TIMEOUT:?} after its first byte, 2.5 s of trickle later: {}",
                show(&got)
            ),
            Err(e) => panic!("head {i}: {e}"),
        };
        assert_eq!(r.status, 408, "head {i}: {}", show(&r.raw_head));
        assert!(r.connection_has("close"), "head {i}: the 408 closes: {}", show(&r.raw_head));
        h.set_patience(Duration::from_secs(3));
        assert!(h.is_closed(), "head {i}: the connection closes after the 408");
    }
    let mut ids: Vec<u64> = bodies
        .iter_mut()
        .map(|b| {
            let r = b.read_response();
            assert_eq!(r.status, 200, "a slow body: {}", show(&r.body));
            r.json()["id"].as_u64().expect("an id")
        })
        .collect();
    ids.sort();
    assert_eq!(ids, (1..=BODIES as u64).collect::<Vec<_>>(), "every slow body published once");
    let r = probe.exchange(&request("GET", "/poll?topic=slow-bodies&since=0", "", b""));
    let mut texts: Vec<String> = r.json()["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["data"].as_str().unwrap().to_string())
        .collect();
    texts.sort();
    let want: Vec<String> =
        (0..BODIES).map(|i| ((b'a' + i as u8) as char).to_string().repeat(BODY_LEN)).collect();
    assert_eq!(texts, want, "each slow body arrived whole");
    bystander.check("40 slowloris heads and 10 slow bodies");
    drop((heads, bodies));
    probe.wait_baseline("after the slow clients left");
}

/// One byte every 200 ms, in every phase after the head: a body that takes longer than the
/// head and the idle timeouts together is still answered (only silence is idle); a WebSocket
/// frame trickled over more than two heartbeats is still echoed or published (a client is
/// "silent" only when nothing at all arrives, SPEC §7); and a head trickled the same way
/// gets its 408 about one second after its first byte.
#[test]
fn spec_8_one_byte_every_200ms_the_body_and_frames_complete_and_the_head_times_out() {
    let _shared = shared();
    const PACE: Duration = Duration::from_millis(200);
    let addr = server(|c| c.heartbeat = Duration::from_secs(1));
    let mut probe = Probe::new(addr);

    let body = std::thread::spawn(move || {
        let text = b"one byte at a time"; // 18 bytes: 3.6 s > head 1 s + idle 2 s
        let mut c = Client::connect(addr);
        c.send(&request("POST", "/publish?topic=drip", &format!("Content-Length: {}\r\n", text.len()), b""));
        c.send_bytewise(text, PACE);
        let r = c.read_response();
        assert_eq!(r.status, 200, "the trickled body: {}", show(&r.body));
    });
    let frames = std::thread::spawn(move || {
        let mut echo = crate::common::ws::Client::ws(addr, "/echo");
        let mut ws = crate::common::ws::Client::ws(addr, "/ws?topic=drip-ws");
        let text = b"slowly, slowly";
        for (i, byte) in client_frame(true, 0x1, text).iter().enumerate() {
            echo.send(&[*byte]);
            ws.send(&[*byte]);
            if i % 2 == 1 {
                std::thread::sleep(PACE * 2);
            }
        }
        // 20 bytes over 4 s: four heartbeats of pings may come before the answer.
        let echoed = loop {
            let f = echo.next_frame();
            if f.opcode != 0x9 {
                break f;
            }
        };
        assert_eq!((echoed.opcode, &echoed.payload[..]), (0x1, &text[..]), "the trickled frame's echo");
        let pushed = loop {
            let f = ws.next_frame();
            if f.opcode != 0x9 {
                break f;
            }
        };
        let json: serde_json::Value = serde_json::from_slice(&pushed.payload).expect("message JSON");
        assert_eq!(json["data"], "slowly, slowly", "the trickled frame, published and pushed back");
    });

    let mut head = Client::connect(addr);
    let mut writer = head.stream().try_clone().unwrap();
    let trickle = std::thread::spawn(move || {
        for byte in b"GET /poll?topic=t HTTP/1.1\r\nHost: pushlab.test\r\n" {
            if writer.write_all(std::slice::from_ref(byte)).is_err() {
                break;
            }
            std::thread::sleep(PACE);
        }
    });
    let started = Instant::now();
    head.set_patience(Duration::from_secs(5));
    let r = head.read_response();
    let after = started.elapsed();
    assert_eq!(r.status, 408, "{}", show(&r.raw_head));
    assert!(
        after >= HEAD_TIMEOUT - Duration::from_millis(100)
            && after < HEAD_TIMEOUT + Duration::from_millis(1500),
        "the 408 came {after:?} after the first byte, not about {HEAD_TIMEOUT:?}"
    );
    drop(head);
    trickle.join().unwrap();
    body.join().expect("the trickled body");
    frames.join().expect("the trickled frames");
    let r = probe.exchange(&request("GET", "/poll?topic=drip&since=0", "", b""));
    assert_eq!(r.json()["messages"][0]["data"], "one byte at a time");
    probe.wait_baseline("after the trickles");
}

/// A body that stops arriving is closed when the connection has been idle for the idle
/// timeout (2 s here), and publishes nothing; so is a chunked one, and so is a WebSocket
/// that stops in the middle of a frame (silent for two heartbeats).
#[test]
fn spec_8_a_stalled_body_or_frame_is_closed_and_publishes_nothing() {
    let _shared = shared();
    let addr = server(|c| c.heartbeat = Duration::from_secs(1));
    let mut probe = Probe::new(addr);
    let mut stalled: Vec<(&str, Client)> = Vec::new();
    let mut c = Client::connect(addr);
    c.send(&request("POST", "/publish?topic=stall", "Content-Length: 100\r\n", &[b'x'; 10]));
    stalled.push(("Content-Length body", c));
    let mut c = Client::connect(addr);
    c.send(&request(
        "POST",
        "/publish?topic=stall",
        "Transfer-Encoding: chunked\r\n",
        b"5\r\nhello\r\n3\r\nab",
    ));
    stalled.push(("chunked body", c));
    let mut c = Client::connect(addr);
    c.send(&upgrade("/ws?topic=stall"));
    let mut frame = client_frame(true, 0x1, b"never finished");
    frame.truncate(9);
    c.send(&frame);
    stalled.push(("/ws frame", c));
    let started = Instant::now();
    for (what, c) in &mut stalled {
        c.set_patience(IDLE_TIMEOUT + Duration::from_secs(2));
        assert!(c.is_closed(), "{what}: still open {:?} after it stalled", started.elapsed());
    }
    let r = probe.exchange(&request("GET", "/poll?topic=stall&since=0", "", b""));
    assert_eq!(r.json()["messages"], serde_json::json!([]), "a stalled body publishes nothing");
    drop(stalled);
    probe.wait_baseline("after the stalled clients");
}

/// SPEC §8: "A consumer too slow to keep up (output queued in the server, beyond what the
/// kernel accepted, over 1 MiB) is disconnected", and memory stays bounded: a `/ws` and an
/// SSE subscriber that never read a byte, while 10 MB is published to their topic (more than
/// the kernel's send buffer, 4 MiB at most here, plus 1 MiB), are both dropped; RSS grows by
/// less than 16 MiB (two 1 MiB queues, with a wide margin for the allocator); a subscriber on
/// the same topic that does read gets every message and is not dropped.
#[test]
fn spec_8_readers_that_never_read_are_dropped_at_1_mib_and_memory_stays_bounded() {
    let _alone = alone();
    const LEN: usize = 64 * 1024;
    const MESSAGES: u64 = 160;
    const GROWTH: u64 = 16 << 20;
    let addr = server(|c| c.replay = 4);
    let mut probe = Probe::new(addr);
    let mut ws_slow = Client::connect(addr);
    ws_slow.send(&upgrade("/ws?topic=firehose"));
    let mut sse_slow = Client::connect(addr);
    sse_slow.send(&request("GET", "/sse?topic=firehose", "", b""));
    let mut fast = crate::common::ws::Client::ws(addr, "/ws?topic=firehose");
    probe.wait_connections([1, 0, 1, 2], Duration::from_secs(3), "the subscribers are counted");
    let reader = std::thread::spawn(move || {
        for id in 1..=MESSAGES {
            let f = fast.next_frame();
            let head = String::from_utf8_lossy(&f.payload[..40]).into_owned();
            assert!(
                head.starts_with(&format!("{{\"id\":{id},")),
                "the reading subscriber's message {id}: {head}"
            );
        }
        fast
    });
    let before = rss();
    let data = vec![b'p'; LEN];
    for n in 1..=MESSAGES {
        probe.publish("firehose", &data);
        if n % 16 == 0 {
            let grown = rss().saturating_sub(before);
            assert!(grown < GROWTH, "RSS grew {} KiB after {n} messages of 64 KiB", grown >> 10);
        }
    }
    let mut fast = reader.join().expect("the reading subscriber got every message");
    probe.wait_connections(
        [1, 0, 0, 1],
        Duration::from_secs(3),
        "both never-readers are dropped, the reader is not",
    );
    assert_eq!(probe.counter("slow_consumers_dropped"), 2);
    let grown = rss().saturating_sub(before);
    assert!(grown < GROWTH, "SPEC §8: RSS grew {} KiB for 10 MB published", grown >> 10);
    // What the kernel had taken is still there to read; then the end.
    for (what, c) in [("/ws", &mut ws_slow), ("/sse", &mut sse_slow)] {
        c.set_patience(Duration::from_secs(5));
        let got = c.read_to_close();
        assert!(
            got.len() > 64 * 1024,
            "{what}: the dropped reader finds what the kernel took: {} bytes",
            got.len()
        );
    }
    fast.close_normally();
    probe.wait_baseline("after the subscribers");
}

/// The other never-reader: a `/echo` client that sends 48 MiB and reads nothing. Echoes are
/// replies to its own input, so the server stops reading it (backpressure) instead of
/// queueing: the sender blocks well before 48 MiB, RSS grows by less than 16 MiB, and once
/// the client reads, every echo comes back, in order, and the connection works on.
#[test]
fn spec_8_an_echo_client_that_never_reads_is_held_back_and_memory_stays_bounded() {
    let _alone = alone();
    const FRAME: usize = 1 << 20;
    const FRAMES: usize = 48;
    const GROWTH: u64 = 16 << 20;
    let addr = server(|_| {});
    let mut probe = Probe::new(addr);
    let mut c = Client::connect(addr);
    c.send(&upgrade("/echo"));
    assert!(read_101(&mut c).is_empty());
    let before = rss();
    let frame = crate::common::ws::encode_frame(true, 0, 0x2, &vec![7u8; FRAME], Some([0; 4]));
    let mut writer = c.stream().try_clone().unwrap();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let sender = std::thread::spawn(move || {
        for _ in 0..FRAMES {
            writer.write_all(&frame).expect("the server keeps the connection");
        }
        let _ = done_tx.send(());
    });
    // Give the server time to take what it will; sample memory meanwhile.
    for _ in 0..10 {
        std::thread::sleep(Duration::from_millis(150));
        let grown = rss().saturating_sub(before);
        assert!(grown < GROWTH, "RSS grew {} KiB with a never-reading /echo client", grown >> 10);
    }
    assert!(done_rx.try_recv().is_err(), "48 MiB went in without a byte read: no backpressure");
    probe.still_serves("while an /echo client is held back");
    // Now read: every echo, in order (RFC 6455 §5.2 header for 1 MiB: 0x82, 127, 8-byte length).
    let mut stream = c.stream().try_clone().unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut header = [0u8; 10];
    let mut payload = vec![0u8; FRAME];
    for i in 0..FRAMES {
        if let Err(e) = stream.read_exact(&mut header) {
            let sent = if done_rx.try_recv().is_ok() { "all sent" } else { "the sender still blocked" };
            panic!("echo {i}: {e} ({sent}); /stats {}", probe.stats());
        }
        assert_eq!(header[..2], [0x82, 127], "echo {i}'s header");
        assert_eq!(u64::from_be_bytes(header[2..].try_into().unwrap()), FRAME as u64, "echo {i}'s length");
        stream.read_exact(&mut payload).unwrap_or_else(|e| panic!("echo {i}: {e}"));
        assert!(payload.iter().all(|&b| b == 7), "echo {i}'s payload");
    }
    sender.join().expect("every frame sent once the client reads");
    drop((stream, c));
    probe.wait_baseline("after the /echo client left");
}
