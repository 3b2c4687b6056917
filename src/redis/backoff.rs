//! When to reconnect to Redis: delays doubling from [`REDIS_BACKOFF_MIN`] to
//! [`REDIS_BACKOFF_MAX`], each jittered.
//!
//! Every node of a deployment loses Redis at the same moment when Redis restarts; without
//! jitter they would all reconnect at the same moments too. Each delay is "equal jitter"
//! (half the step, plus a random part of the other half), so a retry never comes sooner
//! than half the step and the nodes spread out. The randomness is a tiny xorshift64*
//! generator seeded by the caller (say, from the process id and the time): deterministic
//! for tests, and no crate. Time is an input, as everywhere in this layer.
#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

use crate::limits::{REDIS_BACKOFF_MAX, REDIS_BACKOFF_MIN};

/// The reconnection schedule of one connection.
#[derive(Clone, Debug)]
pub struct Backoff {
    /// Failures since the last success.
    failures: u32,
    /// xorshift64* state; never 0.
    rng: u64,
}

impl Backoff {
    /// A schedule whose jitter comes from `seed`.
    pub fn new(seed: u64) -> Backoff {
        Backoff { failures: 0, rng: if seed == 0 { 0x9E37_79B9_7F4A_7C15 } else { seed } }
    }

    /// A connection attempt failed, or a connection dropped, at `now`: when to try again.
    pub fn failed(&mut self, now: Instant) -> Instant {
        now + self.next_delay()
    }

    /// The delay before the next attempt: the step is `MIN × 2^failures`, at most `MAX`;
    /// the delay lies in `step/2 ..= step`.
    pub fn next_delay(&mut self) -> Duration {
        let step = REDIS_BACKOFF_MIN.saturating_mul(1 << self.failures.min(16)).min(REDIS_BACKOFF_MAX);
        self.failures = self.failures.saturating_add(1);
        let half = step / 2;
        let jitter_ns = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        half + Duration::from_nanos(self.random() % jitter_ns.saturating_add(1))
    }

    /// A connection is up and answered: the next failure starts from the shortest delay.
    pub fn succeeded(&mut self) {
        self.failures = 0;
    }

    /// xorshift64* (Vigna 2016), as `wire::test_rng`.
    fn random(&mut self) -> u64 {
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_delays_double_to_the_cap_within_jitter() {
        let mut backoff = Backoff::new(42);
        let mut step = REDIS_BACKOFF_MIN;
        for _ in 0..12 {
            let delay = backoff.next_delay();
            assert!(delay >= step / 2 && delay <= step, "{delay:?} for step {step:?}");
            step = (step * 2).min(REDIS_BACKOFF_MAX);
        }
        assert_eq!(step, REDIS_BACKOFF_MAX);
        backoff.succeeded();
        assert!(backoff.next_delay() <= REDIS_BACKOFF_MIN);
        let now = Instant::now();
        let at = backoff.failed(now);
        assert!(at >= now + REDIS_BACKOFF_MIN / 2 && at <= now + 2 * REDIS_BACKOFF_MIN);
    }

    #[test]
    fn test_same_seed_same_schedule_other_seed_other() {
        let delays = |seed| {
            let mut b = Backoff::new(seed);
            (0..8).map(|_| b.next_delay()).collect::<Vec<_>>()
        };
        assert_eq!(delays(7), delays(7));
        assert_ne!(delays(7), delays(8));
        assert_eq!(delays(0).len(), 8);
    }
}
