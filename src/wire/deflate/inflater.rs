//! The inflater: DEFLATE decoding (RFC 1951 §3.2) as a state machine over input that
//! arrives in pieces of any size.
//!
//! A WebSocket message arrives in frames, and frames in reads: the decoder must be able to
//! stop between any two bits and go on when the next byte comes. [`Inflater`] keeps where it
//! is in a [`State`] and up to 64 unread bits in a [`Bits`]; each *step* — a block header,
//! one code length, one literal, one length-and-distance pair — either completes or, short
//! of input, leaves the state and bits exactly as they were (puff.c, by contrast, wants the
//! whole stream at once). So the output for a stream is the same however it is split, and
//! an error is reported at the same bit in any split: the tests check both.
//!
//! Output is written into a *window*: the last 2^`window_bits` bytes, which a later
//! distance may point back into — in this message or, with context takeover, an earlier one
//! (RFC 7692 §7.2.2) — then copied out to the caller. The caller's `limit` is checked
//! before every byte is produced, so a small input that would expand to gigabytes (a
//! "zip bomb") stops at [`InflateError::TooBig`] with at most `limit` bytes written, and the
//! connection closes with 1009 (RFC 6455 §7.4.1: "too big to process").
//!
//! Every malformed stream is a named [`InflateError`], after which the inflater stays
//! failed. The rules are zlib's, which are stricter than the RFC's letter in one place: a
//! Huffman code must be *complete* (every bit pattern some symbol's code) except for a code
//! of one symbol, or a distance code of none (RFC 1951 §3.2.7), as puff.c and zlib require.

use super::bitstream::{Bits, Short};
use super::huffman::{Decoder, Fit, Miss};
use super::*;

/// Which rule a stream broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InflateError {
    /// BTYPE 11, reserved (RFC 1951 §3.2.3).
    InvalidBlockType,
    /// A stored block whose NLEN is not the one's complement of LEN (RFC 1951 §3.2.4).
    StoredLengthMismatch,
    /// HLIT above 286 or HDIST above 30 (RFC 1951 §3.2.7, §3.2.5: symbols 286–287 and
    /// distances 30–31 "will never actually occur").
    TooManyCodes,
    /// The code-length code's lengths do not form a complete prefix code (RFC 1951 §3.2.7).
    InvalidCodeLengthCode,
    /// Code-length symbol 16, "copy the previous code length", with no previous one.
    RepeatWithoutLength,
    /// A code-length repeat that runs past HLIT + HDIST lengths (RFC 1951 §3.2.7).
    TooManyLengths,
    /// The literal/length code gives end-of-block (256) no code: the block could not end.
    MissingEndOfBlock,
    /// Literal/length or distance code lengths that oversubscribe the code space.
    OversubscribedCode,
    /// Literal/length or distance code lengths that leave bit patterns unused (zlib's rule;
    /// see the module header).
    IncompleteCode,
    /// Bits that are no symbol's code, in a code that allows unused patterns.
    InvalidCode,
    /// Length symbol 286–287 or distance symbol 30–31, which the fixed code has but
    /// "will never actually occur in the compressed data" (RFC 1951 §3.2.6).
    InvalidSymbol,
    /// A distance past the start of the output or the window (RFC 1951 §3.2.5; RFC 7692
    /// §7.1.2: the window is 2^window_bits).
    DistanceTooFar,
    /// The output would pass the caller's limit (RFC 7692 §8; close 1009).
    TooBig,
    /// After the message and its tail, the stream is still inside a block (RFC 7692 §7.2.1:
    /// a sender always flushes to a block boundary at a message's end).
    Truncated,
}

