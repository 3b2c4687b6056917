//! WebSocket frame headers and the protocol machine, whole and cut in two.
//! The check is in `checks/ws_frame.rs`;
//! `tests/fuzz_corpus.rs` runs it on the committed corpus too.
#![no_main]

#[path = "../checks/ws_frame.rs"]
mod ws_frame;

libfuzzer_sys::fuzz_target!(|data: &[u8]| ws_frame::check(data));
