//! The hub: topics, message ids, replay rings and who is waiting for what.
//!
//! Every transport reads from the same hub, which is why a message published once reaches a
//! short-poller, a long-poller, an `EventSource` and a WebSocket alike. The hub knows nothing
//! of sockets: subscribers are opaque [`Subscriber`] numbers the server hands it.
//!
//! Ids are per topic, 1, 2, 3, … with no gaps (SPEC §2), so a client's *cursor* — the last id
//! it has seen — is all it needs to resume, and a gap in the ids it receives is proof of loss.
//! Each topic keeps its last `replay` messages in a ring; a cursor older than the ring gets
//! what is still retained.
//!
//! With `--workers N` every loop has a hub of its own, a full replica: ids come from the
//! process's one sequencer, the [`bus::Bus`], and every message published on one loop is
//! inserted into every other loop's hub ([`Hub::receive`]) — so replay, polling and fan-out
//! stay single-threaded, lock-free reads of the loop's own memory (chapter 09).

pub mod bus;

use std::cell::OnceCell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::rc::Rc;
use std::sync::Arc;

use crate::wire::json;
use bus::{Announced, Bus};

/// How many encodings a message can memoize (see [`Message::encoded`]).
pub const ENCODINGS: usize = 5;

/// A transport's name for one way of encoding a message: an index into the message's memo.
/// The hub does not know what the bytes are; each transport names its slots once
/// (`transport::sse::CHUNK`, `transport::ws_session::TEXT_FRAME`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Encoding(pub usize);

/// One published message. Whatever a transport makes of it is made once, on first use, and
/// shared by every subscriber that needs it (no per-subscriber copy on the fan-out path).
#[derive(Debug)]
pub struct Message {
    pub id: u64,
    pub topic: Rc<str>,
    pub data: Box<str>,
    /// Server time at publish, Unix milliseconds.
    pub time_ms: u64,
    json: Box<[u8]>,
    encodings: [OnceCell<Rc<[u8]>>; ENCODINGS],
}

impl Message {
    fn new(id: u64, topic: Rc<str>, data: &str, time_ms: u64) -> Message {
        let mut out = Vec::with_capacity(data.len() + topic.len() + 64);
        json::Object::new(&mut out)
            .u64("id", id)
            .str("topic", &topic)
            .str("data", data)
            .u64("time", time_ms)
            .finish();
        Message {
            id,
            topic,
            data: data.into(),
            time_ms,
            json: out.into_boxed_slice(),
            encodings: Default::default(),
        }
    }

    /// `{"id":7,"topic":"chat","data":"hello","time":1732390000123}` (SPEC §2).
    pub fn json(&self) -> &[u8] {
        &self.json
    }

    /// The message as `encoding` writes it, encoded by `encode` the first time it is asked
    /// for and shared from then on: every SSE stream gets the same chunk, every `/ws`
    /// subscriber the same frame, whether it is pushed live or replayed.
    pub fn encoded(&self, encoding: Encoding, encode: impl FnOnce(&Message, &mut Vec<u8>)) -> Rc<[u8]> {
        self.encodings[encoding.0]
            .get_or_init(|| {
                let mut out = Vec::with_capacity(self.json.len() + 32);
                encode(self, &mut out);
                out.into()
            })
            .clone()
    }
}

/// A waiting connection, as the server numbers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Subscriber(pub u64);

struct Topic {
    name: Rc<str>,
    last_id: u64,
    ring: VecDeque<Rc<Message>>,
    subscribers: HashSet<Subscriber>,
}

pub struct Hub {
    topics: HashMap<Rc<str>, Topic>,
    replay: usize,
    published: u64,
    /// Messages published since the server last collected them, on topics with subscribers.
    fresh: Vec<Rc<Message>>,
    /// With several loops: the process's sequencer, and which loop this hub belongs to.
    bus: Option<(Arc<Bus>, usize)>,
    /// Messages other loops announced, taken from the bus and not yet inserted.
    announced: Vec<Arc<Announced>>,
}

impl Hub {
    /// A hub keeping the last `replay` messages of each topic: the one loop of a process.
    pub fn new(replay: usize) -> Hub {
        Hub {
            topics: HashMap::new(),
            replay,
            published: 0,
            fresh: Vec::new(),
            bus: None,
            announced: Vec::new(),
        }
    }

    /// The hub of loop `me` among the loops that share `bus`.
    pub fn on_bus(replay: usize, bus: Arc<Bus>, me: usize) -> Hub {
        Hub { bus: Some((bus, me)), ..Hub::new(replay) }
    }

    fn topic_mut(&mut self, name: &str) -> &mut Topic {
        if !self.topics.contains_key(name) {
            let name: Rc<str> = name.into();
            let topic =
                Topic { name: name.clone(), last_id: 0, ring: VecDeque::new(), subscribers: HashSet::new() };
            self.topics.insert(name, topic);
        }
        self.topics.get_mut(name).expect("inserted above")
    }

