//! Our request-head parser beside httparse.
//! The check is in `checks/http_request.rs`;
//! `tests/fuzz_corpus.rs` runs it on the committed corpus too.
#![no_main]

#[path = "../checks/http_request.rs"]
mod http_request;

libfuzzer_sys::fuzz_target!(|data: &[u8]| http_request::check(data));
