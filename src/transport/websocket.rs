//! One WebSocket connection after the handshake: RFC 6455 §5–7 as a state machine.
//!
//! Heads up! Before working on this file you should read, at least, RFC 6455 §5 (data
//! framing), §7 (closing the connection) and §8.1 (UTF-8 handling); the comments cite them.
//!
//! The interface is smoltcp's: no sockets, no `mio`, no clocks. Bytes read from the peer go
//! in through [`WsProtocol::receive`]; everything this side must send — pongs, close
//! frames, echoes — is appended to a caller's `Vec<u8>`. Each complete data message is
//! handed to the caller's handler, whose [`Verdict`] takes effect *at that message*: a
//! handler that refuses one (1003 for binary on `/ws`) closes the connection there, and
//! whatever the same read holds after it is read as the closing handshake says (§5.5.1:
//! data after our Close is dropped). Timeouts (the close timeout, the heartbeat) belong to
//! [`super::ws_session`], which asks [`WsProtocol::is_done`] when to drop the socket.
//!
//! Input is consumed incrementally: a partial header waits in a 14-byte array, and payload
//! bytes are unmasked and appended to the message as they arrive, so a 16 MiB frame needs
//! no 16 MiB read buffer, and a text message is UTF-8-checked byte by byte as it comes in
//! ("fail fast", §8.1 and Autobahn 6.4.x).
//!
//! The states follow tungstenite's `WebSocketState`:
//!
//! ```text
//!            close() / we send Close                 peer's Close arrives
//!   Open ─────────────────────────────▶ ClosedByUs ─────────────────────────▶ Closed
//!    │  peer's Close arrives, we answer it                                      ▲
//!    ├──────────────────────────────────▶ ClosedByPeer                          │
//!    └─ a rule is broken: we send Close with the code of the rule ─────────────┘
//! ```
//!
//! A clean close is a state, not an error: [`WsProtocol::failure`] is `Some` only when the
//! peer broke a rule.

use crate::limits::{MAX_CONTROL_PAYLOAD, READ_BUFFER};
use crate::wire::deflate::InflateError;
use crate::wire::extensions::DeflateParams;
use crate::wire::utf8::Utf8Validator;
use crate::wire::ws::close::{parse_close_payload, write_close_payload, CloseCode, CloseError};
use crate::wire::ws::frame::{bits, write_frame, FrameError, FrameHeader, OpCode, MAX_HEADER_LEN};
use crate::wire::ws::mask::apply_mask;
use crate::wire::Status;

use super::permessage::PerMessage;

/// What a data message holds (§5.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageKind {
    /// UTF-8 text, already validated when delivered.
    Text,
    /// Arbitrary bytes.
    Binary,
}

impl MessageKind {
    /// The opcode of a message's first frame.
    pub fn opcode(self) -> OpCode {
        match self {
            MessageKind::Text => OpCode::Text,
            MessageKind::Binary => OpCode::Binary,
        }
    }
}

/// What the application decides about one complete message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Taken (published, say); nothing to send back.
    Accept,
    /// Send it back unchanged (`/echo`).
    Echo,
    /// Refuse it: start the closing handshake with this code and reason now (§7.1.2).
    Close(CloseCode, &'static str),
}

/// The callback [`WsProtocol::receive`] hands each complete message to: its kind and its
/// payload; it answers with a [`Verdict`].
pub type MessageHandler<'a> = dyn FnMut(MessageKind, &[u8]) -> Verdict + 'a;

/// Where the closing handshake (§7) stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WsState {
    /// Messages flow both ways.
    Open,
    /// We sent a Close frame and wait for the peer's; its data frames are read and dropped
    /// (§5.5.1: "the endpoint MAY delay sending a Close frame until its current message is
    /// sent"), and pings are not answered, since nothing may follow our Close.
    ClosedByUs,
    /// The peer sent a Close frame and we answered it: nothing more is read or written.
    ClosedByPeer,
    /// The handshake we began is complete, or the connection failed (see
    /// [`WsProtocol::failure`]): nothing more is read or written.
    Closed,
}

