//! pushlab's own load tool: `cargo run --release --example load -- SCENARIO [OPTIONS]`
//! (`--help` lists them). It drives any server that speaks SPEC's routes — pushlab, or a
//! peer in `benches/peers/` — over loopback, and measures what each message costs that
//! server, read from outside through `/proc`.
//!
//! It is written like the server it drives: one `mio` loop, no async runtime, no thread per
//! connection; every transport's client is a sans-IO state machine over pushlab's own `wire`
//! code (`FrameHeader::parse` for frames, `ChunkDecoder` for event streams, the handshake's
//! `accept_key`), so that the load costs less per message than the server — the
//! `load_cpu_us_per_delivery` of every `RESULT` line shows by how much.
//!
//! | file | what |
//! |---|---|
//! | `args.rs` | the command line, and the refusal of any target outside 127.0.0.0/8 |
//! | `sys.rs` | bind-before-connect and the descriptor limit (libc calls std and mio lack) |
//! | `server_proc.rs` | the server from `/proc`: its PIDs by listening port, CPU, RSS |
//! | `net.rs` | the client loop: `Conn`, `Fleet` of `Client`s on one poll |
//! | `http.rs`, `sse.rs`, `ws.rs` | responses, event streams, WebSocket frames, client side |
//! | `message.rs` | the run's message texts (`s<seq>…`), found again in deliveries |
//! | `scan.rs` | finding the next of a few bytes, eight at a time (and its slow twin) |
//! | `publisher.rs` | pipelined `POST /publish`, all at once or paced |
//! | `tally.rs` | latency histogram, the per-subscriber ledger of lost and duplicated |
//! | `report.rs` | the progress line, CPU meters, the `RESULT` line |
//! | `echo.rs`, `fanout.rs`, `polling.rs`, `idle.rs` | the scenarios |
//!
//! `main.rs` only calls [`main`]; `tests/load_tool.rs` includes this module with `#[path]`
//! and calls [`run`] against an in-process pushlab, which also runs the unit tests here.
pub mod args;
pub mod echo;
pub mod fanout;
pub mod http;
pub mod idle;
pub mod message;
pub mod net;
pub mod polling;
pub mod publisher;
pub mod report;
pub mod scan;
pub mod server_proc;
pub mod sse;
pub mod sys;
pub mod tally;
pub mod ws;

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use args::{Args, Command, Scenario};
use report::ResultLine;
use server_proc::Server;

/// Descriptors beyond the connections: the poll, the publisher, std's own, some slack.
const SPARE_FDS: u64 = 64;

/// The whole tool: parses `words` (the arguments after the program name), runs the
/// scenario, writes the `RESULT` line (or the help) to `out`. `Ok(true)` for a clean run;
/// `Ok(false)` when something was lost, duplicated, refused or closed; `Err` when the run
/// could not be made (a usage error, a server that is not there).
pub fn run(words: &[String], out: &mut dyn Write) -> Result<bool, String> {
    let a = match args::parse(words)? {
        Command::Help => {
            out.write_all(args::USAGE.as_bytes()).map_err(|e| e.to_string())?;
            return Ok(true);
        }
        Command::Run(a) => a,
    };
    let wanted = a.conns as u64 + SPARE_FDS;
    let limit = sys::raise_nofile(wanted).map_err(|e| format!("the descriptor limit: {e}"))?;
    if limit < wanted {
        return Err(format!(
            "{} connections need {wanted} descriptors, and this process may have {limit} \
             (the hard limit; raising it needs root or CAP_SYS_RESOURCE: `ulimit -Hn`)",
            a.conns
        ));
    }
    let pids = match &a.pids {
        Some(p) => p.clone(),
        None => server_proc::find_by_port(a.addr.port())?,
    };
    let server = Server::new(pids);
    let topic = a.topic.clone().unwrap_or_else(fresh_topic);
    let mut r = ResultLine::default();
    let pid_list: Vec<String> = server.pids.iter().map(u32::to_string).collect();
    r.put("scenario", a.scenario.name()).put("addr", a.addr).put("pids", pid_list.join(","));
    let clean = scenario(&a, &server, &topic, &mut r)?;
    r.put("ok", u8::from(clean));
    writeln!(out, "{}", r.line()).map_err(|e| e.to_string())?;
    Ok(clean)
}

fn scenario(a: &Args, server: &Server, topic: &str, r: &mut ResultLine) -> Result<bool, String> {
    match a.scenario {
        Scenario::WsEcho => echo::run(a, server, r),
        Scenario::SseFanout | Scenario::WsFanout => fanout::run(a, server, topic, r),
        Scenario::LongPoll | Scenario::ShortPoll => polling::run(a, server, topic, r),
        Scenario::Idle => idle::run(a, server, topic, r),
    }
}

/// `load.<unix-ms>.<pid>`: no two runs share a topic, so ids start at 1 and nothing retained
/// from an earlier run is replayed into this one.
fn fresh_topic() -> String {
    let ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    format!("load.{ms}.{}", std::process::id())
}

/// The example's `main`: exit status 0 clean, 1 not clean, 2 could not run.
pub fn main() {
    let words: Vec<String> = std::env::args().skip(1).collect();
    let code = match run(&words, &mut std::io::stdout().lock()) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(e) => {
            eprintln!("load: {e}");
            2
        }
    };
    std::process::exit(code);
}
