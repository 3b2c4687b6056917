//! The query-string functions of `wire::query` on any text, each beside a slow twin written
//! from RFC 3986 and SPEC §2 rather than from the code:
//!
//! - `Query` yields the pairs `str::split('&')` and `split_once('=')` give, empty ones dropped;
//! - `percent_decode` agrees with a decoder that cuts the text at each `%` (same value, same
//!   error), and undoes percent-encoding of every byte, upper or lower case;
//! - `get` finds the first pair whose *decoded* name matches, and is refused — with an error
//!   one of the pairs really has — exactly when any name or value is malformed, whatever
//!   name is asked for;
//! - `parse_u64` agrees with `str::parse::<u64>` on digit strings and refuses the rest
//!   (`parse` takes a leading `+`; SPEC §2 does not);
//! - `valid_topic` is SPEC §2's `[A-Za-z0-9._-]{1,64}`.
//!
//! Input: `name\nquery`, or just the query (the name is then `topic`); bytes that are not
//! UTF-8 become U+FFFD, as the request parser only hands out `&str` targets anyway.

use pushlab::limits::MAX_TOPIC_LEN;
use pushlab::wire::query::{get, parse_u64, percent_decode, valid_topic, Query, QueryError};

pub fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (name, query) = text.split_once('\n').unwrap_or(("topic", &text));

    let pairs: Vec<(&str, &str)> = Query::new(query).collect();
    let twin: Vec<(&str, &str)> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .collect();
    assert_eq!(pairs, twin);

    let mut decoded = Vec::new();
    let mut errors = Vec::new();
    for &(raw_name, raw_value) in &pairs {
        let pair = (decode(raw_name), decode(raw_value));
        errors.extend(pair.0.as_ref().err().copied());
        errors.extend(pair.1.as_ref().err().copied());
        if let (Ok(n), Ok(v)) = pair {
            decoded.push((n, v));
        }
        for raw in [raw_name, raw_value] {
            check_number(raw);
            assert_eq!(valid_topic(raw), topic_twin(raw), "{raw:?}");
        }
    }
    for (n, v) in &decoded {
        check_number(v);
        assert_eq!(valid_topic(v), topic_twin(v), "{v:?}");
        round_trip(n);
        round_trip(v);
        if valid_topic(v) {
            assert_eq!(percent_decode(v).as_deref(), Ok(v.as_str()), "a topic needs no decoding");
        }
    }
    let _ = decode(query);
    check_number(query);
    assert_eq!(valid_topic(query), topic_twin(query));

    for asked in [name, "topic", "since"] {
        match get(query, asked) {
            Ok(found) => {
                assert!(errors.is_empty(), "{query:?}: accepted despite {errors:?}");
                let want = decoded.iter().find(|(n, _)| n == asked).map(|(_, v)| v.clone());
                assert_eq!(found, want, "{query:?} {asked:?}");
            }
            Err(e) => assert!(errors.contains(&e), "{query:?}: {e:?} but the pairs have {errors:?}"),
        }
    }
}

/// `percent_decode` beside the slow twin: the same value or the same error.
fn decode(s: &str) -> Result<String, QueryError> {
    let ours = percent_decode(s);
    assert_eq!(ours, decode_twin(s), "{s:?}");
    ours
}

/// RFC 3986 §2.1 by the book: copy the text up to each `%`, then read exactly two hex digits.
/// A bad escape anywhere is `BadEscape`; only then are the bytes checked for UTF-8.
fn decode_twin(s: &str) -> Result<String, QueryError> {
    let mut bytes = Vec::new();
    let mut rest = s;
    while let Some(at) = rest.find('%') {
        bytes.extend_from_slice(&rest.as_bytes()[..at]);
        // `get` is `None` past the end or inside a multi-byte character: not two hex digits.
        let hex = rest.get(at + 1..at + 3).filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
        let Some(hex) = hex else { return Err(QueryError::BadEscape) };
        bytes.push(u8::from_str_radix(hex, 16).expect("two hex digits"));
        rest = &rest[at + 3..];
    }
    bytes.extend_from_slice(rest.as_bytes());
    String::from_utf8(bytes).map_err(|_| QueryError::NotUtf8)
}

/// Every byte of `s` percent-encoded, in upper then lower case, decodes back to `s`.
fn round_trip(s: &str) {
    let upper: String = s.bytes().map(|b| format!("%{b:02X}")).collect();
    let lower: String = s.bytes().map(|b| format!("%{b:02x}")).collect();
    assert_eq!(percent_decode(&upper).as_deref(), Ok(s));
    assert_eq!(percent_decode(&lower).as_deref(), Ok(s));
}

/// SPEC §2: `1*DIGIT` that fits in a u64. On digit strings `str::parse` is the reference;
/// anything else (a sign, a space, a non-ASCII digit, nothing) is not a number.
fn check_number(s: &str) {
    let ours = parse_u64(s);
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        assert_eq!(ours, s.parse::<u64>().map_err(|_| QueryError::NumberTooLarge), "{s:?}");
    } else {
        assert_eq!(ours, Err(QueryError::NotANumber), "{s:?}");
    }
}

/// SPEC §2: a topic is 1 to 64 characters of `[A-Za-z0-9._-]`.
fn topic_twin(s: &str) -> bool {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    (1..=MAX_TOPIC_LEN).contains(&s.chars().count()) && s.chars().all(allowed)
}
