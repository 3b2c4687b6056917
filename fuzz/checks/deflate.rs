//! Our deflater on any sequence of messages: each compresses to blocks ending in the sync
//! flush `00 00 ff ff`, inflates back through our inflater, and through miniz — one
//! decompressor for the whole sequence, as a browser keeps, or a fresh one per message
//! without context takeover. Byte 0 picks the level (`% 10`), byte 1 the window (`9 + b %
//! 7`) and, with its top bit, no context takeover; then each message is a byte `h` and
//! `h & 0x7F` bytes, repeated `1 + next byte` times when `h` has its top bit.

#[path = "deflate_oracle.rs"]
mod deflate_oracle;

use pushlab::wire::deflate::{Deflater, InflateStatus, Inflater, TAIL};

pub fn check(data: &[u8]) {
    let [level, setup, messages @ ..] = data else { return };
    let mut rest: &[u8] = messages;
    let window_bits = 9 + (setup & 0x7F) % 7;
    let takeover = setup & 0x80 == 0;
    let mut deflater = Deflater::new(window_bits, level % 10);
    let mut inflater = Inflater::new(window_bits);
    let mut miniz = deflate_oracle::MinizInflater::default();
    while let Some((&head, tail)) = rest.split_first() {
        let (repeat, tail) = match tail.split_first() {
            Some((&n, after)) if head & 0x80 != 0 => (1 + usize::from(n), after),
            _ => (1, tail),
        };
        let len = usize::from(head & 0x7F).min(tail.len());
        let message = tail[..len].repeat(repeat);
        rest = &tail[len..];
        if !takeover {
            deflater.reset();
            inflater.reset();
            miniz = deflate_oracle::MinizInflater::default();
        }

        let mut stream = Vec::new();
        deflater.compress(&message, &mut stream);
        assert!(stream.ends_with(&TAIL), "no sync flush");
        let mut out = Vec::new();
        assert_eq!(inflater.inflate(&stream, &mut out, usize::MAX), Ok(InflateStatus::BlockEnd));
        inflater.end_message().expect("ends on a block boundary");
        assert!(out == message, "our inflater disagrees");
        let theirs = miniz.feed(&stream, usize::MAX).expect("miniz accepts our stream");
        assert!(theirs == message, "miniz disagrees");
    }
}