/// A rule the peer broke. Each fails the connection (§7.1.7) with the close code given by
/// [`ProtocolError::close_code`] — the one place rules map to codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtocolError {
    /// The header breaks a rule on its own (reserved opcode, bad control frame, length).
    Frame(FrameError),
    /// §5.1: "a server MUST close the connection upon receiving a frame that is not masked".
    Unmasked,
    /// §5.2 RSV1–3: "MUST be 0 unless an extension is negotiated that defines meanings for
    /// non-zero values". permessage-deflate gives RSV1 a meaning, on the first frame of a
    /// data message only (RFC 7692 §6.1); RSV2 and RSV3 have none.
    ReservedBits,
    /// RFC 7692 §8.2.2: a compressed message that does not inflate.
    Inflate(InflateError),
    /// §5.4: a continuation frame with no fragmented message to continue.
    UnexpectedContinuation,
    /// §5.4: a new text or binary frame while a fragmented message is still open
    /// ("fragments of one message MUST NOT be interleaved between fragments of another").
    UnfinishedMessage,
    /// §8.1: a text message that is not valid UTF-8.
    InvalidUtf8,
    /// §7.4.1 (1009): the message would exceed `max_message`.
    TooBig,
    /// §5.5.1: the Close frame's body is malformed.
    Close(CloseError),
}

impl ProtocolError {
    /// The status code our Close frame carries for this error (§7.4.1).
    pub fn close_code(self) -> CloseCode {
        match self {
            ProtocolError::InvalidUtf8 | ProtocolError::Close(CloseError::ReasonNotUtf8) => {
                CloseCode::InvalidPayload
            }
            ProtocolError::TooBig | ProtocolError::Inflate(InflateError::TooBig) => CloseCode::TooBig,
            // RFC 6455 §7.4.1, 1007: "data within a message that was not consistent with the
            // type of the message" — the compressed data is not DEFLATE.
            ProtocolError::Inflate(_) => CloseCode::InvalidPayload,
            ProtocolError::Frame(_)
            | ProtocolError::Unmasked
            | ProtocolError::ReservedBits
            | ProtocolError::UnexpectedContinuation
            | ProtocolError::UnfinishedMessage
            | ProtocolError::Close(_) => CloseCode::ProtocolError,
        }
    }
}

/// Where the payload of the frame being read goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sink {
    /// Appended to the data message being assembled.
    Message,
    /// Into the control-frame buffer (at most 125 bytes).
    Control,
    /// Dropped: data that arrives after we sent Close.
    Discard,
}

/// The frame whose payload is being read.
#[derive(Clone, Copy, Debug)]
struct Frame {
    opcode: OpCode,
    fin: bool,
    key: [u8; 4],
    /// Payload bytes read so far; the mask key is applied from this position (§5.3).
    read: u64,
    /// Payload bytes still to come.
    remaining: u64,
    sink: Sink,
}

/// The protocol state of one WebSocket connection (server side).
#[derive(Debug)]
pub struct WsProtocol {
    state: WsState,
    max_message: usize,
    /// The start of a header split across reads.
    header: [u8; MAX_HEADER_LEN],
    header_len: usize,
    frame: Option<Frame>,
    /// The kind of the data message being assembled (`Some` between its first and last
    /// frame).
    message: Option<MessageKind>,
    /// Its unmasked payload so far (compressed, if `compressed`).
    buf: Vec<u8>,
    /// RFC 7692 §6: the message's first frame had RSV1 set: `buf` inflates to the message.
    compressed: bool,
    /// permessage-deflate, when negotiated; the message inflated into `plain`.
    deflate: Option<Box<PerMessage>>,
    plain: Vec<u8>,
    /// The UTF-8 check of a text message, fed as bytes arrive.
    utf8: Utf8Validator,
    /// The unmasked payload of the control frame being read.
    control: [u8; MAX_CONTROL_PAYLOAD],
    control_len: usize,
    failure: Option<ProtocolError>,
}

