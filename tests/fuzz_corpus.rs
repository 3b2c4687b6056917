//! Every committed fuzz input, replayed through the checks the fuzz targets run.
//!
//! Each target in `fuzz/fuzz_targets/` is four lines calling `check` in `fuzz/checks/`; this
//! test includes the same files, so `cargo test` runs every seed of `fuzz/corpus/<target>/`
//! (and every crash left in `fuzz/artifacts/<target>/`, if there is one) through exactly
//! what libFuzzer runs — a regression on a committed input fails here, without cargo-fuzz or
//! a nightly compiler. `fuzz/README.md` says how the corpora were made and how to grow them.

// `ws_frame` and `connection` each include `server_frames.rs`, and `inflate` and `deflate`
// each `deflate_oracle.rs`, as their fuzz targets do.
#![allow(clippy::duplicate_mod)]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

#[path = "../fuzz/checks/chunked.rs"]
mod chunked;
#[path = "../fuzz/checks/connection.rs"]
mod connection;
#[path = "../fuzz/checks/deflate.rs"]
mod deflate;
#[path = "../fuzz/checks/http_request.rs"]
mod http_request;
#[path = "../fuzz/checks/inflate.rs"]
mod inflate;
#[path = "../fuzz/checks/last_event_id.rs"]
mod last_event_id;
#[path = "../fuzz/checks/query.rs"]
mod query;
#[path = "../fuzz/checks/resp.rs"]
mod resp;
#[path = "../fuzz/checks/utf8.rs"]
mod utf8;
#[path = "../fuzz/checks/ws_frame.rs"]
mod ws_frame;

/// Runs `check` on every file of the target's corpus and artifacts; fails naming each file
/// whose check panicked. An empty corpus fails too: every target ships seeds.
fn replay(target: &str, check: fn(&[u8])) {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut files = Vec::new();
    for dir in [fuzz.join("corpus").join(target), fuzz.join("artifacts").join(target)] {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries {
            let path = entry.expect("a readable directory").path();
            if path.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(!files.is_empty(), "no committed inputs for {target}");
    let failed: Vec<String> = files
        .iter()
        .filter(|path| {
            let data = std::fs::read(path).expect("a readable input");
            catch_unwind(AssertUnwindSafe(|| check(&data))).is_err()
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        failed.is_empty(),
        "{target}: {} of {} inputs fail:\n{}",
        failed.len(),
        files.len(),
        failed.join("\n")
    );
}

#[test]
fn http_request_corpus() {
    replay("http_request", http_request::check);
}

#[test]
fn chunked_corpus() {
    replay("chunked", chunked::check);
}

#[test]
fn ws_frame_corpus() {
    replay("ws_frame", ws_frame::check);
}

#[test]
fn utf8_corpus() {
    replay("utf8", utf8::check);
}

#[test]
fn query_corpus() {
    replay("query", query::check);
}

#[test]
fn last_event_id_corpus() {
    replay("last_event_id", last_event_id::check);
}

#[test]
fn connection_corpus() {
    replay("connection", connection::check);
}

#[test]
fn resp_corpus() {
    replay("resp", resp::check);
}

#[test]
fn inflate_corpus() {
    replay("inflate", inflate::check);
}

#[test]
fn deflate_corpus() {
    replay("deflate", deflate::check);
}
