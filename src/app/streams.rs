//! `GET /sse`, `GET /ws`, `GET /echo` (SPEC §6–7, chapters 04–05): the requests that turn a
//! connection into a stream.

use super::{cors, number, topic, Refusal};
use crate::http::response::Response;
use crate::http::status;
use crate::limits::MAX_WS_CHAT_MESSAGE;
use crate::service::{Ctx, Endpoint, Reply};
use crate::transport::websocket::{MessageKind, Verdict};
use crate::wire::extensions::{accept_deflate, DeflateConfig};
use crate::wire::framing::has_token;
use crate::wire::request::{RequestHead, Version};
use crate::wire::sse;
use crate::wire::ws::close::CloseCode;
use crate::wire::ws::handshake::{accept_key, key_is_valid};

/// `GET /sse?topic=T[&since=N]`. `Last-Event-ID` — which the browser's `EventSource` sends
/// by itself when it reconnects — wins over `since`. A `Last-Event-ID` that is not one of
/// our ids (not plain digits) is ignored rather than refused: the browser would only send
/// it again on every reconnect.
pub fn sse(head: &RequestHead<'_, '_>, ctx: &mut Ctx<'_>) -> Result<Reply, Refusal> {
    let q = head.query();
    let topic = topic(q)?;
    let since = number(q, "since")?;
    let last_event_id = head.header("Last-Event-ID").and_then(sse::last_event_id);
    let cursor = ctx.hub.cursor(&topic, last_event_id.or(since));
    let response = Response::new(status::OK)
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

/// Why a WebSocket handshake is refused (RFC 6455 §4.2.1, SPEC §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandshakeRefusal {
    /// §4.2.1 item 1: "An HTTP/1.1 or higher GET request".
    NotGet,
    /// Item 1 again: HTTP/1.0 cannot upgrade.
    NotHttp11,
    /// Item 3: `Upgrade: websocket`.
    NoUpgrade,
    /// Item 4: a `Connection` field including the `Upgrade` token.
    NoConnectionUpgrade,
    /// Item 6: `Sec-WebSocket-Version` is required.
    NoVersion,
    /// §4.4: a version other than 13.
    UnsupportedVersion,
    /// Item 5: one `Sec-WebSocket-Key` that decodes to 16 bytes.
    BadKey,
    /// §10.2: a page from an origin the server does not trust.
    ForeignOrigin,
    /// The query (`/ws`'s topic or cursor) breaks SPEC §2.
    Query(Refusal),
}

impl HandshakeRefusal {
    /// The one response for each refusal; every one closes the connection.
    pub fn response(self) -> Response {
        let (code, detail) = match self {
            HandshakeRefusal::NotGet => {
                (status::METHOD_NOT_ALLOWED, "a WebSocket handshake is a GET request".into())
            }
            HandshakeRefusal::NotHttp11 => {
                (status::BAD_REQUEST, "a WebSocket handshake needs HTTP/1.1".into())
            }
            HandshakeRefusal::NoUpgrade => {
                (status::BAD_REQUEST, "missing Upgrade: websocket (this is a WebSocket endpoint)".into())
            }
            HandshakeRefusal::NoConnectionUpgrade => {
                (status::BAD_REQUEST, "Connection header must contain Upgrade".into())
            }
            HandshakeRefusal::NoVersion => (status::BAD_REQUEST, "missing Sec-WebSocket-Version".into()),
            HandshakeRefusal::UnsupportedVersion => {
                (status::UPGRADE_REQUIRED, "unsupported WebSocket version".into())
            }
            HandshakeRefusal::BadKey => {
                (status::BAD_REQUEST, "Sec-WebSocket-Key must be one base64 value of 16 bytes".into())
            }
            HandshakeRefusal::ForeignOrigin => (status::FORBIDDEN, "origin not allowed".into()),
            HandshakeRefusal::Query(refusal) => (status::BAD_REQUEST, refusal.detail()),
        };
        let response = Response::error(code, &detail).closing();
        match self {
            HandshakeRefusal::NotGet => response.header("Allow", "GET"),
            // RFC 6455 §4.4: name the version we speak.
            HandshakeRefusal::UnsupportedVersion => response.header("Sec-WebSocket-Version", "13"),
            _ => response,
        }
    }
}

impl From<Refusal> for HandshakeRefusal {
    fn from(refusal: Refusal) -> HandshakeRefusal {
        HandshakeRefusal::Query(refusal)
    }
}

