//! Driving connections: what the loop does for a ready socket, a due timer and a published
//! message. Each path ends in [`settle`], which flushes output, applies the closing rules,
//! keeps `WRITABLE` interest in step with pending output and re-arms the timer.

use std::time::Instant;

use mio::event::Event;
use mio::{Interest, Token};

use crate::http::reader::Read;
use crate::http::response::{Response, WireContext};
use crate::hub::Subscriber;
use crate::limits::{
    MAX_HEAD, MAX_HEADERS, MAX_INPUT, MAX_WS_CHAT_MESSAGE, OUTPUT_PAUSE, READ_BUFFER, READ_PASSES,
    REPLAY_BATCH, SLOW_CONSUMER_BYTES,
};
use crate::stats::Kind;
use crate::transport::long_poll::SharedReplies;
use crate::transport::sse::SseStream;
use crate::transport::websocket::{write_message, MessageKind, WsProtocol, WsState};
use crate::wire::request::{Header, RequestHead, Version};
use crate::wire::ws::close::CloseCode;

use super::conn::{Connection, Mode, ReadOutcome, WsSession, LINGER};
use super::slab::{Key, Slab};
use super::timer::Timers;
use super::World;
use crate::service::{Ctx, Endpoint, Reply, Service};

/// Keep the connection, or drop it.
#[derive(Debug, PartialEq, Eq)]
enum Fate {
    Keep,
    Close,
}

fn subscriber(key: Key) -> Subscriber {
    Subscriber(((key.generation as u64) << 32) | key.index as u64)
}

fn key_of(sub: Subscriber) -> Key {
    Key { index: (sub.0 & 0xffff_ffff) as usize, generation: (sub.0 >> 32) as u32 }
}

/// A readiness event for connection `index`.
pub(super) fn on_event<S: Service>(
    conns: &mut Slab<Connection>,
    world: &mut World<S>,
    index: usize,
    event: &Event,
) {
    // Spurious events, and events for a connection closed earlier in this batch, are normal.
    let Some(key) = conns.key_of(index) else { return };
    let Some(conn) = conns.get_mut(index) else { return };
    if event.is_readable() || event.is_read_closed() || event.is_error() {
        conn.readable = true;
    }
    // A held or streaming client that hangs up is freed at once (SPEC §5), even when its
    // buffer is too full to read the EOF itself.
    let hung_up = event.is_read_closed() || event.is_error();
    let fate = if hung_up && matches!(conn.mode, Mode::LongPoll(_) | Mode::Sse(_)) {
        log::debug!("{}: hung up while held or streaming", conn.peer);
        Fate::Close
    } else {
        drive(conn, key, world)
    };
    finish(conns, world, key, fate);
}

/// Reads what there is, lets the connection's mode consume it, and settles.
fn drive<S: Service>(conn: &mut Connection, key: Key, world: &mut World<S>) -> Fate {
    // Output first: a writable event may have freed room, and output is what unblocks input.
    if flush(conn, world) == Fate::Close {
        return Fate::Close;
    }
    // Read and consume in passes until the socket is drained (edge-triggered readiness will
    // not say again that old bytes are waiting), the connection stops wanting input, or
    // this connection has had its fair share of the turn.
    for _ in 0..READ_PASSES {
        let cap = read_cap(conn);
        if cap == 0 {
            conn.paused = true;
            break;
        }
        let before = conn.end;
        let outcome = match conn.fill(&mut world.pool, cap) {
            Ok(outcome) => outcome,
            Err(e) => {
                log::debug!("{}: read: {e}", conn.peer);
                return Fate::Close;
            }
        };
        if conn.end != before {
            conn.active_at = world.clock.now;
        }
        match conn.mode {
            Mode::Http => process_http(conn, key, world),
            Mode::WebSocket(_) => process_websocket(conn, world),
            Mode::LongPoll(_) | Mode::Sse(_) if outcome == ReadOutcome::Eof => {
                log::debug!("{}: hung up while held or streaming", conn.peer);
                return Fate::Close;
            }
            Mode::LongPoll(_) | Mode::Sse(_) => {}
            Mode::Lingering { .. } => conn.consume_all(),
        }
        conn.compact(&mut world.pool);
        if !conn.readable || conn.read_closed || conn.unread().len() >= read_cap(conn) {
            return settle(conn, key, world);
        }
        // Send what this pass produced before reading more (an echo must not pile up).
        if flush(conn, world) == Fate::Close {
            return Fate::Close;
        }
    }
    // Out of passes with bytes still waiting: come back next turn without waiting for an
    // event that may never come.
    if conn.readable && !conn.read_closed && read_cap(conn) > 0 {
        world.again.push(key);
    }
    settle(conn, key, world)
}

