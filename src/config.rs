//! Command-line configuration (SPEC §1).

use std::net::SocketAddr;
use std::time::Duration;

use crate::limits;

pub mod chaos;

/// Everything the server can be told at start.
#[derive(Clone, Debug)]
pub struct Config {
    pub addr: SocketAddr,
    /// Messages kept per topic for replay.
    pub replay: usize,
    pub max_connections: usize,
    /// Interval of SSE `: keep-alive` comments and WebSocket pings on idle connections.
    pub heartbeat: Duration,
    /// Default hold time of `/long-poll`.
    pub long_poll_timeout: Duration,
    /// Largest message `/echo` accepts.
    pub max_message: usize,
    /// Origins besides the server's own that may use the transports from a browser.
    pub allow_origins: Vec<String>,
    /// A request head must be complete this long after its first byte (SPEC §8: 10 s).
    pub head_timeout: Duration,
    /// An idle keep-alive connection is closed after this long (SPEC §8: 60 s).
    pub idle_timeout: Duration,
    /// Event loops, each on its own thread (SPEC §10).
    pub workers: usize,
    /// Fault injection (`--chaos`); off by default.
    pub chaos: Option<chaos::Chaos>,
    /// Accept permessage-deflate offers (RFC 7692); `--no-deflate` turns it off.
    pub deflate: bool,
}

/// The default `--workers`: `PUSHLAB_WORKERS` if it is set (so a whole test suite can run
/// with any number of loops), else the cores this process may run on.
pub fn default_workers() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::env::var("PUSHLAB_WORKERS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| (1..=limits::MAX_WORKERS).contains(n))
        .unwrap_or(cores.min(limits::MAX_WORKERS))
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            replay: limits::DEFAULT_REPLAY,
            max_connections: limits::DEFAULT_MAX_CONNECTIONS,
            heartbeat: Duration::from_secs(limits::DEFAULT_HEARTBEAT_S),
            long_poll_timeout: Duration::from_secs(limits::DEFAULT_LONG_POLL_TIMEOUT_S),
            max_message: limits::DEFAULT_MAX_ECHO_MESSAGE,
            allow_origins: Vec::new(),
            head_timeout: limits::HEAD_TIMEOUT,
            idle_timeout: limits::IDLE_TIMEOUT,
            workers: default_workers(),
            chaos: None,
            deflate: true,
        }
    }
}

pub const USAGE: &str = "\
pushlab — a real-time push server: short polling, long polling, Server-Sent Events, WebSocket

USAGE:
    pushlab [OPTIONS]

OPTIONS:
    --addr HOST:PORT          address to listen on [env PUSHLAB_ADDR] [default: 127.0.0.1:8080]
                              (port 0 picks a free port; the first line printed names it)
    --replay N                messages kept per topic for replay [default: 1024]
    --max-connections N       connections served at once; one more gets 503 [default: 100000]
    --heartbeat SECS          SSE keep-alive comment / WebSocket ping interval [default: 15]
    --long-poll-timeout SECS  how long /long-poll holds a request, 1..=120 [default: 25]
    --max-message BYTES       largest message /echo accepts [default: 16777216]
    --allow-origin ORIGIN     another origin allowed to use the transports (repeatable)
    --head-timeout SECS       a request head must be complete this long after its first byte,
                              else 408 [default: 10]
    --idle-timeout SECS       an idle keep-alive connection is closed after this long [default: 60]
    --workers N               event loops, one thread each [env PUSHLAB_WORKERS]
                              [default: the cores this process may use]
    --chaos drop=P,cut=P,stall=D[,seed=N]
                              misbehave on purpose, for learning (off by default): drop new
                              connections, cut connections after a write, hold output back
    --no-deflate              refuse permessage-deflate: plain WebSocket frames, as in
                              chapter 05's captures
    -h, --help                print this help

