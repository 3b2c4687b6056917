//! The command line: a scenario, then `--flag value` pairs; every flag has a default that
//! depends on the scenario. Parsing is a pure function of the words, so it is tested here,
//! and so is the rule that the load goes nowhere but loopback.
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

pub const USAGE: &str = "\
load — drives a push server on loopback and measures it (pushlab's own load tool)

USAGE:
    cargo run --release --example load -- SCENARIO [OPTIONS]

SCENARIOS:
    ws-echo      C connections to /echo, each with K S-byte messages in flight: msgs/s, p50/p99
    sse-fanout   N /sse subscribers, M messages published: deliveries/s, publish-to-receive
                 p50/p99/max, lost and duplicated (checked from ids; both must be 0)
    ws-fanout    the same over /ws
    long-poll    N clients cycling GET /long-poll with their cursors while R msg/s are published
    short-poll   N clients polling GET /poll back to back (P pipelined per write), R msg/s published
    idle         K held connections of --kind ws|sse|long-poll|http: the server's RSS per
                 connection, the difference between K/2 and K open

OPTIONS:
    --addr HOST:PORT      the server; only 127.0.0.0/8 is accepted [default: 127.0.0.1:8080]
    --pid PID[,PID…]      the server's processes [default: whoever holds the listening socket]
    --conns N             connections: subscribers, clients [ws-echo 100, fan-out 1000,
                          long-poll 1000, short-poll 100, idle 10000] (--subs, --clients: the same)
    --messages M          messages published (fan-out) [200]
    --warmup W            fan-out: messages published and delivered before the measured M [10]
    --size S              bytes per message [ws-echo 16, others 64]
    --rate R              messages published per second; 0 = all at once [fan-out 0,
                          long-poll 200, short-poll 0]
    --duration SECS       how long ws-echo, long-poll and short-poll run [5]
    --inflight K          ws-echo: messages in flight per connection [1]
    --pipeline P          short-poll: requests per write [1]
    --kind KIND           idle: ws, sse, long-poll or http [ws]
    --settle SECS         idle: quiet time before each memory reading [1]
    --hold SECS           idle: keep the connections this long after measuring [0]
    --sources N           loopback source addresses 127.0.0.2… [one per 25 000 connections]
    --connect-window W    connections being opened at once [128]
    --topic T             the topic [a fresh one per run: load.<unix-ms>.<pid>]
    --timeout SECS        give up on a phase after this long [30]
    --deflate             ws-fanout: offer permessage-deflate (RFC 7692) and inflate what comes
    --quiet               no progress line
    -h, --help            print this help

OUTPUT:
    A progress line on stderr while it runs; then one line on stdout,
    RESULT scenario=… deliveries_per_s=… cpu_us_per_delivery=… (k=v, space-separated).
    Exit status 0 when the run was clean (everything arrived, once), 1 when not, 2 on a usage error.
";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    WsEcho,
    SseFanout,
    WsFanout,
    LongPoll,
    ShortPoll,
    Idle,
}

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Scenario::WsEcho => "ws-echo",
            Scenario::SseFanout => "sse-fanout",
            Scenario::WsFanout => "ws-fanout",
            Scenario::LongPoll => "long-poll",
            Scenario::ShortPoll => "short-poll",
            Scenario::Idle => "idle",
        }
    }

    const ALL: [Scenario; 6] = [
        Scenario::WsEcho,
        Scenario::SseFanout,
        Scenario::WsFanout,
        Scenario::LongPoll,
        Scenario::ShortPoll,
        Scenario::Idle,
    ];
}