impl InflateError {
    /// A short human text naming the rule, for a close frame's reason.
    pub fn reason(self) -> &'static str {
        match self {
            InflateError::InvalidBlockType => "invalid DEFLATE block type",
            InflateError::StoredLengthMismatch => "stored block length does not match its complement",
            InflateError::TooManyCodes => "too many length or distance codes",
            InflateError::InvalidCodeLengthCode => "invalid code-length code",
            InflateError::RepeatWithoutLength => "code length repeat with no previous length",
            InflateError::TooManyLengths => "code length repeat past the last code",
            InflateError::MissingEndOfBlock => "no code for end-of-block",
            InflateError::OversubscribedCode => "oversubscribed Huffman code",
            InflateError::IncompleteCode => "incomplete Huffman code",
            InflateError::InvalidCode => "bits match no Huffman code",
            InflateError::InvalidSymbol => "invalid length or distance symbol",
            InflateError::DistanceTooFar => "distance too far back",
            InflateError::TooBig => "decompressed message too big",
            InflateError::Truncated => "compressed message ends inside a block",
        }
    }
}

impl std::fmt::Display for InflateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.reason())
    }
}

impl std::error::Error for InflateError {}

/// What an [`Inflater::inflate`] call got to. Every input byte is always used (bytes after
/// a final block are skipped), so there is no count to report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InflateStatus {
    /// The input ends inside a block: more is needed.
    NeedInput,
    /// The input ends between blocks. After a message and its [`TAIL`], this is the normal
    /// answer: the message is complete.
    BlockEnd,
    /// A final block (BFINAL 1) has ended; later input is skipped until
    /// [`Inflater::end_message`] starts a new stream (RFC 7692 §7.2.3.4).
    StreamEnd,
}

/// Where the decoder is between two steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Next: BFINAL and BTYPE (RFC 1951 §3.2.3).
    Header,
    /// Next: padding to a byte boundary, LEN and NLEN (§3.2.4).
    StoredHeader { last: bool },
    /// Inside a stored block, `remaining` bytes to copy.
    Stored { last: bool, remaining: u16 },
    /// Next: HLIT, HDIST, HCLEN (§3.2.7).
    DynamicHeader { last: bool },
    /// Reading the code-length code's lengths, 3 bits each; `read` of `hclen` done.
    CodeLengthCode { last: bool, hlit: u16, hdist: u16, hclen: u8, read: u8 },
    /// Reading the literal/length and distance code lengths; `read` of `hlit + hdist` done.
    CodeLengths { last: bool, hlit: u16, hdist: u16, read: u16 },
    /// Inside a Huffman-coded block, with its decoders built.
    Data { last: bool },
    /// After a final block.
    End,
    /// A rule broke; sticky.
    Failed(InflateError),
}

/// Why a step stopped.
enum Stop {
    Short,
    Error(InflateError),
}

impl From<Short> for Stop {
    fn from(_: Short) -> Stop {
        Stop::Short
    }
}

impl From<InflateError> for Stop {
    fn from(error: InflateError) -> Stop {
        Stop::Error(error)
    }
}

fn missed(miss: Miss) -> Stop {
    match miss {
        Miss::Short => Stop::Short,
        Miss::NoSymbol => Stop::Error(InflateError::InvalidCode),
    }
}

/// The inflater's big buffers, allocated on first use and poolable between messages when
/// there is no context takeover ([`Inflater::take_scratch`]). It costs
/// [`Scratch::bytes`]: the window buffer (2^window_bits plus room to slide, at least 4 KiB),
/// two Huffman decoders of 2 656 bytes and 316 code lengths — 71 KiB at 15 bits.
pub struct Scratch {
    /// The last `wsize` bytes of output (or all of it, if less), then this call's new bytes.
    window: Vec<u8>,
    /// `window[flushed..]` has not been copied to the caller yet.
    flushed: usize,
    litlen: Decoder,
    /// The distance decoder; while a dynamic header is read, the code-length decoder.
    dist: Decoder,
    lengths: [u8; LITLEN_SYMBOLS + DIST_SYMBOLS],
}

/// The window buffer's size: the window and as much again (at least 4 KiB) to slide by.
fn window_capacity(window_bits: u8) -> usize {
    let wsize = 1usize << window_bits;
    wsize + wsize.max(4096)
}

