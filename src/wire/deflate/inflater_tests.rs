//! Tests for `inflater.rs`: RFC 7692 §7.2.3's messages, every split, one stream for each
//! named error, the limit, the window across messages.

use super::super::bitstream::BitWriter;
use super::super::huffman::codes;
use super::*;
use crate::wire::deflate::Deflater;
use crate::wire::test_rng::Rng;

const LIMIT: usize = 1 << 20;

/// Inflates one message (the payload, then the tail) with a fresh inflater.
fn inflate_message(payload: &[u8]) -> Result<Vec<u8>, InflateError> {
    let mut inflater = Inflater::new(15);
    inflate_with(&mut inflater, payload)
}

fn inflate_with(inflater: &mut Inflater, payload: &[u8]) -> Result<Vec<u8>, InflateError> {
    let mut out = Vec::new();
    inflater.inflate(payload, &mut out, LIMIT)?;
    inflater.inflate(&TAIL, &mut out, LIMIT)?;
    inflater.end_message()?;
    Ok(out)
}

/// The same stream fed in pieces of the sizes `sizes` cycles through.
fn inflate_in_pieces(
    stream: &[u8],
    sizes: &[usize],
    limit: usize,
) -> (Result<InflateStatus, InflateError>, Vec<u8>) {
    let mut inflater = Inflater::new(15);
    let mut out = Vec::new();
    let mut result = Ok(InflateStatus::BlockEnd);
    let mut rest = stream;
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes[i % sizes.len()].clamp(1, rest.len());
        i += 1;
        result = inflater.inflate(&rest[..n], &mut out, limit);
        if result.is_err() {
            break;
        }
        rest = &rest[n..];
    }
    (result, out)
}

#[test]
fn test_rfc7692_examples() {
    // §7.2.3.1: "Hello" in one fixed Huffman block.
    assert_eq!(inflate_message(&[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]).unwrap(), b"Hello");
    // §7.2.3.2: the second "Hello", sharing the first one's window: one copy, length 5,
    // distance 5.
    let mut inflater = Inflater::new(15);
    assert_eq!(inflate_with(&mut inflater, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]).unwrap(), b"Hello");
    assert_eq!(inflate_with(&mut inflater, &[0xf2, 0x00, 0x11, 0x00, 0x00]).unwrap(), b"Hello");
    // Without the window (no context takeover) the copy points before the stream.
    inflater.reset();
    assert_eq!(
        inflate_with(&mut inflater, &[0xf2, 0x00, 0x11, 0x00, 0x00]),
        Err(InflateError::DistanceTooFar)
    );
    // §7.2.3.3: a stored block.
    let stored = [0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00];
    assert_eq!(inflate_message(&stored).unwrap(), b"Hello");
    // §7.2.3.4: BFINAL set; the appended tail is not part of the stream, and the next
    // message is a new stream (with the window kept).
    let mut inflater = Inflater::new(15);
    let mut out = Vec::new();
    let final_block = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
    assert_eq!(inflater.inflate(&final_block, &mut out, LIMIT), Ok(InflateStatus::StreamEnd));
    assert_eq!(inflater.inflate(&TAIL, &mut out, LIMIT), Ok(InflateStatus::StreamEnd));
    inflater.end_message().unwrap();
    assert_eq!(out, b"Hello");
    assert_eq!(inflate_with(&mut inflater, &[0xf2, 0x00, 0x11, 0x00, 0x00]).unwrap(), b"Hello");
    // §7.2.3.5: two blocks in one message, the first ended by a sync flush.
    let two = [0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00];
    assert_eq!(inflate_message(&two).unwrap(), b"Hello");
    // §7.2.4's empty message: a lone empty stored block's first byte.
    assert_eq!(inflate_message(&[0x00]).unwrap(), b"");
}

