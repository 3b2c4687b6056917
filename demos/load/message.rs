//! The messages a run publishes, and finding them again in what the server delivers.
//!
//! Every message's text is `s<seq>` padded with dots to `--size` bytes: `seq` is the
//! message's number in this run (0, 1, 2, …), so a subscriber can tell lost from duplicated
//! whatever the server calls its ids, and its publish time is looked up by that number (the
//! publisher and the subscribers share one process and one clock). The server's own id, where
//! it has one, is checked beside it ([`super::tally::IdCheck`]).
//!
//! SPEC's message JSON (`{"id":7,"topic":"t","data":"s6....","time":…}`, alone in a
//! WebSocket frame or in a poll reply's `"messages":[…]`) is scanned, not parsed: the tool
//! wrote the text inside, so it needs no unescaping, and a scan costs less per delivery than
//! building a tree. pushlab's `wire::json` writes JSON; reading it is this file's job.
use std::io::Write;

use super::scan::find_any;

/// The text of message `seq`, `size` bytes (longer only if the number needs it).
pub fn text(out: &mut Vec<u8>, seq: u64, size: usize) {
    let start = out.len();
    let _ = write!(out, "s{seq}");
    while out.len() - start < size {
        out.push(b'.');
    }
}

/// The `seq` of a message text: `s` and digits.
pub fn seq_of(data: &[u8]) -> Option<u64> {
    let digits = data.strip_prefix(b"s")?;
    let n = digits.iter().take_while(|b| b.is_ascii_digit()).count();
    if n == 0 || n > 19 {
        return None;
    }
    digits[..n].iter().try_fold(0u64, |v, d| v.checked_mul(10)?.checked_add(u64::from(d - b'0')))
}

/// An unsigned decimal at the front of `b` (after blanks).
pub fn leading_u64(b: &[u8]) -> Option<u64> {
    let b = trim_start(b);
    let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 || n > 19 {
        return None;
    }
    b[..n].iter().try_fold(0u64, |v, d| v.checked_mul(10)?.checked_add(u64::from(d - b'0')))
}

fn trim_start(b: &[u8]) -> &[u8] {
    let skip = b.iter().take_while(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n')).count();
    &b[skip..]
}

/// The position just after the string that starts at `s[0] == '"'`.
fn skip_string(s: &[u8]) -> Option<usize> {
    let mut at = 1;
    loop {
        let j = find_any(&s[at..], [b'"', b'\\'])?;
        if s[at + j] == b'\\' {
            at += j + 2;
        } else {
            return Some(at + j + 1);
        }
    }
}

/// What a message object holds that the tool reads: the server's `id` and the raw `data`
/// string (escapes left as they are).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fields<'a> {
    pub id: Option<u64>,
    pub data: Option<&'a [u8]>,
}

/// Scans the flat JSON object at the front of `s` (`s[0] == '{'`) in one pass, key by key:
/// its fields and the bytes it took. `None` if it is not a flat object of strings and
/// scalars. One pass matters: this runs once per delivery, and a poll reply holds up to a
/// hundred of them.
pub fn object(s: &[u8]) -> Option<(Fields<'_>, usize)> {
    let mut fields = Fields::default();
    let mut i = 1;
    loop {
        i += find_any(&s[i..], [b'"', b'}'])?;
        if s[i] == b'}' {
            return Some((fields, i + 1));
        }
        let key_end = i + skip_string(&s[i..])?;
        let key = &s[i + 1..key_end - 1];
        i = key_end;
        i += s[i..].len() - trim_start(&s[i..]).len();
        if s.get(i) != Some(&b':') {
            return None;
        }
        i += 1;
        i += s[i..].len() - trim_start(&s[i..]).len();
        match *s.get(i)? {
            b'"' => {
                let end = i + skip_string(&s[i..])?;
                if key == b"data" {
                    fields.data = Some(&s[i + 1..end - 1]);
                }
                i = end;
            }
            b'{' | b'[' => return None,
            _ => {
                let end = i + find_any(&s[i..], [b',', b'}'])?;
                if key == b"id" {
                    fields.id = leading_u64(&s[i..end]);
                }
                i = end;
            }
        }
    }
}

