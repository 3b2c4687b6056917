//! The deflater: a message in, raw DEFLATE blocks out, ending in a sync flush (RFC 7692
//! §7.2.1).
//!
//! `lz77.rs` turns the message into symbols; here they are gathered into blocks of up to
//! [`BLOCK_SYMBOLS`], and each block is written in whichever of the three forms of RFC 1951
//! §3.2.3 comes out smallest — counted exactly, bit for bit, before anything is written:
//!
//! - **fixed** Huffman: no table to send, so it wins for short messages (a typical pushlab
//!   message of 100 bytes);
//! - **dynamic** Huffman: codes fitted to this block's symbol counts, at the cost of sending
//!   them (§3.2.7: ~40–80 bytes), so it wins once a block is a few hundred bytes;
//! - **stored**: for input that does not compress (already compressed, random).
//!
//! After the last block comes the empty stored block `00 00 ff ff`, which RFC 7692's sender
//! strips: [`Deflater::compress`] always ends its output with those four bytes (and on a
//! byte boundary), so the caller's `out.truncate(out.len() - 4)` is the whole transform.
//! With context takeover the window carries into the next message; [`Deflater::reset`]
//! drops it (`server_no_context_takeover`), and [`Deflater::take_scratch`] hands the big
//! buffers back for a pool.

use super::bitstream::BitWriter;
use super::huffman::{codes, lengths_from_frequencies, MAX_BITS};
use super::lz77::{params, Lz77, Params, Symbol, LOOKAHEAD};
use super::*;

/// Symbols per block before it is written: 8 192 × 6 bytes = 48 KiB of buffer. (A
/// dynamic block's header costs ~60 bytes, under 1% of a block this long.)
pub const BLOCK_SYMBOLS: usize = 8 * 1024;

/// The longest code-length code (RFC 1951 §3.2.7: its lengths are sent in 3 bits).
const MAX_CODE_LENGTH_BITS: usize = 7;

/// The deflater's big buffers: the window and lookahead (2 × 2^window_bits bytes), the hash
/// head and chain links (2 × 2 × 2^window_bits), the block's symbols (48 KiB) — 240 KiB
/// at 15 bits (zlib's level 6 takes 268 KiB), [`Scratch::bytes`] exactly.
pub struct Scratch {
    lz: Lz77,
    symbols: Vec<Symbol>,
    /// Where the current block's input starts in `lz.data`, while it is still there (a
    /// block may outlive a slide, and then cannot be stored).
    block_start: Option<usize>,
}

impl Scratch {
    /// Scratch for a window of 2^`window_bits` bytes.
    pub fn new(window_bits: u8) -> Box<Scratch> {
        Box::new(Scratch {
            lz: Lz77::new(window_bits),
            symbols: Vec::with_capacity(BLOCK_SYMBOLS),
            block_start: Some(0),
        })
    }

    /// What one [`Scratch`] for `window_bits` costs, in bytes.
    pub fn bytes(window_bits: u8) -> usize {
        let wsize = 1usize << window_bits;
        std::mem::size_of::<Scratch>()
            + 2 * wsize
            + 2 * 2 * wsize
            + BLOCK_SYMBOLS * std::mem::size_of::<Symbol>()
    }

    fn forget(&mut self) {
        self.lz.forget();
        self.symbols.clear();
        self.block_start = Some(0);
    }
}

/// A DEFLATE encoder for a sequence of messages.
///
/// Small (a few words) until it first compresses; then it owns a [`Scratch`].
pub struct Deflater {
    window_bits: u8,
    level: u8,
    scratch: Option<Box<Scratch>>,
}

impl Deflater {
    /// A deflater whose distances stay within 2^`window_bits` bytes
    /// ([`MIN_WINDOW_BITS`]..=[`MAX_WINDOW_BITS`]), at zlib's `level` 0–9 (0 stores only;
    /// 6 is zlib's default; above 9 is 9).
    pub fn new(window_bits: u8, level: u8) -> Deflater {
        assert!((MIN_WINDOW_BITS..=MAX_WINDOW_BITS).contains(&window_bits), "window bits {window_bits}");
        Deflater { window_bits, level: level.min(9), scratch: None }
    }

    /// Forgets the window: the next message is compressed alone (RFC 7692 §7.1.1).
    pub fn reset(&mut self) {
        if let Some(scratch) = &mut self.scratch {
            scratch.forget();
        }
    }

    /// [`Deflater::reset`], and hands back the big buffers, if any, for a pool.
    pub fn take_scratch(&mut self) -> Option<Box<Scratch>> {
        self.reset();
        self.scratch.take()
    }

