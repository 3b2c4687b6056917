//! The Pub/Sub connection: one subscription per topic with local subscribers.
//!
//! Heads up! Read Redis's "Redis Pub/Sub" page first: after `SUBSCRIBE` a RESP2 connection
//! accepts only (P|S)(UN)SUBSCRIBE, PING, RESET and QUIT, and everything it receives is a
//! three-element array — `subscribe ch count`, `unsubscribe ch count`, `message ch payload`
//! (a `PING` is answered `pong ""`). Each channel named in a (UN)SUBSCRIBE gets its own
//! confirmation, in order.
//!
//! **Desired and confirmed.** A node subscribes to a topic while it has local subscribers
//! and unsubscribes when the last leaves; both may change many times while commands are on
//! the wire. So each topic keeps what the node *wants*, what Redis will hold once every
//! command sent so far is processed (`sent`), and the confirmations still to come, in order.
//! A topic is *live* when it is wanted and no confirmation is pending: only then are its
//! messages delivered. Messages that arrive while an `UNSUBSCRIBE` is on its way, or
//! between a quick unsubscribe-and-subscribe, are dropped: the [`Event::Subscribed`] that
//! ends such a change makes the caller read the gap from the stream.
//!
//! **Filling the gap.** A subscription only hears messages published after it; whatever
//! was published between the node's cursor for the topic and that moment is in the stream.
//! On [`Event::Subscribed`] the caller reads history after its cursor
//! (`client::Command::History`) and, *until that reply arrives*, buffers the topic's live
//! [`Event::Message`]s. Then it delivers the history's entries, then the buffered messages,
//! dropping every id at or below the last one delivered (the two overlap: a message can be
//! both stored before the read and announced after the subscription). An epoch that differs
//! from the one the node knew means Redis lost the topic's history: ids started over.
//!
//! On reconnect, [`PubSub::on_connect`] authenticates and resubscribes every wanted
//! topic in one command; each confirmation is a new `Subscribed` and so a new gap fill.
#![forbid(unsafe_code)]

use std::collections::{BTreeMap, VecDeque};

use super::keys;
use super::script::Payload;
use super::url::RedisUrl;
use super::{Input, RedisError};
use crate::wire::resp::{encode_array_header, encode_bulk, encode_command, Value};

/// What the Pub/Sub connection reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The subscription to `topic` is live: read its history after the cursor now.
    Subscribed { topic: Box<str> },
    /// A message announced on a live topic.
    Message { topic: Box<str>, epoch: Box<str>, id: u64, time_ms: u64, data: Vec<u8> },
    /// `PING` answered.
    Pong,
    /// The connection is unusable: drop it, call [`PubSub::on_disconnect`], reconnect.
    Fatal { error: RedisError, detail: Box<str> },
}

/// One topic's subscription.
#[derive(Debug, Default)]
struct Topic {
    /// The node wants this topic's messages.
    want: bool,
    /// Redis will hold the subscription once every command sent is processed.
    sent: bool,
    /// Confirmations still to come, oldest first: true for `subscribe`.
    expect: VecDeque<bool>,
}

/// The sans-IO Pub/Sub connection.
#[derive(Debug)]
pub struct PubSub {
    url: RedisUrl,
    connected: bool,
    broken: bool,
    /// The `AUTH` reply is the next input.
    auth_pending: bool,
    input: Input,
    output: Vec<u8>,
    topics: BTreeMap<Box<str>, Topic>,
}

impl PubSub {
    /// A subscriber for `url`, not connected yet.
    pub fn new(url: RedisUrl) -> PubSub {
        PubSub {
            url,
            connected: false,
            broken: false,
            auth_pending: false,
            input: Input::default(),
            output: Vec::new(),
            topics: BTreeMap::new(),
        }
    }

    /// Wants `topic`'s messages; sends `SUBSCRIBE` if connected and not already on its way.
    pub fn subscribe(&mut self, topic: &str) {
        let entry = self.topics.entry(topic.into()).or_default();
        entry.want = true;
        if self.connected && !entry.sent {
            entry.sent = true;
            entry.expect.push_back(true);
            encode_command(&mut self.output, &[b"SUBSCRIBE", keys::channel(topic, self.url.db).as_bytes()]);
        }
    }

    /// No longer wants `topic`; sends `UNSUBSCRIBE` if a subscription is held or on its way.
    pub fn unsubscribe(&mut self, topic: &str) {
        let Some(entry) = self.topics.get_mut(topic) else { return };
        entry.want = false;
        if self.connected && entry.sent {
            entry.sent = false;
            entry.expect.push_back(false);
            encode_command(&mut self.output, &[b"UNSUBSCRIBE", keys::channel(topic, self.url.db).as_bytes()]);
        } else if entry.expect.is_empty() {
            self.topics.remove(topic);
        }
    }

    /// Whether `topic` is wanted.
    pub fn wants(&self, topic: &str) -> bool {
        self.topics.get(topic).is_some_and(|t| t.want)
    }

    /// Whether `topic` is live: wanted, and confirmed with nothing pending.
    pub fn is_live(&self, topic: &str) -> bool {
        self.topics.get(topic).is_some_and(|t| t.want && t.sent && t.expect.is_empty())
    }

    /// Queues `PING`; the answer is [`Event::Pong`].
    pub fn ping(&mut self) {
        if self.connected {
            encode_command(&mut self.output, &[b"PING"]);
        }
    }

    /// A new connection is up: queues `AUTH` (if the URL has a password), then resubscribes
    /// every wanted topic.
    pub fn on_connect(&mut self) {
        self.on_disconnect();
        self.connected = true;
        if let Some(password) = &self.url.password {
            let mut args: Vec<&[u8]> = vec![b"AUTH"];
            if let Some(user) = &self.url.user {
                args.push(user.as_bytes());
            }
            args.push(password.as_bytes());
            encode_command(&mut self.output, &args);
            self.auth_pending = true;
        }
        self.resubscribe_all();
    }

