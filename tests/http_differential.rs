//! Our request-head parser against `httparse`, on the same bytes.
//!
//! A corpus of hand-written requests (valid ones from browsers and tools, and one or more for
//! every way a head can be wrong), every prefix of each, systematic one-byte replacements and
//! random mutations (a deterministic PRNG, so every run tests the same inputs). For each input
//! both parsers must reach the same verdict — `Partial`, `Complete` or error — and, where both
//! complete, the same method, target, version, header fields and head length.
//!
//! Where pushlab differs on purpose, the difference is a named rule in
//! [`expected_divergence`], decided from the input alone, and [`divergence_holds`] checks that
//! the two results differ in exactly the way the rule says. There is no other escape. The
//! fuzz target `fuzz/fuzz_targets/http_request.rs` repeats these rules; keep the two in step.
//!
//! Run with `cargo test --test http_differential -- --nocapture` to see the totals.

use std::collections::BTreeMap;

use pushlab::limits::{MAX_HEAD, MAX_HEADERS, MAX_REQUEST_TARGET};
use pushlab::wire::request::*;
use pushlab::wire::Status;

/// What a parser made of an input, in terms both parsers share.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Verdict {
    Partial,
    Complete(Parsed),
    Error,
}

/// The fields of a complete head. `version` is httparse's minor version: 0 or 1.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Parsed {
    method: String,
    target: String,
    version: u8,
    headers: Vec<(String, Vec<u8>)>,
    len: usize,
}

