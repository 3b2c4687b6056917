//! Tests of `transport::ws_session`: the seams between the protocol, the replay and live
//! pushes, over byte arrays. Each names the rule it holds.

use super::*;
use crate::transport::websocket::{MessageKind, Verdict};
use crate::wire::ws::close::CloseCode;
use crate::wire::ws::frame::{write_masked_frame, FrameHeader};
use crate::wire::Status;

const KEY: [u8; 4] = [1, 2, 3, 4];
const BEAT: Duration = Duration::from_secs(15);

fn masked(opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    write_masked_frame(&mut out, true, opcode, payload, KEY);
    out
}

/// The opcodes (and close codes) of everything queued, in order.
fn frames(out: &mut OutQueue) -> Vec<(OpCode, Option<u16>)> {
    let mut bytes = Vec::new();
    out.flush_to(&mut bytes).expect("a Vec takes everything");
    let mut rest = &bytes[..];
    let mut got = Vec::new();
    while !rest.is_empty() {
        let Ok(Status::Complete((h, len))) = FrameHeader::parse(rest) else {
            panic!("bad frame {rest:02x?}")
        };
        let payload = &rest[len..len + h.payload_len as usize];
        let code = (h.opcode == OpCode::Close && payload.len() >= 2)
            .then(|| u16::from_be_bytes([payload[0], payload[1]]));
        got.push((h.opcode, code));
        rest = &rest[len + h.payload_len as usize..];
    }
    got
}

/// pushlab's `/ws` policy, as `app/streams.rs` states it: text accepted, binary refused.
fn chat(kind: MessageKind, _: &[u8]) -> Verdict {
    match kind {
        MessageKind::Text => Verdict::Accept,
        MessageKind::Binary => Verdict::Close(CloseCode::Unsupported, "binary"),
    }
}

fn hub_with(n: usize) -> Hub {
    let mut hub = Hub::new(1024);
    for i in 0..n {
        hub.publish("t", &format!("message {i}"), 0);
    }
    hub
}

#[test]
fn rfc6455_5_5_1_close_glued_to_the_handshake_stops_the_replay() {
    let now = Instant::now();
    let mut hub = hub_with(5);
    let mut ws = WsSession::topic("t".into(), 0, 1 << 16, None, now);
    let mut out = OutQueue::new();
    let next = ws.on_input(&masked(OpCode::Close, &1000u16.to_be_bytes()), now, &mut out, &mut chat);
    assert_eq!(next, Next::Close);
    assert!(!ws.may_send());
    assert!(!ws.is_replaying(), "nothing is left to replay once our Close is queued");
    assert_eq!(ws.replay(&hub, &mut out, usize::MAX), 0);
    let live = hub.publish("t", "late", 0);
    assert!(!ws.push(&live, &mut out));
    assert_eq!(frames(&mut out), [(OpCode::Close, Some(1000))]);
}

#[test]
fn rfc6455_5_5_1_close_arriving_mid_replay_ends_it_after_what_was_queued() {
    let now = Instant::now();
    let hub = hub_with(10);
    let mut ws = WsSession::topic("t".into(), 0, 1 << 16, None, now);
    let mut out = OutQueue::new();
    // A budget one byte above what is queued: one message per batch.
    assert_eq!(ws.replay(&hub, &mut out, 1), 1);
    let queued = out.len();
    assert_eq!(ws.replay(&hub, &mut out, queued + 1), 1);
    assert!(ws.is_replaying());
    ws.on_input(&masked(OpCode::Close, &1001u16.to_be_bytes()), now, &mut out, &mut chat);
    assert_eq!(ws.replay(&hub, &mut out, usize::MAX), 0);
    assert_eq!(frames(&mut out), [(OpCode::Text, None), (OpCode::Text, None), (OpCode::Close, Some(1001))]);
}

#[test]
fn spec_7_binary_then_more_bytes_in_one_read_is_1003() {
    let now = Instant::now();
    let mut ws = WsSession::topic("t".into(), 0, 1 << 16, None, now);
    let mut out = OutQueue::new();
    let mut input = masked(OpCode::Binary, b"\x00\x01");
    input.extend(masked(OpCode::Text, b"after"));
    input.extend(masked(OpCode::Ping, b"p"));
    let mut seen = Vec::new();
    let next = ws.on_input(&input, now, &mut out, &mut |kind, payload| {
        seen.push(payload.to_vec());
        chat(kind, payload)
    });
    assert_eq!(next, Next::Stay, "waiting for the peer's Close");
    assert_eq!(seen, [b"\x00\x01".to_vec()], "nothing after the refused message reaches the application");
    assert_eq!(frames(&mut out), [(OpCode::Close, Some(1003))], "no pong after our Close either");
}

#[test]
fn spec_8_end_of_input_drops_at_once() {
    let now = Instant::now();
    let mut ws = WsSession::echo(1 << 16, None, now);
    assert_eq!(ws.on_eof(), Next::Drop);
    let mut ws = WsSession::topic("t".into(), 0, 1 << 16, None, now);
    assert_eq!(ws.on_eof(), Next::Drop);
}

#[test]
fn spec_7_ping_after_a_silent_heartbeat_drop_after_two() {
    let now = Instant::now();
    let mut ws = WsSession::echo(1 << 16, None, now);
    let mut out = OutQueue::new();
    assert_eq!(ws.deadline(BEAT), now + BEAT);
    assert_eq!(ws.on_deadline(now + BEAT, BEAT, &mut out), Next::Stay);
    assert_eq!(frames(&mut out), [(OpCode::Ping, None)]);
    assert_eq!(ws.deadline(BEAT), now + 2 * BEAT, "the next ping and the silence limit coincide");
    assert_eq!(ws.on_deadline(now + 2 * BEAT, BEAT, &mut out), Next::Drop);
}

#[test]
fn rfc6455_7_1_1_no_ping_after_our_close_and_the_close_times_out() {
    let now = Instant::now();
    let mut ws = WsSession::echo(1 << 16, None, now);
    let mut out = OutQueue::new();
    ws.on_input(&masked(OpCode::Binary, b"x"), now, &mut out, &mut |_, _| {
        Verdict::Close(CloseCode::Unsupported, "")
    });
    assert_eq!(frames(&mut out), [(OpCode::Close, Some(1003))]);
    assert_eq!(ws.deadline(BEAT), now + WS_CLOSE_TIMEOUT);
    assert_eq!(ws.on_deadline(now + WS_CLOSE_TIMEOUT, BEAT, &mut out), Next::Drop);
    assert!(out.is_empty(), "no ping after our Close");
}

#[test]
fn echo_sends_messages_back_and_pushes_nothing() {
    let now = Instant::now();
    let mut hub = hub_with(0);
    let mut ws = WsSession::echo(1 << 16, None, now);
    let mut out = OutQueue::new();
    ws.on_input(&masked(OpCode::Text, b"hi"), now, &mut out, &mut |_, _| Verdict::Echo);
    let m = hub.publish("t", "x", 0);
    assert!(!ws.push(&m, &mut out));
    assert!(!ws.is_replaying());
    assert_eq!(frames(&mut out), [(OpCode::Text, None)]);
}
