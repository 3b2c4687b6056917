//! The command connection: pipelined script calls, each reply matched to its caller's tag.
//!
//! Heads up! Before working on this file, read the RESP specification's "Multiple commands
//! and pipelining" (replies come in the order of the commands, whatever their number) and
//! the `EVALSHA` page (an unknown SHA-1 is answered `-NOSCRIPT No matching script.`).
//!
//! Interface, in smoltcp's shape — input in, output and events out, no I/O:
//!
//! - [`Client::on_connect`] when the TCP connection is up: queues `AUTH` (if the URL has a
//!   password) and `SELECT` (if it names a database other than 0). Their replies are
//!   checked here and never reach the caller, except a refusal, which is a
//!   [`Event::Fatal`].
//! - [`Client::request`] with a tag and a [`Command`]: queues the command, pipelined behind
//!   whatever is in flight (the handshake included: Redis runs commands in order, so
//!   nothing runs before `AUTH`).
//! - [`Client::take_output`]: the bytes to write.
//! - [`Client::on_input`] with bytes read: one event per reply, in request order.
//! - [`Client::on_disconnect`] when the connection is gone: every request still waiting
//!   fails with [`RedisError::ConnectionLost`] (so the server can answer `503`).
//!
//! After a [`Event::Fatal`] (bytes that are not RESP, a reply nobody asked for, a refused
//! `AUTH`) the client reads nothing more: drop the connection, call `on_disconnect`, and
//! reconnect after [`super::backoff::Backoff`]'s delay.
//!
//! **`NOSCRIPT`.** A script is sent as `EVALSHA`; a Redis without it in its cache answers
//! `-NOSCRIPT`, having run nothing, and we resend that request as `EVAL` (which caches the
//! script) under the same tag. Pipelining makes this subtle: every `EVALSHA` sent before
//! the first resend is already on its way and will most likely be refused too, and each
//! is resent when its refusal comes, after the resends before it. A request made while
//! such refusals may still come would overtake them, so it is *held* — not sent — until
//! the reply to the last command sent before the first resend has arrived (the *barrier*);
//! then the held requests go out, in order. So requests run in the order they were made,
//! and every reply reaches its own tag. (Only another client loading the script in the
//! middle of this, letting some early `EVALSHA` succeed, can reorder them.)
#![forbid(unsafe_code)]

use std::collections::VecDeque;

use super::script::{self, Entry, Script, HISTORY, PUBLISH};
use super::url::RedisUrl;
use super::{Input, RedisError, Tag};
use crate::wire::resp::{encode_array_header, encode_bulk, encode_command, Value};

/// What pushlab asks of Redis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command<'a> {
    /// Run `publish.lua`: number `data`, store it (the stream keeps `maxlen` entries) and
    /// announce it. `epoch` is a fresh candidate ([`script::new_epoch`]).
    Publish { topic: &'a str, data: &'a [u8], time_ms: u64, maxlen: u64, epoch: &'a str },
    /// Run `history.lua`: the topic's last id and epoch, and at most `count` entries with
    /// ids above `after`.
    History { topic: &'a str, after: u64, count: u64, epoch: &'a str },
    /// `PING`: is the connection alive?
    Ping,
}

/// What a reply (or its absence) means to the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The message of request `tag` is stored and announced as `id` in `epoch`.
    Published { tag: Tag, id: u64, epoch: Box<str> },
    /// The history of request `tag`.
    History { tag: Tag, last_id: u64, epoch: Box<str>, entries: Vec<Entry> },
    /// `PING` answered.
    Pong { tag: Tag },
    /// Request `tag` failed; `detail` is Redis's error text, if it sent one.
    Failed { tag: Tag, error: RedisError, detail: Box<str> },
    /// The connection is unusable: drop it, call [`Client::on_disconnect`], reconnect.
    Fatal { error: RedisError, detail: Box<str> },
}

/// Where the connection is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// No connection: requests are refused.
    Disconnected,
    /// Connected (the handshake's replies may still be on their way).
    Connected,
    /// A fatal error came; waiting for the caller to drop the connection.
    Broken,
}

/// The sans-IO command connection.
#[derive(Debug)]
pub struct Client {
    url: RedisUrl,
    publish_sha: String,
    history_sha: String,
    state: State,
    input: Input,
    output: Vec<u8>,
    /// Sent commands, oldest first: the next reply is the front's.
    in_flight: VecDeque<Pending>,
    /// Requests made behind the barrier, not sent yet.
    held: VecDeque<Call>,
    /// The sequence number of the last call sent.
    sent: u64,
    /// While set: the last call sent before the first `NOSCRIPT` resend.
    barrier: Option<u64>,
}

