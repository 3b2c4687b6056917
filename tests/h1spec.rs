//! The public h1spec checks, reproduced against the `01_http` demo's echo service.
//!
//! Source: uNetworking/h1spec (https://github.com/uNetworking/h1spec), file `http_test.ts`,
//! the version with 33 cases (commit 57dd3139398c15f2ecd714b70e6af1309830e419), which is
//! the suite its README scores "uWS 33/33". Every request below is that file's request,
//! byte for byte; the names are its `description`s in snake case.
//!
//! How h1spec judges a case, and how this file does:
//! - it connects, writes the request in one write, and reads once, with a 500 ms timer;
//! - "expectedTimeout" cases (an incomplete request) pass if nothing arrives for 500 ms — the
//!   server must wait for the rest. A response or a close fails them (on a close, h1spec
//!   parses status 0). Here: [`Expect::Wait`], the same 500 ms.
//! - the others pass if the status code of the first response (`HTTP/1.x NNN`) lies in one of
//!   the case's ranges, and, when the case has an `expectedBody` and the status is 200, if
//!   the body equals it. A close or no response fails. Here: [`Expect::Status`], reading one
//!   whole response (h1spec reads the first segment only; a complete response is stricter).
//!   One deliberate leniency: the response may take up to `common::PATIENCE` instead of 500 ms, so
//!   a loaded test machine does not make the suite flaky.
//!
//! The subject must "echo back whatever HTTP body it gets, for all HTTP methods" — that is
//! `common::Echo`, the `Echo` of `demos/01_http.rs`. All cases share one server, as they
//! do in h1spec (which runs them in parallel against one subject).

mod common;

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use common::{show, start_echo, Client, ReadError};

/// What a case counts as a pass.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// No bytes and no close for 500 ms.
    Wait,
    /// A response whose status lies in one of the inclusive ranges; if the status is 200 and
    /// a body is given, the body must equal it.
    Status(&'static [(u16, u16)], Option<&'static str>),
}

/// h1spec's read timer.
const WAIT: Duration = Duration::from_millis(500);

struct Case {
    description: &'static str,
    request: &'static [u8],
    expect: Expect,
}

fn subject() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(start_echo)
}

/// Runs one case; `Err` says why it failed, in h1spec's terms.
fn run(case: &Case) -> Result<(), String> {
    let mut client = Client::connect(subject());
    client.send(case.request);
    match case.expect {
        Expect::Wait => {
            if client.stays_open(WAIT) {
                Ok(())
            } else if client.unread().is_empty() {
                Err("the server closed the connection instead of waiting for the rest".into())
            } else {
                Err(format!("the server answered instead of waiting: {}", show(client.unread())))
            }
        }
        Expect::Status(ranges, body) => {
            let response = match client.try_read_response(false) {
                Ok(response) => response,
                Err(ReadError::Closed { got }) if got.is_empty() => {
                    return Err("closed without a response".into())
                }
                Err(e) => return Err(e.to_string()),
            };
            let status = response.status;
            if !ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&status)) {
                return Err(format!(
                    "status {status}, expected one of {ranges:?}: {}",
                    show(&response.raw_head)
                ));
            }
            match body {
                Some(expected) if status == 200 && response.body != expected.as_bytes() => {
                    Err(format!("status 200 but body {}, expected {expected:?}", show(&response.body)))
                }
                _ => Ok(()),
            }
        }
    }
}

/// Declares the cases: one `#[test]` each, and the table [`CASES`] of all of them.
macro_rules! h1spec {
    ($($name:ident: $description:literal, $request:literal => $expect:expr;)*) => {
        const CASES: &[Case] = &[$(Case { description: $description, request: $request, expect: $expect }),*];
        $(
            #[test]
            fn $name() {
                let case = CASES.iter().find(|c| c.description == $description).unwrap();
                if let Err(why) = run(case) {
                    panic!("❌ {}: {why}\n   request: {}", case.description, show(case.request));
                }
            }
        )*
    };
}

const OK: &[(u16, u16)] = &[(200, 299)];
const CLIENT_ERROR: &[(u16, u16)] = &[(400, 499)];
const ANY_ERROR: &[(u16, u16)] = &[(400, 499), (500, 599)];

