//! HTTP/1.1 from the client's side: response heads, whole responses, and the requests the
//! scenarios send. pushlab's `wire/` parses requests (the server's side); a response head is
//! simpler — a status line, and the two fields that say how the body is framed.
use pushlab::wire::chunked::ChunkDecoder;
use pushlab::wire::Status;

/// How a response body is delimited (RFC 9112 §6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    /// `Content-Length: n`.
    Length(usize),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Until the connection closes (an HTTP/1.0-style stream).
    Close,
    /// None at all: `1xx`, `204`, `304`.
    Empty,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    pub status: u16,
    pub body: Body,
    /// Bytes of the head, blank line included.
    pub len: usize,
    /// `Sec-WebSocket-Accept`, when there is one.
    pub accept: Option<String>,
}

/// The position just after the first blank line (`\r\n\r\n`), if the head is complete.
fn head_end(buf: &[u8]) -> Option<usize> {
    let mut at = 0;
    while let Some(lf) = super::scan::find_any(&buf[at..], [b'\n']) {
        let end = at + lf + 1;
        if buf[..end].ends_with(b"\r\n\r\n") {
            return Some(end);
        }
        at = end;
    }
    None
}

/// Parses a response head from the front of `buf`; `Partial` (nothing used) until it is whole.
pub fn parse_head(buf: &[u8]) -> Result<Status<Head>, String> {
    let Some(len) = head_end(buf) else {
        if buf.len() > 64 * 1024 {
            return Err("a response head over 64 KiB".into());
        }
        return Ok(Status::Partial);
    };
    let text = std::str::from_utf8(&buf[..len]).map_err(|_| "a response head that is not UTF-8")?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .strip_prefix("HTTP/1.")
        .and_then(|rest| rest.get(2..5))
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| format!("not an HTTP/1.x status line: {status_line:?}"))?;
    let (mut length, mut chunked, mut accept) = (None, false, None);
    for line in lines {
        let Some((name, value)) = line.split_once(':') else { continue };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse::<usize>().map_err(|_| format!("Content-Length: {value:?}"))?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().split(',').any(|c| c.trim() == "chunked");
        } else if name.eq_ignore_ascii_case("sec-websocket-accept") {
            accept = Some(value.to_string());
        }
    }
    let body = match (status, chunked, length) {
        (100..=199 | 204 | 304, _, _) => Body::Empty,
        (_, true, _) => Body::Chunked,
        (_, false, Some(n)) => Body::Length(n),
        (_, false, None) => Body::Close,
    };
    Ok(Status::Complete(Head { status, body, len, accept }))
}

/// A whole response: its head, its (de-chunked) body, and the bytes it took on the wire.
pub type Response<'b> = (Head, &'b [u8], usize);

/// One whole response at the front of `buf`, `Partial` until all of it is there.
/// `Body::Close` is refused: these are the replies of keep-alive exchanges.
pub fn parse_response<'b>(buf: &'b [u8], dechunked: &'b mut Vec<u8>) -> Result<Status<Response<'b>>, String> {
    let Status::Complete(head) = parse_head(buf)? else { return Ok(Status::Partial) };
    let rest = &buf[head.len..];
    match head.body {
        Body::Empty => Ok(Status::Complete((head.clone(), &[][..], head.len))),
        Body::Length(n) if rest.len() >= n => {
            let total = head.len + n;
            Ok(Status::Complete((head, &rest[..n], total)))
        }
        Body::Length(_) => Ok(Status::Partial),
        Body::Chunked => {
            dechunked.clear();
            match ChunkDecoder::new(usize::MAX).decode(rest, dechunked).map_err(|e| e.reason().to_string())? {
                Status::Complete(n) => {
                    let total = head.len + n;
                    Ok(Status::Complete((head, &dechunked[..], total)))
                }
                Status::Partial => Ok(Status::Partial),
            }
        }
        Body::Close => {
            Err(format!("a {} response without Content-Length on a keep-alive exchange", head.status))
        }
    }
}

/// `POST /publish?topic=T` with `text` as the body.
pub fn publish_request(out: &mut Vec<u8>, host: &str, topic: &str, text: &[u8]) {
    out.extend_from_slice(b"POST /publish?topic=");
    out.extend_from_slice(topic.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\nHost: ");
    out.extend_from_slice(host.as_bytes());
    out.extend_from_slice(b"\r\nContent-Type: text/plain\r\nContent-Length: ");
    out.extend_from_slice(text.len().to_string().as_bytes());
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(text);
}

/// `GET target` on a keep-alive connection.
pub fn get_request(out: &mut Vec<u8>, host: &str, target: &str) {
    out.extend_from_slice(b"GET ");
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\nHost: ");
    out.extend_from_slice(host.as_bytes());
    out.extend_from_slice(b"\r\n\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_say_how_the_body_ends() {
        let head = |s: &str| match parse_head(s.as_bytes()) {
            Ok(Status::Complete(h)) => h,
            other => panic!("{s:?}: {other:?}"),
        };
        let h = head("HTTP/1.1 200 OK\r\nContent-Length: 21\r\n\r\n{...");
        assert_eq!((h.status, h.body, h.len), (200, Body::Length(21), 39));
        assert_eq!(head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").body, Body::Chunked);
        assert_eq!(head("HTTP/1.0 200 OK\r\nContent-Type: text/event-stream\r\n\r\n").body, Body::Close);
        let ws = head(
            "HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
        );
        assert_eq!(
            (ws.status, ws.body, ws.accept.as_deref()),
            (101, Body::Empty, Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="))
        );
        assert_eq!(parse_head(b"HTTP/1.1 200 OK\r\nContent-Le"), Ok(Status::Partial));
        assert!(parse_head(b"SSH-2.0-OpenSSH\r\n\r\n").is_err());
    }

    #[test]
    fn whole_responses_only() {
        let mut scratch = Vec::new();
        let two = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
        let Ok(Status::Complete((_, body, used))) = parse_response(two, &mut scratch) else { panic!() };
        assert_eq!((body, used), (&b"hi"[..], 40));
        let rest = &two[used..];
        let Ok(Status::Complete((_, body, used))) = parse_response(rest, &mut scratch) else { panic!() };
        assert_eq!((body, used), (&b"abc"[..], rest.len()));
        for cut in 0..rest.len() {
            assert_eq!(parse_response(&rest[..cut], &mut scratch), Ok(Status::Partial), "cut at {cut}");
        }
    }

    #[test]
    fn requests() {
        let mut out = Vec::new();
        publish_request(&mut out, "127.0.0.1:8080", "t", b"hello");
        assert_eq!(
            out,
            b"POST /publish?topic=t HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"
        );
        out.clear();
        get_request(&mut out, "h", "/poll?topic=t&since=3");
        assert_eq!(out, b"GET /poll?topic=t&since=3 HTTP/1.1\r\nHost: h\r\n\r\n");
    }
}