#[test]
fn test_every_split_of_the_examples() {
    let examples: [&[u8]; 4] = [
        &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0x00, 0xff, 0xff],
        &[0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00, 0x00, 0x00, 0xff, 0xff],
        &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff],
        &[
            0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0x00, 0xff,
            0xff,
        ],
    ];
    for stream in examples {
        let (whole, out) = inflate_in_pieces(stream, &[stream.len()], LIMIT);
        assert!(whole.is_ok() && out == b"Hello", "{stream:02x?}");
        assert_eq!(inflate_in_pieces(stream, &[1], LIMIT), (whole, out.clone()));
        for cut in 1..stream.len() {
            assert_eq!(inflate_in_pieces(stream, &[cut, stream.len()], LIMIT), (whole, out.clone()));
        }
    }
}

#[test]
fn test_status_says_where_the_input_ended() {
    let mut inflater = Inflater::new(15);
    let mut out = Vec::new();
    assert_eq!(inflater.inflate(&[0xf2, 0x48], &mut out, LIMIT), Ok(InflateStatus::NeedInput));
    assert_eq!(inflater.end_message(), Err(InflateError::Truncated), "a message cut inside a block");
    let mut inflater = Inflater::new(15);
    let sync = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0x00, 0xff, 0xff];
    assert_eq!(inflater.inflate(&sync, &mut out, LIMIT), Ok(InflateStatus::BlockEnd));
}

/// A dynamic block header (BFINAL 1) with a complete code-length code — symbols 0–12 in 4
/// bits, 13–18 in 5 — then the code-length symbols `runs` (symbol, extra bits' value); the
/// writer is returned so a test can add data.
fn dynamic_header(
    out: &mut Vec<u8>,
    hlit: u32,
    hdist: u32,
    runs: &[(u8, u8)],
    data: impl FnOnce(&mut BitWriter),
) {
    let mut cl_lengths = [5u8; 19];
    cl_lengths[..13].fill(4);
    let mut cl_codes = [0u16; 19];
    codes(&cl_lengths, &mut cl_codes);
    let mut w = BitWriter::new(out);
    w.put(0b101, 3);
    w.put(hlit - 257, 5);
    w.put(hdist - 1, 5);
    w.put(19 - 4, 4);
    for s in CODE_LENGTH_ORDER {
        w.put(u32::from(cl_lengths[s]), 3);
    }
    for &(s, extra) in runs {
        w.put(u32::from(cl_codes[usize::from(s)]), u32::from(cl_lengths[usize::from(s)]));
        let bits = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 7][usize::from(s)];
        w.put(u32::from(extra), bits);
    }
    data(&mut w);
    w.align_to_byte();
}

fn dynamic(hlit: u32, hdist: u32, runs: &[(u8, u8)]) -> Vec<u8> {
    let mut out = Vec::new();
    dynamic_header(&mut out, hlit, hdist, runs, |_| {});
    out
}

/// Code lengths for a literal/length code of just end-of-block and 257 (one bit each),
/// and a distance code of one 1-bit code (distance 1; "1" means nothing).
const TWO_SYMBOLS: [(u8, u8); 5] = [(18, 127), (18, 107), (1, 0), (1, 0), (1, 0)];

fn inflate_all(stream: &[u8]) -> Result<Vec<u8>, InflateError> {
    let mut out = Vec::new();
    Inflater::new(15).inflate(stream, &mut out, LIMIT).map(|_| out)
}

#[test]
fn test_each_rule_has_its_error() {
    use InflateError::*;
    let cases: Vec<(Vec<u8>, InflateError)> = vec![
        (vec![0x06], InvalidBlockType),
        (vec![0x01, 0x05, 0x00, 0xfa, 0xfe], StoredLengthMismatch),
        (vec![0xf5, 0x00, 0x00], TooManyCodes),
        (vec![0x05, 0x1f, 0x00], TooManyCodes),
        (vec![0x05, 0x00, 0x00, 0x00], InvalidCodeLengthCode),
        (dynamic(257, 1, &[(16, 0)]), RepeatWithoutLength),
        (dynamic(257, 1, &[(18, 127), (18, 127)]), TooManyLengths),
        (dynamic(257, 1, &[(18, 127), (18, 109)]), MissingEndOfBlock),
    ];
    for (stream, error) in cases {
        assert_eq!(inflate_all(&stream), Err(error), "{stream:02x?}");
    }
}

