//! The WebSocket opening handshake (RFC 6455 §4, SPEC §7): the `101` and its
//! `Sec-WebSocket-Accept` (RFC 6455 §4.2.2, with the RFC's own example key), every refusal
//! (`400`, `403`, `405`, `426`) and that it closes the connection, the `Connection` and
//! `Upgrade` tokens, the origin policy (§10.2), and the bytes around the handshake (frames in
//! the same write, a request pipelined before it). Autobahn|Testsuite has no section for the
//! handshake; these cases come from the RFC.
//!
//! The client is `tests/common/ws.rs`, written from RFC 6455 and not from `src/wire/ws/`;
//! every test starts its own server in-process on `127.0.0.1:0`.

mod common;

use std::net::SocketAddr;

use common::ws::*;

// =====================================================================================
// The opening handshake (RFC 6455 §4.2, SPEC §7).
// =====================================================================================

/// Sends `request` on a fresh connection; returns the response head and body.
fn refused(addr: SocketAddr, request: &str) -> (Head, Client) {
    let mut client = Client::connect(addr);
    client.send(request.as_bytes());
    let head = client.read_head();
    let _ = client.read_body(&head);
    (head, client)
}

/// The request is refused with `status` and the connection is closed (SPEC §7: "Every
/// refused handshake … closes the connection").
fn assert_refused(addr: SocketAddr, request: &str, status: u16) -> Head {
    let (head, mut client) = refused(addr, request);
    assert_eq!(head.status, status, "request:\n{request}\nresponse:\n{}", head.raw);
    client.expect_eof();
    head
}

#[test]
fn rfc6455_4_2_2_accept_key_of_the_rfc_example() {
    assert_eq!(expected_accept(RFC_KEY), RFC_ACCEPT, "the test's own SHA-1/base64 agrees with RFC 6455 §1.3");
    let addr = server();
    let mut client = Client::connect(addr);
    client.send(upgrade_request("/echo", &addr.to_string(), RFC_KEY).as_bytes());
    let head = client.read_head();
    assert_eq!(head.status, 101, "{}", head.raw);
    assert!(head.raw.starts_with("HTTP/1.1 101 "), "{}", head.raw);
    assert_eq!(head.header("Sec-WebSocket-Accept"), Some(RFC_ACCEPT));
    assert!(head.header("Upgrade").is_some_and(|v| v.eq_ignore_ascii_case("websocket")), "{}", head.raw);
    assert!(head.header("Connection").is_some_and(|v| v.eq_ignore_ascii_case("upgrade")), "{}", head.raw);
    // SPEC §8: a 101 has no Content-Length (RFC 9110 §8.6).
    assert_eq!(head.header("Content-Length"), None, "{}", head.raw);
    client.send_frame(true, TEXT, b"hi");
    client.expect_message(TEXT, b"hi");
    client.close_normally();
}

