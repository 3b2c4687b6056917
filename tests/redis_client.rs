//! The sans-IO Redis layer (`src/redis/`) against a real `redis-server`, each machine driven
//! over a blocking `std::net::TcpStream` by the few lines of [`Conn`] and [`Sub`] — the
//! same calls the server's event loop makes: `on_connect`, `request`/`subscribe`,
//! `take_output` → write, read → `on_input`, end of input → `on_disconnect`.
//!
//! Each test starts its own server (`tests/common/redis.rs`); without `redis-server` they
//! skip loudly, and fail under `PUSHLAB_REQUIRE_REDIS=1`. The last test needs no Redis: a
//! fake server sends garbage.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use pushlab::redis::client::{Client, Command, Event};
use pushlab::redis::script::{Entry, HISTORY, PUBLISH};
use pushlab::redis::subscriber::{self, PubSub};
use pushlab::redis::url::RedisUrl;
use pushlab::redis::{RedisError, Tag};
use pushlab::wire::resp::RespError;

#[path = "common/redis.rs"]
mod redis_server;
use redis_server::RedisServer;

const PATIENCE: Duration = Duration::from_secs(5);

/// A command connection: a [`Client`] on a blocking socket.
struct Conn {
    stream: TcpStream,
    client: Client,
    events: VecDeque<Event>,
}

impl Conn {
    fn connect(url: &str) -> Conn {
        let url = RedisUrl::parse(url).expect("a valid URL");
        let stream = TcpStream::connect(url.addr()).expect("redis accepts");
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        let mut conn = Conn { stream, client: Client::new(url), events: VecDeque::new() };
        let mut events = Vec::new();
        conn.client.on_connect(&mut events);
        conn.events.extend(events);
        conn.flush();
        conn
    }

    fn flush(&mut self) {
        let out = self.client.take_output();
        // A write to a connection the peer closed may fail; the read then sees the end.
        let _ = self.stream.write_all(&out);
    }

    fn request(&mut self, tag: Tag, command: Command<'_>) {
        self.client.request(tag, command).expect("connected");
        self.flush();
    }

    fn publish(&mut self, tag: Tag, topic: &str, data: &[u8], maxlen: u64, epoch: &str) {
        self.request(tag, Command::Publish { topic, data, time_ms: 1_700_000_000_000 + tag, maxlen, epoch });
    }

    /// The next event, reading (and writing resends) as needed.
    fn next(&mut self) -> Event {
        let mut buf = [0u8; 16 * 1024];
        loop {
            if let Some(event) = self.events.pop_front() {
                return event;
            }
            let mut events = Vec::new();
            match self.stream.read(&mut buf) {
                Ok(0) => self.client.on_disconnect(&mut events),
                Ok(n) => self.client.on_input(&buf[..n], &mut events),
                // A child process ending (another test's redis-server) may interrupt a read.
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == ErrorKind::ConnectionReset => self.client.on_disconnect(&mut events),
                Err(e) => panic!("no reply from redis: {e}"),
            }
            self.events.extend(events);
            self.flush();
        }
    }

    /// Publishes and returns `(id, epoch)`.
    fn published(&mut self, tag: Tag, topic: &str, data: &[u8], maxlen: u64, epoch: &str) -> (u64, Box<str>) {
        self.publish(tag, topic, data, maxlen, epoch);
        match self.next() {
            Event::Published { tag: t, id, epoch } if t == tag => (id, epoch),
            other => panic!("{other:?}"),
        }
    }

    /// Reads history and returns `(last_id, epoch, entries)`.
    fn history(&mut self, topic: &str, after: u64, count: u64) -> (u64, Box<str>, Vec<Entry>) {
        self.request(99, Command::History { topic, after, count, epoch: "fresh" });
        match self.next() {
            Event::History { tag: 99, last_id, epoch, entries } => (last_id, epoch, entries),
            other => panic!("{other:?}"),
        }
    }
}

/// A Pub/Sub connection: a [`PubSub`] on a blocking socket.
struct Sub {
    stream: TcpStream,
    subscriber: PubSub,
    events: VecDeque<subscriber::Event>,
}

