//! Autobahn|Testsuite categories 7–10, the API outside `receive`, and verdicts.

use super::*;

// ---- 7.x closing ----

#[test]
fn autobahn_7_1_close_then_more() {
    // 7.1.1: a message, then the close: echo, then our Close answers with the same code.
    let (frames, state) = echo_all_ways(&concat(&[text(b"Hello"), close_frame(1000, b"")]));
    assert_eq!(frames, [Sent::Text(b"Hello".to_vec()), Sent::Close(Some(1000))]);
    assert_eq!(state, WsState::ClosedByPeer);
    // 7.1.2–7.1.4: after the peer's Close, a second Close, a ping, a message: all ignored.
    for after in [close_frame(1000, b""), frame(true, OpCode::Ping, b""), text(b"Hello")] {
        let (frames, _) = echo_all_ways(&concat(&[close_frame(1000, b""), after]));
        assert_eq!(frames, [Sent::Close(Some(1000))]);
    }
    // 7.1.5: a fragment, the Close, then the last fragment: no message.
    let input = concat(&[
        frame(false, OpCode::Text, b"fragment1"),
        close_frame(1000, b""),
        frame(true, OpCode::Continuation, b"fragment2"),
    ]);
    assert_eq!(echo_all_ways(&input).0, [Sent::Close(Some(1000))]);
}

#[test]
fn autobahn_7_1_6_large_message_then_close_then_ping() {
    let big = b"BAsd7&jh23".repeat(256 * 1024 / 10);
    let input =
        concat(&[text(&big), text(b"Hello World!"), close_frame(1000, b""), frame(true, OpCode::Ping, b"")]);
    let mut echo = Echo::new();
    echo.feed_chopped(&input, 4096);
    assert_eq!(echo.take(), [Sent::Text(big), Sent::Text(b"Hello World!".to_vec()), Sent::Close(Some(1000))]);
}

#[test]
fn autobahn_7_3_close_payloads() {
    // 7.3.1: empty body; answered with an empty body.
    assert_eq!(
        echo_all_ways(&frame(true, OpCode::Close, b"")),
        (vec![Sent::Close(None)], WsState::ClosedByPeer)
    );
    // 7.3.2: one byte.
    assert_eq!(
        echo_all_ways(&frame(true, OpCode::Close, b"a")),
        (vec![Sent::Close(Some(1002))], WsState::Closed)
    );
    // 7.3.3–7.3.5: code only, code and reason, reason of 123 bytes.
    for reason in [&b""[..], b"Hello World!", &[b'*'; 123]] {
        let (frames, state) = echo_all_ways(&close_frame(1000, reason));
        assert_eq!((frames, state), (vec![Sent::Close(Some(1000))], WsState::ClosedByPeer));
    }
    // 7.3.6: a reason of 124 bytes makes a 126-byte control frame.
    assert_eq!(echo_all_ways(&close_frame(1000, &[b'*'; 124])).0, [Sent::Close(Some(1002))]);
}

#[test]
fn autobahn_7_5_1_close_reason_not_utf8() {
    let reason = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64";
    assert_eq!(echo_all_ways(&close_frame(1000, reason)).0, [Sent::Close(Some(1007))]);
}

#[test]
fn autobahn_7_7_and_7_9_close_codes() {
    // 7.7.x: valid codes are echoed.
    for code in [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999] {
        let (frames, state) = echo_all_ways(&close_frame(code, b""));
        assert_eq!((frames, state), (vec![Sent::Close(Some(code))], WsState::ClosedByPeer), "{code}");
    }
    // 7.9.x and 7.13.x: invalid codes are a protocol error.
    for code in [0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999, 5000, 65535] {
        let (frames, state) = echo_all_ways(&close_frame(code, b""));
        assert_eq!((frames, state), (vec![Sent::Close(Some(1002))], WsState::Closed), "{code}");
    }
}

