//! Payload masking (RFC 6455 §5.3).
//!
//! "Octet i of the transformed data ("transformed-octet-i") is the XOR of octet i of the
//! original data ("original-octet-i") with octet at index i modulo 4 of the masking key
//! ("masking-key-octet-j"): j = i MOD 4". Masking and unmasking are the same operation.
//!
//! Two versions live here: [`apply_mask_bytewise`], that sentence as a loop, and
//! [`apply_mask`], which XORs eight bytes at a time and is what the server uses. The test at
//! the bottom proves they agree at every length, key offset and buffer alignment; the slow
//! one is the specification of the fast one. Both take `offset`, the position of `buf[0]`
//! in the frame's payload, because a payload arrives in pieces across reads.

/// Masks (or unmasks) `buf` in place, where `buf[0]` is payload byte number `offset`.
///
/// Word-at-a-time: the 4-byte key, rotated so that it lines up with `offset`, is repeated
/// into a `u64`, and each 8-byte chunk is XORed as one word. Since 8 is a multiple of 4 the
/// key lines up again at the start of every chunk. `from_ne_bytes`/`to_ne_bytes` copy the
/// chunk, so no alignment is needed and no `unsafe` either; the compiler turns each into a
/// single (unaligned) load and store.
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    let key = rotate(key, offset);
    let word = u64::from_ne_bytes([key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3]]);
    let mut chunks = buf.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(chunk);
        let masked = u64::from_ne_bytes(bytes) ^ word;
        chunk.copy_from_slice(&masked.to_ne_bytes());
    }
    // The tail starts at a multiple of 8, so the rotated key still lines up at index 0.
    for (i, byte) in chunks.into_remainder().iter_mut().enumerate() {
        *byte ^= key[i % 4];
    }
}

/// The obvious loop: `buf[i] ^= key[(offset + i) % 4]`. Kept as the reference for
/// [`apply_mask`].
pub fn apply_mask_bytewise(buf: &mut [u8], key: [u8; 4], offset: usize) {
    for (i, byte) in buf.iter_mut().enumerate() {
        *byte ^= key[(offset + i) % 4];
    }
}

/// The key as seen from payload byte `offset`: `rotate(k, 1) == [k1, k2, k3, k0]`.
fn rotate(key: [u8; 4], offset: usize) -> [u8; 4] {
    let mut rotated = key;
    rotated.rotate_left(offset % 4);
    rotated
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_rfc_example() {
        // RFC 6455 §5.7: "Hello" masked with 37 fa 21 3d.
        let mut data = *b"Hello";
        apply_mask(&mut data, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(data, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
        apply_mask(&mut data, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(&data, b"Hello");
    }

    #[test]
    fn test_fast_equals_bytewise() {
        let key = [0x6d, 0xb6, 0xb2, 0x80];
        // A backing buffer 8 bytes longer than the longest case, so `start` moves the slice
        // through every alignment relative to an 8-byte boundary.
        let backing: Vec<u8> = (0..108u32).map(|i| (i * 37 + 11) as u8).collect();
        for len in 0..=100 {
            for start in 0..8 {
                for offset in 0..8 {
                    let mut fast = backing.clone();
                    let mut slow = backing.clone();
                    apply_mask(&mut fast[start..start + len], key, offset);
                    apply_mask_bytewise(&mut slow[start..start + len], key, offset);
                    assert_eq!(fast, slow, "len {len} start {start} offset {offset}");
                }
            }
        }
    }

    #[test]
    fn test_split_equals_whole() {
        // Unmasking a payload in two pieces, passing the offset, equals unmasking it whole.
        let key = [1, 2, 3, 4];
        let data: Vec<u8> = (0..50).collect();
        let mut whole = data.clone();
        apply_mask(&mut whole, key, 0);
        for cut in 0..=data.len() {
            let mut split = data.clone();
            let (a, b) = split.split_at_mut(cut);
            apply_mask(a, key, 0);
            apply_mask(b, key, cut);
            assert_eq!(split, whole, "cut {cut}");
        }
    }
}
