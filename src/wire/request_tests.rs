//! Tests for `request.rs`: RFC examples, every prefix, every error, the SWAR scans.

use super::*;
use crate::wire::test_rng::Rng;

/// Parses `buf` with room for `MAX_HEADERS` fields and hands the result to `check`.
fn with_parse<R>(
    buf: &[u8],
    check: impl FnOnce(Result<Status<(RequestHead<'_, '_>, usize)>, HeadError>) -> R,
) -> R {
    let mut headers = [Header::EMPTY; MAX_HEADERS];
    check(parse_head(buf, &mut headers))
}

fn error_of(buf: &[u8]) -> Option<HeadError> {
    with_parse(buf, |r| r.err())
}

fn is_partial(buf: &[u8]) -> bool {
    with_parse(buf, |r| r == Ok(Status::Partial))
}

/// RFC 9110 §3.9, the example request (with CRLF line ends).
const RFC9110_EXAMPLE: &[u8] = b"GET /hello.txt HTTP/1.1\r\n\
User-Agent: curl/7.64.1\r\n\
Host: www.example.com\r\n\
Accept-Language: en, mi\r\n\
\r\n";

#[test]
fn test_parse_rfc9110_example() {
    let mut headers = [Header::EMPTY; 4];
    let Ok(Status::Complete((head, len))) = parse_head(RFC9110_EXAMPLE, &mut headers) else {
        panic!("not complete");
    };
    assert_eq!(len, RFC9110_EXAMPLE.len());
    assert_eq!((head.method, head.target, head.version), ("GET", "/hello.txt", Version::Http11));
    assert_eq!(
        head.headers,
        &[
            Header { name: "User-Agent", value: b"curl/7.64.1" },
            Header { name: "Host", value: b"www.example.com" },
            Header { name: "Accept-Language", value: b"en, mi" },
        ]
    );
    assert_eq!(head.header("host"), Some(&b"www.example.com"[..]));
    assert_eq!(head.header("HOST"), Some(&b"www.example.com"[..]));
    assert_eq!(head.header("Cookie"), None);
    assert_eq!((head.path(), head.query()), ("/hello.txt", ""));
}

#[test]
fn test_target_forms_rfc9112_examples() {
    // RFC 9112 §3.2.1–§3.2.4, one example of each form.
    let cases: [(&[u8], TargetForm, &str, &str); 5] = [
        (
            b"GET /where?q=now HTTP/1.1\r\nHost: www.example.org\r\n\r\n",
            TargetForm::Origin,
            "/where",
            "q=now",
        ),
        (
            b"GET http://www.example.org/pub/WWW/TheProject.html HTTP/1.1\r\n\r\n",
            TargetForm::Absolute,
            "/pub/WWW/TheProject.html",
            "",
        ),
        (b"GET http://www.example.org?x=1 HTTP/1.1\r\n\r\n", TargetForm::Absolute, "/", "x=1"),
        (b"CONNECT www.example.com:80 HTTP/1.1\r\n\r\n", TargetForm::Authority, "", ""),
        (b"OPTIONS * HTTP/1.1\r\n\r\n", TargetForm::Asterisk, "*", ""),
    ];
    for (buf, form, path, query) in cases {
        with_parse(buf, |r| {
            let Ok(Status::Complete((head, len))) = r else { panic!("{r:?}") };
            assert_eq!(len, buf.len());
            assert_eq!((head.target_form(), head.path(), head.query()), (form, path, query), "{head:?}");
        });
    }
    for target in ["[::1]:8080", "127.0.0.1:80", "h%41st:1", "urn:isbn:0451450523", "a+b.c-d:x"] {
        let buf = format!("X {target} HTTP/1.1\r\n\r\n");
        assert!(with_parse(buf.as_bytes(), |r| matches!(r, Ok(Status::Complete(_)))), "{target}");
    }
    for target in ["foo", "?a=b", "%2F", "**", "1abc", "[::1", "[]:80", "h%4:1", "@:1"] {
        let buf = format!("GET {target} HTTP/1.1\r\n\r\n");
        assert_eq!(error_of(buf.as_bytes()), Some(HeadError::Target), "{target}");
    }
}

