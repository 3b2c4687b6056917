//! The WebSocket frame header (RFC 6455 §5.2), both directions.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//! |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//! |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//! | |1|2|3|       |K|             |                               |
//! +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//! |     Extended payload length continued, if payload len == 127  |
//! + - - - - - - - - - - - - - - - +-------------------------------+
//! |                               |Masking-key, if MASK set to 1  |
//! +-------------------------------+-------------------------------+
//! | Masking-key (continued)       |          Payload Data         |
//! +-------------------------------- - - - - - - - - - - - - - - - +
//! ```
//!
//! [`FrameHeader::parse`] reads a header from the front of a buffer and consumes nothing
//! until all of it (2 to 14 bytes) is there; [`FrameHeader::emit`] writes one. The payload is
//! not this file's business: the connection state machine
//! (`crate::transport::websocket`) streams it, so a 16 MiB frame never has to sit in one
//! contiguous input buffer. This file checks only the rules a header breaks on its own;
//! rules that depend on the connection (masking, extensions, fragmentation order) live there.

use crate::wire::Status;

/// Named bits of the first two header bytes, so the logic never shows a bare `0x80`.
pub mod bits {
    /// Byte 0: this is the final fragment of a message.
    pub const FIN: u8 = 0b1000_0000;
    /// Byte 0: reserved bit 1 (per-message-deflate's "compressed" flag when negotiated).
    pub const RSV1: u8 = 0b0100_0000;
    /// Byte 0: reserved bit 2.
    pub const RSV2: u8 = 0b0010_0000;
    /// Byte 0: reserved bit 3.
    pub const RSV3: u8 = 0b0001_0000;
    /// Byte 0: all three reserved bits.
    pub const RSV: u8 = RSV1 | RSV2 | RSV3;
    /// Byte 0: the 4-bit opcode.
    pub const OPCODE: u8 = 0b0000_1111;
    /// Byte 1: the payload is masked and a 4-byte masking key follows the length.
    pub const MASK: u8 = 0b1000_0000;
    /// Byte 1: the 7-bit payload length (or one of the two markers below).
    pub const PAYLOAD_LEN: u8 = 0b0111_1111;
    /// 7-bit length value meaning "a 16-bit length follows".
    pub const LEN_16: u8 = 126;
    /// 7-bit length value meaning "a 64-bit length follows".
    pub const LEN_64: u8 = 127;
    /// Largest length the 7-bit field holds directly.
    pub const MAX_LEN_7: u64 = 125;
    /// Largest length the 16-bit field holds.
    pub const MAX_LEN_16: u64 = 0xFFFF;
    /// RFC 6455 §5.2: "the most significant bit MUST be 0" in the 64-bit length.
    pub const LEN_64_MSB: u64 = 1 << 63;
}

/// The longest header: 2 fixed bytes, an 8-byte length and a 4-byte masking key.
pub const MAX_HEADER_LEN: usize = 14;

/// RFC 6455 §5.2 "Opcode" (and §11.8's registry). Values 3–7 and 0xB–0xF are reserved and
/// have no variant: [`OpCode::try_from`] turns them into [`FrameError::ReservedOpcode`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpCode {
    /// `%x0` a continuation frame.
    Continuation,
    /// `%x1` a text frame.
    Text,
    /// `%x2` a binary frame.
    Binary,
    /// `%x8` a connection close.
    Close,
    /// `%x9` a ping.
    Ping,
    /// `%xA` a pong.
    Pong,
}

impl OpCode {
    /// RFC 6455 §5.5: "Control frames are identified by opcodes where the most significant
    /// bit of the opcode is 1" — close, ping and pong.
    pub fn is_control(self) -> bool {
        matches!(self, OpCode::Close | OpCode::Ping | OpCode::Pong)
    }
}

impl TryFrom<u8> for OpCode {
    type Error = FrameError;

    /// `value` is the 4-bit opcode field (the caller masks byte 0 with [`bits::OPCODE`]).
    fn try_from(value: u8) -> Result<Self, FrameError> {
        match value {
            0x0 => Ok(OpCode::Continuation),
            0x1 => Ok(OpCode::Text),
            0x2 => Ok(OpCode::Binary),
            0x8 => Ok(OpCode::Close),
            0x9 => Ok(OpCode::Ping),
            0xA => Ok(OpCode::Pong),
            other => Err(FrameError::ReservedOpcode(other)),
        }
    }
}

impl From<OpCode> for u8 {
    fn from(op: OpCode) -> u8 {
        match op {
            OpCode::Continuation => 0x0,
            OpCode::Text => 0x1,
            OpCode::Binary => 0x2,
            OpCode::Close => 0x8,
            OpCode::Ping => 0x9,
            OpCode::Pong => 0xA,
        }
    }
}

