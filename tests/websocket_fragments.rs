//! WebSocket fragmentation (RFC 6455 §5.4): Autobahn|Testsuite section 5 reproduced —
//! fragmented messages in one write, frame by frame and byte by byte, control frames between
//! fragments, and every way to break the fragment sequence (fragmented control frames,
//! continuations with nothing to continue, a new message inside a fragmented one).
//!
//! Each Autobahn test is named after its case id (crossbario/autobahn-testsuite,
//! `autobahntestsuite/case/case*.py`), sends the same frames, in the same chops, and expects
//! what the case expects; where Autobahn accepts "drop TCP" as well as a close frame, the test
//! requires the close frame with its code, as SPEC §7 does. Autobahn's one-second waits are
//! shortened to `QUIET`. The client is `tests/common/ws.rs`, written from RFC 6455 and not
//! from `src/wire/ws/`; every test starts its own server in-process on `127.0.0.1:0`.

mod common;

use common::ws::*;

// =====================================================================================
// 5.x Fragmentation (§5.4).
// =====================================================================================

#[test]
fn case_5_1_fragmented_ping_is_1002() {
    let addr = server();
    let mut client = Client::ws(addr, "/echo");
    let frames =
        [client.frame(false, 0, PING, b"fragment1"), client.frame(true, 0, CONTINUATION, b"fragment2")];
    send_frames(&mut client, &frames, Chops::One);
    client.expect_close(1002);
}

#[test]
fn case_5_2_fragmented_pong_is_1002() {
    let addr = server();
    let mut client = Client::ws(addr, "/echo");
    let frames =
        [client.frame(false, 0, PONG, b"fragment1"), client.frame(true, 0, CONTINUATION, b"fragment2")];
    send_frames(&mut client, &frames, Chops::One);
    client.expect_close(1002);
}

fn two_fragments(chops: Chops, ping_between: bool) {
    let addr = server();
    let mut client = Client::ws(addr, "/echo");
    let mut frames = vec![client.frame(false, 0, TEXT, b"fragment1")];
    if ping_between {
        frames.push(client.frame(true, 0, PING, b"pongme!"));
    }
    frames.push(client.frame(true, 0, CONTINUATION, b"fragment2"));
    send_frames(&mut client, &frames, chops);
    if ping_between {
        // §5.4: control frames MAY be injected in the middle of a fragmented message; the
        // pong answers at once, before the message is complete.
        client.expect_frame(PONG, b"pongme!");
    }
    client.expect_message(TEXT, b"fragment1fragment2");
    client.close_normally();
}

#[test]
fn case_5_3_text_in_2_fragments() {
    two_fragments(Chops::One, false);
}

#[test]
fn case_5_4_text_in_2_fragments_frame_wise() {
    two_fragments(Chops::Frames, false);
}

#[test]
fn case_5_5_text_in_2_fragments_octet_wise() {
    two_fragments(Chops::Octets, false);
}

#[test]
fn case_5_6_ping_between_2_fragments() {
    two_fragments(Chops::One, true);
}

#[test]
fn case_5_7_ping_between_2_fragments_frame_wise() {
    two_fragments(Chops::Frames, true);
}

#[test]
fn case_5_8_ping_between_2_fragments_octet_wise() {
    two_fragments(Chops::Octets, true);
}

/// A continuation with nothing to continue (FIN as given), then a valid message: 1002, and
/// the valid message is not echoed.
fn orphan_continuation(fin: bool, chops: Chops) {
    let addr = server();
    let mut client = Client::ws(addr, "/echo");
    let frames = [
        client.frame(fin, 0, CONTINUATION, b"non-continuation payload"),
        client.frame(true, 0, TEXT, b"Hello, world!"),
    ];
    send_frames(&mut client, &frames, chops);
    client.expect_close(1002);
}

#[test]
fn case_5_9_continuation_fin_without_start_is_1002() {
    orphan_continuation(true, Chops::One);
}

#[test]
fn case_5_10_continuation_fin_without_start_frame_wise() {
    orphan_continuation(true, Chops::Frames);
}

#[test]
fn case_5_11_continuation_fin_without_start_octet_wise() {
    orphan_continuation(true, Chops::Octets);
}

