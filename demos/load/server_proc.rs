//! The server seen from `/proc`: which processes hold its listening socket, their CPU time
//! and their resident memory. Reading them from outside is what makes the figures fair to
//! any server — pushlab, nginx with its worker, Bun — without its cooperation.
//!
//! - [`find_by_port`]: the `LISTEN` socket of the port in `/proc/net/tcp` (and `tcp6`) gives
//!   an inode; every process with a descriptor `socket:[inode]` in `/proc/*/fd` serves it
//!   (nginx's master and its workers all hold it).
//! - [`Server::cpu`]: `utime + stime` from `/proc/PID/stat` (fields 14 and 15, in clock
//!   ticks, 10 ms), or, where the kernel has it, the first field of
//!   `/proc/PID/task/*/schedstat` (nanoseconds on a CPU, summed over the threads): the same
//!   time, a thousand times finer, which a burst of 200 000 deliveries in 0.2 s needs.
//! - [`Server::rss`]: `VmRSS` from `/proc/PID/status`, summed.
//!
//! When the server runs inside this very process (the integration test starts pushlab with
//! `pushlab::spawn`), the calling thread — the load — is left out of the CPU time.
use std::fs;
use std::time::Duration;

/// The processes serving the target, and how to read their costs.
#[derive(Clone, Debug)]
pub struct Server {
    pub pids: Vec<u32>,
    ticks: u64,
}

/// Where CPU time was read from: `schedstat` (ns) or `stat` (clock ticks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuSource {
    Schedstat,
    Stat,
}

impl CpuSource {
    pub fn name(self) -> &'static str {
        match self {
            CpuSource::Schedstat => "schedstat",
            CpuSource::Stat => "stat",
        }
    }
}

impl Server {
    pub fn new(pids: Vec<u32>) -> Server {
        Server { pids, ticks: super::sys::clock_ticks() }
    }

    /// CPU time used so far by every process of the server, and where it was read.
    pub fn cpu(&self) -> (Duration, CpuSource) {
        let me = std::process::id();
        let own_thread = own_tid();
        let mut total = Duration::ZERO;
        let mut source = CpuSource::Schedstat;
        for &pid in &self.pids {
            let skip = if pid == me { own_thread } else { None };
            match schedstat_sum(pid, skip) {
                Some(t) => total += t,
                None => {
                    source = CpuSource::Stat;
                    total += stat_cpu(&format!("/proc/{pid}/stat"), self.ticks).unwrap_or_default();
                }
            }
        }
        (total, source)
    }

    /// Resident memory of every process of the server, in bytes.
    pub fn rss(&self) -> u64 {
        self.pids
            .iter()
            .map(|pid| rss_of(&fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default()))
            .sum()
    }
}

/// CPU time of the calling thread (the load itself), for its own cost per delivery.
pub fn own_cpu() -> Duration {
    fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map(Duration::from_nanos)
        .or_else(|| stat_cpu("/proc/thread-self/stat", super::sys::clock_ticks()))
        .unwrap_or_default()
}

/// The calling thread's id, from `/proc/thread-self` → `PID/task/TID`.
fn own_tid() -> Option<u32> {
    let link = fs::read_link("/proc/thread-self").ok()?;
    link.file_name()?.to_str()?.parse().ok()
}

/// The sum of `/proc/PID/task/*/schedstat`'s first field, leaving out thread `skip`.
fn schedstat_sum(pid: u32, skip: Option<u32>) -> Option<Duration> {
    let tasks = fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut nanos = 0u64;
    let mut any = false;
    for task in tasks.flatten() {
        let tid: Option<u32> = task.file_name().to_str().and_then(|t| t.parse().ok());
        if tid.is_some() && tid == skip {
            continue;
        }
        let Ok(stat) = fs::read_to_string(task.path().join("schedstat")) else { continue };
        nanos += stat.split_whitespace().next()?.parse::<u64>().ok()?;
        any = true;
    }
    any.then(|| Duration::from_nanos(nanos))
}

