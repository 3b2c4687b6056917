//! The deflate direction of `wire::deflate`, beside miniz_oxide.
//! The check is in `checks/deflate.rs`;
//! `tests/fuzz_corpus.rs` runs it on the committed corpus too.
#![no_main]

#[path = "../checks/deflate.rs"]
mod deflate;

libfuzzer_sys::fuzz_target!(|data: &[u8]| deflate::check(data));
