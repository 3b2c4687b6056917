//! A WebSocket client connection (RFC 6455) from pushlab's own frame code: the opening
//! handshake, checked with `wire::ws::handshake::accept_key`; then frames cut by
//! `FrameHeader::parse`, pings answered with pongs, a close answered with a close.
//!
//! Outgoing frames are masked (§5.3) with a fixed key. A browser must draw a fresh key per
//! frame from a strong source so that script cannot steer the bytes on the wire; a load
//! generator has no script to defend against, and masking each frame anew would only add
//! cost on the load's side. A message that is sent again and again (the echo's) is masked
//! once and its bytes reused.
use pushlab::wire::deflate::{Inflater, TAIL};
use pushlab::wire::ws::frame::{bits, write_masked_frame, FrameHeader, OpCode};
use pushlab::wire::ws::handshake::accept_key;
use pushlab::wire::ws::mask::apply_mask;
use pushlab::wire::Status;

use super::http::parse_head;

/// RFC 6455 §1.3's sample nonce; every connection may use the same one.
pub const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
/// The masking key of every frame the tool sends.
pub const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// The opening handshake for `target` (`/ws?topic=T`, `/echo`).
pub fn handshake_request(out: &mut Vec<u8>, host: &str, target: &str) {
    handshake_offering(out, host, target, "");
}

/// The same, with `Sec-WebSocket-Extensions: {extensions}` unless that is empty.
pub fn handshake_offering(out: &mut Vec<u8>, host: &str, target: &str, extensions: &str) {
    let offer = match extensions {
        "" => String::new(),
        e => format!("Sec-WebSocket-Extensions: {e}\r\n"),
    };
    out.extend_from_slice(
        format!(
            "GET {target} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n{offer}\r\n"
        )
        .as_bytes(),
    );
}

/// A whole masked frame.
pub fn masked(out: &mut Vec<u8>, opcode: OpCode, payload: &[u8]) {
    write_masked_frame(out, true, opcode, payload, MASK);
}

/// What the connection yields.
#[derive(Debug, PartialEq, Eq)]
pub enum Item<'a> {
    /// The `101` arrived with the right `Sec-WebSocket-Accept`.
    Open,
    /// A whole text or binary message.
    Message { opcode: OpCode, payload: &'a [u8] },
    /// The server's close frame (already answered).
    Closed,
}

#[derive(Default)]
pub struct WsStream {
    open: bool,
    /// The fragments of a message in progress (§5.4), and its opcode.
    partial: Vec<u8>,
    partial_opcode: Option<OpCode>,
    /// Unmasking scratch, for a server that masks (it must not, §5.1).
    unmasked: Vec<u8>,
    /// With `--deflate`: an inflater for messages with RSV1 set (RFC 7692), reset before each,
    /// as the server compresses without context; and the message inflated.
    inflater: Option<Box<Inflater>>,
    inflated: Vec<u8>,
}

impl WsStream {
    /// A stream that accepts messages compressed by permessage-deflate.
    pub fn deflating() -> WsStream {
        WsStream { inflater: Some(Box::new(Inflater::new(15))), ..WsStream::default() }
    }