/// `utime + stime` of a `stat` file. The command name (field 2) is in parentheses and may
/// hold spaces, so fields are counted after the last `)`: state is the first, utime the
/// 12th and stime the 13th.
fn stat_cpu(path: &str, ticks: u64) -> Option<Duration> {
    parse_stat_cpu(&fs::read_to_string(path).ok()?, ticks)
}

pub fn parse_stat_cpu(stat: &str, ticks: u64) -> Option<Duration> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_nanos((utime + stime) * 1_000_000_000 / ticks.max(1)))
}

/// `VmRSS:   1234 kB` → bytes.
pub fn rss_of(status: &str) -> u64 {
    let kb = status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.split_whitespace().next());
    kb.and_then(|v| v.parse::<u64>().ok()).unwrap_or(0) * 1024
}

/// Every process holding the socket that listens on `port`.
pub fn find_by_port(port: u16) -> Result<Vec<u32>, String> {
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        inodes.extend(listening_inodes(&fs::read_to_string(table).unwrap_or_default(), port));
    }
    if inodes.is_empty() {
        return Err(format!("nothing listens on port {port} (per /proc/net/tcp); is the server running?"));
    }
    let wanted: Vec<String> = inodes.iter().map(|i| format!("socket:[{i}]")).collect();
    let mut pids = Vec::new();
    for entry in fs::read_dir("/proc").map_err(|e| e.to_string())?.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|p| p.parse::<u32>().ok()) else { continue };
        let Ok(fds) = fs::read_dir(entry.path().join("fd")) else { continue };
        let holds = fds.flatten().any(|fd| {
            fs::read_link(fd.path())
                .is_ok_and(|target| wanted.iter().any(|w| target.as_os_str() == w.as_str()))
        });
        if holds {
            pids.push(pid);
        }
    }
    if pids.is_empty() {
        return Err(format!(
            "port {port} listens, but no process visible here holds its socket (another user's? use --pid)"
        ));
    }
    pids.sort_unstable();
    Ok(pids)
}

/// The inodes of `LISTEN` (state `0A`) sockets on `port` in a `/proc/net/tcp` table:
/// `sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …`, the
/// address as `HEXIP:HEXPORT`.
pub fn listening_inodes(table: &str, port: u16) -> Vec<u64> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let local_port = u16::from_str_radix(f.get(1)?.rsplit(':').next()?, 16).ok()?;
            (local_port == port && *f.get(3)? == "0A").then(|| f.get(9)?.parse().ok())?
        })
        .collect()
}

/// Parses `--pid 12` or `--pid 12,13`.
pub fn parse_pids(text: &str) -> Result<Vec<u32>, String> {
    text.split(',').map(|p| p.trim().parse().map_err(|_| format!("--pid: not a process id: {p:?}"))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_after_the_command_name() {
        // A command name with a space and a parenthesis, as `(tokio-rt (1))` could be.
        let stat = "42 (a b) c) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 5 1000 10";
        assert_eq!(parse_stat_cpu(stat, 100), Some(Duration::from_secs(3)));
    }

    #[test]
    fn rss_in_bytes() {
        assert_eq!(rss_of("Name:\tpushlab\nVmRSS:\t    2048 kB\nVmData: 1 kB\n"), 2048 * 1024);
        assert_eq!(rss_of("Name: gone\n"), 0);
    }

    #[test]
    fn listening_sockets_of_a_port() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
           0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0\n\
           1: 0100007F:1F90 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 4343 1 0\n\
           2: 0100007F:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4444 1 0\n";
        assert_eq!(listening_inodes(table, 8080), vec![4242]);
        assert_eq!(listening_inodes(table, 8081), vec![4444]);
        assert!(listening_inodes(table, 80).is_empty());
    }

    #[test]
    fn pid_lists() {
        assert_eq!(parse_pids("12"), Ok(vec![12]));
        assert_eq!(parse_pids("12,13"), Ok(vec![12, 13]));
        assert!(parse_pids("12,x").is_err());
    }
}
