//! Tests for `huffman.rs`: the RFC's example code, the fast decoder against the slow walk,
//! code-space fits, and length-limited codes from frequencies.

use super::*;
use crate::wire::test_rng::Rng;

#[test]
fn test_rfc1951_example_codes() {
    // RFC 1951 §3.2.2: lengths (3, 3, 3, 3, 3, 2, 4, 4) for A–H give
    // A 010, B 011, C 100, D 101, E 110, F 00, G 1110, H 1111.
    let lengths = [3, 3, 3, 3, 3, 2, 4, 4];
    let mut out = [0u16; 8];
    codes(&lengths, &mut out);
    let expected = [0b010, 0b011, 0b100, 0b101, 0b110, 0b00, 0b1110, 0b1111];
    for i in 0..8 {
        assert_eq!(out[i], reverse(expected[i], lengths[i]), "symbol {i}");
    }
    // And the decoder reads them back, MSB-first in an LSB-first stream: "F G A" is
    // 00 1110 010 → bits in stream order 0,0,1,1,1,0,0,1,0.
    let mut decoder = Decoder::new();
    assert_eq!(decoder.build(&lengths), Fit::Complete);
    let stream = [0b1001_1100u8, 0b0];
    let mut bits = Bits::default();
    bits.refill(&stream, &mut 0);
    assert_eq!(decoder.decode(&mut bits), Ok(5));
    assert_eq!(decoder.decode(&mut bits), Ok(6));
    assert_eq!(decoder.decode(&mut bits), Ok(0));
}

#[test]
fn test_fits() {
    let mut d = Decoder::new();
    assert_eq!(d.build(&[1, 1]), Fit::Complete);
    assert_eq!(d.build(&[0, 0, 0]), Fit::Empty);
    assert_eq!(d.build(&[0, 1, 0]), Fit::Single);
    assert_eq!(d.build(&[0, 2, 0]), Fit::Incomplete, "one code, but of two bits");
    assert_eq!(d.build(&[1, 2]), Fit::Incomplete);
    assert_eq!(d.build(&[1, 1, 1]), Fit::Oversubscribed);
    // An incomplete code's unused pattern is no symbol, and says so only with all 15 bits.
    assert_eq!(d.build(&[0, 1, 0]), Fit::Single);
    let mut bits = Bits::default();
    bits.refill(&[0x00], &mut 0);
    assert_eq!(d.decode(&mut bits), Ok(1));
    let mut bits = Bits::default();
    bits.refill(&[0x01], &mut 0);
    assert_eq!(d.decode(&mut bits), Err(Miss::Short), "8 bits are not 15");
    bits.refill(&[0xFF, 0xFF], &mut 0);
    assert_eq!(d.decode(&mut bits), Err(Miss::NoSymbol));
}

/// Random valid lengths: a random Huffman code from random frequencies.
fn random_lengths(rng: &mut Rng, symbols: usize) -> Vec<u8> {
    let freq: Vec<u32> = (0..symbols)
        .map(|_| match rng.below(4) {
            0 => 0,
            1 => 1 << rng.below(20),
            _ => rng.below(1000) as u32,
        })
        .collect();
    let mut lengths = vec![0u8; symbols];
    lengths_from_frequencies(&freq, MAX_BITS, &mut lengths);
    lengths
}

#[test]
fn test_fast_decode_equals_slow_walk() {
    let mut rng = Rng(0x5EED_0001);
    for round in 0..300 {
        let symbols = [19, 30, 286, 288][round % 4];
        let lengths = random_lengths(&mut rng, symbols);
        let mut decoder = Decoder::new();
        let fit = decoder.build(&lengths);
        assert!(matches!(fit, Fit::Complete | Fit::Empty), "{fit:?} for {lengths:?}");
        let stream: Vec<u8> = (0..64).map(|_| rng.byte()).collect();
        let (mut fast, mut slow) = (Bits::default(), Bits::default());
        let (mut at_fast, mut at_slow) = (0, 0);
        loop {
            fast.refill(&stream, &mut at_fast);
            slow.refill(&stream, &mut at_slow);
            let (a, b) = (decoder.decode(&mut fast), decoder.decode_slow(&mut slow));
            assert_eq!(a, b);
            assert_eq!(fast, slow);
            if a.is_err() {
                break;
            }
        }
    }
}

#[test]
fn test_codes_decode_back() {
    let mut rng = Rng(0x5EED_0002);
    for _ in 0..100 {
        let lengths = random_lengths(&mut rng, 286);
        let mut reversed = [0u16; MAX_SYMBOLS];
        codes(&lengths, &mut reversed);
        let mut decoder = Decoder::new();
        decoder.build(&lengths);
        for (symbol, &len) in lengths.iter().enumerate().filter(|(_, &len)| len > 0) {
            let mut out = Vec::new();
            let mut w = super::super::bitstream::BitWriter::new(&mut out);
            w.put(u32::from(reversed[symbol]), u32::from(len));
            w.align_to_byte();
            let mut bits = Bits::default();
            bits.refill(&out, &mut 0);
            assert_eq!(decoder.decode(&mut bits), Ok(symbol as u16));
        }
    }
}

/// Kraft's sum of `lengths`, in units of 2^-15.
fn kraft(lengths: &[u8]) -> u32 {
    lengths.iter().filter(|&&l| l > 0).map(|&l| 1 << (15 - l)).sum()
}

#[test]
fn test_lengths_from_frequencies_are_complete_and_limited() {
    // Fibonacci frequencies make the deepest possible tree: 30 symbols want 29 bits.
    let mut fib = vec![1u32, 1];
    while fib.len() < 30 {
        fib.push(fib[fib.len() - 1] + fib[fib.len() - 2]);
    }
    for max_bits in [7, 15] {
        let mut lengths = vec![0u8; 30];
        lengths_from_frequencies(&fib, max_bits, &mut lengths);
        assert!(lengths.iter().all(|&l| l >= 1 && usize::from(l) <= max_bits), "{lengths:?}");
        assert_eq!(kraft(&lengths), 1 << 15, "complete: {lengths:?}");
        // Rarer symbols never get shorter codes.
        assert!(lengths.windows(2).all(|w| w[0] >= w[1]), "{lengths:?}");
    }
    // A lone symbol is paired so the code stays complete; none gets nothing.
    let mut lengths = [0u8; 5];
    lengths_from_frequencies(&[0, 0, 9, 0, 0], 15, &mut lengths);
    assert_eq!(lengths, [1, 0, 1, 0, 0]);
    lengths_from_frequencies(&[7, 0, 0, 0, 0], 15, &mut lengths);
    assert_eq!(lengths, [1, 1, 0, 0, 0]);
    lengths_from_frequencies(&[0; 5], 15, &mut lengths);
    assert_eq!(lengths, [0; 5]);
    // Equal frequencies over 4 symbols: 2 bits each, the Huffman optimum.
    lengths_from_frequencies(&[5, 5, 5, 5], 15, &mut lengths);
    assert_eq!(&lengths[..4], [2, 2, 2, 2]);
    let mut rng = Rng(0x5EED_0003);
    for _ in 0..200 {
        let lengths = random_lengths(&mut rng, 286);
        assert!(matches!(kraft(&lengths), 0 | 32768), "{lengths:?}");
    }
}
