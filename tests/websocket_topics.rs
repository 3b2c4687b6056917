//! `/ws?topic=T` (SPEC §7): a topic over WebSocket — replay after `since`, then live pushes
//! as text frames holding the message JSON of SPEC §2; text from the client published to the
//! topic (64 KiB at most, else close 1009); binary refused with close 1003; invalid UTF-8 with
//! close 1007 and nothing published.
//!
//! The client is `tests/common/ws.rs`, written from RFC 6455 and not from `src/wire/ws/`;
//! every test starts its own server in-process on `127.0.0.1:0`.

mod common;

use std::net::SocketAddr;

use common::ws::*;

// =====================================================================================
// `/ws`: a topic over WebSocket (SPEC §7).
// =====================================================================================

/// One HTTP/1.1 request with `Connection: close`; the status and body.
fn http(addr: SocketAddr, method: &str, target: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let mut client = Client::connect(addr);
    let mut request = format!(
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    client.send(&request);
    let head = client.read_head();
    let body = client.read_body(&head);
    (head.status, body)
}

fn publish(addr: SocketAddr, topic: &str, text: &str) -> u64 {
    let (status, body) = http(addr, "POST", &format!("/publish?topic={topic}"), text.as_bytes());
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let v: serde_json::Value = serde_json::from_slice(&body).expect("publish reply is JSON");
    v["id"].as_u64().expect("id")
}

/// The next text frame, as the message JSON of SPEC §2.
fn pushed(client: &mut Client) -> serde_json::Value {
    let (opcode, payload) = client.message();
    assert_eq!(opcode, TEXT, "pushed messages are text frames");
    serde_json::from_slice(&payload)
        .unwrap_or_else(|e| panic!("{e}: {:?}", String::from_utf8_lossy(&payload)))
}

fn assert_message(v: &serde_json::Value, id: u64, topic: &str, data: &str) {
    assert_eq!(v["id"].as_u64(), Some(id), "{v}");
    assert_eq!(v["topic"].as_str(), Some(topic), "{v}");
    assert_eq!(v["data"].as_str(), Some(data), "{v}");
    assert!(v["time"].as_u64().is_some_and(|t| t > 1_600_000_000_000), "time in ms: {v}");
}

#[test]
fn ws_replays_after_since_then_pushes_live() {
    let addr = server();
    for text in ["one", "two", "three \"quoted\"\nline"] {
        publish(addr, "room", text);
    }
    let mut client = Client::ws(addr, "/ws?topic=room&since=1");
    assert_message(&pushed(&mut client), 2, "room", "two");
    assert_message(&pushed(&mut client), 3, "room", "three \"quoted\"\nline");
    client.expect_quiet(QUIET);
    publish(addr, "room", "four");
    assert_message(&pushed(&mut client), 4, "room", "four");
    client.close_normally();
}

#[test]
fn ws_without_since_starts_from_now() {
    let addr = server();
    publish(addr, "news", "old");
    let mut client = Client::ws(addr, "/ws?topic=news");
    client.expect_quiet(QUIET);
    publish(addr, "news", "new");
    assert_message(&pushed(&mut client), 2, "news", "new");
    client.close_normally();
}

#[test]
fn ws_client_text_publishes_to_the_topic() {
    let addr = server();
    let mut sender = Client::ws(addr, "/ws?topic=chat");
    let mut listener = Client::ws(addr, "/ws?topic=chat");
    sender.send_frame(true, TEXT, "héllo from a socket".as_bytes());
    // Every subscriber gets it, the sender included (it is subscribed to its topic).
    assert_message(&pushed(&mut listener), 1, "chat", "héllo from a socket");
    assert_message(&pushed(&mut sender), 1, "chat", "héllo from a socket");
    let (status, body) = http(addr, "GET", "/poll?topic=chat&since=0", b"");
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["messages"][0]["data"].as_str(), Some("héllo from a socket"), "{v}");
    sender.close_normally();
    listener.close_normally();
}

#[test]
fn ws_fragmented_text_publishes_once_whole() {
    let addr = server();
    let mut client = Client::ws(addr, "/ws?topic=frag");
    let frames = [
        client.frame(false, 0, TEXT, b"in "),
        client.frame(true, 0, PING, b"x"),
        client.frame(true, 0, CONTINUATION, b"pieces"),
    ];
    send_frames(&mut client, &frames, Chops::One);
    client.expect_frame(PONG, b"x");
    assert_message(&pushed(&mut client), 1, "frag", "in pieces");
    client.close_normally();
}

#[test]
fn ws_text_of_64k_publishes_and_64k_plus_1_is_1009() {
    let addr = server();
    let mut client = Client::ws(addr, "/ws?topic=big");
    let text = "x".repeat(64 * 1024);
    client.send_frame(true, TEXT, text.as_bytes());
    let v = pushed(&mut client);
    assert_eq!(v["data"].as_str().map(str::len), Some(64 * 1024));
    client.send_frame(true, TEXT, "y".repeat(64 * 1024 + 1).as_bytes());
    client.expect_close(1009);
    let (_, body) = http(addr, "GET", "/poll?topic=big&since=0", b"");
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["messages"].as_array().map(Vec::len), Some(1), "only the 64 KiB message was published");
}

#[test]
fn ws_binary_is_1003() {
    let addr = server();
    let mut client = Client::ws(addr, "/ws?topic=bin");
    client.send_frame(true, BINARY, &[0, 1, 2, 3]);
    // The server starts the closing handshake (1003) and waits for our close.
    client.expect_close(1003);
    let (_, body) = http(addr, "GET", "/poll?topic=bin&since=0", b"");
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["messages"].as_array().map(Vec::len), Some(0), "{v}");
}

#[test]
fn ws_invalid_utf8_is_1007_and_not_published() {
    let addr = server();
    let mut client = Client::ws(addr, "/ws?topic=utf");
    client.send_frame(true, TEXT, b"bad \xff");
    client.expect_close(1007);
    let (_, body) = http(addr, "GET", "/poll?topic=utf&since=0", b"");
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["messages"].as_array().map(Vec::len), Some(0), "{v}");
}
