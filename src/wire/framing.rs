//! What a request head says about the message around it: where the body ends, whether the
//! connection persists, whether the client waits for `100 Continue` (RFC 9112 §6, §7, §9.3;
//! RFC 9110 §7.2, §10.1.1).
//!
//! Heads up! Read RFC 9112 §6.3 ("Message Body Length") and §11.2 ("Request Smuggling")
//! before changing anything here. A server and a proxy in front of it must agree on where each
//! request ends; when they disagree, an attacker can hide a second request inside the body of
//! the first. So wherever the RFC lets a server either guess or refuse, this file refuses.
//!
//! Interface: [`framing`] turns a parsed [`RequestHead`] into a [`Framing`] or the
//! [`FramingError`] naming the rule broken; [`has_token`] answers list-valued fields
//! (`Connection`, `Transfer-Encoding`, `Expect`).
#![forbid(unsafe_code)]

use crate::wire::request::{is_host_port, RequestHead, Version};

/// How the body of a request is delimited (RFC 9112 §6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyLength {
    /// No body: neither Content-Length nor Transfer-Encoding (RFC 9112 §6.3, item 7).
    None,
    /// Exactly this many bytes follow the head (item 6).
    Length(u64),
    /// A chunked body follows; decode it with [`crate::wire::chunked::ChunkDecoder`] (item 4).
    Chunked,
}

/// What the head says about the message and the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Framing {
    /// Where the body ends.
    pub body: BodyLength,
    /// Whether the connection stays open after the response (RFC 9112 §9.3).
    pub keep_alive: bool,
    /// Whether the client waits for `100 Continue` before sending the body (RFC 9110 §10.1.1).
    pub expect_continue: bool,
}

/// Which framing rule a request broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FramingError {
    /// Both Content-Length and Transfer-Encoding (RFC 9112 §6.3 item 3; see [`framing`]).
    LengthAndChunked,
    /// A Content-Length that is not `1*DIGIT` fitting in 64 bits (RFC 9110 §8.6).
    BadContentLength,
    /// Content-Length fields or list members with different values (RFC 9110 §8.6).
    ConflictingContentLength,
    /// A Transfer-Encoding that is not a list of tokens (RFC 9112 §6.1, RFC 9110 §5.6.1).
    BadTransferEncoding,
    /// A transfer coding we do not implement: anything but `chunked` (RFC 9112 §6.1: 501).
    UnsupportedCoding,
    /// `chunked` present but not the final coding, or applied twice (RFC 9112 §6.1, §6.3).
    ChunkedNotLast,
    /// Transfer-Encoding in an HTTP/1.0 request (RFC 9112 §6.1: framing is faulty).
    TransferEncodingInHttp10,
    /// An HTTP/1.1 request without Host (RFC 9112 §3.2).
    MissingHost,
    /// More than one Host field line (RFC 9112 §3.2).
    RepeatedHost,
    /// A Host value that is not `uri-host [ ":" port ]` (RFC 9112 §3.2, RFC 9110 §7.2).
    BadHost,
}

impl FramingError {
    /// A short human text naming the rule, for the response body.
    pub fn reason(self) -> &'static str {
        match self {
            FramingError::LengthAndChunked => "both Content-Length and Transfer-Encoding",
            FramingError::BadContentLength => "Content-Length must be decimal digits",
            FramingError::ConflictingContentLength => "conflicting Content-Length values",
            FramingError::BadTransferEncoding => "Transfer-Encoding must be a list of codings",
            FramingError::UnsupportedCoding => "only the chunked transfer coding is supported",
            FramingError::ChunkedNotLast => "chunked must be the final transfer coding, once",
            FramingError::TransferEncodingInHttp10 => "Transfer-Encoding is not allowed in HTTP/1.0",
            FramingError::MissingHost => "HTTP/1.1 requests must have a Host header",
            FramingError::RepeatedHost => "more than one Host header",
            FramingError::BadHost => "Host must be host[:port]",
        }
    }
}

