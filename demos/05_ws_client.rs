//! Chapter 05 demo: a terminal WebSocket client, speaking pushlab's framing from the
//! client's side over a plain `TcpStream` — the other half of what `05_websocket` serves.
//!
//! It does the opening handshake by hand, checks `Sec-WebSocket-Accept` with
//! `pushlab::wire::ws::handshake::accept_key`, then prints every frame it receives (direction,
//! opcode, FIN, length) and each complete message, sends every line typed on stdin as a
//! masked text frame (`write_masked_frame`), answers pings, and answers a close. End of input
//! (Ctrl-D) closes with 1000; the program ends when the server closes the TCP connection.
//!
//! ```text
//! cargo run --release                              # pushlab on 127.0.0.1:8080
//! cargo run --example 05_ws_client                 # joins ws://127.0.0.1:8080/ws?topic=chat
//! cargo run --example 05_ws_client -- 127.0.0.1:8080 '/ws?topic=chat&since=0'
//! ```

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use base64::Engine as _;
use pushlab::wire::ws::close::parse_close_payload;
use pushlab::wire::ws::frame::{write_masked_frame, FrameHeader, OpCode};
use pushlab::wire::ws::handshake::accept_key;
use pushlab::wire::ws::mask::apply_mask;
use pushlab::wire::Status;

/// 8 random bytes. std seeds each `RandomState` from the OS; a real client uses a CSPRNG
/// (RFC 6455 §5.3: the masking key "MUST be derived from a strong source of entropy").
fn random() -> [u8; 8] {
    RandomState::new().build_hasher().finish().to_ne_bytes()
}

fn send(stream: &mut TcpStream, opcode: OpCode, payload: &[u8]) -> std::io::Result<()> {
    let mut out = Vec::with_capacity(payload.len() + 14);
    let r = random();
    write_masked_frame(&mut out, true, opcode, payload, [r[0], r[1], r[2], r[3]]);
    eprintln!("→ {opcode:?} fin=1 masked len={} ({} bytes on the wire)", payload.len(), out.len());
    stream.write_all(&out)
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8080".into());
    let path = args.next().unwrap_or_else(|| "/ws?topic=chat".into());
    let mut stream = TcpStream::connect(&addr)?;
    stream.set_nodelay(true)?;

    // RFC 6455 §4.1: a GET with Upgrade, Connection, a fresh 16-byte key and version 13.
    let nonce: Vec<u8> = random().into_iter().chain(random()).collect();
    let key = base64::engine::general_purpose::STANDARD.encode(nonce);
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::Error::other("closed during the handshake"));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    eprint!("{head}");
    let expected = format!("sec-websocket-accept: {}", accept_key(key.as_bytes()));
    if !head.starts_with("HTTP/1.1 101") || !head.lines().any(|l| l.eq_ignore_ascii_case(&expected)) {
        return Err(std::io::Error::other("handshake refused or wrong Sec-WebSocket-Accept"));
    }
    buf.drain(..head_end);
    eprintln!("(accept key checked; type a line to send it)");

    // Typed lines go out from their own thread; this one reads. End of input (Ctrl-D) starts
    // the closing handshake: close 1000, then wait for the server's close (§7.1.2).
    let mut writer = stream.try_clone()?;
    let closing = Arc::new(AtomicBool::new(false));
    let we_closed = Arc::clone(&closing);
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines().map_while(Result::ok) {
            if send(&mut writer, OpCode::Text, line.as_bytes()).is_err() {
                return;
            }
        }
        we_closed.store(true, Ordering::SeqCst);
        let _ = send(&mut writer, OpCode::Close, &1000u16.to_be_bytes());
    });

    let mut message: Vec<u8> = Vec::new();
    loop {
        // FrameHeader::parse consumes nothing until the whole header (2–14 bytes) is there.
        let parsed = FrameHeader::parse(&buf).map_err(|e| std::io::Error::other(e.to_string()))?;
        let complete = match parsed {
            Status::Complete((h, len)) if buf.len() as u64 >= len as u64 + h.payload_len => Some((h, len)),
            _ => None,
        };
        let Some((h, len)) = complete else {
            let n = stream.read(&mut chunk)?;
            if n == 0 {
                eprintln!("connection closed by the server");
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
            continue;
        };
        let mut payload: Vec<u8> = buf.drain(..len + h.payload_len as usize).skip(len).collect();
        if let Some(key) = h.mask {
            apply_mask(&mut payload, key, 0); // a server must not mask (§5.1); show it anyway
        }
        eprintln!("← {:?} fin={} rsv={} len={}", h.opcode, h.fin as u8, h.rsv, payload.len());
        match h.opcode {
            OpCode::Ping => send(&mut stream, OpCode::Pong, &payload)?,
            OpCode::Pong => {}
            OpCode::Close => {
                eprintln!("close: {:?}", parse_close_payload(&payload));
                if !closing.load(Ordering::SeqCst) {
                    // The server started it: answer, echoing its code (§5.5.1).
                    send(&mut stream, OpCode::Close, &payload[..payload.len().min(2)])?;
                }
            }
            OpCode::Text | OpCode::Binary | OpCode::Continuation => {
                message.extend_from_slice(&payload);
                if h.fin {
                    println!("{}", String::from_utf8_lossy(&message));
                    message.clear();
                }
            }
        }
    }
}
