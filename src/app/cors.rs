//! The Origin policy (SPEC §7), shared by CORS on the HTTP transports and by the WebSocket
//! handshake.
//!
//! Browsers attach `Origin` to cross-origin `fetch`, to every `EventSource` and `WebSocket`.
//! For the HTTP transports the browser enforces the answer: it hides a response that lacks
//! `Access-Control-Allow-Origin`. A WebSocket has no such protection — the browser connects
//! wherever the page says — so the server must refuse foreign origins itself (`403`).

use crate::config::Config;
use crate::http::response::Response;
use crate::http::status;
use crate::wire::request::RequestHead;

/// Request headers a cross-origin page may send (fetch's preflight asks for the
/// non-safelisted ones it needs: `content-type` for a JSON publish, `last-event-id` for a
/// hand-made SSE resume).
const ALLOWED_HEADERS: &str = "content-type, last-event-id, cache-control";

/// The request's `Origin`, if it is one `--allow-origin` lists.
pub fn allowed_origin<'b>(head: &RequestHead<'_, 'b>, config: &Config) -> Option<&'b str> {
    let origin = std::str::from_utf8(head.header("Origin")?).ok()?;
    config.allow_origins.iter().any(|o| o == origin).then_some(origin)
}

/// True for a request from the server's own pages: `Origin` is exactly `http://` + `Host`.
pub fn same_origin(head: &RequestHead<'_, '_>) -> bool {
    match (head.header("Origin"), head.header("Host")) {
        (Some(origin), Some(host)) => origin.strip_prefix(b"http://") == Some(host),
        _ => false,
    }
}

/// Adds CORS headers for a listed origin; an unlisted one gets none (SPEC §7).
pub fn apply(response: Response, head: &RequestHead<'_, '_>, config: &Config) -> Response {
    with_origin(response, allowed_origin(head, config))
}

/// Adds `Access-Control-Allow-Origin` (echoing the allowed origin) and `Vary: Origin`.
pub fn with_origin(response: Response, cors_origin: Option<&str>) -> Response {
    match cors_origin {
        Some(origin) => response.header("Access-Control-Allow-Origin", origin).header("Vary", "Origin"),
        None => response,
    }
}

/// `OPTIONS` preflight: `204` with what may be sent, for a listed origin; `403` otherwise.
pub fn preflight(head: &RequestHead<'_, '_>, config: &Config) -> Response {
    let Some(origin) = allowed_origin(head, config) else {
        return Response::error(status::FORBIDDEN, "origin not allowed");
    };
    Response::new(status::NO_CONTENT)
        .header("Access-Control-Allow-Origin", origin)
        .header("Vary", "Origin")
        .header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
        .header("Access-Control-Allow-Headers", ALLOWED_HEADERS)
        .header("Access-Control-Max-Age", "600")
}
