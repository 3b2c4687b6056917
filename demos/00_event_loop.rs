//! Chapter 00 demo: a TCP echo server on the bare `mio` loop (no pushlab code), the shape of `src/server/`.
use std::io::{self, ErrorKind, Read, Write};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Registry, Token};

/// The listener's token; connections use their slot index, which never reaches it.
const LISTENER: Token = Token(usize::MAX);
/// Echoed bytes a peer may leave unread before we stop reading from it (backpressure).
const MAX_PENDING: usize = 64 * 1024;

struct Conn {
    socket: TcpStream,
    out: Vec<u8>,  // read but not yet written back; a short write leaves the rest here
    eof: bool,     // the peer has closed its side (a read returned 0)
    writing: bool, // WRITABLE interest is registered (only while `out` is not empty)
}

fn main() -> io::Result<()> {
    let addr = std::env::args().skip_while(|a| a != "--addr").nth(1).unwrap_or("127.0.0.1:8070".into());
    let mut poll = Poll::new()?;
    let mut listener = TcpListener::bind(addr.parse().map_err(io::Error::other)?)?;
    poll.registry().register(&mut listener, LISTENER, Interest::READABLE)?;
    println!("00_event_loop listening on {}", listener.local_addr()?);
    let mut events = Events::with_capacity(1024);
    let mut conns: Vec<Option<Conn>> = Vec::new(); // a slab: a connection's Token is its index
    let mut free: Vec<usize> = Vec::new(); // vacant slots, reused before the Vec grows
    let mut buf = vec![0u8; 16 * 1024]; // one read buffer for every connection: no allocation per event
    loop {
        match poll.poll(&mut events, None) {
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            result => result?,
        }
        for event in &events {
            match event.token() {
                // Accept until WouldBlock; other errors (EMFILE) wait for the next event.
                LISTENER => loop {
                    let mut socket = match listener.accept() {
                        Ok((socket, _)) => socket,
                        Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                        Err(_) => break,
                    };
                    let index = free.pop().unwrap_or(conns.len());
                    if poll.registry().register(&mut socket, Token(index), Interest::READABLE).is_err() {
                        free.push(index);
                        continue;
                    }
                    let conn = Conn { socket, out: Vec::new(), eof: false, writing: false };
                    match conns.get_mut(index) {
                        Some(slot) => *slot = Some(conn),
                        None => conns.push(Some(conn)),
                    }
                },
                // Any event may mean input (a read will tell), so spurious events are harmless.
                Token(index) => {
                    let Some(Some(conn)) = conns.get_mut(index) else { continue }; // closed earlier
                    if !matches!(drive(conn, &mut buf, poll.registry(), Token(index)), Ok(true)) {
                        let _ = conns[index].take().map(|mut c| poll.registry().deregister(&mut c.socket));
                        free.push(index);
                    }
                }
            }
        }
    }
}

/// Writes what the kernel takes, reads into `buf` until `WouldBlock`, repeats; `Ok(false)`: done.
/// Reading stops early only at the cap, with `WRITABLE` registered: that event resumes it.
fn drive(conn: &mut Conn, buf: &mut [u8], registry: &Registry, token: Token) -> io::Result<bool> {
    loop {
        while !conn.out.is_empty() {
            match conn.socket.write(&conn.out) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => drop(conn.out.drain(..n)),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if conn.eof || conn.out.len() >= MAX_PENDING {
            break;
        }
        match conn.socket.read(buf) {
            Ok(0) => conn.eof = true,
            Ok(n) => conn.out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e), // e.g. a reset: the caller closes
        }
    }
    // Ask for WRITABLE only while output waits: a socket with room to send always is writable.
    let want = !conn.out.is_empty();
    if want != conn.writing {
        let interest = if want { Interest::READABLE | Interest::WRITABLE } else { Interest::READABLE };
        registry.reregister(&mut conn.socket, token, interest)?;
        conn.writing = want;
    }
    Ok(!(conn.eof && conn.out.is_empty()))
}
