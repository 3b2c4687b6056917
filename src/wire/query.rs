//! Query strings: `topic=chat&since=41` (RFC 3986 §3.4, §2.1; SPEC §2).
//!
//! RFC 3986 gives the query no inner structure; the `name=value&name=value` convention is
//! HTML's form encoding. We take the convention and keep RFC 3986's decoding exactly:
//!
//! ```text
//! pct-encoded = "%" HEXDIG HEXDIG                    ; RFC 3986 §2.1
//! ```
//! so `%41` is `A`, `%4` or `%G1` is an error (SPEC §2: a malformed escape is `400`), and
//! `+` stays `+` — turning `+` into a space belongs to `application/x-www-form-urlencoded`,
//! not to URIs, and a topic or a number never contains a space anyway.
//!
//! Input is the query without its `?`: the request-target's text after the first `?`
//! (RFC 9112 §3.2.1 origin-form has no fragment, so nothing ends it early).

use crate::limits::MAX_TOPIC_LEN;

/// Why a query string or one of its values was refused. Every variant is a `400`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryError {
    /// RFC 3986 §2.1: `%` must be followed by two hex digits.
    BadEscape,
    /// The percent-decoded bytes are not UTF-8 (RFC 3986 §2.5 says text is encoded as
    /// UTF-8 before percent-encoding; SPEC §2 requires it).
    NotUtf8,
    /// SPEC §2: `since`, `limit` and `timeout` are plain decimal digits — no sign, no space,
    /// not empty.
    NotANumber,
    /// SPEC §2: the number must fit in a u64.
    NumberTooLarge,
}

impl QueryError {
    /// A short reason, fit for a `400` body or a log line.
    pub fn reason(self) -> &'static str {
        match self {
            QueryError::BadEscape => "malformed percent-escape in query (RFC 3986 §2.1)",
            QueryError::NotUtf8 => "query decodes to invalid UTF-8",
            QueryError::NotANumber => "query value is not plain decimal digits",
            QueryError::NumberTooLarge => "query number does not fit in 64 bits",
        }
    }
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.reason())
    }
}

impl std::error::Error for QueryError {}

/// The `(name, value)` pairs of a query, still percent-encoded, in order.
///
/// Pairs are separated by `&`; empty pairs (`a=1&&b=2`, a trailing `&`) are skipped. A pair
/// without `=` has the empty value: `flag` is `("flag", "")`. The first `=` splits, so
/// `a=b=c` is `("a", "b=c")`.
#[derive(Clone, Debug)]
pub struct Query<'a> {
    rest: &'a str,
}

impl<'a> Query<'a> {
    /// Iterates over `query` (the text after `?`).
    pub fn new(query: &'a str) -> Query<'a> {
        Query { rest: query }
    }
}

impl<'a> Iterator for Query<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<(&'a str, &'a str)> {
        while !self.rest.is_empty() {
            let (pair, rest) = self.rest.split_once('&').unwrap_or((self.rest, ""));
            self.rest = rest;
            if !pair.is_empty() {
                return Some(pair.split_once('=').unwrap_or((pair, "")));
            }
        }
        None
    }
}

/// The decoded value of the first parameter whose decoded name is `name`, or `None`.
///
/// Every name and value in the query is decoded, not only up to the match, so whether a
/// query is refused does not depend on which parameter is asked for or in what order they
/// come: SPEC §2 makes any malformed escape a `400`.
pub fn get(query: &str, name: &str) -> Result<Option<String>, QueryError> {
    let mut found = None;
    for (raw_name, raw_value) in Query::new(query) {
        let value = percent_decode(raw_value)?;
        if percent_decode(raw_name)? == name && found.is_none() {
            found = Some(value);
        }
    }
    Ok(found)
}

/// Decodes RFC 3986 §2.1 percent-escapes; the result must be UTF-8.
///
/// `+` is not special (see the module docs). Hex digits may be either case (RFC 3986 §2.1:
/// "uppercase hexadecimal digits ... are equivalent to ... lowercase").
pub fn percent_decode(s: &str) -> Result<String, QueryError> {
    if !s.contains('%') {
        return Ok(s.to_owned());
    }
    let bytes = s.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let high = bytes.get(i + 1).and_then(|&b| hex_digit(b));
            let low = bytes.get(i + 2).and_then(|&b| hex_digit(b));
            let (Some(high), Some(low)) = (high, low) else {
                return Err(QueryError::BadEscape);
            };
            decoded.push(high << 4 | low);
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(decoded).map_err(|_| QueryError::NotUtf8)
}

/// RFC 5234 Appendix B.1: `HEXDIG = DIGIT / "A" / "B" / "C" / "D" / "E" / "F"` (and, per
/// RFC 3986 §2.1, their lowercase forms).
fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'A'..=b'F' => Some(b - b'A' + 10),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

/// Parses a cursor, limit or timeout: `1*DIGIT` that fits in a u64 (SPEC §2).
///
/// Stricter than `str::parse::<u64>`, which accepts a leading `+`. Leading zeros are plain
/// digits and allowed: `007` is 7.
pub fn parse_u64(value: &str) -> Result<u64, QueryError> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(QueryError::NotANumber);
    }
    value
        .bytes()
        .try_fold(0u64, |n, digit| n.checked_mul(10)?.checked_add(u64::from(digit - b'0')))
        .ok_or(QueryError::NumberTooLarge)
}