h1spec! {
    fragmented_method: "Fragmented method", b"G" => Expect::Wait;
    fragmented_url_1: "Fragmented URL 1", b"GET " => Expect::Wait;
    fragmented_url_2: "Fragmented URL 2", b"GET /hello" => Expect::Wait;
    fragmented_url_3: "Fragmented URL 3", b"GET /hello " => Expect::Wait;
    fragmented_http_version: "Fragmented HTTP version", b"GET /hello HTTP" => Expect::Wait;
    fragmented_request_line: "Fragmented request line", b"GET /hello HTTP/1.1" => Expect::Wait;
    fragmented_request_line_newline_1: "Fragmented request line newline 1",
        b"GET /hello HTTP/1.1\r" => Expect::Wait;
    fragmented_request_line_newline_2: "Fragmented request line newline 2",
        b"GET /hello HTTP/1.1\r\n" => Expect::Wait;
    fragmented_field_name: "Fragmented field name", b"GET /hello HTTP/1.1\r\nHos" => Expect::Wait;
    fragmented_field_value_1: "Fragmented field value 1", b"GET /hello HTTP/1.1\r\nHost:" => Expect::Wait;
    fragmented_field_value_2: "Fragmented field value 2", b"GET /hello HTTP/1.1\r\nHost: " => Expect::Wait;
    fragmented_field_value_3: "Fragmented field value 3",
        b"GET /hello HTTP/1.1\r\nHost: localhost" => Expect::Wait;
    fragmented_field_value_4: "Fragmented field value 4",
        b"GET /hello HTTP/1.1\r\nHost: localhost\r" => Expect::Wait;
    fragmented_request: "Fragmented request", b"GET /hello HTTP/1.1\r\nHost: localhost\r\n" => Expect::Wait;
    fragmented_request_termination: "Fragmented request termination",
        b"GET /hello HTTP/1.1\r\nHost: localhost\r\n\r" => Expect::Wait;
    request_without_http_version: "Request without HTTP version",
        b"GET / \r\n\r\n" => Expect::Status(&[(400, 599)], None);
    request_with_expect_header: "Request with Expect header",
        b"GET / HTTP/1.1\r\nHost: example.com\r\nExpect: 100-continue\r\n\r\n"
        => Expect::Status(&[(100, 100), (200, 299)], None);
    valid_get_request: "Valid GET request",
        b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n" => Expect::Status(OK, None);
    valid_get_request_with_edge_cases: "Valid GET request with edge cases",
        b"GET / HTTP/1.1\r\nhoSt:\texample.com\r\nempty:\r\n\r\n" => Expect::Status(OK, None);
    invalid_header_characters: "Invalid header characters",
        b"GET / HTTP/1.1\r\nHost: example.com\r\nX-Invalid[]: test\r\n\r\n" => Expect::Status(CLIENT_ERROR, None);
    missing_host_header: "Missing Host header",
        b"GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\n" => Expect::Status(CLIENT_ERROR, None);
    multiple_host_headers: "Multiple Host headers",
        b"GET / HTTP/1.1\r\nHost: example.com\r\nHost: example.org\r\n\r\n" => Expect::Status(CLIENT_ERROR, None);
    overflowing_negative_content_length_header: "Overflowing negative Content-Length header",
        b"GET / HTTP/1.1\r\nHost: example.com\r\nContent-Length: -123456789123456789123456789\r\n\r\n"
        => Expect::Status(CLIENT_ERROR, None);
    negative_content_length_header: "Negative Content-Length header",
        b"GET / HTTP/1.1\r\nHost: example.com\r\nContent-Length: -1234\r\n\r\n" => Expect::Status(CLIENT_ERROR, None);
    non_numeric_content_length_header: "Non-numeric Content-Length header",
        b"GET / HTTP/1.1\r\nHost: example.com\r\nContent-Length: abc\r\n\r\n" => Expect::Status(CLIENT_ERROR, None);
    empty_header_value: "Empty header value",
        b"GET / HTTP/1.1\r\nHost: example.com\r\nX-Empty-Header: \r\n\r\n" => Expect::Status(OK, None);
    header_containing_invalid_control_character: "Header containing invalid control character",
        b"GET / HTTP/1.1\r\nHost: example.com\r\nX-Bad-Control-Char: test\x07\r\n\r\n"
        => Expect::Status(CLIENT_ERROR, None);
    invalid_http_version: "Invalid HTTP version",
        b"GET / HTTP/9.9\r\nHost: example.com\r\n\r\n" => Expect::Status(ANY_ERROR, None);
    invalid_prefix_of_request: "Invalid prefix of request",
        b"Extra lineGET / HTTP/1.1\r\nHost: example.com\r\n\r\n" => Expect::Status(ANY_ERROR, None);
    invalid_line_ending: "Invalid line ending",
        b"GET / HTTP/1.1\r\nHost: example.com\r\n\rSome-Header: Test\r\n\r\n" => Expect::Status(CLIENT_ERROR, None);
    valid_post_request_with_body: "Valid POST request with body",
        b"POST / HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n\r\nhello"
        => Expect::Status(&[(200, 299), (404, 404)], Some("hello"));
    chunked_transfer_encoding: "Chunked Transfer-Encoding",
        b"POST / HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\nc\r\nHellO world1\r\n0\r\n\r\n"
        => Expect::Status(OK, Some("HellO world1"));
    conflicting_transfer_encoding_and_content_length_in_varying_case:
        "Conflicting Transfer-Encoding and Content-Length in varying case",
        b"POST / HTTP/1.1\r\nHost: example.com\r\ncontent-LengtH: 5\r\nTransFer-Encoding: chunked\r\n\r\nc\r\nHellO world1\r\n0\r\n\r\n"
        => Expect::Status(&[(400, 499), (200, 299)], Some("HellO world1"));
}

/// The table is h1spec's whole suite, and every description is unique (the tests find their
/// case by it).
#[test]
fn the_suite_has_h1specs_33_cases() {
    assert_eq!(CASES.len(), 33);
    for (i, case) in CASES.iter().enumerate() {
        assert!(
            CASES[..i].iter().all(|c| c.description != case.description),
            "duplicate {:?}",
            case.description
        );
    }
}

/// All 33 at once, as h1spec runs them: prints h1spec's report and fails listing every
/// failing case (the per-case tests above say the same one by one).
#[test]
fn all_33_cases_in_parallel_like_h1spec() {
    let results: Vec<(&str, Result<(), String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> =
            CASES.iter().map(|case| (case.description, scope.spawn(move || run(case)))).collect();
        handles
            .into_iter()
            .map(|(name, h)| (name, h.join().unwrap_or_else(|_| Err("panicked".into()))))
            .collect()
    });
    let failed: Vec<String> = results
        .iter()
        .filter_map(|(name, r)| r.as_ref().err().map(|why| format!("❌ {name}: {why}")))
        .collect();
    for (name, result) in &results {
        if result.is_ok() {
            println!("✅ {name}");
        }
    }
    println!("\n{} out of {} tests passed.", results.len() - failed.len(), results.len());
    assert!(failed.is_empty(), "{} h1spec case(s) failed:\n{}", failed.len(), failed.join("\n"));
}
