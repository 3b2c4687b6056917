//! `POST /publish`, `GET /poll`, `GET /long-poll` (SPEC §3–5, chapters 02–03).

use std::time::Duration;

use std::rc::Rc;

use super::{cors, number, topic, Refusal};
use crate::http::reader::Request;
use crate::http::response::Response;
use crate::http::status;
use crate::hub::Hub;
use crate::limits::{DEFAULT_POLL_LIMIT, MAX_LONG_POLL_TIMEOUT_S, MAX_POLL_LIMIT, MIN_LONG_POLL_TIMEOUT_S};
use crate::service::{Ctx, Reply};
use crate::stats::Kind;
use crate::transport::long_poll::HeldPoll;
use crate::wire::json;
use crate::wire::request::RequestHead;

/// `POST /publish?topic=T`: the body (1 byte to 64 KiB of UTF-8) becomes the topic's next
/// message. Replies `{"id":N,"topic":"T"}`. The 64 KiB limit is enforced before the body is
/// read, by [`crate::app::Pushlab`]'s `body_limit`.
pub fn publish(request: &Request<'_>, ctx: &mut Ctx<'_>) -> Result<Reply, Refusal> {
    let head = &request.head;
    let topic = topic(head.query())?;
    if request.body.is_empty() {
        return Err(Refusal::EmptyMessage);
    }
    let text = std::str::from_utf8(request.body).map_err(|_| Refusal::NotUtf8)?;
    let message = ctx.hub.publish(&topic, text, ctx.now_ms);
    let mut body = Vec::with_capacity(topic.len() + 24);
    json::Object::new(&mut body).u64("id", message.id).str("topic", &topic).finish();
    let response = Response::ok("application/json", body).header("Cache-Control", "no-store");
    Ok(Reply::Response(cors::apply(response, head, ctx.config)))
}

/// The query of `/poll` and `/long-poll`, checked.
struct PollQuery {
    topic: String,
    cursor: u64,
    limit: usize,
}

fn poll_query(head: &RequestHead<'_, '_>, ctx: &Ctx<'_>) -> Result<PollQuery, Refusal> {
    let q = head.query();
    let topic = topic(q)?;
    let since = number(q, "since")?;
    let limit = number(q, "limit")?.unwrap_or(DEFAULT_POLL_LIMIT).clamp(1, MAX_POLL_LIMIT) as usize;
    let cursor = ctx.hub.cursor(&topic, since);
    Ok(PollQuery { topic, cursor, limit })
}

/// `GET /poll?topic=T[&since=N][&limit=L]`: answers at once (SPEC §4).
pub fn poll(head: &RequestHead<'_, '_>, ctx: &mut Ctx<'_>) -> Result<Reply, Refusal> {
    let q = poll_query(head, ctx)?;
    let (body, count) = poll_body(ctx.hub, &q.topic, q.cursor, q.limit);
    if head.method != "HEAD" {
        ctx.stats.delivered(Kind::Http, count);
    }
    Ok(Reply::Response(poll_response(body, cors::allowed_origin(head, ctx.config))))
}

/// `GET /long-poll?topic=T[&since=N][&timeout=S][&limit=L]`: answers at once if there is
/// news after the cursor, else holds the request (SPEC §5). `HEAD` never holds.
pub fn long_poll(head: &RequestHead<'_, '_>, ctx: &mut Ctx<'_>) -> Result<Reply, Refusal> {
    let q = poll_query(head, ctx)?;
    let timeout = match number(head.query(), "timeout")? {
        Some(secs) => Duration::from_secs(secs.clamp(MIN_LONG_POLL_TIMEOUT_S, MAX_LONG_POLL_TIMEOUT_S)),
        None => ctx.config.long_poll_timeout,
    };
    let cors_origin = cors::allowed_origin(head, ctx.config);
    let (body, count) = poll_body(ctx.hub, &q.topic, q.cursor, q.limit);
    if count > 0 || head.method == "HEAD" {
        if head.method != "HEAD" {
            ctx.stats.delivered(Kind::LongPoll, count);
        }
        return Ok(Reply::Response(poll_response(body, cors_origin)));
    }
    Ok(Reply::LongPoll(HeldPoll {
        topic: q.topic.into(),
        cursor: q.cursor,
        limit: q.limit,
        deadline: ctx.now + timeout,
        cors_origin: cors_origin.map(Box::from),
    }))
}

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
fn poll_response(body: Vec<u8>, cors_origin: Option<&str>) -> Response {
    poll_headers(Response::new(status::OK).body(body), cors_origin)
}