    /// Publishes `data` on `topic`, giving it the topic's next id.
    pub fn publish(&mut self, topic: &str, data: &str, time_ms: u64) -> Rc<Message> {
        let Some((bus, me)) = &self.bus else {
            let id = self.last_id(topic) + 1;
            return self.insert(id, topic, data, time_ms);
        };
        // Several loops: the bus gives the id, and hands back what other loops published
        // before it, which go in first.
        let mut earlier = std::mem::take(&mut self.announced);
        let id = bus.publish(*me, topic, data, time_ms, &mut earlier);
        self.insert_announced(&mut earlier);
        self.announced = earlier;
        self.insert(id, topic, data, time_ms)
    }

    /// Inserts what other loops published since the last call (a no-op for a hub alone).
    /// The server calls it at the start of every loop turn and before every service call,
    /// so a request never sees a hub older than a publish that was answered before it came.
    pub fn receive(&mut self) {
        let Some((bus, me)) = &self.bus else { return };
        let mut announced = std::mem::take(&mut self.announced);
        bus.take(*me, &mut announced);
        self.insert_announced(&mut announced);
        self.announced = announced;
    }

    fn insert_announced(&mut self, announced: &mut Vec<Arc<Announced>>) {
        for a in announced.drain(..) {
            self.insert(a.id, &a.topic, &a.data, a.time_ms);
        }
    }

    /// Stores message `id` of `topic`: the next one, always (SPEC §2: ids have no gaps).
    fn insert(&mut self, id: u64, topic: &str, data: &str, time_ms: u64) -> Rc<Message> {
        let replay = self.replay;
        let t = self.topic_mut(topic);
        debug_assert_eq!(id, t.last_id + 1, "ids of {topic} are consecutive");
        t.last_id = id;
        let message = Rc::new(Message::new(id, t.name.clone(), data, time_ms));
        if replay > 0 {
            if t.ring.len() == replay {
                t.ring.pop_front();
            }
            t.ring.push_back(message.clone());
        }
        let wake = !t.subscribers.is_empty();
        self.published += 1;
        if wake {
            self.fresh.push(message.clone());
        }
        message
    }

    /// Messages published to topics with subscribers since the last call.
    pub fn take_fresh(&mut self) -> Vec<Rc<Message>> {
        std::mem::take(&mut self.fresh)
    }

    /// The latest id of `topic` (0 if nothing was ever published).
    pub fn last_id(&self, topic: &str) -> u64 {
        self.topics.get(topic).map_or(0, |t| t.last_id)
    }

    /// Turns a client's `since` into a cursor (SPEC §2): absent means "from now"; a cursor
    /// beyond the latest id (the server restarted) is the latest id.
    pub fn cursor(&self, topic: &str, since: Option<u64>) -> u64 {
        let last = self.last_id(topic);
        since.map_or(last, |s| s.min(last))
    }

    /// Retained messages with id > `cursor`, oldest first, at most `limit`.
    pub fn after(&self, topic: &str, cursor: u64, limit: usize) -> impl Iterator<Item = &Rc<Message>> {
        let ring = self.topics.get(topic).map(|t| &t.ring);
        // Ids are consecutive, so the first wanted message is found by arithmetic.
        let skip =
            ring.and_then(|r| r.front()).map_or(0, |first| cursor.saturating_sub(first.id - 1) as usize);
        ring.into_iter().flat_map(move |r| r.iter().skip(skip).take(limit))
    }

    pub fn subscribe(&mut self, topic: &str, who: Subscriber) {
        self.topic_mut(topic).subscribers.insert(who);
    }

    pub fn unsubscribe(&mut self, topic: &str, who: Subscriber) {
        if let Some(t) = self.topics.get_mut(topic) {
            t.subscribers.remove(&who);
            if t.subscribers.is_empty() && t.last_id == 0 {
                self.topics.remove(topic);
            }
        }
    }

    /// Copies the subscribers of `topic` into `into` (cleared first), so the caller can
    /// deliver while changing subscriptions.
    pub fn subscribers_into(&self, topic: &str, into: &mut Vec<Subscriber>) {
        into.clear();
        if let Some(t) = self.topics.get(topic) {
            into.extend(t.subscribers.iter().copied());
        }
    }

    /// Topics that have had a message, in the whole process.
    pub fn topic_count(&self) -> usize {
        match &self.bus {
            Some((bus, _)) => bus.topic_count(),
            None => self.topics.values().filter(|t| t.last_id > 0).count(),
        }
    }

    /// Messages published in the whole process.
    pub fn published(&self) -> u64 {
        match &self.bus {
            Some((bus, _)) => bus.published(),
            None => self.published,
        }
    }