/// A header that breaks a rule of RFC 6455 on its own. Every one of them means close code
/// 1002 (protocol error); the mapping lives in `crate::transport::websocket`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// §5.2: "If an unknown opcode is received, the receiving endpoint MUST _Fail the
    /// WebSocket Connection_." Carries the 4-bit value.
    ReservedOpcode(u8),
    /// §5.5: "All control frames … MUST NOT be fragmented" (FIN clear on close/ping/pong).
    ControlFragmented,
    /// §5.5: "All control frames MUST have a payload length of 125 bytes or less".
    ControlTooLong,
    /// §5.2: in the 64-bit length "the most significant bit MUST be 0".
    LengthMsbSet,
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::ReservedOpcode(op) => write!(f, "reserved opcode {op:#x}"),
            FrameError::ControlFragmented => f.write_str("fragmented control frame"),
            FrameError::ControlTooLong => f.write_str("control frame payload over 125 bytes"),
            FrameError::LengthMsbSet => f.write_str("64-bit payload length with its MSB set"),
        }
    }
}

impl std::error::Error for FrameError {}

/// One frame header, checked against the rules it can break on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// FIN: this frame ends its message (always set on control frames).
    pub fin: bool,
    /// The reserved bits exactly as they sit in byte 0 (`byte0 & bits::RSV`): test them
    /// with [`bits::RSV1`] etc. Non-zero only when an extension defines them (§5.2).
    pub rsv: u8,
    /// What the frame carries.
    pub opcode: OpCode,
    /// The masking key, present on every client-to-server frame (§5.3).
    pub mask: Option<[u8; 4]>,
    /// Payload bytes that follow the header.
    pub payload_len: u64,
}

impl FrameHeader {
    /// Parses a header from the front of `buf`.
    ///
    /// Returns `Complete((header, header_len))`, or `Partial` — consuming nothing — when
    /// `buf` ends inside the header. Errors are reported as soon as the byte that breaks
    /// the rule is present, even before the header is complete. Never panics.
    ///
    /// Judgement call: §5.2 says "the minimal number of bytes MUST be used to encode the
    /// length". That binds the sender; this parser accepts a non-minimal length (e.g. 5 in
    /// the 16-bit form), as tungstenite does, since the length is still unambiguous.
    /// [`FrameHeader::emit`] always writes the minimal form.
    pub fn parse(buf: &[u8]) -> Result<Status<(FrameHeader, usize)>, FrameError> {
        let Some(&b0) = buf.first() else {
            return Ok(Status::Partial);
        };
        let opcode = OpCode::try_from(b0 & bits::OPCODE)?;
        let fin = b0 & bits::FIN != 0;
        let Some(&b1) = buf.get(1) else {
            return Ok(Status::Partial);
        };
        let len7 = b1 & bits::PAYLOAD_LEN;
        if opcode.is_control() {
            if !fin {
                return Err(FrameError::ControlFragmented);
            }
            // A 126/127 marker already announces more than 125 bytes.
            if u64::from(len7) > bits::MAX_LEN_7 {
                return Err(FrameError::ControlTooLong);
            }
        }
        let mut pos = 2;
        let payload_len = match len7 {
            bits::LEN_16 => {
                let Some(ext) = buf.get(pos..pos + 2) else {
                    return Ok(Status::Partial);
                };
                pos += 2;
                u64::from(u16::from_be_bytes([ext[0], ext[1]]))
            }
            bits::LEN_64 => {
                // The MSB is in the first extended byte: fail on it before the rest arrives.
                if let Some(&first) = buf.get(pos) {
                    if (u64::from(first) << 56) & bits::LEN_64_MSB != 0 {
                        return Err(FrameError::LengthMsbSet);
                    }
                }
                let Some(ext) = buf.get(pos..pos + 8) else {
                    return Ok(Status::Partial);
                };
                pos += 8;
                let mut be = [0u8; 8];
                be.copy_from_slice(ext);
                u64::from_be_bytes(be)
            }
            short => u64::from(short),
        };
        let mask = if b1 & bits::MASK != 0 {
            let Some(key) = buf.get(pos..pos + 4) else {
                return Ok(Status::Partial);
            };
            pos += 4;
            Some([key[0], key[1], key[2], key[3]])
        } else {
            None
        };
        let header = FrameHeader { fin, rsv: b0 & bits::RSV, opcode, mask, payload_len };
        Ok(Status::Complete((header, pos)))
    }

