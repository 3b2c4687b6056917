//! permessage-deflate (RFC 7692) on one WebSocket connection: what the protocol machine
//! ([`super::websocket`]) calls to inflate a message whose first frame has RSV1 set, and to
//! compress what it sends (chapter 10).
//!
//! RFC 7692 §7.2.1: a compressed message is the DEFLATE data of a sync flush with its last
//! four bytes, `00 00 ff ff`, removed; §7.2.2: the receiver appends them again and inflates.
//! The codec itself is `crate::wire::deflate`; this file adds what a connection needs:
//!
//! - **the parameters in force** ([`DeflateParams`]) decide whether a window survives from
//!   one message to the next (*context takeover*);
//! - **memory**: an inflater's or deflater's big buffers (71 KiB and 240 KiB at 15 bits) are
//!   borrowed from this thread's pool while a message is coded and returned afterwards,
//!   unless context takeover keeps the window alive — so an idle compressed connection that
//!   never had context costs no more than an uncompressed one;
//! - **shared frames**: pushlab always answers `server_no_context_takeover`, so a pushed
//!   message compresses the same way for every subscriber, and [`shared_frame`] makes its
//!   frame once per window size, not once per subscriber.

use std::cell::RefCell;

use crate::limits::{DEFLATE_LEVEL, DEFLATE_POOL};
use crate::wire::deflate::{DeflateScratch, Deflater, InflateError, InflateScratch, Inflater, TAIL};
use crate::wire::extensions::DeflateParams;
use crate::wire::ws::frame::{write_compressed_frame, OpCode};

/// One thread's spare buffers, by window bits (9..=15 → index 0..=6).
#[derive(Default)]
struct Pool {
    inflate: Vec<(u8, Box<InflateScratch>)>,
    deflate: Vec<(u8, Box<DeflateScratch>)>,
}

thread_local! {
    // Each event loop is one thread, so its pool needs no lock.
    static POOL: RefCell<Pool> = RefCell::new(Pool::default());
}

fn take<T>(list: &mut Vec<(u8, Box<T>)>, bits: u8) -> Option<Box<T>> {
    let at = list.iter().position(|(b, _)| *b == bits)?;
    Some(list.swap_remove(at).1)
}

fn give<T>(list: &mut Vec<(u8, Box<T>)>, bits: u8, scratch: Box<T>) {
    if list.len() < DEFLATE_POOL {
        list.push((bits, scratch));
    }
}

/// A connection's compression state once permessage-deflate is negotiated.
pub struct PerMessage {
    params: DeflateParams,
    inflater: Inflater,
    deflater: Deflater,
}

impl std::fmt::Debug for PerMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PerMessage").field("params", &self.params).finish_non_exhaustive()
    }
}

impl PerMessage {
    pub fn new(params: DeflateParams) -> PerMessage {
        PerMessage {
            inflater: Inflater::new(params.inflate_window_bits()),
            deflater: Deflater::new(params.server_max_window_bits, DEFLATE_LEVEL),
            params,
        }
    }

    pub fn params(&self) -> &DeflateParams {
        &self.params
    }

    /// Inflates one whole compressed message into `out`, which may grow to `limit` bytes
    /// and no more (a message that would is `TooBig`, found while inflating: a small message
    /// that inflates to gigabytes is stopped at `limit`).
    pub fn inflate(
        &mut self,
        compressed: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), InflateError> {
        let bits = self.params.inflate_window_bits();
        // RFC 7692 §7.1.1.2: with client_no_context_takeover every message starts afresh, so
        // the window may go back to the pool after it.
        let alone = self.params.client_no_context_takeover;
        if alone {
            if let Some(scratch) = POOL.with(|p| take(&mut p.borrow_mut().inflate, bits)) {
                self.inflater.put_scratch(scratch);
            }
        }
        // §7.2.2: append 00 00 ff ff, then inflate. After a final block the tail is ignored.
        let result = self
            .inflater
            .inflate(compressed, out, limit)
            .and_then(|_| self.inflater.inflate(&TAIL, out, limit))
            .and_then(|_| self.inflater.end_message());
        if alone || result.is_err() {
            if let Some(scratch) = self.inflater.take_scratch() {
                POOL.with(|p| give(&mut p.borrow_mut().inflate, bits, scratch));
            }
        }
        result
    }

    /// Appends `payload` as one compressed frame (FIN, RSV1) with this connection's own
    /// deflater: what `/echo` sends back.
    pub fn send(&mut self, opcode: OpCode, payload: &[u8], out: &mut Vec<u8>) {
        let bits = self.params.server_max_window_bits;
        let alone = self.params.server_no_context_takeover;
        if let Some(scratch) = POOL.with(|p| take(&mut p.borrow_mut().deflate, bits)) {
            self.deflater.put_scratch(scratch);
        }
        frame(&mut self.deflater, opcode, payload, out);
        if alone {
            if let Some(scratch) = self.deflater.take_scratch() {
                POOL.with(|p| give(&mut p.borrow_mut().deflate, bits, scratch));
            }
        }
    }
}

/// Compresses `payload` and appends it as one frame: §7.2.1, the sync flush's tail removed.
fn frame(deflater: &mut Deflater, opcode: OpCode, payload: &[u8], out: &mut Vec<u8>) {
    let mut compressed = Vec::with_capacity(payload.len() / 2 + 16);
    deflater.compress(payload, &mut compressed);
    debug_assert!(compressed.ends_with(&TAIL));
    compressed.truncate(compressed.len() - TAIL.len());
    write_compressed_frame(out, opcode, &compressed);
}

/// The frame of a pushed text message compressed alone with a window of 2^`window_bits`:
/// the same bytes for every connection that negotiated that window, since pushlab sends
/// without context takeover. A frame made with a smaller window is valid for every larger
/// one, so [`super::ws_session`] makes at most two per message (15 bits, and 9 bits for
/// clients that asked for less).
pub fn shared_frame(payload: &[u8], window_bits: u8, out: &mut Vec<u8>) {
    let mut deflater = Deflater::new(window_bits, DEFLATE_LEVEL);
    if let Some(scratch) = POOL.with(|p| take(&mut p.borrow_mut().deflate, window_bits)) {
        deflater.put_scratch(scratch);
    }
    frame(&mut deflater, OpCode::Text, payload, out);
    if let Some(scratch) = deflater.take_scratch() {
        POOL.with(|p| give(&mut p.borrow_mut().deflate, window_bits, scratch));
    }
}
