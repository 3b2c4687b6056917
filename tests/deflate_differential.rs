//! `wire::deflate` against miniz_oxide, both ways, over a generated corpus: our deflater's
//! output inflates there to the input, miniz's output (every level, final-block and
//! sync-flushed, with and without context takeover) inflates here, in pieces of any size;
//! a zip bomb stops at the limit; mangled streams never panic, and when both decoders
//! accept one they agree byte for byte.

#[path = "../fuzz/checks/deflate_oracle.rs"]
mod deflate_oracle;

use deflate_oracle::{miniz_deflate_final, miniz_inflate, MinizDeflater, MinizInflater};
use pushlab::wire::deflate::{Deflater, InflateError, InflateStatus, Inflater, TAIL};

/// xorshift64*, as `tests/common/mod.rs`: the corpus replays exactly from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        ((self.next() >> 11) % n as u64) as usize
    }
    fn byte(&mut self) -> u8 {
        (self.next() >> 56) as u8
    }
}

const JSON: &[u8] = br#"{"id":7,"topic":"chat","data":"hello","time":1732390000123}"#;

/// Named inputs: the shapes pushlab sends and the edges of the format.
fn corpus() -> Vec<(&'static str, Vec<u8>)> {
    let mut rng = Rng(0xD1FF_E7E7);
    let mut text = Vec::new();
    let words = ["the ", "topic ", "subscriber ", "message ", "window ", "hello, ", "world.\n"];
    while text.len() < 20_000 {
        text.extend_from_slice(words[rng.below(words.len())].as_bytes());
    }
    let mut messages = Vec::new();
    for id in 0..300u64 {
        let line = format!(
            r#"{{"id":{id},"topic":"chat","data":"{}","time":{}}}"#,
            ["hello", "hi there", "ok", "see you"][rng.below(4)],
            1_732_390_000_123 + id * 37
        );
        messages.extend_from_slice(line.as_bytes());
    }
    vec![
        ("empty", vec![]),
        ("one byte", vec![b'x']),
        ("hello", b"Hello".to_vec()),
        ("json", JSON.to_vec()),
        ("json x 100", JSON.repeat(100)),
        ("json stream", messages),
        ("text", text),
        ("random 10k", (0..10_000).map(|_| rng.byte()).collect()),
        ("run 100k", vec![b'a'; 100_000]),
        ("two symbols 20k", (0..20_000).map(|_| b'a' + rng.byte() % 2).collect()),
        ("period 300 x 300", (0..90_000u32).map(|i| (i % 300) as u8).collect()),
        ("mixed 70k", (0..70_000).map(|i| if i % 1000 < 500 { rng.byte() } else { b'z' }).collect()),
    ]
}

/// Our inflater on `stream` fed in the piece sizes `sizes` cycles through.
fn ours(stream: &[u8], sizes: &[usize], limit: usize) -> (Result<InflateStatus, InflateError>, Vec<u8>) {
    let mut inflater = Inflater::new(15);
    let mut out = Vec::new();
    let mut result = Ok(InflateStatus::BlockEnd);
    let (mut rest, mut i) = (stream, 0);
    while !rest.is_empty() {
        let n = sizes[i % sizes.len()].clamp(1, rest.len());
        i += 1;
        result = inflater.inflate(&rest[..n], &mut out, limit);
        assert!(out.len() <= limit);
        if result.is_err() {
            break;
        }
        rest = &rest[n..];
    }
    (result, out)
}

#[test]
fn our_output_inflates_in_miniz() {
    for (name, input) in corpus() {
        // Every level at 15 bits; the small windows at the default level.
        for (level, window_bits) in [(0, 15), (1, 15), (4, 15), (6, 15), (9, 15), (6, 9), (6, 11)] {
            let mut stream = Vec::new();
            Deflater::new(window_bits, level).compress(&input, &mut stream);
            assert!(stream.ends_with(&TAIL), "{name}");
            assert_eq!(miniz_inflate(&stream).unwrap(), input, "{name}, level {level}, {window_bits} bits");
        }
    }
}

#[test]
fn our_messages_with_context_takeover_inflate_in_miniz() {
    // One miniz decompressor for the whole conversation, as a browser keeps one.
    for takeover in [true, false] {
        let mut deflater = Deflater::new(15, 6);
        let mut miniz = MinizInflater::default();
        for (name, input) in corpus().iter().chain(corpus().iter()) {
            if !takeover {
                deflater.reset();
                miniz = MinizInflater::default();
            }
            let mut stream = Vec::new();
            deflater.compress(input, &mut stream);
            assert_eq!(&miniz.feed(&stream, usize::MAX).unwrap(), input, "{name}, takeover {takeover}");
        }
    }
}