/// How much unread input a connection may hold now; 0 means "do not read".
fn read_cap(conn: &Connection) -> usize {
    let backed_up = conn.out.len() >= OUTPUT_PAUSE;
    match conn.mode {
        // Backpressure: a client that pipelines without reading, or sends WebSocket
        // messages faster than it reads the echoes, is not read until its output drains.
        Mode::Http | Mode::WebSocket(_) if backed_up => 0,
        Mode::Http => MAX_INPUT,
        Mode::WebSocket(_) => 4 * READ_BUFFER,
        // Held and streaming connections read only to notice a hang-up; a few pipelined
        // bytes wait in the buffer for the long-poll to finish.
        Mode::LongPoll(_) | Mode::Sse(_) => MAX_HEAD,
        Mode::Lingering { .. } => READ_BUFFER,
    }
}

/// Drives the connections that ran out of passes last turn.
pub(super) fn drive_again<S: Service>(conns: &mut Slab<Connection>, world: &mut World<S>) {
    for key in std::mem::take(&mut world.again) {
        let Some(conn) = conns.get_key_mut(key) else { continue };
        let fate = drive(conn, key, world);
        finish(conns, world, key, fate);
    }
}

/// Parses and answers requests until the input runs out, the connection changes mode, or
/// output backs up. Pipelined requests are therefore answered strictly in order.
fn process_http<S: Service>(conn: &mut Connection, key: Key, world: &mut World<S>) {
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
                write_response(conn, world, &Response::new(100), Version::Http11, true, false);
                continue;
            }
            Ok(Read::Request(request)) => request,
            Err(e) => {
                log::debug!("{}: {} {}", conn.peer, e.status, e.detail);
                let response = Response::error(e.status, e.detail);
                write_response(conn, world, &response, Version::Http11, false, false);
                enter_lingering(conn, world);
                return;
            }
        };
        if log::log_enabled!(log::Level::Trace) {
            trace_head(conn.peer, &request);
        }
        let head_only = request.head.method == "HEAD";
        let (version, keep_alive, len) = (request.head.version, request.framing.keep_alive, request.len);
        let mut ctx = Ctx {
            hub: &mut world.hub,
            config: &world.config,
            stats: &mut world.stats,
            now: world.clock.now,
            now_ms: world.clock.unix_ms,
        };
        let reply = world.service.call(&request, &mut ctx);
        conn.pos += len;
        conn.body_buf.clear();
        conn.head_started = None;
        conn.version = version;
        conn.keep_alive = keep_alive;
        apply(conn, key, world, reply, head_only);
    }
    if matches!(conn.mode, Mode::Http) && conn.pos < conn.end && conn.head_started.is_none() {
        conn.head_started = Some(world.clock.now);
    }
}

/// Carries out a handler's [`Reply`].
fn apply<S>(conn: &mut Connection, key: Key, world: &mut World<S>, reply: Reply, head_only: bool) {
    match reply {
        Reply::Response(response) => {
            let keep_alive = conn.keep_alive && !response.close;
            write_response(conn, world, &response, conn.version, keep_alive, head_only);
            if !keep_alive {
                enter_lingering(conn, world);
            }
        }
        Reply::LongPoll(held) => {
            world.hub.subscribe(&held.topic, subscriber(key));
            set_mode(conn, world, Mode::LongPoll(held));
        }
        Reply::Sse { response, topic, cursor } => {
            let chunked = conn.version == Version::Http11;
            // HTTP/1.0 has no chunked coding: the stream ends when the connection does.
            conn.keep_alive = chunked;
            write_response(conn, world, &response, conn.version, chunked, false);
            let stream =
                SseStream::new(topic.clone(), cursor, chunked, world.clock.now, world.config.heartbeat);
            let mut preamble = Vec::with_capacity(24);
            stream.preamble(&mut preamble);
            conn.out.push_owned(preamble);
            world.hub.subscribe(&topic, subscriber(key));
            set_mode(conn, world, Mode::Sse(stream));
        }
        Reply::WebSocket { response, endpoint } => {
            write_response(conn, world, &response, Version::Http11, true, false);
            let max_message = match endpoint {
                Endpoint::Echo => world.config.max_message,
                Endpoint::Topic { .. } => MAX_WS_CHAT_MESSAGE,
            };
            if let Endpoint::Topic { topic, .. } = &endpoint {
                world.hub.subscribe(topic, subscriber(key));
            }
            let session = WsSession::new(WsProtocol::new(max_message), endpoint, world.clock.now);
            set_mode(conn, world, Mode::WebSocket(Box::new(session)));
            // Frames the client sent right behind its handshake are already in the buffer.
            process_websocket(conn, world);
        }
    }
}

