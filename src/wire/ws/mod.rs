//! `wire::ws` — the byte-level pieces of RFC 6455, each a pure function of its input.
//!
//! | file | what | RFC 6455 |
//! |---|---|---|
//! | `frame.rs` | the frame header: [`frame::FrameHeader`], [`frame::OpCode`] | §5.2, §5.5 |
//! | `mask.rs` | XOR masking, fast and obvious versions side by side | §5.3 |
//! | `close.rs` | close codes and the close frame's body | §5.5.1, §7.4 |
//! | `handshake.rs` | `Sec-WebSocket-Key` check and `Sec-WebSocket-Accept` | §4.2 |
//!
//! The connection's state machine — which frames may follow which, ping→pong, the closing
//! handshake — is not here but in `crate::transport::websocket`: this module knows what a
//! frame *is*, that one knows what a frame *means* on an open connection.

pub mod close;
pub mod frame;
pub mod handshake;
pub mod mask;