#[test]
fn case_5_12_continuation_without_start_is_1002() {
    orphan_continuation(false, Chops::One);
}

#[test]
fn case_5_13_continuation_without_start_frame_wise() {
    orphan_continuation(false, Chops::Frames);
}

#[test]
fn case_5_14_continuation_without_start_octet_wise() {
    orphan_continuation(false, Chops::Octets);
}

#[test]
fn case_5_15_continuation_after_a_finished_message_is_1002() {
    let addr = server();
    let mut client = Client::ws(addr, "/echo");
    let frames = [
        client.frame(false, 0, TEXT, b"fragment1"),
        client.frame(true, 0, CONTINUATION, b"fragment2"),
        client.frame(false, 0, CONTINUATION, b"fragment3"),
        client.frame(true, 0, TEXT, b"fragment4"),
    ];
    send_frames(&mut client, &frames, Chops::One);
    client.expect_message(TEXT, b"fragment1fragment2");
    client.expect_close(1002);
}

fn continuation_first_twice(first_fin: bool) {
    let addr = server();
    let mut client = Client::ws(addr, "/echo");
    let mut frames = Vec::new();
    for _ in 0..2 {
        frames.push(client.frame(first_fin, 0, CONTINUATION, b"fragment1"));
        frames.push(client.frame(false, 0, TEXT, b"fragment2"));
        frames.push(client.frame(true, 0, CONTINUATION, b"fragment3"));
    }
    send_frames(&mut client, &frames, Chops::One);
    client.expect_close(1002);
}

#[test]
fn case_5_16_continuation_text_continuation_twice_is_1002() {
    continuation_first_twice(false);
}

#[test]
fn case_5_17_continuation_fin_text_continuation_twice_is_1002() {
    continuation_first_twice(true);
}

#[test]
fn case_5_18_new_message_during_a_fragmented_one_is_1002() {
    let addr = server();
    let mut client = Client::ws(addr, "/echo");
    let frames = [client.frame(false, 0, TEXT, b"fragment1"), client.frame(true, 0, TEXT, b"fragment2")];
    send_frames(&mut client, &frames, Chops::One);
    client.expect_close(1002);
}

fn five_fragments_two_pings(chops: Chops) {
    let addr = server();
    let mut client = Client::ws(addr, "/echo");
    let part1 = [
        client.frame(false, 0, TEXT, b"fragment1"),
        client.frame(false, 0, CONTINUATION, b"fragment2"),
        client.frame(true, 0, PING, b"pongme 1!"),
    ];
    send_frames(&mut client, &part1, chops);
    // "The peer immediately answers the first Ping before it has received the last text
    // message fragment."
    client.expect_frame(PONG, b"pongme 1!");
    client.expect_quiet(QUIET);
    let part2 = [
        client.frame(false, 0, CONTINUATION, b"fragment3"),
        client.frame(false, 0, CONTINUATION, b"fragment4"),
        client.frame(true, 0, PING, b"pongme 2!"),
        client.frame(true, 0, CONTINUATION, b"fragment5"),
    ];
    send_frames(&mut client, &part2, chops);
    client.expect_frame(PONG, b"pongme 2!");
    client.expect_message(TEXT, b"fragment1fragment2fragment3fragment4fragment5");
    client.close_normally();
}

#[test]
fn case_5_19_fragments_with_pings_and_a_pause() {
    five_fragments_two_pings(Chops::Frames);
}

#[test]
fn case_5_20_fragments_with_pings_and_a_pause_octet_wise() {
    five_fragments_two_pings(Chops::Octets);
}

#[test]
fn rfc6455_5_4_many_fragments() {
    let addr = server();
    let mut client = Client::ws(addr, "/echo");
    let data = payload(BINARY, 1000);
    let mut frames = Vec::new();
    for (i, piece) in data.chunks(1).enumerate() {
        let opcode = if i == 0 { BINARY } else { CONTINUATION };
        frames.push(client.frame(i == data.len() - 1, 0, opcode, piece));
    }
    send_frames(&mut client, &frames, Chops::One);
    client.expect_message(BINARY, &data);
    client.close_normally();
}
