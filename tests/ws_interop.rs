//! Interoperability: an independent WebSocket client, `tungstenite`, speaks to pushlab.
//!
//! The `tests/websocket_*.rs` files check the server against RFC 6455 with a client written
//! beside it (`tests/common/ws.rs`); this file checks it against a client written by other people, which validates
//! the handshake (`Sec-WebSocket-Accept`), the framing and the closing handshake its own way.
//! It uses tungstenite's blocking API over a `std::net::TcpStream`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pushlab::config::Config;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::frame::CloseFrame;
use tungstenite::{Error, Message, WebSocket};

type Ws = WebSocket<tungstenite::stream::MaybeTlsStream<TcpStream>>;

fn server() -> SocketAddr {
    let config = Config { addr: "127.0.0.1:0".parse().unwrap(), ..Config::default() };
    pushlab::spawn(config).expect("server starts")
}

fn connect(addr: SocketAddr, path: &str) -> Ws {
    let (ws, response) = tungstenite::connect(format!("ws://{addr}{path}")).expect("handshake");
    assert_eq!(response.status(), 101);
    if let tungstenite::stream::MaybeTlsStream::Plain(stream) = ws.get_ref() {
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    }
    ws
}

/// The next data or close message (tungstenite answers pings by itself).
fn next(ws: &mut Ws) -> Message {
    loop {
        match ws.read().expect("read") {
            Message::Ping(_) | Message::Pong(_) => continue,
            other => return other,
        }
    }
}

/// Completes a closing handshake we started: read until tungstenite reports the end.
fn finish_close(ws: &mut Ws) -> Option<CloseFrame> {
    let mut answer = None;
    loop {
        match ws.read() {
            Ok(Message::Close(frame)) => answer = frame,
            Ok(_) => {}
            // "Not an error as such" (tungstenite's docs): the handshake is complete.
            Err(Error::ConnectionClosed) => return answer,
            Err(e) => panic!("closing: {e}"),
        }
    }
}

fn http(addr: SocketAddr, method: &str, target: &str, body: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        stream,
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("a response");
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    body.to_string()
}

fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

fn json(message: Message) -> serde_json::Value {
    match message {
        Message::Text(text) => serde_json::from_str(text.as_str()).expect("message JSON"),
        other => panic!("expected a text frame, got {other:?}"),
    }
}

#[test]
fn echo_text_and_binary() {
    let addr = server();
    let mut ws = connect(addr, "/echo");
    ws.send(Message::text("Hello-µ@ßöäüàá-UTF-8!!")).unwrap();
    assert_eq!(next(&mut ws), Message::text("Hello-µ@ßöäüàá-UTF-8!!"));
    ws.send(Message::binary(vec![0u8, 1, 2, 255])).unwrap();
    assert_eq!(next(&mut ws), Message::binary(vec![0u8, 1, 2, 255]));
    ws.send(Message::text("")).unwrap();
    assert_eq!(next(&mut ws), Message::text(""));
    ws.close(None).unwrap();
    assert_eq!(finish_close(&mut ws), None, "an empty close is answered with an empty close");
}

#[test]
fn echo_one_mebibyte() {
    let addr = server();
    let mut ws = connect(addr, "/echo");
    let data: Vec<u8> = (0..1024 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    ws.send(Message::binary(data.clone())).unwrap();
    match next(&mut ws) {
        Message::Binary(got) => assert!(got[..] == data[..], "1 MiB echo differs"),
        other => panic!("{other:?}"),
    }
    let text = "x".repeat(1024 * 1024);
    ws.send(Message::text(text.clone())).unwrap();
    assert_eq!(next(&mut ws), Message::text(text));
    ws.close(None).unwrap();
    assert_eq!(finish_close(&mut ws), None, "an empty close is answered with an empty close");
}

#[test]
fn ping_gets_pong() {
    let addr = server();
    let mut ws = connect(addr, "/echo");
    ws.send(Message::Ping(b"are you there?".to_vec().into())).unwrap();
    match ws.read().unwrap() {
        Message::Pong(payload) => assert_eq!(&payload[..], b"are you there?"),
        other => panic!("expected a pong, got {other:?}"),
    }
    ws.close(None).unwrap();
    assert_eq!(finish_close(&mut ws), None, "an empty close is answered with an empty close");
}

#[test]
fn close_handshake_echoes_the_code() {
    let addr = server();
    let mut ws = connect(addr, "/echo");
    ws.close(Some(CloseFrame { code: CloseCode::Away, reason: "bye".into() })).unwrap();
    let answer = finish_close(&mut ws).expect("the server answers with a close frame");
    assert_eq!(answer.code, CloseCode::Away);
    assert!(matches!(ws.send(Message::text("late")), Err(Error::AlreadyClosed | Error::ConnectionClosed)));
}

#[test]
fn ws_replays_pushes_and_publishes() {
    let addr = server();
    http(addr, "POST", "/publish?topic=interop", "before");
    let mut ws = connect(addr, "/ws?topic=interop&since=0");
    let replayed = json(next(&mut ws));
    assert_eq!((replayed["id"].as_u64(), replayed["data"].as_str()), (Some(1), Some("before")), "{replayed}");
    // Live: published over HTTP, pushed as a text frame holding the message JSON.
    let before = unix_ms();
    http(addr, "POST", "/publish?topic=interop", "live");
    let after = unix_ms();
    let live = json(next(&mut ws));
    assert_eq!(
        (live["id"].as_u64(), live["topic"].as_str(), live["data"].as_str()),
        (Some(2), Some("interop"), Some("live"))
    );
    // SPEC §2: the server's Unix time in milliseconds at publish (the server is in-process).
    let time = live["time"].as_u64().unwrap_or_else(|| panic!("no time: {live}"));
    assert!((before..=after).contains(&time), "time {time} not within [{before}, {after}]");
    // A text message from the client publishes to the topic, and comes back as a push.
    ws.send(Message::text("from tungstenite")).unwrap();
    let own = json(next(&mut ws));
    assert_eq!((own["id"].as_u64(), own["data"].as_str()), (Some(3), Some("from tungstenite")), "{own}");
    let polled: serde_json::Value =
        serde_json::from_str(&http(addr, "GET", "/poll?topic=interop&since=2", "")).unwrap();
    assert_eq!(polled["messages"][0]["data"].as_str(), Some("from tungstenite"), "{polled}");
    ws.close(None).unwrap();
    assert_eq!(finish_close(&mut ws), None, "an empty close is answered with an empty close");
}

#[test]
fn ws_binary_is_closed_with_1003() {
    let addr = server();
    let mut ws = connect(addr, "/ws?topic=interop-binary");
    ws.send(Message::binary(vec![1u8, 2, 3])).unwrap();
    match next(&mut ws) {
        Message::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::Unsupported),
        other => panic!("expected close 1003, got {other:?}"),
    }
    // tungstenite answers the close by itself; the server then ends the connection.
    assert!(matches!(ws.read(), Err(Error::ConnectionClosed)));
}
