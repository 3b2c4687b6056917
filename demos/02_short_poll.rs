//! Chapter 02 demo: short polling, end to end, in one process.
//!
//! Starts pushlab in-process, a "clock" publisher that POSTs the time to topic `clock` every
//! second, and a terminal client that asks `GET /poll?topic=clock&since=N` every second on one
//! keep-alive connection — printing each message as it arrives and, every 5 s, what polling
//! costs: requests, bytes, empty replies, and the publish→display delay.
//!
//! The clock, the raw HTTP exchange and the cost tally are shared with chapter 03's demo, in
//! `demos/common/mod.rs`; what is here is the polling.
//!
//! ```text
//! cargo run --example 02_short_poll [-- --addr 127.0.0.1:8080]
//! ```
#[path = "common/mod.rs"]
mod common;

use std::io;
use std::net::TcpStream;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{Costs, TOPIC};
use pushlab::config::Config;

const INTERVAL: Duration = Duration::from_secs(1);

fn main() -> io::Result<()> {
    let bound = pushlab::spawn(Config { addr: common::addr_arg()?, ..Config::default() })?;
    println!("pushlab listening on http://{bound}");
    println!("the same transport in a browser: http://{bound}/demos/short-poll.html?topic={TOPIC}");
    common::spawn_clock(bound);
    // Where the polls fall between the clock's ticks is luck: a real client's phase is random.
    let phase = Duration::from_millis(u64::from(
        SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().subsec_millis(),
    ));
    println!("polling every {INTERVAL:?}, {phase:?} after each tick of the clock: each message waits about that long");
    std::thread::sleep(phase);

    let mut conn = TcpStream::connect(bound)?;
    let mut costs = Costs::new(1);
    let mut cursor: Option<u64> = None; // no `since` on the first request: "from now"
    let mut poll_at = Instant::now();
    loop {
        let since = cursor.map(|c| format!("&since={c}")).unwrap_or_default();
        let request = format!("GET /poll?topic={TOPIC}{since} HTTP/1.1\r\nHost: {bound}\r\n\r\n");
        let (status, body, wire) = common::exchange(&mut conn, request.as_bytes())?;
        let reply: serde_json::Value = serde_json::from_slice(&body).map_err(io::Error::other)?;
        assert_eq!(status, 200, "{reply}");
        if cursor.is_none() {
            println!("first reply (no since, so \"from now\"): next = {}", reply["next"]);
        }
        costs.record(wire, &reply["messages"]); // an empty reply: nothing new since the last poll
        cursor = reply["next"].as_u64(); // the cursor: resume after the last id seen
        poll_at += INTERVAL;
        std::thread::sleep(poll_at.saturating_duration_since(Instant::now()));
    }
}
