//! The deflater's match finder: LZ77 with hash chains and lazy matching (RFC 1951 §4).
//!
//! RFC 1951 §4 sketches the method every DEFLATE encoder since zlib uses: hash the three
//! bytes at each position; `head[hash]` is the latest position with that hash, and
//! `prev[position]` links it to the one before — a *chain* of earlier places that may start
//! the same bytes, newest (nearest) first. To find a match at `pos`, walk the chain, compare,
//! keep the longest; how far to walk is the level's trade of speed for size ([`Params`]).
//! The chain is only a hint: every candidate is compared byte by byte, so a stale entry can
//! waste a step but never produce a wrong match.
//!
//! **Lazy matching** (§4: "the compressor … checks whether a longer match can be found
//! starting at the next byte"): having found a match at `pos`, look at `pos + 1` too; if that
//! one is longer, send `data[pos]` as a literal and take the later match instead.
//!
//! [`Lz77::data`] holds the window and the input after it, up to twice the window; when it is
//! full the deflater slides it down by one window ([`Lz77::slide`]) and the chains with it.

use super::{MAX_MATCH, MIN_MATCH};

/// How hard a level looks, as zlib's `configuration_table` (deflate.c) tunes it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Params {
    /// A previous match this long is good enough: walk only a quarter of the chain.
    good: usize,
    /// A previous match this long is not worth a lazy look at the next byte.
    lazy: usize,
    /// A match this long ends the walk.
    nice: usize,
    /// Chain entries to try at most.
    chain: usize,
}

/// zlib's parameters for levels 1–9 (0 stores and never asks).
pub(crate) fn params(level: u8) -> Params {
    let (good, lazy, nice, chain) = match level {
        0 | 1 => (4, 4, 8, 4),
        2 => (4, 5, 16, 8),
        3 => (4, 6, 32, 32),
        4 => (4, 4, 16, 16),
        5 => (8, 16, 32, 32),
        6 => (8, 16, 128, 128),
        7 => (8, 32, 128, 256),
        8 => (32, 128, 258, 1024),
        _ => (32, 258, 258, 4096),
    };
    Params { good, lazy, nice, chain }
}

/// What LZ77 makes of the input: a literal byte, or a copy of `length` bytes from
/// `distance` back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Symbol {
    Literal(u8),
    Copy { length: u16, distance: u16 },
}

/// Input a match may need beyond its start before we may look for it there, unless the
/// message ends sooner: the longest match plus a hash's three bytes.
pub(crate) const LOOKAHEAD: usize = MAX_MATCH + MIN_MATCH + 1;

/// The window, the input after it, the hash chains and the lazy-matching state.
pub(crate) struct Lz77 {
    /// The last window of coded bytes, then the bytes not yet coded.
    pub(crate) data: Vec<u8>,
    /// `head[hash]`: the latest position whose three bytes have that hash.
    head: Box<[u16]>,
    /// `prev[pos % wsize]`: the position before `pos` with the same hash.
    prev: Box<[u16]>,
    hash_shift: u32,
    wsize: usize,
    /// The next position to look at.
    pub(crate) pos: usize,
    /// `data[pos - 1]` is not coded yet: it waits to see whether `pos` has a longer match.
    pending: bool,
    /// The match found at `pos - 1`, if `pending` (length 0: none).
    pending_match: (usize, usize),
}

impl Lz77 {
    /// A match finder for a window of 2^`window_bits` bytes: `data` is twice that, `head`
    /// and `prev` 2 bytes per window byte each.
    pub(crate) fn new(window_bits: u8) -> Self {
        let wsize = 1usize << window_bits;
        Lz77 {
            data: Vec::with_capacity(2 * wsize),
            head: vec![0; wsize].into_boxed_slice(),
            prev: vec![0; wsize].into_boxed_slice(),
            hash_shift: 32 - u32::from(window_bits),
            wsize,
            pos: 0,
            pending: false,
            pending_match: (0, 0),
        }
    }

    /// Bytes of `data` already turned into symbols.
    pub(crate) fn covered(&self) -> usize {
        self.pos - usize::from(self.pending)
    }

    /// The capacity of `data`: two windows.
    pub(crate) fn capacity(&self) -> usize {
        2 * self.wsize
    }

    /// The window size in bytes.
    pub(crate) fn wsize(&self) -> usize {
        self.wsize
    }