/// What an idle connection is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An open `/ws` subscription.
    Ws,
    /// An open `/sse` stream.
    Sse,
    /// A held `/long-poll` request (re-sent when the server answers it).
    LongPoll,
    /// A keep-alive connection after one `/poll` exchange.
    Http,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Ws => "ws",
            Kind::Sse => "sse",
            Kind::LongPoll => "long-poll",
            Kind::Http => "http",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Args {
    pub scenario: Scenario,
    pub addr: SocketAddrV4,
    pub pids: Option<Vec<u32>>,
    pub conns: usize,
    pub messages: u64,
    pub warmup: u64,
    pub size: usize,
    pub rate: f64,
    pub duration: Duration,
    pub inflight: usize,
    pub pipeline: usize,
    pub kind: Kind,
    pub settle: Duration,
    pub hold: Duration,
    /// 0: one per 25 000 connections.
    pub sources: usize,
    pub connect_window: usize,
    pub topic: Option<String>,
    pub timeout: Duration,
    pub quiet: bool,
    /// ws-fanout: offer permessage-deflate.
    pub deflate: bool,
}

#[derive(Debug, PartialEq)]
pub enum Command {
    Run(Box<Args>),
    Help,
}

/// Connections one source address is given (of the ~28 000 ephemeral ports it has).
pub const CONNS_PER_SOURCE: usize = 25_000;
/// Largest message `/publish` takes (SPEC §3).
const MAX_PUBLISH: usize = 64 * 1024;

impl Args {
    fn defaults(scenario: Scenario) -> Args {
        let conns = match scenario {
            Scenario::WsEcho | Scenario::ShortPoll => 100,
            Scenario::SseFanout | Scenario::WsFanout | Scenario::LongPoll => 1000,
            Scenario::Idle => 10_000,
        };
        Args {
            scenario,
            addr: SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080),
            pids: None,
            conns,
            messages: 200,
            warmup: 10,
            size: if scenario == Scenario::WsEcho { 16 } else { 64 },
            rate: if scenario == Scenario::LongPoll { 200.0 } else { 0.0 },
            duration: Duration::from_secs(5),
            inflight: 1,
            pipeline: 1,
            kind: Kind::Ws,
            settle: Duration::from_secs(1),
            hold: Duration::ZERO,
            sources: 0,
            connect_window: 128,
            topic: None,
            timeout: Duration::from_secs(30),
            quiet: false,
            deflate: false,
        }
    }

    /// The loopback source addresses connections are spread over: 127.0.0.2, 127.0.0.3, …
    pub fn source_addrs(&self) -> Vec<Ipv4Addr> {
        let n = if self.sources == 0 { self.conns.div_ceil(CONNS_PER_SOURCE).max(1) } else { self.sources };
        (0..n.min(250)).map(|i| Ipv4Addr::new(127, 0, 0, 2 + i as u8)).collect()
    }
}

/// The target, checked: an IPv4 address in 127.0.0.0/8 (`localhost` is 127.0.0.1). The tool
/// opens tens of thousands of connections as fast as the kernel allows; pointed anywhere
/// but this machine's loopback that is a flood, so it refuses.
pub fn check_target(text: &str) -> Result<SocketAddrV4, String> {
    let refuse = |why: &str| {
        Err(format!(
            "refusing target {text:?}: {why}; the load tool drives servers on loopback only (127.0.0.0/8)"
        ))
    };
    let text_v4 = match text.strip_prefix("localhost:") {
        Some(port) => format!("127.0.0.1:{port}"),
        None => text.to_string(),
    };
    match text_v4.parse::<SocketAddr>() {
        Ok(SocketAddr::V4(a)) if a.ip().octets()[0] == 127 && a.port() != 0 => Ok(a),
        Ok(SocketAddr::V4(a)) if a.ip().octets()[0] == 127 => refuse("port 0 is no server's port"),
        Ok(SocketAddr::V4(_)) => refuse("not in 127.0.0.0/8"),
        Ok(SocketAddr::V6(_)) => refuse("IPv6 is not 127.0.0.0/8"),
        Err(_) => refuse("not IPV4:PORT or localhost:PORT (host names are not resolved)"),
    }
}

