//! HTTP/1.1 request head: request-line and header fields (RFC 9112 §2–5, RFC 9110 §5).
//!
//! Heads up! Before working on this file, read RFC 9112 §2 (message format), §3 (request
//! line) and §5 (field syntax). Every rule below cites the clause it implements.
//!
//! ```text
//! HTTP-message   = start-line CRLF *( field-line CRLF ) CRLF [ message-body ]   ; §2.1
//! request-line   = method SP request-target SP HTTP-version                     ; §3
//! field-line     = field-name ":" OWS field-value OWS                           ; §5
//! ```
//!
//! Interface: [`find_head_end`] is the cheap scan a connection runs on every read; once it
//! finds the blank line, [`parse_head`] parses the head in one pass into a [`RequestHead`]
//! that borrows from the input and from a caller-owned `[Header]` array (as `httparse` does).
//! Nothing allocates. On [`Status::Partial`] nothing is consumed; on any input the parser
//! returns, never panics. The limits of [`crate::limits`] are enforced here, so a caller can
//! hand it any buffer.
//!
//! The hot loops scan eight bytes at a time in `request_scan.rs`, each beside its slow twin.
//! `tests/http_differential.rs` and `fuzz/fuzz_targets/http_request.rs` hold this parser to
//! `httparse`'s verdicts, except for the deliberate differences listed by name in
//! `tests/oracle/mod.rs` (`expected_divergence`).
#![forbid(unsafe_code)]

use std::ops::Range;

use crate::limits::{MAX_HEAD, MAX_HEADERS, MAX_REQUEST_TARGET};
use crate::wire::Status;

/// The protocol version of a request (RFC 9112 §2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// `HTTP/1.0`.
    Http10,
    /// `HTTP/1.1`, and any `HTTP/1.x` with x ≥ 2, which RFC 9110 §2.5 says to answer as the
    /// highest minor version we support.
    Http11,
}

/// One header field line: the name as sent (compare it case-insensitively, RFC 9110 §5.1)
/// and the value with surrounding whitespace removed (RFC 9112 §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<'b> {
    /// `field-name`: a token, as sent.
    pub name: &'b str,
    /// `field-value`: bytes, since RFC 9110 §5.5 allows obs-text (0x80–0xFF) in values.
    pub value: &'b [u8],
}

impl Header<'_> {
    /// A placeholder to fill the caller's array with: `[Header::EMPTY; MAX_HEADERS]`.
    pub const EMPTY: Header<'static> = Header { name: "", value: b"" };
}

/// A parsed request head, borrowing from the input (`'b`) and the header array (`'h`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestHead<'h, 'b> {
    /// The method token, case-sensitive (RFC 9110 §9.1): `GET`, `POST`, ...
    pub method: &'b str,
    /// The request-target, as sent (RFC 9112 §3.2).
    pub target: &'b str,
    /// The protocol version.
    pub version: Version,
    /// The header field lines, in the order received.
    pub headers: &'h [Header<'b>],
}

/// The four shapes a request-target may take (RFC 9112 §3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetForm {
    /// `/path?query`, the usual case (§3.2.1).
    Origin,
    /// `http://host/path?query`, as sent to proxies; servers must accept it too (§3.2.2).
    Absolute,
    /// `host:port`, only for `CONNECT` (§3.2.3).
    Authority,
    /// `*`, only for a server-wide `OPTIONS` (§3.2.4).
    Asterisk,
}

