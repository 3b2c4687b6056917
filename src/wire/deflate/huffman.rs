//! Canonical Huffman codes (RFC 1951 §3.2.2): lengths → codes for the writer, lengths → a
//! decoding table for the reader, and frequencies → lengths for the deflater.
//!
//! A DEFLATE block never sends a code, only each symbol's code *length*; the codes follow
//! by one rule (§3.2.2): shorter codes come first, and codes of one length are consecutive
//! numbers in symbol order. Lengths `A:2 B:1 C:3 D:3` give `B=0`, `A=10`, `C=110`,
//! `D=111`. Counting the codes of each length is enough to decode, as puff.c does: walk the
//! bits one at a time, and at each length ask whether the code so far falls among that
//! length's codes ([`Decoder::decode_slow`]). [`Decoder::decode`] is the fast twin: one
//! look-up in a table indexed by the next [`TABLE_BITS`] bits answers every code that short,
//! and the rare longer codes fall back to the walk. A test proves the two equal.
//!
//! Codes are sent most-significant bit first (§3.1.1) into an LSB-first stream, so a code
//! read from the stream's low bits comes out reversed: the table is indexed by reversed
//! codes, and [`codes`] hands the writer reversed codes to put as ordinary numbers.

use super::bitstream::Bits;

/// The longest code DEFLATE allows (RFC 1951 §3.2.7: lengths are 0–15).
pub(crate) const MAX_BITS: usize = 15;
/// Bits the decoding table is indexed by: 2^10 entries of 2 bytes.
pub(crate) const TABLE_BITS: u32 = 10;
/// Symbols in the largest alphabet: literal/length, 288 with the fixed code's two unused.
pub(crate) const MAX_SYMBOLS: usize = 288;

/// Table entries: `symbol << 4 | length`; a zero entry means "longer than TABLE_BITS, or no
/// code here", and sends the decoder down the slow walk.
const LENGTH_MASK: u16 = 0xF;

/// `code`'s low `len` bits in the opposite order.
pub(crate) fn reverse(code: u16, len: u8) -> u16 {
    if len == 0 {
        0
    } else {
        code.reverse_bits() >> (16 - u32::from(len))
    }
}

/// RFC 1951 §3.2.2's three steps: count the codes of each length, find the first code of
/// each length, then number the symbols. `out[n]` is symbol `n`'s code, bit-reversed for
/// an LSB-first writer; symbols of length 0 get 0. The lengths must form a valid code.
pub(crate) fn codes(lengths: &[u8], out: &mut [u16]) {
    let mut count = [0u16; MAX_BITS + 1];
    for &len in lengths {
        count[usize::from(len)] += 1;
    }
    count[0] = 0;
    let mut next = [0u16; MAX_BITS + 1];
    let mut code = 0u16;
    for bits in 1..=MAX_BITS {
        code = (code + count[bits - 1]) << 1;
        next[bits] = code;
    }
    for (symbol, &len) in lengths.iter().enumerate() {
        if len != 0 {
            out[symbol] = reverse(next[usize::from(len)], len);
            next[usize::from(len)] += 1;
        }
    }
}

/// How a set of lengths fills the code space (Kraft's sum).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fit {
    /// Every bit pattern is some symbol's code.
    Complete,
    /// No symbol has a code.
    Empty,
    /// One symbol, of length 1: half the patterns mean nothing (zlib allows this, and only
    /// this, incomplete code — RFC 1951 §3.2.7 "one distance code of one bit").
    Single,
    /// Some patterns mean nothing, and more than one symbol has a code.
    Incomplete,
    /// More codes than patterns: no prefix code has these lengths.
    Oversubscribed,
}

/// Why a decode did not give a symbol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Miss {
    /// The input ends inside the code; nothing was consumed.
    Short,
    /// These bits are no symbol's code (only in an incomplete code).
    NoSymbol,
}

