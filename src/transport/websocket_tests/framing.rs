//! Autobahn|Testsuite categories 1–6, over byte arrays.

use super::*;

// ---- 1.x framing ----

#[test]
fn autobahn_1_text_and_binary_lengths() {
    for len in [0, 125, 126, 127, 128, 65535, 65536] {
        let payload = vec![b'*'; len];
        let mut echo = Echo::new();
        echo.feed(&text(&payload)).feed(&frame(true, OpCode::Binary, &payload));
        assert_eq!(echo.take(), [Sent::Text(payload.clone()), Sent::Binary(payload)]);
        assert_eq!(echo.ws.state(), WsState::Open);
    }
}

#[test]
fn autobahn_1_split_at_every_byte() {
    for len in [0, 1, 5, 125, 126, 130] {
        let payload: Vec<u8> = (0..len).map(|i| (i % 256) as u8).collect();
        let input = concat(&[text(&vec![b'x'; len]), frame(true, OpCode::Binary, &payload)]);
        let (frames, state) = echo_all_ways(&input);
        assert_eq!(frames, [Sent::Text(vec![b'x'; len]), Sent::Binary(payload)]);
        assert_eq!(state, WsState::Open);
    }
}

#[test]
fn autobahn_1_chopped_delivery() {
    // Autobahn 1.1.8/1.2.8: 64 KiB sent in 997-byte chops.
    let payload = vec![0xFE; 65535];
    let mut echo = Echo::new();
    echo.feed_chopped(&frame(true, OpCode::Binary, &payload), 997);
    assert_eq!(echo.take(), [Sent::Binary(payload)]);
}

// ---- 2.x ping/pong ----

#[test]
fn autobahn_2_ping_payloads() {
    let binary: Vec<u8> = (0..=255u8).cycle().take(125).collect();
    for payload in [vec![], b"Hello, world!".to_vec(), binary, vec![0xFE; 125]] {
        let (frames, _) = echo_all_ways(&frame(true, OpCode::Ping, &payload));
        assert_eq!(frames, [Sent::Pong(payload)]);
    }
}

#[test]
fn autobahn_2_5_ping_too_long() {
    let mut echo = Echo::new();
    echo.feed(&frame(true, OpCode::Ping, &[0xFE; 126]));
    assert_eq!(echo.take(), [Sent::Close(Some(1002))]);
    assert!(echo.ws.is_done());
    assert_eq!(echo.ws.failure(), Some(ProtocolError::Frame(FrameError::ControlTooLong)));
}

#[test]
fn autobahn_2_unsolicited_pongs() {
    // 2.7/2.8: nothing comes back; 2.9: a pong, then a ping — only the ping is answered.
    let input = concat(&[frame(true, OpCode::Pong, b""), frame(true, OpCode::Pong, b"unsolicited")]);
    assert_eq!(echo_all_ways(&input).0, []);
    let input = concat(&[frame(true, OpCode::Pong, b"unsolicited"), frame(true, OpCode::Ping, b"ping")]);
    assert_eq!(echo_all_ways(&input).0, [Sent::Pong(b"ping".to_vec())]);
}

#[test]
fn autobahn_2_10_ten_pings() {
    let pings: Vec<Vec<u8>> = (0..10).map(|i| format!("payload-{i}").into_bytes()).collect();
    let input = concat(&pings.iter().map(|p| frame(true, OpCode::Ping, p)).collect::<Vec<_>>());
    let expected: Vec<Sent> = pings.into_iter().map(Sent::Pong).collect();
    let mut echo = Echo::new();
    assert_eq!(echo.feed(&input).take(), expected);
    // 2.11: the same, one byte per write.
    assert_eq!(Echo::new().feed_chopped(&input, 1).take(), expected);
}

// ---- 3.x reserved bits ----

