//! `transport` — what a connection does once a request has chosen how it will be pushed to.
//!
//! Each streaming transport is one state machine with no sockets, no `mio` and no clock of
//! its own, in smoltcp's shape: the server hands it *inputs* — bytes from the peer, the end
//! of input, a published message, a replay budget, the time when its deadline comes — and it
//! appends bytes to the connection's [`OutQueue`](crate::outq::OutQueue) and answers with
//! [`Next`]: what the server must do with the connection. Every decision about what a
//! client is sent is made here, so the rules that matter most are each written once:
//!
//! - *May I still send?* — [`ws_session::WsSession::may_send`] for WebSocket; every push,
//!   replay batch and ping asks it, so nothing follows our Close (RFC 6455 §5.5.1).
//! - *The peer went away* — `on_eof` on every machine: end of input is an input like any
//!   other, delivered after whatever arrived with it, on every route.
//! - *Replay, then live, each id once* — [`replay::Replay`], shared by SSE and `/ws`.
//!
//! | file | transport | chapter |
//! |---|---|---|
//! | `long_poll.rs` | a request held until news or a timeout | 03 |
//! | `sse.rs` | an endless `text/event-stream` response | 04 |
//! | `replay.rs` | the replay cursor of SSE and `/ws` | 04–05 |
//! | `websocket.rs` | the RFC 6455 protocol state machine | 05 |
//! | `permessage.rs` | permessage-deflate (RFC 7692) on one connection, shared compressed frames | 10 |
//! | `ws_session.rs` | `/ws` and `/echo`: the protocol plus heartbeat, replay and pushes | 05 |

pub mod long_poll;
pub mod permessage;
pub mod replay;
pub mod sse;
pub mod websocket;
pub mod ws_session;

/// What a transport asks the server to do with its connection after an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Nothing changes: keep the connection as it is.
    Stay,
    /// The held request is due its answer (news, or its deadline): write the service's
    /// reply and go back to reading requests.
    Answer,
    /// Send what is queued, then close — our side first (RFC 9112 §9.6, RFC 6455 §7.1.1).
    Close,
    /// The peer is gone: free the connection now, without waiting for anything.
    Drop,
}