impl<'h, 'b> RequestHead<'h, 'b> {
    /// The first value of the named header; names compare case-insensitively (RFC 9110 §5.1).
    pub fn header(&self, name: &str) -> Option<&'b [u8]> {
        self.headers_named(name).next()
    }

    /// Every value of the named header, in order (a field may be sent on several lines,
    /// RFC 9110 §5.3).
    pub fn headers_named<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'b [u8]> + 's {
        let headers: &'s [Header<'b>] = self.headers;
        headers.iter().filter(move |h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value)
    }

    /// Which of the four forms the target has. [`parse_head`] accepts no other.
    pub fn target_form(&self) -> TargetForm {
        target_form(self.target.as_bytes()).unwrap_or(TargetForm::Origin)
    }

    /// The path the target names, without the query: `/a/b` for `/a/b?c` and for
    /// `http://host/a/b?c` (RFC 9112 §3.2.2; an empty path is `/`, RFC 9110 §4.2.3).
    /// `*` for the asterisk-form; empty for the authority-form, which names no path.
    pub fn path(&self) -> &'b str {
        let target = self.target;
        let before_query = target.split_once('?').map_or(target, |(path, _)| path);
        match self.target_form() {
            TargetForm::Origin | TargetForm::Asterisk => before_query,
            TargetForm::Authority => "",
            TargetForm::Absolute => {
                // absolute-URI = scheme ":" hier-part; hier-part = "//" authority path-abempty
                let hier = before_query.split_once(':').map_or("", |(_, hier)| hier);
                let path = match hier.strip_prefix("//") {
                    Some(authority_and_path) => {
                        authority_and_path.find('/').map_or("", |i| &authority_and_path[i..])
                    }
                    None => hier,
                };
                if path.is_empty() {
                    "/"
                } else {
                    path
                }
            }
        }
    }

    /// The query: what follows the first `?` of the target, without it; empty if none.
    pub fn query(&self) -> &'b str {
        self.target.split_once('?').map_or("", |(_, query)| query)
    }
}

/// Which rule of RFC 9112 a request head broke. Each maps to one status in
/// `http::error::HttpError::status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeadError {
    /// The method is not a token followed by one SP (RFC 9112 §3, RFC 9110 §9.1).
    Method,
    /// The request-target is empty, holds a byte that is not visible ASCII, is not one of the
    /// four forms of RFC 9112 §3.2, or is not followed by one SP.
    Target,
    /// The version is not `HTTP/` DIGIT `.` DIGIT followed by the line end (RFC 9112 §2.3).
    Version,
    /// A well-formed version other than `HTTP/1.x` (RFC 9110 §15.6.6: 505).
    UnsupportedVersion,
    /// A CR not followed by LF (RFC 9112 §2.2).
    BareCr,
    /// A whitespace-started line between the request-line and the first field (RFC 9112 §2.2).
    WhitespaceAfterStartLine,
    /// A field name that is empty or not a token, or a line without a colon (RFC 9112 §5).
    HeaderName,
    /// Whitespace between a field name and the colon (RFC 9112 §5.1).
    WhitespaceBeforeColon,
    /// A control character (other than HTAB) or DEL in a field value (RFC 9110 §5.5).
    HeaderValue,
    /// A field line folded onto a following line that starts with whitespace (RFC 9112 §5.2).
    ObsFold,
    /// The request-target is longer than [`MAX_REQUEST_TARGET`] (RFC 9112 §3: 414).
    TargetTooLong,
    /// The head is longer than [`MAX_HEAD`] (RFC 6585 §5: 431).
    HeadTooLarge,
    /// More field lines than the caller's array or [`MAX_HEADERS`] holds (RFC 6585 §5: 431).
    TooManyHeaders,
}

impl HeadError {
    /// A short human text naming the rule, for the response body.
    pub fn reason(self) -> &'static str {
        match self {
            HeadError::Method => "method must be a token followed by one space",
            HeadError::Target => {
                "request-target must be origin-, absolute-, authority- or asterisk-form followed by one space"
            }
            HeadError::Version => "version must be HTTP/DIGIT.DIGIT at the end of the request line",
            HeadError::UnsupportedVersion => "only HTTP/1.x is supported",
            HeadError::BareCr => "CR must be followed by LF",
            HeadError::WhitespaceAfterStartLine => "no whitespace allowed before the first header field",
            HeadError::HeaderName => "header field name must be a token followed by a colon",
            HeadError::WhitespaceBeforeColon => "no whitespace allowed between header field name and colon",
            HeadError::HeaderValue => "header field value must not contain control characters",
            HeadError::ObsFold => "obsolete line folding is not accepted",
            HeadError::TargetTooLong => "request-target too long",
            HeadError::HeadTooLarge => "request header section too large",
            HeadError::TooManyHeaders => "too many header fields",
        }
    }
}

