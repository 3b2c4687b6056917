//! The server loop of the `connection` check: what `src/server/` does with each machine's
//! input and answer — `readiness.rs`' WebSocket input, `settle.rs`' `act` and `settle`,
//! `fanout.rs`' delivery, `deadlines.rs`' timers — each with the invariants it must keep.

use std::time::Instant;

use pushlab::http::reader::{Read, RequestReader};
use pushlab::http::response::{Response, WireContext};
use pushlab::limits::{MAX_HEADERS, REPLAY_BATCH};
use pushlab::outq::OutQueue;
use pushlab::service::{Ctx, Reply, Service};
use pushlab::transport::websocket::{MessageKind, Verdict};
use pushlab::transport::Next;
use pushlab::wire::request::{Header, Version};

use super::wire::{self, Seen};
use super::{Machine, Stream, World, MAX_DEADLINE_OUTPUT};

/// One request through the reader and `Pushlab::call`.
pub(super) fn call(world: &mut World, request: &[u8]) -> Reply {
    let mut body = Vec::new();
    let mut headers = [Header::EMPTY; MAX_HEADERS];
    let Ok(Read::Request(request)) = RequestReader::new().next(request, &mut body, &mut headers, &|_| 0)
    else {
        panic!("our own request did not parse: {:?}", String::from_utf8_lossy(request))
    };
    let now_ms = world.now_ms();
    let World { hub, config, stats, service, now, .. } = world;
    let mut ctx = Ctx { hub, config, stats, now: *now, now_ms };
    service.call(&request, &mut ctx)
}

/// A response as the server writes it on an HTTP/1.1 keep-alive connection.
pub(super) fn response_bytes(response: &Response) -> Vec<u8> {
    let mut out = OutQueue::new();
    let date = b"Tue, 14 Nov 2023 22:13:20 GMT";
    response
        .write(&mut out, WireContext { version: Version::Http11, keep_alive: true, head_only: false, date });
    let mut bytes = Vec::new();
    out.flush_to(&mut bytes).expect("a Vec takes everything");
    bytes
}

/// Bytes from a WebSocket peer; each complete message goes to the application.
pub(super) fn ws_input(world: &mut World, i: usize, bytes: &[u8]) {
    let now_ms = world.now_ms();
    let World { hub, config, stats, service, now, streams, published, .. } = world;
    let stream = &mut streams[i];
    let Stream { machine: Machine::Ws { session, echo }, topic, out, seen, refused, .. } = stream else {
        return; // SSE and long-poll input is not the transport's business
    };
    let topic = *topic;
    let app_topic = (!*echo).then_some(topic);
    let before = out.len();
    let mut ctx = Ctx { hub, config, stats, now: *now, now_ms };
    let next = session.on_input(bytes, *now, out, &mut |kind, payload| {
        assert!(!*refused, "the application was handed a message after refusing one");
        let verdict = service.on_ws_message(app_topic, kind, payload, &mut ctx);
        seen.push(Seen { kind, payload: payload.to_vec() });
        match (app_topic, kind) {
            (None, _) => assert_eq!(verdict, Verdict::Echo, "/echo sends every message back"),
            (Some(topic), MessageKind::Text) => {
                assert_eq!(verdict, Verdict::Accept, "/ws publishes text");
                let text = std::str::from_utf8(payload).expect("text messages are UTF-8");
                // An empty text message publishes nothing (app/streams.rs, `ws_message`).
                if !text.is_empty() {
                    published.record(topic, ctx.hub.last_id(topic), text, now_ms);
                }
            }
            (Some(_), MessageKind::Binary) => {
                assert!(matches!(verdict, Verdict::Close(code, _) if u16::from(code) == 1003));
                *refused = true;
            }
        }
        verdict
    });
    let may_send = session.may_send();
    stream.input += bytes.len();
    stream.answered_input += stream.out.len() - before;
    assert!(
        stream.answered_input <= 2 * stream.input + 127,
        "{} bytes of input made us write {}",
        stream.input,
        stream.answered_input
    );
    match next {
        Next::Stay => {}
        Next::Close => {
            assert!(!may_send, "closing while still sending");
            act(world, i, next);
        }
        other => panic!("on_input answered {other:?}"),
    }
}

/// Carries out what a machine asked for, as `server/settle.rs::act` does.
pub(super) fn act(world: &mut World, i: usize, next: Next) {
    match next {
        Next::Stay => {}
        Next::Answer => {
            let Machine::Poll(held) = &world.streams[i].machine else {
                panic!("only a long-poll is answered")
            };
            let now_ms = world.now_ms();
            let World { hub, config, stats, service, now, .. } = world;
            let mut ctx = Ctx { hub, config, stats, now: *now, now_ms };
            let response = service.answer(held, &mut ctx);
            let (topic, cursor, limit) = (held.topic.clone(), held.cursor, held.limit);
            let floor = world.floor(&topic);
            let last = world.hub.last_id(&topic);
            wire::check_poll_answer(
                &response_bytes(&response),
                &topic,
                cursor,
                limit,
                floor,
                last,
                &world.published,
            );
            end(world, i);
        }
        Next::Close => {
            // `enter_lingering`: nothing more is pushed to a connection that is closing.
            let stream = &mut world.streams[i];
            stream.closing = true;
            world.hub.unsubscribe(stream.topic, stream.sub);
        }
        Next::Drop => {
            // One last write of what is queued, then the socket goes.
            world.streams[i].read_all();
            end(world, i);
        }
    }
}

