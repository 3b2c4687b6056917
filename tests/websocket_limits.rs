//! WebSocket limits and performance: Autobahn|Testsuite sections 9 (messages of up to 16 MiB,
//! in one frame, in fragments of 64 bytes to 1 MiB, in writes of 64 bytes to 64 KiB; 1000
//! round trips) and 10 (auto-fragmentation) reproduced, and `--max-message` on `/echo`
//! (RFC 6455 §7.4.1 code 1009, decided from the frame header).
//!
//! Each Autobahn test is named after its case id (crossbario/autobahn-testsuite,
//! `autobahntestsuite/case/case*.py`), sends the same frames, in the same chops, and expects
//! what the case expects; where Autobahn accepts "drop TCP" as well as a close frame, the test
//! requires the close frame with its code, as SPEC §7 does. Autobahn's one-second waits are
//! shortened to `QUIET`. The client is `tests/common/ws.rs`, written from RFC 6455 and not
//! from `src/wire/ws/`; every test starts its own server in-process on `127.0.0.1:0`.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::ws::*;

// =====================================================================================
// 9.x Limits and performance: large messages, many fragments, many messages.
// =====================================================================================

/// Sends one message of `len` pattern bytes ([`extend_pattern`]) as fragments of `frag` bytes (one frame
/// if `frag >= len`), generating and masking it in 64 KiB pieces, in writes of `chop` bytes;
/// then reads the echo, comparing every byte as it arrives. Nothing is stored whole.
fn large_case(opcode: u8, len: usize, frag: usize, chop: usize) {
    let addr = server();
    let mut client = Client::ws(addr, "/echo");
    let started = Instant::now();
    let mut sent = 0;
    let mut out = Vec::with_capacity(chop.max(64 * 1024) + 14);
    loop {
        let n = frag.min(len - sent);
        let fin = sent + n == len;
        let key = client.key();
        out.extend(encode_header(fin, 0, if sent == 0 { opcode } else { CONTINUATION }, n as u64, Some(key)));
        let mut at = 0;
        while at < n {
            let piece = (64 * 1024).min(n - at);
            let start = out.len();
            extend_pattern(&mut out, opcode, sent + at, piece);
            mask_fast(&mut out[start..], key, at);
            at += piece;
            let mut written = 0;
            while out.len() - written >= chop {
                client.send(&out[written..written + chop]);
                written += chop;
            }
            out.drain(..written);
        }
        sent += n;
        if fin {
            break;
        }
    }
    client.send(&out);
    // The echo: frames of `opcode` then continuations, compared against the pattern.
    let mut received = 0;
    let mut first = true;
    loop {
        let h = loop {
            if let Some(h) = decode_header(&client.buf) {
                break h;
            }
            assert!(client.fill(), "closed after {received} of {len} echoed bytes");
        };
        client.buf.drain(..h.header_len);
        let want = if first { opcode } else { CONTINUATION };
        assert_eq!(h.opcode, want, "frame opcode after {received} echoed bytes");
        first = false;
        let mut left = h.len as usize;
        while left > 0 {
            if client.buf.is_empty() {
                assert!(client.fill(), "closed after {received} of {len} echoed bytes");
            }
            let n = left.min(client.buf.len());
            if let Some(i) = pattern_mismatch(opcode, received, &client.buf[..n]) {
                panic!("echo differs at byte {} of {len}: {:#04x}", received + i, client.buf[i]);
            }
            client.buf.drain(..n);
            received += n;
            left -= n;
        }
        if h.fin {
            break;
        }
    }
    assert_eq!(received, len, "echoed length");
    client.close_normally();
    eprintln!("{len} bytes, fragments of {frag}, writes of {chop}: echoed in {:?}", started.elapsed());
}

const K: usize = 1024;
const M: usize = 1024 * 1024;

macro_rules! large_cases {
    ($($name:ident: $opcode:expr, $len:expr, $frag:expr, $chop:expr;)*) => {$(
        #[test]
        fn $name() {
            large_case($opcode, $len, $frag, $chop);
        }
    )*};
}