/// Parses one request head from the start of `buf`.
///
/// `Complete((head, len))`: `len` bytes form the head, counting any empty lines before the
/// request-line (RFC 9112 §2.2) and the blank line that ends it; the body or the next request
/// starts at `buf[len]`. `Partial`: `buf` is a prefix of a head that may still turn out valid;
/// nothing was consumed. Errors are reported as soon as the bytes show them — a target over
/// [`MAX_REQUEST_TARGET`] or a `buf` over [`MAX_HEAD`] with no head in it fails without waiting
/// for the rest — except two rules that wait for a line end: the field count is checked when a
/// field line is complete (as httparse does), and `HTTP/2.0` is 505 only once its line ends
/// (`HTTP/2.0x` is a malformed version, 400).
///
/// The header fields go into `headers`; at most `headers.len()` (and [`MAX_HEADERS`]) fit.
/// The parse starts over on each call, so a connection calls this once [`find_head_end`] has
/// seen the end of the head rather than on every read.
pub fn parse_head<'b, 'h>(
    buf: &'b [u8],
    headers: &'h mut [Header<'b>],
) -> Result<Status<(RequestHead<'h, 'b>, usize)>, HeadError> {
    // A head that fits the limit ends within its first MAX_HEAD bytes; what lies beyond is
    // the body or the next request, which this parser never needs to look at.
    let window = buf.get(..MAX_HEAD).unwrap_or(buf);
    match head(window, headers) {
        Ok(done) => Ok(Status::Complete(done)),
        Err(Stop::Invalid(error)) => Err(error),
        Err(Stop::Partial) if buf.len() > MAX_HEAD => Err(HeadError::HeadTooLarge),
        Err(Stop::Partial) => Ok(Status::Partial),
    }
}

/// Finds the end of a request head: the index just past the blank line (CRLF CRLF, or the
/// bare-LF forms RFC 9112 §2.2 lets a recipient accept: LF LF, LF CRLF, CRLF LF).
///
/// Scanning resumes at `from`, going back at most 3 bytes, so a connection that remembers
/// `buf.len()` after each read scans every byte about once. Empty lines before the
/// request-line (RFC 9112 §2.2) do not count as the end. `Some` means "worth parsing now":
/// [`parse_head`] still judges the bytes and may answer with an error.
pub fn find_head_end(buf: &[u8], from: usize) -> Option<usize> {
    let first_line = buf.iter().position(|&b| b != CR && b != LF)?;
    let start = from.saturating_sub(3).max(first_line);
    let mut at = start;
    while let Some(i) = buf.get(at..)?.iter().position(|&b| b == LF) {
        let lf = at + i;
        // `lf` ends the blank line if the line before it ended just before (LF LF) or it is
        // the LF of a CRLF that directly follows one (LF CR LF).
        let before = |n: usize| lf.checked_sub(n).filter(|&j| j >= start).map(|j| buf[j]);
        if before(1) == Some(LF) || (before(1) == Some(CR) && before(2) == Some(LF)) {
            return Some(lf + 1);
        }
        at = lf + 1;
    }
    None
}

// ---- The grammar, one function per production ----

const CR: u8 = b'\r';
const LF: u8 = b'\n';
const SP: u8 = b' ';
const HTAB: u8 = b'\t';

/// Why a parse step stopped early: not enough bytes yet, or a broken rule.
enum Stop {
    Partial,
    Invalid(HeadError),
}

impl From<HeadError> for Stop {
    fn from(error: HeadError) -> Stop {
        Stop::Invalid(error)
    }
}

/// A parse step's result: the item and the index just past it.
type Step<T> = Result<(T, usize), Stop>;

/// Where in the buffer an item lies that was checked to be ASCII (method, target, names).
type Span = Range<usize>;

