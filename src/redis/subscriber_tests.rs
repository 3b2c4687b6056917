//! Tests for `subscriber.rs`, over the pushes Redis sends (RESP2, as captured from Redis 7.0).

use super::*;

fn subscriber(url: &str) -> PubSub {
    let mut s = PubSub::new(RedisUrl::parse(url).unwrap());
    s.on_connect();
    s
}

fn feed(s: &mut PubSub, input: &[u8]) -> Vec<Event> {
    let mut events = Vec::new();
    s.on_input(input, &mut events);
    events
}

fn push(kind: &str, channel: &str, last: &str) -> Vec<u8> {
    format!("*3\r\n${}\r\n{kind}\r\n${}\r\n{channel}\r\n{last}", kind.len(), channel.len()).into_bytes()
}

fn confirm(kind: &str, channel: &str, count: i64) -> Vec<u8> {
    push(kind, channel, &format!(":{count}\r\n"))
}

fn message(channel: &str, payload: &[u8]) -> Vec<u8> {
    let mut wire = push("message", channel, &format!("${}\r\n", payload.len()));
    wire.extend_from_slice(payload);
    wire.extend_from_slice(b"\r\n");
    wire
}

fn subscribed(topic: &str) -> Event {
    Event::Subscribed { topic: topic.into() }
}

fn msg(topic: &str, id: u64, data: &[u8]) -> Event {
    Event::Message { topic: topic.into(), epoch: "ep".into(), id, time_ms: 1700, data: data.to_vec() }
}

#[test]
fn test_subscribe_confirm_then_messages() {
    let mut s = subscriber("redis://h:1");
    s.subscribe("news");
    assert_eq!(s.take_output(), b"*2\r\n$9\r\nSUBSCRIBE\r\n$12\r\n{news}:pub:0\r\n");
    assert!(s.wants("news") && !s.is_live("news"));
    assert_eq!(feed(&mut s, &confirm("subscribe", "{news}:pub:0", 1)), [subscribed("news")]);
    assert!(s.is_live("news"));
    let mut wire = message("{news}:pub:0", b"ep 1 1700\nhello\nworld");
    wire.extend(message("{news}:pub:0", b"ep 2 1700\n"));
    assert_eq!(feed(&mut s, &wire), [msg("news", 1, b"hello\nworld"), msg("news", 2, b"")]);
    // Byte by byte, the same.
    let mut events = Vec::new();
    for b in &wire {
        events.extend(feed(&mut s, std::slice::from_ref(b)));
    }
    assert_eq!(events, [msg("news", 1, b"hello\nworld"), msg("news", 2, b"")]);
    // Subscribing again sends nothing.
    s.subscribe("news");
    assert!(!s.has_output());
}

#[test]
fn test_unsubscribe_racing_messages_drops_them() {
    let mut s = subscriber("redis://h:1");
    s.subscribe("a");
    feed(&mut s, &confirm("subscribe", "{a}:pub:0", 1));
    s.take_output();
    s.unsubscribe("a");
    assert_eq!(s.take_output(), b"*2\r\n$11\r\nUNSUBSCRIBE\r\n$9\r\n{a}:pub:0\r\n");
    // Published before Redis saw the UNSUBSCRIBE: nobody here wants it any more.
    assert_eq!(feed(&mut s, &message("{a}:pub:0", b"ep 3 1700\nx")), []);
    assert_eq!(feed(&mut s, &confirm("unsubscribe", "{a}:pub:0", 0)), []);
    assert!(!s.wants("a"));
    // Redis sends nothing on a channel after confirming the UNSUBSCRIBE; if it did, no
    // topic here is live to take it.
    assert_eq!(feed(&mut s, &message("{a}:pub:0", b"ep 4 1700\nx")), []);
}

