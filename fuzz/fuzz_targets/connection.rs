//! The stateful target: operations driven through the transport machines.
//! The check is in `checks/connection.rs`;
//! `tests/fuzz_corpus.rs` runs it on the committed corpus too.
#![no_main]

#[path = "../checks/connection.rs"]
mod connection;

libfuzzer_sys::fuzz_target!(|data: &[u8]| connection::check(data));