/// HTTP-message up to and including the blank line (RFC 9112 §2.1).
fn head<'b, 'h>(buf: &'b [u8], headers: &'h mut [Header<'b>]) -> Result<(RequestHead<'h, 'b>, usize), Stop> {
    let at = empty_lines(buf)?;
    let (method, at) = method(buf, at)?;
    let (target, at) = target(buf, at)?;
    let (version, at) = version(buf, at)?;
    let mut names = [const { 0..0 }; MAX_HEADERS];
    let (count, len) = field_lines(buf, at, headers, &mut names)?;

    // The method, target and names were checked to be ASCII as they were parsed, but Rust
    // still wants a UTF-8 check before calling them `&str`. One check of the whole head
    // (values are ASCII in practice too) costs a fraction of one call per name; only if a
    // value holds obs-text that is not UTF-8 is each span checked on its own.
    let head_text = buf.get(..len).and_then(|head| std::str::from_utf8(head).ok());
    let text = |span: Span, error: HeadError| -> Result<&'b str, Stop> {
        let text = match head_text {
            Some(head) => head.get(span),
            None => buf.get(span).and_then(|b| std::str::from_utf8(b).ok()),
        };
        text.ok_or(Stop::Invalid(error))
    };
    let filled = headers.get_mut(..count).unwrap_or_default();
    for (header, span) in filled.iter_mut().zip(&names) {
        header.name = text(span.clone(), HeadError::HeaderName)?;
    }
    let headers: &'h [Header<'b>] = headers;
    let head = RequestHead {
        method: text(method, HeadError::Method)?,
        target: text(target, HeadError::Target)?,
        version,
        headers: headers.get(..count).unwrap_or_default(),
    };
    Ok((head, len))
}

/// RFC 9112 §2.2: "a server that is expecting to receive and parse a request-line SHOULD
/// ignore at least one empty line (CRLF) received prior to the request-line." We ignore any
/// number; the head limit bounds them.
fn empty_lines(buf: &[u8]) -> Result<usize, Stop> {
    let mut at = 0;
    loop {
        at = match buf.get(at) {
            Some(&CR) => crlf(buf, at)?,
            Some(&LF) => at + 1,
            Some(_) => return Ok(at),
            None => return Err(Stop::Partial),
        }
    }
}

/// The end of a line whose CR is at `buf[at]`: LF must follow (RFC 9112 §2.2, no bare CR).
fn crlf(buf: &[u8], at: usize) -> Result<usize, Stop> {
    match buf.get(at + 1) {
        Some(&LF) => Ok(at + 2),
        Some(_) => Err(HeadError::BareCr.into()),
        None => Err(Stop::Partial),
    }
}

/// `method = token` then SP (RFC 9112 §3, RFC 9110 §9.1).
fn method(buf: &[u8], at: usize) -> Step<Span> {
    let rest = buf.get(at..).unwrap_or_default();
    if rest.starts_with(b"GET ") {
        return Ok((at..at + 3, at + 4));
    }
    let len = rest.iter().position(|&b| !is_tchar(b)).ok_or(Stop::Partial)?;
    if len == 0 || rest[len] != SP {
        return Err(HeadError::Method.into());
    }
    Ok((at..at + len, at + len + 1))
}

/// `request-target` then SP (RFC 9112 §3.2). The bytes must be visible ASCII: RFC 3986 URIs
/// are ASCII, and a client must percent-encode anything else. Within that we are as lenient
/// as httparse (we do not reject `"`, `{` or `|`, which some clients send raw), but the
/// target must have one of the four forms.
fn target(buf: &[u8], at: usize) -> Step<Span> {
    let rest = buf.get(at..).unwrap_or_default();
    // Look one byte past the limit: if that far holds no end, the target is too long now,
    // whatever follows (SPEC §8: 414 as soon as we can tell).
    let window = rest.get(..=MAX_REQUEST_TARGET).unwrap_or(rest);
    let Some(len) = scan::target(window) else {
        return Err(if window.len() > MAX_REQUEST_TARGET {
            HeadError::TargetTooLong.into()
        } else {
            Stop::Partial
        });
    };
    if len == 0 || rest[len] != SP || target_form(&rest[..len]).is_none() {
        return Err(HeadError::Target.into());
    }
    Ok((at..at + len, at + len + 1))
}