/// A decoder for one canonical code: puff.c's counts and symbols, plus the fast table.
/// 32 + 576 + 2048 = 2 656 bytes.
#[derive(Clone)]
pub(crate) struct Decoder {
    /// `count[len]`: how many codes have length `len`.
    count: [u16; MAX_BITS + 1],
    /// The symbols with codes, ordered by code (length, then symbol).
    symbol: [u16; MAX_SYMBOLS],
    table: [u16; 1 << TABLE_BITS],
}

impl Decoder {
    pub(crate) const fn new() -> Self {
        Decoder { count: [0; MAX_BITS + 1], symbol: [0; MAX_SYMBOLS], table: [0; 1 << TABLE_BITS] }
    }

    /// Builds the decoder for `lengths` (at most [`MAX_SYMBOLS`], each 0..=15) and says how
    /// they fill the code space. Whatever the answer, decoding afterwards never panics; the
    /// caller decides which fits its rule allows.
    pub(crate) fn build(&mut self, lengths: &[u8]) -> Fit {
        self.count = [0; MAX_BITS + 1];
        for &len in lengths {
            self.count[usize::from(len)] += 1;
        }
        let used = lengths.len() - usize::from(self.count[0]);
        self.count[0] = 0;
        // Kraft: each length-`len` code takes 2^(15 - len) of the 2^15 patterns.
        let mut left: i32 = 1;
        for len in 1..=MAX_BITS {
            left = (left << 1) - i32::from(self.count[len]);
            if left < 0 {
                self.table = [0; 1 << TABLE_BITS];
                return Fit::Oversubscribed;
            }
        }
        // offset[len]: where the symbols of length `len` start in `symbol`.
        let mut offset = [0u16; MAX_BITS + 2];
        for len in 1..=MAX_BITS {
            offset[len + 1] = offset[len] + self.count[len];
        }
        for (symbol, &len) in lengths.iter().enumerate() {
            if len != 0 {
                self.symbol[usize::from(offset[usize::from(len)])] = symbol as u16;
                offset[usize::from(len)] += 1;
            }
        }
        self.fill_table(lengths);
        match (left, used) {
            (0, _) => Fit::Complete,
            (_, 0) => Fit::Empty,
            (_, 1) if self.count[1] == 1 => Fit::Single,
            _ => Fit::Incomplete,
        }
    }

    /// Every code of at most TABLE_BITS bits, at every index whose low bits are that code.
    fn fill_table(&mut self, lengths: &[u8]) {
        self.table = [0; 1 << TABLE_BITS];
        let mut reversed = [0u16; MAX_SYMBOLS];
        codes(lengths, &mut reversed);
        for (symbol, &len) in lengths.iter().enumerate() {
            if len == 0 || u32::from(len) > TABLE_BITS {
                continue;
            }
            let entry = (symbol as u16) << 4 | u16::from(len);
            let mut index = usize::from(reversed[symbol]);
            while index < self.table.len() {
                self.table[index] = entry;
                index += 1 << len;
            }
        }
    }

    /// The next symbol: one table look-up, or the walk for a code longer than TABLE_BITS.
    pub(crate) fn decode(&self, bits: &mut Bits) -> Result<u16, Miss> {
        let entry = self.table[(bits.peek() as usize) & ((1 << TABLE_BITS) - 1)];
        let len = u32::from(entry & LENGTH_MASK);
        if len == 0 {
            return self.decode_slow(bits);
        }
        // Past `count` the accumulator holds zeros: an entry longer than the bits we have
        // may not be the real code, and no shorter code matches them (codes are prefix-free).
        if len > bits.count() {
            return Err(Miss::Short);
        }
        bits.consume(len);
        Ok(entry >> 4)
    }

