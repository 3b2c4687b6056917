//! Tests for `client.rs`, over the bytes Redis sends (replies as captured from Redis 7.0,
//! docs/09-notes-redis.md).

use super::*;
use crate::wire::resp::parse;
use crate::wire::Status;

fn client(url: &str) -> Client {
    let mut client = Client::new(RedisUrl::parse(url).unwrap());
    let mut events = Vec::new();
    client.on_connect(&mut events);
    assert!(events.is_empty());
    client
}

/// Every command in `output`, each as its list of arguments.
fn commands(output: &[u8]) -> Vec<Vec<Vec<u8>>> {
    let mut at = 0;
    let mut out = Vec::new();
    while at < output.len() {
        let Ok(Status::Complete((value, len))) = parse(&output[at..]) else { panic!("not RESP") };
        out.push(value.as_array().unwrap().iter().map(|v| v.as_bytes().unwrap().to_vec()).collect());
        at += len;
    }
    out
}

fn publish<'a>(topic: &'a str, data: &'a [u8]) -> Command<'a> {
    Command::Publish { topic, data, time_ms: 1700, maxlen: 10, epoch: "ep" }
}

fn feed(client: &mut Client, input: &[u8]) -> Vec<Event> {
    let mut events = Vec::new();
    client.on_input(input, &mut events);
    events
}

fn published(tag: Tag, id: u64) -> Event {
    Event::Published { tag, id, epoch: "ep".into() }
}

fn reply(id: u64) -> Vec<u8> {
    format!("*2\r\n:{id}\r\n$2\r\nep\r\n").into_bytes()
}

const NOSCRIPT: &[u8] = b"-NOSCRIPT No matching script. Please use EVAL.\r\n";

#[test]
fn test_handshake_auth_user_and_select() {
    let mut c = client("redis://alice:pw@h:1/3");
    assert_eq!(
        c.take_output(),
        b"*3\r\n$4\r\nAUTH\r\n$5\r\nalice\r\n$2\r\npw\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n"
    );
    assert_eq!(feed(&mut c, b"+OK\r\n+OK\r\n"), []);
    assert_eq!(c.state(), State::Connected);
    let mut c = client("redis://:pw@h:1");
    assert_eq!(c.take_output(), b"*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n");
    let mut c = client("redis://h:1");
    assert!(!c.has_output());
    assert_eq!(c.take_output(), b"");
}

#[test]
fn test_auth_refused_is_fatal_with_redis_text() {
    let mut c = client("redis://:wrong@h:1");
    c.take_output();
    c.request(1, publish("t", b"x")).unwrap();
    let events = feed(&mut c, b"-WRONGPASS invalid username-password pair or user is disabled.\r\n-NOAUTH Authentication required.\r\n");
    assert_eq!(
        events,
        [Event::Fatal {
            error: RedisError::Auth,
            detail: "WRONGPASS invalid username-password pair or user is disabled.".into()
        }]
    );
    assert_eq!(c.state(), State::Broken);
    assert_eq!(feed(&mut c, b"+OK\r\n"), []);
    assert_eq!(c.request(2, Command::Ping), Err(RedisError::NotConnected));
    let mut events = Vec::new();
    c.on_disconnect(&mut events);
    assert_eq!(
        events,
        [Event::Failed {
            tag: 1,
            error: RedisError::ConnectionLost,
            detail: "the connection to Redis was lost".into()
        }]
    );
    // SELECT refused.
    let mut c = client("redis://h:1/99");
    let events = feed(&mut c, b"-ERR DB index is out of range\r\n");
    assert!(
        matches!(&events[..], [Event::Fatal { error: RedisError::Select, detail }] if detail.contains("out of range"))
    );
}