/// `HTTP-version = HTTP-name "/" DIGIT "." DIGIT` then the line end (RFC 9112 §2.3, §3).
/// Each byte is checked as soon as it is there, so `HTTP/x` fails without waiting for more.
fn version(buf: &[u8], at: usize) -> Step<Version> {
    let rest = buf.get(at..).unwrap_or_default();
    // The common case, in one comparison.
    if rest.starts_with(b"HTTP/1.1\r\n") {
        return Ok((Version::Http11, at + 10));
    }
    for (i, &b) in rest.iter().take(VERSION_LEN).enumerate() {
        let fits = match i {
            0..=4 => b == b"HTTP/"[i],
            5 | 7 => b.is_ascii_digit(),
            _ => b == b'.',
        };
        if !fits {
            return Err(HeadError::Version.into());
        }
    }
    let end = match rest.get(VERSION_LEN) {
        Some(&CR) => crlf(buf, at + VERSION_LEN)?,
        Some(&LF) => at + VERSION_LEN + 1,
        Some(_) => return Err(HeadError::Version.into()),
        None => return Err(Stop::Partial),
    };
    // RFC 9110 §2.5: a recipient of a higher minor version of a major version it implements
    // answers as the highest minor version it supports. Other majors (0.9, 2, 3) speak
    // another wire format: 505 (RFC 9110 §15.6.6).
    match (rest[5], rest[7]) {
        (b'1', b'0') => Ok((Version::Http10, end)),
        (b'1', _) => Ok((Version::Http11, end)),
        _ => Err(HeadError::UnsupportedVersion.into()),
    }
}

/// Length of `HTTP/` DIGIT `.` DIGIT.
const VERSION_LEN: usize = 8;

/// `*( field-line CRLF ) CRLF` (RFC 9112 §5): stores each field's value in `headers` and
/// its name's span in `names`, and returns how many there are.
fn field_lines<'b>(
    buf: &'b [u8],
    mut at: usize,
    headers: &mut [Header<'b>],
    names: &mut [Span],
) -> Step<usize> {
    let room = headers.len().min(names.len());
    let mut count = 0;
    loop {
        let rest = buf.get(at..).unwrap_or_default();
        match rest.first() {
            None => return Err(Stop::Partial),
            Some(&CR) => return Ok((count, crlf(buf, at)?)),
            Some(&LF) => return Ok((count, at + 1)),
            // RFC 9112 §2.2: whitespace between the start-line and the first field "MUST
            // either reject the message as invalid or consume each whitespace-preceded line";
            // we reject. Later, a line starting with whitespace continues the previous field:
            // RFC 9112 §5.2 obs-fold, which a server "MUST either reject ... by sending a 400"
            // or replace with SP; we reject.
            Some(&SP | &HTAB) if count == 0 => return Err(HeadError::WhitespaceAfterStartLine.into()),
            Some(&SP | &HTAB) => return Err(HeadError::ObsFold.into()),
            Some(_) => {}
        }
        let ((name_len, value), len) = field_line(rest)?;
        // Checked once the line is whole, as httparse does: a bad line is reported as bad.
        if count == room {
            return Err(HeadError::TooManyHeaders.into());
        }
        headers[count] = Header { name: "", value };
        names[count] = at..at + name_len;
        count += 1;
        at += len;
    }
}

/// `field-line = field-name ":" OWS field-value OWS` and its line end (RFC 9112 §5):
/// the length of the name and the value.
fn field_line(line: &[u8]) -> Step<(usize, &[u8])> {
    // field-name = token (RFC 9110 §5.1)
    let name_len = scan::token(line).ok_or(Stop::Partial)?;
    match line[name_len] {
        b':' if name_len > 0 => {}
        // RFC 9112 §5.1: "A server MUST reject, with a response status code of 400 (Bad
        // Request), any received request message that contains whitespace between a header
        // field name and colon."
        SP | HTAB if name_len > 0 => return Err(HeadError::WhitespaceBeforeColon.into()),
        _ => return Err(HeadError::HeaderName.into()),
    }
    // OWS before the value is not part of it (RFC 9112 §5).
    let mut start = name_len + 1;
    while matches!(line.get(start), Some(&SP | &HTAB)) {
        start += 1;
    }
    let rest = line.get(start..).unwrap_or_default();
    // field-value = *field-content: VCHAR, obs-text, SP, HTAB (RFC 9110 §5.5). The first
    // byte outside it must be the line end.
    let value_len = scan::field_value(rest).ok_or(Stop::Partial)?;
    let end = start + value_len;
    let next = match line[end] {
        LF => end + 1,
        CR => crlf(line, end)?,
        _ => return Err(HeadError::HeaderValue.into()),
    };
    // OWS after the value is not part of it either.
    let value = &line[start..end];
    let trimmed = value.iter().rposition(|&b| b != SP && b != HTAB).map_or(0, |i| i + 1);
    Ok(((name_len, &value[..trimmed]), next))
}

