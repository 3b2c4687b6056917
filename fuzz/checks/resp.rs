//! RESP and the two Redis connections on any bytes. The first byte picks a cut, the second
//! which part runs; the rest is input.
//!
//! - `wire::resp::parse` never panics; a value it parses re-encodes to bytes that parse to
//!   the same value; every shorter prefix of a value is `Partial`; an error stays the same
//!   error when more bytes follow.
//! - `redis::client::Client` (with requests in flight) and `redis::subscriber::PubSub`
//!   (subscribed to topics) fed the input whole or cut in two report the same events and
//!   end in the same state; neither panics, and the client's events plus what is still in
//!   flight account for every request.

use pushlab::redis::client::{self, Client, Command};
use pushlab::redis::subscriber::{self, PubSub};
use pushlab::redis::url::RedisUrl;
use pushlab::wire::resp::parse;
use pushlab::wire::Status;

pub fn check(data: &[u8]) {
    let [cut, which, input @ ..] = data else { return };
    let cut = usize::from(*cut) * input.len() / usize::from(u8::MAX);
    match which % 3 {
        0 => values(input, cut),
        1 => command_connection(input, cut, *which),
        _ => pubsub_connection(input, cut, *which),
    }
}

fn values(input: &[u8], cut: usize) {
    match parse(input) {
        Ok(Status::Complete((value, len))) => {
            assert!(len > 0 && len <= input.len());
            let mut encoded = Vec::new();
            value.encode(&mut encoded);
            assert_eq!(parse(&encoded), Ok(Status::Complete((value.clone(), encoded.len()))));
            if cut < len {
                assert_eq!(parse(&input[..cut]), Ok(Status::Partial));
            }
            // What follows a value does not change it.
            let mut longer = input[..len].to_vec();
            longer.extend_from_slice(b"+OK\r\n");
            assert_eq!(parse(&longer), Ok(Status::Complete((value, len))));
        }
        Ok(Status::Partial) => {
            if cut < input.len() {
                assert_eq!(parse(&input[..cut]), Ok(Status::Partial));
            }
        }
        Err(error) => {
            let mut longer = input.to_vec();
            longer.extend_from_slice(b"\r\n$1\r\nx\r\n");
            assert_eq!(parse(&longer), Err(error));
            // A prefix that already shows the error gives the same error, or needs more.
            let prefix = parse(&input[..cut]);
            assert!(prefix == Ok(Status::Partial) || prefix == Err(error), "{prefix:?} vs {error:?}");
        }
    }
}

fn url(which: u8) -> RedisUrl {
    let text = if which & 8 == 0 { "redis://127.0.0.1:6379" } else { "redis://u:pw@127.0.0.1:6379/3" };
    RedisUrl::parse(text).expect("a valid URL")
}

/// A client with four requests in flight, fed `pieces`: its events and final state.
fn run_client(which: u8, pieces: &[&[u8]]) -> (Vec<client::Event>, client::State, usize, Vec<u8>) {
    let mut client = Client::new(url(which));
    let mut events = Vec::new();
    client.on_connect(&mut events);
    let commands = [
        Command::Publish { topic: "t", data: b"x", time_ms: 1, maxlen: 10, epoch: "ep" },
        Command::History { topic: "t", after: 0, count: 10, epoch: "ep" },
        Command::Ping,
        Command::Publish { topic: "u", data: b"", time_ms: 2, maxlen: 1, epoch: "ep" },
    ];
    for (tag, command) in commands.into_iter().enumerate() {
        client.request(tag as u64, command).expect("connected");
    }
    let mut output = client.take_output();
    for piece in pieces {
        client.on_input(piece, &mut events);
        output.extend(client.take_output());
    }
    let answered = events.iter().filter(|e| !matches!(e, client::Event::Fatal { .. })).count();
    if client.state() == client::State::Connected {
        assert_eq!(answered + client.in_flight(), 4, "every request answered or in flight");
    }
    (events, client.state(), client.in_flight(), output)
}

fn command_connection(input: &[u8], cut: usize, which: u8) {
    let whole = run_client(which, &[input]);
    let split = run_client(which, &[&input[..cut], &input[cut..]]);
    assert_eq!(whole, split);
    // Losing the connection answers everything still waiting.
    let mut client = Client::new(url(which));
    let mut events = Vec::new();
    client.on_connect(&mut events);
    client.request(1, Command::Ping).expect("connected");
    client.on_input(input, &mut events);
    let before = client.in_flight();
    let mut lost = Vec::new();
    client.on_disconnect(&mut lost);
    assert_eq!(lost.len(), before);
    assert_eq!(client.in_flight(), 0);
}

/// A subscriber wanting three topics (one of them dropped again), fed `pieces`.
fn run_subscriber(which: u8, pieces: &[&[u8]]) -> (Vec<subscriber::Event>, Vec<u8>, [bool; 3]) {
    let mut subscriber = PubSub::new(url(which));
    subscriber.subscribe("a");
    subscriber.on_connect();
    subscriber.subscribe("b");
    subscriber.subscribe("c");
    subscriber.unsubscribe("c");
    let mut events = Vec::new();
    let mut output = subscriber.take_output();
    for piece in pieces {
        subscriber.on_input(piece, &mut events);
        output.extend(subscriber.take_output());
    }
    let live = ["a", "b", "c"].map(|t| subscriber.is_live(t));
    subscriber.on_disconnect();
    subscriber.on_connect();
    assert!(subscriber.wants("a") && subscriber.wants("b"));
    (events, output, live)
}

fn pubsub_connection(input: &[u8], cut: usize, which: u8) {
    let whole = run_subscriber(which, &[input]);
    let split = run_subscriber(which, &[&input[..cut], &input[cut..]]);
    assert_eq!(whole, split);
}