impl Scratch {
    /// Scratch for windows of up to 2^`window_bits` bytes.
    pub fn new(window_bits: u8) -> Box<Scratch> {
        Box::new(Scratch {
            window: Vec::with_capacity(window_capacity(window_bits)),
            flushed: 0,
            litlen: Decoder::new(),
            dist: Decoder::new(),
            lengths: [0; LITLEN_SYMBOLS + DIST_SYMBOLS],
        })
    }

    /// What one [`Scratch`] for `window_bits` costs, in bytes.
    pub fn bytes(window_bits: u8) -> usize {
        std::mem::size_of::<Scratch>() + window_capacity(window_bits)
    }

    /// Copies the bytes not yet given to the caller into `out`.
    fn flush(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.window[self.flushed..]);
        self.flushed = self.window.len();
    }

    /// Checks that `n` more bytes keep the output within `limit`, and that the window has
    /// room for them, sliding it (after a flush) if not.
    fn room(&mut self, n: usize, out: &mut Vec<u8>, limit: usize, wsize: usize) -> Result<(), InflateError> {
        let produced = out.len() + self.window.len() - self.flushed;
        if produced + n > limit {
            return Err(InflateError::TooBig);
        }
        if self.window.len() + n > self.window.capacity() {
            self.flush(out);
            let keep_from = self.window.len().saturating_sub(wsize);
            self.window.drain(..keep_from);
            self.flushed = self.window.len();
        }
        Ok(())
    }
}

/// An incremental DEFLATE decoder with a window carried across messages.
///
/// Small (a few words) until it first inflates; then it owns a [`Scratch`].
pub struct Inflater {
    window_bits: u8,
    state: State,
    bits: Bits,
    scratch: Option<Box<Scratch>>,
}

impl Inflater {
    /// An inflater that accepts distances of up to 2^`window_bits` bytes
    /// ([`MIN_WINDOW_BITS`]..=[`MAX_WINDOW_BITS`]; anything else is a bug in the caller).
    pub fn new(window_bits: u8) -> Inflater {
        assert!((MIN_WINDOW_BITS..=MAX_WINDOW_BITS).contains(&window_bits), "window bits {window_bits}");
        Inflater { window_bits, state: State::Header, bits: Bits::default(), scratch: None }
    }

    /// Forgets the window and any partial block: the next input starts a new stream with an
    /// empty window (RFC 7692 §7.1.1: no context takeover). Clears a failure too.
    pub fn reset(&mut self) {
        self.state = State::Header;
        self.bits = Bits::default();
        if let Some(scratch) = &mut self.scratch {
            scratch.window.clear();
            scratch.flushed = 0;
        }
    }

    /// [`Inflater::reset`], and hands back the big buffers, if any, for a pool.
    pub fn take_scratch(&mut self) -> Option<Box<Scratch>> {
        self.reset();
        self.scratch.take()
    }

    /// Gives the inflater buffers from a pool (replacing one that is too small for its
    /// window); implies [`Inflater::reset`].
    pub fn put_scratch(&mut self, scratch: Box<Scratch>) {
        if scratch.window.capacity() >= window_capacity(self.window_bits) {
            self.scratch = Some(scratch);
        }
        self.reset();
    }

    /// Call after the last piece of a message (and its [`TAIL`]): fails with
    /// [`InflateError::Truncated`] unless the stream is between blocks or ended, and after a
    /// final block makes the next input a new stream, with the window kept.
    pub fn end_message(&mut self) -> Result<(), InflateError> {
        match self.state {
            State::Header => Ok(()),
            State::End => {
                self.state = State::Header;
                self.bits = Bits::default();
                Ok(())
            }
            State::Failed(error) => Err(error),
            _ => {
                self.state = State::Failed(InflateError::Truncated);
                Err(InflateError::Truncated)
            }
        }
    }

