//! The one seeded generator of the tests under `src/wire/`: random-looking inputs that
//! replay exactly from their seed, on every run and machine, with no crate.
//!
//! It is xorshift64* (Vigna, "An experimental exploration of Marsaglia's xorshift
//! generators, scrambled", 2016), the same generator as `Rng` in `tests/common/mod.rs`,
//! which the integration tests use (they cannot see this `#[cfg(test)]` module).

/// A xorshift64* generator: `Rng(seed)` starts one. The seed must not be 0, the one state
/// xorshift never leaves.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    /// The next 64 random bits.
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n` > 0), from the better high bits.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "Rng::below(0)");
        ((self.next() >> 11) % n as u64) as usize
    }

    /// A random byte (the top eight bits).
    pub(crate) fn byte(&mut self) -> u8 {
        (self.next() >> 56) as u8
    }

    /// One of `items` (not empty).
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

mod tests {
    use super::Rng;

    #[test]
    fn test_same_seed_same_sequence_and_below_stays_below() {
        let (mut a, mut b) = (Rng(42), Rng(42));
        for _ in 0..1000 {
            assert_eq!(a.next(), b.next());
        }
        let mut seen = [false; 7];
        for _ in 0..1000 {
            seen[a.below(7)] = true;
        }
        assert_eq!(seen, [true; 7], "every value of 0..7 comes up");
    }
}