    /// Takes the next bytes; returns how many it used (whole frames only); control replies
    /// (pong, close) are appended to `out`.
    pub fn input(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        mut each: impl FnMut(Item<'_>),
    ) -> Result<usize, String> {
        let mut at = 0;
        if !self.open {
            let Status::Complete(head) = parse_head(input)? else { return Ok(0) };
            if head.status != 101 {
                return Err(format!("the WebSocket handshake was answered {}", head.status));
            }
            if head.accept.as_deref() != Some(accept_key(KEY.as_bytes()).as_str()) {
                return Err("a 101 with the wrong Sec-WebSocket-Accept".into());
            }
            self.open = true;
            at = head.len;
            each(Item::Open);
        }
        loop {
            let rest = &input[at..];
            let (h, len) = match FrameHeader::parse(rest).map_err(|e| format!("from the server: {e}"))? {
                Status::Complete(done) => done,
                Status::Partial => break,
            };
            let Some(end) = usize::try_from(h.payload_len).ok().and_then(|p| p.checked_add(len)) else {
                return Err("a frame longer than memory".into());
            };
            if rest.len() < end {
                break;
            }
            at += end;
            let mut payload = &rest[len..end];
            if let Some(key) = h.mask {
                self.unmasked.clear();
                self.unmasked.extend_from_slice(payload);
                apply_mask(&mut self.unmasked, key, 0);
                payload = &self.unmasked;
            }
            match h.opcode {
                OpCode::Ping => masked(out, OpCode::Pong, payload),
                OpCode::Pong => {}
                OpCode::Close => {
                    masked(out, OpCode::Close, &payload[..payload.len().min(2)]);
                    each(Item::Closed);
                    return Ok(input.len());
                }
                // RFC 7692 §6: RSV1 on a whole message: inflate it, with the tail appended.
                OpCode::Text | OpCode::Binary if h.rsv & bits::RSV1 != 0 && h.fin => {
                    let inflater = self.inflater.as_mut().ok_or("RSV1 without permessage-deflate")?;
                    inflater.reset();
                    self.inflated.clear();
                    let limit = usize::MAX;
                    inflater.inflate(payload, &mut self.inflated, limit).map_err(|e| e.to_string())?;
                    inflater.inflate(&TAIL, &mut self.inflated, limit).map_err(|e| e.to_string())?;
                    each(Item::Message { opcode: h.opcode, payload: &self.inflated });
                }
                OpCode::Text | OpCode::Binary if h.fin && self.partial_opcode.is_none() => {
                    each(Item::Message { opcode: h.opcode, payload });
                }
                OpCode::Text | OpCode::Binary if self.partial_opcode.is_none() => {
                    self.partial_opcode = Some(h.opcode);
                    self.partial.extend_from_slice(payload);
                }
                OpCode::Continuation if self.partial_opcode.is_some() => {
                    self.partial.extend_from_slice(payload);
                    if h.fin {
                        let opcode = self.partial_opcode.take().unwrap_or(OpCode::Text);
                        each(Item::Message { opcode, payload: &self.partial });
                        self.partial.clear();
                    }
                }
                other => return Err(format!("an unexpected {other:?} frame from the server")),
            }
        }
        Ok(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pushlab::wire::ws::frame::{write_compressed_frame, write_frame};

    fn items(s: &mut WsStream, bytes: &[u8], out: &mut Vec<u8>) -> (Vec<String>, usize) {
        let mut got = Vec::new();
        let used = s
            .input(bytes, out, |item| {
                got.push(match item {
                    Item::Open => "open".to_string(),
                    Item::Message { opcode, payload } => {
                        format!("{opcode:?} {}", String::from_utf8_lossy(payload))
                    }
                    Item::Closed => "closed".to_string(),
                })
            })
            .unwrap();
        (got, used)
    }

    #[test]
    fn handshake_then_frames() {
        let mut wire = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
            accept_key(KEY.as_bytes())
        )
        .into_bytes();
        write_frame(&mut wire, true, OpCode::Text, br#"{"id":1}"#);
        write_frame(&mut wire, true, OpCode::Ping, b"hb");
        write_frame(&mut wire, false, OpCode::Text, b"ab");
        write_frame(&mut wire, true, OpCode::Continuation, b"cd");
        write_frame(&mut wire, true, OpCode::Close, &1001u16.to_be_bytes());
        let (mut s, mut out) = (WsStream::default(), Vec::new());
        // Everything but the last byte: the close frame is not whole yet.
        let (got, used) = items(&mut s, &wire[..wire.len() - 1], &mut out);
        assert_eq!(got, vec!["open", r#"Text {"id":1}"#, "Text abcd"]);
        let mut pong = Vec::new();
        masked(&mut pong, OpCode::Pong, b"hb");
        assert_eq!(out, pong);
        let (got, _) = items(&mut s, &wire[used..], &mut out);
        assert_eq!(got, vec!["closed"]);
    }

    #[test]
    fn compressed_messages_are_inflated() {
        let mut wire = format!(
            "HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: {}\r\n\r\n",
            accept_key(KEY.as_bytes())
        )
        .into_bytes();
        // RFC 7692 §7.2.3.1: "Hello", compressed, as one frame with RSV1; then a plain one.
        write_compressed_frame(&mut wire, OpCode::Text, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
        write_frame(&mut wire, true, OpCode::Text, b"plain");
        let (got, _) = items(&mut WsStream::deflating(), &wire, &mut Vec::new());
        assert_eq!(got, vec!["open", "Text Hello", "Text plain"]);
        let refused = WsStream::default().input(&wire, &mut Vec::new(), |_| {});
        assert!(refused.is_err(), "RSV1 without --deflate");
    }

    #[test]
    fn a_wrong_accept_is_refused() {
        let wire = b"HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: nope\r\n\r\n";
        assert!(WsStream::default().input(wire, &mut Vec::new(), |_| {}).is_err());
        let wire = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n";
        assert!(WsStream::default().input(wire, &mut Vec::new(), |_| {}).is_err());
    }
}
