//! Word-at-a-time scans (SWAR: SIMD within a register), eight bytes per step, in safe code.
//!
//! Each byte's test is computed in its own 8 bits with no carry into the next byte, so the
//! lowest flagged byte is the first byte that fails. The tests at the bottom prove each
//! scan equal to its byte-at-a-time twin at every length and alignment.
#![forbid(unsafe_code)]

/// The low seven bits of every byte.
const LOW7: u64 = u64::from_ne_bytes([0x7f; 8]);
/// The high bit of every byte.
const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);

/// `b` in every byte.
const fn splat(b: u8) -> u64 {
    u64::from_ne_bytes([b; 8])
}

/// Index of the first byte that may not be in a request-target (anything but visible
/// ASCII, `%x21-7E`), or `None` if all may.
pub fn target(bytes: &[u8]) -> Option<usize> {
    first(bytes, not_visible_ascii, |b| !(0x21..=0x7e).contains(&b))
}

/// Index of the first byte that ends a field-value (anything but `field-content`:
/// HTAB, SP, VCHAR, obs-text), or `None` if all continue it.
#[inline]
pub fn field_value(bytes: &[u8]) -> Option<usize> {
    let mut at = 0;
    loop {
        // The word test flags HTAB along with the other controls; step over it here.
        let i = at + first(bytes.get(at..)?, control_or_del, |b| b < 0x20 || b == 0x7f)?;
        if bytes[i] != b'\t' {
            return Some(i);
        }
        at = i + 1;
    }
}

/// Index of the first byte that is not a `tchar`, or `None` if all are. Eight table
/// lookups per step with one branch, instead of one branch per byte.
#[inline]
pub fn token(bytes: &[u8]) -> Option<usize> {
    let (words, tail) = bytes.as_chunks::<8>();
    for (i, word) in words.iter().enumerate() {
        if !word.iter().fold(true, |all, &b| all & super::is_tchar(b)) {
            return Some(i * 8 + word.iter().position(|&b| !super::is_tchar(b))?);
        }
    }
    let j = tail.iter().position(|&b| !super::is_tchar(b))?;
    Some(words.len() * 8 + j)
}

/// High bit set in each byte that is `>= 0x80`, `0x7F`, or `< 0x21`.
fn not_visible_ascii(word: u64) -> u64 {
    let low = word & LOW7;
    // low + 0x01 reaches 0x80 only from 0x7F; low + 0x5F reaches 0x80 only from >= 0x21.
    (word | (low + splat(0x01)) | !(low + splat(0x80 - 0x21))) & HIGH
}

/// High bit set in each byte that is `< 0x20` or `0x7F` (bytes `>= 0x80` are obs-text).
fn control_or_del(word: u64) -> u64 {
    let low = word & LOW7;
    ((low + splat(0x01)) | !(low + splat(0x80 - 0x20))) & !word & HIGH
}

/// The first index whose byte `word_test` flags (eight at a time) or `byte_test` accepts
/// (for the tail shorter than a word).
#[inline(always)]
fn first(bytes: &[u8], word_test: impl Fn(u64) -> u64, byte_test: impl Fn(u8) -> bool) -> Option<usize> {
    let (words, tail) = bytes.as_chunks::<8>();
    for (i, word) in words.iter().enumerate() {
        // Little-endian on every target, so byte k of the chunk is bits 8k..8k+8.
        let flags = word_test(u64::from_le_bytes(*word));
        if flags != 0 {
            return Some(i * 8 + flags.trailing_zeros() as usize / 8);
        }
    }
    let j = tail.iter().position(|&b| byte_test(b))?;
    Some(words.len() * 8 + j)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::test_rng::Rng;

    /// The slow twins: one byte at a time, straight from the ABNF.
    fn target_bytewise(bytes: &[u8]) -> Option<usize> {
        bytes.iter().position(|&b| !(0x21..=0x7e).contains(&b))
    }

    fn field_value_bytewise(bytes: &[u8]) -> Option<usize> {
        bytes.iter().position(|&b| !(b == b'\t' || b == b' ' || (0x21..=0x7e).contains(&b) || b >= 0x80))
    }

    fn token_bytewise(bytes: &[u8]) -> Option<usize> {
        bytes.iter().position(|&b| !crate::wire::request::is_tchar(b))
    }

    #[test]
    fn test_scans_equal_their_slow_twins() {
        // Every byte value at every position of every length up to 40, on a background of bytes
        // that pass (or, for 0x80 in a target, fail) the scans, at every alignment of the slice.
        let mut buf = [0; 48];
        for background in [b'a', 0x80] {
            for len in 0..40 {
                for offset in 0..8 {
                    for pos in 0..len {
                        for b in 0..=255u8 {
                            buf.fill(background);
                            buf[offset + pos] = b;
                            let s = &buf[offset..offset + len];
                            assert_eq!(field_value(s), field_value_bytewise(s), "{b:#x} at {pos}/{len}");
                            assert_eq!(target(s), target_bytewise(s), "{b:#x} at {pos}/{len}");
                            assert_eq!(token(s), token_bytewise(s), "{b:#x} at {pos}/{len}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn test_scans_on_random_bytes() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let len = rng.below(64);
            let bytes: Vec<u8> = (0..len)
                .map(|_| match rng.below(8) {
                    0 => rng.byte(),
                    1 => b'\t',
                    _ => b'a' + rng.below(26) as u8,
                })
                .collect();
            assert_eq!(field_value(&bytes), field_value_bytewise(&bytes));
            assert_eq!(target(&bytes), target_bytewise(&bytes));
            assert_eq!(token(&bytes), token_bytewise(&bytes));
        }
    }
}
