//! The WebSocket frame header and connection state machine on arbitrary bytes.
//!
//! - `FrameHeader::parse` never panics; a header it reads emits and parses back to itself,
//!   and to the very same bytes when the input used the minimal length encoding.
//! - `WsProtocol::receive` never panics; fed the input whole or in two pieces (the first
//!   byte picks the cut) it writes the same bytes, delivers the same messages and ends in
//!   the same state; text messages are UTF-8; what it writes are legal server frames
//!   (`server_frames.rs`), whose data frames are the messages, echoed in order.

#[path = "server_frames.rs"]
mod server_frames;

use pushlab::transport::websocket::{MessageKind, ProtocolError, Verdict, WsProtocol, WsState};
use pushlab::wire::ws::frame::{FrameHeader, OpCode};
use pushlab::wire::Status;

pub fn check(data: &[u8]) {
    if let Ok(Status::Complete((header, len))) = FrameHeader::parse(data) {
        let mut emitted = Vec::new();
        header.emit(&mut emitted);
        assert_eq!(FrameHeader::parse(&emitted), Ok(Status::Complete((header, emitted.len()))));
        if emitted.len() == len {
            assert_eq!(emitted, data[..len]);
        }
    }

    let Some((&cut, input)) = data.split_first() else { return };
    let cut = usize::from(cut) * input.len() / usize::from(u8::MAX);
    let whole = run(&[input]);
    let split = run(&[&input[..cut], &input[cut..]]);
    assert_eq!(whole, split);
    for (kind, payload) in &whole.messages {
        if *kind == MessageKind::Text {
            assert!(std::str::from_utf8(payload).is_ok());
        }
    }
    let echoes: Vec<(MessageKind, &[u8])> = server_frames::parse(&whole.out)
        .into_iter()
        .filter_map(|(_, frame)| match frame.opcode {
            OpCode::Text => Some((MessageKind::Text, frame.payload)),
            OpCode::Binary => Some((MessageKind::Binary, frame.payload)),
            _ => None,
        })
        .collect();
    let messages: Vec<(MessageKind, &[u8])> = whole.messages.iter().map(|(k, p)| (*k, &p[..])).collect();
    assert_eq!(echoes, messages, "the echoes are the messages");
}

#[derive(Debug, PartialEq)]
struct Run {
    out: Vec<u8>,
    messages: Vec<(MessageKind, Vec<u8>)>,
    state: WsState,
    failure: Option<ProtocolError>,
}

/// An echo server (64 KiB messages, so the fuzzer can reach 1009) fed `pieces` in turn.
fn run(pieces: &[&[u8]]) -> Run {
    let mut ws = WsProtocol::new(64 * 1024);
    let mut out = Vec::new();
    let mut messages = Vec::new();
    for piece in pieces {
        ws.receive(piece, &mut out, &mut |kind, payload| {
            messages.push((kind, payload.to_vec()));
            Verdict::Echo
        });
    }
    Run { out, messages, state: ws.state(), failure: ws.failure() }
}