    /// Decodes `input`, appending to `out`, which holds the message so far: `out.len()`
    /// never passes `limit`. Uses every byte of `input`; any split of a stream gives the
    /// same output and the same error. After an error, returns it again until a reset.
    pub fn inflate(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<InflateStatus, InflateError> {
        if let State::Failed(error) = self.state {
            return Err(error);
        }
        let window_bits = self.window_bits;
        let scratch = self.scratch.get_or_insert_with(|| Scratch::new(window_bits));
        let wsize = 1 << window_bits;
        let mut machine =
            Machine { state: self.state, bits: self.bits, scratch, input, pos: 0, out, limit, wsize };
        let result = machine.run();
        let (state, bits) = (machine.state, machine.bits);
        machine.scratch.flush(machine.out);
        self.bits = bits;
        match result {
            Ok(status) => {
                self.state = state;
                Ok(status)
            }
            Err(error) => {
                self.state = State::Failed(error);
                Err(error)
            }
        }
    }
}

/// One call's worth of decoding: the state and bits, the buffers, the input and output.
struct Machine<'a> {
    state: State,
    bits: Bits,
    scratch: &'a mut Scratch,
    input: &'a [u8],
    pos: usize,
    out: &'a mut Vec<u8>,
    limit: usize,
    wsize: usize,
}

