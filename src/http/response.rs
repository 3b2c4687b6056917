//! Responses: a status, a few headers, a body — and the one function that turns them into
//! bytes on the wire.
//!
//! Handlers build a [`Response`]; the connection writes it with [`Response::write`], which
//! adds what every response carries (RFC 9110 §6.6.1 `Date`, §10.2.4 `Server`), the framing
//! (`Content-Length`, or chunked coding for a stream on HTTP/1.1) and `Connection: close`
//! when the connection ends after it.

use std::rc::Rc;

use super::status::{self, reason_phrase};
use crate::outq::OutQueue;
use crate::wire::request::Version;

/// How the body of a response is delimited on the wire (RFC 9112 §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// `Content-Length: <body length>`: the usual case.
    Length,
    /// No body and no length: `1xx`, `204` and `101` (RFC 9110 §8.6).
    NoBody,
    /// A body that never ends on its own (SSE): chunked on HTTP/1.1, close-delimited on 1.0.
    Stream,
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    headers: Vec<(&'static str, String)>,
    body: Body,
    framing: Framing,
    /// The connection closes after this response whatever the request asked.
    pub close: bool,
}

#[derive(Debug)]
enum Body {
    Static(&'static [u8]),
    Owned(Vec<u8>),
    /// One body shared by many responses (a long-poll reply released to many waiters).
    Shared(Rc<[u8]>),
}

impl Response {
    pub fn new(status: u16) -> Response {
        let framing = match status {
            100..=199 | status::NO_CONTENT => Framing::NoBody,
            _ => Framing::Length,
        };
        Response { status, headers: Vec::new(), body: Body::Static(b""), framing, close: false }
    }

    /// `200` with a body and its media type.
    pub fn ok(content_type: &'static str, body: Vec<u8>) -> Response {
        Response::new(status::OK).header("Content-Type", content_type).body(body)
    }

    /// `200` with a body compiled into the binary (pages, demo clients).
    pub fn static_page(content_type: &'static str, body: &'static [u8]) -> Response {
        let mut r = Response::new(status::OK).header("Content-Type", content_type);
        r.body = Body::Static(body);
        r
    }

    /// An error response whose plain-text body names the broken rule, e.g.
    /// `400 Bad Request: whitespace before colon`.
    pub fn error(status: u16, detail: &str) -> Response {
        let mut text = format!("{status} {}", reason_phrase(status));
        if !detail.is_empty() {
            text.push_str(": ");
            text.push_str(detail);
        }
        text.push('\n');
        Response::new(status).header("Content-Type", "text/plain; charset=utf-8").body(text.into_bytes())
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Response {
        self.headers.push((name, value.into()));
        self
    }

    pub fn body(mut self, body: Vec<u8>) -> Response {
        self.body = Body::Owned(body);
        self
    }

    /// A body shared with other responses: writing it queues a reference, not a copy.
    pub fn shared_body(mut self, body: Rc<[u8]>) -> Response {
        self.body = Body::Shared(body);
        self
    }

    /// Marks the response as a never-ending stream (SSE).
    pub fn stream(mut self) -> Response {
        self.framing = Framing::Stream;
        self
    }

    /// `101`: no body, no length (RFC 9110 §15.2.2).
    pub fn switching_protocols() -> Response {
        let mut r = Response::new(status::SWITCHING_PROTOCOLS);
        r.framing = Framing::NoBody;
        r
    }

    pub fn closing(mut self) -> Response {
        self.close = true;
        self
    }

    pub fn framing(&self) -> Framing {
        self.framing
    }

    fn body_bytes(&self) -> &[u8] {
        match &self.body {
            Body::Static(b) => b,
            Body::Owned(v) => v,
            Body::Shared(s) => s,
        }
    }

    /// Writes the response. `keep_alive` is what the connection will do after it; `head_only`
    /// answers a `HEAD` request (the same headers, no body: RFC 9110 §9.3.2).
    pub fn write(&self, out: &mut OutQueue, wire: WireContext<'_>) {
        let mut head = Vec::with_capacity(160 + self.headers.len() * 40);
        // RFC 9110 §6.2: a server sends its own highest version, HTTP/1.1, to 1.0 clients too.
        head.extend_from_slice(b"HTTP/1.1 ");
        crate::wire::json::write_u64(&mut head, u64::from(self.status));
        head.push(b' ');
        head.extend_from_slice(reason_phrase(self.status).as_bytes());
        head.extend_from_slice(b"\r\nDate: ");
        head.extend_from_slice(wire.date);
        head.extend_from_slice(b"\r\nServer: pushlab\r\n");
        for (name, value) in &self.headers {
            head.extend_from_slice(name.as_bytes());
            head.extend_from_slice(b": ");
            head.extend_from_slice(value.as_bytes());
            head.extend_from_slice(b"\r\n");
        }
        match self.framing {
            Framing::Length => {
                head.extend_from_slice(b"Content-Length: ");
                crate::wire::json::write_u64(&mut head, self.body_bytes().len() as u64);
                head.extend_from_slice(b"\r\n");
            }
            Framing::Stream if wire.version == Version::Http11 => {
                head.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
            }
            Framing::Stream | Framing::NoBody => {}
        }
        if self.status >= 200 && self.status != 101 {
            if !wire.keep_alive {
                head.extend_from_slice(b"Connection: close\r\n");
            } else if wire.version == Version::Http10 {
                head.extend_from_slice(b"Connection: keep-alive\r\n");
            }
        }
        head.extend_from_slice(b"\r\n");
        out.push_owned(head);
        if !wire.head_only {
            match &self.body {
                Body::Static(b) => out.extend(b),
                Body::Owned(v) => out.extend(v),
                Body::Shared(s) => out.push_shared(s.clone()),
            }
        }
    }
}

/// What the connection knows that the handler does not.
#[derive(Clone, Copy, Debug)]
pub struct WireContext<'a> {
    pub version: Version,
    pub keep_alive: bool,
    pub head_only: bool,
    /// The cached IMF-fixdate for `Date`.
    pub date: &'a [u8],
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(r: &Response, version: Version, keep_alive: bool, head_only: bool) -> String {
        let mut q = OutQueue::new();
        let date = b"Sun, 06 Nov 1994 08:49:37 GMT";
        r.write(&mut q, WireContext { version, keep_alive, head_only, date });
        let mut out = Vec::new();
        q.flush_to(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn plain_response_has_length_date_server() {
        let r = Response::ok("text/plain", b"hi".to_vec());
        assert_eq!(
            bytes(&r, Version::Http11, true, false),
            "HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nServer: pushlab\r\n\
             Content-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi"
        );
    }

    #[test]
    fn head_keeps_headers_drops_body() {
        let r = Response::ok("text/plain", b"hi".to_vec());
        let s = bytes(&r, Version::Http10, false, true);
        assert!(s.contains("Content-Length: 2\r\n"));
        assert!(s.contains("Connection: close\r\n"));
        assert!(s.ends_with("\r\n\r\n"));
    }

    #[test]
    fn no_length_on_204_and_stream_is_chunked_on_1_1_only() {
        let s = bytes(&Response::new(204), Version::Http11, true, false);
        assert!(!s.contains("Content-Length"));
        let sse = Response::new(200).stream();
        assert!(bytes(&sse, Version::Http11, true, false).contains("Transfer-Encoding: chunked"));
        assert!(!bytes(&sse, Version::Http10, false, false).contains("Transfer-Encoding"));
    }
}
