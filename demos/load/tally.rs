//! Counting what arrived: latencies into a histogram, and every message's sequence number
//! into a ledger that tells lost from duplicated from out of order.
//!
//! Both are on the hot path of the load — one `record` per delivery — so neither allocates
//! there: the histogram is a fixed array of counters, the ledger one bit per expected message
//! per subscriber, allocated when the subscriber is opened.

/// Latencies in nanoseconds, in log-linear buckets: exact below 2^[`SUB_BITS`] ns, then
/// 2^`SUB_BITS` buckets per power of two, so any value is known within 1/2^`SUB_BITS`
/// (0.2 %) — HdrHistogram's layout. A quarter of a megabyte of counters, of which a run
/// touches a few cache lines.
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max: u64,
}

/// Sub-buckets per power of two, as a power of two.
const SUB_BITS: u32 = 9;
const SUB: u64 = 1 << SUB_BITS;

impl Default for Histogram {
    fn default() -> Self {
        Histogram::new()
    }
}

impl Histogram {
    pub fn new() -> Histogram {
        // Values up to 2^64: (64 - SUB_BITS + 1) ranges of SUB buckets.
        Histogram { counts: vec![0; ((64 - SUB_BITS as usize) + 1) * SUB as usize], total: 0, max: 0 }
    }

    fn index(v: u64) -> usize {
        if v < SUB {
            return v as usize;
        }
        // v has `bits` significant bits; keep the top SUB_BITS + 1 (the first is always 1).
        let bits = 64 - v.leading_zeros();
        let shift = bits - SUB_BITS - 1;
        let range = u64::from(shift + 1);
        (range * SUB + ((v >> shift) - SUB)) as usize
    }

    /// The smallest value that falls in bucket `i` (the inverse of `index`).
    fn lowest(i: usize) -> u64 {
        let (range, sub) = (i as u64 / SUB, i as u64 % SUB);
        if range == 0 {
            return sub;
        }
        (SUB + sub) << (range - 1)
    }

    pub fn record(&mut self, nanos: u64) {
        self.counts[Self::index(nanos)] += 1;
        self.total += 1;
        self.max = self.max.max(nanos);
    }

    #[cfg(test)]
    pub fn count(&self) -> u64 {
        self.total
    }

    pub fn max(&self) -> u64 {
        self.max
    }

    /// The value below which a fraction `p` (0.0..=1.0) of the samples lie: the nearest-rank
    /// percentile, as the lowest value of its bucket (never above the true value, at most
    /// 0.2 % below it). 0 when there are no samples.
    pub fn percentile(&self, p: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((p.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Self::lowest(i).min(self.max);
            }
        }
        self.max
    }
}

/// The exact nearest-rank percentile of sorted samples: the slow twin [`Histogram`] is
/// tested against.
#[cfg(test)]
pub fn percentile_exact(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize).max(1);
    sorted[rank - 1]
}

/// One subscriber's receipts of messages `0..expected`, one bit each.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    seen: Vec<u64>,
    expected: u64,
    /// Distinct messages of `0..expected` received.
    pub unique: u64,
    /// Receipts of a message already received.
    pub duplicates: u64,
    /// Receipts of a message with a lower number than the one before it.
    pub reordered: u64,
    /// Receipts numbered `expected` or more: not from this run.
    pub foreign: u64,
    last: Option<u64>,
}

impl Ledger {
    pub fn new(expected: u64) -> Ledger {
        Ledger { seen: vec![0; expected.div_ceil(64) as usize], expected, ..Ledger::default() }
    }

    /// Counts one receipt of message `seq`; true when it is the first of that message.
    pub fn record(&mut self, seq: u64) -> bool {
        if self.last.is_some_and(|last| seq < last) {
            self.reordered += 1;
        }
        self.last = Some(seq);
        if seq >= self.expected {
            self.foreign += 1;
            return false;
        }
        let word = &mut self.seen[(seq / 64) as usize];
        let bit = 1u64 << (seq % 64);
        if *word & bit != 0 {
            self.duplicates += 1;
            return false;
        }
        *word |= bit;
        self.unique += 1;
        true
    }

    /// Whether message `seq` has arrived.
    #[cfg(test)]
    pub fn has(&self, seq: u64) -> bool {
        seq < self.expected && self.seen[(seq / 64) as usize] & (1 << (seq % 64)) != 0
    }

