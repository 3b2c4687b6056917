//! Instructions per WebSocket echo round trip, for `valgrind --tool=callgrind`, which counts
//! instructions rather than seconds: the same figure on a quiet or a busy machine, so two
//! builds can be compared exactly (chapter 05's echo cost, issue notes).
//!
//! ```text
//! cargo bench --bench echo_instructions --no-run        # prints the binary's path
//! N=0    valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/deps/echo_instructions-…
//! N=6000 valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/deps/echo_instructions-…
//! ```
//!
//! (Collected at N=6000 − collected at N=0) ÷ 6000 is the cost of one round trip, client and
//! server together, start-up excluded. Run without valgrind it prints the wall time too.
//! pushlab runs in this process on loopback; the client is a plain blocking `TcpStream`
//! sending one masked 16-byte text frame and reading its 18-byte echo, `N` times.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Instant;

/// `Text` "abcdabcdabcdabcd", masked with key 1 2 3 4 (RFC 6455 §5.3).
fn frame() -> Vec<u8> {
    let key = [1u8, 2, 3, 4];
    let mut frame = vec![0x81, 0x80 | 16];
    frame.extend_from_slice(&key);
    frame.extend(b"abcdabcdabcdabcd".iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    frame
}

fn main() {
    let n: usize = std::env::var("N").ok().and_then(|v| v.parse().ok()).unwrap_or(6000);
    let config =
        pushlab::config::Config { addr: "127.0.0.1:0".parse().expect("an address"), ..Default::default() };
    let addr = pushlab::spawn(config).expect("pushlab starts");
    let mut s = TcpStream::connect(addr).expect("connects");
    s.set_nodelay(true).expect("TCP_NODELAY");
    s.write_all(
        b"GET /echo HTTP/1.1\r\nHost: pushlab\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .expect("handshake sent");
    let mut buf = [0u8; 4096];
    let mut head = Vec::new();
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let got = s.read(&mut buf).expect("101 arrives");
        assert!(got > 0, "closed during the handshake");
        head.extend_from_slice(&buf[..got]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&head));
    let frame = frame();
    let started = Instant::now();
    for _ in 0..n {
        s.write_all(&frame).expect("frame sent");
        let mut got = 0;
        while got < 18 {
            let read = s.read(&mut buf[got..18]).expect("echo arrives");
            assert!(read > 0, "closed mid-echo");
            got += read;
        }
        assert_eq!(&buf[2..18], b"abcdabcdabcdabcd");
    }
    println!("echo_instructions: {n} round trips in {:?}", started.elapsed());
}