/// The number under the last `"key":` of `body` — a poll reply's `"next"`, which follows the
/// messages, is found from the end without a walk through them.
pub fn last_u64(body: &[u8], key: &str) -> Option<u64> {
    let key = key.as_bytes();
    let mut end = body.len();
    while let Some(q) = body[..end].iter().rposition(|&c| c == b'"') {
        let name = q.checked_sub(key.len())?;
        if body[name..q] == *key && name > 0 && body[name - 1] == b'"' && body.get(q + 1) == Some(&b':') {
            return leading_u64(&body[q + 2..]);
        }
        end = q;
    }
    None
}

/// Calls `each` with the fields of every object of the `"messages":[…]` array of a poll reply.
pub fn for_each_message(body: &[u8], mut each: impl FnMut(Fields<'_>)) -> Result<(), String> {
    const KEY: &[u8] = b"\"messages\":";
    let start = body.windows(KEY.len()).position(|w| w == KEY).ok_or("a poll reply without \"messages\"")?;
    let rest =
        trim_start(&body[start + KEY.len()..]).strip_prefix(b"[").ok_or("\"messages\" is not an array")?;
    let mut i = 0;
    while let Some(skip) = find_any(&rest[i..], [b'{', b']']) {
        i += skip;
        if rest[i] == b']' {
            return Ok(());
        }
        let (fields, used) = object(&rest[i..]).ok_or("a message that is not a flat JSON object")?;
        each(fields);
        i += used;
    }
    Err("an unterminated \"messages\" array".into())
}

/// A delivered payload's server id and run number: SPEC's JSON, or the bare text (a server
/// that delivers the message as it was published, as Nchan does).
pub fn from_payload(payload: &[u8]) -> (Option<u64>, Option<u64>) {
    if payload.first() == Some(&b'{') {
        let fields = object(payload).map(|(f, _)| f).unwrap_or_default();
        (fields.id, fields.data.and_then(seq_of))
    } else {
        (None, seq_of(payload))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_carry_their_number() {
        let mut out = Vec::new();
        text(&mut out, 42, 8);
        assert_eq!(out, b"s42.....");
        assert_eq!(seq_of(&out), Some(42));
        out.clear();
        text(&mut out, 123_456, 3);
        assert_eq!(out, b"s123456");
        assert_eq!(seq_of(b"x12"), None);
        assert_eq!(seq_of(b"s"), None);
        assert_eq!(seq_of(b"s99999999999999999999"), None);
    }

    #[test]
    fn spec_json_is_scanned() {
        let m = br#"{"id":7,"topic":"t","data":"s6...","time":1732390000123}"#;
        assert_eq!(from_payload(m), (Some(7), Some(6)));
        assert_eq!(from_payload(b"s6..."), (None, Some(6)));
        // Any key order, blanks, escapes, other scalars.
        let m = br#"{ "time" : 1, "ok": true, "data" : "a\"b}", "id" : 12 } tail"#;
        let (fields, used) = object(m).unwrap();
        assert_eq!(fields, Fields { id: Some(12), data: Some(&br#"a\"b}"#[..]) });
        assert_eq!(&m[used..], b" tail");
        assert_eq!(object(br#"{"id":1,"nested":{"a":1}}"#), None);
        assert_eq!(last_u64(br#"{"next":3,"messages":[],"next": 12}"#, "next"), Some(12));
        assert_eq!(last_u64(br#"{"next_":3}"#, "next"), None);
    }

    #[test]
    fn poll_replies_list_their_messages() {
        let body = br#"{"topic":"t","messages":[{"id":1,"topic":"t","data":"s0}{","time":1},{"id":2,"topic":"t","data":"s1","time":2}],"next":2}"#;
        let mut got = Vec::new();
        for_each_message(body, |f| got.push((f.id, f.data.and_then(seq_of)))).unwrap();
        assert_eq!(got, vec![(Some(1), Some(0)), (Some(2), Some(1))]);
        assert_eq!(last_u64(body, "next"), Some(2));
        let mut none = 0;
        for_each_message(br#"{"topic":"t","messages":[],"next":0}"#, |_| none += 1).unwrap();
        assert_eq!(none, 0);
        assert!(for_each_message(br#"{"messages":[{"id":1}"#, |_| {}).is_err());
        assert!(for_each_message(br#"{"messages":[{"id":1,"data":"x"#, |_| {}).is_err());
    }
}