    /// The slow twin, puff.c's `decode()`: one bit at a time, is the code so far among the
    /// codes of this length? `code - first` is then its place among them.
    pub(crate) fn decode_slow(&self, bits: &mut Bits) -> Result<u16, Miss> {
        let next = bits.peek();
        let (mut code, mut first, mut index) = (0u32, 0u32, 0u32);
        for len in 1..=MAX_BITS as u32 {
            if len > bits.count() {
                return Err(Miss::Short);
            }
            code |= ((next >> (len - 1)) & 1) as u32;
            let count = u32::from(self.count[len as usize]);
            if code < first + count {
                bits.consume(len);
                return Ok(self.symbol[(index + code - first) as usize]);
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        Err(Miss::NoSymbol)
    }
}

/// Code lengths of at most `max_bits` for symbols used `freq[n]` times: a Huffman code
/// (two-queue construction), limited as miniz does, then handed out longest-first to the
/// rarest symbols. At least two symbols always get codes — a lone used symbol is paired with
/// a neighbour — so the code is complete, which every decoder accepts.
pub(crate) fn lengths_from_frequencies(freq: &[u32], max_bits: usize, lengths: &mut [u8]) {
    debug_assert!(freq.len() <= MAX_SYMBOLS && lengths.len() >= freq.len());
    lengths.iter_mut().for_each(|len| *len = 0);
    let mut order: Vec<(u32, u16)> =
        freq.iter().enumerate().filter(|(_, &f)| f > 0).map(|(s, &f)| (f, s as u16)).collect();
    match order.len() {
        0 => return,
        1 => {
            let other = if order[0].1 == 0 { 1 } else { 0 };
            lengths[usize::from(order[0].1)] = 1;
            lengths[other] = 1;
            return;
        }
        _ => {}
    }
    order.sort_unstable();
    let n = order.len();
    // Nodes 0..n are the leaves in increasing weight; n.. are internal nodes, made in
    // increasing weight too, so the two lightest are always at the front of one of the queues.
    let mut weight: Vec<u64> = order.iter().map(|&(f, _)| u64::from(f)).collect();
    weight.resize(2 * n - 1, 0);
    let mut parent = vec![0usize; 2 * n - 1];
    let (mut leaf, mut inner) = (0, n);
    for next in n..2 * n - 1 {
        let mut lightest = || {
            if leaf < n && (inner >= next || weight[leaf] <= weight[inner]) {
                leaf += 1;
                leaf - 1
            } else {
                inner += 1;
                inner - 1
            }
        };
        let (a, b) = (lightest(), lightest());
        weight[next] = weight[a] + weight[b];
        parent[a] = next;
        parent[b] = next;
    }
    // Depths: a parent always comes after its children, so walk down from the root.
    let mut depth = vec![0usize; 2 * n - 1];
    for node in (0..2 * n - 2).rev() {
        depth[node] = depth[parent[node]] + 1;
    }
    let mut count = [0usize; 2 * MAX_SYMBOLS];
    for &d in &depth[..n] {
        count[d] += 1;
    }
    // Too long: fold the deep codes into max_bits, then, while the code space is
    // oversubscribed, drop a code from the longest length and split a shorter code in two.
    for d in max_bits + 1..count.len() {
        count[max_bits] += count[d];
        count[d] = 0;
    }
    let mut total: usize = (1..=max_bits).map(|d| count[d] << (max_bits - d)).sum();
    while total > 1 << max_bits {
        count[max_bits] -= 1;
        if let Some(d) = (1..max_bits).rev().find(|&d| count[d] != 0) {
            count[d] -= 1;
            count[d + 1] += 2;
        }
        total -= 1;
    }
    // Longest codes to the rarest symbols (the front of `order`).
    let mut symbols = order.iter().map(|&(_, s)| usize::from(s));
    for d in (1..=max_bits).rev() {
        for _ in 0..count[d] {
            lengths[symbols.next().expect("as many lengths as symbols")] = d as u8;
        }
    }
}

#[cfg(test)]
#[path = "huffman_tests.rs"]
mod tests;
