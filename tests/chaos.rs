//! Issue 13, item 3: nothing is lost under chaos. Publishers and clients of all four
//! transports run at once against a server started with `--chaos` (new connections dropped,
//! connections cut after a write, output held back), while the clients also drop their own
//! connections at random and resume with their cursors (SPEC §2). In the end every client
//! must hold every id of the topic exactly once, in order, each with the data the server
//! stored under it — and when a client stays away longer than the replay window, it must
//! see the loss as a jump in ids (SPEC §2: "a client detects loss as a jump in ids") and
//! report exactly how many it missed.
//!
//! The ground truth is the server's own history (`/poll?since=0`), checked against what the
//! publishers were answered. A publish whose answer was lost (its connection dropped or cut)
//! may or may not have been stored: the publisher sends it again, so a message may be stored
//! twice under two ids — a retried publish is the one thing allowed to appear twice.
//!
//! The harness takes a list of nodes: every connection picks one, so two nodes sharing
//! topics over Redis (SPEC §10) plug in here later.

#[path = "common/chaos_clients.rs"]
mod clients;
mod common;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use clients::{Conn, Control, Plan, Record, Transport};
use common::{config, start_with, Rng, HOST};
use pushlab::config::chaos::Chaos;
use pushlab::config::Config;
use serde_json::Value;

/// A run that has not finished by then has failed; it reports every client's state.
const DEADLINE: Duration = Duration::from_secs(30);
const TRANSPORTS: [Transport; 4] =
    [Transport::Poll, Transport::LongPoll, Transport::Sse, Transport::WebSocket];

/// One run of the no-loss test.
struct Scenario {
    workers: usize,
    chaos: Option<&'static str>,
    publishers: usize,
    /// Distinct messages, over all publishers.
    messages: usize,
    /// Clients of each transport.
    clients_each: usize,
    /// Probability that a client drops its own connection after a message.
    self_drop: f64,
    seed: u64,
}

fn node(workers: usize, replay: usize, chaos: Option<&str>) -> SocketAddr {
    let chaos = chaos.map(|c| Chaos::parse(c, 0).expect("a valid --chaos"));
    start_with(Config { workers, replay, chaos, ..config() })
}

#[test]
fn no_loss_under_chaos_with_one_loop() {
    no_loss(Scenario {
        workers: 1,
        chaos: Some("drop=0.1,cut=0.03,stall=20ms,seed=7"),
        publishers: 3,
        messages: 450,
        clients_each: 2,
        self_drop: 0.02,
        seed: 0x1001,
    });
}

#[test]
fn no_loss_under_chaos_with_four_loops() {
    no_loss(Scenario {
        workers: 4,
        chaos: Some("drop=0.1,cut=0.03,stall=20ms,seed=11"),
        publishers: 3,
        messages: 450,
        clients_each: 2,
        self_drop: 0.02,
        seed: 0x4004,
    });
}

#[test]
fn no_loss_without_chaos_clients_dropping_on_their_own() {
    no_loss(Scenario {
        workers: 2,
        chaos: None,
        publishers: 2,
        messages: 300,
        clients_each: 1,
        self_drop: 0.03,
        seed: 0x2002,
    });
}

/// What one publisher was answered.
#[derive(Default)]
struct Published {
    /// (id, data) of each answered publish, in the order sent.
    answered: Vec<(u64, String)>,
    /// Data sent more than once because an answer never came.
    retried: HashSet<String>,
    failures: u64,
}

/// Publishes each of `data` until one attempt is answered, over keep-alive connections to
/// random `nodes`, with small random pauses.
fn publisher(
    nodes: Vec<SocketAddr>,
    topic: String,
    data: Vec<String>,
    seed: u64,
    control: Arc<Control>,
) -> Published {
    let mut rng = Rng(seed | 1);
    let mut out = Published::default();
    let mut conn: Option<Conn> = None;
    for text in data {
        loop {
            if control.stop.load(Ordering::SeqCst) {
                return out;
            }
            let c = match conn.take() {
                Some(c) => Ok(c),
                None => Conn::open(*rng.pick(&nodes)),
            };
            let request = format!(
                "POST /publish?topic={topic} HTTP/1.1\r\nHost: {HOST}\r\nContent-Length: {}\r\n\r\n{text}",
                text.len()
            );
            let answer = c.and_then(|mut c| c.exchange(request.as_bytes()).map(|a| (a, c)));
            match answer {
                Ok(((200, body), c)) => {
                    let v: Value = serde_json::from_slice(&body).expect("a publish answer is JSON");
                    out.answered.push((v["id"].as_u64().expect("an id"), text.clone()));
                    conn = Some(c);
                    break;
                }
                Ok(((status, body), _)) => panic!("publish answered {status}: {}", common::show(&body)),
                Err(_) => {
                    out.failures += 1;
                    out.retried.insert(text.clone());
                    std::thread::sleep(Duration::from_millis(rng.below(10) as u64));
                }
            }
        }
        std::thread::sleep(Duration::from_millis(rng.below(8) as u64));
    }
    out
}