/// Which form `target` has (RFC 9112 §3.2), or `None` if it has none.
fn target_form(target: &[u8]) -> Option<TargetForm> {
    match target {
        // origin-form = absolute-path [ "?" query ]; absolute-path = 1*( "/" segment )
        [b'/', ..] => Some(TargetForm::Origin),
        // asterisk-form = "*"
        [b'*'] => Some(TargetForm::Asterisk),
        // authority-form = uri-host ":" port. Checked before absolute-form, which would also
        // read `example.com:443` as scheme `example.com` and path `443`.
        _ if target.contains(&b':') && is_host_port(target, true) => Some(TargetForm::Authority),
        // absolute-form = absolute-URI = scheme ":" hier-part [ "?" query ] (RFC 3986 §4.3)
        // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
        [first, ..] if first.is_ascii_alphabetic() => {
            let scheme_len = target
                .iter()
                .position(|&b| !(b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.'))?;
            (target[scheme_len] == b':').then_some(TargetForm::Absolute)
        }
        _ => None,
    }
}

/// `uri-host [ ":" port ]` (RFC 3986 §3.2.2–3.2.3), with the port required if `port_required`
/// (authority-form) or optional (the `Host` field, RFC 9110 §7.2).
///
/// ```text
/// uri-host    = IP-literal / IPv4address / reg-name
/// IP-literal  = "[" ( IPv6address / IPvFuture ) "]"
/// reg-name    = *( unreserved / pct-encoded / sub-delims )
/// port        = *DIGIT
/// ```
/// IP literals are checked only for their alphabet (HEXDIG, `:`, `.`, IPvFuture's `v`...).
pub(crate) fn is_host_port(value: &[u8], port_required: bool) -> bool {
    let (host, port) = match value {
        [b'[', ..] => {
            let Some(close) = value.iter().position(|&b| b == b']') else {
                return false;
            };
            let literal = &value[1..close];
            if literal.is_empty()
                || !literal.iter().all(|&b| is_unreserved(b) || is_sub_delim(b) || b == b':')
            {
                return false;
            }
            match &value[close + 1..] {
                [] => (None, None),
                [b':', port @ ..] => (None, Some(port)),
                _ => return false,
            }
        }
        _ => match value.iter().rposition(|&b| b == b':') {
            Some(colon) => (Some(&value[..colon]), Some(&value[colon + 1..])),
            None => (Some(value), None),
        },
    };
    let host_ok = host.is_none_or(|h| is_reg_name(h) && !(port_required && h.is_empty()));
    let port_ok = match port {
        Some(digits) => digits.iter().all(u8::is_ascii_digit),
        None => !port_required,
    };
    host_ok && port_ok
}

/// `reg-name = *( unreserved / pct-encoded / sub-delims )`, `pct-encoded = "%" HEXDIG HEXDIG`.
fn is_reg_name(mut name: &[u8]) -> bool {
    while let [b, rest @ ..] = name {
        name = match (b, rest) {
            (b'%', [h, l, rest @ ..]) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => rest,
            (b'%', _) => return false,
            (&b, _) if is_unreserved(b) || is_sub_delim(b) => rest,
            _ => return false,
        };
    }
    true
}

/// `unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"` (RFC 3986 §2.3)
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// `sub-delims = "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" / "="` (RFC 3986 §2.2)
fn is_sub_delim(b: u8) -> bool {
    matches!(b, b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=')
}

/// RFC 9110 §5.6.2:
///
/// ```text
/// token = 1*tchar
/// tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*"
///       / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~"
///       / DIGIT / ALPHA
///       ; any VCHAR, except delimiters
/// ```
pub(crate) fn is_tchar(b: u8) -> bool {
    TCHAR[usize::from(b)]
}

/// [`is_tchar`] as a table: one load per byte instead of a chain of compares.
static TCHAR: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = matches!(b as u8,
            b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_'
            | b'`' | b'|' | b'~' | b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z');
        b += 1;
    }
    table
};

#[path = "request_scan.rs"]
mod scan;

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
