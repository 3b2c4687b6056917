//! permessage-deflate (RFC 7692) over real sockets: the negotiation, compressed messages
//! both ways on `/echo` and `/ws`, and the rules that fail a connection. The client side
//! compresses and decompresses with `miniz_oxide`, an independent DEFLATE implementation,
//! so our inflater and deflater are each checked against someone else's.

mod common;
#[path = "../fuzz/checks/deflate_oracle.rs"]
mod deflate_oracle;

use std::net::SocketAddr;

use common::ws::{Client, CLOSE, CONTINUATION, PING, RSV1, TEXT};
use common::{config, start_with};
use deflate_oracle::{MinizDeflater, MinizInflater};
use pushlab::config::Config;

/// RFC 7692 §7.2.1: the tail of a sync flush, stripped by the sender.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

fn server(deflate: bool) -> SocketAddr {
    start_with(Config { deflate, ..config() })
}

/// Opens `path` offering `extensions`; returns the client and the response's
/// `Sec-WebSocket-Extensions`, if any.
fn open(addr: SocketAddr, path: &str, extensions: &str) -> (Client, Option<String>) {
    let mut client = Client::connect(addr);
    let offer = if extensions.is_empty() {
        String::new()
    } else {
        format!("Sec-WebSocket-Extensions: {extensions}\r\n")
    };
    client.send(
        format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n{offer}\r\n"
        )
        .as_bytes(),
    );
    let head = client.read_head();
    assert_eq!(head.status, 101, "{}", head.raw);
    let answer = head.header("Sec-WebSocket-Extensions").map(str::to_string);
    client.deflate = answer.is_some();
    (client, answer)
}

/// A client's compressor (miniz), keeping its window between messages unless reset.
struct Compressor(MinizDeflater);

impl Compressor {
    fn new() -> Compressor {
        Compressor(MinizDeflater::new(6))
    }

    /// §7.2.1: compress, sync flush, strip the tail.
    fn message(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = self.0.message(data);
        assert!(out.ends_with(&TAIL));
        out.truncate(out.len() - TAIL.len());
        out
    }
}

/// A client's decompressor (miniz), with the window kept across messages.
struct Decompressor(MinizInflater);

impl Decompressor {
    fn new() -> Decompressor {
        Decompressor(MinizInflater::default())
    }

    /// §7.2.2: append the tail, inflate.
    fn message(&mut self, payload: &[u8]) -> Vec<u8> {
        self.0.feed(&[payload, &TAIL].concat(), usize::MAX).expect("miniz inflates the server's frame")
    }
}

#[test]
fn rfc7692_5_the_first_offer_is_accepted_with_the_parameters_in_force() {
    let addr = server(true);
    let (_, answer) = open(addr, "/echo", "permessage-deflate; client_max_window_bits");
    let answer = answer.expect("deflate accepted");
    assert!(answer.starts_with("permessage-deflate"), "{answer}");
    // pushlab compresses each message alone, so subscribers can share one frame.
    assert!(answer.contains("server_no_context_takeover"), "{answer}");
    // §5.1: the first offer we can honour; an unknown extension is skipped.
    let (_, answer) =
        open(addr, "/echo", "x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=10");
    let answer = answer.expect("the second offer accepted");
    assert!(answer.contains("server_max_window_bits=10"), "{answer}");
    // §7.1: an offer with an unknown parameter is declined; nothing else was offered.
    let (_, answer) = open(addr, "/echo", "permessage-deflate; no_such_thing");
    assert_eq!(answer, None);
    let (_, answer) = open(addr, "/echo", "");
    assert_eq!(answer, None, "nothing offered, nothing answered");
}

#[test]
fn no_deflate_answers_no_extension() {
    let addr = server(false);
    let (_, answer) = open(addr, "/echo", "permessage-deflate");
    assert_eq!(answer, None);
}

#[test]
fn rfc7692_7_2_echo_inflates_miniz_messages_and_compresses_the_answer() {
    let addr = server(true);
    let (mut client, _) = open(addr, "/echo", "permessage-deflate; client_max_window_bits");
    // The client keeps its window (no client_no_context_takeover): later messages point
    // back into earlier ones, and the server's inflater must keep its window too.
    let mut compressor = Compressor::new();
    let mut decompressor = Decompressor::new();
    let messages: Vec<Vec<u8>> = vec![
        br#"{"id":1,"topic":"chat","data":"hello"}"#.to_vec(),
        br#"{"id":2,"topic":"chat","data":"hello again"}"#.to_vec(),
        "é".repeat(20_000).into_bytes(),
        Vec::new(),
        (0..70_000u32).map(|i| (i * 7 % 251) as u8 % 96 + 32).collect(),
    ];
    for message in &messages {
        let payload = compressor.message(message);
        let frame = client.frame(true, RSV1, TEXT, &payload);
        client.send(&frame);
        let reply = client.next_frame();
        assert_eq!((reply.opcode, reply.fin, reply.rsv1), (TEXT, true, true), "a compressed echo");
        assert_eq!(decompressor.message(&reply.payload), *message, "the echo inflates to the message");
    }
    // An uncompressed message on the same connection is answered too (compressed).
    client.send_frame(true, TEXT, b"plain");
    let reply = client.next_frame();
    assert!(reply.rsv1);
    assert_eq!(decompressor.message(&reply.payload), b"plain");
}

