//! `text/event-stream` encoding (WHATWG HTML §9.2 "Server-sent events").
//!
//! Heads up! Before working on this file read, at least, WHATWG HTML §9.2.5 "Parsing an
//! event stream" (the grammar) and §9.2.6 "Interpreting an event stream" (the algorithm a
//! browser's `EventSource` runs). The tests below carry our own copy of that algorithm and
//! check every encoder against it.
//!
//! What pushlab writes, and nothing else:
//! ```text
//! retry: 3000        <- write_retry: the reconnection delay, then a blank line
//!
//! id: 7              <- write_event: the message id ...
//! data: hello        <- ... one `data:` line per line of the message text ...
//!                    <- ... and the blank line that dispatches the event
//! : keep-alive       <- write_comment: ignored by the client, keeps proxies from timing out
//!
//! ```
//! Every line is `field: value` with one space after the colon and an LF line ending; the
//! grammar also allows CRLF and CR, and no colon or no space, but one form is easier to read
//! in a `trace` dump and to test.
//!
//! And the one thing a client sends back: [`last_event_id`], the `Last-Event-ID` header an
//! `EventSource` adds when it reconnects.

use crate::wire::json::write_u64;

/// Appends one event: `id: N` (if `id` is given), one `data: ` line per line of `data`,
/// then a blank line.
///
/// `data` is split at every CRLF, LF and lone CR — §9.2.5: `end-of-line = ( cr lf / cr /
/// lf )` — because a raw line break inside a `data:` line would end it. §9.2.6 appends each
/// `data` field's value and an LF to the data buffer and drops the final LF, so the client
/// receives the lines joined with LF: exactly `data`, **except that CRLF and CR arrive as
/// LF**. The format has no way to carry a CR, so that normalisation is inherent, not ours.
///
/// - A leading space survives: §9.2.6 removes only the one space after the colon, which we
///   always write.
/// - A trailing line break survives: `"a\n"` is the line `a` and an empty line, written
///   `data: a\ndata: \n`, which the client turns back into `"a\n"`.
/// - Empty `data` is one `data: ` line. §9.2.6 skips dispatch only when the data *buffer*
///   is empty, and one `data` field already puts an LF in it, so the client does get an event
///   with `data == ""`. (SPEC §3 refuses empty messages, so pushlab never sends one.)
pub fn write_event(out: &mut Vec<u8>, id: Option<u64>, data: &str) {
    if let Some(id) = id {
        // §9.2.6: an `id` value containing U+0000 NULL is ignored; digits never do.
        out.extend_from_slice(b"id: ");
        write_u64(out, id);
        out.push(b'\n');
    }
    for line in lines(data) {
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    // §9.2.6: "If the line is empty (a blank line): Dispatch the event".
    out.push(b'\n');
}

/// Appends `retry: MS` and a blank line: the client's reconnection delay in milliseconds.
///
/// §9.2.6: "If the field value consists of only ASCII digits, then interpret the field value
/// as an integer in base ten, and set the event stream's reconnection time to that integer."
/// The blank line dispatches nothing — the data buffer is empty — but ends the block, so the
/// `retry:` preamble is a chunk of its own (SPEC §6).
pub fn write_retry(out: &mut Vec<u8>, ms: u64) {
    out.extend_from_slice(b"retry: ");
    write_u64(out, ms);
    out.extend_from_slice(b"\n\n");
}

/// Appends `text` as a comment (`: text`) and a blank line; SPEC §6 sends `: keep-alive`.
///
/// §9.2.6: a line starting with a colon is ignored. §9.2.7 "Authoring notes": legacy proxy
/// servers drop connections that stay idle, so a comment line every 15 seconds or so keeps
/// the stream open. A line break in `text` would end the comment and let the rest be read
/// as a field, so each line of `text` becomes a comment line of its own.
pub fn write_comment(out: &mut Vec<u8>, text: &str) {
    for line in lines(text) {
        if line.is_empty() {
            out.extend_from_slice(b":\n");
        } else {
            out.extend_from_slice(b": ");
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
    }
    out.push(b'\n');
}

/// The lines of `text`, split at CRLF, LF and lone CR (§9.2.5 `end-of-line`). Text that
/// ends in a line break ends with an empty line; empty text is one empty line.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let current = rest?;
        let Some(end) = current.find(['\r', '\n']) else {
            rest = None;
            return Some(current);
        };
        // A CR followed by LF is one line break, not two.
        let break_len = if current[end..].starts_with("\r\n") { 2 } else { 1 };
        rest = Some(&current[end + break_len..]);
        Some(&current[..end])
    })
}

