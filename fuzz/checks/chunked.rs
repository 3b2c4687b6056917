//! The chunked decoder on any bytes: it never panics, never stores more than its limit, and
//! decoding the input whole or cut in two (the first byte picks the cut, the second the body
//! limit) gives the same result, body and length consumed.

use pushlab::wire::chunked::ChunkDecoder;
use pushlab::wire::Status;

pub fn check(data: &[u8]) {
    let [cut, limit, input @ ..] = data else { return };
    let max_body = usize::from(*limit) << 4;

    let mut body = Vec::new();
    let whole = ChunkDecoder::new(max_body).decode(input, &mut body);
    assert!(body.len() <= max_body);
    if let Ok(Status::Complete(n)) = whole {
        assert!(n <= input.len());
    }

    let cut = usize::from(*cut) * input.len() / usize::from(u8::MAX);
    let mut decoder = ChunkDecoder::new(max_body);
    let mut split_body = Vec::new();
    let split = match decoder.decode(&input[..cut], &mut split_body) {
        Ok(Status::Partial) => match decoder.decode(&input[cut..], &mut split_body) {
            Ok(Status::Complete(n)) => Ok(Status::Complete(cut + n)),
            other => other,
        },
        other => other,
    };
    assert_eq!(split, whole);
    assert_eq!(split_body, body);
}
