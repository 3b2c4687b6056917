//! Tests of `transport::websocket`, one group per Autobahn|Testsuite category (1–10).
//!
//! Each test builds the masked frames an Autobahn case sends (its `sendFrame` calls), feeds
//! them to [`WsProtocol::receive`] — whole, and where it matters in pieces — and checks what
//! the server would send back: the echoed messages, pongs, and the Close frame's code. The
//! callback echoes like `/echo` does.

use super::*;
use crate::wire::ws::frame::{bits, write_masked_frame};

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
const MAX: usize = crate::limits::DEFAULT_MAX_ECHO_MESSAGE;

/// One masked client frame.
fn frame(fin: bool, opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    write_masked_frame(&mut out, fin, opcode, payload, KEY);
    out
}

fn text(payload: &[u8]) -> Vec<u8> {
    frame(true, OpCode::Text, payload)
}

/// A masked frame with a raw first byte (reserved bits, reserved opcodes).
fn raw_frame(byte0: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = text(payload);
    out[0] = byte0;
    out
}

/// A Close frame whose body is a code and a reason.
fn close_frame(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut body = code.to_be_bytes().to_vec();
    body.extend_from_slice(reason);
    frame(true, OpCode::Close, &body)
}

/// A server frame as seen by the client.
#[derive(Debug, PartialEq, Eq)]
enum Sent {
    Text(Vec<u8>),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    /// The close code, `None` for an empty body.
    Close(Option<u16>),
}

/// Splits the server's output into frames, checking that each is a legal server frame.
fn sent(mut out: &[u8]) -> Vec<Sent> {
    let mut frames = Vec::new();
    while !out.is_empty() {
        let Ok(Status::Complete((h, len))) = FrameHeader::parse(out) else {
            panic!("bad server frame {out:02x?}")
        };
        assert!(h.mask.is_none() && h.rsv == 0 && h.fin, "{h:?}");
        let end = len + h.payload_len as usize;
        let payload = out[len..end].to_vec();
        out = &out[end..];
        frames.push(match h.opcode {
            OpCode::Text => Sent::Text(payload),
            OpCode::Binary => Sent::Binary(payload),
            OpCode::Ping => Sent::Ping(payload),
            OpCode::Pong => Sent::Pong(payload),
            OpCode::Close => {
                assert!(payload.len() != 1 && out.is_empty(), "Close must be last");
                Sent::Close(payload.get(..2).map(|c| u16::from_be_bytes([c[0], c[1]])))
            }
            OpCode::Continuation => panic!("the server never fragments"),
        });
    }
    frames
}

/// An echo server's protocol state and everything it wrote.
struct Echo {
    ws: WsProtocol,
    out: Vec<u8>,
}

impl Echo {
    fn new() -> Self {
        Echo { ws: WsProtocol::new(MAX), out: Vec::new() }
    }

    fn with_max(max: usize) -> Self {
        Echo { ws: WsProtocol::new(max), out: Vec::new() }
    }

    fn feed(&mut self, input: &[u8]) -> &mut Self {
        self.ws.receive(input, &mut self.out, &mut |kind, payload, out| write_message(out, kind, payload));
        self
    }

    /// Feeds `input` in pieces of `chop` bytes.
    fn feed_chopped(&mut self, input: &[u8], chop: usize) -> &mut Self {
        for piece in input.chunks(chop) {
            self.feed(piece);
        }
        self
    }

    /// The frames written so far (and forgets them).
    fn take(&mut self) -> Vec<Sent> {
        let frames = sent(&self.out);
        self.out.clear();
        frames
    }
}

/// Runs `input` whole, byte by byte, and split at every point; all must agree.
fn echo_all_ways(input: &[u8]) -> (Vec<Sent>, WsState) {
    let mut whole = Echo::new();
    let expected = whole.feed(input).take();
    let mut bytewise = Echo::new();
    assert_eq!(bytewise.feed_chopped(input, 1).take(), expected, "fed byte by byte");
    for cut in 0..=input.len() {
        let mut split = Echo::new();
        split.feed(&input[..cut]).feed(&input[cut..]);
        assert_eq!(split.take(), expected, "split at {cut}");
        assert_eq!(split.ws.state(), whole.ws.state());
    }
    (expected, whole.ws.state())
}

fn concat(frames: &[Vec<u8>]) -> Vec<u8> {
    frames.concat()
}

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
