//! Our UTF-8 validator beside std.
//! The check is in `checks/utf8.rs`;
//! `tests/fuzz_corpus.rs` runs it on the committed corpus too.
#![no_main]

#[path = "../checks/utf8.rs"]
mod utf8;

libfuzzer_sys::fuzz_target!(|data: &[u8]| utf8::check(data));
