//! The teaching view of the wire (`RUST_LOG=trace`): every request head and every push,
//! annotated. WebSocket frame headers are traced where they are parsed
//! (`transport/websocket.rs`).

use std::net::SocketAddr;

use crate::http::reader::Request;
use crate::hub::Message;
use crate::transport::sse;

/// One published message and how many subscribers it goes to: the SSE event it becomes
/// and the `/ws` text frame header (its payload is the message JSON), each encoded once.
pub(super) fn message(message: &Message, subscribers: usize) {
    let event = sse::event(message, false);
    log::trace!(
        "publish {}#{} to {subscribers} subscriber(s); SSE event {:?}; ws → Text FIN=1 RSV=000 MASK=0 len={}",
        message.topic,
        message.id,
        String::from_utf8_lossy(&event),
        message.json().len(),
    );
}

/// A request head, field by field.
pub(super) fn head(peer: SocketAddr, request: &Request<'_>) {
    let head = &request.head;
    log::trace!(
        "{peer} → {} {} {:?} ({:?}, body {} bytes)",
        head.method,
        head.target,
        head.version,
        request.framing.body,
        request.body.len()
    );
    for h in head.headers {
        log::trace!("{peer}   {}: {}", h.name, String::from_utf8_lossy(h.value));
    }
}