    /// Number of bytes [`FrameHeader::emit`] writes for this header.
    pub fn encoded_len(&self) -> usize {
        let ext = if self.payload_len <= bits::MAX_LEN_7 {
            0
        } else if self.payload_len <= bits::MAX_LEN_16 {
            2
        } else {
            8
        };
        2 + ext + if self.mask.is_some() { 4 } else { 0 }
    }

    /// Appends this header to `out`, using the minimal length encoding (§5.2).
    ///
    /// `rsv` is written as given (masked to the three RSV bits); a `payload_len` with its
    /// MSB set is written as is too — emitting is the caller's responsibility, and this
    /// crate's callers pass lengths of real buffers, which never reach 2^63.
    pub fn emit(&self, out: &mut Vec<u8>) {
        let mut b0 = u8::from(self.opcode) | (self.rsv & bits::RSV);
        if self.fin {
            b0 |= bits::FIN;
        }
        let mask_bit = if self.mask.is_some() { bits::MASK } else { 0 };
        out.push(b0);
        if self.payload_len <= bits::MAX_LEN_7 {
            // Fits in 7 bits: the cast cannot truncate.
            out.push(mask_bit | self.payload_len as u8);
        } else if let Ok(len16) = u16::try_from(self.payload_len) {
            out.push(mask_bit | bits::LEN_16);
            out.extend_from_slice(&len16.to_be_bytes());
        } else {
            out.push(mask_bit | bits::LEN_64);
            out.extend_from_slice(&self.payload_len.to_be_bytes());
        }
        if let Some(key) = self.mask {
            out.extend_from_slice(&key);
        }
    }
}

/// Appends one unmasked frame — what a server sends (§5.1: "A server MUST NOT mask any
/// frames that it sends to the client").
pub fn write_frame(out: &mut Vec<u8>, fin: bool, opcode: OpCode, payload: &[u8]) {
    let header = FrameHeader { fin, rsv: 0, opcode, mask: None, payload_len: payload.len() as u64 };
    out.reserve(header.encoded_len() + payload.len());
    header.emit(out);
    out.extend_from_slice(payload);
}

/// Appends one final frame with RSV1 set: a message compressed by permessage-deflate
/// (RFC 7692 §6: the "Per-Message Compressed" bit, on the first frame of a message only).
pub fn write_compressed_frame(out: &mut Vec<u8>, opcode: OpCode, payload: &[u8]) {
    let header =
        FrameHeader { fin: true, rsv: bits::RSV1, opcode, mask: None, payload_len: payload.len() as u64 };
    out.reserve(header.encoded_len() + payload.len());
    header.emit(out);
    out.extend_from_slice(payload);
}