    /// Forgets everything: an empty window (no context takeover). Costs what the data held
    /// cost to hash, not the table sizes, so a short message's reset is cheap; and leaves
    /// the tables exactly as new, so equal messages compress to equal bytes.
    pub(crate) fn forget(&mut self) {
        if self.data.len() >= self.wsize {
            self.head.fill(0);
            self.prev.fill(0);
        } else {
            for pos in 0..self.data.len().saturating_sub(MIN_MATCH - 1) {
                let hash = self.hash(pos);
                self.head[hash] = 0;
                self.prev[pos] = 0;
            }
        }
        self.data.clear();
        self.pos = 0;
        self.pending = false;
        self.pending_match = (0, 0);
    }

    /// Drops the oldest window of `data` (every byte before `covered()` minus a window must
    /// already be coded) and moves the chains down with it.
    pub(crate) fn slide(&mut self) {
        debug_assert!(self.covered() >= self.wsize);
        self.data.drain(..self.wsize);
        self.pos -= self.wsize;
        // Positions from the dropped window become 0: a candidate that the comparison
        // will reject, never a wrong match.
        let w = self.wsize as u16;
        for entry in self.head.iter_mut().chain(self.prev.iter_mut()) {
            *entry = entry.saturating_sub(w);
        }
    }

    /// The hash of the three bytes at `pos` (Knuth's multiplicative hash, top bits).
    fn hash(&self, pos: usize) -> usize {
        let three = u32::from(self.data[pos])
            | u32::from(self.data[pos + 1]) << 8
            | u32::from(self.data[pos + 2]) << 16;
        (three.wrapping_mul(0x9E37_79B1) >> self.hash_shift) as usize
    }

    /// Links `pos` into its chain.
    fn insert(&mut self, pos: usize) {
        if pos + MIN_MATCH <= self.data.len() {
            let hash = self.hash(pos);
            self.prev[pos & (self.wsize - 1)] = self.head[hash];
            self.head[hash] = pos as u16;
        }
    }

    /// The longest match for `pos` (already inserted) that beats `shortest`, walking the
    /// chain: `(length, distance)`, or length 0.
    fn longest_match(&self, pos: usize, shortest: usize, params: &Params) -> (usize, usize) {
        let max_len = MAX_MATCH.min(self.data.len() - pos);
        if max_len < MIN_MATCH {
            return (0, 0);
        }
        let oldest = pos.saturating_sub(self.wsize);
        let mut chain = if shortest >= params.good { params.chain / 4 } else { params.chain };
        let (mut best_len, mut best_dist) = (shortest.max(MIN_MATCH - 1), 0);
        if best_len >= max_len {
            return (0, 0);
        }
        let mut candidate = usize::from(self.prev[pos & (self.wsize - 1)]);
        while candidate < pos && candidate >= oldest {
            // Only a candidate that agrees at `best_len` can be longer: one byte first.
            if self.data[candidate + best_len] == self.data[pos + best_len] {
                let len = match_length(&self.data, candidate, pos, max_len);
                if len > best_len {
                    (best_len, best_dist) = (len, pos - candidate);
                    if len >= params.nice || len == max_len {
                        break;
                    }
                }
            }
            chain -= 1;
            let next = usize::from(self.prev[candidate & (self.wsize - 1)]);
            // Chains only go back; a link forward is stale (overwritten by a newer position).
            if chain == 0 || next >= candidate {
                break;
            }
            candidate = next;
        }
        if best_dist == 0 {
            (0, 0)
        } else {
            (best_len, best_dist)
        }
    }

    /// Codes `data[pos..stop]` into `symbols` (lazily: a byte may wait for the next
    /// position), returning early when `symbols` holds `room` or more. With `last`, `stop` is
    /// the end of the input and nothing is left waiting.
    pub(crate) fn parse(
        &mut self,
        stop: usize,
        last: bool,
        params: &Params,
        symbols: &mut Vec<Symbol>,
        room: usize,
    ) {
        while self.pos < stop && symbols.len() < room {
            let pos = self.pos;
            self.insert(pos);
            let (prev_len, prev_dist) = self.pending_match;
            let (len, dist) = if self.pending && prev_len >= params.lazy {
                (0, 0)
            } else {
                self.longest_match(pos, if self.pending { prev_len } else { 0 }, params)
            };
            if self.pending && prev_len >= MIN_MATCH && len <= prev_len {
                // The match at pos - 1 stands: send it, and hash the bytes it covers.
                symbols.push(Symbol::Copy { length: prev_len as u16, distance: prev_dist as u16 });
                let end = pos - 1 + prev_len;
                for inside in pos + 1..end {
                    self.insert(inside);
                }
                self.pos = end;
                self.pending = false;
                self.pending_match = (0, 0);
            } else {
                if self.pending {
                    symbols.push(Symbol::Literal(self.data[pos - 1]));
                }
                self.pending = true;
                self.pending_match = (len, dist);
                self.pos = pos + 1;
            }
        }
        if last && self.pos >= stop && self.pending {
            // A match at the last positions was sent when the next one was looked at, so
            // what waits at the end is a literal.
            debug_assert!(self.pending_match.0 < MIN_MATCH);
            symbols.push(Symbol::Literal(self.data[self.pos - 1]));
            self.pending = false;
            self.pending_match = (0, 0);
        }
    }
}