#[test]
fn rfc7692_7_2_3_1_the_rfc_s_own_hello_inflates() {
    let addr = server(true);
    let (mut client, _) = open(addr, "/echo", "permessage-deflate");
    // §7.2.3.1: "Hello" compressed with one fixed-Huffman block, tail removed.
    let frame = client.frame(true, RSV1, TEXT, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
    client.send(&frame);
    let reply = client.next_frame();
    assert_eq!(Decompressor::new().message(&reply.payload), b"Hello");
    // §7.2.3.4: a message that ends with a final block (BFINAL = 1) is fine too.
    let final_block = miniz_oxide::deflate::compress_to_vec(b"Hello, final", 6);
    let frame = client.frame(true, RSV1, TEXT, &final_block);
    client.send(&frame);
    let reply = client.next_frame();
    assert_eq!(Decompressor::new().message(&reply.payload), b"Hello, final");
}

#[test]
fn rfc7692_6_ws_pushes_one_compressed_frame_to_every_subscriber() {
    let addr = server(true);
    let (mut a, _) = open(addr, "/ws?topic=z&since=0", "permessage-deflate; client_max_window_bits");
    let (mut b, _) = open(addr, "/ws?topic=z&since=0", "permessage-deflate; server_max_window_bits=9");
    let (mut plain, _) = open(addr, "/ws?topic=z&since=0", "");
    // A message sent by one subscriber is published to all three.
    let data = "the same news for everyone ".repeat(40);
    let payload = Compressor::new().message(data.as_bytes());
    let frame = a.frame(true, RSV1, TEXT, &payload);
    a.send(&frame);
    for (name, client, compressed) in [("a", &mut a, true), ("b", &mut b, true), ("plain", &mut plain, false)]
    {
        let f = client.next_frame();
        assert_eq!(f.rsv1, compressed, "{name}");
        let json = if compressed { Decompressor::new().message(&f.payload) } else { f.payload.clone() };
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!((v["id"].as_u64(), v["data"].as_str()), (Some(1), Some(data.as_str())), "{name}");
        if compressed {
            assert!(f.payload.len() < json.len() / 4, "{name}: {} bytes for {}", f.payload.len(), json.len());
        }
    }
}

/// Sends `frame` and expects the server to fail the connection with `code`.
fn expect_failure(client: &mut Client, frame: Vec<u8>, code: u16, rule: &str) {
    client.send(&frame);
    let f = client.next_frame();
    assert_eq!(f.opcode, CLOSE, "{rule}: expected a Close, got opcode {}", f.opcode);
    assert_eq!(u16::from_be_bytes([f.payload[0], f.payload[1]]), code, "{rule}");
}

#[test]
fn rfc7692_6_1_rsv1_where_it_means_nothing_is_1002() {
    let addr = server(true);
    // Without the extension (RFC 6455 §5.2).
    let (mut c, _) = open(addr, "/echo", "");
    let f = c.frame(true, RSV1, TEXT, b"x");
    expect_failure(&mut c, f, 1002, "RSV1 without permessage-deflate");
    // On a control frame.
    let (mut c, _) = open(addr, "/echo", "permessage-deflate");
    let f = c.frame(true, RSV1, PING, b"");
    expect_failure(&mut c, f, 1002, "RSV1 on a ping");
    // On a continuation frame.
    let (mut c, _) = open(addr, "/echo", "permessage-deflate");
    let first = c.frame(false, RSV1, TEXT, &Compressor::new().message(b"ab"));
    let next = c.frame(true, RSV1, CONTINUATION, b"");
    expect_failure(&mut c, [first, next].concat(), 1002, "RSV1 on a continuation");
}

#[test]
fn rfc6455_7_4_1_a_message_that_inflates_past_the_limit_is_1009() {
    let addr = start_with(Config { max_message: 64 * 1024, ..config() });
    let (mut c, _) = open(addr, "/echo", "permessage-deflate");
    // 16 MiB of zeros compress to a few KiB: a "zip bomb" stopped at 64 KiB.
    let bomb = Compressor::new().message(&vec![0u8; 16 << 20]);
    assert!(bomb.len() < 64 * 1024);
    let f = c.frame(true, RSV1, TEXT, &bomb);
    expect_failure(&mut c, f, 1009, "a bomb");
}

#[test]
fn rfc7692_8_2_2_data_that_does_not_inflate_is_1007() {
    let addr = server(true);
    let (mut c, _) = open(addr, "/echo", "permessage-deflate");
    // BTYPE 11 is reserved (RFC 1951 §3.2.3).
    let f = c.frame(true, RSV1, TEXT, &[0xff, 0xff, 0xff]);
    expect_failure(&mut c, f, 1007, "invalid DEFLATE data");
    // Valid DEFLATE, invalid UTF-8 in a text message.
    let (mut c, _) = open(addr, "/echo", "permessage-deflate");
    let f = c.frame(true, RSV1, TEXT, &Compressor::new().message(&[0xc3, 0x28]));
    expect_failure(&mut c, f, 1007, "invalid UTF-8 inside a compressed text");
}
