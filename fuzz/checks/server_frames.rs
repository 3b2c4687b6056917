//! What a WebSocket server may write (RFC 6455 §5): shared by the `ws_frame` and
//! `connection` checks.

use pushlab::wire::ws::frame::{FrameHeader, OpCode};
use pushlab::wire::Status;

/// One frame the server wrote.
pub struct ServerFrame<'a> {
    pub opcode: OpCode,
    pub payload: &'a [u8],
}

/// Splits everything a server wrote into frames, each with where it starts, asserting each is legal: a whole header and
/// payload, unmasked (§5.1), FIN set and RSV clear (we fragment nothing and negotiate no
/// extension), a control payload of at most 125 bytes (§5.5); at most one Close, nothing
/// after it (§5.5.1), and a Close body that is empty or a code allowed on the wire (§7.4; the peer's
/// own 3000–4999 codes come back in our answer).
pub fn parse(all: &[u8]) -> Vec<(usize, ServerFrame<'_>)> {
    let mut frames = Vec::new();
    let mut out = all;
    while !out.is_empty() {
        let at = all.len() - out.len();
        let Ok(Status::Complete((header, len))) = FrameHeader::parse(out) else {
            panic!("server wrote a bad header: {:02x?}", &out[..out.len().min(14)])
        };
        assert!(header.fin && header.rsv == 0 && header.mask.is_none(), "{header:?}");
        let end = len + usize::try_from(header.payload_len).unwrap();
        assert!(end <= out.len(), "server wrote a truncated frame");
        let payload = &out[len..end];
        if header.opcode != OpCode::Text && header.opcode != OpCode::Binary {
            assert!(payload.len() <= 125, "control frame of {} bytes", payload.len());
        }
        out = &out[end..];
        if header.opcode == OpCode::Close {
            assert!(out.is_empty(), "a frame after Close");
            assert_ne!(payload.len(), 1, "a Close body of one byte");
            if let [hi, lo, reason @ ..] = payload {
                let code = u16::from_be_bytes([*hi, *lo]);
                assert!(matches!(code, 1000..=1003 | 1007..=1011 | 3000..=4999), "close code {code}");
                assert!(std::str::from_utf8(reason).is_ok(), "close reason not UTF-8");
            }
        }
        frames.push((at, ServerFrame { opcode: header.opcode, payload }));
    }
    frames
}