/// Appends one frame masked with `key` — what a client sends (§5.3). Used by tests and
/// the terminal client example; a real client draws `key` fresh from a strong RNG per frame.
pub fn write_masked_frame(out: &mut Vec<u8>, fin: bool, opcode: OpCode, payload: &[u8], key: [u8; 4]) {
    let header = FrameHeader { fin, rsv: 0, opcode, mask: Some(key), payload_len: payload.len() as u64 };
    out.reserve(header.encoded_len() + payload.len());
    header.emit(out);
    let start = out.len();
    out.extend_from_slice(payload);
    super::mask::apply_mask(&mut out[start..], key, 0);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(buf: &[u8]) -> (FrameHeader, usize) {
        match FrameHeader::parse(buf) {
            Ok(Status::Complete(done)) => done,
            other => panic!("expected a complete header, got {other:?}"),
        }
    }

    #[test]
    fn test_parse_rfc_examples() {
        // RFC 6455 §5.7: "A single-frame unmasked text message" containing "Hello".
        let (h, n) = parse_ok(&[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
        assert_eq!(n, 2);
        assert_eq!(h, FrameHeader { fin: true, rsv: 0, opcode: OpCode::Text, mask: None, payload_len: 5 });
        // §5.7: "A single-frame masked text message".
        let (h, n) = parse_ok(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
        assert_eq!(n, 6);
        assert_eq!(h.mask, Some([0x37, 0xfa, 0x21, 0x3d]));
        // §5.7: "A fragmented unmasked text message" — first fragment, then last.
        let (h, _) = parse_ok(&[0x01, 0x03, 0x48, 0x65, 0x6c]);
        assert!(!h.fin);
        let (h, _) = parse_ok(&[0x80, 0x02, 0x6c, 0x6f]);
        assert_eq!((h.fin, h.opcode), (true, OpCode::Continuation));
        // §5.7: unmasked ping "Hello".
        let (h, _) = parse_ok(&[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
        assert_eq!(h.opcode, OpCode::Ping);
        // §5.7: "256 bytes binary message in a single unmasked frame".
        let (h, n) = parse_ok(&[0x82, 0x7E, 0x01, 0x00]);
        assert_eq!((h.payload_len, n), (256, 4));
        // §5.7: "64KiB binary message in a single unmasked frame".
        let (h, n) = parse_ok(&[0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00]);
        assert_eq!((h.payload_len, n), (65536, 10));
    }

    #[test]
    fn test_emit_rfc_examples() {
        let mut out = Vec::new();
        write_frame(&mut out, true, OpCode::Text, b"Hello");
        assert_eq!(out, [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
        out.clear();
        write_masked_frame(&mut out, true, OpCode::Text, b"Hello", [0x37, 0xfa, 0x21, 0x3d]);
        assert_eq!(out, [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
        out.clear();
        write_frame(&mut out, true, OpCode::Binary, &[0; 256]);
        assert_eq!(out[..4], [0x82, 0x7E, 0x01, 0x00]);
        out.clear();
        write_frame(&mut out, true, OpCode::Binary, &[0; 65536]);
        assert_eq!(out[..10], [0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00]);
    }

    #[test]
    fn test_round_trip_length_boundaries() {
        for len in [0, 1, 125, 126, 127, 128, 0xFFFF, 0x1_0000, u64::from(u32::MAX) + 1, (1 << 63) - 1] {
            for mask in [None, Some([1, 2, 3, 4])] {
                for (fin, opcode) in
                    [(true, OpCode::Binary), (false, OpCode::Text), (false, OpCode::Continuation)]
                {
                    let h = FrameHeader { fin, rsv: bits::RSV2, opcode, mask, payload_len: len };
                    let mut out = Vec::new();
                    h.emit(&mut out);
                    assert_eq!(out.len(), h.encoded_len());
                    assert_eq!(parse_ok(&out), (h, out.len()));
                }
            }
        }
    }

    #[test]
    fn test_partial_consumes_nothing() {
        // httparse's `partial_permutations`: every strict prefix of a header is Partial.
        let mut out = Vec::new();
        FrameHeader { fin: true, rsv: 0, opcode: OpCode::Binary, mask: Some([9; 4]), payload_len: 1 << 40 }
            .emit(&mut out);
        assert_eq!(out.len(), MAX_HEADER_LEN);
        for end in 0..out.len() {
            assert_eq!(FrameHeader::parse(&out[..end]), Ok(Status::Partial), "prefix {end}");
        }
    }

    #[test]
    fn test_reserved_opcodes_are_errors() {
        for op in (3..=7).chain(0xB..=0xF) {
            assert_eq!(OpCode::try_from(op), Err(FrameError::ReservedOpcode(op)));
            // Reported from the first byte alone.
            assert_eq!(FrameHeader::parse(&[bits::FIN | op]), Err(FrameError::ReservedOpcode(op)));
        }
        for op in [0u8, 1, 2, 8, 9, 0xA] {
            assert_eq!(u8::from(OpCode::try_from(op).unwrap()), op);
        }
    }

    #[test]
    fn test_control_frame_rules() {
        // Ping without FIN.
        assert_eq!(FrameHeader::parse(&[0x09, 0x00]), Err(FrameError::ControlFragmented));
        // Close of 126 bytes: rejected from the marker, before the extended length.
        assert_eq!(FrameHeader::parse(&[0x88, bits::LEN_16]), Err(FrameError::ControlTooLong));
        assert_eq!(FrameHeader::parse(&[0x8A, bits::LEN_64]), Err(FrameError::ControlTooLong));
        let (h, _) = parse_ok(&[0x89, 125]);
        assert_eq!(h.payload_len, 125);
    }

    #[test]
    fn test_length_msb() {
        assert_eq!(FrameHeader::parse(&[0x82, bits::LEN_64, 0x80]), Err(FrameError::LengthMsbSet));
        let (h, _) = parse_ok(&[0x82, bits::LEN_64, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
        assert_eq!(h.payload_len, (1 << 63) - 1);
    }

    #[test]
    fn test_non_minimal_length_is_accepted() {
        // 5 in the 16-bit form and in the 64-bit form: accepted (see `parse`'s docs).
        let (h, n) = parse_ok(&[0x82, bits::LEN_16, 0, 5]);
        assert_eq!((h.payload_len, n), (5, 4));
        let (h, n) = parse_ok(&[0x82, bits::LEN_64, 0, 0, 0, 0, 0, 0, 0, 5]);
        assert_eq!((h.payload_len, n), (5, 10));
    }

    #[test]
    fn test_rsv_bits_kept_in_place() {
        let (h, _) = parse_ok(&[bits::FIN | bits::RSV1 | bits::RSV3 | 0x1, 0]);
        assert_eq!(h.rsv, bits::RSV1 | bits::RSV3);
    }
}