/// SPEC §2: a topic is 1 to [`MAX_TOPIC_LEN`] characters of `[A-Za-z0-9._-]`.
pub fn valid_topic(topic: &str) -> bool {
    (1..=MAX_TOPIC_LEN).contains(&topic.len())
        && topic.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_percent_decode() {
        assert_eq!(percent_decode("chat").unwrap(), "chat");
        assert_eq!(percent_decode("").unwrap(), "");
        assert_eq!(percent_decode("%41%62c").unwrap(), "Abc");
        assert_eq!(percent_decode("a+b").unwrap(), "a+b");
        assert_eq!(percent_decode("a%2Bb%2bc").unwrap(), "a+b+c");
        assert_eq!(percent_decode("%20%25").unwrap(), " %");
        assert_eq!(percent_decode("caf%C3%A9").unwrap(), "café");
        assert_eq!(percent_decode("%F0%9F%98%80").unwrap(), "😀");
        assert_eq!(percent_decode("%00").unwrap(), "\0");
        assert_eq!(percent_decode("é%21").unwrap(), "é!");
    }

    #[test]
    fn test_percent_decode_errors() {
        for bad in ["%", "%4", "a%4", "%G1", "%1G", "%%41", "%-1", "%+1", "% 1", "%é1"] {
            assert_eq!(percent_decode(bad), Err(QueryError::BadEscape), "{bad:?}");
        }
        for bad in ["%FF", "%C3", "%C3%28", "%ED%A0%80", "%F0%9F%98"] {
            assert_eq!(percent_decode(bad), Err(QueryError::NotUtf8), "{bad:?}");
        }
    }

    #[test]
    fn test_percent_decode_inverts_encoding() {
        // Encode every byte of each string and decode it back.
        for s in ["", "a", "topic=chat&since=1", "é😀\u{0}\u{7f}", "%+ &="] {
            let encoded: String = s.bytes().map(|b| format!("%{b:02X}")).collect();
            assert_eq!(percent_decode(&encoded).unwrap(), s);
            assert_eq!(percent_decode(&encoded.to_lowercase()).unwrap(), s);
        }
    }

    #[test]
    fn test_pairs() {
        let pairs: Vec<_> = Query::new("a=1&&b=&c&=d&e=f=g&").collect();
        assert_eq!(pairs, [("a", "1"), ("b", ""), ("c", ""), ("", "d"), ("e", "f=g")]);
        assert_eq!(Query::new("").count(), 0);
        assert_eq!(Query::new("&&&").count(), 0);
    }

    #[test]
    fn test_get() {
        let q = "topic=chat&since=41&since=99&t%6Fpic=other";
        assert_eq!(get(q, "topic").unwrap().as_deref(), Some("chat"));
        assert_eq!(get(q, "since").unwrap().as_deref(), Some("41"));
        assert_eq!(get(q, "limit").unwrap(), None);
        assert_eq!(get("%74opic=a%2Db", "topic").unwrap().as_deref(), Some("a-b"));
        assert_eq!(get("since=", "since").unwrap().as_deref(), Some(""));
        assert_eq!(get("", "topic").unwrap(), None);
    }

    #[test]
    fn test_get_refuses_any_bad_escape() {
        // Before the match, after it, in a name, in another parameter's value.
        for q in ["x=%G1&topic=a", "topic=a&x=%4", "topic=a&%zz=1", "topic=%FF"] {
            assert!(get(q, "topic").is_err(), "{q:?}");
        }
    }

    #[test]
    fn test_parse_u64() {
        assert_eq!(parse_u64("0"), Ok(0));
        assert_eq!(parse_u64("007"), Ok(7));
        assert_eq!(parse_u64("18446744073709551615"), Ok(u64::MAX));
        assert_eq!(parse_u64("18446744073709551616"), Err(QueryError::NumberTooLarge));
        assert_eq!(parse_u64("99999999999999999999999"), Err(QueryError::NumberTooLarge));
        for bad in ["", "+1", "-1", " 1", "1 ", "1.0", "1e3", "0x10", "١", "1_000"] {
            assert_eq!(parse_u64(bad), Err(QueryError::NotANumber), "{bad:?}");
        }
    }

    #[test]
    fn test_valid_topic() {
        for good in ["a", "chat", "A-Z_a.z-09", &"x".repeat(MAX_TOPIC_LEN)] {
            assert!(valid_topic(good), "{good:?}");
        }
        let too_long = "x".repeat(MAX_TOPIC_LEN + 1);
        for bad in ["", " ", "a b", "a/b", "é", "a+b", "a%20b", "\0", too_long.as_str()] {
            assert!(!valid_topic(bad), "{bad:?}");
        }
    }

    #[test]
    fn test_reasons_are_distinct() {
        use QueryError::*;
        let all = [BadEscape, NotUtf8, NotANumber, NumberTooLarge];
        for (i, a) in all.iter().enumerate() {
            assert!(!a.reason().is_empty());
            assert_eq!(a.to_string(), a.reason());
            for b in &all[i + 1..] {
                assert_ne!(a.reason(), b.reason());
            }
        }
    }
}