    /// Gives the deflater buffers from a pool (made for the same window bits; others are
    /// dropped); implies [`Deflater::reset`].
    pub fn put_scratch(&mut self, scratch: Box<Scratch>) {
        if scratch.lz.wsize() == 1 << self.window_bits {
            self.scratch = Some(scratch);
        }
        self.reset();
    }

    /// Appends `message` compressed to `out`: blocks with BFINAL 0, then the empty stored
    /// block `00 00 ff ff` (a sync flush), so `out` ends on a byte boundary with [`TAIL`].
    /// With context takeover (no reset since), the blocks may point back into earlier
    /// messages.
    pub fn compress(&mut self, message: &[u8], out: &mut Vec<u8>) {
        let window_bits = self.window_bits;
        let scratch = self.scratch.get_or_insert_with(|| Scratch::new(window_bits));
        let mut writer = BitWriter::new(out);
        if self.level == 0 {
            write_stored(&mut writer, message);
        } else {
            compress_blocks(scratch, &params(self.level), message, &mut writer);
        }
        // RFC 7692 §7.2.1 (zlib's Z_SYNC_FLUSH): an empty stored block ends the message.
        writer.put(0, 3);
        writer.align_to_byte();
        writer.put_bytes(&TAIL);
    }
}

/// LZ77 over `message` after the window, a block whenever the symbols fill up or the
/// window must slide, and one at the end.
fn compress_blocks(scratch: &mut Scratch, params: &Params, message: &[u8], writer: &mut BitWriter) {
    let mut rest = message;
    loop {
        if scratch.lz.data.len() == scratch.lz.capacity() {
            // The oldest window goes (and with it, maybe, the start of the block's input).
            scratch.lz.slide();
            let wsize = scratch.lz.wsize();
            scratch.block_start = scratch.block_start.and_then(|start| start.checked_sub(wsize));
        }
        let take = rest.len().min(scratch.lz.capacity() - scratch.lz.data.len());
        scratch.lz.data.extend_from_slice(&rest[..take]);
        rest = &rest[take..];
        let last = rest.is_empty();
        // Until the message's end, stop where a match could still grow into unread input.
        let stop = if last { scratch.lz.data.len() } else { scratch.lz.data.len() - LOOKAHEAD };
        loop {
            scratch.lz.parse(stop, last, params, &mut scratch.symbols, BLOCK_SYMBOLS);
            if scratch.symbols.len() < BLOCK_SYMBOLS {
                break;
            }
            write_block(scratch, writer);
        }
        if last {
            break;
        }
    }
    if !scratch.symbols.is_empty() {
        write_block(scratch, writer);
    }
}

/// Symbol counts of a block and the extra bits its lengths and distances carry.
struct Counts {
    litlen: [u32; LITLEN_SYMBOLS],
    dist: [u32; DIST_SYMBOLS],
    extra_bits: u64,
}

fn count(symbols: &[Symbol]) -> Counts {
    let mut counts = Counts { litlen: [0; LITLEN_SYMBOLS], dist: [0; DIST_SYMBOLS], extra_bits: 0 };
    for symbol in symbols {
        match *symbol {
            Symbol::Literal(byte) => counts.litlen[usize::from(byte)] += 1,
            Symbol::Copy { length, distance } => {
                let l = length_code(length);
                let d = distance_code(distance);
                counts.litlen[257 + l] += 1;
                counts.dist[d] += 1;
                counts.extra_bits += u64::from(LENGTH_EXTRA[l]) + u64::from(DIST_EXTRA[d]);
            }
        }
    }
    counts.litlen[usize::from(END_OF_BLOCK)] = 1;
    counts
}

/// Bits the block's symbols take with these code lengths (extra bits included).
fn data_bits(counts: &Counts, litlen: &[u8], dist: &[u8]) -> u64 {
    let cost = |freq: &[u32], lengths: &[u8]| -> u64 {
        freq.iter().zip(lengths).map(|(&f, &l)| u64::from(f) * u64::from(l)).sum()
    };
    cost(&counts.litlen, litlen) + cost(&counts.dist, dist) + counts.extra_bits
}

/// A dynamic block's code lengths and how its header sends them (RFC 1951 §3.2.7).
struct Dynamic {
    litlen: [u8; LITLEN_SYMBOLS],
    dist: [u8; DIST_SYMBOLS],
    hlit: usize,
    hdist: usize,
    /// The lengths run-length coded: (code-length symbol 0–18, its extra bits' value).
    runs: Vec<(u8, u8)>,
    code_lengths: [u8; 19],
    hclen: usize,
    header_bits: u64,
}