impl Sub {
    fn connect(url: &str) -> Sub {
        let url = RedisUrl::parse(url).unwrap();
        let stream = TcpStream::connect(url.addr()).unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        let mut sub = Sub { stream, subscriber: PubSub::new(url), events: VecDeque::new() };
        sub.subscriber.on_connect();
        sub.flush();
        sub
    }

    fn flush(&mut self) {
        let out = self.subscriber.take_output();
        let _ = self.stream.write_all(&out);
    }

    fn next(&mut self) -> subscriber::Event {
        let mut buf = [0u8; 16 * 1024];
        loop {
            if let Some(event) = self.events.pop_front() {
                return event;
            }
            let mut events = Vec::new();
            match self.stream.read(&mut buf) {
                Ok(n) if n > 0 => self.subscriber.on_input(&buf[..n], &mut events),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                other => panic!("subscriber connection ended: {other:?}"),
            }
            self.events.extend(events);
        }
    }

    fn subscribe(&mut self, topic: &str) {
        self.subscriber.subscribe(topic);
        self.flush();
        assert_eq!(self.next(), subscriber::Event::Subscribed { topic: topic.into() });
    }
}

#[test]
fn publish_gives_consecutive_ids_in_one_epoch_and_the_shas_are_redis_own() {
    let Some(redis) = RedisServer::start() else { return };
    let mut conn = Conn::connect(&redis.url());
    // A fresh Redis has no scripts: the first EVALSHA is refused and resent as EVAL.
    let ids: Vec<(u64, Box<str>)> =
        (1..=3).map(|tag| conn.published(tag, "news", b"hello", 100, &format!("ep{tag}"))).collect();
    assert_eq!(ids, [(1, "ep1".into()), (2, "ep1".into()), (3, "ep1".into())]);
    for script in [PUBLISH, HISTORY] {
        let reply = redis.command(&["SCRIPT", "LOAD", script.source]);
        assert_eq!(reply, format!("$40\r\n{}\r\n", script.sha1()).into_bytes(), "{}", script.name);
    }
    // Another connection (another node) continues the same numbering.
    let mut other = Conn::connect(&redis.url());
    assert_eq!(other.published(4, "news", b"x", 100, "ep-other"), (4, "ep1".into()));
    assert_eq!(conn.published(5, "sport", b"x", 100, "ep-sport"), (1, "ep-sport".into()));
}

#[test]
fn history_after_a_cursor_returns_exactly_the_stored_messages() {
    let Some(redis) = RedisServer::start() else { return };
    let mut conn = Conn::connect(&redis.url());
    let data: [&[u8]; 5] = [b"one", b"two\nlines", b"", b"\0binary\r\n\xff", b"five"];
    for (i, d) in data.iter().enumerate() {
        conn.published(i as u64 + 1, "t", d, 100, "ep");
    }
    let (last, epoch, entries) = conn.history("t", 2, 10);
    assert_eq!((last, &*epoch), (5, "ep"));
    let expected: Vec<Entry> = (3..=5)
        .map(|id| Entry { id, time_ms: 1_700_000_000_000 + id, data: data[id as usize - 1].to_vec() })
        .collect();
    assert_eq!(entries, expected);
    assert_eq!(conn.history("t", 2, 2).2.iter().map(|e| e.id).collect::<Vec<_>>(), [3, 4]);
    assert_eq!(conn.history("t", 0, 10).2.len(), 5);
    assert_eq!(conn.history("t", 5, 10).2, []);
    assert_eq!(conn.history("t", 99, 10).2, []);
    assert_eq!(conn.history("t", 0, 0).2, []);
    // A topic never published to: last id 0, and its epoch is set now, for good.
    assert_eq!(conn.history("empty", 0, 10), (0, "fresh".into(), vec![]));
    assert_eq!(conn.published(7, "empty", b"x", 100, "other"), (1, "fresh".into()));
}

#[test]
fn maxlen_trims_the_stream_exactly() {
    let Some(redis) = RedisServer::start() else { return };
    let mut conn = Conn::connect(&redis.url());
    for tag in 1..=7 {
        conn.published(tag, "t", b"m", 3, "ep");
    }
    let (last, _, entries) = conn.history("t", 0, 100);
    assert_eq!(last, 7);
    assert_eq!(entries.iter().map(|e| e.id).collect::<Vec<_>>(), [5, 6, 7]);
    assert_eq!(redis.command(&["XLEN", "{t}:stream"]), b":3\r\n");
}

