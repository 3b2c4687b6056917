//! Counters for `GET /stats` (SPEC §9).
//!
//! Each loop counts into its own [`Counters`] and only ever writes its own: a counter has
//! one writer, so counting is a plain load and store (no lock, no read-modify-write bus
//! traffic), and `/stats` on any loop adds up every loop's counters (SPEC §10: the figures
//! are the whole process's).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
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

/// A count with one writer (its loop) and any number of readers (`/stats` on other loops).
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    fn add(&self, n: u64) {
        self.0.store(self.get().wrapping_add(n), Ordering::Relaxed);
    }

    fn sub(&self, n: u64) {
        self.0.store(self.get().wrapping_sub(n), Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// One loop's counters.
#[derive(Debug, Default)]
pub struct Counters {
    /// Open connections by [`Kind`], indexed by `Kind as usize`.
    connections: [Counter; 4],
    /// Messages handed to clients by transport: poll, long-poll, SSE, WebSocket.
    delivered: [Counter; 4],
    bytes_written: Counter,
    slow_consumers_dropped: Counter,
    accepted: Counter,
    refused_over_limit: Counter,
}

/// One loop's handle on the process's counters: it writes its own, reads everyone's.
#[derive(Debug)]
pub struct Stats {
    pub started: Instant,
    /// `"local"` or `"redis"`: where topics live (SPEC §9).
    pub broker: &'static str,
    mine: usize,
    loops: Arc<[Counters]>,
}

impl Stats {
    /// The counters of a process with one loop.
    pub fn new(now: Instant) -> Stats {
        Stats::per_loop(now, 1).pop().expect("one loop")
    }

    /// One handle per loop of a process with `loops` loops.
    pub fn per_loop(now: Instant, loops: usize) -> Vec<Stats> {
        let shared: Arc<[Counters]> = (0..loops).map(|_| Counters::default()).collect();
        (0..loops).map(|mine| Stats { started: now, broker: "local", mine, loops: shared.clone() }).collect()
    }

    fn own(&self) -> &Counters {
        &self.loops[self.mine]
    }

    fn sum(&self, counter: impl Fn(&Counters) -> &Counter) -> u64 {
        self.loops.iter().map(|c| counter(c).get()).sum()
    }

    pub fn enter(&mut self, kind: Kind) {
        self.own().connections[kind as usize].add(1);
    }

    pub fn leave(&mut self, kind: Kind) {
        self.own().connections[kind as usize].sub(1);
    }

    pub fn delivered(&mut self, kind: Kind, n: u64) {
        self.own().delivered[kind as usize].add(n);
    }

    pub fn wrote(&mut self, bytes: u64) {
        self.own().bytes_written.add(bytes);
    }

    pub fn slow_consumer_dropped(&mut self) {
        self.own().slow_consumers_dropped.add(1);
    }

    pub fn accepted(&mut self) {
        self.own().accepted.add(1);
    }

    pub fn refused_over_limit(&mut self) {
        self.own().refused_over_limit.add(1);
    }

    /// Messages delivered by `kind`'s transport in the whole process.
    pub fn delivered_total(&self, kind: Kind) -> u64 {
        self.sum(|c| &c.delivered[kind as usize])
    }

    /// Connections open now doing `kind`, in the whole process.
    pub fn connections(&self, kind: Kind) -> u64 {
        self.sum(|c| &c.connections[kind as usize])
    }

    /// The `/stats` document.
    pub fn to_json(&self, hub: &Hub, now: Instant) -> Vec<u8> {
        let kinds = [Kind::Http, Kind::LongPoll, Kind::Sse, Kind::WebSocket];
        let [http, long_poll, sse, websocket] = kinds.map(|k| self.connections(k));
        let mut connections = Vec::new();
        Object::new(&mut connections)
            .u64("http", http)
            .u64("long_poll", long_poll)
            .u64("sse", sse)
            .u64("websocket", websocket)
            .finish();
        // `delivered.poll` counts messages in short-poll replies; the others count pushes.
        let [poll, long_poll, sse, websocket] = kinds.map(|k| self.delivered_total(k));
        let mut delivered = Vec::new();
        Object::new(&mut delivered)
            .u64("poll", poll)
            .u64("long_poll", long_poll)
            .u64("sse", sse)
            .u64("websocket", websocket)
            .finish();
        // Open connections on each loop: how evenly they are spread (chapter 09).
        let mut per_loop = b"[".to_vec();
        for (i, counters) in self.loops.iter().enumerate() {
            if i > 0 {
                per_loop.push(b',');
            }
            let open: u64 = counters.connections.iter().map(Counter::get).sum();
            per_loop.extend_from_slice(open.to_string().as_bytes());
        }
        per_loop.push(b']');
        let mut out = Vec::new();
        Object::new(&mut out)
            .u64("uptime_s", now.duration_since(self.started).as_secs())
            .raw("connections", &connections)
            .u64("topics", hub.topic_count() as u64)
            .u64("published", hub.published())
            .raw("delivered", &delivered)
            .u64("bytes_written", self.sum(|c| &c.bytes_written))
            .u64("slow_consumers_dropped", self.sum(|c| &c.slow_consumers_dropped))
            .u64("accepted", self.sum(|c| &c.accepted))
            .u64("refused_over_limit", self.sum(|c| &c.refused_over_limit))
            .u64("workers", self.loops.len() as u64)
            .str("broker", self.broker)
            .raw("connections_per_worker", &per_loop)
            .finish();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_loop_counts_its_own_and_reads_the_sum() {
        let now = Instant::now();
        let mut loops = Stats::per_loop(now, 3);
        loops[0].enter(Kind::Sse);
        loops[1].enter(Kind::Sse);
        loops[2].enter(Kind::Http);
        loops[1].delivered(Kind::WebSocket, 5);
        loops[2].delivered(Kind::WebSocket, 2);
        loops[0].leave(Kind::Sse);
        for stats in &loops {
            assert_eq!(stats.connections(Kind::Sse), 1);
            assert_eq!(stats.connections(Kind::Http), 1);
            assert_eq!(stats.delivered_total(Kind::WebSocket), 7);
        }
        let json = String::from_utf8(loops[0].to_json(&Hub::new(1), now)).unwrap();
        assert!(json.contains(r#""workers":3,"broker":"local","connections_per_worker":[0,1,1]"#), "{json}");
        assert!(json.contains(r#""connections":{"http":1,"long_poll":0,"sse":1,"websocket":0}"#), "{json}");
    }
}