fn plan_dynamic(counts: &Counts) -> Dynamic {
    let mut litlen = [0u8; LITLEN_SYMBOLS];
    let mut dist = [0u8; DIST_SYMBOLS];
    lengths_from_frequencies(&counts.litlen, MAX_BITS, &mut litlen);
    if counts.dist.iter().all(|&f| f == 0) {
        // No copies: still a complete distance code of two 1-bit codes, which every
        // decoder accepts (an empty one is legal but not everywhere welcome).
        dist[0] = 1;
        dist[1] = 1;
    } else {
        lengths_from_frequencies(&counts.dist, MAX_BITS, &mut dist);
    }
    let hlit = 257.max(litlen.iter().rposition(|&l| l != 0).map_or(0, |i| i + 1));
    let hdist = 1.max(dist.iter().rposition(|&l| l != 0).map_or(0, |i| i + 1));
    let mut all = litlen[..hlit].to_vec();
    all.extend_from_slice(&dist[..hdist]);
    let runs = run_lengths(&all);
    let mut freq = [0u32; 19];
    for &(symbol, _) in &runs {
        freq[usize::from(symbol)] += 1;
    }
    let mut code_lengths = [0u8; 19];
    lengths_from_frequencies(&freq, MAX_CODE_LENGTH_BITS, &mut code_lengths);
    let hclen = 4.max(CODE_LENGTH_ORDER.iter().rposition(|&s| code_lengths[s] != 0).map_or(0, |i| i + 1));
    let run_bits: u64 =
        runs.iter().map(|&(s, _)| u64::from(code_lengths[usize::from(s)]) + u64::from(repeat_extra(s))).sum();
    let header_bits = 5 + 5 + 4 + 3 * hclen as u64 + run_bits;
    Dynamic { litlen, dist, hlit, hdist, runs, code_lengths, hclen, header_bits }
}

/// Extra bits after code-length symbol `s` (RFC 1951 §3.2.7).
fn repeat_extra(s: u8) -> u8 {
    match s {
        16 => 2,
        17 => 3,
        18 => 7,
        _ => 0,
    }
}

/// RFC 1951 §3.2.7's run-length code: 16 repeats the previous length 3–6 times, 17 and
/// 18 write 3–10 and 11–138 zeros.
fn run_lengths(lengths: &[u8]) -> Vec<(u8, u8)> {
    let mut runs = Vec::new();
    let mut i = 0;
    while i < lengths.len() {
        let value = lengths[i];
        let run = lengths[i..].iter().take_while(|&&l| l == value).count();
        let mut left = run;
        if value == 0 {
            while left >= 11 {
                let n = left.min(138);
                runs.push((18, (n - 11) as u8));
                left -= n;
            }
            if left >= 3 {
                runs.push((17, (left - 3) as u8));
                left = 0;
            }
        } else {
            runs.push((value, 0));
            left -= 1;
            while left >= 3 {
                let n = left.min(6);
                runs.push((16, (n - 3) as u8));
                left -= n;
            }
        }
        runs.extend(std::iter::repeat_n((value, 0), left));
        i += run;
    }
    runs
}

/// Writes the symbols gathered since `block_start` as the smallest of the three block
/// types, and starts the next block.
fn write_block(scratch: &mut Scratch, w: &mut BitWriter) {
    let end = scratch.lz.covered();
    let raw = scratch.block_start.map(|start| &scratch.lz.data[start..end]);
    let symbols = &scratch.symbols;
    let counts = count(symbols);
    let fixed_litlen = fixed_litlen_lengths();
    let fixed_bits = 3 + data_bits(&counts, &fixed_litlen, &FIXED_DIST_LENGTHS);
    let dynamic = plan_dynamic(&counts);
    let dynamic_bits = 3 + dynamic.header_bits + data_bits(&counts, &dynamic.litlen, &dynamic.dist);
    // Stored: the header, padding to a byte, LEN and NLEN per 65 535 bytes, the bytes.
    let stored_bits = raw.map_or(u64::MAX, |raw| {
        let pieces = raw.len().div_ceil(0xFFFF).max(1) as u64;
        let padding = u64::from((8 - (w.bits_into_byte() + 3) % 8) % 8);
        3 + padding + 32 + (pieces - 1) * (3 + 5 + 32) + 8 * raw.len() as u64
    });
    if let Some(raw) = raw.filter(|_| stored_bits <= fixed_bits.min(dynamic_bits)) {
        write_stored(w, raw);
    } else if fixed_bits <= dynamic_bits {
        // BFINAL 0, BTYPE 01.
        w.put(0b010, 3);
        write_symbols(w, symbols, &fixed_litlen, &FIXED_DIST_LENGTHS);
    } else {
        // BFINAL 0, BTYPE 10, then HLIT, HDIST, HCLEN and the code lengths (§3.2.7).
        w.put(0b100, 3);
        w.put((dynamic.hlit - 257) as u32, 5);
        w.put((dynamic.hdist - 1) as u32, 5);
        w.put((dynamic.hclen - 4) as u32, 4);
        for &s in &CODE_LENGTH_ORDER[..dynamic.hclen] {
            w.put(u32::from(dynamic.code_lengths[s]), 3);
        }
        let mut code = [0u16; 19];
        codes(&dynamic.code_lengths, &mut code);
        for &(s, extra) in &dynamic.runs {
            w.put(u32::from(code[usize::from(s)]), u32::from(dynamic.code_lengths[usize::from(s)]));
            w.put(u32::from(extra), u32::from(repeat_extra(s)));
        }
        write_symbols(w, symbols, &dynamic.litlen[..dynamic.hlit], &dynamic.dist[..dynamic.hdist]);
    }
    scratch.symbols.clear();
    scratch.block_start = Some(end);
}

