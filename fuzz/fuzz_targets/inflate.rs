//! The inflate direction of `wire::deflate`, beside miniz_oxide.
//! The check is in `checks/inflate.rs`;
//! `tests/fuzz_corpus.rs` runs it on the committed corpus too.
#![no_main]

#[path = "../checks/inflate.rs"]
mod inflate;

libfuzzer_sys::fuzz_target!(|data: &[u8]| inflate::check(data));