/// The id in a `Last-Event-ID` header value (WHATWG HTML §9.2.4: the browser sends the last
/// event ID it saw). pushlab's ids are plain digits (SPEC §2, §6); ASCII whitespace around
/// them is allowed, anything else means "not one of our ids": `None`, and the header is
/// ignored rather than refused — the browser would only send it again on every reconnect.
pub fn last_event_id(value: &[u8]) -> Option<u64> {
    let digits = value.trim_ascii();
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    // Every byte is a digit, so this is ASCII; too many digits for a u64 is `None` too.
    std::str::from_utf8(digits).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::last_event_id;

    #[test]
    fn last_event_id_is_plain_digits() {
        assert_eq!(last_event_id(b"7"), Some(7));
        assert_eq!(last_event_id(b" 42\t"), Some(42));
        assert_eq!(last_event_id(b"18446744073709551615"), Some(u64::MAX));
        for bad in [
            &b""[..],
            b"  ",
            b"-1",
            b"+1",
            b"1e3",
            b"0x10",
            b"18446744073709551616",
            "3\u{a0}".as_bytes(),
            b"1 2",
        ] {
            assert_eq!(last_event_id(bad), None, "{bad:?}");
        }
    }

    use super::*;
    use crate::wire::test_rng::Rng;

    /// One dispatched `MessageEvent`, as far as pushlab cares.
    #[derive(Debug, PartialEq)]
    struct Event {
        data: String,
        last_event_id: String,
    }

    /// What a client made of a whole stream.
    #[derive(Debug, Default)]
    struct Client {
        events: Vec<Event>,
        reconnection_time: Option<u64>,
    }

    /// WHATWG HTML §9.2.5 and §9.2.6, transcribed: the algorithm a browser runs, written
    /// independently of the encoders above. The stream is already decoded text.
    fn parse_stream(stream: &str) -> Client {
        let mut client = Client::default();
        let mut data = String::new();
        let mut last_event_id_buffer = String::new();
        let mut last_event_id = String::new();
        // §9.2.5: one leading U+FEFF BYTE ORDER MARK is ignored.
        let mut rest = stream.strip_prefix('\u{FEFF}').unwrap_or(stream);
        // §9.2.5: lines end at CRLF, LF or CR; a last line with no end is discarded.
        while let Some(end) = rest.find(['\r', '\n']) {
            let line = &rest[..end];
            let break_len = if rest[end..].starts_with("\r\n") { 2 } else { 1 };
            rest = &rest[end + break_len..];

            if line.is_empty() {
                // "Dispatch the event".
                last_event_id.clone_from(&last_event_id_buffer);
                if data.is_empty() {
                    continue;
                }
                if data.ends_with('\n') {
                    data.pop();
                }
                client
                    .events
                    .push(Event { data: std::mem::take(&mut data), last_event_id: last_event_id.clone() });
                continue;
            }
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = match line.split_once(':') {
                Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
                None => (line, ""),
            };
            match field {
                "data" => {
                    data.push_str(value);
                    data.push('\n');
                }
                "id" if !value.contains('\0') => last_event_id_buffer = value.to_string(),
                "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                    client.reconnection_time = value.parse().ok();
                }
                _ => {} // "event", an `id` with NULL, a bad `retry`, unknown fields: no effect here
            }
        }
        client
    }

    fn normalise_line_breaks(s: &str) -> String {
        s.replace("\r\n", "\n").replace('\r', "\n")
    }

    fn event_bytes(id: Option<u64>, data: &str) -> String {
        let mut out = Vec::new();
        write_event(&mut out, id, data);
        String::from_utf8(out).unwrap()
    }

    /// Our encoding of `data`, read by the WHATWG algorithm, gives back `data` with CRLF and
    /// CR turned into LF, as one event with the id we sent.
    fn check_round_trip(id: u64, data: &str) {
        let stream = event_bytes(Some(id), data);
        let client = parse_stream(&stream);
        let expected = Event { data: normalise_line_breaks(data), last_event_id: id.to_string() };
        assert_eq!(client.events, [expected], "stream {stream:?}");
    }

    #[test]
    fn test_emit_exact() {
        assert_eq!(event_bytes(Some(7), "hello"), "id: 7\ndata: hello\n\n");
        assert_eq!(event_bytes(None, "hello"), "data: hello\n\n");
        assert_eq!(event_bytes(Some(1), "a\nb"), "id: 1\ndata: a\ndata: b\n\n");
        assert_eq!(event_bytes(Some(1), "a\r\nb\rc"), "id: 1\ndata: a\ndata: b\ndata: c\n\n");
        assert_eq!(event_bytes(Some(1), "\r\r\n"), "id: 1\ndata: \ndata: \ndata: \n\n");
        assert_eq!(event_bytes(Some(1), "a\n"), "id: 1\ndata: a\ndata: \n\n");
        assert_eq!(event_bytes(None, ""), "data: \n\n");
        let mut out = Vec::new();
        write_retry(&mut out, 3000);
        write_comment(&mut out, "keep-alive");
        assert_eq!(out, b"retry: 3000\n\n: keep-alive\n\n");
    }

    #[test]
    fn test_round_trip_examples() {
        let cases = [
            "hello",
            "a\n",
            "\n",
            "\n\n",
            "\r",
            "\r\n",
            "\n\r",
            "\r\r\n\n",
            "a\r\nb",
            "a\rb\nc",
            " leading space",
            "  two",
            "data: x",
            "id: 99",
            ":colon",
            "a:b:c",
            "\0nul",
            "café 😀\u{2028}",
            "\u{FEFF}bom",
            "x\n\ndata: injected\n\n",
            "trailing\r\n",
        ];
        for (id, data) in cases.into_iter().enumerate() {
            check_round_trip(id as u64, data);
        }
        check_round_trip(u64::MAX, "max id");
    }

    #[test]
    fn test_round_trip_random() {
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        let alphabet = ['\r', '\n', ' ', ':', 'a', 'd', '\0', 'é', '😀', '\u{FEFF}'];
        for _ in 0..5000 {
            let len = rng.below(16);
            let data: String = (0..len).map(|_| *rng.pick(&alphabet)).collect();
            check_round_trip(rng.next(), &data);
        }
    }

    #[test]
    fn test_empty_data_is_dispatched_empty() {
        // One `data` field makes the buffer "\n", not "": the event fires, with empty data.
        let client = parse_stream(&event_bytes(Some(3), ""));
        assert_eq!(client.events, [Event { data: String::new(), last_event_id: "3".into() }]);
    }

    #[test]
    fn test_stream_of_events() {
        let mut out = Vec::new();
        write_retry(&mut out, 3000);
        write_event(&mut out, Some(1), "one");
        write_comment(&mut out, "keep-alive");
        write_event(&mut out, None, "two\r\nlines");
        write_event(&mut out, Some(3), "three");
        let client = parse_stream(std::str::from_utf8(&out).unwrap());
        assert_eq!(client.reconnection_time, Some(3000));
        let got: Vec<_> = client.events.iter().map(|e| (e.data.as_str(), e.last_event_id.as_str())).collect();
        // An event without `id` keeps the last event ID from before.
        assert_eq!(got, [("one", "1"), ("two\nlines", "1"), ("three", "3")]);
    }

    #[test]
    fn test_comment_never_leaks_fields() {
        let mut out = Vec::new();
        write_comment(&mut out, "x\ndata: injected\r\nid: 9\r");
        write_comment(&mut out, "");
        let text = std::str::from_utf8(&out).unwrap();
        assert_eq!(text, ": x\n: data: injected\n: id: 9\n:\n\n:\n\n");
        let client = parse_stream(text);
        assert!(client.events.is_empty());
    }

    #[test]
    fn test_retry_values() {
        for ms in [0, 1, 3000, u64::MAX] {
            let mut out = Vec::new();
            write_retry(&mut out, ms);
            assert_eq!(out, format!("retry: {ms}\n\n").as_bytes());
            assert_eq!(parse_stream(std::str::from_utf8(&out).unwrap()).reconnection_time, Some(ms));
        }
    }
}
