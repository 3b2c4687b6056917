//! RESP values, the Redis command connection and the Pub/Sub connection on any bytes.
//! The check is in `checks/resp.rs`;
//! `tests/fuzz_corpus.rs` runs it on the committed corpus too.
#![no_main]

#[path = "../checks/resp.rs"]
mod resp;

libfuzzer_sys::fuzz_target!(|data: &[u8]| resp::check(data));