/// Queues the next part of a stream's replay (SSE or `/ws`): messages after its replay
/// cursor, until `REPLAY_BATCH` bytes are waiting. Replaying as output drains — instead of
/// queueing up to `--replay` messages at once — keeps a reconnecting client's catch-up from
/// counting against the slow-consumer limit, and its memory bounded.
fn feed_replay<S>(conn: &mut Connection, world: &mut World<S>) {
    let Connection { mode, out, .. } = conn;
    let (topic, after, sent_up_to, sse_chunked) = match mode {
        Mode::Sse(s) => (&s.topic, &mut s.replay_after, &mut s.sent_up_to, Some(s.chunked)),
        Mode::WebSocket(ws) => match (&ws.endpoint, &mut ws.replay_after, &mut ws.sent_up_to) {
            (Endpoint::Topic { topic, .. }, after, sent_up_to) => (topic, after, sent_up_to, None),
            (Endpoint::Echo, _, _) => return,
        },
        _ => return,
    };
    let Some(mut cursor) = *after else { return };
    let mut queued = 0;
    let mut caught_up = true;
    for message in world.hub.after(topic, cursor, usize::MAX) {
        if out.len() >= REPLAY_BATCH {
            caught_up = false;
            break;
        }
        out.push_shared(match sse_chunked {
            Some(true) => message.sse_chunk(),
            Some(false) => message.sse_event(),
            None => message.ws_frame(),
        });
        cursor = message.id;
        queued += 1;
    }
    let kind = if sse_chunked.is_some() { Kind::Sse } else { Kind::WebSocket };
    world.stats.delivered(kind, queued);
    *sent_up_to = (*sent_up_to).max(cursor);
    // Every retained message after the cursor is queued: from now on, messages are pushed
    // as they are published.
    *after = if caught_up { None } else { Some(cursor) };
}

fn replaying(conn: &Connection) -> bool {
    match &conn.mode {
        Mode::Sse(stream) => stream.replay_after.is_some(),
        Mode::WebSocket(ws) => ws.replay_after.is_some(),
        _ => false,
    }
}