#[test]
fn test_publish_is_evalsha_with_keys_and_args() {
    let mut c = client("redis://h:1/2");
    c.take_output();
    c.request(7, publish("news", b"hello")).unwrap();
    let sent = commands(&c.take_output());
    let sha = PUBLISH.sha1();
    let expected: Vec<&[u8]> = vec![
        b"EVALSHA",
        sha.as_bytes(),
        b"2",
        b"{news}:meta",
        b"{news}:stream",
        b"hello",
        b"1700",
        b"10",
        b"ep",
        b"{news}:pub:2",
    ];
    assert_eq!(sent, [expected.iter().map(|a| a.to_vec()).collect::<Vec<_>>()]);
    assert_eq!(feed(&mut c, b"+OK\r\n"), []);
    assert_eq!(feed(&mut c, &reply(1)), [published(7, 1)]);
    assert_eq!(c.in_flight(), 0);
}

#[test]
fn test_pipelined_replies_in_any_pieces_reach_their_tags() {
    let mut c = client("redis://h:1");
    c.request(1, publish("a", b"1")).unwrap();
    c.request(2, Command::History { topic: "a", after: 0, count: 10, epoch: "ep" }).unwrap();
    c.request(3, Command::Ping).unwrap();
    c.request(4, publish("a", b"2")).unwrap();
    assert_eq!(commands(&c.take_output()).len(), 4);
    let mut wire = reply(5);
    wire.extend_from_slice(b"*3\r\n:5\r\n$2\r\nep\r\n*1\r\n*2\r\n$3\r\n5-0\r\n*4\r\n$1\r\nd\r\n$1\r\n1\r\n$1\r\nt\r\n$4\r\n1700\r\n");
    wire.extend_from_slice(b"+PONG\r\n");
    wire.extend_from_slice(&reply(6));
    let expected = vec![
        published(1, 5),
        Event::History {
            tag: 2,
            last_id: 5,
            epoch: "ep".into(),
            entries: vec![Entry { id: 5, time_ms: 1700, data: b"1".to_vec() }],
        },
        Event::Pong { tag: 3 },
        published(4, 6),
    ];
    // Whole, then one byte at a time.
    assert_eq!(feed(&mut c, &wire), expected);
    let mut bytewise = Vec::new();
    let mut c = client("redis://h:1");
    for tag in [1, 2, 3, 4] {
        let command = match tag {
            2 => Command::History { topic: "a", after: 0, count: 10, epoch: "ep" },
            3 => Command::Ping,
            _ => publish("a", b"x"),
        };
        c.request(tag, command).unwrap();
    }
    for b in &wire {
        bytewise.extend(feed(&mut c, std::slice::from_ref(b)));
    }
    assert_eq!(bytewise, expected);
}

#[test]
fn test_error_replies_fail_their_own_tag_only() {
    let mut c = client("redis://h:1");
    c.request(1, publish("a", b"1")).unwrap();
    c.request(2, publish("a", b"2")).unwrap();
    c.request(3, publish("a", b"3")).unwrap();
    let mut wire =
        b"-ERR Error running script (call to f_x): @user_script:1: OOM command not allowed\r\n".to_vec();
    wire.extend_from_slice(b"*2\r\n:-1\r\n$2\r\nep\r\n");
    wire.extend_from_slice(&reply(9));
    let events = feed(&mut c, &wire);
    assert!(
        matches!(&events[0], Event::Failed { tag: 1, error: RedisError::ErrorReply, detail } if detail.contains("OOM"))
    );
    assert!(matches!(&events[1], Event::Failed { tag: 2, error: RedisError::Reply, .. }));
    assert_eq!(events[2], published(3, 9));
    assert_eq!(c.state(), State::Connected);
}

