//! `app` — pushlab's routes: what each URL does (SPEC §3–7, §9).
//!
//! [`Pushlab`] is the [`Service`] the binary serves. Handlers here are small: they read the
//! request, check it against the SPEC, and return a [`Reply`]; the hub keeps the messages and
//! the server does all I/O.
//!
//! | file | routes |
//! |---|---|
//! | `polling.rs` | `POST /publish`, `GET /poll`, `GET /long-poll` (chapters 02–03) |
//! | `streams.rs` | `GET /sse`, `GET /ws`, `GET /echo` (chapters 04–05) |
//! | `pages.rs` | `GET /`, `GET /demos/…`, `GET /stats` |
//! | `cors.rs` | the Origin policy and CORS headers shared by all of them (SPEC §7) |

mod cors;
mod pages;
mod polling;
mod streams;

use crate::http::reader::Request;
use crate::http::response::Response;
use crate::http::router::{route, Route, RouteError};
use crate::http::status;
use crate::limits::MAX_PUBLISH_BODY;
use crate::service::{Ctx, Reply, Service};
use crate::transport::long_poll::HeldPoll;
use crate::transport::websocket::{MessageKind, Verdict};
use crate::wire::query::{self, QueryError};
use crate::wire::request::RequestHead;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Index,
    Stats,
    Demo,
    Publish,
    Poll,
    LongPoll,
    Sse,
    WebSocket,
    Echo,
}

/// The routing table. `HEAD` works wherever `GET` does; `OPTIONS` is the CORS preflight.
const ROUTES: &[Route<Target>] = &[
    Route { path: "/", prefix: false, allow: "GET", target: Target::Index },
    Route { path: "/stats", prefix: false, allow: "GET", target: Target::Stats },
    Route { path: "/demos/", prefix: true, allow: "GET", target: Target::Demo },
    Route { path: "/publish", prefix: false, allow: "POST, OPTIONS", target: Target::Publish },
    Route { path: "/poll", prefix: false, allow: "GET, OPTIONS", target: Target::Poll },
    Route { path: "/long-poll", prefix: false, allow: "GET, OPTIONS", target: Target::LongPoll },
    Route { path: "/sse", prefix: false, allow: "GET, OPTIONS", target: Target::Sse },
    Route { path: "/ws", prefix: false, allow: "GET", target: Target::WebSocket },
    Route { path: "/echo", prefix: false, allow: "GET", target: Target::Echo },
];

/// pushlab's routes.
#[derive(Default)]
pub struct Pushlab {
    answers: polling::Answers,
}

impl Pushlab {
    pub fn new() -> Pushlab {
        Pushlab::default()
    }
}

impl Service for Pushlab {
    fn body_limit(&self, _head: &RequestHead<'_, '_>) -> usize {
        // Only `/publish` takes a body; nothing here needs a larger one.
        MAX_PUBLISH_BODY
    }

    fn call(&mut self, request: &Request<'_>, ctx: &mut Ctx<'_>) -> Reply {
        let head = &request.head;
        let target = match route(ROUTES, head.method, head.path()) {
            Ok(target) => target,
            Err(RouteError::NotFound) => {
                return Reply::Response(Response::error(status::NOT_FOUND, "no such resource"))
            }
            Err(RouteError::MethodNotAllowed { allow }) => {
                let response = Response::error(status::METHOD_NOT_ALLOWED, "method not allowed here")
                    .header("Allow", allow);
                // SPEC §7: a refused WebSocket handshake, 405 included, closes the connection.
                let upgrade = matches!(head.path(), "/ws" | "/echo");
                return Reply::Response(if upgrade { response.closing() } else { response });
            }
        };
        if head.method == "OPTIONS" {
            return Reply::Response(cors::preflight(head, ctx.config));
        }
        let result = match target {
            Target::Index => Ok(Reply::Response(pages::index())),
            Target::Stats => Ok(Reply::Response(pages::stats(ctx))),
            Target::Demo => Ok(Reply::Response(pages::demo(head.path()))),
            Target::Publish => polling::publish(request, ctx),
            Target::Poll => polling::poll(head, ctx),
            Target::LongPoll => polling::long_poll(head, ctx),
            Target::Sse => streams::sse(head, ctx),
            Target::WebSocket | Target::Echo => Ok(streams::websocket(head, ctx, target == Target::Echo)),
        };
        result.unwrap_or_else(|e| Reply::Response(e.response(head, ctx)))
    }

    fn answer(&mut self, held: &HeldPoll, ctx: &mut Ctx<'_>) -> Response {
        self.answers.answer(held, ctx)
    }

    fn on_ws_message(
        &mut self,
        topic: Option<&str>,
        kind: MessageKind,
        payload: &[u8],
        ctx: &mut Ctx<'_>,
    ) -> Verdict {
        streams::ws_message(topic, kind, payload, ctx)
    }
}

/// A request the SPEC refuses, with the rule it broke. Every refusal is `400 Bad Request`
/// and closes the connection (SPEC §8); WebSocket handshakes have their own
/// (`streams::HandshakeRefusal`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// SPEC §2: every transport names its topic.
    MissingTopic,
    /// SPEC §2: a topic is 1–64 of `[A-Za-z0-9._-]`.
    BadTopic,
    /// A whole-number parameter (`since`, `limit`, `timeout`) that is not one.
    BadNumber(&'static str, QueryError),
    /// The query string itself is malformed (RFC 3986 §2.1).
    Query(QueryError),
    /// SPEC §3: a message is 1 byte to 64 KiB.
    EmptyMessage,
    /// SPEC §3: a message is UTF-8 text.
    NotUtf8,
}

impl Refusal {
    fn detail(self) -> String {
        match self {
            Refusal::MissingTopic => "missing topic parameter".into(),
            Refusal::BadTopic => "topic must be 1-64 characters of A-Z a-z 0-9 . _ -".into(),
            Refusal::BadNumber(name, e) => format!("{name}: {}", e.reason()),
            Refusal::Query(e) => e.reason().into(),
            Refusal::EmptyMessage => "empty message".into(),
            Refusal::NotUtf8 => "message is not UTF-8".into(),
        }
    }

    /// The response: `400` naming the rule, with CORS headers so a page can read it.
    fn response(self, head: &RequestHead<'_, '_>, ctx: &Ctx<'_>) -> Response {
        cors::apply(Response::error(status::BAD_REQUEST, &self.detail()).closing(), head, ctx.config)
    }
}

impl From<QueryError> for Refusal {
    fn from(e: QueryError) -> Refusal {
        Refusal::Query(e)
    }
}

/// The `topic` query parameter, checked against SPEC §2.
fn topic(query_string: &str) -> Result<String, Refusal> {
    match query::get(query_string, "topic")? {
        Some(t) if query::valid_topic(&t) => Ok(t),
        Some(_) => Err(Refusal::BadTopic),
        None => Err(Refusal::MissingTopic),
    }
}

/// An optional whole-number query parameter (`since`, `limit`, `timeout`).
fn number(query_string: &str, name: &'static str) -> Result<Option<u64>, Refusal> {
    match query::get(query_string, name)? {
        Some(v) => Ok(Some(query::parse_u64(&v).map_err(|e| Refusal::BadNumber(name, e))?)),
        None => Ok(None),
    }
}