#[test]
fn closing_handshake_started_by_us() {
    let mut echo = Echo::new();
    echo.feed(&frame(false, OpCode::Text, b"half a mess"));
    echo.ws.close(CloseCode::GoingAway, "shutting down", &mut echo.out);
    assert_eq!(echo.take(), [Sent::Close(Some(1001))]);
    assert_eq!((echo.ws.state(), echo.ws.is_done()), (WsState::ClosedByUs, false));
    // Until the peer's Close: data is dropped, pings go unanswered, nothing is sent.
    echo.ws.send(MessageKind::Text, b"late", &mut echo.out);
    echo.ws.ping(b"late", &mut echo.out);
    echo.feed(&concat(&[
        frame(true, OpCode::Continuation, b"age"),
        frame(true, OpCode::Ping, b"?"),
        text(b"more"),
    ]));
    assert_eq!(echo.take(), []);
    echo.feed(&close_frame(1001, b""));
    assert_eq!(echo.take(), []);
    assert_eq!((echo.ws.state(), echo.ws.is_done(), echo.ws.failure()), (WsState::Closed, true, None));
}

#[test]
fn close_during_a_frame_discards_its_rest() {
    let input = text(&[b'a'; 1000]);
    let mut echo = Echo::new();
    echo.feed(&input[..500]);
    echo.ws.close(CloseCode::TooBig, "", &mut echo.out);
    echo.feed(&input[500..]).feed(&close_frame(1000, b""));
    assert_eq!(echo.take(), [Sent::Close(Some(1009))]);
    assert_eq!(echo.ws.state(), WsState::Closed);
}

#[test]
fn unmasked_frame_is_a_protocol_error() {
    let mut input = Vec::new();
    write_frame(&mut input, true, OpCode::Text, b"Hello");
    assert_eq!(echo_all_ways(&input).0, [Sent::Close(Some(1002))]);
}

// ---- 9.x limits and large messages ----

#[test]
fn message_too_big_fails_on_the_declared_length() {
    let mut echo = Echo::with_max(1000);
    echo.feed(&text(&[b'a'; 1000]));
    assert_eq!(echo.take(), [Sent::Text(vec![b'a'; 1000])]);
    // 1001 bytes: the 8-byte header alone is enough to refuse.
    let input = text(&[b'a'; 1001]);
    echo.feed(&input[..8]);
    assert_eq!(echo.take(), [Sent::Close(Some(1009))]);
    assert_eq!(echo.ws.failure(), Some(ProtocolError::TooBig));
    // Across fragments: 600 + 401.
    let mut echo = Echo::with_max(1000);
    echo.feed(&concat(&[
        frame(false, OpCode::Binary, &[0; 600]),
        frame(true, OpCode::Continuation, &[0; 401]),
    ]));
    assert_eq!(echo.take(), [Sent::Close(Some(1009))]);
}

#[test]
fn autobahn_9_16_mib_in_one_frame_and_in_64_kib_fragments() {
    // Debug builds are slow per byte, so the client side is built from one masked 64 KiB
    // block: the pattern divides 64 KiB and 64 KiB is a multiple of 4, so every block of the
    // payload masks to the same bytes, and std's (optimized) `repeat` does the rest.
    const BLOCK: usize = 64 * 1024;
    let big = b"BAsd7&jh23-wxyz!".repeat(16 * 1024 * 1024 / 16);
    let mut masked_block = big[..BLOCK].to_vec();
    apply_mask(&mut masked_block, KEY, 0);
    let header = |fin, opcode, len: usize| {
        let mut out = Vec::new();
        FrameHeader { fin, rsv: 0, opcode, mask: Some(KEY), payload_len: len as u64 }.emit(&mut out);
        out
    };

    let mut echo = Echo::new();
    echo.feed(&header(true, OpCode::Text, big.len()));
    for _ in 0..big.len() / BLOCK {
        echo.feed(&masked_block);
    }
    assert_eq!(sent(&echo.out), [Sent::Text(big.clone())]);
    echo.out.clear();

    let blocks = big.len() / BLOCK;
    for i in 0..blocks {
        let opcode = if i == 0 { OpCode::Binary } else { OpCode::Continuation };
        echo.feed(&concat(&[header(i + 1 == blocks, opcode, BLOCK), masked_block.clone()]));
    }
    assert_eq!(sent(&echo.out), [Sent::Binary(big)]);
    assert_eq!(echo.ws.state(), WsState::Open);
}

