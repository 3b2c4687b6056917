//! What WebSocket costs on pushlab (chapter 05, "Real world"): echo round-trip latency,
//! large-message throughput, framing overhead, and push fan-out to many `/ws` subscribers.
//!
//! ```text
//! cargo bench --bench ws_echo
//! ```
//!
//! Everything runs over loopback against a server started in-process (`pushlab::spawn`),
//! with blocking clients on this thread: numbers include both sides' system calls, and on a
//! small machine the client competes with the server for CPU. Plain `harness = false` with
//! `Instant`, like `benches/poll_costs.rs`: the quantities are wall-clock latencies and rates
//! over real sockets, not the nanosecond loops criterion is for.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use pushlab::config::Config;
use pushlab::wire::ws::frame::{write_masked_frame, FrameHeader, OpCode};
use pushlab::wire::Status;

const ROUND_TRIPS: usize = 20_000;
const LARGE: usize = 1024 * 1024;
const LARGE_ROUNDS: usize = 50;
const SUBSCRIBERS: usize = 1_000;
const FAN_OUT_MESSAGES: usize = 200;

/// A blocking client: handshake, masked frames out, whole frames in.
struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
    start: usize,
}

impl Client {
    fn connect(addr: SocketAddr, path: &str) -> Client {
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream.set_nodelay(true).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        .unwrap();
        let mut client = Client { stream, buf: Vec::with_capacity(64 * 1024), start: 0 };
        let end = loop {
            if let Some(at) = client.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            client.fill();
        };
        assert!(client.buf.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&client.buf[..end]));
        client.start = end;
        client
    }

    fn fill(&mut self) {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        let len = self.buf.len();
        self.buf.resize(len + 64 * 1024, 0);
        let n = self.stream.read(&mut self.buf[len..]).expect("read (a stall shows up as a timeout)");
        assert!(n > 0, "server closed the connection");
        self.buf.truncate(len + n);
    }

    /// The next frame: (opcode, payload length, bytes on the wire); the payload is skipped.
    fn frame(&mut self) -> (OpCode, usize, usize) {
        loop {
            if let Ok(Status::Complete((h, len))) = FrameHeader::parse(&self.buf[self.start..]) {
                let total = len + h.payload_len as usize;
                if self.buf.len() - self.start >= total {
                    self.start += total;
                    return (h.opcode, h.payload_len as usize, total);
                }
                if self.buf.len() - self.start + 64 * 1024 > self.buf.capacity() {
                    self.buf.reserve(total);
                }
            }
            self.fill();
        }
    }
}

fn frame(opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 14);
    write_masked_frame(&mut out, true, opcode, payload, [0x37, 0xfa, 0x21, 0x3d]);
    out
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn round_trips(addr: SocketAddr) {
    let mut client = Client::connect(addr, "/echo");
    let message = frame(OpCode::Text, b"0123456789abcdef");
    let mut samples = Vec::with_capacity(ROUND_TRIPS);
    let started = Instant::now();
    for _ in 0..ROUND_TRIPS {
        let t = Instant::now();
        client.stream.write_all(&message).unwrap();
        let (opcode, len, _) = client.frame();
        assert_eq!((opcode, len), (OpCode::Text, 16));
        samples.push(t.elapsed());
    }
    let total = started.elapsed();
    samples.sort();
    println!(
        "echo round trip, 16-byte text, {ROUND_TRIPS} sequential: median {:.1} µs, p99 {:.1} µs, max {:.1} µs; {:.0} round trips/s",
        percentile(&samples, 0.5).as_secs_f64() * 1e6,
        percentile(&samples, 0.99).as_secs_f64() * 1e6,
        samples[samples.len() - 1].as_secs_f64() * 1e6,
        ROUND_TRIPS as f64 / total.as_secs_f64()
    );
}

