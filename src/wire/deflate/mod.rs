//! `wire::deflate` — DEFLATE (RFC 1951), both ways, for WebSocket's permessage-deflate
//! (RFC 7692).
//!
//! Heads up! Read RFC 1951 §3 (it is ten pages) and RFC 7692 §7.2 before changing anything
//! here; Mark Adler's `puff.c` (zlib's `contrib/puff/`) is the best companion to the first.
//!
//! ## How DEFLATE squeezes bytes
//!
//! Two ideas, one after the other.
//!
//! **LZ77** replaces a repeat by a pointer back to where the same bytes were seen before:
//! `Hello, Hello` becomes the seven literals `H e l l o , ␣` and then *(length 5, distance
//! 7)* — "copy 5 bytes starting 7 bytes back". Lengths are 3..=258, distances 1..=32768: the
//! *window* is the last 32 KiB of output (RFC 1951 §2). A copy may overlap itself: *(length
//! 10, distance 1)* after an `a` writes ten more `a`s. The decoder needs nothing but the
//! window; all the work — finding the repeats — is the encoder's (`lz77.rs`: hash chains
//! over three-byte prefixes, and *lazy matching*: before taking a match, look one byte
//! further for a longer one).
//!
//! **Huffman coding** then writes the stream of literals and (length, distance) pairs with
//! short bit strings for frequent symbols and long ones for rare ones. One alphabet, 0..=285,
//! holds the literal bytes (0–255), end-of-block (256) and length *ranges* (257–285; extra
//! bits after the code pick the length inside its range); a second alphabet, 0..=29, holds
//! distance ranges, again with extra bits (RFC 1951 §3.2.5). A code is *canonical* (§3.2.2):
//! only each symbol's code *length* is sent, and the codes follow from the lengths, so a
//! decoder rebuilds the exact tree from 286 + 30 small numbers (`huffman.rs`).
//!
//! ## The block format (RFC 1951 §3.2.3)
//!
//! A stream is a sequence of blocks. Each starts with three bits, `BFINAL` (is this the last
//! block?) and `BTYPE`, then:
//!
//! - `00` **stored**: skip to a byte boundary, `LEN` and `NLEN = !LEN` (16 bits each, little
//!   endian), then `LEN` raw bytes (§3.2.4). No compression, but a fixed, tiny cost.
//! - `01` **fixed Huffman**: codes from a table in the RFC (§3.2.6); good for short input.
//! - `10` **dynamic Huffman**: the block first sends its own code lengths — themselves
//!   Huffman-coded with a third, 19-symbol alphabet and run-lengths (§3.2.7) — then the data.
//! - `11` is an error.
//!
//! Bits are packed least-significant first, but Huffman codes are sent most-significant bit
//! first (§3.1.1): `bitstream.rs` holds both readers and the writer, so nothing else counts bits.
//!
//! ## What RFC 7692 needs
//!
//! permessage-deflate compresses each message as *raw* DEFLATE — no zlib header (RFC 1950)
//! and no checksum. A sender ends each message with a **sync flush**: the empty stored block
//! `00 00 ff ff` (BFINAL 0, BTYPE 00, padding, `LEN 0000`, `NLEN ffff`), which ends the data
//! on a byte boundary, and then *removes* those four bytes (RFC 7692 §7.2.1). A receiver
//! appends them again before inflating (§7.2.2): [`TAIL`]. The stream never "ends": with
//! *context takeover* (the default) the next message is read with the same window, so it may
//! point back into the previous one; `server_no_context_takeover` / `client_no_context_takeover`
//! make each message stand alone ([`Deflater::reset`], [`Inflater::reset`]).
//!
//! | file | what |
//! |---|---|
//! | `bitstream.rs` | LSB-first bit reader (resumable) and writer |
//! | `huffman.rs` | canonical codes from lengths, the decoding table, lengths from frequencies |
//! | `inflater.rs` | [`Inflater`]: the incremental decoder, a state machine over any input split |
//! | `lz77.rs` | the encoder's match finder: hash chains, lazy matching |
//! | `deflater.rs` | [`Deflater`]: blocks — stored, fixed or dynamic, whichever is smallest |
//!
//! Memory: an [`Inflater`] or [`Deflater`] is small until it codes; its big buffers live in a
//! `Scratch` that is allocated on first use and can be taken out and pooled between messages
//! when there is no context takeover ([`InflateScratch`], [`DeflateScratch`] give the bytes).
#![forbid(unsafe_code)]