#[test]
fn test_versions() {
    let version = |v: &str| {
        let buf = format!("GET / {v}\r\n\r\n");
        with_parse(buf.as_bytes(), |r| {
            r.map(|s| match s {
                Status::Complete((head, _)) => Some(head.version),
                Status::Partial => None,
            })
        })
    };
    assert_eq!(version("HTTP/1.0"), Ok(Some(Version::Http10)));
    assert_eq!(version("HTTP/1.1"), Ok(Some(Version::Http11)));
    // RFC 9110 §2.5: a higher minor version is answered as the highest we support.
    assert_eq!(version("HTTP/1.2"), Ok(Some(Version::Http11)));
    assert_eq!(version("HTTP/1.9"), Ok(Some(Version::Http11)));
    for v in ["HTTP/2.0", "HTTP/0.9", "HTTP/3.0", "HTTP/9.9"] {
        assert_eq!(version(v), Err(HeadError::UnsupportedVersion), "{v}");
    }
    for v in [
        "HTTP/1",
        "HTTP/1.",
        "HTTP/11.1",
        "HTTP/1.10",
        "http/1.1",
        "HTTP/1.1 ",
        "HTTP 1.1",
        "HTTP/a.1",
        "HTTP/1,1",
        "",
        "HTTPS/1.1",
    ] {
        assert_eq!(version(v), Err(HeadError::Version), "{v:?}");
    }
}

#[test]
fn test_line_ends_and_empty_lines() {
    // RFC 9112 §2.2: bare LF may end a line; empty lines before the request-line are skipped
    // and counted in the head length.
    let buf = b"\r\n\nGET / HTTP/1.0\nHost: a\n\nbody";
    with_parse(buf, |r| {
        let Ok(Status::Complete((head, len))) = r else { panic!("{r:?}") };
        assert_eq!(len, buf.len() - 4);
        assert_eq!(head.version, Version::Http10);
        assert_eq!(head.headers, &[Header { name: "Host", value: b"a" }]);
    });
}

#[test]
fn test_values_trimmed_and_obs_text_kept() {
    let buf = b"GET / HTTP/1.1\r\nA: \t x \t y\t \r\nB:\r\nC:   \r\nD: caf\xc3\xa9 \xff\r\n\r\n";
    with_parse(buf, |r| {
        let Ok(Status::Complete((head, _))) = r else { panic!("{r:?}") };
        let values: Vec<&[u8]> = head.headers.iter().map(|h| h.value).collect();
        assert_eq!(values, [&b"x \t y"[..], b"", b"", b"caf\xc3\xa9 \xff"]);
    });
}

#[test]
fn test_headers_named_returns_all_in_order() {
    let buf = b"GET / HTTP/1.1\r\nAccept: a\r\nX: 1\r\naccept: b\r\n\r\n";
    with_parse(buf, |r| {
        let Ok(Status::Complete((head, _))) = r else { panic!() };
        assert_eq!(head.headers_named("ACCEPT").collect::<Vec<_>>(), [b"a", b"b"]);
        assert_eq!(head.header("x"), Some(&b"1"[..]));
    });
}

/// httparse's `partial_permutations` idea: every proper prefix of a valid head is `Partial`.
#[test]
fn test_every_prefix_is_partial() {
    let heads: [&[u8]; 5] = [
        RFC9110_EXAMPLE,
        b"\r\n\r\nPOST /publish?topic=a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n",
        b"GET / HTTP/1.0\nA:\tb\n\n",
        b"OPTIONS * HTTP/1.2\r\nX:\r\n\r\n",
        b"GET http://a:1/b HTTP/1.1\r\nHost: a:1\r\nV: \x80\xff\t\r\n\r\n",
    ];
    for head in heads {
        for len in 0..head.len() {
            assert!(is_partial(&head[..len]), "{:?}", String::from_utf8_lossy(&head[..len]));
        }
        assert!(with_parse(head, |r| r.map(|s| s != Status::Partial) == Ok(true)));
    }
}