#[test]
fn test_noscript_resends_as_eval_in_request_order() {
    let mut c = client("redis://h:1");
    c.request(1, publish("a", b"1")).unwrap();
    c.request(2, publish("a", b"2")).unwrap();
    c.take_output();
    // Redis lost its scripts: the first EVALSHA is refused and resent as EVAL at once.
    assert_eq!(feed(&mut c, NOSCRIPT), []);
    let resent = commands(&c.take_output());
    assert_eq!(resent.len(), 1);
    assert_eq!(resent[0][0], b"EVAL");
    assert_eq!(resent[0][1], PUBLISH.source.as_bytes());
    assert_eq!(resent[0][5], b"1");
    // A request made now would overtake request 2's resend: it is held.
    c.request(3, publish("a", b"3")).unwrap();
    assert!(!c.has_output());
    assert_eq!(c.in_flight(), 3);
    // Request 2's refusal: resent, then the barrier is passed and 3 goes out as EVALSHA.
    assert_eq!(feed(&mut c, NOSCRIPT), []);
    let sent = commands(&c.take_output());
    assert_eq!(
        sent.iter().map(|s| (s[0].clone(), s[5].clone())).collect::<Vec<_>>(),
        [(b"EVAL".to_vec(), b"2".to_vec()), (b"EVALSHA".to_vec(), b"3".to_vec())]
    );
    let mut wire = reply(1);
    wire.extend_from_slice(&reply(2));
    wire.extend_from_slice(&reply(3));
    assert_eq!(feed(&mut c, &wire), [published(1, 1), published(2, 2), published(3, 3)]);
    assert_eq!(c.in_flight(), 0);
}

#[test]
fn test_noscript_after_eval_is_an_error_not_a_loop() {
    let mut c = client("redis://h:1");
    c.request(1, publish("a", b"1")).unwrap();
    feed(&mut c, NOSCRIPT);
    c.take_output();
    let events = feed(&mut c, NOSCRIPT);
    assert!(matches!(&events[..], [Event::Failed { tag: 1, error: RedisError::ErrorReply, .. }]));
    assert!(!c.has_output());
}

#[test]
fn test_disconnect_fails_sent_and_held_in_order() {
    let mut c = client("redis://:pw@h:1");
    c.request(1, publish("a", b"1")).unwrap();
    c.request(2, publish("a", b"2")).unwrap();
    feed(&mut c, b"+OK\r\n");
    feed(&mut c, NOSCRIPT);
    c.request(3, publish("a", b"3")).unwrap();
    let mut events = Vec::new();
    c.on_disconnect(&mut events);
    let tags: Vec<Tag> = events
        .iter()
        .map(|e| match e {
            Event::Failed { tag, error: RedisError::ConnectionLost, .. } => *tag,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(tags, [2, 1, 3]);
    assert_eq!(c.in_flight(), 0);
    assert_eq!(c.request(4, Command::Ping), Err(RedisError::NotConnected));
    // Reconnected: a fresh handshake, and nothing of the old connection is left.
    c.on_connect(&mut events);
    assert_eq!(c.take_output(), b"*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n");
    c.request(5, publish("a", b"5")).unwrap();
    assert_eq!(commands(&c.take_output())[0][0], b"EVALSHA");
}

#[test]
fn test_garbage_and_unsolicited_replies_are_fatal() {
    for (input, error) in [
        (&b"HTTP/1.1 400 Bad Request\r\n"[..], RedisError::Protocol(crate::wire::resp::RespError::Type)),
        (b"$-5\r\n", RedisError::Protocol(crate::wire::resp::RespError::NegativeLength)),
        (b"*2\r\n:1\r\n$2\r\nep\r\n+OK\r\n", RedisError::Unsolicited),
    ] {
        let mut c = client("redis://h:1");
        c.request(1, publish("a", b"1")).unwrap();
        let events = feed(&mut c, input);
        assert_eq!(
            events.last().map(|e| matches!(e, Event::Fatal { error: e, .. } if *e == error)),
            Some(true),
            "{events:?}"
        );
        assert_eq!(c.state(), State::Broken);
    }
    // A truncated reply is no reply: nothing happens until the connection is lost.
    let mut c = client("redis://h:1");
    c.request(1, publish("a", b"1")).unwrap();
    assert_eq!(feed(&mut c, b"*2\r\n:1\r\n$2\r\ne"), []);
    let mut events = Vec::new();
    c.on_disconnect(&mut events);
    assert!(matches!(&events[..], [Event::Failed { tag: 1, error: RedisError::ConnectionLost, .. }]));
}

#[test]
fn test_requests_need_a_connection() {
    let mut c = Client::new(RedisUrl::parse("redis://h:1").unwrap());
    assert_eq!(c.request(1, Command::Ping), Err(RedisError::NotConnected));
    assert_eq!(c.state(), State::Disconnected);
}
