//! Tests for `chunked.rs`: whole bodies, every split, every error, the encoder.

use super::*;
use crate::wire::test_rng::Rng;

/// Decodes `input` in one call with a 1 MiB limit.
fn decode_all(input: &[u8]) -> (Result<Status<usize>, ChunkError>, Vec<u8>) {
    let mut body = Vec::new();
    let result = ChunkDecoder::new(1 << 20).decode(input, &mut body);
    (result, body)
}

/// Decodes `input` fed one byte at a time, returning the same shape as one call would.
fn decode_bytewise(input: &[u8], max_body: usize) -> (Result<Status<usize>, ChunkError>, Vec<u8>) {
    let mut decoder = ChunkDecoder::new(max_body);
    let mut body = Vec::new();
    for (i, b) in input.iter().enumerate() {
        match decoder.decode(std::slice::from_ref(b), &mut body) {
            Ok(Status::Partial) => {}
            Ok(Status::Complete(n)) => return (Ok(Status::Complete(i + n)), body),
            Err(error) => return (Err(error), body),
        }
    }
    (Ok(Status::Partial), body)
}

/// A body in the shape of RFC 9112 §7.1 — sizes, an extension, a quoted extension value,
/// a trailer field — followed by the next request, which must not be consumed.
const BODY: &[u8] = b"4\r\nWiki\r\n6;name=value\r\npedia \r\nE; a = \"q\\\"d\" ;b\r\nin \r\n\r\nchunks.\r\n0\r\nExpires: never\r\n\r\nGET / HTTP/1.1\r\n";
const BODY_LEN: usize = BODY.len() - b"GET / HTTP/1.1\r\n".len();

#[test]
fn test_decode_whole() {
    let (result, body) = decode_all(BODY);
    assert_eq!(result, Ok(Status::Complete(BODY_LEN)));
    assert_eq!(body, b"Wikipedia in \r\n\r\nchunks.");
    let (result, body) = decode_all(b"0\r\n\r\n");
    assert_eq!((result, body), (Ok(Status::Complete(5)), vec![]));
    // Upper-case hex and leading zeros are fine.
    let (result, body) = decode_all(b"000A\r\n0123456789\r\n00\r\n\r\n");
    assert_eq!((result, body.len()), (Ok(Status::Complete(24)), 10));
}

#[test]
fn test_one_byte_at_a_time_equals_whole() {
    assert_eq!(decode_bytewise(BODY, 1 << 20), decode_all(BODY));
}

#[test]
fn test_every_split_in_two_equals_whole() {
    let whole = decode_all(BODY);
    for split in 0..=BODY.len() {
        let mut decoder = ChunkDecoder::new(1 << 20);
        let mut body = Vec::new();
        let result = match decoder.decode(&BODY[..split], &mut body) {
            Ok(Status::Partial) => match decoder.decode(&BODY[split..], &mut body) {
                Ok(Status::Complete(n)) => Ok(Status::Complete(split + n)),
                other => other,
            },
            other => other,
        };
        assert_eq!((result, body), whole, "split at {split}");
    }
}

#[test]
fn test_every_prefix_is_partial() {
    for len in 0..BODY_LEN {
        assert_eq!(decode_all(&BODY[..len]).0, Ok(Status::Partial), "prefix {len}");
    }
}

#[test]
fn test_done_and_failed_are_sticky() {
    let mut decoder = ChunkDecoder::new(100);
    let mut body = Vec::new();
    assert_eq!(decoder.decode(b"0\r\n\r\nmore", &mut body), Ok(Status::Complete(5)));
    assert_eq!(decoder.decode(b"more", &mut body), Ok(Status::Complete(0)));
    assert_eq!(decoder.decode(b"", &mut body), Ok(Status::Complete(0)));
    let mut decoder = ChunkDecoder::new(100);
    assert_eq!(decoder.decode(b"x", &mut body), Err(ChunkError::Size));
    assert_eq!(decoder.decode(b"0\r\n\r\n", &mut body), Err(ChunkError::Size));
    assert_eq!(decoder.decode(b"", &mut body), Err(ChunkError::Size));
}

