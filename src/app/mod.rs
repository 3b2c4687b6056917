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
use crate::limits::MAX_PUBLISH_BODY;
use crate::service::{Ctx, Reply, Service};
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
pub struct Pushlab;

impl Pushlab {
    pub fn new() -> Pushlab {
        Pushlab
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
            Err(RouteError::NotFound) => return Reply::Response(Response::error(404, "no such resource")),
            Err(RouteError::MethodNotAllowed { allow }) => {
                let response = Response::error(405, "method not allowed here").header("Allow", allow);
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
        result.unwrap_or_else(|e| Reply::Response(e.into_response(head, ctx)))
    }
}

/// A request the SPEC refuses, with the rule it broke.
#[derive(Debug)]
pub struct Refusal {
    pub status: u16,
    pub detail: String,
}

impl Refusal {
    pub fn bad_request(detail: impl Into<String>) -> Refusal {
        Refusal { status: 400, detail: detail.into() }
    }

    fn into_response(self, head: &RequestHead<'_, '_>, ctx: &Ctx<'_>) -> Response {
        cors::apply(Response::error(self.status, &self.detail).closing(), head, ctx.config)
    }
}

impl From<QueryError> for Refusal {
    fn from(e: QueryError) -> Refusal {
        Refusal::bad_request(e.reason())
    }
}

/// The `topic` query parameter, checked against SPEC §2.
fn topic(query_string: &str) -> Result<String, Refusal> {
    match query::get(query_string, "topic")? {
        Some(t) if query::valid_topic(&t) => Ok(t),
        Some(_) => Err(Refusal::bad_request("topic must be 1-64 characters of A-Z a-z 0-9 . _ -")),
        None => Err(Refusal::bad_request("missing topic parameter")),
    }
}

/// An optional whole-number query parameter (`since`, `limit`, `timeout`).
fn number(query_string: &str, name: &str) -> Result<Option<u64>, Refusal> {
    match query::get(query_string, name)? {
        Some(v) => Ok(Some(
            query::parse_u64(&v).map_err(|e| Refusal::bad_request(format!("{name}: {}", e.reason())))?,
        )),
        None => Ok(None),
    }
}