/// A command whose reply has not come yet.
#[derive(Debug)]
enum Pending {
    Auth,
    Select,
    Call { seq: u64, call: Call, eval: bool },
}

/// A request, kept until it is answered so that it can be resent as `EVAL`.
#[derive(Debug)]
struct Call {
    tag: Tag,
    kind: Kind,
    /// `numkeys key… arg…`, encoded (see [`script::publish_args`]).
    tail: Vec<u8>,
    /// How many bulk strings `tail` holds.
    argc: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Publish,
    History,
    Ping,
}

impl Client {
    /// A client for `url`, not connected yet.
    pub fn new(url: RedisUrl) -> Client {
        Client {
            url,
            publish_sha: PUBLISH.sha1(),
            history_sha: HISTORY.sha1(),
            state: State::Disconnected,
            input: Input::default(),
            output: Vec::new(),
            in_flight: VecDeque::new(),
            held: VecDeque::new(),
            sent: 0,
            barrier: None,
        }
    }

    /// The URL this client connects to.
    pub fn url(&self) -> &RedisUrl {
        &self.url
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// Requests made and not answered yet (sent or held).
    pub fn in_flight(&self) -> usize {
        self.in_flight.iter().filter(|p| matches!(p, Pending::Call { .. })).count() + self.held.len()
    }

    /// A new connection is up: queues the handshake. Anything still waiting from an
    /// earlier connection fails first, into `events`.
    pub fn on_connect(&mut self, events: &mut Vec<Event>) {
        if self.state != State::Disconnected {
            self.on_disconnect(events);
        }
        self.state = State::Connected;
        if let Some(password) = &self.url.password {
            let mut args: Vec<&[u8]> = vec![b"AUTH"];
            if let Some(user) = &self.url.user {
                args.push(user.as_bytes());
            }
            args.push(password.as_bytes());
            encode_command(&mut self.output, &args);
            self.in_flight.push_back(Pending::Auth);
        }
        if self.url.db != 0 {
            encode_command(&mut self.output, &[b"SELECT", self.url.db.to_string().as_bytes()]);
            self.in_flight.push_back(Pending::Select);
        }
    }

    /// Queues `command` under `tag`; its reply comes back as one event carrying `tag`.
    /// `Err(NotConnected)` while there is no usable connection: nothing was queued.
    pub fn request(&mut self, tag: Tag, command: Command<'_>) -> Result<(), RedisError> {
        if self.state != State::Connected {
            return Err(RedisError::NotConnected);
        }
        let db = self.url.db;
        let (kind, (tail, argc)) = match command {
            Command::Publish { topic, data, time_ms, maxlen, epoch } => {
                (Kind::Publish, script::publish_args(topic, data, time_ms, maxlen, epoch, db))
            }
            Command::History { topic, after, count, epoch } => {
                (Kind::History, script::history_args(topic, after, count, epoch))
            }
            Command::Ping => (Kind::Ping, (Vec::new(), 0)),
        };
        let call = Call { tag, kind, tail, argc };
        if self.barrier.is_some() {
            self.held.push_back(call);
        } else {
            self.send(call, false);
        }
        Ok(())
    }

    /// The bytes to write to Redis, in order; the client forgets them.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.output)
    }

    /// Whether there are bytes to write.
    pub fn has_output(&self) -> bool {
        !self.output.is_empty()
    }

    /// Bytes read from Redis, in any pieces: appends one event per whole reply to `events`.
    pub fn on_input(&mut self, input: &[u8], events: &mut Vec<Event>) {
        if self.state != State::Connected {
            return;
        }
        let mut input_half = std::mem::take(&mut self.input);
        let result = input_half.feed(input, |reply| self.on_reply(reply, events));
        self.input = input_half;
        if let Err(error) = result {
            self.fatal(error, error.reason().into(), events);
        }
        if self.state != State::Connected {
            self.input.clear();
        }
    }