/// One input per error, each shortest: the error is reported as soon as the bytes show it.
#[test]
fn test_every_error() {
    let cases: [(&[u8], HeadError); 23] = [
        (b"GE(T / HTTP/1.1\r\n", HeadError::Method),
        (b" GET / HTTP/1.1\r\n", HeadError::Method),
        (b"GET\r\n", HeadError::Method),
        (b"GET  / HTTP/1.1\r\n", HeadError::Target),
        (b"GET /a\x7f", HeadError::Target),
        (b"GET /\xc3\xa9 ", HeadError::Target),
        (b"GET foo ", HeadError::Target),
        (b"GET /\r\n", HeadError::Target),
        (b"GET / HTTP/x", HeadError::Version),
        (b"GET / HTTP/1.1x", HeadError::Version),
        (b"GET / HTTP/2.0\r\n", HeadError::UnsupportedVersion),
        (b"\rX", HeadError::BareCr),
        (b"GET / HTTP/1.1\rX", HeadError::BareCr),
        (b"GET / HTTP/1.1\r\nA: b\rc\r\n", HeadError::BareCr),
        (b"GET / HTTP/1.1\r\n\rX", HeadError::BareCr),
        (b"GET / HTTP/1.1\r\n A: b\r\n", HeadError::WhitespaceAfterStartLine),
        (b"GET / HTTP/1.1\r\n: b\r\n", HeadError::HeaderName),
        (b"GET / HTTP/1.1\r\nA\r\n", HeadError::HeaderName),
        (b"GET / HTTP/1.1\r\nA(: b\r\n", HeadError::HeaderName),
        (b"GET / HTTP/1.1\r\nA : b\r\n", HeadError::WhitespaceBeforeColon),
        (b"GET / HTTP/1.1\r\nA: b\x00", HeadError::HeaderValue),
        (b"GET / HTTP/1.1\r\nA: b\x7f", HeadError::HeaderValue),
        (b"GET / HTTP/1.1\r\nA: b\r\n\tc\r\n", HeadError::ObsFold),
    ];
    for (buf, error) in cases {
        assert_eq!(error_of(buf), Some(error), "{:?}", String::from_utf8_lossy(buf));
        assert!(!error.reason().is_empty());
        assert_eq!(
            crate::http::error::HttpError::Head(error).status(),
            if error == HeadError::UnsupportedVersion { 505 } else { 400 }
        );
    }
}

#[test]
fn test_limits() {
    // A target of exactly the limit is fine; one byte more is 414, even before it ends.
    let target = format!("/{}", "a".repeat(MAX_REQUEST_TARGET - 1));
    let ok = format!("GET {target} HTTP/1.1\r\n\r\n");
    assert!(with_parse(ok.as_bytes(), |r| matches!(r, Ok(Status::Complete(_)))));
    let long = format!("GET {target}a");
    assert_eq!(error_of(long.as_bytes()), Some(HeadError::TargetTooLong));
    assert_eq!(crate::http::error::HttpError::Head(HeadError::TargetTooLong).status(), 414);

    // A head of exactly MAX_HEAD bytes is fine, even with more bytes behind it.
    let filler = |n: usize| format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "v".repeat(n));
    let exact = filler(MAX_HEAD - filler(0).len());
    assert_eq!(exact.len(), MAX_HEAD);
    let pipelined = format!("{exact}GET / HTTP/1.1\r\n");
    assert!(with_parse(pipelined.as_bytes(), |r| r.map(|s| s != Status::Partial) == Ok(true)));
    // One byte more is 431; while the head is unfinished, 431 as soon as the buffer passes it.
    let over = filler(MAX_HEAD - filler(0).len() + 1);
    assert_eq!(error_of(over.as_bytes()), Some(HeadError::HeadTooLarge));
    assert!(is_partial(&over.as_bytes()[..MAX_HEAD]));
    assert_eq!(error_of(&over.as_bytes()[..MAX_HEAD + 1]), Some(HeadError::HeadTooLarge));
    assert_eq!(error_of(&[b'\n'; MAX_HEAD + 1]), Some(HeadError::HeadTooLarge));

    // Fields: the caller's array and MAX_HEADERS both bound them.
    let three = b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
    let mut two = [Header::EMPTY; 2];
    assert_eq!(parse_head(three, &mut two).err(), Some(HeadError::TooManyHeaders));
    let mut many = [Header::EMPTY; MAX_HEADERS + 1];
    let mut buf = b"GET / HTTP/1.1\r\n".to_vec();
    buf.extend(b"A: b\r\n".repeat(MAX_HEADERS));
    buf.extend(b"\r\n");
    assert!(matches!(parse_head(&buf, &mut many), Ok(Status::Complete(_))));
    let mut more = buf.clone();
    more.splice(16..16, b"A: b\r\n".iter().copied());
    let mut many = [Header::EMPTY; MAX_HEADERS + 1];
    assert_eq!(parse_head(&more, &mut many).err(), Some(HeadError::TooManyHeaders));
    assert_eq!(crate::http::error::HttpError::Head(HeadError::TooManyHeaders).status(), 431);
}

