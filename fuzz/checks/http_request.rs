//! Our request-head parser against `httparse` on any bytes: it never panics, and both reach
//! the same verdict (`Partial`, `Complete` or error) and, where both complete, the same
//! method, target, version, fields and length — except where a documented rule says we
//! differ. The verdicts and the rules come from `tests/oracle/mod.rs`, the module
//! `tests/http_differential.rs` uses too, which explains each rule.
//!
//! Also: `find_head_end` finds every complete head, and more bytes never undo a verdict
//! (a prefix that fails or completes does so the same way with the rest appended).

#[path = "../../tests/oracle/mod.rs"]
mod oracle;

use oracle::{divergence_holds, expected_divergence, ours, theirs, Parsed, Verdict};
use pushlab::wire::request::find_head_end;

pub fn check(data: &[u8]) {
    let ours_whole = ours(data);
    match expected_divergence(data) {
        Some(rule) => assert!(divergence_holds(rule, data, &ours_whole), "rule {rule}: {ours_whole:?}"),
        None => assert_eq!(ours_whole.0, theirs(data).0),
    }
    if let Verdict::Complete(Parsed { len, .. }) = ours_whole.0 {
        assert_eq!(find_head_end(data, 0), Some(len));
    }
    let prefix = ours(&data[..data.len() / 2]).0;
    if prefix != Verdict::Partial {
        assert_eq!(prefix, ours_whole.0);
    }
}