    /// The connection is gone: every request not answered fails, in request order.
    pub fn on_disconnect(&mut self, events: &mut Vec<Event>) {
        self.state = State::Disconnected;
        self.input.clear();
        self.output.clear();
        self.barrier = None;
        let calls = std::mem::take(&mut self.in_flight).into_iter().filter_map(|pending| match pending {
            Pending::Call { call, .. } => Some(call),
            Pending::Auth | Pending::Select => None,
        });
        for call in calls.chain(std::mem::take(&mut self.held)) {
            let error = RedisError::ConnectionLost;
            events.push(Event::Failed { tag: call.tag, error, detail: error.reason().into() });
        }
    }

    /// One whole reply; false when the connection broke on it.
    fn on_reply(&mut self, reply: Value, events: &mut Vec<Event>) -> bool {
        if self.state != State::Connected {
            return false;
        }
        let Some(pending) = self.in_flight.pop_front() else {
            return self.fatal(RedisError::Unsolicited, summary(&reply), events);
        };
        let (seq, call, eval) = match pending {
            Pending::Auth | Pending::Select => {
                let error =
                    if matches!(pending, Pending::Auth) { RedisError::Auth } else { RedisError::Select };
                return match reply {
                    Value::Simple(ok) if ok == b"OK" => true,
                    other => self.fatal(error, summary(&other), events),
                };
            }
            Pending::Call { seq, call, eval } => (seq, call, eval),
        };
        let noscript = matches!(&reply, Value::Error(text) if text.starts_with(b"NOSCRIPT"));
        if noscript && !eval && call.kind != Kind::Ping {
            // Everything sent up to now may be refused the same way: hold new requests
            // until the last of those has answered.
            self.barrier.get_or_insert(self.sent);
            self.send(call, true);
        } else {
            events.push(call.answer(reply));
        }
        if self.barrier == Some(seq) {
            self.barrier = None;
            while let Some(call) = self.held.pop_front() {
                self.send(call, false);
            }
        }
        true
    }

    /// Writes `call` (as `EVAL` when `eval`, else `EVALSHA`) and waits for its reply.
    fn send(&mut self, call: Call, eval: bool) {
        self.sent += 1;
        match call.kind {
            Kind::Ping => encode_command(&mut self.output, &[b"PING"]),
            Kind::Publish | Kind::History => {
                let (script, sha): (Script, &str) = match call.kind {
                    Kind::Publish => (PUBLISH, &self.publish_sha),
                    _ => (HISTORY, &self.history_sha),
                };
                encode_array_header(&mut self.output, 2 + call.argc);
                if eval {
                    encode_bulk(&mut self.output, b"EVAL");
                    encode_bulk(&mut self.output, script.source.as_bytes());
                } else {
                    encode_bulk(&mut self.output, b"EVALSHA");
                    encode_bulk(&mut self.output, sha.as_bytes());
                }
                self.output.extend_from_slice(&call.tail);
            }
        }
        self.in_flight.push_back(Pending::Call { seq: self.sent, call, eval });
    }

    /// Reports a fatal `error`; the client reads nothing more until reconnected.
    fn fatal(&mut self, error: RedisError, detail: Box<str>, events: &mut Vec<Event>) -> bool {
        self.state = State::Broken;
        self.input.clear();
        events.push(Event::Fatal { error, detail });
        false
    }
}

impl Call {
    /// The event `reply` makes of this request.
    fn answer(self, reply: Value) -> Event {
        let tag = self.tag;
        if let Value::Error(text) = &reply {
            let detail = String::from_utf8_lossy(text).into();
            return Event::Failed { tag, error: RedisError::ErrorReply, detail };
        }
        let event = match self.kind {
            Kind::Publish => {
                script::decode_published(&reply).map(|(id, epoch)| Event::Published { tag, id, epoch })
            }
            Kind::History => script::decode_history(&reply).map(|h| Event::History {
                tag,
                last_id: h.last_id,
                epoch: h.epoch,
                entries: h.entries,
            }),
            Kind::Ping => (reply == Value::Simple(b"PONG".to_vec())).then_some(Event::Pong { tag }),
        };
        event.unwrap_or_else(|| Event::Failed { tag, error: RedisError::Reply, detail: summary(&reply) })
    }
}

/// A reply, shortened for an error's detail: an error's text as is, else its encoding.
fn summary(reply: &Value) -> Box<str> {
    const MAX: usize = 200;
    let bytes = match reply {
        Value::Error(text) => text.clone(),
        other => {
            let mut out = Vec::new();
            other.encode(&mut out);
            out
        }
    };
    String::from_utf8_lossy(&bytes[..bytes.len().min(MAX)]).escape_debug().to_string().into()
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