/// A topic as SPEC §2 has it: 1–64 of `[A-Za-z0-9._-]`.
fn check_topic(t: &str) -> Result<String, String> {
    let ok =
        (1..=64).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if ok {
        Ok(t.to_string())
    } else {
        Err(format!("--topic {t:?}: a topic is 1-64 of [A-Za-z0-9._-]"))
    }
}

fn number<T: std::str::FromStr>(flag: &str, v: &str) -> Result<T, String> {
    v.parse().map_err(|_| format!("{flag}: not a number: {v:?}"))
}

fn seconds(flag: &str, v: &str) -> Result<Duration, String> {
    let s: f64 = number(flag, v)?;
    if !(0.0..=86_400.0).contains(&s) {
        return Err(format!("{flag}: {v} s is out of range"));
    }
    Ok(Duration::from_secs_f64(s))
}

/// Parses the words after the program name. Errors are one line for the user.
pub fn parse(words: &[String]) -> Result<Command, String> {
    let mut words = words.iter().map(String::as_str);
    let first = words.next().ok_or("no scenario given (try --help)")?;
    if first == "-h" || first == "--help" {
        return Ok(Command::Help);
    }
    let scenario = Scenario::ALL.into_iter().find(|s| s.name() == first).ok_or_else(|| {
        let names: Vec<&str> = Scenario::ALL.iter().map(|s| s.name()).collect();
        format!("unknown scenario {first:?}: one of {}", names.join(", "))
    })?;
    let mut a = Args::defaults(scenario);
    while let Some(flag) = words.next() {
        match flag {
            "-h" | "--help" => return Ok(Command::Help),
            "--quiet" => {
                a.quiet = true;
                continue;
            }
            "--deflate" => {
                a.deflate = true;
                continue;
            }
            _ => {}
        }
        let v = words.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag {
            "--addr" => a.addr = check_target(v)?,
            "--pid" => a.pids = Some(super::server_proc::parse_pids(v)?),
            "--conns" | "--subs" | "--clients" => a.conns = number(flag, v)?,
            "--messages" => a.messages = number(flag, v)?,
            "--warmup" => a.warmup = number(flag, v)?,
            "--size" => a.size = number(flag, v)?,
            "--rate" => a.rate = number(flag, v)?,
            "--duration" => a.duration = seconds(flag, v)?,
            "--inflight" => a.inflight = number(flag, v)?,
            "--pipeline" => a.pipeline = number(flag, v)?,
            "--kind" => {
                a.kind = match v {
                    "ws" => Kind::Ws,
                    "sse" => Kind::Sse,
                    "long-poll" => Kind::LongPoll,
                    "http" => Kind::Http,
                    _ => return Err(format!("--kind {v:?}: one of ws, sse, long-poll, http")),
                }
            }
            "--settle" => a.settle = seconds(flag, v)?,
            "--hold" => a.hold = seconds(flag, v)?,
            "--sources" => a.sources = number(flag, v)?,
            "--connect-window" => a.connect_window = number(flag, v)?,
            "--topic" => a.topic = Some(check_topic(v)?),
            "--timeout" => a.timeout = seconds(flag, v)?,
            _ => return Err(format!("unknown option {flag:?} (try --help)")),
        }
    }
    if a.conns == 0 || a.inflight == 0 || a.pipeline == 0 || a.connect_window == 0 {
        return Err("--conns, --inflight, --pipeline and --connect-window must be at least 1".into());
    }
    if a.scenario == Scenario::Idle && a.conns < 2 {
        return Err("idle: --conns must be at least 2 (memory is measured between K/2 and K)".into());
    }
    if a.scenario != Scenario::WsEcho && !(1..=MAX_PUBLISH).contains(&a.size) {
        return Err(format!("--size {}: a published message is 1 to {MAX_PUBLISH} bytes (SPEC §3)", a.size));
    }
    if !a.rate.is_finite() || a.rate < 0.0 {
        return Err(format!("--rate {}: messages per second, 0 or more", a.rate));
    }
    if a.sources > 250 {
        return Err("--sources: at most 250 (127.0.0.2 to 127.0.0.251)".into());
    }
    Ok(Command::Run(Box::new(a)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    fn args(s: &str) -> Args {
        match parse(&words(s)) {
            Ok(Command::Run(a)) => *a,
            other => panic!("{s:?}: {other:?}"),
        }
    }

    #[test]
    fn defaults_depend_on_the_scenario() {
        let echo = args("ws-echo");
        assert_eq!((echo.conns, echo.size, echo.inflight), (100, 16, 1));
        assert_eq!(echo.addr, "127.0.0.1:8080".parse().unwrap());
        let fan = args("sse-fanout");
        assert_eq!((fan.conns, fan.messages, fan.size, fan.rate), (1000, 200, 64, 0.0));
        assert_eq!(args("long-poll").rate, 200.0);
        assert_eq!((args("idle").conns, args("idle").kind), (10_000, Kind::Ws));
    }

    #[test]
    fn flags_override() {
        let a = args(
            "ws-fanout --subs 10 --messages 7 --size 100 --rate 50 --addr 127.0.0.9:9000 --quiet --pid 4,5",
        );
        assert_eq!((a.conns, a.messages, a.size, a.rate, a.quiet), (10, 7, 100, 50.0, true));
        assert_eq!(a.addr, "127.0.0.9:9000".parse().unwrap());
        assert_eq!(a.pids, Some(vec![4, 5]));
        let a = args("idle --kind long-poll --clients 64 --hold 1.5 --duration 0.25 --topic a.b-c_1");
        assert_eq!((a.kind, a.conns, a.hold), (Kind::LongPoll, 64, Duration::from_millis(1500)));
        assert_eq!((a.duration, a.topic.as_deref()), (Duration::from_millis(250), Some("a.b-c_1")));
        assert_eq!(args("short-poll --addr localhost:81").addr, "127.0.0.1:81".parse().unwrap());
    }

    #[test]
    fn nothing_outside_loopback() {
        for target in
            ["10.0.0.1:80", "192.168.1.2:8080", "8.8.8.8:53", "0.0.0.0:8080", "[::1]:8080", "example.com:80"]
        {
            let e = parse(&words(&format!("ws-echo --addr {target}"))).unwrap_err();
            assert!(e.starts_with("refusing target") && e.contains("127.0.0.0/8"), "{target}: {e}");
        }
        assert!(check_target("127.0.0.1:0").is_err());
        assert!(check_target("127.255.255.254:1").is_ok());
    }

    #[test]
    fn mistakes_are_named() {
        let err = |s: &str| parse(&words(s)).unwrap_err();
        assert!(err("").contains("no scenario"));
        assert!(err("flood").contains("unknown scenario"));
        assert!(err("ws-echo --conns").contains("needs a value"));
        assert!(err("ws-echo --conns many").contains("not a number"));
        assert!(err("ws-echo --conns 0").contains("at least 1"));
        assert!(err("ws-echo --turbo 1").contains("unknown option"));
        assert!(err("idle --kind udp").contains("--kind"));
        assert!(err("idle --conns 1").contains("at least 2"));
        assert!(err("sse-fanout --size 70000").contains("SPEC §3"));
        assert!(err("sse-fanout --topic a/b").contains("topic"));
        assert!(err("long-poll --rate -1").contains("--rate"));
        assert_eq!(parse(&words("--help")), Ok(Command::Help));
        assert_eq!(parse(&words("idle -h")), Ok(Command::Help));
    }

    #[test]
    fn sources_spread_connections() {
        assert_eq!(args("idle --conns 10").source_addrs(), vec![Ipv4Addr::new(127, 0, 0, 2)]);
        let many = args("idle --conns 64000").source_addrs();
        assert_eq!(
            many,
            vec![Ipv4Addr::new(127, 0, 0, 2), Ipv4Addr::new(127, 0, 0, 3), Ipv4Addr::new(127, 0, 0, 4)]
        );
        assert_eq!(args("idle --sources 5").source_addrs().len(), 5);
    }
}
