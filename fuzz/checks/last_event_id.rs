//! `Last-Event-ID` on `GET /sse` (SPEC §6): the header a browser's `EventSource` sends when
//! it reconnects, with the id of the last event it saw.
//!
//! pushlab reads it with `wire::sse::last_event_id` (called by `app/streams.rs`, `fn sse`);
//! a value that is not an id is ignored, and a valid one wins over `?since=`. This check
//! drives both layers:
//!
//! 1. `last_event_id` on the raw value, against a twin written from the rule (an id is
//!    `1*DIGIT` fitting in a u64, ASCII whitespace around it aside), and
//! 2. the whole route: a `GET /sse` request carrying the value goes through the request reader
//!    and `Pushlab::call`, and the stream's cursor must be the hub's cursor for the id the
//!    twin read (or for `since` when it read none).
//!
//! Input: byte 0 — messages published first (0–7); byte 1 — `since` (255: absent); the rest
//! is the header value.

use std::time::Instant;

use pushlab::app::Pushlab;
use pushlab::config::Config;
use pushlab::http::reader::{Read, RequestReader};
use pushlab::hub::Hub;
use pushlab::limits::MAX_HEADERS;
use pushlab::service::{Ctx, Reply, Service};
use pushlab::stats::Stats;
use pushlab::wire::query::{parse_u64, QueryError};
use pushlab::wire::request::Header;
use pushlab::wire::sse::last_event_id;

pub fn check(data: &[u8]) {
    let [published, since, value @ ..] = data else { return };
    let read = inline_rule(value);
    assert_eq!(read, twin(value), "{value:?}");
    if value.contains(&b'\r') || value.contains(&b'\n') {
        // Not one field value: a parse error, or more field lines after it.
        return;
    }

    let mut hub = Hub::new(16);
    for i in 0..published % 8 {
        hub.publish("t", &format!("m{i}"), 0);
    }
    let since = (*since != u8::MAX).then_some(u64::from(*since));
    let mut request = b"GET /sse?topic=t".to_vec();
    if let Some(since) = since {
        request.extend_from_slice(format!("&since={since}").as_bytes());
    }
    request.extend_from_slice(b" HTTP/1.1\r\nHost: pushlab\r\nLast-Event-ID: ");
    request.extend_from_slice(value);
    request.extend_from_slice(b"\r\n\r\n");

    let mut body = Vec::new();
    let mut headers = [Header::EMPTY; MAX_HEADERS];
    let request = match RequestReader::new().next(&request, &mut body, &mut headers, &|_| 0) {
        Ok(Read::Request(request)) => request,
        // A value no field may hold (NUL, DEL, other controls): the request never reaches
        // the route.
        _ => return,
    };
    let Some(parsed) = request.head.header("Last-Event-ID") else { panic!("the field is gone") };
    // RFC 9110 §5.5: the field value the route sees is the bytes sent without the optional
    // whitespace (SP, HTAB) around them.
    let ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = value.iter().position(|b| !ows(b)).unwrap_or(value.len());
    let end = value.iter().rposition(|b| !ows(b)).map_or(start, |i| i + 1);
    assert_eq!(parsed, &value[start..end], "field value");
    let config = Config::default();
    let now = Instant::now();
    let mut stats = Stats::new(now);
    let mut ctx = Ctx { hub: &mut hub, config: &config, stats: &mut stats, now, now_ms: 0 };
    let Reply::Sse { topic, cursor, .. } = Pushlab::new().call(&request, &mut ctx) else {
        panic!("GET /sse?topic=t was not a stream")
    };
    assert_eq!(&*topic, "t");
    assert_eq!(cursor, hub.cursor("t", twin(parsed).or(since)), "Last-Event-ID {value:?}, since {since:?}");
}

/// What the route does with the header value.
fn inline_rule(value: &[u8]) -> Option<u64> {
    last_event_id(value)
}

/// The rule, written from SPEC §2 and §6: the id is the digits between leading and trailing
/// ASCII whitespace; no digits, anything else, or too large a number, and there is no id.
fn twin(value: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(value).ok()?;
    let digits = text.trim_matches(|c: char| c.is_ascii_whitespace());
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let id = digits.parse::<u64>().ok();
    assert_eq!(parse_u64(digits), id.ok_or(QueryError::NumberTooLarge), "{digits:?}");
    id
}
