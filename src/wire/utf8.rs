//! Incremental UTF-8 validation (RFC 3629), for text messages that arrive in pieces.
//!
//! A WebSocket text message must be UTF-8 (RFC 6455 §5.6), and Autobahn's "fail fast" cases
//! (6.4.x) expect the connection to be failed at the first byte that can never be part of
//! valid UTF-8 — mid-frame, before the rest of the message arrives. `std::str::from_utf8`
//! needs the whole buffer; [`Utf8Validator`] takes any number of pieces and remembers where
//! it is inside a multi-byte sequence between them.
//!
//! The grammar, RFC 3629 §4:
//!
//! ```text
//! UTF8-octets = *( UTF8-char )
//! UTF8-char   = UTF8-1 / UTF8-2 / UTF8-3 / UTF8-4
//! UTF8-1      = %x00-7F
//! UTF8-2      = %xC2-DF UTF8-tail
//! UTF8-3      = %xE0 %xA0-BF UTF8-tail / %xE1-EC 2( UTF8-tail ) /
//!               %xED %x80-9F UTF8-tail / %xEE-EF 2( UTF8-tail )
//! UTF8-4      = %xF0 %x90-BF 2( UTF8-tail ) / %xF1-F3 3( UTF8-tail ) /
//!               %xF4 %x80-8F 2( UTF8-tail )
//! UTF8-tail   = %x80-BF
//! ```
//!
//! The narrowed second bytes are where the rules hide: after `E0` only `A0-BF` (shorter
//! forms would be overlong), after `ED` only `80-9F` (else a surrogate D800–DFFF), after
//! `F0` only `90-BF` (overlong), after `F4` only `80-8F` (else above U+10FFFF); `C0`, `C1`
//! and `F5-FF` never appear at all.
//!
//! The machine is a DFA in the style of Björn Höhrmann's decoder: each byte maps to one of
//! twelve classes (`class_of`), and a transition table says which state a class leads to
//! from each state. Both tables are computed at compile time from the two `const fn`s
//! below, which are the grammar above written as `match` arms; there is no hand-typed
//! table to get wrong. Tests compare the result with `std::str::from_utf8` — exhaustively
//! for short sequences, on random input split at every point, and in a fuzz target.

// Byte classes: which bytes the grammar treats alike.
const ASCII: u8 = 0; //         00-7F  UTF8-1
const TAIL_80_8F: u8 = 1; //    80-8F  UTF8-tail, also the 2nd byte after F4 or ED
const TAIL_90_9F: u8 = 2; //    90-9F  UTF8-tail, also the 2nd byte after F0 or ED
const TAIL_A0_BF: u8 = 3; //    A0-BF  UTF8-tail, also the 2nd byte after E0 or F0
const NEVER: u8 = 4; //         C0 C1 F5-FF
const LEAD_2: u8 = 5; //        C2-DF
const LEAD_E0: u8 = 6; //       E0
const LEAD_3: u8 = 7; //        E1-EC EE-EF
const LEAD_ED: u8 = 8; //       ED
const LEAD_F0: u8 = 9; //       F0
const LEAD_4: u8 = 10; //       F1-F3
const LEAD_F4: u8 = 11; //      F4
const CLASSES: usize = 12;

// States: where we are inside a UTF8-char.
const ACCEPT: u8 = 0; //        between characters
const REJECT: u8 = 1; //        a byte broke the grammar; sticky
const NEED_1: u8 = 2; //        one UTF8-tail to go
const NEED_2: u8 = 3; //        two UTF8-tails to go
const NEED_3: u8 = 4; //        three UTF8-tails to go
const AFTER_E0: u8 = 5; //      need A0-BF, then one tail
const AFTER_ED: u8 = 6; //      need 80-9F, then one tail
const AFTER_F0: u8 = 7; //      need 90-BF, then two tails
const AFTER_F4: u8 = 8; //      need 80-8F, then two tails
const STATES: usize = 9;

