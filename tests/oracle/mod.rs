//! The oracle: our request-head parser beside `httparse`, and the documented ways the two may
//! differ. Shared by `tests/http_differential.rs` (a fixed corpus) and
//! `fuzz/checks/http_request.rs` (libFuzzer's inputs and the committed corpus, which
//! `tests/fuzz_corpus.rs` replays), so both hold the parser to the same rules; a directory
//! module, so cargo does not build it as a test of its own.
//!
//! [`ours`] and [`theirs`] reduce each parser's result to a [`Verdict`] both can be compared
//! on. Where pushlab differs on purpose, the difference is a named rule in
//! [`expected_divergence`], decided from the input alone, and [`divergence_holds`] checks that
//! our result differs in exactly the way the rule says. There is no other escape.

use pushlab::limits::{MAX_HEAD, MAX_HEADERS, MAX_REQUEST_TARGET};
use pushlab::wire::request::{parse_head, HeadError, Header, Version};
use pushlab::wire::Status;

/// What a parser made of an input, in terms both parsers share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Partial,
    Complete(Parsed),
    Error,
}

/// The fields of a complete head. `version` is httparse's minor version: 0 or 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    pub method: String,
    pub target: String,
    pub version: u8,
    pub headers: Vec<(String, Vec<u8>)>,
    pub len: usize,
}

/// What pushlab's `parse_head` makes of `input`, and its error if it failed.
pub fn ours(input: &[u8]) -> (Verdict, Option<HeadError>) {
    let mut headers = [Header::EMPTY; MAX_HEADERS];
    match parse_head(input, &mut headers) {
        Ok(Status::Partial) => (Verdict::Partial, None),
        Ok(Status::Complete((head, len))) => {
            let parsed = Parsed {
                method: head.method.into(),
                target: head.target.into(),
                version: match head.version {
                    Version::Http10 => 0,
                    Version::Http11 => 1,
                },
                headers: head.headers.iter().map(|h| (h.name.into(), h.value.into())).collect(),
                len,
            };
            (Verdict::Complete(parsed), None)
        }
        Err(error) => (Verdict::Error, Some(error)),
    }
}

/// What httparse makes of `input`, and its error if it failed.
pub fn theirs(input: &[u8]) -> (Verdict, Option<httparse::Error>) {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(input) {
        Ok(httparse::Status::Partial) => (Verdict::Partial, None),
        Ok(httparse::Status::Complete(len)) => {
            let parsed = Parsed {
                method: request.method.unwrap_or_default().into(),
                target: request.path.unwrap_or_default().into(),
                version: request.version.unwrap_or(9),
                headers: request.headers.iter().map(|h| (h.name.into(), h.value.into())).collect(),
                len,
            };
            (Verdict::Complete(parsed), None)
        }
        Err(error) => (Verdict::Error, Some(error)),
    }
}

/// The request-line as httparse and we both see it: after any empty lines, `method SP`, then
/// the target up to the next SP, CR or LF, then the rest of the line. `None` if the input
/// fails before the target starts, where both parsers agree.
struct RequestLine<'a> {
    target: &'a [u8],
    /// Whether a SP follows the target.
    target_ended: bool,
    /// What follows the SP after the target, up to the line end or the input end.
    version: &'a [u8],
    /// How many bytes of the input start with `version`.
    rest_len: usize,
}

fn request_line(input: &[u8]) -> Option<RequestLine<'_>> {
    let mut at = 0;
    loop {
        match input.get(at..)? {
            [b'\r', b'\n', ..] => at += 2,
            [b'\n', ..] => at += 1,
            _ => break,
        }
    }
    let method_len = input[at..].iter().position(|&b| b == b' ')?;
    // A method that is not a token fails first in both parsers: no rule about the rest applies.
    let tchar = |b: &u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b);
    if method_len == 0 || !input[at..at + method_len].iter().all(tchar) {
        return None;
    }
    let rest = &input[at + method_len + 1..];
    let target_len = rest.iter().position(|&b| matches!(b, b' ' | b'\r' | b'\n')).unwrap_or(rest.len());
    let target_ended = rest.get(target_len) == Some(&b' ');
    let after = if target_ended { &rest[target_len + 1..] } else { &[][..] };
    let version_len = after.iter().position(|&b| b == b'\r' || b == b'\n').unwrap_or(after.len());
    Some(RequestLine {
        target: &rest[..target_len],
        target_ended,
        version: &after[..version_len],
        rest_len: after.len(),
    })
}

