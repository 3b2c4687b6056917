//! Our UTF-8 validator against `std::str::from_utf8`: the same verdict, the same error
//! position and length, whole and fed in two pieces (the first byte picks the cut).
//! Fail fast: the first piece fails exactly when std already calls it invalid.

use pushlab::wire::utf8::{validate, Utf8Validator};

pub fn check(data: &[u8]) {
    let Some((&cut, input)) = data.split_first() else { return };
    let whole = validate(input);
    match std::str::from_utf8(input) {
        Ok(_) => assert_eq!(whole, Ok(())),
        Err(std) => {
            let ours = whole.expect_err("std rejects what we accept");
            assert_eq!((ours.valid_up_to(), ours.error_len()), (std.valid_up_to(), std.error_len()));
        }
    }

    let cut = usize::from(cut) * input.len() / usize::from(u8::MAX);
    let (a, b) = input.split_at(cut);
    let mut validator = Utf8Validator::new();
    let first = validator.feed(a);
    let std_a_invalid = std::str::from_utf8(a).err().and_then(|e| e.error_len()).is_some();
    assert_eq!(first.is_err(), std_a_invalid);
    let split = first.and_then(|()| validator.feed(b)).map(|()| validator.is_complete());
    match whole {
        Ok(()) => assert_eq!(split, Ok(true)),
        Err(e) if e.error_len().is_none() => assert_eq!(split, Ok(false)),
        Err(e) => assert_eq!(split, Err(e)),
    }
}
