//! Query strings: pairs, percent-decoding, get, parse_u64, valid_topic beside slow twins.
//! The check is in `checks/query.rs`;
//! `tests/fuzz_corpus.rs` runs it on the committed corpus too.
#![no_main]

#[path = "../checks/query.rs"]
mod query;

libfuzzer_sys::fuzz_target!(|data: &[u8]| query::check(data));
