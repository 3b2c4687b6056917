//! The output queue of one connection: bytes accepted from the application but not yet
//! accepted by the kernel.
//!
//! A queue is a list of segments. A segment is either bytes this connection owns (a response
//! head, a WebSocket echo) or bytes *shared* with every other subscriber of a topic (one SSE
//! event, one WebSocket push frame, encoded once per message and reference-counted). Fan-out
//! to 10 000 subscribers therefore costs 10 000 pointer copies, not 10 000 payload copies.
//! Flushing hands up to `MAX_IOVECS` segments to one `writev` call, so everything pending for
//! a connection leaves in as few system calls as the kernel allows.

use std::collections::VecDeque;
use std::io::{self, IoSlice, Write};
use std::rc::Rc;

use crate::limits::MAX_IOVECS;

enum Segment {
    Owned(Vec<u8>),
    Shared(Rc<[u8]>),
}

impl Segment {
    fn bytes(&self) -> &[u8] {
        match self {
            Segment::Owned(v) => v,
            Segment::Shared(s) => s,
        }
    }
}

/// What a flush achieved.
#[derive(Debug, PartialEq, Eq)]
pub enum Flush {
    /// Everything queued was written.
    Done,
    /// The kernel's send buffer is full; wait for writable readiness.
    Blocked,
}

#[derive(Default)]
pub struct OutQueue {
    segments: VecDeque<Segment>,
    /// Bytes of the front segment already written.
    offset: usize,
    /// Bytes queued and not yet written.
    queued: usize,
}

impl OutQueue {
    pub fn new() -> Self {
        OutQueue::default()
    }

    pub fn is_empty(&self) -> bool {
        self.queued == 0
    }

    /// Bytes waiting to be written (the slow-consumer measure).
    pub fn len(&self) -> usize {
        self.queued
    }

    /// Appends bytes this connection owns: they go into the last owned segment when there is
    /// one, so many small writes make one segment.
    pub fn extend(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.queued += bytes.len();
        if let Some(Segment::Owned(last)) = self.segments.back_mut() {
            last.extend_from_slice(bytes);
            return;
        }
        self.segments.push_back(Segment::Owned(bytes.to_vec()));
    }

    /// Appends a whole owned buffer without copying it.
    pub fn push_owned(&mut self, bytes: Vec<u8>) {
        if bytes.is_empty() {
            return;
        }
        self.queued += bytes.len();
        self.segments.push_back(Segment::Owned(bytes));
    }

    /// Appends bytes shared with other connections (one reference count, no copy).
    pub fn push_shared(&mut self, bytes: Rc<[u8]>) {
        if bytes.is_empty() {
            return;
        }
        self.queued += bytes.len();
        self.segments.push_back(Segment::Shared(bytes));
    }

    /// Writes as much as the writer accepts, in `writev` batches, until the queue is empty
    /// or the writer would block. Errors other than `WouldBlock`/`Interrupted` are returned.
    /// Returns the number of bytes written alongside the outcome.
    pub fn flush_to<W: Write>(&mut self, w: &mut W) -> io::Result<(Flush, usize)> {
        let mut written = 0;
        while !self.segments.is_empty() {
            let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
            let mut count = 0;
            for (i, segment) in self.segments.iter().take(MAX_IOVECS).enumerate() {
                let bytes = segment.bytes();
                slices[i] = IoSlice::new(if i == 0 { &bytes[self.offset..] } else { bytes });
                count += 1;
            }
            match w.write_vectored(&slices[..count]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    written += n;
                    self.consume(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok((Flush::Blocked, written)),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok((Flush::Done, written))
    }

    /// Drops `n` written bytes from the front.
    fn consume(&mut self, mut n: usize) {
        self.queued -= n;
        while n > 0 {
            let front_left = match self.segments.front() {
                Some(segment) => segment.bytes().len() - self.offset,
                None => return,
            };
            if n < front_left {
                self.offset += n;
                return;
            }
            n -= front_left;
            self.offset = 0;
            self.segments.pop_front();
        }
    }

    /// Forgets everything queued (the connection is being dropped).
    pub fn clear(&mut self) {
        self.segments = VecDeque::new();
        self.offset = 0;
        self.queued = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that takes at most `limit` bytes per call and then blocks after `budget`.
    struct Trickle {
        got: Vec<u8>,
        limit: usize,
        budget: usize,
    }

    impl Write for Trickle {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.budget == 0 {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let n = buf.len().min(self.limit).min(self.budget);
            self.got.extend_from_slice(&buf[..n]);
            self.budget -= n;
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn partial_writes_resume_where_they_stopped() {
        let shared: Rc<[u8]> = Rc::from(&b"shared-event;"[..]);
        let mut q = OutQueue::new();
        q.extend(b"head;");
        q.extend(b"more;");
        q.push_shared(shared.clone());
        q.push_owned(b"tail".to_vec());
        let total = q.len();
        let mut w = Trickle { got: Vec::new(), limit: 3, budget: 10 };
        assert_eq!(q.flush_to(&mut w).unwrap(), (Flush::Blocked, 10));
        assert_eq!(q.len(), total - 10);
        w.budget = usize::MAX;
        assert_eq!(q.flush_to(&mut w).unwrap().0, Flush::Done);
        assert_eq!(w.got, b"head;more;shared-event;tail");
        assert!(q.is_empty());
    }
}
