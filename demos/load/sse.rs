//! An `EventSource` without the browser: one `/sse` response, head then event stream.
//!
//! The body is de-chunked by pushlab's own [`ChunkDecoder`] (or read to the close, on an
//! HTTP/1.0-style stream), then cut into lines and events as the WHATWG parser does
//! ("Interpreting an event stream", HTML §9.2.6): lines end in CRLF, LF or CR; a line
//! starting with `:` is a comment; `field: value` loses one space after the colon; `data`
//! lines join with LF; a blank line dispatches the event. `id`, `data`, and nothing else
//! matters here (`retry` and `event` are read past). pushlab's `wire::sse` writes this format;
//! this file reads it.
use pushlab::wire::chunked::ChunkDecoder;
use pushlab::wire::Status;

use super::http::{parse_head, Body};
use super::scan::find_any;

/// `GET target` as `EventSource` asks for it: with `Accept: text/event-stream` (which some
/// servers, Nchan among them, require before they answer with a stream).
pub fn request(out: &mut Vec<u8>, host: &str, target: &str) {
    out.extend_from_slice(
        format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n")
            .as_bytes(),
    );
}

/// What the stream yields.
#[derive(Debug, PartialEq, Eq)]
pub enum Item<'a> {
    /// The response head arrived with this status (200 means the subscription is live).
    Head(u16),
    /// An event: its `id` if this event had one, and its data.
    Event { id: Option<&'a [u8]>, data: &'a [u8] },
}

#[derive(Default)]
pub struct SseStream {
    /// `None` before the head; then the decoder (or none, for a close-delimited body).
    body: Option<Option<ChunkDecoder>>,
    /// De-chunked bytes not yet cut into lines.
    text: Vec<u8>,
    data: Vec<u8>,
    id: Vec<u8>,
    has_id: bool,
}

impl SseStream {
    /// Takes the next bytes of the response; returns how many it used (all of them once the
    /// head is through: the rest is kept inside).
    pub fn input(&mut self, input: &[u8], mut each: impl FnMut(Item<'_>)) -> Result<usize, String> {
        let mut used = 0;
        let decoder = match &mut self.body {
            Some(decoder) => decoder,
            None => {
                let Status::Complete(head) = parse_head(input)? else { return Ok(0) };
                each(Item::Head(head.status));
                if head.status != 200 {
                    return Err(format!("/sse answered {}", head.status));
                }
                used = head.len;
                let decoder = match head.body {
                    Body::Chunked => Some(ChunkDecoder::new(usize::MAX)),
                    Body::Close => None,
                    other => return Err(format!("an event stream framed as {other:?}")),
                };
                self.body.insert(decoder)
            }
        };
        let rest = &input[used..];
        match decoder {
            Some(decoder) => match decoder.decode(rest, &mut self.text).map_err(|e| e.reason())? {
                Status::Partial => {}
                Status::Complete(_) => return Err("the event stream ended".into()),
            },
            None => self.text.extend_from_slice(rest),
        }
        let done = self.lines(&mut each);
        self.text.drain(..done);
        Ok(input.len())
    }

    /// Handles the complete lines of `text`; returns the bytes they took.
    fn lines(&mut self, each: &mut impl FnMut(Item<'_>)) -> usize {
        let mut at = 0;
        while let Some(len) = find_any(&self.text[at..], [b'\n', b'\r']) {
            let end = at + len;
            // A CR last in the buffer may be the first half of a CRLF: wait for the next byte.
            let eol = match (self.text[end], self.text.get(end + 1)) {
                (b'\r', None) => break,
                (b'\r', Some(b'\n')) => 2,
                _ => 1,
            };
            let (from, next) = (at, end + eol);
            at = next;
            let line = from..end;
            if line.is_empty() {
                if !self.data.is_empty() {
                    self.data.pop(); // the LF after the last data line
                    let id = self.has_id.then_some(&self.id[..]);
                    each(Item::Event { id, data: &self.data });
                }
                self.data.clear();
                self.has_id = false;
                continue;
            }
            let line = &self.text[line];
            if line[0] == b':' {
                continue;
            }
            let (name, value) = match line.iter().position(|&b| b == b':') {
                Some(c) => (&line[..c], line[c + 1..].strip_prefix(b" ").unwrap_or(&line[c + 1..])),
                None => (line, &[][..]),
            };
            match name {
                b"data" => {
                    self.data.extend_from_slice(value);
                    self.data.push(b'\n');
                }
                b"id" if !value.contains(&0) => {
                    self.id.clear();
                    self.id.extend_from_slice(value);
                    self.has_id = true;
                }
                _ => {}
            }
        }
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `bytes` split at every `step` bytes; returns the items as text.
    fn run(bytes: &[u8], step: usize) -> Vec<String> {
        let mut s = SseStream::default();
        let mut got = Vec::new();
        let mut pending: Vec<u8> = Vec::new();
        for piece in bytes.chunks(step) {
            pending.extend_from_slice(piece);
            let used = s
                .input(&pending, |item| {
                    got.push(match item {
                        Item::Head(status) => format!("head {status}"),
                        Item::Event { id, data } => format!(
                            "{}={}",
                            id.map_or("-".into(), |i| String::from_utf8_lossy(i).into_owned()),
                            String::from_utf8_lossy(data)
                        ),
                    })
                })
                .unwrap();
            pending.drain(..used);
        }
        got
    }

    #[test]
    fn pushlabs_stream_in_any_pieces() {
        // Captured from pushlab: `retry:`, one event, a heartbeat, a two-line event.
        let wire = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n\
            d\r\nretry: 3000\n\n\r\n13\r\nid: 1\ndata: hello\n\n\r\ne\r\n: keep-alive\n\n\r\n17\r\nid: 2\ndata: a\ndata: b\n\n\r\n";
        let want = vec!["head 200", "1=hello", "2=a\nb"];
        for step in 1..=wire.len() {
            assert_eq!(run(wire, step), want, "in pieces of {step}");
        }
    }

    #[test]
    fn every_line_end_and_no_id() {
        let wire = b"HTTP/1.0 200 OK\r\n\r\ndata:x\r\n\r\ndata: y\r\rid: 7\ndata\n\n";
        for step in 1..=wire.len() {
            assert_eq!(run(wire, step), vec!["head 200", "-=x", "-=y", "7="], "in pieces of {step}");
        }
    }

    #[test]
    fn refusals_are_errors() {
        let mut s = SseStream::default();
        assert!(s.input(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", |_| {}).is_err());
    }
}