large_cases! {
    case_9_1_1_text_64k: TEXT, 64 * K, usize::MAX, 64 * K;
    case_9_1_2_text_256k: TEXT, 256 * K, usize::MAX, 64 * K;
    case_9_1_3_text_1m: TEXT, M, usize::MAX, 64 * K;
    case_9_1_4_text_4m: TEXT, 4 * M, usize::MAX, 64 * K;
    case_9_1_5_text_8m: TEXT, 8 * M, usize::MAX, 64 * K;
    case_9_1_6_text_16m: TEXT, 16 * M, usize::MAX, 64 * K;
    case_9_2_1_binary_64k: BINARY, 64 * K, usize::MAX, 64 * K;
    case_9_2_2_binary_256k: BINARY, 256 * K, usize::MAX, 64 * K;
    case_9_2_3_binary_1m: BINARY, M, usize::MAX, 64 * K;
    case_9_2_4_binary_4m: BINARY, 4 * M, usize::MAX, 64 * K;
    case_9_2_5_binary_8m: BINARY, 8 * M, usize::MAX, 64 * K;
    case_9_2_6_binary_16m: BINARY, 16 * M, usize::MAX, 64 * K;
    case_9_3_1_text_4m_in_fragments_of_64: TEXT, 4 * M, 64, 64 * K;
    case_9_3_4_text_4m_in_fragments_of_4k: TEXT, 4 * M, 4 * K, 64 * K;
    case_9_3_6_text_4m_in_fragments_of_64k: TEXT, 4 * M, 64 * K, 64 * K;
    case_9_3_8_text_4m_in_fragments_of_1m: TEXT, 4 * M, M, 64 * K;
    case_9_4_1_binary_4m_in_fragments_of_64: BINARY, 4 * M, 64, 64 * K;
    case_9_4_6_binary_4m_in_fragments_of_64k: BINARY, 4 * M, 64 * K, 64 * K;
    case_9_4_8_binary_4m_in_fragments_of_1m: BINARY, 4 * M, M, 64 * K;
    case_9_x_text_16m_in_fragments_of_64k: TEXT, 16 * M, 64 * K, 64 * K;
    case_9_x_binary_16m_in_fragments_of_1m: BINARY, 16 * M, M, 64 * K;
    case_9_5_1_text_1m_in_chops_of_64: TEXT, M, usize::MAX, 64;
    case_9_5_6_text_1m_in_chops_of_2048: TEXT, M, usize::MAX, 2048;
    case_9_6_1_binary_1m_in_chops_of_64: BINARY, M, usize::MAX, 64;
    case_9_6_6_binary_1m_in_chops_of_2048: BINARY, M, usize::MAX, 2048;
}

/// 9.7.x / 9.8.x: 1000 messages of `len` bytes, each sent after the previous echo arrived.
fn round_trips(opcode: u8, len: usize) {
    let addr = server();
    let mut client = Client::ws(addr, "/echo");
    let data = payload(opcode, len);
    let started = Instant::now();
    for _ in 0..1000 {
        client.send_frame(true, opcode, &data);
        client.expect_message(opcode, &data);
    }
    eprintln!("1000 round trips of {len} bytes: {:?}", started.elapsed());
    client.close_normally();
}

#[test]
fn case_9_7_1_1000_empty_text_round_trips() {
    round_trips(TEXT, 0);
}

#[test]
fn case_9_7_4_1000_text_round_trips_of_256() {
    round_trips(TEXT, 256);
}

#[test]
fn case_9_8_6_1000_binary_round_trips_of_4096() {
    round_trips(BINARY, 4096);
}

// =====================================================================================
// 10.x Auto-fragmentation.
// =====================================================================================

#[test]
fn case_10_1_1_text_65536_auto_fragmented_by_1300() {
    let addr = server();
    let mut client = Client::ws(addr, "/echo");
    let data = vec![b'*'; 65536];
    let pieces: Vec<&[u8]> = data.chunks(1300).collect();
    assert_eq!(pieces.len(), 65536 / 1300 + 1);
    let mut frames = Vec::new();
    for (i, piece) in pieces.iter().enumerate() {
        frames.push(client.frame(i == pieces.len() - 1, 0, if i == 0 { TEXT } else { CONTINUATION }, piece));
    }
    send_frames(&mut client, &frames, Chops::Frames);
    client.expect_message(TEXT, &data);
    client.close_normally();
}

// =====================================================================================
// Limits: `--max-message` on /echo (§7.4.1 code 1009).
// =====================================================================================

fn small_echo_server() -> SocketAddr {
    server_with(|c| c.max_message = M)
}

#[test]
fn rfc6455_7_4_1_echo_at_max_message_is_echoed() {
    let addr = small_echo_server();
    let mut client = Client::ws(addr, "/echo");
    let data = payload(BINARY, M);
    client.send_frame(true, BINARY, &data);
    client.expect_message(BINARY, &data);
    client.close_normally();
}

#[test]
fn rfc6455_7_4_1_echo_over_max_message_is_1009() {
    let addr = small_echo_server();
    let mut client = Client::ws(addr, "/echo");
    client.send_frame(true, BINARY, &payload(BINARY, M + 1));
    client.expect_close(1009);
}

#[test]
fn rfc6455_7_4_1_fragments_over_max_message_are_1009() {
    let addr = small_echo_server();
    let mut client = Client::ws(addr, "/echo");
    let half = payload(TEXT, M / 2);
    let frames = [
        client.frame(false, 0, TEXT, &half),
        client.frame(false, 0, CONTINUATION, &half),
        client.frame(true, 0, CONTINUATION, b"!"),
    ];
    send_frames(&mut client, &frames, Chops::One);
    client.expect_close(1009);
}

#[test]
fn rfc6455_7_4_1_too_big_fails_fast_on_the_header() {
    // The header announces M + 1 bytes; none of the payload is sent.
    let addr = small_echo_server();
    let mut client = Client::ws(addr, "/echo");
    let key = client.key();
    client.send(&encode_header(true, 0, BINARY, (M + 1) as u64, Some(key)));
    expect_fail_fast_code(&mut client, 1009);
}

fn expect_fail_fast_code(client: &mut Client, code: u16) {
    let started = Instant::now();
    client.expect_close(code);
    assert!(started.elapsed() < Duration::from_secs(2), "close {code} took {:?}", started.elapsed());
}
