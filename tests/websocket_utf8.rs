//! UTF-8 in WebSocket text messages (RFC 6455 §8.1, §5.6): Autobahn|Testsuite section 6
//! reproduced — valid and invalid text in one frame and in fragments split anywhere, failing
//! fast on the first invalid byte even mid-fragment (6.4.x), and the UTF-8 tables of 6.5–6.23
//! rebuilt from Autobahn's generator and checked against `std::str::from_utf8` first.
//!
//! Each Autobahn test is named after its case id (crossbario/autobahn-testsuite,
//! `autobahntestsuite/case/case*.py`), sends the same frames, in the same chops, and expects
//! what the case expects; where Autobahn accepts "drop TCP" as well as a close frame, the test
//! requires the close frame with its code, as SPEC §7 does. Autobahn's one-second waits are
//! shortened to `QUIET`. The client is `tests/common/ws.rs`, written from RFC 6455 and not
//! from `src/wire/ws/`; every test starts its own server in-process on `127.0.0.1:0`.

mod common;

use std::time::{Duration, Instant};

use common::ws::*;

// =====================================================================================
// 6.x UTF-8 (§8.1: a text message that is not valid UTF-8 fails the connection, 1007).
// =====================================================================================

/// κόσμε: five code points of 2, 3, 2, 2 and 2 bytes.
const KOSME: &[u8] = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5";

/// Sends `data` as one text message in fragments of `frag` bytes (one write); expects the
/// echo if it is valid UTF-8, else close 1007.
fn utf8_case(data: &[u8], frag: Option<usize>) {
    let addr = server();
    let mut client = Client::ws(addr, "/echo");
    let pieces: Vec<&[u8]> = match frag {
        Some(n) if !data.is_empty() => data.chunks(n).collect(),
        _ => vec![data],
    };
    let mut frames = Vec::new();
    for (i, piece) in pieces.iter().enumerate() {
        let opcode = if i == 0 { TEXT } else { CONTINUATION };
        frames.push(client.frame(i == pieces.len() - 1, 0, opcode, piece));
    }
    client.send(&frames.concat());
    if std::str::from_utf8(data).is_ok() {
        client.expect_message(TEXT, data);
        client.close_normally();
    } else {
        client.expect_close(1007);
    }
}

#[test]
fn case_6_1_1_empty_text() {
    utf8_case(b"", None);
}

#[test]
fn case_6_1_2_empty_text_in_3_empty_fragments() {
    let addr = server();
    let mut client = Client::ws(addr, "/echo");
    let frames = [
        client.frame(false, 0, TEXT, b""),
        client.frame(false, 0, CONTINUATION, b""),
        client.frame(true, 0, CONTINUATION, b""),
    ];
    send_frames(&mut client, &frames, Chops::One);
    client.expect_message(TEXT, b"");
    client.close_normally();
}

#[test]
fn case_6_1_3_empty_first_and_last_fragments() {
    let addr = server();
    let mut client = Client::ws(addr, "/echo");
    let frames = [
        client.frame(false, 0, TEXT, b""),
        client.frame(false, 0, CONTINUATION, b"middle frame payload"),
        client.frame(true, 0, CONTINUATION, b""),
    ];
    send_frames(&mut client, &frames, Chops::One);
    client.expect_message(TEXT, b"middle frame payload");
    client.close_normally();
}

#[test]
fn case_6_2_1_valid_utf8_in_one_fragment() {
    utf8_case("Hello-µ@ßöäüàá-UTF-8!!".as_bytes(), None);
}

#[test]
fn case_6_2_2_valid_utf8_in_2_fragments_split_at_a_code_point() {
    let text = "Hello-µ@ßöäüàá-UTF-8!!".as_bytes();
    let addr = server();
    let mut client = Client::ws(addr, "/echo");
    let frames =
        [client.frame(false, 0, TEXT, &text[..12]), client.frame(true, 0, CONTINUATION, &text[12..])];
    send_frames(&mut client, &frames, Chops::One);
    client.expect_message(TEXT, text);
    client.close_normally();
}

#[test]
fn case_6_2_3_valid_utf8_in_1_byte_fragments() {
    utf8_case("Hello-µ@ßöäüàá-UTF-8!!".as_bytes(), Some(1));
}