#[test]
fn test_every_error() {
    let too_long_ext = format!("1;{}\r\n", "a".repeat(MAX_CHUNK_EXT));
    let too_long_trailer = format!("0\r\nA: {}\r\n\r\n", "a".repeat(MAX_HEAD));
    let cases: [(&[u8], ChunkError); 24] = [
        (b"\r\n", ChunkError::Size),
        (b";a\r\n", ChunkError::Size),
        (b"g\r\n", ChunkError::Size),
        (b"5g\r\n", ChunkError::Size),
        (b"-5\r\n", ChunkError::Size),
        (b" 5\r\n", ChunkError::Size),
        (b"5;\r\n", ChunkError::Extension),
        (b"5;=x\r\n", ChunkError::Extension),
        (b"5;a=\r\n", ChunkError::Extension),
        (b"5;a=\"x\r\n", ChunkError::Extension),
        (b"5;a=b c\r\n", ChunkError::Extension),
        (b"5;a\x00\r\n", ChunkError::Extension),
        (too_long_ext.as_bytes(), ChunkError::Extension),
        (b"5\n", ChunkError::Delimiter),
        (b"5\rX", ChunkError::Delimiter),
        (b"5;a\n", ChunkError::Delimiter),
        (b"5\r\nhelloX", ChunkError::Delimiter),
        (b"5\r\nhello\n", ChunkError::Delimiter),
        (b"5\r\nhello\r\r", ChunkError::Delimiter),
        (b"0\r\n\rX", ChunkError::Delimiter),
        (b"0\r\n\n", ChunkError::Trailer),
        (b"0\r\nA : b\r\n\r\n", ChunkError::Trailer),
        (b"0\r\nA: b\r\n c\r\n\r\n", ChunkError::Trailer),
        (too_long_trailer.as_bytes(), ChunkError::Trailer),
    ];
    for (input, error) in cases {
        assert_eq!(decode_all(input).0, Err(error), "{:?}", String::from_utf8_lossy(input));
        assert_eq!(decode_bytewise(input, 1 << 20).0, Err(error));
        assert_eq!(crate::http::error::HttpError::Chunked(error).status(), 400);
        assert!(!error.reason().is_empty());
    }
    assert_eq!(crate::http::error::HttpError::Chunked(ChunkError::TooLarge).status(), 413);
}

#[test]
fn test_too_large_before_data() {
    // The limit is 10: a 10-byte body passes, an 11th byte fails on its size digit, and the
    // oversized chunk's data is never stored.
    let mut body = Vec::new();
    assert_eq!(
        ChunkDecoder::new(10).decode(b"a\r\n0123456789\r\n0\r\n\r\n", &mut body),
        Ok(Status::Complete(20))
    );
    body.clear();
    let mut decoder = ChunkDecoder::new(10);
    assert_eq!(decoder.decode(b"5\r\n01234\r\n6", &mut body), Err(ChunkError::TooLarge));
    assert_eq!(body, b"01234");
    // Many digits: the limit fails long before the 64-bit overflow would.
    assert_eq!(decode_bytewise(b"ffffffffffffffffffff\r\n", 1 << 20).0, Err(ChunkError::TooLarge));
    // With no limit, overflow is a Size error.
    assert_eq!(decode_bytewise(b"ffffffffffffffffffff\r\n", usize::MAX).0, Err(ChunkError::Size));
}

#[test]
fn test_write_chunk() {
    let mut out = Vec::new();
    write_chunk(&mut out, b"Wiki");
    write_chunk(&mut out, b"");
    write_chunk(&mut out, &[b'x'; 300]);
    write_chunk_header(&mut out, 0);
    out.extend_from_slice(LAST_CHUNK);
    assert!(out.starts_with(b"4\r\nWiki\r\n12c\r\nxxx"));
    let (result, body) = decode_all(&out);
    assert_eq!(result, Ok(Status::Complete(out.len())));
    assert_eq!(body.len(), 304);

    for len in [1, 9, 15, 16, 255, 256, 4095, 4096, 1 << 20, usize::MAX] {
        let mut line = Vec::new();
        write_chunk_header(&mut line, len);
        assert_eq!(line, format!("{len:x}\r\n").into_bytes());
    }
}

/// Random bodies cut at random points decode the same as whole; no input panics.
#[test]
fn test_random_splits_and_mutations() {
    let mut rng = Rng(7);
    for _ in 0..3_000 {
        let mut input = Vec::new();
        for _ in 0..rng.below(4) {
            let data: Vec<u8> = (0..rng.below(40)).map(|_| rng.byte()).collect();
            write_chunk(&mut input, &data);
        }
        input.extend_from_slice(LAST_CHUNK);
        if rng.below(2) == 0 {
            let at = rng.below(input.len());
            input[at] = *rng.pick(b"\r\n;0aZ \"=");
        }
        let whole = decode_all(&input);
        assert_eq!(decode_bytewise(&input, 1 << 20), whole);
        let split = rng.below(input.len() + 1);
        let mut decoder = ChunkDecoder::new(1 << 20);
        let mut body = Vec::new();
        let first = decoder.decode(&input[..split], &mut body);
        if first == Ok(Status::Partial) {
            let second = decoder.decode(&input[split..], &mut body).map(|s| match s {
                Status::Complete(n) => Status::Complete(split + n),
                Status::Partial => Status::Partial,
            });
            assert_eq!((second, body), whole);
        }
    }
}