#[test]
fn script_flush_then_pipelined_requests_fall_back_to_eval_in_order() {
    let Some(redis) = RedisServer::start() else { return };
    let mut conn = Conn::connect(&redis.url());
    assert_eq!(conn.published(1, "t", b"m1", 100, "ep").0, 1);
    assert_eq!(redis.command(&["SCRIPT", "FLUSH"]), b"+OK\r\n");
    // Five requests in flight at once, all sent as EVALSHA to a Redis that forgot the scripts.
    for tag in 2..=4 {
        conn.publish(tag, "t", format!("m{tag}").as_bytes(), 100, "ep");
    }
    conn.request(5, Command::History { topic: "t", after: 0, count: 10, epoch: "ep" });
    conn.publish(6, "t", b"m6", 100, "ep");
    let mut seen = Vec::new();
    for _ in 0..5 {
        match conn.next() {
            Event::Published { tag, id, .. } => seen.push((tag, id)),
            Event::History { tag, last_id, entries, .. } => {
                assert_eq!(entries.len() as u64, last_id);
                seen.push((tag, last_id));
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(seen, [(2, 2), (3, 3), (4, 4), (5, 4), (6, 5)]);
    assert_eq!(conn.client.in_flight(), 0);
}

#[test]
fn auth_and_select_from_the_url() {
    let Some(redis) = RedisServer::start_with_password("s3cret") else { return };
    let port = redis.port();
    let mut conn = Conn::connect(&redis.url());
    assert_eq!(conn.published(1, "t", b"x", 100, "ep").0, 1);
    // `USER:PASSWORD@`: AUTH default s3cret (Redis 6 ACLs).
    let mut user = Conn::connect(&format!("redis://default:s3cret@127.0.0.1:{port}"));
    assert_eq!(user.published(2, "t", b"x", 100, "ep").0, 2);
    // Database 3 is another key space: the same topic starts at 1 there.
    let mut db3 = Conn::connect(&format!("redis://:s3cret@127.0.0.1:{port}/3"));
    assert_eq!(db3.published(3, "t", b"x", 100, "ep").0, 1);
    assert_eq!(conn.history("t", 0, 10).0, 2);

    let mut wrong = Conn::connect(&format!("redis://:nope@127.0.0.1:{port}"));
    wrong.publish(4, "t", b"x", 100, "ep");
    match wrong.next() {
        Event::Fatal { error: RedisError::Auth, detail } => {
            assert!(detail.starts_with("WRONGPASS"), "{detail}")
        }
        other => panic!("{other:?}"),
    }
    let mut events = Vec::new();
    wrong.client.on_disconnect(&mut events);
    assert!(matches!(&events[..], [Event::Failed { tag: 4, error: RedisError::ConnectionLost, .. }]));
    // No password: the script call itself is refused.
    let mut none = Conn::connect(&format!("redis://127.0.0.1:{port}"));
    none.publish(5, "t", b"x", 100, "ep");
    match none.next() {
        Event::Failed { tag: 5, error: RedisError::ErrorReply, detail } => {
            assert!(detail.starts_with("NOAUTH"), "{detail}")
        }
        other => panic!("{other:?}"),
    }
    let mut bad_db = Conn::connect(&format!("redis://:s3cret@127.0.0.1:{port}/999"));
    bad_db.publish(6, "t", b"x", 100, "ep");
    assert!(matches!(bad_db.next(), Event::Fatal { error: RedisError::Select, .. }));
}

#[test]
fn subscriber_hears_every_publish_with_its_id() {
    let Some(redis) = RedisServer::start_with_password("pw") else { return };
    let url = format!("{}/2", redis.url());
    let mut sub = Sub::connect(&url);
    sub.subscribe("news");
    sub.subscribe("other");
    let mut conn = Conn::connect(&url);
    let data: [&[u8]; 3] = [b"a", b"two\nlines\r\n", b"\xff\0"];
    let mut epoch = Box::from("");
    for (i, d) in data.iter().enumerate() {
        epoch = conn.published(i as u64 + 1, "news", d, 100, "ep-news").1;
    }
    for (i, d) in data.iter().enumerate() {
        let id = i as u64 + 1;
        let expected = subscriber::Event::Message {
            topic: "news".into(),
            epoch: epoch.clone(),
            id,
            time_ms: 1_700_000_000_000 + id,
            data: d.to_vec(),
        };
        assert_eq!(sub.next(), expected);
    }
    // Unsubscribed: the next message on that topic is not heard; the other topic's is.
    sub.subscriber.unsubscribe("news");
    sub.flush();
    conn.published(4, "news", b"unheard", 100, "ep");
    conn.published(5, "other", b"heard", 100, "ep-other");
    match sub.next() {
        subscriber::Event::Message { topic, id: 1, data, .. } => {
            assert_eq!((&*topic, &data[..]), ("other", &b"heard"[..]))
        }
        other => panic!("{other:?}"),
    }
    sub.subscriber.ping();
    sub.flush();
    assert_eq!(sub.next(), subscriber::Event::Pong);
}

#[test]
fn redis_restarted_empty_gives_a_new_epoch_and_id_1() {
    let Some(mut redis) = RedisServer::start() else { return };
    let mut conn = Conn::connect(&redis.url());
    let mut sub = Sub::connect(&redis.url());
    sub.subscribe("t");
    conn.published(1, "t", b"a", 100, "epoch-1");
    let (id, epoch) = conn.published(2, "t", b"b", 100, "epoch-2");
    assert_eq!((id, &*epoch), (2, "epoch-1"));

    redis.restart_empty();
    // The old connection is gone: a request in flight fails, and says why.
    conn.publish(3, "t", b"c", 100, "epoch-3");
    assert!(matches!(conn.next(), Event::Failed { tag: 3, error: RedisError::ConnectionLost, .. }));
    assert_eq!(conn.client.request(4, Command::Ping), Err(RedisError::NotConnected));

    // Reconnected: nothing is renumbered silently — the epoch changed and ids start over.
    let mut conn = Conn::connect(&redis.url());
    assert_eq!(conn.published(5, "t", b"d", 100, "epoch-5"), (1, "epoch-5".into()));
    assert_eq!(conn.history("t", 2, 10), (1, "epoch-5".into(), vec![]));
    // The subscriber, reconnected, resubscribes what it wanted.
    sub.subscriber.on_disconnect();
    sub.stream = TcpStream::connect(("127.0.0.1", redis.port())).unwrap();
    sub.stream.set_read_timeout(Some(PATIENCE)).unwrap();
    sub.subscriber.on_connect();
    sub.flush();
    assert_eq!(sub.next(), subscriber::Event::Subscribed { topic: "t".into() });
    conn.published(6, "t", b"e", 100, "x");
    assert!(
        matches!(sub.next(), subscriber::Event::Message { id: 2, ref epoch, .. } if &**epoch == "epoch-5")
    );
}

/// A fake Redis that answers whatever comes with `reply`, then closes.
fn fake_redis(reply: &'static [u8]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut buf = [0u8; 4096];
        let _ = stream.read(&mut buf);
        let _ = stream.write_all(reply);
    });
    format!("redis://{addr}")
}

#[test]
fn garbage_or_a_truncated_reply_is_a_clear_error_not_a_panic() {
    for (reply, error) in [
        (
            &b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"[..],
            RedisError::Protocol(RespError::Type),
        ),
        (b"*2\r\n:1\r\n$-7\r\n", RedisError::Protocol(RespError::NegativeLength)),
        (b"$99999999999\r\n", RedisError::Protocol(RespError::BulkTooLong)),
        (b"*2\r\n:1\r\n$4\r\nep\r\nX", RedisError::Protocol(RespError::Delimiter)),
    ] {
        let mut conn = Conn::connect(&fake_redis(reply));
        conn.publish(1, "t", b"x", 100, "ep");
        match conn.next() {
            Event::Fatal { error: e, detail } => assert_eq!((e, &*detail), (error, error.reason())),
            other => panic!("{other:?}"),
        }
    }
    // Truncated, then the connection closes: the request fails as connection lost.
    let mut conn = Conn::connect(&fake_redis(b"*2\r\n:1\r\n$4\r\nep"));
    conn.publish(1, "t", b"x", 100, "ep");
    assert!(matches!(conn.next(), Event::Failed { tag: 1, error: RedisError::ConnectionLost, .. }));
}