impl WsProtocol {
    /// A connection in state `Open` accepting messages of up to `max_message` bytes (the
    /// whole message, all fragments together).
    pub fn new(max_message: usize) -> Self {
        WsProtocol {
            state: WsState::Open,
            max_message,
            header: [0; MAX_HEADER_LEN],
            header_len: 0,
            frame: None,
            message: None,
            buf: Vec::new(),
            compressed: false,
            deflate: None,
            plain: Vec::new(),
            utf8: Utf8Validator::new(),
            control: [0; MAX_CONTROL_PAYLOAD],
            control_len: 0,
            failure: None,
        }
    }

    /// As [`WsProtocol::new`], with permessage-deflate in force (RFC 7692): compressed
    /// messages are accepted, and what this side sends is compressed.
    pub fn with_deflate(max_message: usize, params: DeflateParams) -> Self {
        WsProtocol { deflate: Some(Box::new(PerMessage::new(params))), ..WsProtocol::new(max_message) }
    }

    /// The permessage-deflate parameters in force, if it was negotiated.
    pub fn deflate(&self) -> Option<&DeflateParams> {
        self.deflate.as_deref().map(PerMessage::params)
    }

    /// Consumes all of `input`, keeping any partial frame in `self`.
    ///
    /// Appends to `out` the frames the protocol requires (pongs, the answer to a Close,
    /// the Close that fails the connection) and calls `on_message(kind, payload)` for each
    /// complete data message, in order; text is valid UTF-8. Its [`Verdict`] is carried out
    /// before the next byte is read: an echo is appended to `out`; a refusal sends our Close
    /// and moves to `ClosedByUs`, so later data frames in `input` are dropped unseen.
    ///
    /// Once a rule is broken, the Close frame with the rule's code is in `out`, the state is
    /// `Closed`, and this and later input is ignored; the same holds after `ClosedByPeer`.
    pub fn receive(&mut self, mut input: &[u8], out: &mut Vec<u8>, on_message: &mut MessageHandler<'_>) {
        while matches!(self.state, WsState::Open | WsState::ClosedByUs) {
            let frame = match self.frame {
                Some(frame) => frame,
                None => {
                    let header = match self.read_header(&mut input) {
                        Ok(Some(header)) => header,
                        Ok(None) => return, // the input ended inside a header
                        Err(error) => return self.fail(error, out),
                    };
                    match self.begin_frame(header) {
                        Ok(frame) => frame,
                        Err(error) => return self.fail(error, out),
                    }
                }
            };
            if frame.remaining > 0 {
                if input.is_empty() {
                    return;
                }
                let n = usize::try_from(frame.remaining).map_or(input.len(), |r| r.min(input.len()));
                let (chunk, rest) = input.split_at(n);
                input = rest;
                if let Err(error) = self.read_payload(chunk) {
                    return self.fail(error, out);
                }
            }
            if self.frame.is_some_and(|f| f.remaining == 0) {
                self.end_frame(out, on_message);
            }
        }
    }

    /// Where the closing handshake stands.
    pub fn state(&self) -> WsState {
        self.state
    }

    /// `true` once the socket should be closed after flushing `out`: the closing handshake
    /// is complete (`ClosedByPeer`, `Closed`) or the connection failed. RFC 6455 §7.1.1:
    /// "the underlying TCP connection, in most normal cases, SHOULD be closed first by the
    /// server". In `ClosedByUs` the server waits for the peer's Close, with a timeout.
    pub fn is_done(&self) -> bool {
        matches!(self.state, WsState::ClosedByPeer | WsState::Closed)
    }

    /// The rule the peer broke, if the connection failed.
    pub fn failure(&self) -> Option<ProtocolError> {
        self.failure
    }