fn poll_headers(response: Response, cors_origin: Option<&str>) -> Response {
    let response = response.header("Content-Type", "application/json").header("Cache-Control", "no-store");
    cors::with_origin(response, cors_origin)
}

/// The answers of held long-polls. Waiters released by one publish that were up to date hold
/// the same cursor, so they get the same body: it is built once and shared, and the message
/// payload is not copied per waiter.
#[derive(Default)]
pub struct Answers {
    last: Option<Answer>,
}

/// The last body built, and what it depends on.
struct Answer {
    topic: Rc<str>,
    cursor: u64,
    limit: usize,
    /// The topic's last id when it was built: a later publish makes it stale.
    last_id: u64,
    body: Rc<[u8]>,
    count: u64,
}

impl Answers {
    /// `held`'s reply — the messages after its cursor, none if its deadline came first.
    pub fn answer(&mut self, held: &HeldPoll, ctx: &mut Ctx<'_>) -> Response {
        let last_id = ctx.hub.last_id(&held.topic);
        let fresh = |a: &Answer| {
            a.topic == held.topic && a.cursor == held.cursor && a.limit == held.limit && a.last_id == last_id
        };
        let (body, count) = match &self.last {
            Some(answer) if fresh(answer) => (answer.body.clone(), answer.count),
            _ => {
                let (body, count) = poll_body(ctx.hub, &held.topic, held.cursor, held.limit);
                let body: Rc<[u8]> = body.into();
                let (topic, cursor, limit) = (held.topic.clone(), held.cursor, held.limit);
                self.last = Some(Answer { topic, cursor, limit, last_id, body: body.clone(), count });
                (body, count)
            }
        };
        ctx.stats.delivered(Kind::LongPoll, count);
        poll_headers(Response::new(status::OK).shared_body(body), held.cors_origin.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::http::response::WireContext;
    use crate::outq::OutQueue;
    use crate::stats::Stats;
    use crate::wire::request::Version;
    use std::time::Instant;

    fn held(cursor: u64) -> HeldPoll {
        HeldPoll { topic: "t".into(), cursor, limit: 100, deadline: Instant::now(), cors_origin: None }
    }

    fn body(r: &Response) -> String {
        let mut q = OutQueue::new();
        let date = b"Sun, 06 Nov 1994 08:49:37 GMT";
        r.write(&mut q, WireContext { version: Version::Http11, keep_alive: true, head_only: false, date });
        let mut out = Vec::new();
        q.flush_to(&mut out).expect("a Vec takes everything");
        let text = String::from_utf8(out).expect("JSON is text");
        text[text.find("\r\n\r\n").expect("a head") + 4..].to_string()
    }

    #[test]
    fn waiters_at_one_cursor_share_one_body_until_the_next_publish() {
        let (config, now) = (Config::default(), Instant::now());
        let (mut hub, mut stats) = (Hub::new(8), Stats::new(now));
        hub.publish("t", "a", 1);
        hub.publish("t", "b", 2);
        let mut answers = Answers::default();
        let mut ctx = Ctx { hub: &mut hub, config: &config, stats: &mut stats, now, now_ms: 0 };
        let first = answers.answer(&held(1), &mut ctx);
        let shared = answers.last.as_ref().map(|a| a.body.clone()).expect("a body is kept");
        let second = answers.answer(&held(1), &mut ctx);
        assert_eq!(Rc::strong_count(&shared), 4, "kept, the two responses and this handle: one body");
        assert_eq!(body(&first), body(&second));
        assert_eq!(
            body(&first),
            r#"{"topic":"t","messages":[{"id":2,"topic":"t","data":"b","time":2}],"next":2}"#
        );
        let other = answers.answer(&held(0), &mut ctx);
        assert!(body(&other).ends_with(r#"{"id":2,"topic":"t","data":"b","time":2}],"next":2}"#));
        ctx.hub.publish("t", "c", 3);
        let after = answers.answer(&held(1), &mut ctx);
        assert!(body(&after).ends_with(r#""next":3}"#), "a publish makes the kept body stale");
        assert_eq!(stats.delivered_total(Kind::LongPoll), 1 + 1 + 2 + 2);
    }
}