fn ours(input: &[u8]) -> (Verdict, Option<HeadError>) {
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

fn theirs(input: &[u8]) -> (Verdict, Option<httparse::Error>) {
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
/// the first problem they meet. Each rule's reason:
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
fn divergence_holds(rule: &str, input: &[u8], ours: &(Verdict, Option<HeadError>)) -> bool {
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

/// Valid requests, as clients send them.
fn valid_requests() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = [
        &b"GET /hello.txt HTTP/1.1\r\nUser-Agent: curl/7.64.1\r\nHost: www.example.com\r\nAccept-Language: en, mi\r\n\r\n"[..],
        b"GET /demos/compare.html?topic=chat HTTP/1.1\r\nHost: localhost:8080\r\nConnection: keep-alive\r\nsec-ch-ua: \"Chromium\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\nsec-ch-ua-mobile: ?0\r\nUpgrade-Insecure-Requests: 1\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\nAccept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\nSec-Fetch-Site: none\r\nAccept-Encoding: gzip, deflate, br, zstd\r\nAccept-Language: en-GB,en;q=0.9\r\nCookie: a=b; c=d\r\n\r\n",
        b"POST /publish?topic=chat HTTP/1.1\r\nHost: localhost:8080\r\nContent-Length: 5\r\nContent-Type: text/plain;charset=UTF-8\r\nOrigin: http://localhost:8080\r\n\r\nhello",
        b"GET /sse?topic=a HTTP/1.1\r\nHost: a\r\nAccept: text/event-stream\r\nLast-Event-ID: 42\r\nCache-Control: no-cache\r\n\r\n",
        b"GET /ws?topic=chat HTTP/1.1\r\nHost: localhost:8080\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n",
        b"GET / HTTP/1.0\r\n\r\n",
        b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        b"HEAD /long-poll?topic=x&timeout=5 HTTP/1.1\r\nHost: h\r\n\r\n",
        b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
        b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
        b"CONNECT [::1]:443 HTTP/1.1\r\n\r\n",
        b"GET http://example.com/a?b#c HTTP/1.1\r\nHost: example.com\r\n\r\n",
        b"GET / HTTP/1.1\nHost: lf-only\nX: y\n\n",
        b"GET / HTTP/1.1\r\nHost: mixed\nX: y\r\n\n",
        b"\r\n\r\nGET / HTTP/1.1\r\nHost: leading-crlf\r\n\r\n",
        b"\n\nGET / HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nX:\t tabs\tinside \t\r\nY:\t\r\nZ:\r\n\r\n",
        b"GET / HTTP/1.1\r\nX: obs-text \x80\xff\xc3\xa9 end\r\n\r\n",
        b"GET / HTTP/1.1\r\nX: not utf-8 \xc3\x28\r\n\r\n",
        b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\n\r\n",
        b"!#$%&'*+-.^_`|~09azAZ /~!$&'()*+,;=:@%20/?a=b&c[]=d HTTP/1.1\r\n!#$%&'*+-.^_`|~09azAZ: v\r\n\r\n",
        b"GET /\"{}|\\^` HTTP/1.1\r\n\r\n",
        b"PUT /x HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: b\r\n\r\n",
        b"GET / HTTP/1.1\r\nX: a very long value                                                                                   with spaces\r\n\r\n",
    ]
    .iter()
    .map(|r| r.to_vec())
    .collect();
    // Many fields: exactly the most we allow, then one more.
    for n in [MAX_HEADERS, MAX_HEADERS + 1] {
        let mut r = b"GET / HTTP/1.1\r\n".to_vec();
        (0..n).for_each(|i| r.extend(format!("X-{i}: {i}\r\n").bytes()));
        r.extend(b"\r\n");
        v.push(r);
    }
    // Long values and long targets, near the limits.
    v.push(format!("GET / HTTP/1.1\r\nCookie: {}\r\n\r\n", "c".repeat(8000)).into_bytes());
    v.push(format!("GET /{} HTTP/1.1\r\n\r\n", "t".repeat(MAX_REQUEST_TARGET - 1)).into_bytes());
    v
}

/// Invalid requests: at least one for every rule a head can break, and the usual suspects.
fn invalid_requests() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = [
        // Methods.
        &b" GET / HTTP/1.1\r\n\r\n"[..],
        b"G(ET / HTTP/1.1\r\n\r\n",
        b"GET\t/ HTTP/1.1\r\n\r\n",
        b"GET\r\n\r\n",
        b"\xc3\xa9 / HTTP/1.1\r\n\r\n",
        b"GE\x00T / HTTP/1.1\r\n\r\n",
        b"/ HTTP/1.1\r\n\r\n",
        b"GET",
        // Targets.
        b"GET  / HTTP/1.1\r\n\r\n",
        b"GET / \x20HTTP/1.1\r\n\r\n",
        b"GET /a\x01b HTTP/1.1\r\n\r\n",
        b"GET /a\x7fb HTTP/1.1\r\n\r\n",
        b"GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n",
        b"GET /\xff HTTP/1.1\r\n\r\n",
        b"GET index.html HTTP/1.1\r\n\r\n",
        b"GET ?q HTTP/1.1\r\n\r\n",
        b"GET ** HTTP/1.1\r\n\r\n",
        b"GET 1.2.3.4 HTTP/1.1\r\n\r\n",
        b"GET /\r\n\r\n",
        b"GET /\tHTTP/1.1\r\n\r\n",
        b"GET HTTP/1.1\r\n\r\n",
        b"CONNECT [::1 HTTP/1.1\r\n\r\n",
        b"CONNECT h%zz:80 HTTP/1.1\r\n\r\n",
        // Versions.
        b"GET / HTTP/1.2\r\n\r\n",
        b"GET / HTTP/1.9\r\nHost: a\r\n\r\n",
        b"GET / HTTP/2.0\r\n\r\n",
        b"GET / HTTP/0.9\r\n\r\n",
        b"GET / HTTP/3.0\r\n\r\n",
        b"GET / HTTP/2",
        b"GET / HTTP/1.12\r\n\r\n",
        b"GET / HTTP/11.1\r\n\r\n",
        b"GET / http/1.1\r\n\r\n",
        b"GET / HTTP/1.1 \r\n\r\n",
        b"GET / HTTP/1\r\n\r\n",
        b"GET / HTTP/1.x\r\n\r\n",
        b"GET / HTTPS/1.1\r\n\r\n",
        b"GET / HTTP/1.1x\r\n\r\n",
        b"GET / \r\n\r\n",
        // Line ends: bare CR anywhere.
        b"\rGET / HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\r\n\r\n",
        b"GET / HTTP/1.1\rHost: a\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\r\n",
        b"GET /\r HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nA\r: b\r\n\r\n",
        // Field names.
        b"GET / HTTP/1.1\r\n: empty-name\r\n\r\n",
        b"GET / HTTP/1.1\r\nNo-Colon\r\n\r\n",
        b"GET / HTTP/1.1\r\nA(b: c\r\n\r\n",
        b"GET / HTTP/1.1\r\nA\"b: c\r\n\r\n",
        b"GET / HTTP/1.1\r\n\xc3\xa9: c\r\n\r\n",
        b"GET / HTTP/1.1\r\nA\x00: c\r\n\r\n",
        b"GET / HTTP/1.1\r\nA: b\r\n@: c\r\n\r\n",
        // Whitespace before the colon, after the start line, obs-fold.
        b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost\t: a\r\n\r\n",
        b"GET / HTTP/1.1\r\n Host: a\r\n\r\n",
        b"GET / HTTP/1.1\r\n\tHost: a\r\n\r\n",
        b"GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n",
        b"GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n",
        b"GET / HTTP/1.1\r\nX:\r\n b\r\n\r\n",
        // Field values: control characters and DEL.
        b"GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n",
        b"GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n",
        b"GET / HTTP/1.1\r\nX: a\x7fb\r\n\r\n",
        b"GET / HTTP/1.1\r\nX: a\x1bb\r\n\r\n",
        b"GET / HTTP/1.1\r\nX: \x0b\r\n\r\n",
        b"GET / HTTP/1.1\r\nX:\x0c\r\n\r\n",
        // Nothing, or only empty lines.
        b"",
        b"\r\n",
        b"\n\n\n",
        b"\r\n\r\n\r\n",
    ]
    .iter()
    .map(|r| r.to_vec())
    .collect();
    // Limits: a target one byte over, a head one byte over, a head that never ends.
    v.push(format!("GET /{} HTTP/1.1\r\n\r\n", "t".repeat(MAX_REQUEST_TARGET)).into_bytes());
    v.push(format!("GET /{}", "t".repeat(MAX_REQUEST_TARGET + 100)).into_bytes());
    v.push(format!("GET / HTTP/1.1\r\nCookie: {}\r\n\r\n", "c".repeat(MAX_HEAD)).into_bytes());
    v.push(format!("GET / HTTP/1.1\r\n{}", "X: y\r\n".repeat(MAX_HEAD / 6 + 1)).into_bytes());
    v.push(b"\r\n".repeat(MAX_HEAD));
    v
}

/// A small deterministic PRNG (xorshift64): the same corpus on every run and machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes that sit on the grammar's edges.
const INTERESTING: &[u8] = b"\r\n \t:/?*[]%@HTP1.02\x00\x01\x7f\x80\xff\xc3\"(aZ-";

/// One random edit of `input`: insert, delete, replace, or duplicate a range.
fn mutate(rng: &mut Rng, input: &mut Vec<u8>) {
    let at = rng.below(input.len() + 1);
    let byte = if rng.below(4) == 0 { rng.next() as u8 } else { INTERESTING[rng.below(INTERESTING.len())] };
    match rng.below(4) {
        0 => input.insert(at, byte),
        1 if at < input.len() => drop(input.remove(at)),
        2 if at < input.len() => input[at] = byte,
        _ => {
            let end = (at + rng.below(8)).min(input.len());
            let copy = input[at..end].to_vec();
            input.splice(at..at, copy);
        }
    }
}

/// The whole corpus, each input labelled with where it came from.
fn corpus() -> Vec<(&'static str, Vec<u8>)> {
    let valid = valid_requests();
    let invalid = invalid_requests();
    let mut all = Vec::new();
    let small = |r: &Vec<u8>| r.len() <= 2048;
    for (kind, set) in [("valid", &valid), ("invalid", &invalid)] {
        for r in set {
            all.push((kind, r.clone()));
            // Every prefix of the small ones; a sample of the big ones' prefixes.
            let step = if small(r) { 1 } else { 997 };
            for len in (0..r.len()).step_by(step).chain(r.len().saturating_sub(20)..r.len()) {
                all.push(("prefix", r[..len].to_vec()));
            }
        }
    }
    // Systematic: every position of each small valid request replaced by each interesting byte.
    for r in valid.iter().filter(|r| r.len() <= 300) {
        for at in 0..r.len() {
            for &b in INTERESTING {
                let mut m = r.clone();
                m[at] = b;
                all.push(("replaced", m));
            }
        }
    }
    // Random: one to four edits of a small request; every tenth mutant also in all its prefixes.
    let seeds: Vec<&Vec<u8>> = valid.iter().chain(&invalid).filter(|r| small(r)).collect();
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    for i in 0..30_000 {
        let mut m = seeds[rng.below(seeds.len())].clone();
        for _ in 0..=rng.below(4) {
            mutate(&mut rng, &mut m);
        }
        if i % 10 == 0 {
            all.extend((0..m.len()).map(|len| ("mutant-prefix", m[..len].to_vec())));
        }
        all.push(("mutant", m));
    }
    all
}

#[test]
fn differential_against_httparse() {
    let corpus = corpus();
    let mut agreed: BTreeMap<&str, usize> = BTreeMap::new();
    let mut diverged: BTreeMap<&str, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for (_, input) in &corpus {
        let ours = ours(input);
        let (verdict, _) = theirs(input);
        let rule = expected_divergence(input);
        let holds = match rule {
            Some(rule) => divergence_holds(rule, input, &ours),
            None => ours.0 == verdict,
        };
        if !holds {
            failures.push(format!(
                "{:?}\n  ours: {:?}\n  httparse: {:?}\n  rule: {rule:?}",
                String::from_utf8_lossy(&input[..input.len().min(200)]),
                ours,
                theirs(input),
            ));
        } else if ours.0 != verdict {
            *diverged.entry(rule.unwrap_or_default()).or_default() += 1;
        } else {
            let kind = match verdict {
                Verdict::Partial => "partial",
                Verdict::Complete(_) => "complete",
                Verdict::Error => "error",
            };
            *agreed.entry(kind).or_default() += 1;
        }
    }
    let inputs = corpus.len();
    let from = |k: &str| corpus.iter().filter(|(kind, _)| *kind == k).count();
    println!("differential: {inputs} inputs");
    for kind in ["valid", "invalid", "prefix", "replaced", "mutant", "mutant-prefix"] {
        println!("  {kind:>14}: {}", from(kind));
    }
    println!("  agreed: {agreed:?}");
    println!("  diverged as documented: {diverged:?}");
    println!("  undocumented differences: {}", failures.len());
    for f in failures.iter().take(20) {
        println!("{f}");
    }
    assert!(failures.is_empty(), "{} inputs differ from httparse without a rule", failures.len());
    assert!(inputs >= 200);
    // Every rule is needed by some input: a rule nothing exercises has rotted.
    for rule in [
        "target-too-long",
        "target-not-ascii",
        "target-form",
        "http-1x-minor",
        "other-major-version",
        "head-too-large",
    ] {
        assert!(diverged.contains_key(rule), "rule {rule} never used");
    }
}

/// The rules themselves, on inputs chosen for them.
#[test]
fn expected_divergence_names_the_rule() {
    let long_target = format!("GET /{}", "t".repeat(MAX_REQUEST_TARGET + 1));
    let cases: [(&[u8], Option<&str>); 10] = [
        (b"GET / HTTP/1.1\r\n\r\n", None),
        (long_target.as_bytes(), Some("target-too-long")),
        (b"GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n", Some("target-not-ascii")),
        (b"GET index.html HTTP/1.1\r\n\r\n", Some("target-form")),
        (b"GET example.com:80 HTTP/1.1\r\n\r\n", None),
        (b"GET index.html", None),
        (b"GET / HTTP/1.2\r\n\r\n", Some("http-1x-minor")),
        (b"GET / HTTP/2", Some("other-major-version")),
        (b"\r\n\r\nGET / HTTP/0.9\r\n", Some("other-major-version")),
        (b"GET / HTTP/1.1\r\n", None),
    ];
    for (input, rule) in cases {
        assert_eq!(expected_divergence(input), rule, "{:?}", String::from_utf8_lossy(input));
    }
    assert_eq!(expected_divergence(&b"\n".repeat(MAX_HEAD + 1)), Some("head-too-large"));
}