#[test]
fn test_each_code_rule_has_its_error() {
    use InflateError::*;
    let mut ones = vec![(1, 0)];
    ones.extend(std::iter::repeat_n((16, 3), 42));
    ones.push((16, 2));
    assert_eq!(inflate_all(&dynamic(257, 1, &ones)), Err(OversubscribedCode));
    // Literal 0 and end-of-block in 2 bits each: half the code space unused.
    let incomplete = [(2, 0), (18, 127), (18, 106), (2, 0), (1, 0)];
    assert_eq!(inflate_all(&dynamic(257, 1, &incomplete)), Err(IncompleteCode));
    // The distance code's unused "1": no symbol.
    let mut stream = Vec::new();
    dynamic_header(&mut stream, 258, 1, &TWO_SYMBOLS, |w| {
        w.put(1, 1); // 257: length 3
        w.put(1, 1); // no distance has this code
        w.put(0xFFFF, 16);
    });
    assert_eq!(inflate_all(&stream), Err(InvalidCode));
    // Distance 1 with no output before it.
    let mut stream = Vec::new();
    dynamic_header(&mut stream, 258, 1, &TWO_SYMBOLS, |w| {
        w.put(1, 1);
        w.put(0, 1);
    });
    assert_eq!(inflate_all(&stream), Err(DistanceTooFar));
    // The fixed code's symbols that never occur: length 286, distance 30.
    let mut fixed = [0u16; 288];
    codes(&fixed_litlen_lengths(), &mut fixed);
    let mut stream = Vec::new();
    let mut w = BitWriter::new(&mut stream);
    w.put(0b011, 3);
    w.put(u32::from(fixed[286]), 8);
    w.align_to_byte();
    assert_eq!(inflate_all(&stream), Err(InvalidSymbol));
    let mut stream = Vec::new();
    let mut w = BitWriter::new(&mut stream);
    w.put(0b011, 3);
    w.put(u32::from(fixed[usize::from(b'a')]), 8);
    w.put(u32::from(fixed[257]), 7);
    w.put(u32::from(super::super::huffman::reverse(30, 5)), 5);
    w.align_to_byte();
    assert_eq!(inflate_all(&stream), Err(InvalidSymbol));
}

#[test]
fn test_errors_are_sticky_and_reset_clears_them() {
    let mut inflater = Inflater::new(15);
    let mut out = Vec::new();
    assert_eq!(inflater.inflate(&[0x06], &mut out, LIMIT), Err(InflateError::InvalidBlockType));
    let hello = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    assert_eq!(inflater.inflate(&hello, &mut out, LIMIT), Err(InflateError::InvalidBlockType));
    assert_eq!(inflater.end_message(), Err(InflateError::InvalidBlockType));
    inflater.reset();
    assert_eq!(inflate_with(&mut inflater, &hello).unwrap(), b"Hello");
    assert!(InflateError::TooBig.reason().contains("too big"));
}