#[test]
fn test_quick_unsubscribe_and_subscribe_ends_in_one_subscribed() {
    let mut s = subscriber("redis://h:1");
    s.subscribe("a");
    s.unsubscribe("a");
    s.subscribe("a");
    let sent = s.take_output();
    assert_eq!(sent.windows(9).filter(|w| w == b"SUBSCRIBE").count(), 3, "SUBSCRIBE, UNSUBSCRIBE, SUBSCRIBE");
    let mut wire = confirm("subscribe", "{a}:pub:0", 1);
    wire.extend(message("{a}:pub:0", b"ep 1 1700\nx"));
    wire.extend(confirm("unsubscribe", "{a}:pub:0", 0));
    wire.extend(confirm("subscribe", "{a}:pub:0", 1));
    wire.extend(message("{a}:pub:0", b"ep 2 1700\ny"));
    assert_eq!(feed(&mut s, &wire), [subscribed("a"), msg("a", 2, b"y")]);
}

#[test]
fn test_reconnect_resubscribes_every_wanted_topic_after_auth() {
    let mut s = subscriber("redis://:pw@h:1/4");
    s.subscribe("b");
    s.subscribe("a");
    s.unsubscribe("b");
    s.subscribe("c");
    s.on_disconnect();
    assert!(!s.is_live("a") && s.wants("a") && !s.wants("b"));
    s.on_connect();
    assert_eq!(
        s.take_output(),
        b"*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n*3\r\n$9\r\nSUBSCRIBE\r\n$9\r\n{a}:pub:4\r\n$9\r\n{c}:pub:4\r\n"
    );
    let mut wire = b"+OK\r\n".to_vec();
    wire.extend(confirm("subscribe", "{a}:pub:4", 1));
    wire.extend(confirm("subscribe", "{c}:pub:4", 2));
    assert_eq!(feed(&mut s, &wire), [subscribed("a"), subscribed("c")]);
    // Another database's channel of the same topic is not ours.
    assert!(matches!(&feed(&mut s, &message("{a}:pub:0", b"ep 1 1\nx"))[..], [Event::Fatal { .. }]));
}

#[test]
fn test_auth_refused_and_noauth_are_fatal() {
    let mut s = subscriber("redis://:bad@h:1");
    let events = feed(&mut s, b"-WRONGPASS invalid username-password pair or user is disabled.\r\n");
    assert!(
        matches!(&events[..], [Event::Fatal { error: RedisError::Auth, detail }] if detail.starts_with("WRONGPASS"))
    );
    assert_eq!(feed(&mut s, b"+OK\r\n"), []);
    let mut s = subscriber("redis://h:1");
    s.subscribe("a");
    let events = feed(&mut s, b"-NOAUTH Authentication required.\r\n");
    assert!(matches!(&events[..], [Event::Fatal { error: RedisError::Auth, .. }]));
}

#[test]
fn test_pings_foreign_payloads_and_garbage() {
    let mut s = subscriber("redis://h:1");
    s.ping();
    assert_eq!(s.take_output(), b"*1\r\n$4\r\nPING\r\n");
    assert_eq!(feed(&mut s, b"+PONG\r\n"), [Event::Pong]);
    s.subscribe("a");
    feed(&mut s, &confirm("subscribe", "{a}:pub:0", 1));
    assert_eq!(feed(&mut s, b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"), [Event::Pong]);
    // Not publish.lua's format: skipped, the connection stays.
    assert_eq!(feed(&mut s, &message("{a}:pub:0", b"hello from redis-cli")), []);
    assert!(s.is_live("a"));
    let events = feed(&mut s, b"*3\r\n$7\r\nmessage\r\n$-7\r\n");
    assert!(matches!(&events[..], [Event::Fatal { error: RedisError::Protocol(_), .. }]));
    assert_eq!(feed(&mut s, &message("{a}:pub:0", b"ep 1 1\nx")), []);
    s.on_connect();
    assert_eq!(s.take_output(), b"*2\r\n$9\r\nSUBSCRIBE\r\n$9\r\n{a}:pub:0\r\n");
}
