//! Our request-head parser against `httparse` on any bytes: it never panics, and both reach
//! the same verdict (`Partial`, `Complete` or error) and, where both complete, the same
//! method, target, version, fields and length — except where a documented rule says we
//! differ. The rules are those of `tests/http_differential.rs` (`expected_divergence`),
//! repeated here because test-only code does not belong in `src/`; keep the two in step.
//!
//! Also: `find_head_end` finds every complete head, and more bytes never undo a verdict
//! (a prefix that fails or completes does so the same way with the rest appended).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pushlab::limits::{MAX_HEAD, MAX_HEADERS, MAX_REQUEST_TARGET};
use pushlab::wire::request::{find_head_end, parse_head, HeadError, Header, Version};
use pushlab::wire::Status;

#[derive(Debug, PartialEq)]
enum Verdict {
    Partial,
    /// method, target, version (httparse's minor), fields, length
    Complete(String, String, u8, Vec<(String, Vec<u8>)>, usize),
    Error,
}

fn ours(input: &[u8]) -> (Verdict, Option<HeadError>) {
    let mut headers = [Header::EMPTY; MAX_HEADERS];
    match parse_head(input, &mut headers) {
        Ok(Status::Partial) => (Verdict::Partial, None),
        Ok(Status::Complete((head, len))) => {
            let version = if head.version == Version::Http10 { 0 } else { 1 };
            let fields = head.headers.iter().map(|h| (h.name.into(), h.value.into())).collect();
            (Verdict::Complete(head.method.into(), head.target.into(), version, fields, len), None)
        }
        Err(error) => (Verdict::Error, Some(error)),
    }
}

fn theirs(input: &[u8]) -> (Verdict, Option<httparse::Error>) {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(input) {
        Ok(httparse::Status::Partial) => (Verdict::Partial, None),
        Ok(httparse::Status::Complete(len)) => {
            let fields = req.headers.iter().map(|h| (h.name.into(), h.value.into())).collect();
            let (method, target) = (req.method.unwrap_or_default(), req.path.unwrap_or_default());
            (Verdict::Complete(method.into(), target.into(), req.version.unwrap_or(9), fields, len), None)
        }
        Err(error) => (Verdict::Error, Some(error)),
    }
}

fuzz_target!(|data: &[u8]| {
    let ours_whole = ours(data);
    match expected_divergence(data) {
        Some(rule) => assert!(divergence_holds(rule, data, &ours_whole), "rule {rule}: {ours_whole:?}"),
        None => assert_eq!(ours_whole.0, theirs(data).0),
    }
    if let Verdict::Complete(.., len) = ours_whole.0 {
        assert_eq!(find_head_end(data, 0), Some(len));
    }
    let prefix = ours(&data[..data.len() / 2]).0;
    if prefix != Verdict::Partial {
        assert_eq!(prefix, ours_whole.0);
    }
});

// ---- The documented divergences: a copy of tests/http_differential.rs, which explains each ----

struct RequestLine<'a> {
    target: &'a [u8],
    target_ended: bool,
    version: &'a [u8],
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

fn expected_divergence(input: &[u8]) -> Option<&'static str> {
    let line_rule = request_line(input).and_then(|line| {
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
            [b'H', b'T', b'T', b'P', b'/', b'1', b'.', b'2'..=b'9'] => Some("http-1x-minor"),
            [b'H', b'T', b'T', b'P', b'/', b'0' | b'2'..=b'9', ..] => Some("other-major-version"),
            _ => None,
        }
    });
    let too_large = || input.len() > MAX_HEAD && theirs(&input[..MAX_HEAD]).0 == Verdict::Partial;
    line_rule.or_else(|| too_large().then_some("head-too-large"))
}

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

fn divergence_holds(rule: &str, input: &[u8], ours: &(Verdict, Option<HeadError>)) -> bool {
    match rule {
        "target-too-long" => ours.1 == Some(HeadError::TargetTooLong),
        "target-not-ascii" | "target-form" => ours.1 == Some(HeadError::Target),
        "http-1x-minor" => theirs(&as_http11(input)).0 == ours.0,
        "other-major-version" => match theirs(&as_http11(input)).0 {
            Verdict::Error => ours.0 == Verdict::Error,
            Verdict::Partial if ours.0 == Verdict::Partial => true,
            _ => ours.1 == Some(HeadError::UnsupportedVersion),
        },
        "head-too-large" => ours.1 == Some(HeadError::HeadTooLarge),
        _ => false,
    }
}

fn as_http11(input: &[u8]) -> Vec<u8> {
    let mut patched = input.to_vec();
    if let Some(line) = request_line(input) {
        let at = input.len() - line.rest_len;
        let end = patched.len().min(at + 8);
        patched[at..end].copy_from_slice(&b"HTTP/1.1"[..end - at]);
    }
    patched
}
