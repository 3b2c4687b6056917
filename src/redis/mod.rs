//! `redis` — pushlab's side of a shared Redis (SPEC §10), sans-IO: no sockets, no clock,
//! no `mio`. Bytes from Redis go in, bytes for Redis and events come out; the server owns
//! the sockets and the timers, as it does for every transport.
//!
//! Two connections per node, because a Redis connection in Pub/Sub mode accepts nothing
//! but (un)subscribe commands (RESP2):
//!
//! - a *command* connection ([`client::Client`]) that pipelines the two scripts — publish
//!   and history read — and matches each reply to the caller's tag, in order;
//! - a *subscriber* connection ([`subscriber::PubSub`]) that holds a subscription to
//!   each topic that has local subscribers and turns announcements into messages.
//!
//! | file | what | chapter |
//! |---|---|---|
//! | `url.rs` | the `--redis` URL | 09 |
//! | `keys.rs` | key and channel names, one `{topic}` hash tag per topic | 09 |
//! | `script.rs` | `publish.lua` and `history.lua`: arguments, replies, the announcement | 09 |
//! | `client.rs` | the command connection: handshake, pipelining, `NOSCRIPT` fallback | 09 |
//! | `subscriber.rs` | the Pub/Sub connection: desired vs confirmed subscriptions | 09 |
//! | `backoff.rs` | when to reconnect: doubling delays with jitter | 09 |
//!
//! The bytes themselves are `wire::resp`'s.

pub mod backoff;
pub mod client;
pub mod keys;
pub mod script;
pub mod subscriber;
pub mod url;

use crate::limits::REDIS_MAX_INPUT;
use crate::wire::resp::{self, RespError, Value};
use crate::wire::Status;

/// The caller's name for one request; its reply event carries it back.
pub type Tag = u64;

/// Why a request failed, or why a connection must be dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedisError {
    /// The bytes from Redis are not RESP2. Fatal: drop the connection.
    Protocol(RespError),
    /// More unparsed input than `limits::REDIS_MAX_INPUT`. Fatal.
    InputTooLarge,
    /// A reply came with no command waiting for it, or of a kind no command gets. Fatal.
    Unsolicited,
    /// Redis refused `AUTH` (wrong password or user, or no password set). Fatal.
    Auth,
    /// Redis refused `SELECT` (no such database). Fatal.
    Select,
    /// The request was made while no connection was up.
    NotConnected,
    /// The connection went down before the reply came.
    ConnectionLost,
    /// Redis answered with an error (its text is in the event's `detail`).
    ErrorReply,
    /// The reply is RESP, but not the shape the script returns.
    Reply,
}

impl RedisError {
    /// A short human text naming what went wrong.
    pub fn reason(self) -> &'static str {
        match self {
            RedisError::Protocol(e) => e.reason(),
            RedisError::InputTooLarge => "Redis reply too large",
            RedisError::Unsolicited => "Redis sent a reply nobody asked for",
            RedisError::Auth => "Redis refused AUTH: check the password in the --redis URL",
            RedisError::Select => "Redis refused SELECT: check the database number in the --redis URL",
            RedisError::NotConnected => "not connected to Redis",
            RedisError::ConnectionLost => "the connection to Redis was lost",
            RedisError::ErrorReply => "Redis answered with an error",
            RedisError::Reply => "Redis answered in an unexpected shape",
        }
    }

    /// Whether the connection is unusable after this error (drop it, then reconnect).
    pub fn is_fatal(self) -> bool {
        matches!(
            self,
            RedisError::Protocol(_)
                | RedisError::InputTooLarge
                | RedisError::Unsolicited
                | RedisError::Auth
                | RedisError::Select
        )
    }
}

/// The input half both connections share: bytes in, whole values out, the partial tail
/// kept (and bounded) for the next read.
#[derive(Debug, Default)]
pub(crate) struct Input {
    kept: Vec<u8>,
}

impl Input {
    /// Calls `each` with every whole value of what was kept plus `input`, in order, until
    /// `each` returns false; keeps the partial rest. `Err` when the bytes are not RESP or the
    /// kept tail grows past [`REDIS_MAX_INPUT`]: the connection is then unusable.
    pub(crate) fn feed(
        &mut self,
        input: &[u8],
        mut each: impl FnMut(Value) -> bool,
    ) -> Result<(), RedisError> {
        if self.kept.is_empty() {
            // Most reads hold whole replies: parse them where they lie, copy only a tail.
            let at = values(input, &mut each)?;
            self.kept.extend_from_slice(&input[at..]);
        } else {
            let mut kept = std::mem::take(&mut self.kept);
            kept.extend_from_slice(input);
            let at = values(&kept, &mut each)?;
            kept.drain(..at);
            self.kept = kept;
        }
        if self.kept.len() > REDIS_MAX_INPUT {
            return Err(RedisError::InputTooLarge);
        }
        Ok(())
    }

    /// Forgets what was kept (the connection is gone).
    pub(crate) fn clear(&mut self) {
        self.kept = Vec::new();
    }
}

/// Hands each whole value at the start of `buf` to `each` while it returns true; the
/// number of bytes those values took.
fn values(buf: &[u8], each: &mut impl FnMut(Value) -> bool) -> Result<usize, RedisError> {
    let mut at = 0;
    while let Status::Complete((value, len)) = resp::parse(&buf[at..]).map_err(RedisError::Protocol)? {
        at += len;
        if !each(value) {
            break;
        }
    }
    Ok(at)
}
