//! Chapter 10 demo: a `/ws` push with permessage-deflate (RFC 7692) negotiated, captured off
//! the socket and taken apart bit by bit (RFC 1951 §3.2), then what compression buys on a
//! few realistic messages and what it costs in memory.
//!
//! It starts pushlab in-process (or uses `--addr`), opens `/ws?topic=demo` three times over
//! plain `TcpStream`s — offering `permessage-deflate; client_max_window_bits`, offering
//! `permessage-deflate; server_max_window_bits=9`, and offering nothing — publishes with
//! `POST /publish`, and reads the frames each one is pushed. The DEFLATE decoder below is a
//! second, slow one written for printing (puff.c's bit-at-a-time decode); pushlab's own
//! `Inflater` checks it.
//!
//! ```text
//! cargo run --example 10_deflate
//! cargo run --example 10_deflate -- --addr 127.0.0.1:8080
//! ```

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};

use pushlab::config::Config;
use pushlab::limits::DEFLATE_POOL;
use pushlab::transport::permessage::PerMessage;
use pushlab::wire::deflate::{DeflateScratch, InflateScratch, Inflater, TAIL};

const MESSAGE: &str = "Hello, Hello! Hello, world";
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// One WebSocket client: its socket and the bytes read but not yet used.
struct Ws {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Ws {
    /// Connects and upgrades, offering `extensions`; returns the client and the 101's head.
    fn open(addr: SocketAddr, extensions: &str) -> io::Result<(Ws, String)> {
        let mut ws = Ws { stream: TcpStream::connect(addr)?, buf: Vec::new() };
        let offer = match extensions {
            "" => String::new(),
            e => format!("Sec-WebSocket-Extensions: {e}\r\n"),
        };
        write!(
            ws.stream,
            "GET /ws?topic=demo HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n{offer}\r\n"
        )?;
        let end = loop {
            if let Some(i) = ws.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            ws.fill()?;
        };
        let head = String::from_utf8_lossy(&ws.buf[..end]).into_owned();
        ws.buf.drain(..end);
        Ok((ws, head))
    }

    fn fill(&mut self) -> io::Result<()> {
        let mut chunk = [0u8; 4096];
        let n = self.stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    /// The next whole frame (a server's frames are unmasked): its header bytes and payload.
    fn frame(&mut self) -> io::Result<(Vec<u8>, Vec<u8>)> {
        while self.buf.len() < 2 {
            self.fill()?;
        }
        let header_len = match self.buf[1] & 0x7F {
            126 => 4,
            127 => 10,
            _ => 2,
        };
        while self.buf.len() < header_len {
            self.fill()?;
        }
        let len = match header_len {
            2 => usize::from(self.buf[1] & 0x7F),
            4 => usize::from(u16::from_be_bytes([self.buf[2], self.buf[3]])),
            _ => u64::from_be_bytes(self.buf[2..10].try_into().unwrap()) as usize,
        };
        while self.buf.len() < header_len + len {
            self.fill()?;
        }
        let payload = self.buf[header_len..header_len + len].to_vec();
        Ok((self.buf.drain(..header_len + len).take(header_len).collect(), payload))
    }
}

/// `POST /publish?topic=demo` with `text`, on a connection of its own.
fn publish(addr: SocketAddr, text: &str) -> io::Result<()> {
    let mut conn = TcpStream::connect(addr)?;
    let len = text.len();
    write!(conn, "POST /publish?topic=demo HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {len}\r\n")?;
    write!(conn, "Connection: close\r\n\r\n{text}")?;
    let mut answer = String::new();
    conn.read_to_string(&mut answer)?;
    match answer.starts_with("HTTP/1.1 200") {
        true => Ok(()),
        false => Err(io::Error::other(answer)),
    }
}

/// Bits of a DEFLATE stream, least-significant first (RFC 1951 §3.1.1), with the position.
struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl BitReader<'_> {
    /// An `n`-bit number, its first bit least significant.
    fn take(&mut self, n: usize) -> u32 {
        (0..n).fold(0, |v, i| {
            let bit = u32::from(self.data[(self.pos) / 8] >> (self.pos % 8) & 1);
            self.pos += 1;
            v | bit << i
        })
    }