mod bitstream;
pub mod deflater;
mod huffman;
pub mod inflater;
mod lz77;

pub use deflater::{Deflater, Scratch as DeflateScratch};
pub use inflater::{InflateError, InflateStatus, Inflater, Scratch as InflateScratch};

/// The empty stored block of a sync flush: what RFC 7692 §7.2.1 strips from the end of each
/// compressed message and §7.2.2 appends again before inflating.
pub const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The smallest and largest LZ77 window we code with, as `log2(bytes)`: RFC 7692 §7.1.2
/// allows 8..=15, and like zlib we go no lower than 9 (512 bytes).
pub const MIN_WINDOW_BITS: u8 = 9;
/// See [`MIN_WINDOW_BITS`]; 15 is DEFLATE's own 32 KiB.
pub const MAX_WINDOW_BITS: u8 = 15;

// RFC 1951 §3.2.5: the length and distance ranges. Symbol 257 + i stands for lengths
// LENGTH_BASE[i] .. LENGTH_BASE[i] + 2^LENGTH_EXTRA[i] - 1, picked by that many extra bits.

/// Smallest and largest LZ77 copy (RFC 1951 §3.2.5).
pub(crate) const MIN_MATCH: usize = 3;
pub(crate) const MAX_MATCH: usize = 258;

/// The end-of-block symbol of the literal/length alphabet (RFC 1951 §3.2.5).
pub(crate) const END_OF_BLOCK: u16 = 256;

/// Literal/length symbols a block may use (257 + 29 length ranges), and distance symbols.
pub(crate) const LITLEN_SYMBOLS: usize = 286;
pub(crate) const DIST_SYMBOLS: usize = 30;

pub(crate) const LENGTH_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195,
    227, 258,
];
pub(crate) const LENGTH_EXTRA: [u8; 29] =
    [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
pub(crate) const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
    4097, 6145, 8193, 12289, 16385, 24577,
];
pub(crate) const DIST_EXTRA: [u8; 30] =
    [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];

/// RFC 1951 §3.2.7: the order in which a dynamic block sends the code-length code's lengths
/// (the ones most likely to be zero last, so HCLEN can cut them off).
pub(crate) const CODE_LENGTH_ORDER: [usize; 19] =
    [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/// RFC 1951 §3.2.6: the fixed literal/length code lengths — 0–143: 8 bits, 144–255: 9,
/// 256–279: 7, 280–287: 8 (286 and 287 have codes but never occur).
pub(crate) const fn fixed_litlen_lengths() -> [u8; 288] {
    let mut lengths = [8u8; 288];
    let mut i = 144;
    while i < 256 {
        lengths[i] = 9;
        i += 1;
    }
    while i < 280 {
        lengths[i] = 7;
        i += 1;
    }
    lengths
}

/// RFC 1951 §3.2.6: every fixed distance code is 5 bits (30 and 31 never occur).
pub(crate) const FIXED_DIST_LENGTHS: [u8; 32] = [5; 32];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_ranges_tile_lengths_and_distances() {
        // Each range starts where the previous one ends (258 stands alone, RFC 1951 §3.2.5).
        for i in 1..28 {
            assert_eq!(LENGTH_BASE[i], LENGTH_BASE[i - 1] + (1 << LENGTH_EXTRA[i - 1]));
        }
        assert_eq!(LENGTH_BASE[27] + (1 << LENGTH_EXTRA[27]) - 1, 258, "284 reaches 258 too");
        for i in 1..30 {
            assert_eq!(DIST_BASE[i], DIST_BASE[i - 1] + (1 << DIST_EXTRA[i - 1]));
        }
        assert_eq!(u32::from(DIST_BASE[29]) + (1 << DIST_EXTRA[29]) - 1, 32768);
    }
}