#[test]
fn case_6_2_4_valid_utf8_in_1_byte_fragments_splitting_code_points() {
    utf8_case(KOSME, Some(1));
}

#[test]
fn case_6_3_1_invalid_utf8_in_one_fragment_is_1007() {
    utf8_case(b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited", None);
}

#[test]
fn case_6_3_2_invalid_utf8_in_1_byte_fragments_is_1007() {
    utf8_case(b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited", Some(1));
}

#[test]
fn rfc6455_8_1_message_ending_inside_a_code_point_is_1007() {
    // Valid so far at every fragment boundary; only the end of the message makes it invalid.
    utf8_case(&KOSME[..KOSME.len() - 1], Some(3));
}

/// Autobahn 6.4.x's message: κόσμε, then U+110000 "encoded" as f4 90 80 80 (out of range:
/// invalid at its second byte, 0x90, payload byte 12), then "edited".
const PART1: &[u8] = KOSME;
const PART2: &[u8] = b"\xf4\x90\x80\x80";
const PART3: &[u8] = b"edited";

/// The fail-fast check: the close must arrive after what was sent so far, without the rest.
fn expect_fail_fast(client: &mut Client) {
    let started = Instant::now();
    client.expect_close(1007);
    assert!(started.elapsed() < Duration::from_secs(2), "close 1007 took {:?}", started.elapsed());
}

#[test]
fn case_6_4_1_fail_fast_on_the_fragment_that_makes_it_invalid() {
    let addr = server();
    let mut client = Client::ws(addr, "/echo");
    let f1 = client.frame(false, 0, TEXT, PART1);
    client.send(&f1);
    // The first fragment is valid: the server must wait for more.
    client.expect_quiet(QUIET);
    let f2 = client.frame(false, 0, CONTINUATION, PART2);
    client.send(&f2);
    // The third fragment is never sent: the close must come without it.
    expect_fail_fast(&mut client);
}

#[test]
fn case_6_4_2_fail_fast_on_the_single_byte_that_makes_it_invalid() {
    let addr = server();
    let mut client = Client::ws(addr, "/echo");
    let message = [PART1, PART2, PART3].concat();
    let f1 = client.frame(false, 0, TEXT, &message[..12]);
    client.send(&f1);
    client.expect_quiet(QUIET);
    let f2 = client.frame(false, 0, CONTINUATION, &message[12..13]);
    client.send(&f2);
    expect_fail_fast(&mut client);
}

/// 6.4.3 and 6.4.4: one frame whose header announces the whole message; its payload is
/// sent in pieces, and the close must come before the frame is complete.
fn fail_fast_inside_one_frame(first: usize, second: usize) {
    let addr = server();
    let mut client = Client::ws(addr, "/echo");
    let message = [PART1, PART2, PART3].concat();
    let frame = client.frame(true, 0, TEXT, &message);
    let header_len = frame.len() - message.len();
    client.send(&frame[..header_len + first]);
    client.expect_quiet(QUIET);
    client.send(&frame[header_len + first..header_len + first + second]);
    expect_fail_fast(&mut client);
}

#[test]
fn case_6_4_3_fail_fast_inside_one_frame_sent_in_chops() {
    fail_fast_inside_one_frame(PART1.len(), PART2.len());
}

#[test]
fn case_6_4_4_fail_fast_inside_one_frame_on_the_invalid_byte() {
    fail_fast_inside_one_frame(12, 1);
}

#[test]
fn case_6_4_1_fail_fast_invalid_utf8_in_first_fragment() {
    // Stronger than Autobahn: the invalid sequence is in the FIRST fragment, which does not
    // end the message. The close must arrive before any other fragment is sent.
    let addr = server();
    let mut client = Client::ws(addr, "/echo");
    let first = [PART1, PART2].concat();
    let f1 = client.frame(false, 0, TEXT, &first);
    client.send(&f1);
    expect_fail_fast(&mut client);
}

#[test]
fn rfc6455_8_1_invalid_utf8_across_a_frame_boundary_is_1007() {
    // ed | a0 80: a surrogate's lead byte ends fragment 1 (valid so far), its continuation
    // starts fragment 2. Only the pair is invalid; the close must follow fragment 2 at once.
    let addr = server();
    let mut client = Client::ws(addr, "/echo");
    let f1 = client.frame(false, 0, TEXT, b"edit\xed");
    client.send(&f1);
    client.expect_quiet(QUIET);
    let f2 = client.frame(false, 0, CONTINUATION, b"\xa0\x80ed");
    client.send(&f2);
    expect_fail_fast(&mut client);
}

/// Autobahn's `createUtf8TestSequences` (from Markus Kuhn's UTF-8-test.txt), category by
/// category: 6.5 is the first, 6.23 the last. Validity is recomputed with
/// `std::str::from_utf8` (the test's oracle) and checked against Autobahn's flag.
fn utf8_sequences(category: u32) -> Vec<(bool, Vec<u8>)> {
    let v = |s: &[u8]| (true, s.to_vec());
    let x = |s: &[u8]| (false, s.to_vec());
    let missing_last: [&[u8]; 10] = [
        b"\xc0",
        b"\xe0\x80",
        b"\xf0\x80\x80",
        b"\xf8\x80\x80\x80",
        b"\xfc\x80\x80\x80\x80",
        b"\xdf",
        b"\xef\xbf",
        b"\xf7\xbf\xbf",
        b"\xfb\xbf\xbf\xbf",
        b"\xfd\xbf\xbf\xbf\xbf",
    ];
    match category {
        5 => vec![
            v(b"hello\x24world"),
            v(b"hello\xc2\xa2world"),
            v(b"hello\xe2\x82\xacworld"),
            v(b"hello\xf0\xa4\xad\xa2world"),
            v(KOSME),
        ],
        // Every prefix of κόσμε: valid exactly at code point boundaries (2, 5, 7, 9, 11).
        6 => (1..=KOSME.len()).map(|i| ([2, 5, 7, 9, 11].contains(&i), KOSME[..i].to_vec())).collect(),
        7 => vec![v(b"\x00"), v(b"\xc2\x80"), v(b"\xe0\xa0\x80"), v(b"\xf0\x90\x80\x80")],
        8 => vec![x(b"\xf8\x88\x80\x80\x80"), x(b"\xfc\x84\x80\x80\x80\x80")],
        9 => vec![v(b"\x7f"), v(b"\xdf\xbf"), v(b"\xef\xbf\xbf"), v(b"\xf4\x8f\xbf\xbf")],
        10 => vec![x(b"\xf7\xbf\xbf\xbf"), x(b"\xfb\xbf\xbf\xbf\xbf"), x(b"\xfd\xbf\xbf\xbf\xbf\xbf")],
        11 => vec![
            v(b"\xed\x9f\xbf"),
            v(b"\xee\x80\x80"),
            v(b"\xef\xbf\xbd"),
            v(b"\xf4\x8f\xbf\xbf"),
            x(b"\xf4\x90\x80\x80"),
        ],
        12 => {
            let mut out = vec![
                x(b"\x80"),
                x(b"\xbf"),
                x(b"\x80\xbf"),
                x(b"\x80\xbf\x80"),
                x(b"\x80\xbf\x80\xbf"),
                x(b"\x80\xbf\x80\xbf\x80"),
                x(b"\x80\xbf\x80\xbf\x80\xbf"),
            ];
            out.push((false, (0x80..0xbf).collect()));
            out
        }
        13 => [(0xc0u8, 0xdfu8), (0xe0, 0xef), (0xf0, 0xf7), (0xf8, 0xfb), (0xfc, 0xfd)]
            .iter()
            .map(|&(lo, hi)| (false, (lo..hi).flat_map(|b| [b, 0x20]).collect()))
            .collect(),
        14 => missing_last.iter().map(|s| x(s)).collect(),
        15 => vec![(false, missing_last.concat())],
        16 => vec![x(b"\xfe"), x(b"\xff"), x(b"\xfe\xfe\xff\xff")],
        17 => vec![
            x(b"\xc0\xaf"),
            x(b"\xe0\x80\xaf"),
            x(b"\xf0\x80\x80\xaf"),
            x(b"\xf8\x80\x80\x80\xaf"),
            x(b"\xfc\x80\x80\x80\x80\xaf"),
        ],
        18 => vec![
            x(b"\xc1\xbf"),
            x(b"\xe0\x9f\xbf"),
            x(b"\xf0\x8f\xbf\xbf"),
            x(b"\xf8\x87\xbf\xbf\xbf"),
            x(b"\xfc\x83\xbf\xbf\xbf\xbf"),
        ],
        19 => vec![
            x(b"\xc0\x80"),
            x(b"\xe0\x80\x80"),
            x(b"\xf0\x80\x80\x80"),
            x(b"\xf8\x80\x80\x80\x80"),
            x(b"\xfc\x80\x80\x80\x80\x80"),
        ],
        20 => [
            b"\xed\xa0\x80",
            b"\xed\xad\xbf",
            b"\xed\xae\x80",
            b"\xed\xaf\xbf",
            b"\xed\xb0\x80",
            b"\xed\xbe\x80",
            b"\xed\xbf\xbf",
        ]
        .iter()
        .map(|s| x(&s[..]))
        .collect(),
        21 => {
            let highs: [&[u8]; 4] = [b"\xed\xa0\x80", b"\xed\xad\xbf", b"\xed\xae\x80", b"\xed\xaf\xbf"];
            let lows: [&[u8]; 2] = [b"\xed\xb0\x80", b"\xed\xbf\xbf"];
            highs.iter().flat_map(|h| lows.iter().map(move |l| (false, [*h, *l].concat()))).collect()
        }
        // Non-characters are valid UTF-8 (RFC 3629).
        22 => {
            let mut out = vec![v(b"\xef\xbf\xbe"), v(b"\xef\xbf\xbf")];
            for z1 in [0xf0u8, 0xf1, 0xf2, 0xf3, 0xf4] {
                for z2 in [0x8fu8, 0x9f, 0xaf, 0xbf] {
                    if z1 == 0xf4 && z2 != 0x8f {
                        continue; // beyond U+10FFFF
                    }
                    for z3 in [0xbeu8, 0xbf] {
                        if z1 == 0xf0 && z2 == 0x8f {
                            continue; // overlong
                        }
                        out.push((true, vec![z1, z2, 0xbf, z3]));
                    }
                }
            }
            out
        }
        23 => (0xb9..=0xbf).map(|b| (true, vec![0xef, 0xbf, b])).collect(),
        _ => unreachable!(),
    }
}

fn utf8_category(category: u32) {
    let addr = server();
    for (j, (valid, data)) in utf8_sequences(category).into_iter().enumerate() {
        assert_eq!(
            std::str::from_utf8(&data).is_ok(),
            valid,
            "case 6.{category}.{}: the table disagrees with std",
            j + 1
        );
        let mut client = Client::ws(addr, "/echo");
        let frame = client.frame(true, 0, TEXT, &data);
        client.send(&frame);
        if valid {
            client.expect_message(TEXT, &data);
            client.close_normally();
        } else {
            let f = client.next_frame();
            let code = (f.payload.len() >= 2).then(|| u16::from_be_bytes([f.payload[0], f.payload[1]]));
            assert_eq!(
                (f.opcode, code),
                (CLOSE, Some(1007)),
                "case 6.{category}.{}: payload {data:02x?} got {}",
                j + 1,
                show(&f)
            );
        }
    }
}

macro_rules! utf8_categories {
    ($($name:ident: $category:expr;)*) => {$(
        #[test]
        fn $name() {
            utf8_category($category);
        }
    )*};
}

utf8_categories! {
    case_6_5_x_some_valid_sequences: 5;
    case_6_6_x_all_prefixes_of_a_valid_string: 6;
    case_6_7_x_first_sequence_of_each_length: 7;
    case_6_8_x_first_5_and_6_byte_sequences_are_invalid: 8;
    case_6_9_x_last_sequence_of_each_length: 9;
    case_6_10_x_last_4_5_6_byte_sequences_are_invalid: 10;
    case_6_11_x_other_boundary_conditions: 11;
    case_6_12_x_unexpected_continuation_bytes: 12;
    case_6_13_x_lonely_start_bytes: 13;
    case_6_14_x_last_continuation_byte_missing: 14;
    case_6_15_x_concatenated_incomplete_sequences: 15;
    case_6_16_x_impossible_bytes: 16;
    case_6_17_x_overlong_ascii: 17;
    case_6_18_x_maximum_overlong_sequences: 18;
    case_6_19_x_overlong_nul: 19;
    case_6_20_x_single_utf16_surrogates: 20;
    case_6_21_x_paired_utf16_surrogates: 21;
    case_6_22_x_non_characters_are_valid: 22;
    case_6_23_x_unicode_specials_are_valid: 23;
}
