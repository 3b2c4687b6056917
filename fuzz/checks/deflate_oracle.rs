//! miniz_oxide as the second opinion on DEFLATE (RFC 1951), both ways, message by message
//! as RFC 7692 uses it: raw deflate, a sync flush after each message, the window kept
//! between messages unless reset. Shared by the `inflate` and `deflate` fuzz checks,
//! `tests/deflate_differential.rs` and `benches/deflate.rs`.
#![allow(dead_code)]

use miniz_oxide::deflate::core::{create_comp_flags_from_zip_params, CompressorOxide};
use miniz_oxide::inflate::stream::InflateState;
use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};

/// miniz's compressor, one sync-flushed message at a time.
pub struct MinizDeflater(Box<CompressorOxide>, Vec<u8>);

impl MinizDeflater {
    /// Raw deflate (negative window bits) at zlib `level` 0–9, the default strategy.
    pub fn new(level: u8) -> Self {
        let flags = create_comp_flags_from_zip_params(i32::from(level), -15, 0);
        MinizDeflater(Box::new(CompressorOxide::new(flags)), vec![0; 1 << 16])
    }

    /// `message` compressed and sync-flushed: ends with `00 00 ff ff`.
    pub fn message(&mut self, message: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let buf = &mut self.1;
        let mut rest = message;
        loop {
            let r = miniz_oxide::deflate::stream::deflate(&mut self.0, rest, buf, MZFlush::Sync);
            rest = &rest[r.bytes_consumed..];
            out.extend_from_slice(&buf[..r.bytes_written]);
            r.status.expect("miniz compresses");
            if rest.is_empty() && r.bytes_written < buf.len() {
                return out;
            }
        }
    }

    /// Forget the window (no context takeover).
    pub fn reset(&mut self) {
        self.0.reset();
    }
}

/// miniz's decompressor, fed stream pieces; the window is kept across calls.
pub struct MinizInflater(Box<InflateState>, Vec<u8>);

impl Default for MinizInflater {
    fn default() -> Self {
        MinizInflater(InflateState::new_boxed(DataFormat::Raw), vec![0; 1 << 16])
    }
}

impl MinizInflater {
    /// Everything `input` decodes to, or miniz's error. A stream may end without a final
    /// block (after a sync flush, say); output stops after `limit` bytes.
    pub fn feed(&mut self, input: &[u8], limit: usize) -> Result<Vec<u8>, MZError> {
        let mut out = Vec::new();
        let buf = &mut self.1;
        let mut rest = input;
        loop {
            let r = miniz_oxide::inflate::stream::inflate(&mut self.0, rest, buf, MZFlush::None);
            rest = &rest[r.bytes_consumed..];
            out.extend_from_slice(&buf[..r.bytes_written]);
            match r.status {
                Ok(MZStatus::StreamEnd) => return Ok(out),
                // No progress possible: all input used (or nothing more can come out).
                Err(MZError::Buf) => return Ok(out),
                Ok(_) if r.bytes_consumed == 0 && r.bytes_written == 0 => return Ok(out),
                Ok(_) if out.len() > limit => return Ok(out),
                Ok(_) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Forget the window and any error: a new stream.
    pub fn reset(&mut self) {
        self.0.reset(DataFormat::Raw);
    }
}

/// A whole raw stream (e.g. one sync-flushed message) inflated by miniz alone.
pub fn miniz_inflate(stream: &[u8]) -> Result<Vec<u8>, MZError> {
    MinizInflater::default().feed(stream, usize::MAX)
}

/// A whole message compressed by miniz, ending with a final block (as `compress_to_vec`).
pub fn miniz_deflate_final(message: &[u8], level: u8) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec(message, level)
}