/// The symbols in the codes with these lengths, then end-of-block (RFC 1951 §3.2.5).
fn write_symbols(w: &mut BitWriter, symbols: &[Symbol], litlen_lengths: &[u8], dist_lengths: &[u8]) {
    let mut litlen = [0u16; 288];
    let mut dist = [0u16; 32];
    codes(litlen_lengths, &mut litlen);
    codes(dist_lengths, &mut dist);
    let put = |w: &mut BitWriter, codes: &[u16], lengths: &[u8], s: usize| {
        w.put(u32::from(codes[s]), u32::from(lengths[s]));
    };
    for symbol in symbols {
        match *symbol {
            Symbol::Literal(byte) => put(w, &litlen, litlen_lengths, usize::from(byte)),
            Symbol::Copy { length, distance } => {
                let l = length_code(length);
                put(w, &litlen, litlen_lengths, 257 + l);
                w.put(u32::from(length - LENGTH_BASE[l]), u32::from(LENGTH_EXTRA[l]));
                let d = distance_code(distance);
                put(w, &dist, dist_lengths, d);
                w.put(u32::from(distance - DIST_BASE[d]), u32::from(DIST_EXTRA[d]));
            }
        }
    }
    put(w, &litlen, litlen_lengths, usize::from(END_OF_BLOCK));
}

/// `bytes` as stored blocks of at most 65 535 bytes, BFINAL 0 (RFC 1951 §3.2.4); one empty
/// block if `bytes` is empty.
fn write_stored(w: &mut BitWriter, bytes: &[u8]) {
    let mut pieces = bytes.chunks(0xFFFF).peekable();
    if pieces.peek().is_none() {
        return;
    }
    for piece in pieces {
        w.put(0, 3);
        w.align_to_byte();
        let len = piece.len() as u16;
        w.put_bytes(&len.to_le_bytes());
        w.put_bytes(&(!len).to_le_bytes());
        w.put_bytes(piece);
    }
}

/// The length range (index into [`LENGTH_BASE`]) holding `length` (3..=258): a table made
/// at compile time from the RFC's ranges.
fn length_code(length: u16) -> usize {
    usize::from(LENGTH_CODE[usize::from(length) - MIN_MATCH])
}

const LENGTH_CODE: [u8; MAX_MATCH - MIN_MATCH + 1] = {
    let mut table = [0u8; MAX_MATCH - MIN_MATCH + 1];
    let mut code = 0;
    while code < 29 {
        let mut length = LENGTH_BASE[code] as usize;
        let end = if code == 28 { 259 } else { LENGTH_BASE[code + 1] as usize };
        while length < end {
            table[length - MIN_MATCH] = code as u8;
            length += 1;
        }
        code += 1;
    }
    // 258 has a code of its own (285), though 284's range reaches it too (RFC 1951 §3.2.5).
    table[MAX_MATCH - MIN_MATCH] = 28;
    table
};

/// The distance range holding `distance` (1..=32768): from its top two bits, since each
/// pair of ranges doubles (RFC 1951 §3.2.5).
fn distance_code(distance: u16) -> usize {
    let d = u32::from(distance) - 1;
    if d < 4 {
        d as usize
    } else {
        let top = 31 - d.leading_zeros();
        (2 * top + ((d >> (top - 1)) & 1)) as usize
    }
}

#[cfg(test)]
#[path = "deflater_tests.rs"]
mod tests;