fn write_response<S>(
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

/// Feeds input to the WebSocket protocol machine and acts on the messages it completes.
fn process_websocket<S>(conn: &mut Connection, world: &mut World<S>) {
    let Mode::WebSocket(session) = &mut conn.mode else { return };
    let input = &conn.input[conn.pos..conn.end];
    if input.is_empty() {
        return;
    }
    session.heard_at = world.clock.now;
    let WsSession { protocol, endpoint, .. } = &mut **session;
    let mut out = Vec::new();
    let mut refused_binary = false;
    let (hub, now_ms) = (&mut world.hub, world.clock.unix_ms);
    protocol.receive(input, &mut out, &mut |kind, payload, out| match (&*endpoint, kind) {
        (Endpoint::Echo, kind) => write_message(out, kind, payload),
        // Once a binary message is refused, nothing after it in this read is published.
        (Endpoint::Topic { .. }, _) if refused_binary => {}
        (Endpoint::Topic { topic, .. }, MessageKind::Text) => {
            // The protocol machine has validated the UTF-8 already.
            if let Ok(text) = std::str::from_utf8(payload) {
                hub.publish(topic, text, now_ms);
            }
        }
        (Endpoint::Topic { .. }, MessageKind::Binary) => refused_binary = true,
    });
    conn.pos = conn.end;
    if refused_binary && protocol.state() == WsState::Open {
        // SPEC §7: binary messages on /ws get close 1003.
        protocol.close(CloseCode::Unsupported, "binary messages are not accepted", &mut out);
    }
    if protocol.state() != WsState::Open {
        session.start_close_timer(world.clock.now);
    }
    conn.out.push_owned(out);
}

/// Writes what the kernel accepts; records bytes and activity.
fn flush<S>(conn: &mut Connection, world: &mut World<S>) -> Fate {
    if conn.out.is_empty() {
        return Fate::Keep;
    }
    match conn.out.flush_to(&mut conn.socket) {
        Ok((_, written)) => {
            if written > 0 {
                world.stats.bytes_written += written as u64;
                conn.active_at = world.clock.now;
            }
            Fate::Keep
        }
        Err(e) => {
            log::debug!("{}: write: {e}", conn.peer);
            Fate::Close
        }
    }
}

/// The end of every path through a connection: flush, apply the closing rules, keep
/// `WRITABLE` interest in step with pending output, re-arm the timer.
fn settle<S>(conn: &mut Connection, key: Key, world: &mut World<S>) -> Fate {
    if flush(conn, world) == Fate::Close {
        return Fate::Close;
    }
    while replaying(conn) && conn.out.len() < REPLAY_BATCH {
        feed_replay(conn, world);
        if flush(conn, world) == Fate::Close {
            return Fate::Close;
        }
    }
    // SPEC §8: a consumer too slow to keep up with what is pushed to it is disconnected;
    // it resumes with its cursor. (Replies to a client's own input — echoes, pipelined
    // responses — are held back by not reading its input instead; see `read_cap`.)
    let pushed_to = matches!(conn.mode, Mode::Sse(_))
        || matches!(&conn.mode, Mode::WebSocket(ws) if matches!(ws.endpoint, Endpoint::Topic { .. }));
    if pushed_to && conn.out.len() > SLOW_CONSUMER_BYTES {
        log::warn!("{}: slow consumer, {} bytes unsent: disconnected", conn.peer, conn.out.len());
        world.stats.slow_consumers_dropped += 1;
        return Fate::Close;
    }
    match &conn.mode {
        Mode::WebSocket(ws) if ws.protocol.is_done() => enter_lingering(conn, world),
        // The client closed its side: finish answering what it sent (unless backpressure
        // paused that: then after the output drains), then close.
        Mode::Http if conn.read_closed && conn.out.len() < OUTPUT_PAUSE => enter_lingering(conn, world),
        _ => {}
    }
    if let Mode::Lingering { .. } = conn.mode {
        if conn.out.is_empty() {
            // RFC 9112 §9.6: half-close first, then read until the client closes too.
            if conn.read_closed {
                return Fate::Close;
            }
            let _ = conn.socket.shutdown(std::net::Shutdown::Write);
        }
    }
    // Output that backed up has drained inside this flush, so no writable event will come
    // to resume the input it paused: resume it next turn.
    if conn.paused && conn.out.len() < OUTPUT_PAUSE {
        conn.paused = false;
        world.again.push(key);
    }
    let want_write = !conn.out.is_empty();
    if want_write != conn.write_interest {
        let interest = if want_write { Interest::READABLE | Interest::WRITABLE } else { Interest::READABLE };
        if let Err(e) = world.registry.reregister(&mut conn.socket, Token(key.index), interest) {
            log::debug!("{}: reregister: {e}", conn.peer);
            return Fate::Close;
        }
        conn.write_interest = want_write;
    }
    rearm(conn, key, &mut world.timers, &world.config);
    Fate::Keep
}

/// Records the connection's next deadline, pushing a heap entry only if it is earlier than
/// the one already armed (see `timer.rs` on lazy cancellation).
pub(super) fn rearm(conn: &mut Connection, key: Key, timers: &mut Timers, config: &crate::config::Config) {
    conn.deadline = conn.next_deadline(config);
    if let Some(when) = conn.deadline {
        if conn.armed.is_none_or(|armed| when < armed) {
            timers.arm(when, key);
            conn.armed = Some(when);
        }
    }
}

fn set_mode<S>(conn: &mut Connection, world: &mut World<S>, mode: Mode) {
    if let Some(kind) = conn.mode.kind() {
        world.stats.leave(kind);
    }
    if let Some(kind) = mode.kind() {
        world.stats.enter(kind);
    }
    conn.mode = mode;
}

fn enter_lingering<S>(conn: &mut Connection, world: &mut World<S>) {
    if !matches!(conn.mode, Mode::Lingering { .. }) {
        set_mode(conn, world, Mode::Lingering { until: world.clock.now + LINGER });
    }
}

/// Removes a connection: unsubscribes it, returns its buffers, closes the socket.
fn finish<S>(conns: &mut Slab<Connection>, world: &mut World<S>, key: Key, fate: Fate) {
    if fate == Fate::Keep {
        return;
    }
    let Some(mut conn) = conns.remove(key.index) else { return };
    if let Some(topic) = conn.mode.topic() {
        world.hub.unsubscribe(topic, subscriber(key));
    }
    if let Some(kind) = conn.mode.kind() {
        world.stats.leave(kind);
    }
    let _ = world.registry.deregister(&mut conn.socket);
    world.pool.give(std::mem::take(&mut conn.input));
    log::debug!("{}: closed", conn.peer);
}

/// Runs every timer that is due.
pub(super) fn fire_timers<S: Service>(conns: &mut Slab<Connection>, world: &mut World<S>) {
    let now = world.clock.now;
    while let Some((when, key)) = world.timers.pop_due(now) {
        let Some(conn) = conns.get_key_mut(key) else { continue };
        if conn.armed == Some(when) {
            conn.armed = None;
        }
        let fate = match conn.deadline {
            Some(deadline) if deadline <= now => on_deadline(conn, key, world, now),
            // The deadline moved later since this entry was pushed: arm the real one.
            _ => {
                rearm(conn, key, &mut world.timers, &world.config);
                Fate::Keep
            }
        };
        finish(conns, world, key, fate);
    }
}

/// A connection's deadline has come: what that means depends on what it is doing.
fn on_deadline<S: Service>(conn: &mut Connection, key: Key, world: &mut World<S>, now: Instant) -> Fate {
    let heartbeat = world.config.heartbeat;
    match &mut conn.mode {
        Mode::Http => {
            if conn.head_started.is_some() && conn.reader.reading_head() && conn.pos < conn.end {
                // SPEC §8: a head not complete 10 s after its first byte.
                log::debug!("{}: request head timed out", conn.peer);
                let response = Response::error(408, "request head not complete in time");
                write_response(conn, world, &response, Version::Http11, false, false);
                enter_lingering(conn, world);
            } else {
                log::debug!("{}: idle, closing", conn.peer);
                return Fate::Close;
            }
        }
        Mode::LongPoll(held) => {
            let (response, _) = held.reply(&world.hub);
            world.hub.unsubscribe(&held.topic, subscriber(key));
            release_long_poll(conn, key, world, response);
        }
        Mode::Sse(stream) => {
            let mut piece = Vec::with_capacity(24);
            stream.heartbeat(&mut piece);
            stream.heartbeat_at = now + heartbeat;
            conn.out.push_owned(piece);
        }
        Mode::WebSocket(ws) => {
            let silent_for = now.duration_since(ws.heard_at);
            if ws.close_deadline.is_some_and(|d| d <= now) || silent_for >= heartbeat * 2 {
                log::debug!("{}: websocket silent for {silent_for:?}, closing", conn.peer);
                return Fate::Close;
            }
            if now >= ws.pinged_at.max(ws.heard_at) + heartbeat {
                let mut out = Vec::with_capacity(8);
                ws.protocol.ping(b"pushlab", &mut out);
                ws.pinged_at = now;
                conn.out.push_owned(out);
            }
        }
        Mode::Lingering { .. } => return Fate::Close,
    }
    settle(conn, key, world)
}

/// Answers a held long-poll and returns the connection to plain HTTP, where pipelined
/// requests that arrived while it was held are answered next.
fn release_long_poll<S: Service>(conn: &mut Connection, key: Key, world: &mut World<S>, response: Response) {
    let keep_alive = conn.keep_alive;
    write_response(conn, world, &response, conn.version, keep_alive, false);
    set_mode(conn, world, Mode::Http);
    conn.active_at = world.clock.now;
    if keep_alive {
        process_http(conn, key, world);
        conn.compact(&mut world.pool);
    } else {
        enter_lingering(conn, world);
    }
}

/// Hands every message published this turn to the connections subscribed to its topic.
/// Shared encodings are queued (no copy); the writes happen in [`flush_dirty`], so several
/// messages for one connection leave in one `writev`.
pub(super) fn deliver_fresh<S: Service>(conns: &mut Slab<Connection>, world: &mut World<S>) {
    loop {
        let fresh = world.hub.take_fresh();
        if fresh.is_empty() {
            return;
        }
        for message in fresh {
            let mut replies = SharedReplies::default();
            let mut subscribers = std::mem::take(&mut world.subscribers);
            world.hub.subscribers_into(&message.topic, &mut subscribers);
            if log::log_enabled!(log::Level::Trace) {
                trace_message(&message, subscribers.len());
            }
            for &sub in &subscribers {
                let key = key_of(sub);
                let Some(conn) = conns.get_key_mut(key) else { continue };
                match &mut conn.mode {
                    Mode::LongPoll(held) if message.id > held.cursor => {
                        let (response, count) = replies.reply(held, &world.hub);
                        world.stats.delivered(Kind::LongPoll, count);
                        world.hub.unsubscribe(&message.topic, sub);
                        release_long_poll(conn, key, world, response);
                    }
                    // Still replaying: the message is in the ring, and the replay (fed by
                    // `settle`) will reach it in order. A message the stream already has — sent by its replay, or published
                    // before the stream began in this same turn — is not sent again.
                    Mode::Sse(stream) if stream.replay_after.is_some() || message.id <= stream.sent_up_to => {
                    }
                    Mode::WebSocket(ws) if ws.replay_after.is_some() || message.id <= ws.sent_up_to => {}
                    Mode::Sse(stream) => {
                        conn.out.push_shared(stream.event(&message));
                        stream.sent_up_to = message.id;
                        stream.heartbeat_at = world.clock.now + world.config.heartbeat;
                        world.stats.delivered(Kind::Sse, 1);
                    }
                    Mode::WebSocket(ws) if ws.protocol.state() == WsState::Open => {
                        conn.out.push_shared(message.ws_frame());
                        ws.sent_up_to = message.id;
                        world.stats.delivered(Kind::WebSocket, 1);
                    }
                    _ => continue,
                }
                world.dirty.push(key);
            }
            world.subscribers = subscribers;
        }
    }
}

/// Flushes every connection that got output from a delivery this turn.
pub(super) fn flush_dirty<S: Service>(conns: &mut Slab<Connection>, world: &mut World<S>) {
    let mut dirty = std::mem::take(&mut world.dirty);
    dirty.sort_unstable();
    dirty.dedup();
    for &key in &dirty {
        let Some(conn) = conns.get_key_mut(key) else { continue };
        let fate = settle(conn, key, world);
        finish(conns, world, key, fate);
    }
    dirty.clear();
    world.dirty = dirty;
}

/// The teaching view of a push (`RUST_LOG=trace`): the SSE event and the WebSocket frame
/// header one message becomes, encoded once for all its subscribers.
fn trace_message(message: &crate::hub::Message, subscribers: usize) {
    let event = message.sse_event();
    log::trace!(
        "publish {}#{} to {subscribers} subscriber(s); SSE event {:?}; ws → Text FIN=1 RSV=000 MASK=0 len={}",
        message.topic,
        message.id,
        String::from_utf8_lossy(&event),
        message.json().len()
    );
}

/// The teaching view of the wire (`RUST_LOG=trace`): every request head, annotated.
fn trace_head(peer: std::net::SocketAddr, request: &crate::http::reader::Request<'_>) {
    let head = &request.head;
    log::trace!(
        "{peer} → {} {} {:?} ({:?}, body {} bytes)",
        head.method,
        head.target,
        head.version,
        request.framing.body,
        request.body.len()
    );
    for h in head.headers {
        log::trace!("{peer}   {}: {}", h.name, String::from_utf8_lossy(h.value));
    }
}
