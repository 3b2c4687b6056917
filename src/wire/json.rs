//! JSON text output (RFC 8259): strings, unsigned integers, and a small object builder.
//!
//! pushlab only ever *writes* JSON — message objects, poll replies, `/stats` — so this file
//! is an encoder and nothing else. Every function appends to the caller's `Vec<u8>` and
//! cannot fail: any `&str` has a JSON string form.
//!
//! ```text
//! {"id":7,"topic":"chat","data":"hello","time":1732390000123}
//! ```
//! is written by
//! `Object::new(&mut out).u64("id", 7).str("topic", "chat").str("data", "hello").u64("time", t).finish()`.

/// `\uXXXX` escapes spell the code unit in hex; RFC 8259 §7 allows either case.
const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `s` as a quoted JSON string.
///
/// RFC 8259 §7: "All Unicode characters may be placed within the quotation marks, except for
/// the characters that MUST be escaped: quotation mark, reverse solidus, and the control
/// characters (U+0000 through U+001F)." We escape exactly those, using the two-character
/// forms `\b \f \n \r \t` where they exist and `\u00XX` otherwise, plus U+2028 LINE SEPARATOR
/// and U+2029 PARAGRAPH SEPARATOR: valid raw in JSON, but line terminators in JavaScript
/// before ES2019, so escaping them keeps the output safe to embed in a script. All other
/// characters, ASCII or not, are copied as their UTF-8 bytes (RFC 8259 §8.1: JSON text is
/// UTF-8).
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    // Fast path: copy each run of bytes that need no escape with one `extend_from_slice`.
    let mut run_start = 0;
    let mut i = 0;
    let mut scratch = *b"\\u00XX";
    while i < bytes.len() {
        match escape_at(bytes, i, &mut scratch) {
            None => i += 1,
            Some((escape, width)) => {
                out.extend_from_slice(&bytes[run_start..i]);
                out.extend_from_slice(escape);
                i += width;
                run_start = i;
            }
        }
    }
    out.extend_from_slice(&bytes[run_start..]);
    out.push(b'"');
}

/// The escape for the character starting at `bytes[i]` and how many bytes it replaces, or
/// `None` when the byte is copied as it is. `scratch` holds a `\u00XX` being built.
fn escape_at<'s>(bytes: &[u8], i: usize, scratch: &'s mut [u8; 6]) -> Option<(&'s [u8], usize)> {
    let b = bytes[i];
    let escape: &[u8] = match b {
        b'"' => b"\\\"",
        b'\\' => b"\\\\",
        0x08 => b"\\b",
        0x0C => b"\\f",
        b'\n' => b"\\n",
        b'\r' => b"\\r",
        b'\t' => b"\\t",
        // The other control characters have no short form.
        0x00..=0x1F => {
            scratch[4] = HEX[usize::from(b >> 4)];
            scratch[5] = HEX[usize::from(b & 0x0F)];
            return Some((scratch, 1));
        }
        // U+2028 and U+2029 are E2 80 A8 and E2 80 A9 in UTF-8; E2 starts other characters
        // too, which stay raw.
        0xE2 if bytes.get(i + 1) == Some(&0x80) => match bytes.get(i + 2) {
            Some(&0xA8) => return Some((b"\\u2028", 3)),
            Some(&0xA9) => return Some((b"\\u2029", 3)),
            _ => return None,
        },
        _ => return None,
    };
    Some((escape, 1))
}