fn end(world: &mut World, i: usize) {
    let stream = world.streams.remove(i);
    world.hub.unsubscribe(stream.topic, stream.sub);
    world.ended.push(stream);
}

/// `deliver_fresh`: every message published since the last call, to its topic's subscribers.
pub(super) fn deliver(world: &mut World) {
    loop {
        let fresh = world.hub.take_fresh();
        if fresh.is_empty() {
            return;
        }
        for message in fresh {
            let mut subscribers = Vec::new();
            world.hub.subscribers_into(&message.topic, &mut subscribers);
            // The hub's order is a HashSet's: sort, so a run replays the same way.
            subscribers.sort_by_key(|s| s.0);
            for sub in subscribers {
                let Some(i) = world.streams.iter().position(|s| s.sub == sub) else {
                    panic!("a subscriber that is gone: {sub:?}")
                };
                let (now, beat) = (world.now, world.heartbeat());
                let stream = &mut world.streams[i];
                assert_eq!(&*message.topic, stream.topic);
                assert!(!stream.closing, "a closing connection is still subscribed");
                let before = stream.out.len();
                let pushed = match &mut stream.machine {
                    Machine::Poll(held) => {
                        let next = held.on_message(&message);
                        assert_eq!(next == Next::Answer, message.id > held.cursor);
                        Err(next)
                    }
                    Machine::Sse(sse) => Ok(sse.push(&message, now, beat, &mut stream.out)),
                    Machine::Ws { session, .. } => Ok(session.push(&message, &mut stream.out)),
                };
                let added = stream.out.len() - before;
                match pushed {
                    Err(next) => act(world, i, next),
                    Ok(true) => {
                        assert!(0 < added && added <= wire::bound(message.data.len()), "a push of {added}")
                    }
                    Ok(false) => assert_eq!(added, 0, "a push that was refused queued bytes"),
                }
            }
        }
    }
}

/// One replay batch with `budget`; it must stop within one message of the budget.
pub(super) fn replay(world: &mut World, i: usize, budget: usize) {
    let floor = world.floor(world.streams[i].topic);
    let largest = world.published.largest(world.streams[i].topic);
    let stream = &mut world.streams[i];
    let (before, at) = (stream.out.len(), stream.queued());
    stream.floors.push((at, floor));
    let queued = match &mut stream.machine {
        Machine::Ws { session, .. } => session.replay(&world.hub, &mut stream.out, budget),
        Machine::Sse(sse) => sse.replay(&world.hub, &mut stream.out, budget),
        Machine::Poll(_) => return,
    };
    let after = stream.out.len();
    if before >= budget {
        assert_eq!((queued, after), (0, before), "a replay past its budget");
    } else {
        assert!(
            after <= budget.saturating_sub(1).max(before) + wire::bound(largest),
            "{after} bytes for {budget}"
        );
    }
    assert_eq!(queued == 0, after == before);
}

/// `settle`: flush, then feed the replay while the output has room, flushing as it goes.
pub(super) fn settle(world: &mut World, i: usize) {
    world.streams[i].read_all();
    while world.streams[i].is_replaying() && world.streams[i].out.len() < REPLAY_BATCH {
        replay(world, i, REPLAY_BATCH);
        world.streams[i].read_all();
    }
}

pub(super) fn turn(world: &mut World) {
    deliver(world);
    for i in 0..world.streams.len() {
        if !world.streams[i].closing {
            settle(world, i);
        }
    }
}

pub(super) fn deadline(world: &World, i: usize) -> Instant {
    match &world.streams[i].machine {
        Machine::Ws { session, .. } => session.deadline(world.heartbeat()),
        Machine::Sse(stream) => stream.deadline(),
        Machine::Poll(held) => held.deadline,
    }
}

/// A machine's deadline handler, called at `world.now`, due or not.
pub(super) fn on_deadline(world: &mut World, i: usize) {
    let (now, beat) = (world.now, world.heartbeat());
    let due = deadline(world, i) <= now;
    let stream = &mut world.streams[i];
    let before = stream.out.len();
    let next = match &mut stream.machine {
        Machine::Ws { session, .. } => session.on_deadline(now, beat, &mut stream.out),
        Machine::Sse(sse) => sse.on_deadline(now, beat, &mut stream.out),
        Machine::Poll(held) => held.on_deadline(now),
    };
    let added = stream.out.len() - before;
    assert!(added <= MAX_DEADLINE_OUTPUT, "{added} bytes on a deadline");
    if !due {
        assert_eq!((next, added), (Next::Stay, 0), "a deadline handler acted before its deadline");
    } else if next == Next::Stay {
        assert!(added > 0 && deadline(world, i) > now, "a due deadline that does nothing and stays due");
    }
    assert!(matches!(next, Next::Stay | Next::Drop | Next::Answer));
    act(world, i, next);
}
