//! The chunked decoder, whole and cut in two.
//! The check is in `checks/chunked.rs`;
//! `tests/fuzz_corpus.rs` runs it on the committed corpus too.
#![no_main]

#[path = "../checks/chunked.rs"]
mod chunked;

libfuzzer_sys::fuzz_target!(|data: &[u8]| chunked::check(data));
