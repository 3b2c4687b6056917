//! Our request-head parser beside `httparse`, on the same realistic requests.
//!
//! `cargo bench --bench http_parser`. Each group is one request; inside it, `pushlab` and
//! `httparse` parse the same bytes into caller-owned arrays of the same size, and criterion
//! reports both throughputs (`Throughput::Bytes`) side by side.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pushlab::wire::request::{parse_head, Header};
use pushlab::wire::Status;

/// A Chrome navigation to a page: 15 header fields, a cookie.
const CHROME_GET: &[u8] = b"GET /demos/compare.html?topic=chat HTTP/1.1\r\n\
Host: localhost:8080\r\n\
Connection: keep-alive\r\n\
sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n\
sec-ch-ua-mobile: ?0\r\n\
sec-ch-ua-platform: \"Linux\"\r\n\
Upgrade-Insecure-Requests: 1\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7\r\n\
Sec-Fetch-Site: same-origin\r\n\
Sec-Fetch-Mode: navigate\r\n\
Sec-Fetch-User: ?1\r\n\
Sec-Fetch-Dest: document\r\n\
Referer: http://localhost:8080/\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Accept-Language: en-GB,en-US;q=0.9,en;q=0.8\r\n\
Cookie: session=6f1c2b0e9d8a4c7f; theme=dark; _ga=GA1.1.1234567890.1700000000\r\n\r\n";

/// A `fetch()` POST from a page, publishing a small message.
const FETCH_POST: &[u8] = b"POST /publish?topic=chat HTTP/1.1\r\n\
Host: localhost:8080\r\n\
Connection: keep-alive\r\n\
Content-Length: 27\r\n\
sec-ch-ua-platform: \"Linux\"\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n\
sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n\
Content-Type: text/plain;charset=UTF-8\r\n\
sec-ch-ua-mobile: ?0\r\n\
Accept: */*\r\n\
Origin: http://localhost:8080\r\n\
Sec-Fetch-Site: same-origin\r\n\
Sec-Fetch-Mode: cors\r\n\
Sec-Fetch-Dest: empty\r\n\
Referer: http://localhost:8080/demos/short-poll.html\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Accept-Language: en-GB,en-US;q=0.9,en;q=0.8\r\n\r\n";

/// What `curl http://localhost:8080/poll?topic=chat` sends.
const CURL_GET: &[u8] = b"GET /poll?topic=chat&since=41 HTTP/1.1\r\n\
Host: localhost:8080\r\n\
User-Agent: curl/8.5.0\r\n\
Accept: */*\r\n\r\n";

/// A browser's WebSocket opening handshake (RFC 6455 §4.1).
const WS_UPGRADE: &[u8] = b"GET /ws?topic=chat HTTP/1.1\r\n\
Host: localhost:8080\r\n\
Connection: Upgrade\r\n\
Pragma: no-cache\r\n\
Cache-Control: no-cache\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n\
Upgrade: websocket\r\n\
Origin: http://localhost:8080\r\n\
Sec-WebSocket-Version: 13\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Accept-Language: en-GB,en-US;q=0.9,en;q=0.8\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n";

/// Header slots for both parsers.
const SLOTS: usize = 32;

fn bench_parsers(c: &mut Criterion) {
    for (name, request) in [
        ("chrome_get", CHROME_GET),
        ("fetch_post", FETCH_POST),
        ("curl_get", CURL_GET),
        ("websocket_upgrade", WS_UPGRADE),
    ] {
        // Both must accept the whole request, or the comparison means nothing.
        let mut headers = [Header::EMPTY; SLOTS];
        assert!(
            matches!(parse_head(request, &mut headers), Ok(Status::Complete((_, n))) if n == request.len())
        );
        let mut headers = [httparse::EMPTY_HEADER; SLOTS];
        assert_eq!(
            httparse::Request::new(&mut headers).parse(request),
            Ok(httparse::Status::Complete(request.len()))
        );

        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Bytes(request.len() as u64));
        group.bench_function("pushlab", |b| {
            let mut headers = [Header::EMPTY; SLOTS];
            b.iter(|| match parse_head(black_box(request), &mut headers) {
                Ok(Status::Complete((head, len))) => black_box((head.headers.len(), len)),
                _ => unreachable!(),
            })
        });
        group.bench_function("httparse", |b| {
            let mut headers = [httparse::EMPTY_HEADER; SLOTS];
            b.iter(|| {
                let mut req = httparse::Request::new(&mut headers);
                match req.parse(black_box(request)) {
                    Ok(httparse::Status::Complete(len)) => black_box((req.headers.len(), len)),
                    _ => unreachable!(),
                }
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench_parsers);
criterion_main!(benches);
