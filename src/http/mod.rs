//! `http` — the HTTP/1.1 half of a connection (chapter 01): reading requests from the
//! input, routing them, and writing responses. The byte-level formats live in
//! [`crate::wire`]; the socket lives in [`crate::server`].
//!
//! | file | role |
//! |---|---|
//! | `error.rs` | the rules a request can break, each mapped to one status |
//! | `status.rs` | status codes by name, reason phrases |
//! | `reader.rs` | input → complete requests (head, framing, body), errors → status codes |
//! | `router.rs` | method + path → route, `404` / `405 Allow` |
//! | `response.rs` | status + headers + body → bytes, with `Date`, `Server`, framing |

pub mod error;
pub mod reader;
pub mod response;
pub mod router;
pub mod status;
