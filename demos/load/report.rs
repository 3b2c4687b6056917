//! What a run shows: a progress line on stderr while it runs, rewritten in place with `\r`,
//! and one `RESULT k=v …` line at the end, for `benches/compare.sh` and any other script.
//! Beside every throughput figure stands the server's CPU time per unit of it — the fair
//! comparison when the load, not the server, is what saturates — and the load's own, to show
//! that the tool costs less per message than what it drives.
use std::fmt::Display;
use std::io::Write;
use std::time::{Duration, Instant};

use super::publisher::Publisher;
use super::server_proc::{own_cpu, CpuSource, Server};
use super::tally::{Account, Histogram, IdCheck};

/// How often the progress line is rewritten.
const EVERY: Duration = Duration::from_millis(250);

pub struct Progress {
    name: &'static str,
    quiet: bool,
    next: Instant,
    shown: bool,
}

impl Progress {
    pub fn new(name: &'static str, quiet: bool) -> Progress {
        Progress { name, quiet, next: Instant::now(), shown: false }
    }

    /// Rewrites the line with `line()` if it is due.
    pub fn tick(&mut self, line: impl FnOnce() -> String) {
        if self.quiet || Instant::now() < self.next {
            return;
        }
        self.next = Instant::now() + EVERY;
        self.shown = true;
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{}: {}\x1b[K", self.name, line());
        let _ = err.flush();
    }

    /// Ends the line.
    pub fn done(&mut self) {
        if self.shown {
            eprintln!();
            self.shown = false;
        }
    }
}

/// `RESULT k=v …`, keys in the order they were put.
#[derive(Default)]
pub struct ResultLine {
    fields: Vec<(&'static str, String)>,
}

impl ResultLine {
    pub fn put(&mut self, key: &'static str, value: impl Display) -> &mut Self {
        let value = value.to_string();
        // A value never holds a space or '=': the line splits on them.
        let value = value.replace([' ', '='], "_");
        self.fields.push((key, value));
        self
    }

    pub fn float(&mut self, key: &'static str, value: f64, decimals: usize) -> &mut Self {
        self.put(key, format!("{value:.decimals$}"))
    }

    #[cfg(test)]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str())
    }

    /// The latency figures of `h`, in µs: `p50_us`, `p99_us`, `max_us`.
    pub fn latencies(&mut self, h: &Histogram) -> &mut Self {
        self.float("p50_us", h.percentile(0.50) as f64 / 1e3, 1)
            .float("p99_us", h.percentile(0.99) as f64 / 1e3, 1)
            .float("max_us", h.max() as f64 / 1e3, 1)
    }

    pub fn line(&self) -> String {
        let mut line = String::from("RESULT");
        for (k, v) in &self.fields {
            line.push(' ');
            line.push_str(k);
            line.push('=');
            line.push_str(v);
        }
        line
    }
}

/// Server and load CPU time over one measured phase.
pub struct Meter {
    server: Server,
    started: Instant,
    server_cpu: Duration,
    own_cpu: Duration,
}

/// What a phase cost.
pub struct Costs {
    pub elapsed: Duration,
    pub server_cpu: Duration,
    pub own_cpu: Duration,
    pub source: CpuSource,
}

impl Meter {
    pub fn start(server: &Server) -> Meter {
        let (server_cpu, _) = server.cpu();
        Meter { server: server.clone(), started: Instant::now(), server_cpu, own_cpu: own_cpu() }
    }

    pub fn stop(&self) -> Costs {
        let (cpu, source) = self.server.cpu();
        Costs {
            elapsed: self.started.elapsed(),
            server_cpu: cpu.saturating_sub(self.server_cpu),
            own_cpu: own_cpu().saturating_sub(self.own_cpu),
            source,
        }
    }
}

impl Costs {
    /// The throughput fields: `deliveries`, `deliveries_per_s` (over `window`),
    /// `cpu_us_per_delivery`, the load's own, and the totals behind them.
    pub fn put(&self, r: &mut ResultLine, unit: &str, deliveries: u64, window: Duration) {
        let per = |d: Duration| d.as_secs_f64() * 1e6 / deliveries.max(1) as f64;
        r.put("unit", unit)
            .put("deliveries", deliveries)
            .float("deliveries_per_s", deliveries as f64 / window.as_secs_f64().max(1e-9), 0)
            .float("cpu_us_per_delivery", per(self.server_cpu), 3)
            .float("load_cpu_us_per_delivery", per(self.own_cpu), 3)
            .float("server_cpu_ms", self.server_cpu.as_secs_f64() * 1e3, 1)
            .float("window_s", window.as_secs_f64(), 3)
            .put("cpu_source", self.source.name());
    }
}

/// `1234567` → `1.23 M`, for the progress line.
/// What every delivery scenario (fan-out, long-poll, short-poll) checks at its end, put on
/// the `RESULT` line: nothing lost, doubled, reordered or unreadable, the server's ids
/// consecutive, every publish taken, no connection closed under us. Returns whether all hold.
pub struct Delivered<'a> {
    pub latency: &'a Histogram,
    pub account: Account,
    pub unreadable: u64,
    pub ids: IdCheck,
    pub publisher: &'a Publisher,
    pub closed: usize,
    pub first_error: Option<&'a String>,
}

impl Delivered<'_> {
    pub fn put(&self, scenario: &str, r: &mut ResultLine) -> bool {
        let Delivered { latency, account, unreadable, ids, publisher, closed, first_error } = self;
        r.latencies(latency)
            .put("lost", account.lost)
            .put("dup", account.duplicates)
            .put("reordered", account.reordered)
            .put("foreign", account.foreign + unreadable)
            .put("ids_checked", ids.checked)
            .put("bad_ids", ids.bad)
            .put("publish_refused", publisher.refused)
            .put("closed", closed);
        if let Some(e) = first_error.or(publisher.first_refusal.as_ref()) {
            eprintln!("{scenario}: {e}");
        }
        account.clean() && *unreadable == 0 && ids.bad == 0 && publisher.refused == 0 && *closed == 0
    }
}

pub fn si(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2} M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1} k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_lines_split_on_spaces_and_equals() {
        let mut r = ResultLine::default();
        r.put("scenario", "ws-echo").put("odd", "a b=c").float("rate", 1234.5678, 1);
        assert_eq!(r.line(), "RESULT scenario=ws-echo odd=a_b_c rate=1234.6");
        assert_eq!(r.get("rate"), Some("1234.6"));
        assert_eq!(si(1_234_567.0), "1.23 M");
        assert_eq!(si(12_345.0), "12.3 k");
    }
}
