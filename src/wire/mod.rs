//! `wire` — bytes ↔ types, and nothing else: no sockets, no clocks, no `mio`.
//!
//! Every parser here takes `&[u8]` and answers [`Status::Partial`] ("need more bytes",
//! having consumed nothing) or [`Status::Complete`]; none panics on any input. Every encoder
//! appends to a caller's `Vec<u8>`. Each file is one format:
//!
//! | file | format | chapter |
//! |---|---|---|
//! | `request.rs` | HTTP/1.1 request head (RFC 9112 §2–5) | 01 |
//! | `framing.rs` | message body length, connection options (RFC 9112 §6–9) | 01 |
//! | `chunked.rs` | chunked transfer coding, both directions (RFC 9112 §7.1) | 01 |
//! | `date.rs` | the `Date` header's IMF-fixdate (RFC 9110 §5.6.7) | 01 |
//! | `query.rs` | query strings and percent-decoding (RFC 3986 §2.1) | 02 |
//! | `json.rs` | JSON text output (RFC 8259) | 02 |
//! | `sse.rs` | `text/event-stream` events (WHATWG HTML §9.2) | 04 |
//! | `ws/` | WebSocket frames, masking, close codes, handshake key (RFC 6455) | 05 |
//! | `utf8.rs` | incremental UTF-8 validation (RFC 3629) | 05 |
//! | `deflate/` | DEFLATE both ways, for permessage-deflate (RFC 1951, RFC 7692 §7.2) | 05 |
//! | `extensions.rs` | `Sec-WebSocket-Extensions` offers and the permessage-deflate answer (RFC 7692 §5, §7.1) | 05 |

pub mod chunked;
pub mod date;
pub mod deflate;
pub mod extensions;
pub mod framing;
pub mod json;
pub mod query;
pub mod request;
pub mod sse;
#[cfg(test)]
pub(crate) mod test_rng;
pub mod utf8;
pub mod ws;

/// The answer of an incremental parser.
///
/// "Need more bytes" is a value, not an error: a request head that arrives one byte at a
/// time is normal on a socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status<T> {
    /// The input ends before the item does; nothing was consumed. Call again with more.
    Partial,
    /// The item is complete.
    Complete(T),
}