/// Reads the framing of a request from its head.
///
/// **Request smuggling.** RFC 9112 §6.3 item 3 lets a server that receives both
/// Transfer-Encoding and Content-Length either reject the request or let Transfer-Encoding
/// win, and warns that such a message "might indicate an attempt to perform request
/// smuggling". A proxy that trusted Content-Length would forward `N` bytes while we, trusting
/// the chunks, would end the body elsewhere and read the rest as a new request. We refuse:
/// [`FramingError::LengthAndChunked`], and the caller closes the connection (SPEC §8).
///
/// **Transfer codings.** SPEC §8: `chunked` present but not last is 400
/// ([`FramingError::ChunkedNotLast`], RFC 9112 §6.3 item 4: the length "cannot be determined
/// reliably"); otherwise any coding but `chunked` is 501 ([`FramingError::UnsupportedCoding`],
/// RFC 9112 §6.1: "a server that receives a request message with a transfer coding it does not
/// understand SHOULD respond with 501"). So `chunked, gzip` is 400 and `gzip, chunked` and
/// `gzip` are 501. RFC 9112 §6.3 item 4 would also allow 400 for `gzip` alone; either way the
/// connection is closed, so no byte of such a body is ever read as a request.
///
/// **HTTP/1.0.** RFC 9112 §6.1: a server that receives Transfer-Encoding in an HTTP/1.0
/// message "MUST treat the message as if the framing is faulty": we answer 400
/// ([`FramingError::TransferEncodingInHttp10`]), since 1.0 peers and proxies predate chunked.
pub fn framing(head: &RequestHead<'_, '_>) -> Result<Framing, FramingError> {
    check_host(head)?;
    let body = body_length(head)?;
    // RFC 9112 §9.3: HTTP/1.1 persists unless "close" is a connection option; HTTP/1.0
    // persists only with "keep-alive" (RFC 9112 §C.2.2). "close" wins over both.
    let connection = |option| head.headers_named("connection").any(|v| has_token(v, option));
    let keep_alive = !connection("close") && (head.version == Version::Http11 || connection("keep-alive"));
    // RFC 9110 §10.1.1: "100-continue" (case-insensitive) is the only expectation defined; a
    // server "MUST ignore" it in an HTTP/1.0 request, and a client "MUST NOT generate" it for
    // a request without content, so with no body to wait for there is nothing to continue.
    let expect_continue = head.version == Version::Http11
        && !matches!(body, BodyLength::None | BodyLength::Length(0))
        && head.headers_named("expect").any(|v| has_token(v, "100-continue"));
    Ok(Framing { body, keep_alive, expect_continue })
}

/// True if the comma-separated list `value` has a member equal to `token`, ignoring ASCII
/// case and the OWS around members (RFC 9110 §5.6.1). Empty members are skipped, as §5.6.1
/// requires; a member with parameters (`gzip;q=1`) does not equal its bare name.
pub fn has_token(value: &[u8], token: &str) -> bool {
    list_members(value).any(|member| member.eq_ignore_ascii_case(token.as_bytes()))
}

/// The non-empty members of a `#element` list, OWS trimmed (RFC 9110 §5.6.1).
fn list_members(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value.split(|&b| b == b',').map(trim_ows).filter(|member| !member.is_empty())
}

/// `value` without leading and trailing OWS (SP / HTAB).
fn trim_ows(value: &[u8]) -> &[u8] {
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = value.iter().position(|b| !is_ows(b)).unwrap_or(value.len());
    let end = value.iter().rposition(|b| !is_ows(b)).map_or(start, |i| i + 1);
    &value[start..end]
}

/// RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request) status code to any
/// HTTP/1.1 request message that lacks a Host header field and to any request message that
/// contains more than one Host header field line or a Host header field with an invalid
/// field value." HTTP/1.0 may omit Host.
fn check_host(head: &RequestHead<'_, '_>) -> Result<(), FramingError> {
    let mut hosts = head.headers_named("host");
    match (hosts.next(), hosts.next()) {
        (None, _) if head.version == Version::Http11 => Err(FramingError::MissingHost),
        (None, _) => Ok(()),
        (Some(_), Some(_)) => Err(FramingError::RepeatedHost),
        // Host = uri-host [ ":" port ] (RFC 9110 §7.2); it may be empty when the target has
        // no authority.
        (Some(host), None) if host.is_empty() || is_host_port(host, false) => Ok(()),
        (Some(_), None) => Err(FramingError::BadHost),
    }
}

/// RFC 9112 §6.3, items 3–7, for a request.
fn body_length(head: &RequestHead<'_, '_>) -> Result<BodyLength, FramingError> {
    let length = content_length(head)?;
    let mut codings = head.headers_named("transfer-encoding").peekable();
    if codings.peek().is_none() {
        return Ok(length.map_or(BodyLength::None, BodyLength::Length));
    }
    if length.is_some() {
        return Err(FramingError::LengthAndChunked);
    }
    if head.version == Version::Http10 {
        return Err(FramingError::TransferEncodingInHttp10);
    }
    // transfer-coding = token *( OWS ";" OWS transfer-parameter ) (RFC 9112 §6.1). We never
    // accept parameters (no coding we support has any), so each member must be a bare token.
    let mut members = codings.flat_map(list_members).peekable();
    let mut any = false;
    let mut unsupported = false;
    while let Some(coding) = members.next() {
        any = true;
        if !coding.iter().all(|&b| crate::wire::request::is_tchar(b)) {
            return Err(FramingError::BadTransferEncoding);
        }
        if coding.eq_ignore_ascii_case(b"chunked") {
            // RFC 9112 §6.1: "A sender MUST NOT apply the chunked transfer coding more than
            // once"; and §6.3 item 4: chunked must be the final coding.
            if members.peek().is_some() {
                return Err(FramingError::ChunkedNotLast);
            }
        } else {
            unsupported = true;
        }
    }
    match (any, unsupported) {
        // A Transfer-Encoding field with no coding in it says nothing we could frame by.
        (false, _) => Err(FramingError::BadTransferEncoding),
        (true, true) => Err(FramingError::UnsupportedCoding),
        (true, false) => Ok(BodyLength::Chunked),
    }
}

/// The Content-Length, if any: `Content-Length = 1*DIGIT` (RFC 9110 §8.6).
///
/// RFC 9110 §8.6: a list of identical values (`5, 5`), as an upstream that combined repeated
/// fields might send, may be replaced by one instance; so may repeated fields. We do that and
/// refuse everything else: differing values, empty members, signs, spaces inside a number.
fn content_length(head: &RequestHead<'_, '_>) -> Result<Option<u64>, FramingError> {
    let mut length = None;
    for value in head.headers_named("content-length") {
        for member in value.split(|&b| b == b',').map(trim_ows) {
            let n = parse_decimal(member).ok_or(FramingError::BadContentLength)?;
            if length.is_some_and(|seen| seen != n) {
                return Err(FramingError::ConflictingContentLength);
            }
            length = Some(n);
        }
    }
    Ok(length)
}