    /// Starts the closing handshake (§7.1.2): sends a Close frame with `code` and `reason`
    /// (cut to 123 bytes) and moves to `ClosedByUs`. Any message being assembled is dropped.
    /// Does nothing unless the state is `Open`.
    pub fn close(&mut self, code: CloseCode, reason: &str, out: &mut Vec<u8>) {
        if self.state != WsState::Open {
            return;
        }
        write_close(out, Some(code), reason);
        self.state = WsState::ClosedByUs;
        self.drop_message();
    }

    /// Sends a Ping (§5.5.2) with `payload` cut to 125 bytes; only in state `Open`.
    pub fn ping(&mut self, payload: &[u8], out: &mut Vec<u8>) {
        if self.state == WsState::Open {
            write_frame(out, true, OpCode::Ping, &payload[..payload.len().min(MAX_CONTROL_PAYLOAD)]);
        }
    }

    /// Sends one data message as a single unmasked frame; only in state `Open` (§5.5.1:
    /// after sending a Close frame, "the endpoint MUST NOT send any more data frames").
    pub fn send(&mut self, kind: MessageKind, payload: &[u8], out: &mut Vec<u8>) {
        if self.state == WsState::Open {
            send_message(&mut self.deflate, kind, payload, out);
        }
    }

    /// Reads the next header from `self.header` and `input`, advancing `input`. `None`:
    /// `input` ran out first, and its bytes are kept in `self.header`.
    fn read_header(&mut self, input: &mut &[u8]) -> Result<Option<FrameHeader>, ProtocolError> {
        if self.header_len == 0 {
            // The common case: the whole header is in this read.
            return match FrameHeader::parse(input).map_err(ProtocolError::Frame)? {
                Status::Complete((header, len)) => {
                    *input = &input[len..];
                    Ok(Some(header))
                }
                Status::Partial => {
                    // Shorter than MAX_HEADER_LEN, or it would have completed.
                    self.header[..input.len()].copy_from_slice(input);
                    self.header_len = input.len();
                    *input = &[];
                    Ok(None)
                }
            };
        }
        let take = input.len().min(MAX_HEADER_LEN - self.header_len);
        let have = self.header_len;
        self.header[have..have + take].copy_from_slice(&input[..take]);
        match FrameHeader::parse(&self.header[..have + take]).map_err(ProtocolError::Frame)? {
            Status::Complete((header, len)) => {
                // `parse` consumed nothing of the earlier, partial attempt, so len > have.
                *input = &input[len - have..];
                self.header_len = 0;
                Ok(Some(header))
            }
            Status::Partial => {
                self.header_len = have + take;
                *input = &input[take..];
                Ok(None)
            }
        }
    }

    /// Checks a header against the connection's rules and starts reading its payload.
    fn begin_frame(&mut self, header: FrameHeader) -> Result<Frame, ProtocolError> {
        // SPEC §1: `RUST_LOG=trace` shows every frame header, the teaching view of the wire.
        log::trace!(
            "ws ← {:?} FIN={} RSV={}{}{} MASK={} len={}",
            header.opcode,
            u8::from(header.fin),
            u8::from(header.rsv & bits::RSV1 != 0),
            u8::from(header.rsv & bits::RSV2 != 0),
            u8::from(header.rsv & bits::RSV3 != 0),
            u8::from(header.mask.is_some()),
            header.payload_len
        );
        let key = header.mask.ok_or(ProtocolError::Unmasked)?;
        // RFC 7692 §6.1: RSV1 marks a compressed message, on its first frame only — never on
        // a control frame or a continuation, and only once the extension is in force.
        let rsv1 = header.rsv & bits::RSV1 != 0;
        let first_data = matches!(header.opcode, OpCode::Text | OpCode::Binary);
        if header.rsv & !bits::RSV1 != 0 || (rsv1 && (self.deflate.is_none() || !first_data)) {
            return Err(ProtocolError::ReservedBits);
        }
        let sink = match header.opcode {
            op if op.is_control() => {
                self.control_len = 0;
                Sink::Control
            }
            _ if self.state == WsState::ClosedByUs => Sink::Discard,
            OpCode::Continuation if self.message.is_none() => {
                return Err(ProtocolError::UnexpectedContinuation)
            }
            OpCode::Text | OpCode::Binary if self.message.is_some() => {
                return Err(ProtocolError::UnfinishedMessage)
            }
            op => {
                if op != OpCode::Continuation {
                    let kind = if op == OpCode::Text { MessageKind::Text } else { MessageKind::Binary };
                    self.message = Some(kind);
                    self.compressed = rsv1;
                    self.utf8.reset();
                }
                // Fail on the declared length, before any of the payload arrives. Compressed,
                // a message may be a little longer than itself (stored blocks: 5 bytes per
                // 64 KiB); what it inflates to is held to the limit while inflating.
                let total = (self.buf.len() as u64).saturating_add(header.payload_len);
                let slack = if self.compressed { self.max_message as u64 / 64 + 64 } else { 0 };
                if total > self.max_message as u64 + slack {
                    return Err(ProtocolError::TooBig);
                }
                Sink::Message
            }
        };
        let frame = Frame {
            opcode: header.opcode,
            fin: header.fin,
            key,
            read: 0,
            remaining: header.payload_len,
            sink,
        };
        self.frame = Some(frame);
        Ok(frame)
    }