    /// Messages of `0..published` that never arrived (`published` ≤ the ledger's size).
    pub fn lost(&self, published: u64) -> u64 {
        let published = published.min(self.expected);
        let full = (published / 64) as usize;
        let mut have: u64 = self.seen[..full].iter().map(|w| u64::from(w.count_ones())).sum();
        if !published.is_multiple_of(64) {
            let mask = (1u64 << (published % 64)) - 1;
            have += u64::from((self.seen[full] & mask).count_ones());
        }
        published - have
    }
}

/// The whole run's account, summed over the ledgers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Account {
    pub lost: u64,
    pub duplicates: u64,
    pub reordered: u64,
    pub foreign: u64,
}

impl Account {
    pub fn add(&mut self, ledger: &Ledger, published: u64) {
        self.lost += ledger.lost(published);
        self.duplicates += ledger.duplicates;
        self.reordered += ledger.reordered;
        self.foreign += ledger.foreign;
    }

    pub fn clean(&self) -> bool {
        *self == Account::default()
    }
}

/// The server's own message id beside ours: on a SPEC server, `id − seq` is the same for
/// every delivery of a run (ids are consecutive per topic, SPEC §2). Servers whose ids are
/// not integers (Nchan's `time:tag`) are not checked.
#[derive(Clone, Copy, Debug, Default)]
pub struct IdCheck {
    offset: Option<i128>,
    pub checked: u64,
    pub bad: u64,
}

impl IdCheck {
    pub fn record(&mut self, id: u64, seq: u64) {
        let offset = i128::from(id) - i128::from(seq);
        self.checked += 1;
        match self.offset {
            None => self.offset = Some(offset),
            Some(o) if o != offset => self.bad += 1,
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_invert() {
        for v in (0..5000).chain([1 << 20, (1 << 20) + 12345, u64::MAX / 3, u64::MAX]) {
            let i = Histogram::index(v);
            assert!(Histogram::lowest(i) <= v, "{v}");
            assert!(i + 1 == Histogram::new().counts.len() || Histogram::lowest(i + 1) > v, "{v}");
        }
    }

    #[test]
    fn histogram_percentiles_within_a_fifth_of_a_percent() {
        // A seeded spread from 1 µs to 10 s, skewed towards the small end.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut samples = Vec::new();
        let mut h = Histogram::new();
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = 1_000 + (x % 10_000_000_000) / (1 + x % 97);
            samples.push(v);
            h.record(v);
        }
        samples.sort_unstable();
        for p in [0.0, 0.01, 0.5, 0.9, 0.99, 0.999, 1.0] {
            let (exact, approx) = (percentile_exact(&samples, p), h.percentile(p));
            assert!(approx <= exact && exact - approx <= exact / 500, "p{p}: {approx} vs {exact}");
        }
        assert_eq!(h.max(), *samples.last().unwrap());
        assert_eq!(h.count(), 100_000);
    }

    #[test]
    fn exact_percentiles_are_nearest_rank() {
        let s: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile_exact(&s, 0.5), 50);
        assert_eq!(percentile_exact(&s, 0.99), 99);
        assert_eq!(percentile_exact(&s, 1.0), 100);
        assert_eq!(percentile_exact(&s, 0.0), 1);
        assert_eq!(percentile_exact(&[], 0.5), 0);
        assert_eq!(Histogram::new().percentile(0.99), 0);
    }

    #[test]
    fn ledger_tells_lost_from_duplicated() {
        let mut l = Ledger::new(200);
        for seq in (0..200).filter(|s| s % 7 != 3) {
            assert!(l.record(seq));
        }
        assert!(!l.record(11)); // again: a duplicate, and out of order after 199
        assert!(!l.record(200)); // not ours
        assert_eq!(l.unique, 200 - 29);
        assert_eq!(l.lost(200), 29);
        assert_eq!(l.lost(100), 14); // of the first 100: 3, 10, …, 94
        assert_eq!((l.duplicates, l.reordered, l.foreign), (1, 1, 1));
        assert!(l.has(0) && !l.has(3) && !l.has(1000));
    }

    #[test]
    fn a_clean_run_accounts_to_zero() {
        let mut account = Account::default();
        for _ in 0..3 {
            let mut l = Ledger::new(65);
            (0..65).for_each(|s| {
                l.record(s);
            });
            account.add(&l, 65);
        }
        assert!(account.clean());
        let mut gap = Ledger::new(65);
        gap.record(0);
        gap.record(64);
        account.add(&gap, 65);
        assert_eq!(account.lost, 63);
    }

    #[test]
    fn ids_must_keep_their_offset() {
        let mut c = IdCheck::default();
        c.record(41, 0);
        c.record(42, 1);
        c.record(44, 2);
        assert_eq!((c.checked, c.bad), (3, 1));
    }
}
