//! A held long-poll request (SPEC §5, chapter 03).
//!
//! Holding costs exactly this struct, one hub subscription and one timer entry: no thread,
//! no buffer. The request is answered by whichever comes first — a message on its topic
//! (answered in the same loop turn as the publish) or its deadline.

use std::rc::Rc;
use std::time::Instant;

/// What a long-poll needs to remember while it waits.
#[derive(Debug)]
pub struct HeldPoll {
    pub topic: Rc<str>,
    /// The cursor the reply starts after.
    pub cursor: u64,
    /// Most messages in the reply.
    pub limit: usize,
    /// When to give up and answer with no messages.
    pub deadline: Instant,
    /// The CORS origin to echo in the eventual reply, if the request had an allowed one.
    pub cors_origin: Option<String>,
}

use crate::http::response::Response;
use crate::hub::Hub;
use crate::wire::json;

/// The reply of `/poll` and `/long-poll` (SPEC §4):
/// `{"topic":"T","messages":[…],"next":M}` — the retained messages after `cursor`, oldest
/// first, at most `limit`; `next` is the last id included, or `cursor` when none are.
/// Returns the body and how many messages it holds.
pub fn poll_body(hub: &Hub, topic: &str, cursor: u64, limit: usize) -> (Vec<u8>, u64) {
    let mut body = Vec::with_capacity(64);
    body.extend_from_slice(b"{\"topic\":");
    json::write_str(&mut body, topic);
    body.extend_from_slice(b",\"messages\":[");
    let mut next = cursor;
    let mut count = 0;
    for message in hub.after(topic, cursor, limit) {
        if count > 0 {
            body.push(b',');
        }
        body.extend_from_slice(message.json());
        next = message.id;
        count += 1;
    }
    body.extend_from_slice(b"],\"next\":");
    json::write_u64(&mut body, next);
    body.push(b'}');
    (body, count)
}

/// A complete poll response with the headers SPEC §4 and §7 ask for.
pub fn poll_response(body: Vec<u8>, cors_origin: Option<&str>) -> Response {
    let response = Response::ok("application/json", body).header("Cache-Control", "no-store");
    with_cors(response, cors_origin)
}

/// Adds `Access-Control-Allow-Origin` (echoing the allowed origin) and `Vary: Origin`.
pub fn with_cors(response: Response, cors_origin: Option<&str>) -> Response {
    match cors_origin {
        Some(origin) => response.header("Access-Control-Allow-Origin", origin).header("Vary", "Origin"),
        None => response,
    }
}

impl HeldPoll {
    /// The reply now — the messages after the cursor, none if the deadline passed first —
    /// and how many it holds.
    pub fn reply(&self, hub: &Hub) -> (Response, u64) {
        let (body, count) = poll_body(hub, &self.topic, self.cursor, self.limit);
        (poll_response(body, self.cors_origin.as_deref()), count)
    }
}