/// The topic's whole history, page by page from `/poll?since=…`, each page retried until
/// it arrives whole (a cut answer is shorter than its `Content-Length`).
fn history(nodes: &[SocketAddr], topic: &str) -> Vec<(u64, String)> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut all: Vec<(u64, String)> = Vec::new();
    loop {
        let since = all.last().map_or(0, |m| m.0);
        let request =
            format!("GET /poll?topic={topic}&since={since}&limit=100 HTTP/1.1\r\nHost: {HOST}\r\n\r\n");
        let page =
            Conn::open(nodes[all.len() % nodes.len()]).and_then(|mut c| c.exchange(request.as_bytes()));
        let Ok((200, body)) = page else {
            assert!(Instant::now() < deadline, "the history never came whole: last try {page:?}");
            continue;
        };
        let v: Value = serde_json::from_slice(&body).expect("/poll answers JSON");
        let messages = v["messages"].as_array().expect("messages");
        if messages.is_empty() {
            return all;
        }
        all.extend(
            messages.iter().map(|m| (m["id"].as_u64().unwrap(), m["data"].as_str().unwrap().to_string())),
        );
    }
}

/// Waits until every client has finished, or fails at the deadline with every client's state.
fn wait_for(running: &[(Arc<Mutex<Record>>, JoinHandle<()>)], control: &Control, started: Instant) {
    while !running.iter().all(|(_, t)| t.is_finished()) {
        if started.elapsed() > DEADLINE {
            control.stop.store(true, Ordering::SeqCst);
            let states: Vec<String> = running.iter().map(|(r, _)| r.lock().unwrap().summary()).collect();
            panic!(
                "not finished after {DEADLINE:?} (last id {}):\n  {}",
                control.last.load(Ordering::SeqCst),
                states.join("\n  ")
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn no_loss(s: Scenario) {
    let started = Instant::now();
    let nodes = vec![node(s.workers, 4096, s.chaos)];
    let topic = format!("chaos-{}", s.seed);
    let control = Arc::new(Control::default());
    let mut rng = Rng(s.seed);
    let plans: Vec<Plan> = TRANSPORTS
        .iter()
        .flat_map(|&t| std::iter::repeat_n(t, s.clients_each))
        .map(|transport| Plan {
            transport,
            topic: topic.clone(),
            nodes: nodes.clone(),
            seed: rng.next(),
            self_drop: s.self_drop,
            away_at: None,
        })
        .collect();
    let running: Vec<_> = plans.into_iter().map(|plan| clients::spawn(plan, control.clone())).collect();
    let publishers: Vec<JoinHandle<Published>> = (0..s.publishers)
        .map(|p| {
            let data: Vec<String> =
                (p..s.messages).step_by(s.publishers).map(|i| format!("p{p}-m{i}")).collect();
            let (nodes, topic, control, seed) = (nodes.clone(), topic.clone(), control.clone(), rng.next());
            std::thread::spawn(move || publisher(nodes, topic, data, seed, control))
        })
        .collect();
    let published: Vec<Published> = publishers.into_iter().map(|t| t.join().expect("a publisher")).collect();
    let truth = history(&nodes, &topic);
    let last = truth.len() as u64;
    control.last.store(last, Ordering::SeqCst);
    wait_for(&running, &control, started);
    let records: Vec<Record> = running
        .into_iter()
        .map(|(record, thread)| {
            thread.join().expect("a client thread");
            let r = record.lock().unwrap().clone();
            r
        })
        .collect();

    let label = format!("workers {}, chaos {:?}", s.workers, s.chaos);
    check_truth(&label, &truth, &published, s.messages);
    let mut failures = Vec::new();
    for r in &records {
        if let Err(why) = check_client(r, &truth) {
            failures.push(format!("{}\n    {why}", r.summary()));
        }
    }
    let sum = |f: fn(&Record) -> u64| records.iter().map(f).sum::<u64>();
    let retried: usize = published.iter().map(|p| p.retried.len()).sum();
    println!(
        "{label}: {last} ids ({} messages, {retried} publishes retried) in {:?}; clients: {} reconnects, \
         {} dropped, {} cut, {} timeouts, {} self-drops",
        s.messages,
        started.elapsed(),
        sum(Record::reconnects),
        sum(|r| r.dropped),
        sum(|r| r.cuts),
        sum(|r| r.timeouts),
        sum(|r| r.self_drops),
    );
    for r in &records {
        println!("  {}", r.summary());
    }
    assert!(
        failures.is_empty(),
        "{label}: {} of {} clients lost or repeated something:\n  {}",
        failures.len(),
        records.len(),
        failures.join("\n  ")
    );
    if s.chaos.is_some() {
        // The chaos did happen: a run where nothing was cut or dropped proves nothing.
        assert!(sum(|r| r.cuts) > 0 && sum(|r| r.dropped) > 0, "{label}: no cut or no drop seen");
    }
    assert!(sum(|r| r.self_drops) > 0, "{label}: no client dropped its own connection");
    // A client that hears nothing for `SILENCE` while it is owed messages resumes and
    // catches up from the replay, which would hide a lost wake-up: none may happen.
    assert_eq!(
        sum(|r| r.timeouts),
        0,
        "{label}: a connection went silent for {:?} while owed messages",
        clients::SILENCE
    );
}

/// The server's history against what the publishers were answered: ids 1..=last, every
/// answered id holding the data it was answered for, nothing stored that was not sent,
/// and only a retried publish stored twice.
fn check_truth(label: &str, truth: &[(u64, String)], published: &[Published], messages: usize) {
    let ids: Vec<u64> = truth.iter().map(|m| m.0).collect();
    assert!(ids.iter().copied().eq(1..=truth.len() as u64), "{label}: the history is not 1..=last: {ids:?}");
    let by_id: HashMap<u64, &str> = truth.iter().map(|(id, d)| (*id, d.as_str())).collect();
    let retried: HashSet<&String> = published.iter().flat_map(|p| &p.retried).collect();
    let mut sent = HashSet::new();
    for p in published {
        let answered: Vec<u64> = p.answered.iter().map(|m| m.0).collect();
        assert!(
            answered.windows(2).all(|w| w[0] < w[1]),
            "{label}: one publisher's ids went back: {answered:?}"
        );
        for (id, data) in &p.answered {
            assert_eq!(
                by_id.get(id),
                Some(&data.as_str()),
                "{label}: publish of {data:?} was answered id {id}"
            );
            sent.insert(data);
        }
    }
    assert_eq!(sent.len(), messages, "{label}: every message answered once");
    let mut seen = HashSet::new();
    for (id, data) in truth {
        assert!(sent.contains(data), "{label}: id {id} holds {data:?}, which nobody published");
        assert!(seen.insert(data) || retried.contains(data), "{label}: {data:?} stored twice, never retried");
    }
}

/// One client's messages are exactly the history: each id once, in order, the same data.
fn check_client(r: &Record, truth: &[(u64, String)]) -> Result<(), String> {
    if !r.anomalies.is_empty() {
        return Err(format!("anomalies: {:?}", &r.anomalies[..r.anomalies.len().min(5)]));
    }
    for (n, (got, want)) in r.got.iter().zip(truth).enumerate() {
        if got != want {
            let around = &r.got[n.saturating_sub(3)..(n + 3).min(r.got.len())];
            return Err(format!(
                "message #{n} is {got:?}, the history has {want:?}; got around it: {around:?}"
            ));
        }
    }
    if r.got.len() != truth.len() {
        return Err(format!("{} messages, the history has {}", r.got.len(), truth.len()));
    }
    Ok(())
}

/// The signal when the window was exceeded: `--replay 8`, clients of every transport read
/// ids 1..=3, stay away while 20 more are published, and come back with cursor 3. Ids
/// 16..=23 are still retained: each client must jump from 3 to 16 and say it missed 12 —
/// and nothing may be renumbered to close the gap.
#[test]
fn a_client_away_longer_than_the_replay_window_sees_one_jump_and_how_many_it_missed() {
    let started = Instant::now();
    let nodes = vec![node(2, 8, None)];
    let topic = "window".to_string();
    let control = Arc::new(Control::default());
    let plans: Vec<Plan> = TRANSPORTS
        .iter()
        .enumerate()
        .map(|(n, &transport)| Plan {
            transport,
            topic: topic.clone(),
            nodes: nodes.clone(),
            seed: 0x5151 + n as u64,
            self_drop: 0.0,
            away_at: Some(3),
        })
        .collect();
    let running: Vec<_> = plans.into_iter().map(|plan| clients::spawn(plan, control.clone())).collect();
    let publish = |range: std::ops::RangeInclusive<u64>| {
        let data: Vec<String> = range.clone().map(|i| format!("message {i}")).collect();
        let p = publisher(nodes.clone(), topic.clone(), data, 3, control.clone());
        let ids: Vec<u64> = p.answered.iter().map(|m| m.0).collect();
        assert_eq!(ids, range.collect::<Vec<_>>(), "the publish answers");
    };
    publish(1..=3);
    common::eventually("every client has ids 1..=3 and has gone away", || {
        running.iter().all(|(r, _)| {
            let r = r.lock().unwrap();
            r.away && r.cursor == 3
        })
    });
    publish(4..=23);
    control.last.store(23, Ordering::SeqCst);
    control.back.store(true, Ordering::SeqCst);
    wait_for(&running, &control, started);
    for (record, thread) in running {
        thread.join().expect("a client thread");
        let r = record.lock().unwrap();
        let missed: Vec<u64> = r.jumps.iter().map(|(cursor, id)| id - cursor - 1).collect();
        assert_eq!(missed, [12], "{}: one jump, 12 missed", r.summary());
        assert_eq!(r.jumps, [(3, 16)], "{}", r.summary());
        let want: Vec<(u64, String)> = (1..=3).chain(16..=23).map(|i| (i, format!("message {i}"))).collect();
        assert_eq!(
            r.got,
            want,
            "{}: the retained messages, under the ids they were published with",
            r.summary()
        );
        assert!(r.anomalies.is_empty(), "{}: {:?}", r.summary(), r.anomalies);
    }
}
