//! Timers: one deadline heap drives every timeout in the server.
//!
//! Each connection has at most one *deadline* — the next moment something must happen to it
//! (head timeout, idle close, long-poll expiry, heartbeat). The connection's state machine
//! computes that deadline; this heap only remembers when to look.
//!
//! Deadlines move all the time (every request pushes an idle deadline back). Removing an
//! entry from the middle of a binary heap is expensive, so we never do: moving a deadline
//! *later* leaves the old, earlier entry in the heap; when it pops, the owner sees that its
//! real deadline is later and re-arms ("lazy cancellation", as Netty and the Linux kernel's
//! timer wheel users do). Moving a deadline *earlier* pushes a new entry. Each connection
//! therefore has at most a couple of live entries, and the loop sleeps exactly until the
//! earliest one — or forever when there is none.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

use super::slab::Key;

#[derive(Default)]
pub struct Timers {
    heap: BinaryHeap<Reverse<(Instant, Key)>>,
}

impl Timers {
    pub fn new() -> Self {
        Timers { heap: BinaryHeap::new() }
    }

    /// Asks to be told about `key` at `when`.
    pub fn arm(&mut self, when: Instant, key: Key) {
        self.heap.push(Reverse((when, key)));
    }

    /// How long the loop may sleep: until the earliest entry, `None` if there is none.
    pub fn timeout(&self, now: Instant) -> Option<Duration> {
        self.heap.peek().map(|Reverse((when, _))| when.saturating_duration_since(now))
    }

    /// Pops one entry that is due at `now`, if any.
    pub fn pop_due(&mut self, now: Instant) -> Option<(Instant, Key)> {
        match self.heap.peek() {
            Some(Reverse((when, _))) if *when <= now => self.heap.pop().map(|Reverse(e)| e),
            _ => None,
        }
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_deadline_order_and_only_when_due() {
        let mut timers = Timers::new();
        let t0 = Instant::now();
        let k = |index| Key { index, generation: 0 };
        timers.arm(t0 + Duration::from_secs(3), k(3));
        timers.arm(t0 + Duration::from_secs(1), k(1));
        timers.arm(t0 + Duration::from_secs(2), k(2));
        assert_eq!(timers.timeout(t0), Some(Duration::from_secs(1)));
        assert!(timers.pop_due(t0).is_none());
        let later = t0 + Duration::from_secs(2);
        assert_eq!(timers.pop_due(later).map(|e| e.1), Some(k(1)));
        assert_eq!(timers.pop_due(later).map(|e| e.1), Some(k(2)));
        assert!(timers.pop_due(later).is_none());
        assert_eq!(timers.len(), 1);
    }

    #[test]
    fn no_timers_means_sleep_forever() {
        assert_eq!(Timers::new().timeout(Instant::now()), None);
    }
}