#[test]
fn test_find_head_end() {
    assert_eq!(find_head_end(RFC9110_EXAMPLE, 0), Some(RFC9110_EXAMPLE.len()));
    assert_eq!(find_head_end(b"GET / HTTP/1.1\n\nrest", 0), Some(16));
    assert_eq!(find_head_end(b"GET / HTTP/1.1\r\n\nrest", 0), Some(17));
    assert_eq!(find_head_end(b"GET / HTTP/1.1\nA: b\n\r\nrest", 0), Some(22));
    assert_eq!(find_head_end(b"GET / HTTP/1.1\r\nA: b\r\n", 0), None);
    // Leading empty lines are not the end of a head.
    assert_eq!(find_head_end(b"\r\n\r\n\n", 0), None);
    assert_eq!(find_head_end(b"\r\n\r\nGET / HTTP/1.1\r\n\r\n", 0), Some(22));
    // Resuming: fed one byte at a time, each call resuming where the last left off, the
    // scan finds the same end as one call over the whole head.
    for head in [RFC9110_EXAMPLE, b"\n\nGET / HTTP/1.1\nA: b\n\n", b"GET / HTTP/1.1\r\n\r\n"] {
        let mut from = 0;
        let mut found = None;
        for len in 1..=head.len() {
            found = find_head_end(&head[..len], from);
            if found.is_some() {
                break;
            }
            from = len;
        }
        assert_eq!(found, Some(head.len()));
        assert_eq!(
            with_parse(head, |r| r.map(|s| matches!(s, Status::Complete((_, n)) if n == head.len()))),
            Ok(true)
        );
    }
}

/// No input panics, and a `Complete` head's length never passes the buffer or MAX_HEAD.
#[test]
fn test_random_mutations_never_panic() {
    let mut rng = Rng(42);
    let seeds = [RFC9110_EXAMPLE, b"POST /p?x HTTP/1.0\nA:\tb\n\n"];
    for _ in 0..50_000 {
        let mut buf = rng.pick(&seeds).to_vec();
        for _ in 0..=rng.below(3) {
            let at = rng.below(buf.len() + 1);
            let byte = *rng.pick(b"\r\n \t:/HT1.\x00\x7f\x80aZ");
            match rng.below(3) {
                0 => buf.insert(at, byte),
                1 if at < buf.len() => drop(buf.remove(at)),
                _ if at < buf.len() => buf[at] = byte,
                _ => {}
            }
        }
        with_parse(&buf, |r| {
            if let Ok(Status::Complete((_, len))) = r {
                assert!(len <= buf.len() && len <= MAX_HEAD);
                assert_eq!(find_head_end(&buf, 0), Some(len), "{:?}", String::from_utf8_lossy(&buf));
            }
        });
    }
}