#[test]
fn autobahn_3_reserved_bits() {
    let rsvs = [bits::RSV3, bits::RSV2, bits::RSV2 | bits::RSV3, bits::RSV1, bits::RSV1 | bits::RSV3];
    for rsv in rsvs.into_iter().chain([bits::RSV1 | bits::RSV2, bits::RSV]) {
        for opcode in [OpCode::Text, OpCode::Binary, OpCode::Ping] {
            // 3.2/3.3: a good message, the bad frame, then a ping that must go unanswered.
            let bad = raw_frame(bits::FIN | rsv | u8::from(opcode), b"Hello, world!");
            let input = concat(&[text(b"Hello, world!"), bad, frame(true, OpCode::Ping, b"")]);
            let (frames, state) = echo_all_ways(&input);
            assert_eq!(frames, [Sent::Text(b"Hello, world!".to_vec()), Sent::Close(Some(1002))]);
            assert_eq!(state, WsState::Closed);
        }
    }
}

// ---- 4.x reserved opcodes ----

#[test]
fn autobahn_4_reserved_opcodes() {
    for op in (3..=7).chain(0xB..=0xF) {
        for payload in [&b""[..], b"reserved opcode"] {
            let input =
                concat(&[text(b"Hello"), raw_frame(bits::FIN | op, payload), frame(true, OpCode::Ping, b"")]);
            let (frames, _) = echo_all_ways(&input);
            assert_eq!(frames, [Sent::Text(b"Hello".to_vec()), Sent::Close(Some(1002))], "opcode {op}");
        }
    }
}

// ---- 5.x fragmentation ----

#[test]
fn autobahn_5_1_and_5_2_fragmented_control() {
    for opcode in [OpCode::Ping, OpCode::Pong] {
        let input =
            concat(&[frame(false, opcode, b"fragment1"), frame(true, OpCode::Continuation, b"fragment2")]);
        assert_eq!(echo_all_ways(&input).0, [Sent::Close(Some(1002))]);
    }
}

#[test]
fn autobahn_5_3_to_5_8_fragments_with_pings() {
    for opcode in [OpCode::Text, OpCode::Binary] {
        let plain =
            concat(&[frame(false, opcode, b"fragment1"), frame(true, OpCode::Continuation, b"fragment2")]);
        let whole = b"fragment1fragment2".to_vec();
        let message = if opcode == OpCode::Text { Sent::Text(whole) } else { Sent::Binary(whole) };
        assert_eq!(echo_all_ways(&plain).0, [message]);
        let with_ping = concat(&[
            frame(false, OpCode::Text, b"fragment1"),
            frame(true, OpCode::Ping, b"ping payload"),
            frame(true, OpCode::Continuation, b"fragment2"),
        ]);
        let (frames, _) = echo_all_ways(&with_ping);
        assert_eq!(
            frames,
            [Sent::Pong(b"ping payload".to_vec()), Sent::Text(b"fragment1fragment2".to_vec())]
        );
    }
}

#[test]
fn autobahn_5_9_to_5_14_continuation_without_start() {
    for fin in [true, false] {
        let input =
            concat(&[frame(fin, OpCode::Continuation, b"non-continuation payload"), text(b"Hello, world!")]);
        assert_eq!(echo_all_ways(&input).0, [Sent::Close(Some(1002))]);
    }
}

#[test]
fn autobahn_5_15_to_5_18_interleaved_messages() {
    // 5.15: a complete fragmented message, then a continuation with nothing to continue.
    let input = concat(&[
        frame(false, OpCode::Text, b"fragment1"),
        frame(true, OpCode::Continuation, b"fragment2"),
        frame(false, OpCode::Continuation, b"fragment3"),
        frame(true, OpCode::Text, b"fragment4"),
    ]);
    assert_eq!(
        echo_all_ways(&input).0,
        [Sent::Text(b"fragment1fragment2".to_vec()), Sent::Close(Some(1002))]
    );
    // 5.17/5.18: two fragments, both with the Text opcode.
    let input = concat(&[frame(false, OpCode::Text, b"fragment1"), frame(true, OpCode::Text, b"fragment2")]);
    assert_eq!(echo_all_ways(&input).0, [Sent::Close(Some(1002))]);
}

