//! The Last-Event-ID header of GET /sse, by its rule and through the route.
//! The check is in `checks/last_event_id.rs`;
//! `tests/fuzz_corpus.rs` runs it on the committed corpus too.
#![no_main]

#[path = "../checks/last_event_id.rs"]
mod last_event_id;

libfuzzer_sys::fuzz_target!(|data: &[u8]| last_event_id::check(data));