/// The class of a byte (see the table of constants above).
const fn class_of(byte: u8) -> u8 {
    match byte {
        0x00..=0x7F => ASCII,
        0x80..=0x8F => TAIL_80_8F,
        0x90..=0x9F => TAIL_90_9F,
        0xA0..=0xBF => TAIL_A0_BF,
        0xC2..=0xDF => LEAD_2,
        0xE0 => LEAD_E0,
        0xE1..=0xEC | 0xEE..=0xEF => LEAD_3,
        0xED => LEAD_ED,
        0xF0 => LEAD_F0,
        0xF1..=0xF3 => LEAD_4,
        0xF4 => LEAD_F4,
        0xC0 | 0xC1 | 0xF5..=0xFF => NEVER,
    }
}

/// One step of the DFA: the RFC 3629 grammar, one arm per alternative.
const fn step(state: u8, class: u8) -> u8 {
    match (state, class) {
        (ACCEPT, ASCII) => ACCEPT,
        (ACCEPT, LEAD_2) => NEED_1,
        (ACCEPT, LEAD_E0) => AFTER_E0,
        (ACCEPT, LEAD_3) => NEED_2,
        (ACCEPT, LEAD_ED) => AFTER_ED,
        (ACCEPT, LEAD_F0) => AFTER_F0,
        (ACCEPT, LEAD_4) => NEED_3,
        (ACCEPT, LEAD_F4) => AFTER_F4,
        (NEED_1, TAIL_80_8F | TAIL_90_9F | TAIL_A0_BF) => ACCEPT,
        (NEED_2, TAIL_80_8F | TAIL_90_9F | TAIL_A0_BF) => NEED_1,
        (NEED_3, TAIL_80_8F | TAIL_90_9F | TAIL_A0_BF) => NEED_2,
        (AFTER_E0, TAIL_A0_BF) => NEED_1,
        (AFTER_ED, TAIL_80_8F | TAIL_90_9F) => NEED_1,
        (AFTER_F0, TAIL_90_9F | TAIL_A0_BF) => NEED_2,
        (AFTER_F4, TAIL_80_8F) => NEED_2,
        _ => REJECT,
    }
}

/// `class_of` for every byte, computed at compile time.
const CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = class_of(byte as u8);
        byte += 1;
    }
    table
};

/// `step` for every (state, class), indexed `state * CLASSES + class`.
const TRANSITION: [u8; STATES * CLASSES] = {
    let mut table = [0u8; STATES * CLASSES];
    let mut i = 0;
    while i < STATES * CLASSES {
        table[i] = step((i / CLASSES) as u8, (i % CLASSES) as u8);
        i += 1;
    }
    table
};

/// The high bit of each byte of a `u64`: zero after masking means eight ASCII bytes.
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// Where validation failed, in the same terms as [`std::str::Utf8Error`], counted from the
/// first byte fed to the validator (or since [`Utf8Validator::reset`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Utf8Error {
    valid_up_to: usize,
    error_len: Option<u8>,
}

impl Utf8Error {
    /// Bytes of complete, valid characters before the bad sequence begins.
    pub fn valid_up_to(&self) -> usize {
        self.valid_up_to
    }

    /// `Some(n)`: the bad sequence is `n` bytes long (1–3) and no later input can fix it —
    /// std's "maximal prefix" definition. `None`: the input ended inside a sequence
    /// (only [`validate`] reports this; a [`Utf8Validator`] just waits for more).
    pub fn error_len(&self) -> Option<usize> {
        self.error_len.map(usize::from)
    }
}

impl std::fmt::Display for Utf8Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.error_len {
            Some(n) => write!(f, "invalid UTF-8 sequence of {n} bytes from index {}", self.valid_up_to),
            None => write!(f, "incomplete UTF-8 sequence from index {}", self.valid_up_to),
        }
    }
}