/// `1*DIGIT` as a `u64`; `None` if empty, not all digits, or too large.
fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &b| {
        let digit = if b.is_ascii_digit() { u64::from(b - b'0') } else { return None };
        n.checked_mul(10)?.checked_add(digit)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::MAX_HEADERS;
    use crate::wire::request::{parse_head, Header};
    use crate::wire::Status;

    /// The framing of a request made of `version` and the given header lines.
    fn framing_of(version: &str, fields: &[&str]) -> Result<Framing, FramingError> {
        let mut buf = format!("POST / {version}\r\n");
        for field in fields {
            buf.push_str(field);
            buf.push_str("\r\n");
        }
        buf.push_str("\r\n");
        let mut headers = [Header::EMPTY; MAX_HEADERS];
        let Ok(Status::Complete((head, _))) = parse_head(buf.as_bytes(), &mut headers) else {
            panic!("test request does not parse: {buf:?}");
        };
        framing(&head)
    }

    fn body_of(fields: &[&str]) -> Result<BodyLength, FramingError> {
        let mut all = vec!["Host: a"];
        all.extend(fields);
        framing_of("HTTP/1.1", &all).map(|f| f.body)
    }

    #[test]
    fn test_body_length() {
        use BodyLength::*;
        use FramingError::*;
        assert_eq!(body_of(&[]), Ok(None));
        assert_eq!(body_of(&["Content-Length: 0"]), Ok(Length(0)));
        assert_eq!(body_of(&["content-length: 18446744073709551615"]), Ok(Length(u64::MAX)));
        assert_eq!(body_of(&["Content-Length: 007"]), Ok(Length(7)));
        // RFC 9110 §8.6: identical repeats are one value.
        assert_eq!(body_of(&["Content-Length: 5, 5"]), Ok(Length(5)));
        assert_eq!(body_of(&["Content-Length: 5", "Content-Length: 5"]), Ok(Length(5)));
        assert_eq!(body_of(&["Content-Length: 5, 6"]), Err(ConflictingContentLength));
        assert_eq!(body_of(&["Content-Length: 5", "Content-Length: 6"]), Err(ConflictingContentLength));
        for bad in ["", "-1", "+5", "5 5", "0x10", "5,", ",5", "18446744073709551616", "５"] {
            let field = format!("Content-Length: {bad}");
            assert_eq!(body_of(&[&field]), Err(BadContentLength), "{bad:?}");
        }
        assert_eq!(body_of(&["Transfer-Encoding: chunked"]), Ok(Chunked));
        assert_eq!(body_of(&["Transfer-Encoding: CHUNKED"]), Ok(Chunked));
        assert_eq!(body_of(&["Transfer-Encoding: , chunked ,"]), Ok(Chunked));
        assert_eq!(body_of(&["Transfer-Encoding: chunked", "Content-Length: 5"]), Err(LengthAndChunked));
        assert_eq!(body_of(&["Content-Length: 5", "Transfer-Encoding: gzip"]), Err(LengthAndChunked));
        assert_eq!(body_of(&["Transfer-Encoding: gzip, chunked"]), Err(UnsupportedCoding));
        assert_eq!(
            body_of(&["Transfer-Encoding: gzip", "Transfer-Encoding: chunked"]),
            Err(UnsupportedCoding)
        );
        assert_eq!(body_of(&["Transfer-Encoding: gzip"]), Err(UnsupportedCoding));
        assert_eq!(body_of(&["Transfer-Encoding: identity"]), Err(UnsupportedCoding));
        assert_eq!(body_of(&["Transfer-Encoding: chunked, gzip"]), Err(ChunkedNotLast));
        assert_eq!(body_of(&["Transfer-Encoding: chunked", "Transfer-Encoding: gzip"]), Err(ChunkedNotLast));
        assert_eq!(body_of(&["Transfer-Encoding: chunked, chunked"]), Err(ChunkedNotLast));
        assert_eq!(body_of(&["Transfer-Encoding: chunked;x=1"]), Err(BadTransferEncoding));
        assert_eq!(body_of(&["Transfer-Encoding: "]), Err(BadTransferEncoding));
        assert_eq!(body_of(&["Transfer-Encoding: \"chunked\""]), Err(BadTransferEncoding));
        assert_eq!(framing_of("HTTP/1.0", &["Transfer-Encoding: chunked"]), Err(TransferEncodingInHttp10));
        assert_eq!(crate::http::error::HttpError::Framing(UnsupportedCoding).status(), 501);
        assert_eq!(crate::http::error::HttpError::Framing(ChunkedNotLast).status(), 400);
    }

    #[test]
    fn test_host() {
        use FramingError::*;
        assert_eq!(framing_of("HTTP/1.1", &[]), Err(MissingHost));
        assert!(framing_of("HTTP/1.0", &[]).is_ok());
        assert_eq!(framing_of("HTTP/1.1", &["Host: a", "host: a"]), Err(RepeatedHost));
        assert_eq!(framing_of("HTTP/1.0", &["Host: a", "Host: b"]), Err(RepeatedHost));
        for good in
            ["", "example.com", "example.com:8080", "127.0.0.1:80", "[::1]", "[::1]:443", "a%20b", "x:"]
        {
            let field = format!("Host: {good}");
            assert!(framing_of("HTTP/1.1", &[&field]).is_ok(), "{good:?}");
        }
        for bad in ["a b", "a/b", "a:b", "user@a", "[::1", "[::1]x", "a:1:2x", "%zz"] {
            let field = format!("Host: {bad}");
            assert_eq!(framing_of("HTTP/1.1", &[&field]), Err(BadHost), "{bad:?}");
        }
        for error in [MissingHost, RepeatedHost, BadHost] {
            assert_eq!(crate::http::error::HttpError::Framing(error).status(), 400);
            assert!(!error.reason().is_empty());
        }
    }

    #[test]
    fn test_keep_alive() {
        let keep_alive = |version, fields: &[&str]| {
            let mut all = vec!["Host: a"];
            all.extend(fields);
            framing_of(version, &all).map(|f| f.keep_alive)
        };
        assert_eq!(keep_alive("HTTP/1.1", &[]), Ok(true));
        assert_eq!(keep_alive("HTTP/1.1", &["Connection: close"]), Ok(false));
        assert_eq!(keep_alive("HTTP/1.1", &["Connection: Upgrade, CLOSE"]), Ok(false));
        assert_eq!(keep_alive("HTTP/1.1", &["Connection: keep-alive", "Connection: close"]), Ok(false));
        assert_eq!(keep_alive("HTTP/1.1", &["Connection: closed"]), Ok(true));
        assert_eq!(keep_alive("HTTP/1.0", &[]), Ok(false));
        assert_eq!(keep_alive("HTTP/1.0", &["Connection: Keep-Alive"]), Ok(true));
        assert_eq!(keep_alive("HTTP/1.0", &["Connection: keep-alive, close"]), Ok(false));
        assert_eq!(keep_alive("HTTP/1.2", &[]), Ok(true));
    }

    #[test]
    fn test_expect_continue() {
        let expect = |version, fields: &[&str]| {
            let mut all = vec!["Host: a"];
            all.extend(fields);
            framing_of(version, &all).map(|f| f.expect_continue)
        };
        assert_eq!(expect("HTTP/1.1", &["Expect: 100-continue", "Content-Length: 3"]), Ok(true));
        assert_eq!(expect("HTTP/1.1", &["Expect: 100-Continue", "Transfer-Encoding: chunked"]), Ok(true));
        assert_eq!(expect("HTTP/1.1", &["Content-Length: 3"]), Ok(false));
        assert_eq!(expect("HTTP/1.1", &["Expect: 100-continue"]), Ok(false));
        assert_eq!(expect("HTTP/1.1", &["Expect: 100-continue", "Content-Length: 0"]), Ok(false));
        assert_eq!(expect("HTTP/1.0", &["Expect: 100-continue", "Content-Length: 3"]), Ok(false));
        assert_eq!(expect("HTTP/1.1", &["Expect: 200-ok", "Content-Length: 3"]), Ok(false));
    }

    #[test]
    fn test_has_token() {
        assert!(has_token(b"keep-alive, Upgrade", "upgrade"));
        assert!(has_token(b" \tUpgrade\t ", "upgrade"));
        assert!(has_token(b",,a,,", "a"));
        assert!(!has_token(b"upgrades", "upgrade"));
        assert!(!has_token(b"", "a"));
        assert!(!has_token(b"gzip;q=1", "gzip"));
        assert!(!has_token(b"a b", "a"));
    }
}
