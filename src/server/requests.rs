//! Requests and replies: parsing pipelined requests from a connection's input, handing each
//! to the [`Service`], and carrying out its [`Reply`] — a response, a held long-poll, an
//! event stream, a WebSocket.
//!
//! Requests are answered strictly in order: parsing stops while output is backed up, and
//! while a request holds the connection (a long-poll); pipelined bytes wait in the buffer.

use crate::http::reader::Read;
use crate::http::response::{Response, WireContext};
use crate::http::status;
use crate::limits::{MAX_HEADERS, OUTPUT_PAUSE};
use crate::service::{Endpoint, Reply, Service};
use crate::transport::sse::SseStream;
use crate::transport::ws_session::WsSession;
use crate::wire::request::{Header, RequestHead, Version};

use super::conn::{Connection, Mode};
use super::fanout::subscriber;
use super::readiness::{consume, websocket_input};
use super::settle::{enter_lingering, set_mode, Fate};
use super::slab::Key;
use super::{trace, World};

/// Parses and answers requests until the input runs out, the connection changes mode, or
/// output backs up.
pub(super) fn process_http<S: Service>(conn: &mut Connection, key: Key, world: &mut World<S>) -> Fate {
    while matches!(conn.mode, Mode::Http) {
        if conn.out.len() >= OUTPUT_PAUSE {
            conn.paused = true;
            break;
        }
        let mut headers = [Header::EMPTY; MAX_HEADERS];
        let service = &world.service;
        let limit = |head: &RequestHead<'_, '_>| service.body_limit(head);
        let read =
            conn.reader.next(&conn.input[conn.pos..conn.end], &mut conn.body_buf, &mut headers, &limit);
        let request = match read {
            Ok(Read::NeedMore) => break,
            Ok(Read::Continue) => {
                // RFC 9110 §10.1.1: the client waits for this before sending the body.
                write_response(conn, world, &Response::new(status::CONTINUE), Version::Http11, true, false);
                continue;
            }
            Ok(Read::Request(request)) => request,
            Err(e) => {
                log::debug!("{}: {} {e}", conn.peer, e.status());
                let response = Response::error(e.status(), e.reason());
                write_response(conn, world, &response, Version::Http11, false, false);
                enter_lingering(conn, key, world);
                return Fate::Keep;
            }
        };
        if log::log_enabled!(log::Level::Trace) {
            trace::head(conn.peer, &request);
        }
        let head_only = request.head.method == "HEAD";
        let (version, keep_alive, len) = (request.head.version, request.framing.keep_alive, request.len);
        let (service, mut ctx) = world.service_and_ctx();
        let reply = service.call(&request, &mut ctx);
        conn.pos += len;
        conn.body_buf.clear();
        conn.head_started = None;
        conn.version = version;
        conn.keep_alive = keep_alive;
        if apply(conn, key, world, reply, head_only) == Fate::Close {
            return Fate::Close;
        }
    }
    if matches!(conn.mode, Mode::Http) && conn.pos < conn.end && conn.head_started.is_none() {
        conn.head_started = Some(world.clock.now);
    }
    Fate::Keep
}

/// Carries out a handler's [`Reply`].
fn apply<S: Service>(
    conn: &mut Connection,
    key: Key,
    world: &mut World<S>,
    reply: Reply,
    head_only: bool,
) -> Fate {
    match reply {
        Reply::Response(response) => {
            let keep_alive = conn.keep_alive && !response.close;
            write_response(conn, world, &response, conn.version, keep_alive, head_only);
            if !keep_alive {
                enter_lingering(conn, key, world);
            }
            Fate::Keep
        }
        Reply::LongPoll(held) => {
            world.hub.subscribe(&held.topic, subscriber(key));
            set_mode(conn, world, Mode::LongPoll(held));
            Fate::Keep
        }
        Reply::Sse { response, topic, cursor } => {
            let chunked = conn.version == Version::Http11;
            // HTTP/1.0 has no chunked coding: the stream ends when the connection does.
            conn.keep_alive = chunked;
            write_response(conn, world, &response, conn.version, chunked, false);
            let (now, heartbeat) = (world.clock.now, world.config.heartbeat);
            let stream = SseStream::open(topic.clone(), cursor, chunked, now, heartbeat, &mut conn.out);
            world.hub.subscribe(&topic, subscriber(key));
            set_mode(conn, world, Mode::Sse(stream));
            Fate::Keep
        }
        Reply::WebSocket { response, endpoint, max_message, deflate } => {
            write_response(conn, world, &response, Version::Http11, true, false);
            let now = world.clock.now;
            let session = match endpoint {
                Endpoint::Echo => WsSession::echo(max_message, deflate, now),
                Endpoint::Topic { topic, cursor } => {
                    world.hub.subscribe(&topic, subscriber(key));
                    WsSession::topic(topic, cursor, max_message, deflate, now)
                }
            };
            set_mode(conn, world, Mode::WebSocket(Box::new(session)));
            // Frames the client sent right behind its handshake are already in the buffer.
            websocket_input(conn, key, world)
        }
    }
}

/// Answers a held long-poll with the service's reply and returns the connection to plain
/// HTTP, where pipelined requests that arrived while it was held are answered next.
pub(super) fn answer_long_poll<S: Service>(conn: &mut Connection, key: Key, world: &mut World<S>) -> Fate {
    let Mode::LongPoll(held) = &conn.mode else { return Fate::Keep };
    world.hub.unsubscribe(&held.topic, subscriber(key));
    let (service, mut ctx) = world.service_and_ctx();
    let response = service.answer(held, &mut ctx);
    let keep_alive = conn.keep_alive;
    write_response(conn, world, &response, conn.version, keep_alive, false);
    set_mode(conn, world, Mode::Http);
    conn.active_at = world.clock.now;
    if !keep_alive {
        enter_lingering(conn, key, world);
        return Fate::Keep;
    }
    let fate = consume(conn, key, world);
    conn.compact(&mut world.pool);
    fate
}

pub(super) fn write_response<S>(
    conn: &mut Connection,
    world: &World<S>,
    r: &Response,
    version: Version,
    keep_alive: bool,
    head_only: bool,
) {
    let wire = WireContext { version, keep_alive, head_only, date: &world.clock.date };
    r.write(&mut conn.out, wire);
    log::debug!("{}: {} {}", conn.peer, r.status, if keep_alive { "" } else { "(closing)" });
}
