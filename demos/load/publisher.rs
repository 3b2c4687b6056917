//! The publisher: one keep-alive connection that writes `POST /publish` requests, pipelined,
//! and reads their replies. It is the fleet's side connection: its events come back from
//! `Fleet::turn` as `true`, and [`Publisher::pump`] handles them.
use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use pushlab::wire::Status;

use super::http::{parse_response, publish_request};
use super::message;
use super::net::{Client, Conn, Fleet, Read0};

/// Publishes written but not yet answered, at most: a burst of 100 000 goes out in windows.
pub const WINDOW: u64 = 1000;

pub struct Publisher {
    conn: Conn,
    host: String,
    topic: String,
    size: usize,
    /// Messages written, and replies read (2xx and others).
    pub sent: u64,
    pub acked: u64,
    pub refused: u64,
    pub first_refusal: Option<String>,
    out: Vec<u8>,
    dechunked: Vec<u8>,
}

impl Publisher {
    /// Connects from `from` to `to` and registers on `fleet`'s poll.
    pub fn connect<C: Client>(
        fleet: &Fleet<C>,
        from: Ipv4Addr,
        to: SocketAddrV4,
        topic: &str,
        size: usize,
    ) -> io::Result<Publisher> {
        let mut conn = Conn::connect(from, to)?;
        fleet.register_side(&mut conn)?;
        Ok(Publisher {
            conn,
            host: to.to_string(),
            topic: topic.to_string(),
            size,
            sent: 0,
            acked: 0,
            refused: 0,
            first_refusal: None,
            out: Vec::new(),
            dechunked: Vec::new(),
        })
    }

    /// Publishes that may be written now without exceeding [`WINDOW`].
    pub fn room(&self) -> u64 {
        WINDOW.saturating_sub(self.sent - self.acked - self.refused)
    }

    pub fn answered(&self) -> u64 {
        self.acked + self.refused
    }

    /// Writes messages `sent..sent + n` in one write, noting when each went out.
    pub fn publish(&mut self, n: u64, sent_at: &mut [Option<Instant>]) -> io::Result<()> {
        self.out.clear();
        let now = Instant::now();
        let mut text = Vec::with_capacity(self.size + 8);
        for seq in self.sent..self.sent + n {
            text.clear();
            message::text(&mut text, seq, self.size);
            publish_request(&mut self.out, &self.host, &self.topic, &text);
            if let Some(at) = sent_at.get_mut(seq as usize) {
                *at = Some(now);
            }
        }
        self.sent += n;
        self.conn.send(&self.out)
    }

    /// Handles the side connection's event: finishes connecting, flushes, reads replies.
    pub fn pump(&mut self, scratch: &mut [u8]) -> io::Result<()> {
        if !self.conn.check_connected()? {
            return Ok(());
        }
        self.conn.flush()?;
        let (acked, refused, first) = (&mut self.acked, &mut self.refused, &mut self.first_refusal);
        let dechunked = &mut self.dechunked;
        let end = self.conn.read(scratch, |data, _| {
            let mut at = 0;
            while let Status::Complete((head, body, used)) = parse_response(&data[at..], dechunked)? {
                if (200..300).contains(&head.status) {
                    *acked += 1;
                } else {
                    *refused += 1;
                    first
                        .get_or_insert_with(|| format!("{}: {}", head.status, String::from_utf8_lossy(body)));
                }
                at += used;
            }
            Ok(at)
        })?;
        if end == Read0::Eof {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the server closed the publisher"));
        }
        Ok(())
    }

    /// Waits on `fleet` until the publisher is connected.
    pub fn wait_connected<C: Client>(
        &mut self,
        fleet: &mut Fleet<C>,
        shared: &mut C::Shared,
        timeout: Duration,
    ) -> io::Result<()> {
        let deadline = Instant::now() + timeout;
        while !self.conn.connected {
            if Instant::now() > deadline {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "the publisher could not connect"));
            }
            if fleet.turn(Duration::from_millis(10), shared)? {
                self.pump(fleet.scratch())?;
            }
        }
        Ok(())
    }
}

/// When message `k` of a paced run is due: `rate` per second from `start` (0: all at once).
pub fn due(start: Instant, k: u64, rate: f64) -> Instant {
    if rate <= 0.0 {
        return start;
    }
    start + Duration::from_secs_f64(k as f64 / rate)
}

/// How many of `total` messages are due by now: `rate` per second from `start`, the first at
/// once (0: all at once).
pub fn due_count(start: Instant, rate: f64, total: u64) -> u64 {
    if rate <= 0.0 {
        return total;
    }
    let due = (start.elapsed().as_secs_f64() * rate).floor() as u64 + 1;
    due.min(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacing() {
        let t = Instant::now();
        assert_eq!(due(t, 5, 0.0), t);
        assert_eq!(due(t, 0, 100.0), t);
        assert_eq!(due(t, 50, 100.0), t + Duration::from_millis(500));
        assert_eq!(due_count(t, 0.0, 7), 7);
        assert_eq!(due_count(t, 1.0, 7), 1); // the first at once
        assert_eq!(due_count(t - Duration::from_millis(2500), 1.0, 7), 3);
        assert_eq!(due_count(t - Duration::from_secs(60), 1.0, 7), 7);
    }
}
