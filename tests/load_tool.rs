//! The load tool (`demos/load/`, `cargo run --release --example load`) against an
//! in-process pushlab: every scenario at a tiny size, through the tool's library entry
//! point `load::run`, must print its `RESULT` line and account for every message — nothing
//! lost, nothing duplicated. Including the tool's files here also runs their unit tests
//! (arguments, the loopback-only rule, percentiles, the ledger, the parsers).
//!
//! The server runs in this process, so the CPU and memory the tool reports here are not a
//! server's alone; this test checks that the tool works, not what it measures.
#[allow(dead_code)]
#[path = "../demos/load/mod.rs"]
mod load;

use pushlab::config::Config;

/// Runs the tool with `args` (after `--addr` of a fresh pushlab); returns the RESULT line.
fn run(args: &str) -> String {
    let addr = pushlab::spawn(Config { addr: "127.0.0.1:0".parse().unwrap(), ..Config::default() }).unwrap();
    let mut words: Vec<String> = args.split_whitespace().map(String::from).collect();
    words.extend(["--addr".into(), addr.to_string(), "--quiet".into(), "--timeout".into(), "5".into()]);
    let mut out = Vec::new();
    let clean = load::run(&words, &mut out).unwrap_or_else(|e| panic!("{args}: {e}"));
    let out = String::from_utf8(out).unwrap();
    let line = out.lines().last().unwrap_or_default().to_string();
    assert!(line.starts_with("RESULT scenario="), "{args}: printed {out:?}");
    assert!(clean && line.ends_with(" ok=1"), "{args}: not clean: {line}");
    line
}

/// The value of `key` in a RESULT line.
fn field<'l>(line: &'l str, key: &str) -> &'l str {
    let prefix = format!("{key}=");
    line.split(' ')
        .find_map(|kv| kv.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("no {key} in {line}"))
}

/// `expected` measured deliveries, and `ids` deliveries in all (warm-up included) whose
/// server id was checked against its run number.
fn assert_every_message_once(line: &str, expected: u64, ids: u64) {
    assert_eq!(
        (field(line, "lost"), field(line, "dup"), field(line, "reordered")),
        ("0", "0", "0"),
        "{line}"
    );
    assert_eq!(field(line, "deliveries").parse::<u64>().unwrap(), expected, "{line}");
    assert_eq!(field(line, "ids_checked"), ids.to_string(), "{line}");
    assert_eq!(field(line, "bad_ids"), "0", "{line}");
}

#[test]
fn sse_fanout_delivers_every_message_once() {
    let line = run("sse-fanout --subs 20 --messages 30");
    assert_every_message_once(&line, 600, 800); // 10 warm-up messages by default
    assert!(field(&line, "deliveries_per_s").parse::<f64>().unwrap() > 0.0);
}

#[test]
fn ws_fanout_delivers_every_message_once_paced_too() {
    assert_every_message_once(&run("ws-fanout --subs 20 --messages 30 --warmup 0"), 600, 600);
    assert_every_message_once(&run("ws-fanout --subs 5 --messages 10 --rate 100 --warmup 3"), 50, 65);
}

#[test]
fn long_poll_clients_cycle_with_their_cursors() {
    let line = run("long-poll --clients 10 --rate 100 --duration 0.3");
    assert_eq!(field(&line, "published"), "30");
    assert_every_message_once(&line, 300, 300);
}

#[test]
fn short_poll_empty_and_with_messages() {
    let line = run("short-poll --clients 4 --duration 0.2");
    assert!(field(&line, "deliveries").parse::<u64>().unwrap() > 0, "{line}");
    assert_eq!(field(&line, "unit"), "reply");
    let line = run("short-poll --clients 4 --pipeline 4 --rate 100 --duration 0.3");
    assert_eq!((field(&line, "lost"), field(&line, "dup")), ("0", "0"), "{line}");
    assert_eq!(field(&line, "messages_delivered"), "120", "{line}");
}

#[test]
fn ws_echo_round_trips() {
    let line = run("ws-echo --conns 4 --inflight 2 --size 200 --duration 0.2");
    assert_eq!((field(&line, "wrong"), field(&line, "unanswered")), ("0", "0"), "{line}");
    assert!(field(&line, "deliveries").parse::<u64>().unwrap() > 0, "{line}");
}

#[test]
fn idle_connections_of_every_kind() {
    for kind in ["ws", "sse", "long-poll", "http"] {
        let line = run(&format!("idle --kind {kind} --conns 20 --settle 0.1"));
        assert_eq!((field(&line, "kind"), field(&line, "closed")), (kind, "0"), "{line}");
        field(&line, "rss_per_conn_b");
    }
}

#[test]
fn targets_outside_loopback_are_refused() {
    for target in ["10.1.2.3:80", "[::1]:8080"] {
        let words: Vec<String> = ["sse-fanout", "--addr", target].map(String::from).to_vec();
        let e = load::run(&words, &mut Vec::new()).unwrap_err();
        assert!(e.contains("refusing") && e.contains("127.0.0.0/8"), "{e}");
    }
}
