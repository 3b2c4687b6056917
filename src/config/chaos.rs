//! `--chaos`: fault injection for learners, in the spirit of smoltcp's example flags
//! (`--drop-chance`, `--shaping-interval`): the server misbehaves on purpose, so a reader can
//! watch each transport recover in the demo pages, and the chaos test can prove nothing is
//! lost when it does (chapter 08).
//!
//! `--chaos drop=0.01,stall=200ms,cut=0.001,seed=7`:
//!
//! | key | what the server does |
//! |---|---|
//! | `drop=P` | closes a new connection at once, unread, with probability P |
//! | `cut=P` | after each write, closes the connection on the spot with probability P: no last chunk, no Close frame — what a crashed proxy or a lost Wi-Fi looks like |
//! | `stall=D` | holds each connection's next output back for a random 0..=D before writing it |
//! | `seed=N` | the dice's seed (default: from the clock, and printed), to replay a run |
//!
//! Off by default; the server warns loudly at start when it is on. The dice are a
//! xorshift64* generator per loop: cheap, reproducible from the seed, not for cryptography.

use std::time::Duration;

/// What `--chaos` asked for.
#[derive(Clone, Debug, PartialEq)]
pub struct Chaos {
    /// Probability that a new connection is closed at once.
    pub drop: f64,
    /// Probability that a connection is cut after a write.
    pub cut: f64,
    /// Longest hold of a connection's output.
    pub stall: Duration,
    pub seed: u64,
}

impl Chaos {
    /// Parses `key=value,…` (see the module docs). `clock_seed` is used when no `seed=` is given.
    pub fn parse(s: &str, clock_seed: u64) -> Result<Chaos, String> {
        let mut chaos = Chaos { drop: 0.0, cut: 0.0, stall: Duration::ZERO, seed: clock_seed };
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) =
                part.split_once('=').ok_or_else(|| format!("--chaos: '{part}' is not key=value"))?;
            match key.trim() {
                "drop" => chaos.drop = probability(key, value)?,
                "cut" => chaos.cut = probability(key, value)?,
                "stall" => chaos.stall = duration(value)?,
                "seed" => {
                    chaos.seed = value
                        .trim()
                        .parse()
                        .map_err(|_| format!("--chaos: seed '{value}' is not a number"))?
                }
                other => return Err(format!("--chaos: unknown key '{other}' (drop, cut, stall, seed)")),
            }
        }
        if chaos.drop == 0.0 && chaos.cut == 0.0 && chaos.stall.is_zero() {
            return Err("--chaos: nothing to do; give drop=P, cut=P or stall=D".into());
        }
        Ok(chaos)
    }

    /// The warning printed at start.
    pub fn describe(&self) -> String {
        format!(
            "CHAOS IS ON: dropping {}% of new connections, cutting {}% of connections after a write, \
             holding output back up to {} ms (seed={}). Clients will see failures on purpose; never \
             run this in production.",
            self.drop * 100.0,
            self.cut * 100.0,
            self.stall.as_millis(),
            self.seed
        )
    }

    /// Loop `me`'s dice.
    pub fn dice(&self, me: usize) -> Dice {
        // Distinct, non-zero states per loop (xorshift must not start at 0).
        Dice((self.seed ^ (me as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1)
    }
}

/// A probability: `0.01` or `1%`.
fn probability(key: &str, value: &str) -> Result<f64, String> {
    let value = value.trim();
    let p = match value.strip_suffix('%') {
        Some(percent) => percent.trim().parse::<f64>().map(|p| p / 100.0),
        None => value.parse::<f64>(),
    }
    .map_err(|_| format!("--chaos: {key}={value} is not a probability like 0.01 or 1%"))?;
    if !(0.0..=1.0).contains(&p) {
        return Err(format!("--chaos: {key}={value} is not between 0 and 1"));
    }
    Ok(p)
}

/// `200ms`, `2s`, or a bare number of milliseconds.
fn duration(value: &str) -> Result<Duration, String> {
    let value = value.trim();
    let (digits, scale) = match (value.strip_suffix("ms"), value.strip_suffix('s')) {
        (Some(ms), _) => (ms, 1),
        (None, Some(s)) => (s, 1000),
        (None, None) => (value, 1),
    };
    let n: u64 =
        digits.trim().parse().map_err(|_| format!("--chaos: stall={value} is not like 200ms or 2s"))?;
    Ok(Duration::from_millis(n.saturating_mul(scale)))
}

/// One loop's dice: xorshift64* (Vigna, "An experimental exploration of Marsaglia's xorshift
/// generators, scrambled", 2016).
#[derive(Clone, Debug)]
pub struct Dice(u64);

impl Default for Dice {
    fn default() -> Dice {
        Dice(0x9E37_79B9_7F4A_7C15)
    }
}

impl Dice {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// `true` with probability `p`.
    pub fn hit(&mut self, p: f64) -> bool {
        // The top 53 bits as a fraction in [0, 1).
        p > 0.0 && ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    /// A duration in `0..=max`, uniformly by millisecond.
    pub fn up_to(&mut self, max: Duration) -> Duration {
        let ms = max.as_millis() as u64;
        Duration::from_millis(if ms == 0 { 0 } else { self.next() % (ms + 1) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_flag_of_the_issue() {
        let c = Chaos::parse("drop=0.01,stall=200ms,cut=0.001", 5).unwrap();
        assert_eq!(c, Chaos { drop: 0.01, cut: 0.001, stall: Duration::from_millis(200), seed: 5 });
        let c = Chaos::parse(" cut = 2% , stall=1s, seed=42 ", 5).unwrap();
        assert_eq!((c.cut, c.stall, c.seed), (0.02, Duration::from_secs(1), 42));
        assert_eq!(Chaos::parse("stall=150", 0).unwrap().stall, Duration::from_millis(150));
    }

    #[test]
    fn refuses_what_it_cannot_do() {
        for bad in [
            "",
            "drop",
            "drop=2",
            "drop=-0.1",
            "cut=lots",
            "stall=soon",
            "jitter=1",
            "drop=0",
            "seed=x,cut=0.1",
        ] {
            assert!(Chaos::parse(bad, 0).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn dice_are_reproducible_and_roughly_fair() {
        let c = Chaos::parse("cut=0.25,seed=9", 0).unwrap();
        let (mut a, mut b) = (c.dice(0), c.dice(0));
        let hits: Vec<bool> = (0..10_000).map(|_| a.hit(0.25)).collect();
        assert_eq!(hits, (0..10_000).map(|_| b.hit(0.25)).collect::<Vec<_>>(), "same seed, same run");
        let n = hits.iter().filter(|h| **h).count();
        assert!((2_200..2_800).contains(&n), "{n} hits of 10 000 at p = 0.25");
        let mut other = c.dice(1);
        assert_ne!(
            (0..64).map(|_| other.hit(0.5)).collect::<Vec<_>>(),
            (0..64).map(|_| a.hit(0.5)).collect::<Vec<_>>()
        );
        assert!(!a.hit(0.0) && a.hit(1.0));
        let most = (0..1000).map(|_| a.up_to(Duration::from_millis(200))).max().unwrap();
        assert!(most <= Duration::from_millis(200) && most >= Duration::from_millis(150));
    }
}