#[test]
fn autobahn_5_19_pings_between_fragments() {
    let mut echo = Echo::new();
    echo.feed(&concat(&[
        frame(false, OpCode::Text, b"fragment1"),
        frame(false, OpCode::Continuation, b"fragment2"),
        frame(true, OpCode::Ping, b"pongme 1!"),
    ]));
    // The first ping is answered before the message is finished.
    assert_eq!(echo.take(), [Sent::Pong(b"pongme 1!".to_vec())]);
    echo.feed(&concat(&[
        frame(false, OpCode::Continuation, b"fragment3"),
        frame(false, OpCode::Continuation, b"fragment4"),
        frame(true, OpCode::Ping, b"pongme 2!"),
        frame(true, OpCode::Continuation, b"fragment5"),
    ]));
    let whole = b"fragment1fragment2fragment3fragment4fragment5".to_vec();
    assert_eq!(echo.take(), [Sent::Pong(b"pongme 2!".to_vec()), Sent::Text(whole)]);
}

#[test]
fn autobahn_5_empty_fragments() {
    // 6.1.2/6.1.3 too: empty text fragments make an empty (valid) message.
    let input = concat(&[
        frame(false, OpCode::Text, b""),
        frame(false, OpCode::Continuation, b""),
        frame(true, OpCode::Continuation, b""),
    ]);
    assert_eq!(echo_all_ways(&input).0, [Sent::Text(vec![])]);
}

// ---- 6.x UTF-8 ----

/// "κόσμε", the Autobahn 6.2.x / 6.4.x sample.
const KOSME: &[u8] = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5";

#[test]
fn autobahn_6_valid_utf8_in_any_fragmentation() {
    // 6.2.3/6.2.4: the message in one-byte frames, whatever splits the characters.
    let whole = [KOSME, "\u{10FFFF}\u{0}\u{7FF}\u{800}\u{FFFF}\u{10000}".as_bytes()].concat();
    let mut frames = vec![frame(false, OpCode::Text, &whole[..1])];
    for (i, byte) in whole.iter().enumerate().skip(1) {
        frames.push(frame(i == whole.len() - 1, OpCode::Continuation, &[*byte]));
    }
    assert_eq!(echo_all_ways(&concat(&frames)).0, [Sent::Text(whole)]);
}

#[test]
fn autobahn_6_invalid_utf8_messages() {
    // A selection of 6.3–6.21: overlongs, surrogates, out of range, stray and missing tails.
    for bad in [
        &b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64"[..],
        b"\xf4\x90\x80\x80",
        b"\xc0\xaf",
        b"\xe0\x80\xaf",
        b"\xf0\x80\x80\xaf",
        b"\xed\xbf\xbf",
        b"\x80",
        b"\xfe",
        b"\xce",         // ends inside a sequence
        b"\xf0\x9f\x98", // likewise
    ] {
        let (frames, state) = echo_all_ways(&text(bad));
        assert_eq!(frames, [Sent::Close(Some(1007))], "{bad:02x?}");
        assert_eq!(state, WsState::Closed);
    }
}

#[test]
fn autobahn_6_4_1_fail_fast_between_frames() {
    let mut echo = Echo::new();
    echo.feed(&frame(false, OpCode::Text, KOSME));
    assert_eq!(echo.take(), []);
    echo.feed(&frame(false, OpCode::Continuation, b"\xf4\x90\x80\x80"));
    assert_eq!(echo.take(), [Sent::Close(Some(1007))]);
    echo.feed(&frame(true, OpCode::Continuation, b"\x65\x64\x69\x74\x65\x64"));
    assert_eq!(echo.take(), []);
    assert_eq!(echo.ws.failure(), Some(ProtocolError::InvalidUtf8));
}

#[test]
fn autobahn_6_4_3_fail_fast_inside_a_frame() {
    // 6.4.3/6.4.4: one frame, its payload sent in three chops. The Close must come with the
    // chop holding the bad byte, before the frame is complete.
    for bad in [&b"\xf4\x90\x80\x80"[..], b"\xed\xa0\x80"] {
        let payload = [KOSME, bad, b"edited"].concat();
        let input = text(&payload);
        let header = input.len() - payload.len();
        let (first, rest) = input.split_at(header + KOSME.len());
        let mut echo = Echo::new();
        echo.feed(first);
        assert_eq!(echo.take(), []);
        let (second, third) = rest.split_at(2);
        echo.feed(second);
        assert_eq!(echo.take(), [Sent::Close(Some(1007))]);
        echo.feed(third);
        assert_eq!(echo.take(), []);
    }
}