impl std::error::Error for Utf8Error {}

/// A UTF-8 validator fed in pieces. Errors as soon as a byte makes the input invalid
/// whatever follows, and stays failed until [`Utf8Validator::reset`].
#[derive(Clone, Debug, Default)]
pub struct Utf8Validator {
    state: u8,
    /// Bytes of the current, incomplete sequence (0 in `ACCEPT`).
    pending: u8,
    /// Bytes fed before the current call.
    fed: usize,
    error: Option<Utf8Error>,
}

impl Utf8Validator {
    /// A validator at the start of a text.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forget everything: ready for the next message.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Checks the next piece of the text. Fails at the first byte that can never be part
    /// of valid UTF-8 — even inside an unfinished sequence (`F4 90` fails at `90`) — and
    /// keeps failing with the same error afterwards.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), Utf8Error> {
        if let Some(error) = self.error {
            return Err(error);
        }
        let mut state = self.state;
        let mut pending = self.pending;
        let mut i = 0;
        while i < bytes.len() {
            if state == ACCEPT && bytes[i].is_ascii() {
                // The ASCII fast path, tried only after an ASCII byte so that non-Latin text
                // does not pay for a failed word check at every character.
                i += 1;
                i += ascii_words(&bytes[i..]);
                continue;
            }
            let next = TRANSITION[usize::from(state) * CLASSES + usize::from(CLASS[usize::from(bytes[i])])];
            if next == REJECT {
                let error = Utf8Error {
                    // `pending` bytes of this sequence were fed before byte `i`.
                    valid_up_to: self.fed + i - usize::from(pending),
                    // std's convention: the bytes of the broken sequence before the bad one,
                    // or the bad byte alone if it could not even start a sequence.
                    error_len: Some(pending.max(1)),
                };
                self.state = REJECT;
                self.error = Some(error);
                return Err(error);
            }
            pending = if next == ACCEPT { 0 } else { pending + 1 };
            state = next;
            i += 1;
        }
        self.state = state;
        self.pending = pending;
        self.fed += bytes.len();
        Ok(())
    }

    /// `true` when everything fed so far is complete, valid UTF-8 (not inside a sequence).
    pub fn is_complete(&self) -> bool {
        self.state == ACCEPT
    }
}

/// Validates a whole buffer; the error matches `std::str::from_utf8`'s
/// (`valid_up_to`, and `error_len` of `None` when the buffer ends inside a sequence).
pub fn validate(bytes: &[u8]) -> Result<(), Utf8Error> {
    let mut validator = Utf8Validator::new();
    validator.feed(bytes)?;
    if validator.is_complete() {
        Ok(())
    } else {
        Err(Utf8Error { valid_up_to: bytes.len() - usize::from(validator.pending), error_len: None })
    }
}

