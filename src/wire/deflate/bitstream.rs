//! Bits, least-significant first (RFC 1951 §3.1.1).
//!
//! "Data elements are packed into bytes in order of increasing bit number within the byte,
//! i.e., starting with the least-significant bit of the byte." So the first bit of a stream
//! is bit 0 of byte 0, and a 5-bit number sent there occupies bits 0–4, its own bit 0 first.
//! Huffman codes are the exception — sent from their most-significant bit — which
//! `huffman.rs` handles by storing each code bit-reversed; here every value is LSB-first.
//!
//! [`Bits`] is the reader's accumulator: up to 64 bits taken from the input a byte at a time,
//! kept between calls so that the inflater can stop anywhere. Reading never fails half-way:
//! [`Bits::take`] either has the bits or answers [`Short`] without consuming any, and the
//! inflater undoes a whole step (a literal, a length and distance) by restoring a copy.
//! [`BitWriter`] is the deflater's: bits in, whole bytes out to a `Vec`.

/// Not enough bits yet: feed more input and try the same step again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Short;

/// The reader's bit accumulator. Invariant: bits at and above `count` in `buf` are zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Bits {
    buf: u64,
    count: u32,
}

impl Bits {
    /// Moves whole bytes from `input[*pos..]` into the accumulator until it holds more than
    /// 56 bits or the input runs out.
    pub(crate) fn refill(&mut self, input: &[u8], pos: &mut usize) {
        while self.count <= 56 && *pos < input.len() {
            self.buf |= u64::from(input[*pos]) << self.count;
            self.count += 8;
            *pos += 1;
        }
    }

    /// Bits available.
    pub(crate) fn count(&self) -> u32 {
        self.count
    }

    /// The next bits, first bit in bit 0 (zeros past [`Bits::count`]).
    pub(crate) fn peek(&self) -> u64 {
        self.buf
    }

    /// Drops `n` bits (`n` ≤ [`Bits::count`]).
    pub(crate) fn consume(&mut self, n: u32) {
        debug_assert!(n <= self.count);
        self.buf >>= n;
        self.count -= n;
    }

    /// The next `n` bits (`n` ≤ 32) as a number, first bit least significant.
    pub(crate) fn take(&mut self, n: u32) -> Result<u32, Short> {
        if self.count < n {
            return Err(Short);
        }
        let value = (self.buf & ((1u64 << n) - 1)) as u32;
        self.consume(n);
        Ok(value)
    }

    /// RFC 1951 §3.2.4: a stored block's header "ignore[s] any remaining bits in the current
    /// partially processed byte". Bytes enter whole, so those are `count % 8` bits.
    pub(crate) fn align_to_byte(&mut self) {
        self.consume(self.count % 8);
    }

    /// A whole byte from the accumulator, if it holds one; call after [`Bits::align_to_byte`].
    pub(crate) fn take_byte(&mut self) -> Option<u8> {
        self.take(8).ok().map(|b| b as u8)
    }
}

/// Packs bits LSB-first and appends whole bytes to `out`.
pub(crate) struct BitWriter<'a> {
    out: &'a mut Vec<u8>,
    buf: u64,
    count: u32,
}

impl<'a> BitWriter<'a> {
    /// A writer appending to `out`, starting on a byte boundary.
    pub(crate) fn new(out: &'a mut Vec<u8>) -> Self {
        BitWriter { out, buf: 0, count: 0 }
    }

    /// Writes the low `n` bits of `value` (`n` ≤ 32), bit 0 first.
    pub(crate) fn put(&mut self, value: u32, n: u32) {
        debug_assert!(n <= 32 && (n == 32 || value >> n == 0), "{value:#x} has more than {n} bits");
        self.buf |= u64::from(value) << self.count;
        self.count += n;
        if self.count >= 32 {
            self.out.extend_from_slice(&(self.buf as u32).to_le_bytes());
            self.buf >>= 32;
            self.count -= 32;
        }
    }

    /// Bits written since the last byte boundary (0..8).
    pub(crate) fn bits_into_byte(&self) -> u32 {
        self.count % 8
    }

    /// Pads with zero bits to a byte boundary and writes out every pending byte.
    pub(crate) fn align_to_byte(&mut self) {
        while self.count > 0 {
            self.out.push(self.buf as u8);
            self.buf >>= 8;
            self.count = self.count.saturating_sub(8);
        }
        self.buf = 0;
    }

    /// Appends raw bytes; only on a byte boundary (after [`BitWriter::align_to_byte`]).
    pub(crate) fn put_bytes(&mut self, bytes: &[u8]) {
        debug_assert_eq!(self.count, 0, "raw bytes off a byte boundary");
        self.out.extend_from_slice(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_lsb_first_both_ways() {
        // RFC 1951 §3.1.1: 3 bits 0b101, then 6 bits 0b110011 → byte 0 = 0b10011_101,
        // byte 1 = 0b1 (the 6-bit value's top bit spills into the next byte).
        let mut out = Vec::new();
        let mut w = BitWriter::new(&mut out);
        w.put(0b101, 3);
        w.put(0b110011, 6);
        assert_eq!(w.bits_into_byte(), 1);
        w.align_to_byte();
        w.put_bytes(&[0xAB]);
        assert_eq!(out, [0b1001_1101, 0b1, 0xAB]);

        let mut bits = Bits::default();
        let mut pos = 0;
        bits.refill(&out, &mut pos);
        assert_eq!(pos, 3);
        assert_eq!(bits.take(3), Ok(0b101));
        assert_eq!(bits.take(6), Ok(0b110011));
        bits.align_to_byte();
        assert_eq!(bits.take_byte(), Some(0xAB));
        assert_eq!(bits.take(1), Err(Short), "nothing left, nothing consumed");
        assert_eq!(bits.count(), 0);
    }

    #[test]
    fn test_writer_crosses_words_and_reader_refills() {
        let mut out = Vec::new();
        let mut w = BitWriter::new(&mut out);
        let small = |i: u32| (i & ((1 << (1 + i % 6)) - 1), 1 + i % 6);
        for i in 0..100u32 {
            let (value, n) = small(i);
            w.put(value, n);
            w.put(0xFFFF_FFFF, 32);
        }
        w.align_to_byte();
        let mut bits = Bits::default();
        let mut pos = 0;
        for i in 0..100u32 {
            bits.refill(&out, &mut pos);
            let (value, n) = small(i);
            assert_eq!(bits.take(n), Ok(value));
            bits.refill(&out, &mut pos);
            assert_eq!(bits.take(32), Ok(0xFFFF_FFFF));
        }
    }
}
