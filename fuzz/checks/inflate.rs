//! Our inflater on any bytes. The first four bytes set it up — window bits `9 + a % 7`, the
//! output limit `256 b` bytes, and two cuts — and the rest is the stream. It never panics,
//! never writes past the limit, and gives the same verdict and output whole and in three
//! pieces; an error stays; and when a 15-bit stream ends cleanly and miniz accepts it too
//! (within the limit), both produce the same bytes.

#[path = "deflate_oracle.rs"]
mod deflate_oracle;

use pushlab::wire::deflate::{InflateStatus, Inflater, TAIL};

pub fn check(data: &[u8]) {
    let [window, limit, cut_a, cut_b, stream @ ..] = data else { return };
    let window_bits = 9 + window % 7;
    let limit = usize::from(*limit) * 256;

    let mut inflater = Inflater::new(window_bits);
    let mut out = Vec::new();
    let whole = inflater.inflate(stream, &mut out, limit);
    assert!(out.len() <= limit);
    if let Err(error) = whole {
        assert_eq!(inflater.inflate(&TAIL, &mut out, limit), Err(error), "errors are sticky");
        assert_eq!(inflater.end_message(), Err(error));
    } else {
        // What a permessage-deflate receiver does next must not panic either.
        let _ = inflater.inflate(&TAIL, &mut out, limit).and_then(|_| inflater.end_message());
        assert!(out.len() <= limit);
    }

    let a = usize::from(*cut_a) * stream.len() / 255;
    let b = (a + usize::from(*cut_b) * stream.len() / 255).min(stream.len());
    let mut split = Inflater::new(window_bits);
    let mut split_out = Vec::new();
    let mut result = Ok(InflateStatus::BlockEnd);
    for piece in [&stream[..a], &stream[a..b], &stream[b..]] {
        result = split.inflate(piece, &mut split_out, limit);
        if result.is_err() {
            break;
        }
    }
    let mut out = Vec::new();
    let whole = Inflater::new(window_bits).inflate(stream, &mut out, limit);
    assert_eq!(result, whole, "the split changed the verdict");
    assert!(split_out == out, "the split changed the output");

    if window_bits == 15 && matches!(whole, Ok(InflateStatus::BlockEnd | InflateStatus::StreamEnd)) {
        if let Ok(theirs) = deflate_oracle::MinizInflater::default().feed(stream, limit) {
            if theirs.len() <= limit {
                assert!(theirs == out, "miniz decodes it differently");
            }
        }
    }
}
