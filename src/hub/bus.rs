//! The bus: how the event loops of one process agree on ids and hear each other's messages
//! (SPEC §10, chapter 09).
//!
//! With `--workers N` each loop owns a [`Hub`](super::Hub) of its own — its topics, replay
//! rings, subscribers and each message's encodings — so fan-out never takes a lock. What the
//! loops must share is the one thing that cannot be split: *which id comes next* on a topic.
//! The bus is that sequencer, one mutex for the whole process, taken once per publish and
//! never per delivery:
//!
//! 1. under the lock, the publishing loop takes what other loops announced to it (so its
//!    replica sees every earlier id first), gives the message the topic's next id, and puts
//!    one shared [`Announced`] into every other loop's inbox;
//! 2. after the lock, it wakes each loop whose inbox was empty (an inbox that was not empty
//!    has a wake-up pending already).
//!
//! Because ids are assigned and announced under the same lock, every inbox holds a topic's
//! messages in id order, and every replica inserts ids 1, 2, 3, … with no gap. The waking
//! itself is a function the server hands in (`mio::Waker::wake`): this file knows nothing of
//! `mio`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// A message as it crosses loops: made once by the publishing loop and shared by every
/// other loop's inbox. Each loop builds its own [`Message`](super::Message) from it, so
/// each message is encoded once per loop.
#[derive(Debug)]
pub struct Announced {
    pub id: u64,
    pub topic: Box<str>,
    pub data: Box<str>,
    pub time_ms: u64,
}

/// Wakes one loop (the server passes `mio::Waker::wake`).
pub type Wake = Box<dyn Fn() + Send + Sync>;

pub struct Bus {
    state: Mutex<State>,
    /// One per loop: its inbox holds something (read without the lock, so a loop with
    /// nothing waiting does not take it).
    pending: Box<[AtomicBool]>,
    wakers: Box<[Wake]>,
}

struct State {
    /// Each topic's latest id, for the whole process.
    last_ids: HashMap<Box<str>, u64>,
    published: u64,
    /// One per loop: messages other loops published, not yet taken.
    inboxes: Vec<Vec<Arc<Announced>>>,
}

impl Bus {
    /// A bus for `wakers.len()` loops; loop `i` is woken with `wakers[i]`.
    pub fn new(wakers: Vec<Wake>) -> Arc<Bus> {
        let loops = wakers.len();
        Arc::new(Bus {
            state: Mutex::new(State {
                last_ids: HashMap::new(),
                published: 0,
                inboxes: (0..loops).map(|_| Vec::new()).collect(),
            }),
            pending: (0..loops).map(|_| AtomicBool::new(false)).collect(),
            wakers: wakers.into_boxed_slice(),
        })
    }