Logging: RUST_LOG=info (default), debug (a line per connection), trace (the wire, annotated;
RUST_LOG=pushlab=trace leaves out mio's own trace lines).
";

/// What the command line asked for.
#[derive(Debug)]
pub enum Command {
    Serve(Config),
    Help,
}

impl Config {
    /// Parses arguments (without the program name). `env_addr` is `PUSHLAB_ADDR`, which
    /// `--addr` overrides. Errors are one line for the user.
    pub fn from_args<I: IntoIterator<Item = String>>(
        args: I,
        env_addr: Option<String>,
    ) -> Result<Command, String> {
        let mut config = Config::default();
        if let Some(addr) = env_addr {
            config.addr = parse_addr(&addr).map_err(|e| format!("PUSHLAB_ADDR: {e}"))?;
        }
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            // Accept both `--flag value` and `--flag=value`.
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
                _ => (arg.clone(), None),
            };
            if flag == "-h" || flag == "--help" {
                return Ok(Command::Help);
            }
            let mut value = || -> Result<String, String> {
                inline.clone().or_else(|| args.next()).ok_or_else(|| format!("{flag} needs a value"))
            };
            match flag.as_str() {
                "--addr" => config.addr = parse_addr(&value()?)?,
                "--replay" => {
                    config.replay = number(&flag, &value()?)? as usize;
                    // Pollers read only what is retained: with nothing kept they would see
                    // nothing at all.
                    if config.replay == 0 {
                        return Err("--replay must be at least 1".into());
                    }
                }
                "--max-connections" => {
                    config.max_connections = number(&flag, &value()?)? as usize;
                    if config.max_connections == 0 {
                        return Err("--max-connections must be at least 1".into());
                    }
                }
                "--heartbeat" => {
                    let secs = number(&flag, &value()?)?;
                    if secs == 0 {
                        return Err("--heartbeat must be at least 1 second".into());
                    }
                    config.heartbeat = Duration::from_secs(secs);
                }
                "--long-poll-timeout" => {
                    let secs = number(&flag, &value()?)?
                        .clamp(limits::MIN_LONG_POLL_TIMEOUT_S, limits::MAX_LONG_POLL_TIMEOUT_S);
                    config.long_poll_timeout = Duration::from_secs(secs);
                }
                "--head-timeout" => config.head_timeout = seconds(&flag, &value()?)?,
                "--idle-timeout" => config.idle_timeout = seconds(&flag, &value()?)?,
                "--max-message" => config.max_message = number(&flag, &value()?)? as usize,
                "--allow-origin" => config.allow_origins.push(value()?),
                "--workers" => {
                    config.workers = number(&flag, &value()?)? as usize;
                    if !(1..=limits::MAX_WORKERS).contains(&config.workers) {
                        return Err(format!("--workers must be 1..={}", limits::MAX_WORKERS));
                    }
                }
                "--no-deflate" => config.deflate = false,
                "--chaos" => {
                    let clock = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(1, |d| d.as_nanos() as u64);
                    config.chaos = Some(chaos::Chaos::parse(&value()?, clock)?);
                }
                _ => return Err(format!("unknown option '{arg}'")),
            }
        }
        Ok(Command::Serve(config))
    }
}

fn parse_addr(s: &str) -> Result<SocketAddr, String> {
    let s = s.trim();
    // `localhost:8080` is not a SocketAddr literal; it is what people type.
    let literal = match s.strip_prefix("localhost:") {
        Some(port) => format!("127.0.0.1:{port}"),
        None => s.to_string(),
    };
    literal.parse().map_err(|_| format!("'{s}' is not an address like 127.0.0.1:8080"))
}

/// A whole number of seconds, at least 1.
fn seconds(flag: &str, s: &str) -> Result<Duration, String> {
    match number(flag, s)? {
        0 => Err(format!("{flag} must be at least 1 second")),
        secs => Ok(Duration::from_secs(secs)),
    }
}

fn number(flag: &str, s: &str) -> Result<u64, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{flag} takes a whole number, not '{s}'"));
    }
    s.parse().map_err(|_| format!("{flag}: '{s}' is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, String> {
        Config::from_args(args.iter().map(|s| s.to_string()), None)
    }

    #[test]
    fn flags_and_defaults() {
        let Ok(Command::Serve(c)) =
            parse(&["--addr", "127.0.0.1:0", "--replay=5", "--long-poll-timeout", "999"])
        else {
            panic!("should parse")
        };
        assert_eq!(c.addr.port(), 0);
        assert_eq!(c.replay, 5);
        assert_eq!(c.long_poll_timeout, Duration::from_secs(120), "clamped");
        assert_eq!(c.heartbeat, Duration::from_secs(15));
    }

    #[test]
    fn bad_flags_are_errors() {
        assert!(parse(&["--nope"]).is_err());
        assert!(parse(&["--replay", "-1"]).is_err());
        assert!(parse(&["--replay", "0"]).is_err());
        assert!(parse(&["--addr"]).is_err());
        assert!(parse(&["--addr", "nowhere"]).is_err());
        assert!(matches!(parse(&["--help"]), Ok(Command::Help)));
    }
}