// ---- 10.x auto-fragmentation ----

#[test]
fn autobahn_10_1_1_auto_fragmented_64_kib() {
    let whole: Vec<u8> = (0..65536).map(|i| b'a' + (i % 26) as u8).collect();
    let pieces: Vec<&[u8]> = whole.chunks(1300).collect();
    let frames: Vec<Vec<u8>> = pieces
        .iter()
        .enumerate()
        .map(|(i, p)| {
            frame(i + 1 == pieces.len(), if i == 0 { OpCode::Text } else { OpCode::Continuation }, p)
        })
        .collect();
    let mut echo = Echo::new();
    echo.feed_chopped(&concat(&frames), 1000);
    assert_eq!(echo.take(), [Sent::Text(whole)]);
}

// ---- the API outside `receive` ----

#[test]
fn send_and_ping_encode_server_frames() {
    let mut ws = WsProtocol::new(MAX);
    let mut out = Vec::new();
    ws.send(MessageKind::Text, b"{\"id\":1}", &mut out);
    ws.send(MessageKind::Binary, &[1, 2, 3], &mut out);
    ws.ping(&[7; 200], &mut out);
    assert_eq!(
        sent(&out),
        [Sent::Text(b"{\"id\":1}".to_vec()), Sent::Binary(vec![1, 2, 3]), Sent::Ping(vec![7; 125])]
    );
}

#[test]
fn header_split_across_reads_with_non_minimal_length() {
    // A 64-bit length encoding 5, fed one byte at a time: accepted (see FrameHeader::parse).
    let mut input =
        vec![bits::FIN | u8::from(OpCode::Text), bits::MASK | bits::LEN_64, 0, 0, 0, 0, 0, 0, 0, 5];
    input.extend_from_slice(&KEY);
    let mut payload = *b"Hello";
    apply_mask(&mut payload, KEY, 0);
    input.extend_from_slice(&payload);
    assert_eq!(echo_all_ways(&input).0, [Sent::Text(b"Hello".to_vec())]);
}

// ---- verdicts: the application's answer takes effect at its message ----

#[test]
fn spec_7_a_refused_message_closes_before_the_rest_of_the_read_is_seen() {
    let mut ws = WsProtocol::new(MAX);
    let mut out = Vec::new();
    let input =
        concat(&[frame(true, OpCode::Binary, b"no"), text(b"later"), frame(true, OpCode::Ping, b"p")]);
    let mut seen = 0;
    ws.receive(&input, &mut out, &mut |kind, _| {
        seen += 1;
        match kind {
            MessageKind::Binary => Verdict::Close(CloseCode::Unsupported, "binary"),
            MessageKind::Text => Verdict::Accept,
        }
    });
    assert_eq!(seen, 1, "nothing after the refused message reaches the handler");
    assert_eq!(sent(&out), [Sent::Close(Some(1003))], "no pong after our Close (§5.5.1)");
    assert_eq!(ws.state(), WsState::ClosedByUs);
    ws.receive(&close_frame(1003, b""), &mut out, &mut |_, _| Verdict::Accept);
    assert!(ws.is_done());
}

#[test]
fn accept_sends_nothing_echo_sends_it_back() {
    let mut ws = WsProtocol::new(MAX);
    let mut out = Vec::new();
    ws.receive(&text(b"kept"), &mut out, &mut |_, _| Verdict::Accept);
    assert!(out.is_empty());
    ws.receive(&text(b"back"), &mut out, &mut |_, _| Verdict::Echo);
    assert_eq!(sent(&out), [Sent::Text(b"back".to_vec())]);
}
