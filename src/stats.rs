//! Counters for `GET /stats` (SPEC §9).

use std::time::Instant;

use crate::hub::Hub;
use crate::wire::json::Object;

/// What a connection is doing now, for `connections` in `/stats`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Plain request/response, including idle keep-alive.
    Http,
    LongPoll,
    Sse,
    /// `/ws` and `/echo`.
    WebSocket,
}

#[derive(Debug)]
pub struct Stats {
    pub started: Instant,
    /// Open connections by [`Kind`], indexed by `Kind as usize`.
    pub connections: [u64; 4],
    /// Messages handed to clients by transport: poll, long-poll, SSE, WebSocket.
    pub delivered: [u64; 4],
    pub bytes_written: u64,
    pub slow_consumers_dropped: u64,
    pub accepted: u64,
    pub refused_over_limit: u64,
}

impl Stats {
    pub fn new(now: Instant) -> Stats {
        Stats {
            started: now,
            connections: [0; 4],
            delivered: [0; 4],
            bytes_written: 0,
            slow_consumers_dropped: 0,
            accepted: 0,
            refused_over_limit: 0,
        }
    }

    pub fn enter(&mut self, kind: Kind) {
        self.connections[kind as usize] += 1;
    }

    pub fn leave(&mut self, kind: Kind) {
        self.connections[kind as usize] -= 1;
    }

    pub fn delivered(&mut self, kind: Kind, n: u64) {
        self.delivered[kind as usize] += n;
    }

    /// The `/stats` document.
    pub fn to_json(&self, hub: &Hub, now: Instant) -> Vec<u8> {
        let mut connections = Vec::new();
        Object::new(&mut connections)
            .u64("http", self.connections[Kind::Http as usize])
            .u64("long_poll", self.connections[Kind::LongPoll as usize])
            .u64("sse", self.connections[Kind::Sse as usize])
            .u64("websocket", self.connections[Kind::WebSocket as usize])
            .finish();
        // `delivered.poll` counts messages in short-poll replies; the others count pushes.
        let mut delivered = Vec::new();
        Object::new(&mut delivered)
            .u64("poll", self.delivered[Kind::Http as usize])
            .u64("long_poll", self.delivered[Kind::LongPoll as usize])
            .u64("sse", self.delivered[Kind::Sse as usize])
            .u64("websocket", self.delivered[Kind::WebSocket as usize])
            .finish();
        let mut out = Vec::new();
        Object::new(&mut out)
            .u64("uptime_s", now.duration_since(self.started).as_secs())
            .raw("connections", &connections)
            .u64("topics", hub.topic_count() as u64)
            .u64("published", hub.published())
            .raw("delivered", &delivered)
            .u64("bytes_written", self.bytes_written)
            .u64("slow_consumers_dropped", self.slow_consumers_dropped)
            .u64("accepted", self.accepted)
            .u64("refused_over_limit", self.refused_over_limit)
            .finish();
        out
    }
}
