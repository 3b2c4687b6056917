//! `transport` — what a connection does once a request has chosen how it will be pushed to.
//!
//! Each file is one transport's per-connection state, with no sockets and no `mio` in it: the
//! server feeds it events (a message published, a deadline reached, bytes received) and
//! writes what it returns.
//!
//! | file | transport | chapter |
//! |---|---|---|
//! | `long_poll.rs` | a request held until news or a timeout | 03 |
//! | `sse.rs` | an endless `text/event-stream` response | 04 |
//! | `websocket.rs` | the RFC 6455 protocol state machine | 05 |

pub mod long_poll;
pub mod sse;
pub mod websocket;
