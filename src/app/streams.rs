//! `GET /sse`, `GET /ws`, `GET /echo` (SPEC §6–7, chapters 04–05): the requests that turn a
//! connection into a stream.

use super::{cors, number, topic, Refusal};
use crate::http::response::Response;
use crate::service::{Ctx, Endpoint, Reply};
use crate::wire::framing::has_token;
use crate::wire::query;
use crate::wire::request::{RequestHead, Version};
use crate::wire::ws::handshake::{accept_key, key_is_valid};

/// `GET /sse?topic=T[&since=N]`. `Last-Event-ID` — which the browser's `EventSource` sends
/// by itself when it reconnects — wins over `since`. A `Last-Event-ID` that is not one of
/// our ids (not plain digits) is ignored rather than refused: the browser would only send
/// it again on every reconnect.
pub fn sse(head: &RequestHead<'_, '_>, ctx: &mut Ctx<'_>) -> Result<Reply, Refusal> {
    let q = head.query();
    let topic = topic(q)?;
    let since = number(q, "since")?;
    let last_event_id = head
        .header("Last-Event-ID")
        .and_then(|v| std::str::from_utf8(v).ok())
        .and_then(|v| query::parse_u64(v.trim()).ok());
    let cursor = ctx.hub.cursor(&topic, last_event_id.or(since));
    let response = Response::new(200)
        .header("Content-Type", "text/event-stream")
        .header("Cache-Control", "no-cache")
        // nginx and kin buffer responses by default; this asks them not to (chapter 04).
        .header("X-Accel-Buffering", "no")
        .stream();
    let response = cors::apply(response, head, ctx.config);
    if head.method == "HEAD" {
        // SPEC §8: HEAD answers at once, with the stream's headers and no body.
        return Ok(Reply::Response(response));
    }
    Ok(Reply::Sse { response, topic: topic.into(), cursor })
}

/// The opening handshake of `/ws` and `/echo` (RFC 6455 §4.2.1, SPEC §7). Every refusal
/// closes the connection.
pub fn websocket(head: &RequestHead<'_, '_>, ctx: &mut Ctx<'_>, echo: bool) -> Reply {
    match handshake(head, ctx, echo) {
        Ok(reply) => reply,
        Err(refusal) => {
            let mut response = Response::error(refusal.status, &refusal.detail).closing();
            if refusal.status == 426 {
                // RFC 6455 §4.4: name the version we speak.
                response = response.header("Sec-WebSocket-Version", "13");
            }
            if refusal.status == 405 {
                response = response.header("Allow", "GET");
            }
            Reply::Response(response)
        }
    }
}

fn handshake(head: &RequestHead<'_, '_>, ctx: &mut Ctx<'_>, echo: bool) -> Result<Reply, Refusal> {
    let refuse = |status, detail: &str| Refusal { status, detail: detail.to_string() };
    // §4.2.1 item 1: "An HTTP/1.1 or higher GET request".
    if head.method != "GET" {
        return Err(refuse(405, "a WebSocket handshake is a GET request"));
    }
    if head.version != Version::Http11 {
        return Err(refuse(400, "a WebSocket handshake needs HTTP/1.1"));
    }
    // Item 3 and 4: `Upgrade: websocket`, `Connection` including the `Upgrade` token.
    if !head.headers_named("Upgrade").any(|v| has_token(v, "websocket")) {
        return Err(refuse(400, "missing Upgrade: websocket (this is a WebSocket endpoint)"));
    }
    if !head.headers_named("Connection").any(|v| has_token(v, "upgrade")) {
        return Err(refuse(400, "Connection header must contain Upgrade"));
    }
    // Item 6: only version 13 exists; anything else learns which one we speak.
    match head.header("Sec-WebSocket-Version") {
        None => return Err(refuse(400, "missing Sec-WebSocket-Version")),
        Some(v) if v.trim_ascii() != b"13" => return Err(refuse(426, "unsupported WebSocket version")),
        Some(_) => {}
    }
    // Item 5: a nonce that decodes to 16 bytes, sent once.
    let mut keys = head.headers_named("Sec-WebSocket-Key");
    let key = match (keys.next(), keys.next()) {
        (Some(key), None) if key_is_valid(key.trim_ascii()) => key.trim_ascii(),
        _ => return Err(refuse(400, "Sec-WebSocket-Key must be one base64 value of 16 bytes")),
    };
    // §10.2: a browser always sends Origin; refuse pages the server does not trust.
    if head.header("Origin").is_some()
        && !cors::same_origin(head)
        && cors::allowed_origin(head, ctx.config).is_none()
    {
        return Err(refuse(403, "origin not allowed"));
    }
    let endpoint = if echo {
        Endpoint::Echo
    } else {
        let q = head.query();
        let topic = topic(q)?;
        let cursor = ctx.hub.cursor(&topic, number(q, "since")?);
        Endpoint::Topic { topic: topic.into(), cursor }
    };
    let response = Response::switching_protocols()
        .header("Upgrade", "websocket")
        .header("Connection", "Upgrade")
        .header("Sec-WebSocket-Accept", accept_key(key));
    Ok(Reply::WebSocket { response, endpoint })
}