#[test]
fn miniz_output_inflates_here_in_any_pieces() {
    let mut rng = Rng(0xD1FF_E7E8);
    for (name, input) in corpus() {
        for level in [0, 1, 3, 6, 9] {
            let final_block = miniz_deflate_final(&input, level);
            let (result, out) = ours(&final_block, &[final_block.len()], usize::MAX);
            assert_eq!(result, Ok(InflateStatus::StreamEnd), "{name}, level {level}");
            assert_eq!(out, input, "{name}, level {level}");
            let flushed = MinizDeflater::new(level).message(&input);
            assert!(flushed.ends_with(&TAIL));
            let sizes: Vec<usize> = (0..16)
                .map(|_| {
                    let most = [1, 7, 300, 5000][rng.below(4)];
                    1 + rng.below(most)
                })
                .collect();
            for sizes in [&[flushed.len()][..], &sizes] {
                let (result, out) = ours(&flushed, sizes, usize::MAX);
                assert_eq!(
                    (result, out.len()),
                    (Ok(InflateStatus::BlockEnd), input.len()),
                    "{name}, level {level}"
                );
                assert!(out == input, "{name}, level {level}");
            }
        }
        // One byte at a time, for the inputs where that is quick.
        if input.len() <= 20_000 {
            let stream = MinizDeflater::new(6).message(&input);
            assert_eq!(ours(&stream, &[1], usize::MAX).1, input, "{name}, bytewise");
        }
    }
}

#[test]
fn miniz_messages_with_context_takeover_inflate_here() {
    // RFC 7692 §7.2.1 as a peer does it: compress, sync flush, strip the tail; we append it.
    let mut miniz = MinizDeflater::new(6);
    let mut inflater = Inflater::new(15);
    for (name, input) in corpus().iter().chain(corpus().iter()) {
        let mut payload = miniz.message(input);
        payload.truncate(payload.len() - TAIL.len());
        let mut out = Vec::new();
        inflater.inflate(&payload, &mut out, usize::MAX).unwrap();
        assert_eq!(inflater.inflate(&TAIL, &mut out, usize::MAX), Ok(InflateStatus::BlockEnd));
        inflater.end_message().unwrap();
        assert!(&out == input, "{name}");
    }
}

#[test]
fn a_zip_bomb_stops_at_the_limit() {
    // 8 MiB of zeros, 8 KiB compressed: stopped at 64 KiB, in any split.
    let bomb = miniz_deflate_final(&vec![0; 8 << 20], 9);
    assert!(bomb.len() < 10_000, "{}", bomb.len());
    for sizes in [&[bomb.len()][..], &[1, 1000]] {
        let (result, out) = ours(&bomb, sizes, 64 * 1024);
        assert_eq!(result, Err(InflateError::TooBig));
        assert!(out.len() <= 64 * 1024);
    }
}

#[test]
fn mangled_streams_never_panic_and_agree_when_both_accept() {
    let mut rng = Rng(0xD1FF_E7E9);
    let mut both_accept = 0;
    for (_, input) in corpus().into_iter().filter(|(_, input)| input.len() < 25_000) {
        for level in [1, 6] {
            let stream = MinizDeflater::new(level).message(&input);
            for round in 0..40 {
                let mut bad = stream.clone();
                match round % 3 {
                    0 => bad.truncate(rng.below(bad.len())),
                    1 => {
                        let at = rng.below(bad.len());
                        bad[at] ^= 1 << rng.below(8);
                    }
                    _ => {
                        for _ in 0..4 {
                            let at = rng.below(bad.len());
                            bad[at] = rng.byte();
                        }
                    }
                }
                let limit = 1 << 20;
                let (whole, out) = ours(&bad, &[bad.len()], limit);
                let (split, split_out) = ours(&bad, &[1 + rng.below(64)], limit);
                assert_eq!((whole, &out), (split, &split_out), "the split changed the verdict");
                if let (Ok(InflateStatus::BlockEnd | InflateStatus::StreamEnd), Ok(theirs)) =
                    (whole, MinizInflater::default().feed(&bad, limit))
                {
                    if theirs.len() <= limit {
                        assert_eq!(out, theirs);
                        both_accept += 1;
                    }
                }
            }
        }
    }
    assert!(both_accept > 10, "only {both_accept} mangled streams were accepted by both");
}