    /// One Huffman code, sent from its most-significant bit (puff.c's `decode`): the symbol
    /// and the bits as they came.
    fn decode(&mut self, code: &Code) -> (usize, String) {
        let (mut value, mut first, mut index, mut bits) = (0, 0, 0, String::new());
        for len in 1..16 {
            let bit = self.take(1) as usize;
            bits.push(if bit == 1 { '1' } else { '0' });
            value |= bit;
            let count = code.count[len];
            if value < first + count {
                return (code.symbol[index + value - first], bits);
            }
            index += count;
            first = (first + count) << 1;
            value <<= 1;
        }
        panic!("no code for {bits}");
    }
}

/// A canonical code (RFC 1951 §3.2.2) as puff.c keeps one: codes per length, symbols in order.
struct Code {
    count: [usize; 16],
    symbol: Vec<usize>,
}

fn code(lengths: &[u8]) -> Code {
    let mut count = [0; 16];
    lengths.iter().for_each(|&l| count[usize::from(l)] += 1);
    count[0] = 0;
    let mut symbol: Vec<usize> = (0..lengths.len()).filter(|&s| lengths[s] != 0).collect();
    symbol.sort_by_key(|&s| lengths[s]);
    Code { count, symbol }
}

// RFC 1951 §3.2.5 and §3.2.7.
const LENGTH_BASE: [u32; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195,
    227, 258,
];
const LENGTH_EXTRA: [usize; 29] =
    [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE: [u32; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
    4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [usize; 30] =
    [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
const ORDER: [usize; 19] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/// Decodes `stream` (a message with its tail appended), printing every step; with `brief`,
/// a dynamic block's data is summed up. Returns the inflated bytes.
fn annotate(stream: &[u8], brief: bool) -> Vec<u8> {
    let mut r = BitReader { data: stream, pos: 0 };
    let mut out: Vec<u8> = Vec::new();
    while r.pos < 8 * stream.len() {
        let at = r.pos;
        let (last, kind) = (r.take(1), r.take(2));
        let name = ["stored", "fixed Huffman", "dynamic Huffman", "reserved"][kind as usize];
        println!("bit {at:>4}: BFINAL={last} BTYPE={kind:02b}  {name} block");
        let (litlen, dist) = match kind {
            0 => {
                r.pos = r.pos.div_ceil(8) * 8;
                let (len, nlen) = (r.take(16), r.take(16));
                println!("bit {:>4}: (pad to byte) LEN={len:04x} NLEN={nlen:04x}", r.pos - 32);
                out.extend((0..len).map(|_| r.take(8) as u8));
                if len == 0 {
                    println!("          the empty stored block of a sync flush: 00 00 ff ff");
                }
                continue;
            }
            1 => {
                let mut l = [8u8; 288];
                l[144..256].fill(9);
                l[256..280].fill(7);
                (code(&l), code(&[5; 30]))
            }
            _ => dynamic_header(&mut r),
        };
        let (mut literals, mut lit_from, mut copies, mut n_literals) = (Vec::new(), r.pos, 0, 0);
        loop {
            let at = r.pos;
            let (symbol, bits) = r.decode(&litlen);
            if symbol < 256 && out.len() < 3 && !brief {
                println!("bit {at:>4}: {bits:<9} literal {:?} ({symbol})", symbol as u8 as char);
                out.push(symbol as u8);
                continue;
            }
            if symbol < 256 {
                if literals.is_empty() {
                    lit_from = at;
                }
                literals.push(symbol as u8);
                out.push(symbol as u8);
                n_literals += 1;
                continue;
            }
            if !literals.is_empty() && !brief {
                let text = String::from_utf8_lossy(&literals);
                println!("bit {lit_from:>4}: {:>2} literals {text:?}", literals.len());
            }
            literals.clear();
            if symbol == 256 {
                println!("bit {at:>4}: {bits:<9} end of block (256){}", if brief { ", after:" } else { "" });
                break;
            }
            let i = symbol - 257;
            let length = LENGTH_BASE[i] + r.take(LENGTH_EXTRA[i]);
            let (d, dbits) = r.decode(&dist);
            let distance = DIST_BASE[d] + r.take(DIST_EXTRA[d]);
            let from = out.len() - distance as usize;
            (0..length as usize).for_each(|k| out.push(out[from + k]));
            copies += 1;
            if !brief {
                let copied = String::from_utf8_lossy(&out[out.len() - length as usize..]);
                println!(
                    "bit {at:>4}: {bits:<9} length {length} (symbol {symbol}, {} extra), {dbits} distance \
                     {distance} (symbol {d}, {} extra) → {copied:?}",
                    LENGTH_EXTRA[i], DIST_EXTRA[d]
                );
            }
        }
        if brief {
            println!("          {} bytes out of {n_literals} literals and {copies} copies", out.len());
        }
    }
    out
}

/// RFC 1951 §3.2.7: HLIT, HDIST, HCLEN, the code-length code, then both codes' lengths.
fn dynamic_header(r: &mut BitReader) -> (Code, Code) {
    let at = r.pos;
    let (hlit, hdist, hclen) = (r.take(5) as usize + 257, r.take(5) as usize + 1, r.take(4) as usize + 4);
    println!("bit {at:>4}: HLIT={hlit} HDIST={hdist} HCLEN={hclen}");
    let mut cl = [0u8; 19];
    ORDER[..hclen].iter().for_each(|&s| cl[s] = r.take(3) as u8);
    println!("bit {:>4}: code-length code lengths (symbols 0..=18): {cl:?}", r.pos - 3 * hclen);
    let (cl_code, at) = (code(&cl), r.pos);
    let mut lengths: Vec<u8> = Vec::new();
    let mut runs = [0; 19];
    while lengths.len() < hlit + hdist {
        let (symbol, _) = r.decode(&cl_code);
        runs[symbol] += 1;
        let (value, n) = match symbol {
            0..=15 => (symbol as u8, 1),
            16 => (*lengths.last().unwrap(), 3 + r.take(2)),
            17 => (0, 3 + r.take(3)),
            _ => (0, 11 + r.take(7)),
        };
        lengths.extend(std::iter::repeat_n(value, n as usize));
    }
    println!(
        "bit {at:>4}: {hlit} + {hdist} code lengths in {} bits: {} repeats (16), {} zero runs (17, 18)",
        r.pos - at,
        runs[16],
        runs[17] + runs[18]
    );
    for (name, l) in [("literal/length", &lengths[..hlit]), ("distance", &lengths[hlit..])] {
        let per_len: Vec<String> = (1..16)
            .filter_map(|b| {
                Some(l.iter().filter(|&&x| x == b).count()).filter(|&n| n > 0).map(|n| format!("{n}×{b}"))
            })
            .collect();
        println!("          {name} codes, count×bits: {}", per_len.join(" "));
    }
    (code(&lengths[..hlit]), code(&lengths[hlit..]))
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .chunks(16)
        .map(|c| c.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n  ")
}

/// Chat messages as an application would publish them: JSON, its field names repeated.
fn chat(n: usize) -> String {
    let texts = [
        "Are we still on for the review at three?",
        "Yes, room 4B. I'll bring the slides.",
        "Running five minutes late, start without me.",
        "The build is green again, merging now.",
        "Can someone look at the flaky test in CI?",
    ];
    let user = |i: usize| ["alice", "bob", "carol", "dave"][i % 4];
    let one = |i| {
        format!(r#"{{"user":"{}","room":"general","id":{},"text":"{}"}}"#, user(i), 1000 + i, texts[i % 5])
    };
    match n {
        1 => one(0),
        _ => format!("[{}]", (0..n).map(one).collect::<Vec<_>>().join(",")),
    }
}

/// Base64 of pseudo-random bytes (Knuth's LCG, top 6 bits): an already-compressed attachment.
fn random_base64(n: usize) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let next = |x: &mut u64, _| {
        *x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        Some(ALPHABET[(*x >> 58) as usize] as char)
    };
    (0..n).scan(1u64, next).collect()
}

fn main() -> io::Result<()> {
    let addr = match std::env::args().skip_while(|a| a != "--addr").nth(1) {
        Some(a) => a.parse().map_err(io::Error::other)?,
        None => pushlab::spawn(Config { addr: "127.0.0.1:0".parse().unwrap(), ..Default::default() })?,
    };
    let (mut big, head) = Ws::open(addr, "permessage-deflate; client_max_window_bits")?;
    let (mut small, _) = Ws::open(addr, "permessage-deflate; server_max_window_bits=9")?;
    let (mut plain, _) = Ws::open(addr, "")?;
    println!(
        "== the handshake's answer (offer: permessage-deflate; client_max_window_bits)\n{}",
        head.trim_end()
    );

    publish(addr, MESSAGE)?;
    let (header, payload) = big.frame()?;
    let (_, json) = plain.frame()?;
    small.frame()?;
    let (b0, b1) = (header[0], header[1]);
    println!(
        "\n== the pushed frame: {} header bytes {:02x?}, {} payload bytes",
        header.len(),
        header,
        payload.len()
    );
    let bit = |byte: u8, n: u8| byte >> n & 1;
    let (fin, rsv) = (bit(b0, 7), [bit(b0, 6), bit(b0, 5), bit(b0, 4)]);
    println!("FIN={fin} RSV1,2,3={rsv:?} opcode={:x} (text) MASK={} length={}", b0 & 0xF, b1 >> 7, b1 & 0x7F);
    println!("payload:\n  {}", hex(&payload));
    println!("the same message uncompressed ({} bytes): {}", json.len(), String::from_utf8_lossy(&json));

    println!("\n== the DEFLATE bits, with 00 00 ff ff appended (RFC 7692 §7.2.2)");
    let stream = [&payload[..], &TAIL].concat();
    let ours = annotate(&stream, false);
    let mut inflated = Vec::new();
    Inflater::new(15).inflate(&stream, &mut inflated, 1 << 20).map_err(io::Error::other)?;
    assert_eq!((&ours, &inflated), (&json, &json), "both decoders give the JSON");
    println!("pushlab's Inflater agrees: {} bytes, equal to the uncompressed push", inflated.len());

    println!("\n== bytes per message on the wire: frame header + payload");
    println!(
        "{:<24} {:>5} {:>5} {:>6} {:>7} {:>6} {:>6}",
        "data", "bytes", "JSON", "plain", "15-bit", "9-bit", "15/plain"
    );
    let samples = [
        ("a chat line", "on my way, 5 minutes".to_string()),
        ("a chat message as JSON", chat(1)),
        ("5 of them, a JSON array", chat(5)),
        ("20 of them", chat(20)),
        ("random base64", random_base64(1000)),
    ];
    let mut last_big = Vec::new();
    for (name, data) in &samples {
        publish(addr, data)?;
        let ((hb, pb), (hs, ps), (hp, pp)) = (big.frame()?, small.frame()?, plain.frame()?);
        let (b, s, p) = (hb.len() + pb.len(), hs.len() + ps.len(), hp.len() + pp.len());
        let ratio = 100.0 * b as f64 / p as f64;
        println!("{name:<24} {:>5} {:>5} {p:>6} {b:>7} {s:>6} {ratio:>7.0}%", data.len(), pp.len());
        if data.len() > 1500 && data.len() < 3000 {
            last_big = pb;
        }
    }

    println!("\n== a longer message: 20 chat messages, summed up");
    annotate(&[&last_big[..], &TAIL].concat(), true);

    println!("\n== memory (Scratch::bytes), borrowed from a per-loop pool of up to {DEFLATE_POOL} each");
    for bits in [15, 9] {
        println!(
            "{bits:>2}-bit window: inflate {:>7} bytes, deflate {:>7} bytes",
            InflateScratch::bytes(bits),
            DeflateScratch::bytes(bits)
        );
    }
    println!(
        "a connection's own state between messages (PerMessage): {} bytes",
        std::mem::size_of::<PerMessage>()
    );
    Ok(())
}
