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
    poll_headers(Response::new(200).body(body), cors_origin)
}

fn poll_headers(response: Response, cors_origin: Option<&str>) -> Response {
    let response = response.header("Content-Type", "application/json").header("Cache-Control", "no-store");
    with_cors(response, cors_origin)
}

/// Adds `Access-Control-Allow-Origin` (echoing the allowed origin) and `Vary: Origin`.
pub fn with_cors(response: Response, cors_origin: Option<&str>) -> Response {
    match cors_origin {
        Some(origin) => response.header("Access-Control-Allow-Origin", origin).header("Vary", "Origin"),
        None => response,
    }
}

/// The reply body for waiters released by one publish. Waiters that were up to date hold the
/// same cursor, so they get the same body: it is built once and shared, and the message
/// payload is not copied per waiter.
#[derive(Default)]
pub struct SharedReplies {
    last: Option<(u64, usize, Rc<[u8]>, u64)>,
}

impl SharedReplies {
    /// `held`'s reply and how many messages it holds, reusing the body built for the
    /// previous waiter when cursor and limit match.
    pub fn reply(&mut self, held: &HeldPoll, hub: &Hub) -> (Response, u64) {
        let (body, count) = match &self.last {
            Some((cursor, limit, body, count)) if *cursor == held.cursor && *limit == held.limit => {
                (body.clone(), *count)
            }
            _ => {
                let (body, count) = poll_body(hub, &held.topic, held.cursor, held.limit);
                let body: Rc<[u8]> = body.into();
                self.last = Some((held.cursor, held.limit, body.clone(), count));
                (body, count)
            }
        };
        (poll_headers(Response::new(200).shared_body(body), held.cors_origin.as_deref()), count)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outq::OutQueue;

    fn held(cursor: u64) -> HeldPoll {
        HeldPoll { topic: "t".into(), cursor, limit: 100, deadline: Instant::now(), cors_origin: None }
    }

    #[test]
    fn waiters_at_one_cursor_share_one_body() {
        let mut hub = Hub::new(8);
        hub.publish("t", "a", 1);
        hub.publish("t", "b", 2);
        let mut replies = SharedReplies::default();
        let (first, n1) = replies.reply(&held(1), &hub);
        let (second, n2) = replies.reply(&held(1), &hub);
        let (other, n3) = replies.reply(&held(0), &hub);
        assert_eq!((n1, n2, n3), (1, 1, 2));
        let body = |r: &Response| {
            let mut q = OutQueue::new();
            let date = b"Sun, 06 Nov 1994 08:49:37 GMT";
            let wire = crate::http::response::WireContext {
                version: crate::wire::request::Version::Http11,
                keep_alive: true,
                head_only: false,
                date,
            };
            r.write(&mut q, wire);
            let mut out = Vec::new();
            q.flush_to(&mut out).expect("a Vec takes everything");
            out
        };
        assert_eq!(body(&first), body(&second));
        assert!(String::from_utf8(body(&other)).unwrap().ends_with(r#""messages":[{"id":1,"topic":"t","data":"a","time":1},{"id":2,"topic":"t","data":"b","time":2}],"next":2}"#));
        let Some((_, _, shared, _)) = &replies.last else { panic!("a body is cached") };
        assert_eq!(Rc::strong_count(shared), 2, "the cache and the last response hold the one body");
    }
}