#[test]
fn rfc6455_4_2_1_missing_key_is_400() {
    let addr = server();
    let request = format!(
        "GET /echo HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    assert_refused(addr, &request, 400);
}

#[test]
fn rfc6455_4_2_1_key_not_16_bytes_is_400() {
    let addr = server();
    // 15 bytes, 17 bytes, not base64 at all, and two keys.
    for key in
        ["AAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAAAA=", "not base64 at all!!!", "dGhlIHNhbXBsZSBub25jZQ"]
    {
        let request = upgrade_request("/echo", &addr.to_string(), key);
        assert_refused(addr, &request, 400);
    }
    let twice = upgrade_request("/echo", &addr.to_string(), RFC_KEY)
        .replace("\r\n\r\n", &format!("\r\nSec-WebSocket-Key: {RFC_KEY}\r\n\r\n"));
    assert_refused(addr, &twice, 400);
}

#[test]
fn rfc6455_4_4_version_8_is_426_naming_13() {
    let addr = server();
    let request = upgrade_request("/echo", &addr.to_string(), RFC_KEY).replace("Version: 13", "Version: 8");
    let head = assert_refused(addr, &request, 426);
    assert_eq!(head.header("Sec-WebSocket-Version"), Some("13"), "{}", head.raw);
}

#[test]
fn rfc6455_4_2_1_missing_version_is_400() {
    let addr = server();
    let request =
        upgrade_request("/echo", &addr.to_string(), RFC_KEY).replace("Sec-WebSocket-Version: 13\r\n", "");
    assert_refused(addr, &request, 400);
}

#[test]
fn rfc6455_4_2_1_post_and_head_are_405() {
    let addr = server();
    for method in ["POST", "HEAD"] {
        let request = upgrade_request("/echo", &addr.to_string(), RFC_KEY).replacen("GET", method, 1);
        let request = if method == "POST" {
            request.replace("\r\n\r\n", "\r\nContent-Length: 0\r\n\r\n")
        } else {
            request
        };
        let mut client = Client::connect(addr);
        client.send(request.as_bytes());
        let head = client.read_head();
        assert_eq!(head.status, 405, "{method}:\n{}", head.raw);
        if method == "POST" {
            let _ = client.read_body(&head);
        }
        client.expect_eof();
    }
}

#[test]
fn rfc6455_4_2_1_missing_upgrade_is_400() {
    let addr = server();
    let request = upgrade_request("/echo", &addr.to_string(), RFC_KEY).replace("Upgrade: websocket\r\n", "");
    assert_refused(addr, &request, 400);
    let request = upgrade_request("/echo", &addr.to_string(), RFC_KEY)
        .replace("Connection: Upgrade", "Connection: keep-alive");
    assert_refused(addr, &request, 400);
}

#[test]
fn rfc6455_4_2_1_http_1_0_is_400() {
    let addr = server();
    let request = upgrade_request("/echo", &addr.to_string(), RFC_KEY).replace("HTTP/1.1", "HTTP/1.0");
    assert_refused(addr, &request, 400);
}

#[test]
fn rfc6455_4_2_1_connection_list_and_case_insensitive_tokens() {
    let addr = server();
    let variants = [
        ("Connection: Upgrade", "Connection: keep-alive, Upgrade"),
        ("Connection: Upgrade", "Connection: UPGRADE"),
        ("Upgrade: websocket", "Upgrade: WebSocket"),
        ("Connection: Upgrade", "connection: upgrade"),
    ];
    for (from, to) in variants {
        let request = upgrade_request("/echo", &addr.to_string(), RFC_KEY).replace(from, to);
        let mut client = Client::connect(addr);
        client.send(request.as_bytes());
        let head = client.read_head();
        assert_eq!(head.status, 101, "with {to:?}:\n{}", head.raw);
        assert_eq!(head.header("Sec-WebSocket-Accept"), Some(RFC_ACCEPT));
        client.close_normally();
    }
}

#[test]
fn rfc6455_10_2_origin_policy() {
    let addr = server_with(|c| c.allow_origins = vec!["https://chat.example".to_string()]);
    let base = upgrade_request("/echo", &addr.to_string(), RFC_KEY);
    let with_origin = |origin: &str| base.replace("\r\n\r\n", &format!("\r\nOrigin: {origin}\r\n\r\n"));
    for accepted in
        [base.clone(), with_origin(&format!("http://{addr}")), with_origin("https://chat.example")]
    {
        let mut client = Client::connect(addr);
        client.send(accepted.as_bytes());
        let head = client.read_head();
        assert_eq!(head.status, 101, "request:\n{accepted}\nresponse:\n{}", head.raw);
        client.close_normally();
    }
    for refused_origin in ["http://evil.example", "https://127.0.0.1", &format!("https://{addr}"), "null"] {
        assert_refused(addr, &with_origin(refused_origin), 403);
    }
}

#[test]
fn rfc6455_4_2_1_ws_needs_a_valid_topic() {
    let addr = server();
    assert_refused(addr, &upgrade_request("/ws", &addr.to_string(), RFC_KEY), 400);
    assert_refused(addr, &upgrade_request("/ws?topic=no%20spaces", &addr.to_string(), RFC_KEY), 400);
}

#[test]
fn rfc6455_4_1_frames_in_the_same_write_as_the_handshake_are_not_lost() {
    let addr = server();
    let mut frames = encode_frame(true, 0, TEXT, b"first", Some([1, 2, 3, 4]));
    frames.extend(encode_frame(true, 0, PING, b"p", Some([5, 6, 7, 8])));
    frames.extend(encode_frame(true, 0, BINARY, b"second", Some([9, 10, 11, 12])));
    let mut client = Client::ws_sending(addr, "/echo", &frames);
    client.expect_message(TEXT, b"first");
    client.expect_frame(PONG, b"p");
    client.expect_message(BINARY, b"second");
    client.close_normally();
}

#[test]
fn rfc6455_4_2_1_pipelined_request_before_upgrade_is_answered_first() {
    let addr = server();
    let mut client = Client::connect(addr);
    let mut bytes = format!("GET /poll?topic=pipe HTTP/1.1\r\nHost: {addr}\r\n\r\n").into_bytes();
    bytes.extend(upgrade_request("/echo", &addr.to_string(), RFC_KEY).into_bytes());
    client.send(&bytes);
    let head = client.read_head();
    assert_eq!(head.status, 200, "{}", head.raw);
    let _ = client.read_body(&head);
    let head = client.read_head();
    assert_eq!(head.status, 101, "{}", head.raw);
    client.send_frame(true, TEXT, b"after pipelining");
    client.expect_message(TEXT, b"after pipelining");
    client.close_normally();
}