/// The documented differences between pushlab and httparse, decided from the input (and,
/// for the head limit, from what httparse makes of its first `MAX_HEAD` bytes). They are
/// tried in the order the bytes they concern come in a request, since both parsers report
/// the first problem they meet — and only on the first `MAX_HEAD` bytes, the most our parser
/// ever reads of a head: a rule whose bytes lie beyond them never comes up, because the head
/// is too large first (a 17 KB method the fuzzer found: the seed
/// `target_form_beyond_max_head` of `fuzz/corpus/http_request/`). Each rule's reason:
///
/// - `target-too-long`: a request-target over `MAX_REQUEST_TARGET` is 414 for us as soon as
///   the limit passes (SPEC §8); httparse has no limit.
/// - `target-not-ascii`: bytes 0x80–0xFF in a target. A URI is ASCII (RFC 3986 §2; RFC 9112
///   §3.2 targets are URI references), so we answer 400; httparse accepts them if UTF-8.
/// - `target-form`: a target of visible ASCII that is none of origin-, absolute-, authority-
///   or asterisk-form (RFC 9112 §3.2), like `index.html`: 400 for us, accepted by httparse.
/// - `http-1x-minor`: `HTTP/1.x` with x ≥ 2 is answered as HTTP/1.1 (RFC 9110 §2.5; SPEC §8);
///   httparse knows only 1.0 and 1.1.
/// - `other-major-version`: `HTTP/` with a major other than 1 is well-formed but unsupported:
///   505 for us once the line ends (RFC 9110 §15.6.6), a version error at once for httparse.
/// - `head-too-large`: more than `MAX_HEAD` bytes and no complete head among the first
///   `MAX_HEAD` is 431 for us (SPEC §8); httparse keeps asking for more.
pub fn expected_divergence(input: &[u8]) -> Option<&'static str> {
    let window = &input[..input.len().min(MAX_HEAD)];
    let cut = window.len() < input.len();
    let line_rule = request_line(window).and_then(|line| {
        let visible = |b: &u8| (0x21..=0x7e).contains(b);
        let first_bad = line.target.iter().position(|b| !visible(b));
        if first_bad.unwrap_or(line.target.len()) > MAX_REQUEST_TARGET {
            return Some("target-too-long");
        }
        if let Some(i) = first_bad {
            return (line.target[i] >= 0x80).then_some("target-not-ascii");
        }
        if line.target_ended && !line.target.is_empty() && !has_target_form(line.target) {
            return Some("target-form");
        }
        // Only a well-formed version (or the start of one) is a rule's business: both parsers
        // reject `HTTP/2.0x` or `HTTP/09` alike.
        let shape = b"HTTP/9.9";
        let whole_or_cut_short = line.version.len() == shape.len() || line.version.len() == line.rest_len;
        let well_formed = line.version.len() <= shape.len()
            && whole_or_cut_short
            && line
                .version
                .iter()
                .zip(shape)
                .all(|(&b, &s)| if s == b'9' { b.is_ascii_digit() } else { b == s });
        match line.version {
            _ if !well_formed => None,
            // The window ends inside the request line: the head is too large first.
            _ if cut && line.version.len() == line.rest_len => None,
            [b'H', b'T', b'T', b'P', b'/', b'1', b'.', b'2'..=b'9'] => Some("http-1x-minor"),
            [b'H', b'T', b'T', b'P', b'/', b'0' | b'2'..=b'9', ..] => Some("other-major-version"),
            _ => None,
        }
    });
    let too_large = || input.len() > MAX_HEAD && theirs(&input[..MAX_HEAD]).0 == Verdict::Partial;
    line_rule.or_else(|| too_large().then_some("head-too-large"))
}

/// RFC 9112 §3.2, written out again independently of `request.rs`.
fn has_target_form(target: &[u8]) -> bool {
    let unreserved_or_sub_delim = |b: u8| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=".contains(&b);
    let reg_name = |mut host: &[u8]| {
        while let Some((&b, rest)) = host.split_first() {
            host = if b == b'%' {
                match rest {
                    [h, l, rest @ ..] if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => rest,
                    _ => return false,
                }
            } else if unreserved_or_sub_delim(b) {
                rest
            } else {
                return false;
            };
        }
        true
    };
    let authority = || {
        let Some(colon) = target.iter().rposition(|&b| b == b':') else { return false };
        let (host, port) = (&target[..colon], &target[colon + 1..]);
        let host_ok = match host {
            [b'[', literal @ .., b']'] => {
                !literal.is_empty() && literal.iter().all(|&b| unreserved_or_sub_delim(b) || b == b':')
            }
            _ => !host.is_empty() && reg_name(host),
        };
        host_ok && port.iter().all(u8::is_ascii_digit)
    };
    let absolute = || {
        let scheme_len = target.iter().position(|&b| b == b':').unwrap_or(0);
        scheme_len > 0
            && target[0].is_ascii_alphabetic()
            && target[..scheme_len].iter().all(|&b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    };
    target[0] == b'/' || target == b"*" || authority() || absolute()
}

/// Whether our result is the one `rule` says. Checked on every input a rule applies to,
/// whether or not httparse happens to reach the same verdict there.
pub fn divergence_holds(rule: &str, input: &[u8], ours: &(Verdict, Option<HeadError>)) -> bool {
    match rule {
        "target-too-long" => ours.1 == Some(HeadError::TargetTooLong),
        "target-not-ascii" | "target-form" => ours.1 == Some(HeadError::Target),
        // As if the version said HTTP/1.1, httparse agrees with us on everything.
        "http-1x-minor" => theirs(&as_http11(input)).0 == ours.0,
        // As if it said HTTP/1.1: where httparse fails, we fail; where it does not, we wait
        // for the line end and then answer 505.
        "other-major-version" => match theirs(&as_http11(input)).0 {
            Verdict::Error => ours.0 == Verdict::Error,
            Verdict::Partial if ours.0 == Verdict::Partial => true,
            _ => ours.1 == Some(HeadError::UnsupportedVersion),
        },
        "head-too-large" => ours.1 == Some(HeadError::HeadTooLarge),
        _ => false,
    }
}

/// `input` with its version's first eight bytes (as many as there are) replaced by `HTTP/1.1`.
fn as_http11(input: &[u8]) -> Vec<u8> {
    let mut patched = input.to_vec();
    if let Some(line) = request_line(input) {
        let at = input.len() - line.rest_len;
        let end = patched.len().min(at + 8);
        patched[at..end].copy_from_slice(&b"HTTP/1.1"[..end - at]);
    }
    patched
}