    /// Unmasks the next piece of the current frame's payload into its sink; a text
    /// message's bytes are UTF-8-checked now, not when the message ends (§8.1, fail fast).
    fn read_payload(&mut self, chunk: &[u8]) -> Result<(), ProtocolError> {
        let Some(frame) = self.frame.as_mut() else {
            return Ok(());
        };
        // Only `read % 4` matters to the mask, so the cast may safely wrap.
        let offset = (frame.read % 4) as usize;
        frame.read += chunk.len() as u64;
        frame.remaining -= chunk.len() as u64;
        match frame.sink {
            Sink::Message => {
                let start = self.buf.len();
                self.buf.extend_from_slice(chunk);
                let fresh = &mut self.buf[start..];
                apply_mask(fresh, frame.key, offset);
                if self.message == Some(MessageKind::Text) && !self.compressed {
                    self.utf8.feed(fresh).map_err(|_| ProtocolError::InvalidUtf8)?;
                }
            }
            Sink::Control => {
                // The header check bounds a control payload by 125 bytes.
                let start = self.control_len;
                let fresh = &mut self.control[start..start + chunk.len()];
                fresh.copy_from_slice(chunk);
                apply_mask(fresh, frame.key, offset);
                self.control_len += chunk.len();
            }
            Sink::Discard => {}
        }
        Ok(())
    }

    /// Acts on a frame whose payload is complete.
    fn end_frame(&mut self, out: &mut Vec<u8>, on_message: &mut MessageHandler<'_>) {
        let Some(frame) = self.frame.take() else { return };
        match frame.opcode {
            // §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in
            // response … The Pong frame sent in response to a Ping frame must have
            // identical "Application data"". Not after our Close (§5.5.1).
            OpCode::Ping if self.state == WsState::Open => {
                write_frame(out, true, OpCode::Pong, &self.control[..self.control_len]);
            }
            // §5.5.3: "A response to an unsolicited Pong frame is not expected."
            OpCode::Ping | OpCode::Pong => {}
            OpCode::Close => self.end_close(out),
            OpCode::Text | OpCode::Binary | OpCode::Continuation => {
                if frame.sink != Sink::Message || !frame.fin {
                    return;
                }
                let Some(kind) = self.message.take() else { return };
                if self.compressed {
                    if let Err(error) = self.inflate(kind) {
                        return self.fail(error, out);
                    }
                }
                // §8.1: the message ended inside a UTF-8 sequence.
                if kind == MessageKind::Text && !self.utf8.is_complete() {
                    return self.fail(ProtocolError::InvalidUtf8, out);
                }
                let payload = if self.compressed { &self.plain } else { &self.buf };
                match on_message(kind, payload) {
                    Verdict::Accept => {}
                    // §5.5.1: the callback only runs in `Open`, so a reply may still be sent.
                    Verdict::Echo => send_message(&mut self.deflate, kind, payload, out),
                    Verdict::Close(code, reason) => self.close(code, reason, out),
                }
                self.drop_message();
            }
        }
    }