#[test]
fn test_limit_stops_a_zip_bomb() {
    // 1 MiB of zeros is about a kilobyte compressed: the limit stops it while inflating,
    // and never lets `out` grow past it, in any split.
    let mut bomb = Vec::new();
    Deflater::new(15, 9).compress(&vec![0u8; 1 << 20], &mut bomb);
    assert!(bomb.len() < 2100, "{}", bomb.len());
    for limit in [0, 1, 1000, 65_536, (1 << 20) - 1] {
        for sizes in [&[bomb.len()][..], &[1], &[7, 300, 1]] {
            let (result, out) = inflate_in_pieces(&bomb, sizes, limit);
            assert_eq!(result, Err(InflateError::TooBig), "limit {limit}");
            assert!(out.len() <= limit && out.len() + MAX_MATCH >= limit, "{} of {limit}", out.len());
        }
    }
    let (result, out) = inflate_in_pieces(&bomb, &[100], 1 << 20);
    assert_eq!((result, out.len()), (Ok(InflateStatus::BlockEnd), 1 << 20), "exactly the limit is fine");
    // A stored block stops exactly at the limit, in every split.
    let stored = [0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    for cut in 1..=stored.len() {
        let (result, out) = inflate_in_pieces(&stored, &[cut, stored.len()], 3);
        assert_eq!((result, out), (Err(InflateError::TooBig), b"Hel".to_vec()));
    }
}

#[test]
fn test_window_bits_bound_distances() {
    // Random 600-byte blocks, each repeated: copies from 600 back.
    let mut rng = Rng(0x1F1A_7E01);
    let block: Vec<u8> = (0..600).map(|_| rng.byte()).collect();
    let message = [block.clone(), block].concat();
    let mut stream = Vec::new();
    Deflater::new(15, 6).compress(&message, &mut stream);
    let mut out = Vec::new();
    assert_eq!(Inflater::new(9).inflate(&stream, &mut out, LIMIT), Err(InflateError::DistanceTooFar));
    out.clear();
    assert_eq!(Inflater::new(10).inflate(&stream, &mut out, LIMIT), Ok(InflateStatus::BlockEnd));
    assert_eq!(out, message);
}

#[test]
fn test_window_carries_across_messages_and_slides() {
    // Messages of all sizes with context takeover, inflated in random pieces through one
    // inflater; small windows slide often.
    let mut rng = Rng(0x1F1A_7E02);
    for window_bits in [9, 12, 15] {
        let mut deflater = Deflater::new(window_bits, 6);
        let mut inflater = Inflater::new(window_bits);
        let mut total = 0;
        for round in 0..40 {
            let len = [0, 1, 100, 3000, 70_000][round % 5];
            let words: [&[u8]; 4] = [b"topic ", b"chat ", b"{\"id\":", b"hello "];
            let mut message = Vec::new();
            while message.len() < len {
                let word = words[rng.below(words.len())];
                message.extend_from_slice(word);
                message.push(rng.byte() % 16 + b'a');
            }
            message.truncate(len);
            let mut stream = Vec::new();
            deflater.compress(&message, &mut stream);
            assert!(stream.ends_with(&TAIL));
            let mut out = Vec::new();
            let mut rest = &stream[..];
            while !rest.is_empty() {
                let n = (1 + rng.below(200)).min(rest.len());
                inflater.inflate(&rest[..n], &mut out, LIMIT).unwrap();
                rest = &rest[n..];
            }
            inflater.end_message().unwrap();
            assert_eq!(out, message, "window bits {window_bits}, round {round}");
            total += message.len();
        }
        assert!(total > 1 << 19);
    }
}

#[test]
fn test_scratch_pools_and_costs() {
    let mut inflater = Inflater::new(15);
    assert!(inflater.take_scratch().is_none(), "nothing allocated before the first message");
    let hello = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    assert_eq!(inflate_with(&mut inflater, &hello).unwrap(), b"Hello");
    let scratch = inflater.take_scratch().expect("allocated while inflating");
    let mut other = Inflater::new(12);
    other.put_scratch(scratch);
    assert_eq!(inflate_with(&mut other, &hello).unwrap(), b"Hello");
    assert!(other.take_scratch().is_some(), "a 15-bit scratch serves a 12-bit window");
    // The costs the docs give: about 71 KiB at 15 bits, 13 KiB at 9.
    assert!((70_000..74_000).contains(&Scratch::bytes(15)), "{}", Scratch::bytes(15));
    assert!((9_000..14_000).contains(&Scratch::bytes(9)), "{}", Scratch::bytes(9));
}
