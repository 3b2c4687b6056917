//! Finding the next of a few bytes, eight at a time: the load tool's hot loop when it reads
//! poll replies (quotes and braces), event streams (line ends) and response heads.
//!
//! A word-at-a-time search (SWAR, "SIMD within a register"): XOR a u64 of input with the
//! needle repeated in every byte, and a byte of the result is zero exactly where the input
//! matched; `(v - 0x01…01) & !v & 0x80…80` sets the high bit of the lowest zero byte (higher
//! bytes may be flagged falsely by the borrow, but never below the first true zero, so the
//! lowest flag is exact). [`find_any_bytewise`] is its slow twin, and a test proves them
//! equal at every length and alignment.

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// The high bit of every zero byte of `v` (exact for the lowest one).
fn zero_bytes(v: u64) -> u64 {
    v.wrapping_sub(LO) & !v & HI
}

/// The position of the first byte of `hay` that is one of `needles`.
pub fn find_any<const N: usize>(hay: &[u8], needles: [u8; N]) -> Option<usize> {
    let mut at = 0;
    while at + 8 <= hay.len() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&hay[at..at + 8]);
        let w = u64::from_le_bytes(word);
        let hits = needles.iter().fold(0, |hits, &n| hits | zero_bytes(w ^ (LO * u64::from(n))));
        if hits != 0 {
            return Some(at + (hits.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    find_any_bytewise(&hay[at..], needles).map(|i| at + i)
}

/// The obvious loop: what [`find_any`] must always agree with.
pub fn find_any_bytewise<const N: usize>(hay: &[u8], needles: [u8; N]) -> Option<usize> {
    hay.iter().position(|b| needles.contains(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_at_a_time_equals_the_byte_loop() {
        // Every length up to 40, every position of one or two needles, and bytes around the
        // needles that tempt the borrow (0x00, 0x01, 0x80, 0xff, needle ± 1).
        let fillers = [b'.', 0x00, 0x01, 0x21, 0x23, 0x80, 0xff];
        for len in 0..40 {
            for &fill in &fillers {
                for first in 0..=len {
                    for second in first..=len {
                        let mut hay = vec![fill; len];
                        if first < len {
                            hay[first] = b'"';
                        }
                        if second < len {
                            hay[second] = b'\\';
                        }
                        for start in 0..hay.len().min(9) {
                            let h = &hay[start..];
                            assert_eq!(
                                find_any(h, [b'"', b'\\']),
                                find_any_bytewise(h, [b'"', b'\\']),
                                "{h:?}"
                            );
                            assert_eq!(find_any(h, [b'\\']), find_any_bytewise(h, [b'\\']), "{h:?}");
                        }
                    }
                }
            }
        }
        assert_eq!(find_any(b"", [b'x']), None);
        assert_eq!(find_any(b"0123456789abcdefx", [b'x', b'y', b'z', b'{']), Some(16));
    }
}