impl Machine<'_> {
    /// Steps until the input runs out, the stream ends, or a rule breaks.
    fn run(&mut self) -> Result<InflateStatus, InflateError> {
        loop {
            self.bits.refill(self.input, &mut self.pos);
            let step = match self.state {
                State::Header => self.header(),
                State::StoredHeader { last } => self.stored_header(last),
                State::Stored { last, remaining } => self.stored(last, remaining),
                State::DynamicHeader { last } => self.dynamic_header(last),
                State::CodeLengthCode { last, hlit, hdist, hclen, read } => {
                    self.code_length_code(last, hlit, hdist, hclen, read)
                }
                State::CodeLengths { last, hlit, hdist, read } => self.code_lengths(last, hlit, hdist, read),
                State::Data { last } => self.data(last),
                State::End => {
                    // RFC 7692 §7.2.3.4: after a final block, the tail the receiver appended
                    // (and anything else) is not part of the stream.
                    self.pos = self.input.len();
                    self.bits = Bits::default();
                    return Ok(InflateStatus::StreamEnd);
                }
                State::Failed(error) => return Err(error),
            };
            match step {
                Ok(()) => {}
                Err(Stop::Short) => {
                    // Every step needs at most 48 bits and a refill leaves more than 56 while
                    // input remains, so a step is short only when the input is used up.
                    debug_assert_eq!(self.pos, self.input.len());
                    return Ok(match self.state {
                        State::Header => InflateStatus::BlockEnd,
                        _ => InflateStatus::NeedInput,
                    });
                }
                Err(Stop::Error(error)) => return Err(error),
            }
        }
    }

    /// RFC 1951 §3.2.3: BFINAL (1 bit), then BTYPE (2 bits).
    fn header(&mut self) -> Result<(), Stop> {
        let mut b = self.bits;
        let last = b.take(1)? == 1;
        let block_type = b.take(2)?;
        self.bits = b;
        self.state = match block_type {
            0 => State::StoredHeader { last },
            1 => {
                // RFC 1951 §3.2.6: the fixed codes. Every pattern has a symbol, so both
                // codes are complete; 286–287 and 30–31 are refused when they are read.
                self.scratch.litlen.build(&fixed_litlen_lengths());
                self.scratch.dist.build(&FIXED_DIST_LENGTHS);
                State::Data { last }
            }
            2 => State::DynamicHeader { last },
            _ => return Err(InflateError::InvalidBlockType.into()),
        };
        Ok(())
    }

    /// RFC 1951 §3.2.4: skip to a byte boundary, then LEN and NLEN, two bytes each.
    fn stored_header(&mut self, last: bool) -> Result<(), Stop> {
        let mut b = self.bits;
        b.align_to_byte();
        let len = b.take(16)?;
        let nlen = b.take(16)?;
        if len != !nlen & 0xFFFF {
            return Err(InflateError::StoredLengthMismatch.into());
        }
        self.bits = b;
        self.state = State::Stored { last, remaining: len as u16 };
        Ok(())
    }

    /// A stored block's bytes: first those already in the accumulator, then straight from
    /// the input. Near the limit, copies exactly up to it before failing, in any split.
    fn stored(&mut self, last: bool, mut remaining: u16) -> Result<(), Stop> {
        while remaining > 0 {
            let produced = self.out.len() + self.scratch.window.len() - self.scratch.flushed;
            let allowed = self.limit.saturating_sub(produced);
            if self.bits.count() >= 8 {
                self.scratch.room(1, self.out, self.limit, self.wsize)?;
                let byte = self.bits.take_byte().expect("a whole byte");
                self.scratch.window.push(byte);
                remaining -= 1;
                continue;
            }
            let available = self.input.len() - self.pos;
            if available == 0 {
                self.state = State::Stored { last, remaining };
                return Err(Stop::Short);
            }
            if allowed == 0 {
                return Err(InflateError::TooBig.into());
            }
            // At most 4 KiB at a time: the window always has that much room after a slide.
            let n = usize::from(remaining).min(available).min(allowed).min(4096);
            self.scratch.room(n, self.out, self.limit, self.wsize)?;
            self.scratch.window.extend_from_slice(&self.input[self.pos..self.pos + n]);
            self.pos += n;
            remaining -= n as u16;
        }
        self.state = if last { State::End } else { State::Header };
        Ok(())
    }

    /// RFC 1951 §3.2.7: HLIT (5 bits, + 257), HDIST (5, + 1), HCLEN (4, + 4).
    fn dynamic_header(&mut self, last: bool) -> Result<(), Stop> {
        let mut b = self.bits;
        let hlit = b.take(5)? as u16 + 257;
        let hdist = b.take(5)? as u16 + 1;
        let hclen = b.take(4)? as u8 + 4;
        self.bits = b;
        if usize::from(hlit) > LITLEN_SYMBOLS || usize::from(hdist) > DIST_SYMBOLS {
            return Err(InflateError::TooManyCodes.into());
        }
        self.state = State::CodeLengthCode { last, hlit, hdist, hclen, read: 0 };
        Ok(())
    }

    /// RFC 1951 §3.2.7: HCLEN lengths of 3 bits, in [`CODE_LENGTH_ORDER`]; the rest are 0.
    fn code_length_code(
        &mut self,
        last: bool,
        hlit: u16,
        hdist: u16,
        hclen: u8,
        mut read: u8,
    ) -> Result<(), Stop> {
        while read < hclen {
            let Ok(len) = self.bits.take(3) else {
                self.state = State::CodeLengthCode { last, hlit, hdist, hclen, read };
                return Err(Stop::Short);
            };
            self.scratch.lengths[CODE_LENGTH_ORDER[usize::from(read)]] = len as u8;
            read += 1;
        }
        for &symbol in &CODE_LENGTH_ORDER[usize::from(hclen)..] {
            self.scratch.lengths[symbol] = 0;
        }
        // The code-length code goes in the distance decoder until the distances are known.
        if self.scratch.dist.build(&self.scratch.lengths[..19]) != Fit::Complete {
            return Err(InflateError::InvalidCodeLengthCode.into());
        }
        self.state = State::CodeLengths { last, hlit, hdist, read: 0 };
        Ok(())
    }

    /// RFC 1951 §3.2.7: HLIT + HDIST code lengths, in the code-length code: 0–15 are
    /// lengths, 16 repeats the previous length 3–6 times, 17 and 18 repeat zero 3–10 and
    /// 11–138 times. Then both codes are built and checked.
    fn code_lengths(&mut self, last: bool, hlit: u16, hdist: u16, mut read: u16) -> Result<(), Stop> {
        let total = hlit + hdist;
        while read < total {
            match self.code_length(read, total) {
                Ok(n) => read += n,
                Err(stop) => {
                    self.state = State::CodeLengths { last, hlit, hdist, read };
                    return Err(stop);
                }
            }
        }
        let lengths = &self.scratch.lengths;
        let (litlen, dist) = lengths[..usize::from(total)].split_at(usize::from(hlit));
        if litlen[usize::from(END_OF_BLOCK)] == 0 {
            return Err(InflateError::MissingEndOfBlock.into());
        }
        match self.scratch.litlen.build(litlen) {
            Fit::Complete | Fit::Single => {}
            Fit::Oversubscribed => return Err(InflateError::OversubscribedCode.into()),
            Fit::Empty | Fit::Incomplete => return Err(InflateError::IncompleteCode.into()),
        }
        match self.scratch.dist.build(dist) {
            Fit::Complete | Fit::Single | Fit::Empty => {}
            Fit::Oversubscribed => return Err(InflateError::OversubscribedCode.into()),
            Fit::Incomplete => return Err(InflateError::IncompleteCode.into()),
        }
        self.state = State::Data { last };
        Ok(())
    }

    /// One code-length symbol and its repeat: how many lengths it filled in from `read`.
    fn code_length(&mut self, read: u16, total: u16) -> Result<u16, Stop> {
        self.bits.refill(self.input, &mut self.pos);
        let mut b = self.bits;
        let symbol = self.scratch.dist.decode(&mut b).map_err(missed)?;
        let lengths = &mut self.scratch.lengths;
        let (value, repeat) = match symbol {
            0..=15 => (symbol as u8, 1),
            16 if read == 0 => return Err(InflateError::RepeatWithoutLength.into()),
            16 => (lengths[usize::from(read) - 1], 3 + b.take(2)? as u16),
            17 => (0, 3 + b.take(3)? as u16),
            _ => (0, 11 + b.take(7)? as u16),
        };
        if read + repeat > total {
            return Err(InflateError::TooManyLengths.into());
        }
        lengths[usize::from(read)..usize::from(read + repeat)].fill(value);
        self.bits = b;
        Ok(repeat)
    }

    /// RFC 1951 §3.2.5: literals and (length, distance) pairs until end-of-block, each
    /// decoded whole or not at all.
    fn data(&mut self, last: bool) -> Result<(), Stop> {
        loop {
            self.bits.refill(self.input, &mut self.pos);
            let mut b = self.bits;
            let symbol = self.scratch.litlen.decode(&mut b).map_err(missed)?;
            if symbol < END_OF_BLOCK {
                self.scratch.room(1, self.out, self.limit, self.wsize)?;
                self.scratch.window.push(symbol as u8);
            } else if symbol == END_OF_BLOCK {
                self.bits = b;
                self.state = if last { State::End } else { State::Header };
                return Ok(());
            } else {
                let i = usize::from(symbol - 257);
                if i >= LENGTH_BASE.len() {
                    return Err(InflateError::InvalidSymbol.into());
                }
                let length = usize::from(LENGTH_BASE[i]) + b.take(u32::from(LENGTH_EXTRA[i]))? as usize;
                let d = usize::from(self.scratch.dist.decode(&mut b).map_err(missed)?);
                if d >= DIST_SYMBOLS {
                    return Err(InflateError::InvalidSymbol.into());
                }
                let distance = usize::from(DIST_BASE[d]) + b.take(u32::from(DIST_EXTRA[d]))? as usize;
                if distance > self.wsize || distance > self.scratch.window.len() {
                    return Err(InflateError::DistanceTooFar.into());
                }
                self.scratch.room(length, self.out, self.limit, self.wsize)?;
                let window = &mut self.scratch.window;
                let from = window.len() - distance;
                if distance >= length {
                    window.extend_from_within(from..from + length);
                } else {
                    // An overlapping copy repeats the last `distance` bytes (RFC 1951 §3.2.3).
                    for i in from..from + length {
                        let byte = window[i];
                        window.push(byte);
                    }
                }
            }
            self.bits = b;
        }
    }
}

#[cfg(test)]
#[path = "inflater_tests.rs"]
mod tests;