    /// How many loops share this hub's topics (1 for a hub alone).
    pub fn loops(&self) -> usize {
        self.bus.as_ref().map_or(1, |(bus, _)| bus.loops())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids<'a>(it: impl Iterator<Item = &'a Rc<Message>>) -> Vec<u64> {
        it.map(|m| m.id).collect()
    }

    #[test]
    fn ids_are_consecutive_per_topic() {
        let mut hub = Hub::new(4);
        assert_eq!(hub.publish("a", "x", 0).id, 1);
        assert_eq!(hub.publish("a", "y", 0).id, 2);
        assert_eq!(hub.publish("b", "z", 0).id, 1);
        assert_eq!(hub.last_id("a"), 2);
        assert_eq!(hub.published(), 3);
    }

    #[test]
    fn replay_ring_keeps_the_last_n() {
        let mut hub = Hub::new(3);
        for i in 0..10 {
            hub.publish("t", &i.to_string(), 0);
        }
        assert_eq!(ids(hub.after("t", 0, 100)), vec![8, 9, 10]);
        assert_eq!(ids(hub.after("t", 8, 100)), vec![9, 10]);
        assert_eq!(ids(hub.after("t", 9, 1)), vec![10]);
        assert_eq!(ids(hub.after("t", 10, 100)), Vec::<u64>::new());
        assert_eq!(ids(hub.after("nope", 0, 100)), Vec::<u64>::new());
    }

    #[test]
    fn cursor_rules() {
        let mut hub = Hub::new(8);
        hub.publish("t", "a", 0);
        hub.publish("t", "b", 0);
        assert_eq!(hub.cursor("t", None), 2, "absent since means from now");
        assert_eq!(hub.cursor("t", Some(0)), 0);
        assert_eq!(hub.cursor("t", Some(99)), 2, "beyond the latest id means the latest id");
    }

    #[test]
    fn fresh_messages_only_for_topics_with_subscribers() {
        let mut hub = Hub::new(8);
        hub.publish("t", "a", 0);
        assert!(hub.take_fresh().is_empty());
        hub.subscribe("t", Subscriber(1));
        hub.publish("t", "b", 0);
        assert_eq!(ids(hub.take_fresh().iter()), vec![2]);
        hub.unsubscribe("t", Subscriber(1));
        hub.publish("t", "c", 0);
        assert!(hub.take_fresh().is_empty());
    }

    #[test]
    fn encodings_are_made_once_and_shared() {
        let mut hub = Hub::new(8);
        let m = hub.publish("chat", "hello", 1732390000123);
        assert_eq!(m.json(), br#"{"id":1,"topic":"chat","data":"hello","time":1732390000123}"#);
        let mut calls = 0;
        let mut upper = |m: &Message, out: &mut Vec<u8>| {
            calls += 1;
            out.extend_from_slice(m.data.to_uppercase().as_bytes());
        };
        let first = m.encoded(Encoding(0), &mut upper);
        let second = m.encoded(Encoding(0), &mut upper);
        assert!(Rc::ptr_eq(&first, &second));
        assert_eq!(&*first, b"HELLO");
        assert_eq!(calls, 1, "encoded once");
        let other = m.encoded(Encoding(1), |m, out| out.extend_from_slice(&m.id.to_be_bytes()));
        assert_eq!(&*other, &[0, 0, 0, 0, 0, 0, 0, 1], "each slot is its own encoding");
    }

    #[test]
    fn hubs_on_one_bus_are_replicas_with_one_sequence_of_ids() {
        let bus = Bus::new(vec![Box::new(|| {}), Box::new(|| {})]);
        let (mut a, mut b) = (Hub::on_bus(8, bus.clone(), 0), Hub::on_bus(8, bus, 1));
        b.subscribe("t", Subscriber(7));
        assert_eq!(a.publish("t", "one", 0).id, 1);
        // b has not received "one" yet: publishing takes it first, so b's ring stays in order.
        assert_eq!(b.publish("t", "two", 0).id, 2);
        assert_eq!(ids(b.after("t", 0, 100)), vec![1, 2]);
        assert_eq!(ids(b.take_fresh().iter()), vec![1, 2], "both reach b's subscriber");
        assert_eq!(ids(a.after("t", 0, 100)), vec![1], "a hears of 2 when it receives");
        a.receive();
        assert_eq!(ids(a.after("t", 0, 100)), vec![1, 2]);
        assert!(a.take_fresh().is_empty(), "nobody subscribed on a");
        assert_eq!((a.published(), b.published(), a.topic_count(), a.loops()), (2, 2, 1, 2));
        let (from_a, from_b) =
            (a.after("t", 1, 1).next().unwrap().clone(), b.after("t", 1, 1).next().unwrap().clone());
        assert!(!Rc::ptr_eq(&from_a, &from_b), "each loop encodes for itself");
        assert_eq!(from_a.json(), from_b.json());
    }
}