    /// Inflates the compressed message in `buf` into `plain` (RFC 7692 §7.2.2), held to
    /// `max_message` as it grows, and checks a text message's UTF-8.
    fn inflate(&mut self, kind: MessageKind) -> Result<(), ProtocolError> {
        let Some(deflate) = self.deflate.as_mut() else { return Err(ProtocolError::ReservedBits) };
        self.plain.clear();
        deflate.inflate(&self.buf, &mut self.plain, self.max_message).map_err(ProtocolError::Inflate)?;
        if kind == MessageKind::Text {
            self.utf8.feed(&self.plain).map_err(|_| ProtocolError::InvalidUtf8)?;
        }
        Ok(())
    }

    /// A complete Close frame from the peer.
    fn end_close(&mut self, out: &mut Vec<u8>) {
        if self.state == WsState::ClosedByUs {
            // §7.1.3: "The WebSocket Closing Handshake is Started" by us, and now completed;
            // what the peer's Close says changes nothing.
            self.state = WsState::Closed;
            return;
        }
        match parse_close_payload(&self.control[..self.control_len]) {
            Err(error) => self.fail(ProtocolError::Close(error), out),
            Ok(body) => {
                // §5.5.1: "If an endpoint receives a Close frame and did not previously send
                // a Close frame, the endpoint MUST send a Close frame in response. … it
                // typically echos the status code it received." No code: an empty body.
                write_close(out, body.map(|(code, _)| code), "");
                self.state = WsState::ClosedByPeer;
                self.drop_message();
            }
        }
    }

    /// _Fail the WebSocket Connection_ (§7.1.7): "the endpoint SHOULD send a Close frame
    /// with an appropriate status code" — unless it already sent one.
    fn fail(&mut self, error: ProtocolError, out: &mut Vec<u8>) {
        if self.state == WsState::Open {
            write_close(out, Some(error.close_code()), "");
        }
        self.state = WsState::Closed;
        self.failure = Some(error);
        self.frame = None;
        self.drop_message();
    }

    /// Forgets the message being assembled; a buffer grown past one read buffer is freed,
    /// so an idle connection holds no memory for the largest message it ever received.
    fn drop_message(&mut self) {
        self.message = None;
        self.compressed = false;
        for buf in [&mut self.buf, &mut self.plain] {
            if buf.capacity() > READ_BUFFER {
                *buf = Vec::new();
            } else {
                buf.clear();
            }
        }
        if let Some(frame) = self.frame.as_mut() {
            if frame.sink == Sink::Message {
                frame.sink = Sink::Discard;
            }
        }
    }
}

/// Appends one data message as a single unmasked frame: what [`WsProtocol::send`] writes
/// without permessage-deflate.
pub fn write_message(out: &mut Vec<u8>, kind: MessageKind, payload: &[u8]) {
    write_frame(out, true, kind.opcode(), payload);
}

/// One data message as a single frame, compressed when permessage-deflate is in force.
fn send_message(deflate: &mut Option<Box<PerMessage>>, kind: MessageKind, payload: &[u8], out: &mut Vec<u8>) {
    match deflate {
        Some(deflate) => deflate.send(kind.opcode(), payload, out),
        None => write_message(out, kind, payload),
    }
}

/// Appends a Close frame: empty body for `None`, else the code and reason.
fn write_close(out: &mut Vec<u8>, code: Option<CloseCode>, reason: &str) {
    let mut body = Vec::with_capacity(MAX_CONTROL_PAYLOAD);
    if let Some(code) = code {
        write_close_payload(&mut body, code, reason);
    }
    write_frame(out, true, OpCode::Close, &body);
}

#[cfg(test)]
#[path = "websocket_tests/mod.rs"]
mod tests;
