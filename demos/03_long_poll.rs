//! Chapter 03 demo: long polling, end to end, in one process.
//!
//! Starts pushlab in-process, a "clock" publisher that POSTs the time to topic `clock` every
//! second, and a terminal client that sends `GET /long-poll?topic=clock&since=N` again as soon
//! as each reply arrives, on one keep-alive connection. The server holds each request until
//! the next tick (or `--long-poll-timeout`, 25 s), so the client learns of a message within
//! a loop turn of its publication instead of up to a polling interval later. Every 5 s it
//! prints what that costs: requests, bytes, empty (timed-out) replies, publish→display delay.
//!
//! The clock, the raw HTTP exchange and the cost tally are shared with chapter 02's demo, in
//! `demos/common/mod.rs`; what is here is the polling.
//!
//! ```text
//! cargo run --example 03_long_poll [-- --addr 127.0.0.1:8080]
//! ```
#[path = "common/mod.rs"]
mod common;

use std::io;
use std::net::TcpStream;

use common::{Costs, TOPIC};
use pushlab::config::Config;

fn main() -> io::Result<()> {
    let config = Config { addr: common::addr_arg()?, ..Config::default() };
    let hold = config.long_poll_timeout;
    let bound = pushlab::spawn(config)?;
    println!("pushlab listening on http://{bound}");
    println!("the same transport in a browser: http://{bound}/demos/long-poll.html?topic={TOPIC}");
    println!("(the short-polling page, for comparison: http://{bound}/demos/short-poll.html?topic={TOPIC})");
    println!("each request is held up to {hold:?}; the clock ticks every second");
    common::spawn_clock(bound);

    let mut conn = TcpStream::connect(bound)?;
    let mut costs = Costs::new(2);
    let mut cursor: Option<u64> = None; // no `since` on the first request: "from now"
    loop {
        let since = cursor.map(|c| format!("&since={c}")).unwrap_or_default();
        let request = format!("GET /long-poll?topic={TOPIC}{since} HTTP/1.1\r\nHost: {bound}\r\n\r\n");
        let (status, body, wire) = common::exchange(&mut conn, request.as_bytes())?;
        let reply: serde_json::Value = serde_json::from_slice(&body).map_err(io::Error::other)?;
        assert_eq!(status, 200, "{reply}");
        if cursor.is_none() {
            println!("first reply (no since, so \"from now\"): next = {}", reply["next"]);
        }
        costs.record(wire, &reply["messages"]); // an empty reply: the hold timed out with no news
        cursor = reply["next"].as_u64(); // the cursor: resume after the last id seen
                                         // No sleep: the next request goes out at once, to be held until the next message.
    }
}
