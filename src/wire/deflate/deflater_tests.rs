//! Tests for `deflater.rs`: RFC 7692's bytes exactly, round trips through our inflater, the
//! code tables against slow scans of the RFC's ranges, the run-length code, memory.

use super::*;
use crate::wire::deflate::{InflateStatus, Inflater};
use crate::wire::test_rng::Rng;

fn compress(deflater: &mut Deflater, message: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    deflater.compress(message, &mut out);
    out
}

fn inflate(inflater: &mut Inflater, stream: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    assert_eq!(inflater.inflate(stream, &mut out, usize::MAX), Ok(InflateStatus::BlockEnd));
    inflater.end_message().unwrap();
    out
}

#[test]
fn test_rfc7692_bytes() {
    // §7.2.3.1: "Hello" is one fixed block; with §7.2.1's tail still on.
    let mut deflater = Deflater::new(15, 6);
    let hello = compress(&mut deflater, b"Hello");
    assert_eq!(hello, [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0x00, 0xff, 0xff]);
    // §7.2.3.2: the second "Hello" with the window shared. The RFC's bytes (`f2 00 11 00
    // 00`, which inflater_tests.rs reads) are a literal `H` and a copy of 4; we find the
    // copy of all 5 from 5 back, a byte shorter.
    assert_eq!(compress(&mut deflater, b"Hello"), [0x02, 0x13, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff]);
    // ...and without it, the first bytes again.
    deflater.reset();
    assert_eq!(compress(&mut deflater, b"Hello"), hello);
    // §7.2.3.3: level 0 stores.
    let stored = compress(&mut Deflater::new(15, 0), b"Hello");
    assert_eq!(
        stored,
        [0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00, 0x00, 0x00, 0xff, 0xff]
    );
    // §7.2.4 (and zlib): an empty message is the sync flush alone, `00` once stripped.
    assert_eq!(compress(&mut Deflater::new(15, 6), b""), [0x00, 0x00, 0x00, 0xff, 0xff]);
    assert_eq!(compress(&mut Deflater::new(15, 0), b""), [0x00, 0x00, 0x00, 0xff, 0xff]);
}

/// Inputs of the shapes the differential tests use, small.
fn corpus(rng: &mut Rng) -> Vec<Vec<u8>> {
    let json = br#"{"id":7,"topic":"chat","data":"hello","time":1732390000123}"#;
    let mut text = Vec::new();
    while text.len() < 5000 {
        let words: [&[u8]; 4] = [b"the ", b"quick ", b"brown ", b"fox\n"];
        let word = words[rng.below(words.len())];
        text.extend_from_slice(word);
    }
    vec![
        vec![],
        vec![0x42],
        b"ab".to_vec(),
        (0..3000).map(|_| rng.byte()).collect(),
        json.repeat(40),
        text,
        vec![0; 100_000],
        (0..70_000u32).map(|i| (i % 251) as u8).collect(),
    ]
}

#[test]
fn test_round_trips_at_every_level_and_window() {
    let mut rng = Rng(0xDEF1_A7E5);
    let inputs = corpus(&mut rng);
    for level in [0, 1, 6, 9] {
        for window_bits in [9, 15] {
            let mut deflater = Deflater::new(window_bits, level);
            let mut inflater = Inflater::new(window_bits);
            for input in &inputs {
                let stream = compress(&mut deflater, input);
                assert!(stream.ends_with(&TAIL));
                assert_eq!(&inflate(&mut inflater, &stream), input, "level {level}, {window_bits} bits");
            }
            // Without context takeover each message inflates alone.
            for input in &inputs {
                deflater.reset();
                let stream = compress(&mut deflater, input);
                assert_eq!(&inflate(&mut Inflater::new(window_bits), &stream), input);
            }
        }
    }
}

#[test]
fn test_sizes_are_sensible() {
    let mut rng = Rng(0xDEF1_A7E6);
    let inputs = corpus(&mut rng);
    let size = |input: &[u8]| compress(&mut Deflater::new(15, 6), input).len();
    // Random bytes are stored: 5 bytes a block and the flush, nothing more.
    assert_eq!(size(&inputs[3]), 3000 + 5 + 5);
    // Repeated JSON and long runs shrink a lot.
    assert!(size(&inputs[4]) < 120, "{}", size(&inputs[4]));
    assert!(size(&inputs[6]) < 200, "{}", size(&inputs[6]));
    // One short JSON message has nothing to repeat, and fixed Huffman spends 8 bits on
    // most ASCII: it comes out about its own size (the differential test compares zlib's).
    let json = br#"{"id":7,"topic":"chat","data":"hello","time":1732390000123}"#;
    assert!(size(json) <= json.len() + 6, "{}", size(json));
    // And equal messages give equal bytes after a reset, however the scratch was used.
    let mut deflater = Deflater::new(15, 6);
    let fresh = compress(&mut deflater, json);
    compress(&mut deflater, &inputs[5]);
    deflater.reset();
    assert_eq!(compress(&mut deflater, json), fresh);
    compress(&mut deflater, &inputs[6]);
    deflater.reset();
    assert_eq!(compress(&mut deflater, json), fresh);
}

#[test]
fn test_length_and_distance_codes_match_the_rfc_ranges() {
    // The slow twin: scan the RFC 1951 §3.2.5 tables for the last range starting at or
    // before the value (258 is code 285's alone).
    for length in 3..=258u16 {
        let slow = if length == 258 { 28 } else { LENGTH_BASE.iter().rposition(|&b| b <= length).unwrap() };
        assert_eq!(length_code(length), slow, "length {length}");
    }
    for distance in 1..=32768u16 {
        let slow = DIST_BASE.iter().rposition(|&b| b <= distance).unwrap();
        assert_eq!(distance_code(distance), slow, "distance {distance}");
    }
}

#[test]
fn test_run_lengths_expand_back() {
    let mut rng = Rng(0xDEF1_A7E7);
    for _ in 0..500 {
        let lengths: Vec<u8> = (0..rng.below(320))
            .map(|_| if rng.below(3) == 0 { 0 } else { [0, 8, 9, rng.byte() % 16][rng.below(4)] })
            .collect();
        let mut back = Vec::new();
        for (s, extra) in run_lengths(&lengths) {
            let extra = usize::from(extra);
            match s {
                0..=15 => back.push(s),
                16 => back.extend(std::iter::repeat_n(*back.last().unwrap(), 3 + extra)),
                17 => back.extend(std::iter::repeat_n(0, 3 + extra)),
                _ => back.extend(std::iter::repeat_n(0, 11 + extra)),
            }
        }
        assert_eq!(back, lengths);
    }
}

#[test]
fn test_scratch_pools_and_costs() {
    let mut deflater = Deflater::new(15, 6);
    assert!(deflater.take_scratch().is_none(), "nothing allocated before the first message");
    let hello = compress(&mut deflater, b"Hello");
    let scratch = deflater.take_scratch().expect("allocated while compressing");
    let mut other = Deflater::new(15, 6);
    other.put_scratch(scratch);
    assert_eq!(compress(&mut other, b"Hello"), hello, "a pooled scratch starts empty");
    // 240 KiB at 15 bits, as the docs say; 51 KiB at 9, mostly the block's symbols.
    assert_eq!(Scratch::bytes(15) / 1024, 240);
    assert_eq!(Scratch::bytes(9) / 1024, 51);
}
