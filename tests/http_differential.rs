//! Our request-head parser against `httparse`, on the same bytes.
//!
//! A corpus of hand-written requests (valid ones from browsers and tools, and one or more for
//! every way a head can be wrong), every prefix of each, systematic one-byte replacements and
//! random mutations (a deterministic PRNG, so every run tests the same inputs). For each input
//! both parsers must reach the same verdict — `Partial`, `Complete` or error — and, where both
//! complete, the same method, target, version, header fields and head length.
//!
//! Where pushlab differs on purpose, the difference is a named rule in
//! [`oracle::expected_divergence`], decided from the input alone, and
//! [`oracle::divergence_holds`] checks that the two results differ in exactly the way the rule
//! says. There is no other escape. The rules live in `tests/oracle/mod.rs`, which the fuzz
//! target's check `fuzz/checks/http_request.rs` shares, so the two cannot fall out of step.
//!
//! Run with `cargo test --test http_differential -- --nocapture` to see the totals.

mod common;
mod oracle;

use std::collections::BTreeMap;

// The seeded generator: the same corpus on every run and machine.
use common::Rng;
use oracle::{divergence_holds, expected_divergence, ours, theirs, Verdict};
use pushlab::limits::{MAX_HEAD, MAX_HEADERS, MAX_REQUEST_TARGET};

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

/// Bytes that sit on the grammar's edges.
const INTERESTING: &[u8] = b"\r\n \t:/?*[]%@HTP1.02\x00\x01\x7f\x80\xff\xc3\"(aZ-";

/// One random edit of `input`: insert, delete, replace, or duplicate a range.
fn mutate(rng: &mut Rng, input: &mut Vec<u8>) {
    let at = rng.below(input.len() + 1);
    let byte = if rng.below(4) == 0 { rng.byte() } else { *rng.pick(INTERESTING) };
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
        let mut m = rng.pick(&seeds).to_vec();
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