    /// One `SUBSCRIBE` naming every wanted topic (Pub/Sub ignores `SELECT`, so no `SELECT`:
    /// the database is in the channel names).
    fn resubscribe_all(&mut self) {
        let wanted: Vec<&str> = self.topics.iter().filter(|(_, t)| t.want).map(|(name, _)| &**name).collect();
        if wanted.is_empty() {
            return;
        }
        encode_array_header(&mut self.output, 1 + wanted.len());
        encode_bulk(&mut self.output, b"SUBSCRIBE");
        for topic in &wanted {
            encode_bulk(&mut self.output, keys::channel(topic, self.url.db).as_bytes());
        }
        for topic in self.topics.values_mut().filter(|t| t.want) {
            topic.sent = true;
            topic.expect.push_back(true);
        }
    }

    /// The connection is gone: every subscription with it. Wanted topics stay wanted.
    pub fn on_disconnect(&mut self) {
        self.connected = false;
        self.broken = false;
        self.auth_pending = false;
        self.input.clear();
        self.output.clear();
        self.topics.retain(|_, t| t.want);
        for topic in self.topics.values_mut() {
            topic.sent = false;
            topic.expect.clear();
        }
    }

    /// The bytes to write to Redis, in order.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.output)
    }

    /// Whether there are bytes to write.
    pub fn has_output(&self) -> bool {
        !self.output.is_empty()
    }

    /// Bytes read from Redis, in any pieces: appends what they mean to `events`.
    pub fn on_input(&mut self, input: &[u8], events: &mut Vec<Event>) {
        if !self.connected || self.broken {
            return;
        }
        let mut input_half = std::mem::take(&mut self.input);
        let result = input_half.feed(input, |value| match self.on_value(value, events) {
            Ok(()) => true,
            Err((error, detail)) => {
                self.broken = true;
                events.push(Event::Fatal { error, detail });
                false
            }
        });
        self.input = input_half;
        if let Err(error) = result {
            self.broken = true;
            events.push(Event::Fatal { error, detail: error.reason().into() });
        }
        if self.broken {
            self.input.clear();
        }
    }

    fn on_value(&mut self, value: Value, events: &mut Vec<Event>) -> Result<(), (RedisError, Box<str>)> {
        let text = |bytes: &[u8]| -> Box<str> { String::from_utf8_lossy(bytes).into() };
        if std::mem::take(&mut self.auth_pending) {
            return match value {
                Value::Simple(ok) if ok == b"OK" => Ok(()),
                Value::Error(e) => Err((RedisError::Auth, text(&e))),
                _ => Err((RedisError::Unsolicited, "AUTH answered with something other than OK".into())),
            };
        }
        let push = match &value {
            // `-NOAUTH Authentication required.`: the URL has no password and Redis wants one.
            Value::Error(e) if e.starts_with(b"NOAUTH") => return Err((RedisError::Auth, text(e))),
            Value::Error(e) => return Err((RedisError::ErrorReply, text(e))),
            // `PING` on a connection with no subscription is answered as usual.
            Value::Simple(pong) if pong == b"PONG" => {
                events.push(Event::Pong);
                return Ok(());
            }
            Value::Array(Some(items)) => items.as_slice(),
            _ => return Err((RedisError::Unsolicited, "a reply that is not a Pub/Sub push".into())),
        };
        let unexpected = || (RedisError::Unsolicited, "a Pub/Sub push we did not ask for".into());
        match push {
            [kind, _] if kind.as_bytes() == Some(b"pong") => events.push(Event::Pong),
            [kind, channel, Value::Integer(_)] => {
                let subscribe = match kind.as_bytes() {
                    Some(b"subscribe") => true,
                    Some(b"unsubscribe") => false,
                    _ => return Err(unexpected()),
                };
                let topic = self.topic_of(channel).ok_or_else(unexpected)?;
                let entry = self.topics.get_mut(topic).ok_or_else(unexpected)?;
                if entry.expect.pop_front() != Some(subscribe) {
                    return Err(unexpected());
                }
                if entry.expect.is_empty() {
                    if entry.want && subscribe {
                        events.push(Event::Subscribed { topic: topic.into() });
                    } else if !entry.want {
                        self.topics.remove(topic);
                    }
                }
            }
            [kind, channel, payload] if kind.as_bytes() == Some(b"message") => {
                let topic = self.topic_of(channel).ok_or_else(unexpected)?;
                if !self.is_live(topic) {
                    // An UNSUBSCRIBE (or a re-SUBSCRIBE) is on its way: see the module docs.
                    return Ok(());
                }
                match payload.as_bytes().and_then(Payload::parse) {
                    Some(p) => events.push(Event::Message {
                        topic: topic.into(),
                        epoch: p.epoch.into(),
                        id: p.id,
                        time_ms: p.time_ms,
                        data: p.data.to_vec(),
                    }),
                    // Someone else PUBLISHed on our channel: not ours to deliver.
                    None => {
                        log::warn!("redis: ignoring a message on topic {topic} not in publish.lua's format")
                    }
                }
            }
            _ => return Err(unexpected()),
        }
        Ok(())
    }

    /// The topic a channel name of ours (this database's) names.
    fn topic_of<'v>(&self, channel: &'v Value) -> Option<&'v str> {
        let name = channel.as_bytes()?;
        let topic = keys::topic_of_channel(name)?;
        (keys::channel(topic, self.url.db).as_bytes() == name).then_some(topic)
    }
}

#[cfg(test)]
#[path = "subscriber_tests.rs"]
mod tests;