/// The opening handshake of `/ws` and `/echo` (RFC 6455 §4.2.1, SPEC §7). Every refusal
/// closes the connection.
pub fn websocket(head: &RequestHead<'_, '_>, ctx: &mut Ctx<'_>, echo: bool) -> Reply {
    match handshake(head, ctx, echo) {
        Ok(reply) => reply,
        Err(refusal) => Reply::Response(refusal.response()),
    }
}

fn handshake(head: &RequestHead<'_, '_>, ctx: &mut Ctx<'_>, echo: bool) -> Result<Reply, HandshakeRefusal> {
    if head.method != "GET" {
        return Err(HandshakeRefusal::NotGet);
    }
    if head.version != Version::Http11 {
        return Err(HandshakeRefusal::NotHttp11);
    }
    if !head.headers_named("Upgrade").any(|v| has_token(v, "websocket")) {
        return Err(HandshakeRefusal::NoUpgrade);
    }
    if !head.headers_named("Connection").any(|v| has_token(v, "upgrade")) {
        return Err(HandshakeRefusal::NoConnectionUpgrade);
    }
    // Only version 13 exists; anything else learns which one we speak.
    match head.header("Sec-WebSocket-Version") {
        None => return Err(HandshakeRefusal::NoVersion),
        Some(v) if v.trim_ascii() != b"13" => return Err(HandshakeRefusal::UnsupportedVersion),
        Some(_) => {}
    }
    // A nonce that decodes to 16 bytes, sent once.
    let mut keys = head.headers_named("Sec-WebSocket-Key");
    let key = match (keys.next(), keys.next()) {
        (Some(key), None) if key_is_valid(key.trim_ascii()) => key.trim_ascii(),
        _ => return Err(HandshakeRefusal::BadKey),
    };
    // A browser always sends Origin; refuse pages the server does not trust.
    if head.header("Origin").is_some()
        && !cors::same_origin(head)
        && cors::allowed_origin(head, ctx.config).is_none()
    {
        return Err(HandshakeRefusal::ForeignOrigin);
    }
    let endpoint = if echo {
        Endpoint::Echo
    } else {
        let q = head.query();
        let topic = topic(q)?;
        let cursor = ctx.hub.cursor(&topic, number(q, "since")?);
        Endpoint::Topic { topic: topic.into(), cursor }
    };
    let max_message = if echo { ctx.config.max_message } else { MAX_WS_CHAT_MESSAGE };
    let mut response = Response::switching_protocols()
        .header("Upgrade", "websocket")
        .header("Connection", "Upgrade")
        .header("Sec-WebSocket-Accept", accept_key(key));
    // RFC 7692 §5: the first permessage-deflate offer we can honour, answered with the
    // parameters in force; none (or --no-deflate): the connection runs uncompressed.
    let deflate = if ctx.config.deflate {
        accept_deflate(head.headers_named("Sec-WebSocket-Extensions"), &DeflateConfig::default())
    } else {
        None
    };
    if let Some(params) = &deflate {
        response = response.header("Sec-WebSocket-Extensions", params.response());
    }
    Ok(Reply::WebSocket { response, endpoint, max_message, deflate })
}

/// A message received on `/echo` or `/ws` (SPEC §7): `/echo` sends every message back
/// unchanged; on `/ws` a text message is published on the topic (the protocol has checked
/// its UTF-8 and its size, at most [`MAX_WS_CHAT_MESSAGE`], already) and a binary one is
/// refused with close code 1003. An empty text message publishes nothing: a message is 1 byte
/// or more (SPEC §3, where `POST /publish` refuses an empty body), and a WebSocket client
/// that sends one — a keep-alive of its own, say — is not worth closing over.
pub fn ws_message(topic: Option<&str>, kind: MessageKind, payload: &[u8], ctx: &mut Ctx<'_>) -> Verdict {
    let Some(topic) = topic else { return Verdict::Echo };
    match (kind, std::str::from_utf8(payload)) {
        (MessageKind::Text, Ok("")) => Verdict::Accept,
        (MessageKind::Text, Ok(text)) => {
            ctx.hub.publish(topic, text, ctx.now_ms);
            Verdict::Accept
        }
        // RFC 6455 §7.4.1, 1003: "received a type of data it cannot accept".
        _ => Verdict::Close(CloseCode::Unsupported, "binary messages are not accepted"),
    }
}
