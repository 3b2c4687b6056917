//! Tests of `transport::websocket`, one group per Autobahn|Testsuite category (1–10):
//! `framing.rs` holds 1–6 (framing, pings, reserved bits and opcodes, fragments, UTF-8),
//! `closing.rs` 7–10 (closing, limits, auto-fragmentation) and the verdicts of the
//! application's message handler. This file holds what they share.
//!
//! Each test builds the masked frames an Autobahn case sends (its `sendFrame` calls), feeds
//! them to [`WsProtocol::receive`] — whole, and where it matters in pieces — and checks what
//! the server would send back: the echoed messages, pongs, and the Close frame's code. The
//! callback echoes like `/echo` does.

use super::*;
use crate::wire::ws::frame::{bits, write_masked_frame};

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
const MAX: usize = crate::limits::DEFAULT_MAX_ECHO_MESSAGE;

/// One masked client frame.
fn frame(fin: bool, opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    write_masked_frame(&mut out, fin, opcode, payload, KEY);
    out
}

fn text(payload: &[u8]) -> Vec<u8> {
    frame(true, OpCode::Text, payload)
}

/// A masked frame with a raw first byte (reserved bits, reserved opcodes).
fn raw_frame(byte0: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = text(payload);
    out[0] = byte0;
    out
}

/// A Close frame whose body is a code and a reason.
fn close_frame(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut body = code.to_be_bytes().to_vec();
    body.extend_from_slice(reason);
    frame(true, OpCode::Close, &body)
}

/// A server frame as seen by the client.
#[derive(Debug, PartialEq, Eq)]
enum Sent {
    Text(Vec<u8>),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    /// The close code, `None` for an empty body.
    Close(Option<u16>),
}

/// Splits the server's output into frames, checking that each is a legal server frame.
fn sent(mut out: &[u8]) -> Vec<Sent> {
    let mut frames = Vec::new();
    while !out.is_empty() {
        let Ok(Status::Complete((h, len))) = FrameHeader::parse(out) else {
            panic!("bad server frame {out:02x?}")
        };
        assert!(h.mask.is_none() && h.rsv == 0 && h.fin, "{h:?}");
        let end = len + h.payload_len as usize;
        let payload = out[len..end].to_vec();
        out = &out[end..];
        frames.push(match h.opcode {
            OpCode::Text => Sent::Text(payload),
            OpCode::Binary => Sent::Binary(payload),
            OpCode::Ping => Sent::Ping(payload),
            OpCode::Pong => Sent::Pong(payload),
            OpCode::Close => {
                assert!(payload.len() != 1 && out.is_empty(), "Close must be last");
                Sent::Close(payload.get(..2).map(|c| u16::from_be_bytes([c[0], c[1]])))
            }
            OpCode::Continuation => panic!("the server never fragments"),
        });
    }
    frames
}

/// An echo server's protocol state and everything it wrote.
struct Echo {
    ws: WsProtocol,
    out: Vec<u8>,
}

impl Echo {
    fn new() -> Self {
        Echo { ws: WsProtocol::new(MAX), out: Vec::new() }
    }

    fn with_max(max: usize) -> Self {
        Echo { ws: WsProtocol::new(max), out: Vec::new() }
    }

    fn feed(&mut self, input: &[u8]) -> &mut Self {
        self.ws.receive(input, &mut self.out, &mut |_, _| Verdict::Echo);
        self
    }

    /// Feeds `input` in pieces of `chop` bytes.
    fn feed_chopped(&mut self, input: &[u8], chop: usize) -> &mut Self {
        for piece in input.chunks(chop) {
            self.feed(piece);
        }
        self
    }

    /// The frames written so far (and forgets them).
    fn take(&mut self) -> Vec<Sent> {
        let frames = sent(&self.out);
        self.out.clear();
        frames
    }
}

/// Runs `input` whole, byte by byte, and split at every point; all must agree.
fn echo_all_ways(input: &[u8]) -> (Vec<Sent>, WsState) {
    let mut whole = Echo::new();
    let expected = whole.feed(input).take();
    let mut bytewise = Echo::new();
    assert_eq!(bytewise.feed_chopped(input, 1).take(), expected, "fed byte by byte");
    for cut in 0..=input.len() {
        let mut split = Echo::new();
        split.feed(&input[..cut]).feed(&input[cut..]);
        assert_eq!(split.take(), expected, "split at {cut}");
        assert_eq!(split.ws.state(), whole.ws.state());
    }
    (expected, whole.ws.state())
}

fn concat(frames: &[Vec<u8>]) -> Vec<u8> {
    frames.concat()
}

mod closing;
mod framing;