    pub fn loops(&self) -> usize {
        self.wakers.len()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A loop that panicked while holding the lock left the counters consistent (every
        // change under it is a single push or increment), so its poison is ignored.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Gives `topic` its next id and announces the message to every other loop. What was
    /// waiting in `me`'s inbox is moved to `earlier` first: the caller inserts those before
    /// its own message, so its replica sees the topic's ids in order.
    pub fn publish(
        &self,
        me: usize,
        topic: &str,
        data: &str,
        time_ms: u64,
        earlier: &mut Vec<Arc<Announced>>,
    ) -> u64 {
        let mut wake = Vec::new();
        let id = {
            let mut state = self.lock();
            earlier.append(&mut state.inboxes[me]);
            self.pending[me].store(false, Ordering::Release);
            let id = match state.last_ids.get_mut(topic) {
                Some(last) => {
                    *last += 1;
                    *last
                }
                None => {
                    state.last_ids.insert(topic.into(), 1);
                    1
                }
            };
            state.published += 1;
            let announced = Arc::new(Announced { id, topic: topic.into(), data: data.into(), time_ms });
            for (other, inbox) in state.inboxes.iter_mut().enumerate() {
                if other == me {
                    continue;
                }
                if inbox.is_empty() {
                    wake.push(other);
                }
                inbox.push(announced.clone());
                self.pending[other].store(true, Ordering::Release);
            }
            id
        };
        for other in wake {
            (self.wakers[other])();
        }
        id
    }

    /// Moves what other loops announced to `me` into `into`, in the order it was announced.
    pub fn take(&self, me: usize, into: &mut Vec<Arc<Announced>>) {
        if !self.pending[me].load(Ordering::Acquire) {
            return;
        }
        let mut state = self.lock();
        into.append(&mut state.inboxes[me]);
        self.pending[me].store(false, Ordering::Release);
    }

    /// Topics that have had at least one message, in the whole process.
    pub fn topic_count(&self) -> usize {
        self.lock().last_ids.len()
    }

    /// Messages published in the whole process.
    pub fn published(&self) -> u64 {
        self.lock().published
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn counting(n: usize) -> (Arc<Bus>, Arc<Vec<AtomicUsize>>) {
        let woken: Arc<Vec<AtomicUsize>> = Arc::new((0..n).map(|_| AtomicUsize::new(0)).collect());
        let wakers = (0..n)
            .map(|i| {
                let woken = woken.clone();
                Box::new(move || {
                    woken[i].fetch_add(1, Ordering::Relaxed);
                }) as Wake
            })
            .collect();
        (Bus::new(wakers), woken)
    }

    #[test]
    fn ids_are_consecutive_across_loops() {
        let (bus, _) = counting(3);
        let mut scratch = Vec::new();
        assert_eq!(bus.publish(0, "t", "a", 0, &mut scratch), 1);
        assert_eq!(bus.publish(1, "t", "b", 0, &mut scratch), 2);
        assert_eq!(bus.publish(2, "u", "c", 0, &mut scratch), 1);
        assert_eq!(bus.publish(0, "t", "d", 0, &mut scratch), 3);
        assert_eq!((bus.published(), bus.topic_count()), (4, 2));
    }

    #[test]
    fn every_other_loop_hears_each_message_once_in_order() {
        let (bus, _) = counting(3);
        let mut earlier = Vec::new();
        bus.publish(0, "t", "a", 0, &mut earlier);
        bus.publish(1, "t", "b", 0, &mut earlier);
        // Loop 1 took loop 0's "a" while publishing "b", so it sees id 1 before its own id 2.
        assert_eq!(earlier.iter().map(|a| a.id).collect::<Vec<_>>(), vec![1]);
        let mut two = Vec::new();
        bus.take(2, &mut two);
        assert_eq!(two.iter().map(|a| (a.id, &*a.data)).collect::<Vec<_>>(), vec![(1, "a"), (2, "b")]);
        let mut zero = Vec::new();
        bus.take(0, &mut zero);
        assert_eq!(zero.iter().map(|a| a.id).collect::<Vec<_>>(), vec![2], "not its own message");
        bus.take(2, &mut two);
        assert_eq!(two.len(), 2, "taken once");
        assert!(Arc::ptr_eq(&two[1], &zero[0]), "one allocation shared by every inbox");
    }

    #[test]
    fn a_loop_is_woken_when_its_inbox_fills_not_for_every_message() {
        let (bus, woken) = counting(2);
        let mut scratch = Vec::new();
        for _ in 0..5 {
            bus.publish(0, "t", "x", 0, &mut scratch);
        }
        assert_eq!(woken[1].load(Ordering::Relaxed), 1, "one wake-up for five messages");
        assert_eq!(woken[0].load(Ordering::Relaxed), 0, "the publisher is awake already");
        let mut got = Vec::new();
        bus.take(1, &mut got);
        bus.publish(0, "t", "y", 0, &mut scratch);
        assert_eq!(woken[1].load(Ordering::Relaxed), 2, "an emptied inbox wakes again");
    }

    #[test]
    fn threads_publishing_at_once_get_distinct_consecutive_ids() {
        let (bus, _) = counting(4);
        let threads: Vec<_> = (0..4)
            .map(|me| {
                let bus = bus.clone();
                std::thread::spawn(move || {
                    let mut scratch = Vec::new();
                    (0..500).map(|_| bus.publish(me, "t", "x", 0, &mut scratch)).collect::<Vec<_>>()
                })
            })
            .collect();
        let mut ids: Vec<u64> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
        ids.sort_unstable();
        assert_eq!(ids, (1..=2000).collect::<Vec<_>>());
    }
}