/// The ASCII fast path: how many leading bytes of `bytes` are ASCII, counted in whole
/// 8-byte words (so a multiple of 8; the byte loop handles the rest).
fn ascii_words(bytes: &[u8]) -> usize {
    let mut n = 0;
    for chunk in bytes.chunks_exact(8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        if u64::from_ne_bytes(word) & HIGH_BITS != 0 {
            break;
        }
        n += 8;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::test_rng::Rng;

    /// Our verdict must be std's, field for field.
    fn check(bytes: &[u8]) {
        let ours = validate(bytes);
        match std::str::from_utf8(bytes) {
            Ok(_) => assert_eq!(ours, Ok(()), "{bytes:02x?}"),
            Err(std) => {
                let ours = ours.expect_err("std rejects, we accept");
                assert_eq!(ours.valid_up_to(), std.valid_up_to(), "{bytes:02x?}");
                assert_eq!(ours.error_len(), std.error_len(), "{bytes:02x?}");
            }
        }
    }

    #[test]
    fn test_exhaustive_up_to_three_bytes() {
        for a in 0..=255u8 {
            check(&[a]);
            for b in 0..=255u8 {
                check(&[a, b]);
            }
        }
        // Three bytes: every lead that can start a multi-byte sequence, every second and
        // third byte. (A first byte that is ASCII or a stray tail is covered by the two-byte
        // cases above, which is where its outcome is decided.)
        for a in 0x80..=0xFFu8 {
            for b in 0..=255u8 {
                for c in 0..=255u8 {
                    check(&[a, b, c]);
                }
            }
        }
    }

    #[test]
    fn test_four_bytes_subsampled() {
        // Every first and second byte; the last two from the values where classes change.
        const EDGES: [u8; 8] = [0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC2];
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                for c in EDGES {
                    for d in EDGES {
                        check(&[a, b, c, d]);
                    }
                }
            }
        }
    }

    #[test]
    fn test_fail_fast_examples() {
        // Autobahn 6.4.1: past U+10FFFF, rejected at the 0x90 (index 12), before the rest.
        let mut v = Utf8Validator::new();
        v.feed(b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5").unwrap();
        let err = v.feed(b"\xf4\x90").unwrap_err();
        assert_eq!((err.valid_up_to(), err.error_len()), (11, Some(1)));
        assert_eq!(v.feed(b"abc"), Err(err), "a failed validator stays failed");
        // A surrogate (ED A0 80) fails at A0; an overlong (E0 80) at 80; C0 at once.
        for bad in [&b"\xed\xa0"[..], b"\xe0\x80", b"\xc0", b"\xf0\x8f", b"\xf5"] {
            assert!(Utf8Validator::new().feed(bad).is_err(), "{bad:02x?}");
        }
        // A valid but unfinished sequence is not an error, just incomplete.
        let mut v = Utf8Validator::new();
        v.feed(b"\xf4\x8f\xbf").unwrap();
        assert!(!v.is_complete());
        v.feed(b"\xbf").unwrap();
        assert!(v.is_complete());
    }

    /// Mostly valid text (so errors land anywhere, not just at the start), sometimes broken.
    fn random_text(rng: &mut Rng) -> Vec<u8> {
        let len = rng.below(40);
        let mut out = Vec::new();
        while out.len() < len {
            let r = rng.next();
            match r % 8 {
                0 => out.push((r >> 8) as u8),
                1..=3 => out.push(b'a' + (r >> 8) as u8 % 26),
                _ => {
                    let c = char::from_u32((r >> 8) as u32 % 0x11_0000).unwrap_or('\u{FFFD}');
                    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                }
            }
        }
        out
    }

    #[test]
    fn test_random_split_at_every_point() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..5000 {
            let text = random_text(&mut rng);
            check(&text);
            let whole = validate(&text);
            for cut in 0..=text.len() {
                let (a, b) = text.split_at(cut);
                let mut v = Utf8Validator::new();
                let first = v.feed(a);
                // Fail fast: the first piece fails exactly when std already calls it
                // invalid (error_len is Some) rather than merely unfinished.
                let std_a = std::str::from_utf8(a).err().and_then(|e| e.error_len());
                assert_eq!(first.is_err(), std_a.is_some(), "{a:02x?}");
                let split = first.and_then(|()| v.feed(b)).and_then(|()| {
                    if v.is_complete() {
                        Ok(())
                    } else {
                        let valid_up_to = text.len() - usize::from(v.pending);
                        Err(Utf8Error { valid_up_to, error_len: None })
                    }
                });
                assert_eq!(split, whole, "{text:02x?} cut at {cut}");
            }
        }
    }

    #[test]
    fn test_ascii_fast_path_positions() {
        // An error after long ASCII runs of every length reports the right index.
        for run in 0..40 {
            let mut text = vec![b'x'; run];
            text.push(0xFF);
            text.extend_from_slice(&[b'y'; 20]);
            check(&text);
            assert_eq!(validate(&text).unwrap_err().valid_up_to(), run);
        }
    }
}