/// How many bytes from `a` and `b` agree, up to `max` (`a < b`, `b + max` ≤ `data.len()`):
/// eight at a time, the first difference found by the XOR's trailing zero bits.
pub(crate) fn match_length(data: &[u8], a: usize, b: usize, max: usize) -> usize {
    let mut len = 0;
    while len + 8 <= max {
        let x = u64::from_le_bytes(data[a + len..a + len + 8].try_into().expect("8 bytes"));
        let y = u64::from_le_bytes(data[b + len..b + len + 8].try_into().expect("8 bytes"));
        let diff = x ^ y;
        if diff != 0 {
            return len + (diff.trailing_zeros() / 8) as usize;
        }
        len += 8;
    }
    while len < max && data[a + len] == data[b + len] {
        len += 1;
    }
    len
}

/// The slow twin of [`match_length`]: one byte at a time.
#[cfg(test)]
pub(crate) fn match_length_slow(data: &[u8], a: usize, b: usize, max: usize) -> usize {
    (0..max).take_while(|&i| data[a + i] == data[b + i]).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::test_rng::Rng;

    #[test]
    fn test_match_length_fast_equals_slow() {
        let mut rng = Rng(0x1277_0001);
        for _ in 0..2000 {
            // Few distinct bytes, so long agreements happen.
            let data: Vec<u8> = (0..rng.below(600) + 2).map(|_| b'a' + rng.byte() % 2).collect();
            let b = 1 + rng.below(data.len() - 1);
            let a = rng.below(b);
            let max = rng.below(data.len() - b + 1).min(MAX_MATCH);
            assert_eq!(match_length(&data, a, b, max), match_length_slow(&data, a, b, max));
        }
        let run = [7u8; 300];
        assert_eq!(match_length(&run, 0, 1, 258), 258);
        assert_eq!(match_length(&run, 0, 42, 258), 258);
    }

    /// Replays symbols the way an inflater would.
    fn expand(history: &[u8], symbols: &[Symbol]) -> Vec<u8> {
        let mut out = history.to_vec();
        for s in symbols {
            match *s {
                Symbol::Literal(b) => out.push(b),
                Symbol::Copy { length, distance } => {
                    for _ in 0..length {
                        out.push(out[out.len() - usize::from(distance)]);
                    }
                }
            }
        }
        out[history.len()..].to_vec()
    }

    #[test]
    fn test_parse_finds_repeats_and_loses_nothing() {
        let mut lz = Lz77::new(15);
        lz.data.extend_from_slice(b"Hello, Hello, Hello! aaaaaaaaaaaaaaaaaaaa");
        let mut symbols = Vec::new();
        lz.parse(lz.data.len(), true, &params(6), &mut symbols, usize::MAX);
        assert_eq!(expand(&[], &symbols), lz.data);
        assert!(symbols.contains(&Symbol::Copy { length: 12, distance: 7 }), "{symbols:?}");
        assert!(symbols.contains(&Symbol::Copy { length: 19, distance: 1 }), "{symbols:?}");
        assert_eq!(lz.covered(), lz.data.len());

        // Lazy: at "abcd" the 3-byte "abc" match loses to the 4-byte "bcde" one byte later.
        let mut lz = Lz77::new(15);
        lz.data.extend_from_slice(b"abcXbcdeYabcde");
        let mut symbols = Vec::new();
        lz.parse(lz.data.len(), true, &params(9), &mut symbols, usize::MAX);
        assert_eq!(expand(&[], &symbols), lz.data);
        assert_eq!(
            symbols[symbols.len() - 2..],
            [Symbol::Literal(b'a'), Symbol::Copy { length: 4, distance: 6 }]
        );
    }

    #[test]
    fn test_forget_leaves_tables_as_new() {
        let mut lz = Lz77::new(9);
        lz.data.extend_from_slice(b"abcabcabcabc xyz xyz");
        let mut symbols = Vec::new();
        lz.parse(lz.data.len(), true, &params(9), &mut symbols, usize::MAX);
        lz.forget();
        let fresh = Lz77::new(9);
        assert_eq!(lz.head, fresh.head);
        assert_eq!(lz.prev, fresh.prev);
    }
}