/// Appends `n` in decimal (RFC 8259 §6: no leading zeros, no sign, no exponent).
///
/// Uses a stack buffer, never `format!`: this runs once per field of every message.
pub fn write_u64(out: &mut Vec<u8>, n: u64) {
    // u64::MAX is 18446744073709551615: 20 digits.
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    let mut rest = n;
    loop {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
}

/// Writes one JSON object, member by member: `{` on [`Object::new`], `}` on
/// [`Object::finish`].
///
/// Keys are `&'static str` written as they are: they come from our own source code, so they
/// are checked (in debug builds) to need no escaping, not escaped at run time.
#[must_use = "an Object writes its closing `}` only in finish()"]
pub struct Object<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Object<'a> {
    /// Starts an object: appends `{`.
    pub fn new(out: &'a mut Vec<u8>) -> Object<'a> {
        out.push(b'{');
        Object { out, first: true }
    }

    /// Adds `"key":n`.
    pub fn u64(mut self, key: &'static str, n: u64) -> Self {
        self.key(key);
        write_u64(self.out, n);
        self
    }

    /// Adds `"key":"s"`, with `s` escaped by [`write_str`].
    pub fn str(mut self, key: &'static str, s: &str) -> Self {
        self.key(key);
        write_str(self.out, s);
        self
    }

    /// Adds `"key":` followed by `json`, which must already be one complete JSON value
    /// (an object, array, number, …) — it is copied, not checked.
    pub fn raw(mut self, key: &'static str, json: &[u8]) -> Self {
        self.key(key);
        self.out.extend_from_slice(json);
        self
    }

    /// Adds `"key":` and lets `write_value` append the value straight into the output, so a
    /// nested object or array needs no buffer of its own.
    pub fn nested(mut self, key: &'static str, write_value: impl FnOnce(&mut Vec<u8>)) -> Self {
        self.key(key);
        write_value(self.out);
        self
    }

    /// Ends the object: appends `}`.
    pub fn finish(self) {
        self.out.push(b'}');
    }

    /// RFC 8259 §4: `member *( value-separator member )`, `member = string name-separator value`.
    fn key(&mut self, key: &'static str) {
        debug_assert!(
            key.bytes().all(|b| (0x20..0x7F).contains(&b) && b != b'"' && b != b'\\'),
            "JSON key {key:?} would need escaping"
        );
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::test_rng::Rng;

    /// The slow twin of [`write_str`]: one `char` at a time, the rules written as a `match`.
    fn write_str_slow(out: &mut Vec<u8>, s: &str) {
        out.push(b'"');
        for c in s.chars() {
            let escaped = match c {
                '"' => "\\\"".to_string(),
                '\\' => "\\\\".to_string(),
                '\u{08}' => "\\b".to_string(),
                '\u{0C}' => "\\f".to_string(),
                '\n' => "\\n".to_string(),
                '\r' => "\\r".to_string(),
                '\t' => "\\t".to_string(),
                '\u{00}'..='\u{1F}' | '\u{2028}' | '\u{2029}' => format!("\\u{:04x}", c as u32),
                _ => c.to_string(),
            };
            out.extend_from_slice(escaped.as_bytes());
        }
        out.push(b'"');
    }

    fn json_str(s: &str) -> Vec<u8> {
        let mut out = Vec::new();
        write_str(&mut out, s);
        out
    }

    /// Our output must parse (serde_json is the independent oracle), give back `s`, and
    /// equal the slow twin's, byte for byte.
    fn check_round_trip(s: &str) {
        let out = json_str(s);
        let parsed: String = serde_json::from_slice(&out)
            .unwrap_or_else(|e| panic!("{:?} -> {:?}: {e}", s, String::from_utf8_lossy(&out)));
        assert_eq!(parsed, s);
        let mut slow = Vec::new();
        write_str_slow(&mut slow, s);
        assert_eq!(out, slow, "fast and slow differ for {s:?}");
        // Nothing the spec forbids raw survives: no control byte, no raw U+2028/U+2029.
        let inner = std::str::from_utf8(&out).unwrap();
        assert!(!inner.bytes().any(|b| b < 0x20));
        assert!(!inner.contains(['\u{2028}', '\u{2029}']));
    }

    #[test]
    fn test_every_char_up_to_ff() {
        for c in '\u{00}'..='\u{FF}' {
            check_round_trip(&c.to_string());
            check_round_trip(&format!("a{c}b{c}{c}"));
        }
    }

    #[test]
    fn test_emit_exact_escapes() {
        assert_eq!(json_str(""), b"\"\"");
        assert_eq!(json_str("a\"b\\c"), br#""a\"b\\c""#);
        assert_eq!(json_str("\u{8}\u{c}\n\r\t"), br#""\b\f\n\r\t""#);
        assert_eq!(json_str("\u{0}\u{1f}\u{7f}"), b"\"\\u0000\\u001f\x7f\"");
        assert_eq!(json_str("x\u{2028}y\u{2029}"), br#""x\u2028y\u2029""#);
        assert_eq!(json_str("é😀"), "\"é😀\"".as_bytes());
    }

    #[test]
    fn test_chars_near_the_escaped_ones() {
        // Other characters whose UTF-8 starts E2 80 or E2 (U+2000..U+2FFF), the surrogate
        // neighbours, the BMP's end and the plane boundaries.
        let chars = "\u{2000}\u{2027}\u{202A}\u{202F}\u{2030}\u{20AC}\u{2FFF}\
            \u{D7FF}\u{E000}\u{FEFF}\u{FFFD}\u{FFFF}\u{10000}😀\u{10FFFF}";
        for c in chars.chars() {
            check_round_trip(&c.to_string());
            check_round_trip(&format!("\"{c}\u{2028}{c}\\"));
        }
    }

    #[test]
    fn test_random_strings() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let interesting = ['"', '\\', '\n', '\u{0}', '\u{1F}', '\u{2028}', '\u{2029}', 'é', '😀'];
        for _ in 0..5000 {
            let len = rng.below(24);
            let s: String = (0..len)
                .map(|_| match rng.below(4) {
                    0 => *rng.pick(&interesting),
                    1 => char::from(rng.below(0x80) as u8),
                    _ => char::from_u32(rng.below(0x11_0000) as u32).unwrap_or('\u{FFFD}'),
                })
                .collect();
            check_round_trip(&s);
        }
    }

    #[test]
    fn test_write_u64() {
        for n in [0, 1, 9, 10, 99, 100, 1732390000123, u64::MAX - 1, u64::MAX] {
            let mut out = b"x".to_vec();
            write_u64(&mut out, n);
            assert_eq!(out, format!("x{n}").as_bytes());
        }
    }

    #[test]
    fn test_emit_message_object() {
        let mut out = Vec::new();
        Object::new(&mut out)
            .u64("id", 7)
            .str("topic", "chat")
            .str("data", "hello")
            .u64("time", 1732390000123)
            .finish();
        assert_eq!(out, br#"{"id":7,"topic":"chat","data":"hello","time":1732390000123}"#);
    }

    #[test]
    fn test_emit_nested_and_raw() {
        let mut out = Vec::new();
        Object::new(&mut out).finish();
        assert_eq!(out, b"{}");

        out.clear();
        Object::new(&mut out)
            .str("topic", "t")
            .raw("messages", b"[]")
            .nested("connections", |out| Object::new(out).u64("sse", 2).finish())
            .u64("next", 0)
            .finish();
        assert_eq!(out, br#"{"topic":"t","messages":[],"connections":{"sse":2},"next":0}"#);
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(value["connections"]["sse"], 2);
    }
}
