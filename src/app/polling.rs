//! `POST /publish`, `GET /poll`, `GET /long-poll` (SPEC §3–5, chapters 02–03).

use std::time::Duration;

use super::{cors, number, topic, Refusal};
use crate::http::reader::Request;
use crate::http::response::Response;
use crate::limits::{DEFAULT_POLL_LIMIT, MAX_LONG_POLL_TIMEOUT_S, MAX_POLL_LIMIT, MIN_LONG_POLL_TIMEOUT_S};
use crate::service::{Ctx, Reply};
use crate::stats::Kind;
use crate::transport::long_poll::{poll_body, poll_response, HeldPoll};
use crate::wire::json;
use crate::wire::request::RequestHead;

/// `POST /publish?topic=T`: the body (1 byte to 64 KiB of UTF-8) becomes the topic's next
/// message. Replies `{"id":N,"topic":"T"}`. The 64 KiB limit is enforced before the body is
/// read, by [`crate::app::Pushlab`]'s `body_limit`.
pub fn publish(request: &Request<'_>, ctx: &mut Ctx<'_>) -> Result<Reply, Refusal> {
    let head = &request.head;
    let topic = topic(head.query())?;
    if request.body.is_empty() {
        return Err(Refusal::bad_request("empty message"));
    }
    let text = std::str::from_utf8(request.body).map_err(|_| Refusal::bad_request("message is not UTF-8"))?;
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
        cors_origin: cors_origin.map(str::to_string),
    }))
}