fn large_echo(addr: SocketAddr) {
    let mut client = Client::connect(addr, "/echo");
    let payload: Vec<u8> = (0..LARGE as u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let message = frame(OpCode::Binary, &payload);
    let mut best = Duration::MAX;
    let started = Instant::now();
    for _ in 0..LARGE_ROUNDS {
        let t = Instant::now();
        client.stream.write_all(&message).unwrap();
        let (opcode, len, _) = client.frame();
        assert_eq!((opcode, len), (OpCode::Binary, LARGE));
        best = best.min(t.elapsed());
    }
    let total = started.elapsed();
    let mib = (2 * LARGE * LARGE_ROUNDS) as f64 / (1024.0 * 1024.0);
    println!(
        "echo 1 MiB binary x {LARGE_ROUNDS}: {:.0} MiB/s through the server (in + out), best round trip {:.2} ms",
        mib / total.as_secs_f64(),
        best.as_secs_f64() * 1e3
    );
}

fn overhead() {
    // RFC 6455 §5.2: 2 bytes of header, +2 (126..=65535) or +8 (longer); +4 for a client's mask.
    print!("framing overhead (server → client / client → server), bytes per message:");
    for len in [16usize, 125, 126, 1024, 65_535, 65_536] {
        let mut out = Vec::new();
        pushlab::wire::ws::frame::write_frame(&mut out, true, OpCode::Text, &vec![b'x'; len]);
        let server = out.len() - len;
        let client = frame(OpCode::Text, &vec![b'x'; len]).len() - len;
        print!(" {len} B: {server}/{client};");
    }
    println!();
}

/// `apply_mask` (eight bytes at a time) against `apply_mask_bytewise` (RFC 6455 §5.3 as a
/// loop), unmasking 1 MiB in place.
fn mask_speed() {
    use pushlab::wire::ws::mask::{apply_mask, apply_mask_bytewise};
    let mut buf = vec![0x5au8; LARGE];
    let mut rate = |f: fn(&mut [u8], [u8; 4], usize)| {
        let rounds = 200;
        let t = Instant::now();
        for i in 0..rounds {
            f(std::hint::black_box(&mut buf[..]), [0x37, 0xfa, 0x21, 0x3d], i);
        }
        (rounds * LARGE) as f64 / (1024.0 * 1024.0 * 1024.0) / t.elapsed().as_secs_f64()
    };
    let (word, byte) = (rate(apply_mask), rate(apply_mask_bytewise));
    println!("unmasking 1 MiB: apply_mask {word:.1} GiB/s, apply_mask_bytewise {byte:.1} GiB/s");
}

fn publish(addr: SocketAddr, topic: &str, text: &str) {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(stream, "POST /publish?topic={topic} HTTP/1.1\r\nHost: b\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}", text.len())
        .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    assert!(response.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&response));
}

fn fan_out(addr: SocketAddr) {
    let mut subscribers: Vec<Client> =
        (0..SUBSCRIBERS).map(|_| Client::connect(addr, "/ws?topic=bench")).collect();
    // Each publish is its own `POST /publish` (64-byte message); every subscriber gets a copy
    // of the same shared frame (`src/outq.rs`), read back here one socket at a time.
    let text = "x".repeat(64);
    let started = Instant::now();
    for _ in 0..FAN_OUT_MESSAGES {
        publish(addr, "bench", &text);
    }
    let published = started.elapsed();
    let mut wire_bytes = 0;
    for sub in &mut subscribers {
        for _ in 0..FAN_OUT_MESSAGES {
            let (opcode, _, bytes) = sub.frame();
            assert_eq!(opcode, OpCode::Text);
            wire_bytes += bytes;
        }
    }
    let total = started.elapsed();
    let delivered = SUBSCRIBERS * FAN_OUT_MESSAGES;
    println!(
        "fan-out: {FAN_OUT_MESSAGES} messages x {SUBSCRIBERS} /ws subscribers = {delivered} frames ({:.1} MiB) in {:.0} ms \
         (publishing took {:.0} ms): {:.0} frames/s, {:.0} bytes per frame",
        wire_bytes as f64 / (1024.0 * 1024.0),
        total.as_secs_f64() * 1e3,
        published.as_secs_f64() * 1e3,
        delivered as f64 / total.as_secs_f64(),
        wire_bytes as f64 / delivered as f64
    );
}

fn main() {
    // `cargo bench` passes `--bench`; there are no options to parse.
    let config = Config { addr: "127.0.0.1:0".parse().unwrap(), ..Config::default() };
    let addr = pushlab::spawn(config).expect("server starts");
    println!("pushlab (in-process) on {addr}");
    overhead();
    mask_speed();
    round_trips(addr);
    fan_out(addr);
    large_echo(addr);
}
