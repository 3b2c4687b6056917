//! A real `redis-server` for the tests that need one: [`RedisServer::start`] runs one on a
//! free port of `127.0.0.1`, with no persistence (`--save '' --appendonly no`) in a fresh
//! directory, waits until it answers `PING`, and kills it when the guard is dropped — also
//! when the test fails.
//!
//! Without `redis-server` (on `PATH`, in `/usr/bin`, or named by `PUSHLAB_REDIS_SERVER`)
//! `start` prints `SKIPPED: redis-server not found` and returns `None`, and the test passes
//! — unless `PUSHLAB_REQUIRE_REDIS=1` (CI sets it, `.ci/run`), which makes it fail.
//!
//! Include it with `#[path = "common/redis.rs"] mod redis_server;`.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Longest a server gets to start answering.
const STARTUP: Duration = Duration::from_secs(5);

/// A running `redis-server`; killed on drop.
pub struct RedisServer {
    binary: PathBuf,
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    password: Option<String>,
}

/// The `redis-server` binary, if there is one.
pub fn find_redis_server() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let candidates = std::env::var_os("PUSHLAB_REDIS_SERVER")
        .map(PathBuf::from)
        .into_iter()
        .chain(std::env::split_paths(&path).map(|d| d.join("redis-server")))
        .chain([PathBuf::from("/usr/bin/redis-server"), PathBuf::from("/usr/local/bin/redis-server")]);
    for candidate in candidates {
        let runs = Command::new(&candidate)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if runs {
            return Some(candidate);
        }
    }
    None
}

impl RedisServer {
    /// A fresh server with no password, or `None` after saying loudly that the test skips.
    pub fn start() -> Option<RedisServer> {
        RedisServer::start_with(None)
    }

    /// A fresh server started with `--requirepass password`.
    pub fn start_with_password(password: &str) -> Option<RedisServer> {
        RedisServer::start_with(Some(password))
    }

    fn start_with(password: Option<&str>) -> Option<RedisServer> {
        let Some(binary) = find_redis_server() else {
            assert!(
                std::env::var("PUSHLAB_REQUIRE_REDIS").as_deref() != Ok("1"),
                "PUSHLAB_REQUIRE_REDIS=1 but no redis-server was found (set PUSHLAB_REDIS_SERVER or install redis-server)"
            );
            // Straight to the process's stderr: the test harness captures `eprintln!`.
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPED: redis-server not found — Redis tests did not run ***\n"
            );
            return None;
        };
        static SERVERS: AtomicUsize = AtomicUsize::new(0);
        let n = SERVERS.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("pushlab-redis-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let mut server =
            RedisServer { binary, child: None, port: 0, dir, password: password.map(str::to_owned) };
        server.launch();
        Some(server)
    }

    /// Starts the process on a free port (a new one if another process took it first) and
    /// waits for `PING`.
    fn launch(&mut self) {
        for _ in 0..5 {
            if self.port == 0 {
                self.port = free_port();
            }
            let mut command = Command::new(&self.binary);
            command
                .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
                .arg("--dir")
                .arg(&self.dir)
                .args(["--save", "", "--appendonly", "no", "--logfile", ""])
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            if let Some(password) = &self.password {
                command.args(["--requirepass", password]);
            }
            let mut child = command.spawn().expect("redis-server starts");
            let deadline = Instant::now() + STARTUP;
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // exited: most likely the port was taken
                }
                if self.answers_ping() {
                    self.child = Some(child);
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = child.kill();
            let _ = child.wait();
            self.port = 0;
        }
        panic!("redis-server did not start");
    }

    fn answers_ping(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else { return false };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
        if stream.write_all(b"*1\r\n$4\r\nPING\r\n").is_err() {
            return false;
        }
        let mut reply = [0u8; 64];
        // `+PONG`, or `-NOAUTH` under --requirepass: either way it is up.
        let read = loop {
            match stream.read(&mut reply) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                read => break read,
            }
        };
        matches!(read, Ok(n) if n > 0 && (reply.starts_with(b"+PONG") || reply.starts_with(b"-NOAUTH")))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://[:PASSWORD@]127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        match &self.password {
            Some(password) => format!("redis://:{password}@127.0.0.1:{}", self.port),
            None => format!("redis://127.0.0.1:{}", self.port),
        }
    }

    /// Kills the server and starts a new one on the same port: with no persistence, it comes
    /// back empty, as a Redis that lost its data.
    pub fn restart_empty(&mut self) {
        self.kill();
        self.launch();
    }

    /// Sends one command (after `AUTH` when there is a password) on a fresh connection and
    /// returns the raw reply bytes (one read).
    pub fn command(&self, args: &[&str]) -> Vec<u8> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("redis-server accepts");
        stream.set_read_timeout(Some(STARTUP)).unwrap();
        let mut request = Vec::new();
        if let Some(password) = &self.password {
            request.extend(encode(&["AUTH", password]));
        }
        request.extend(encode(args));
        stream.write_all(&request).unwrap();
        let mut reply = vec![0u8; 64 * 1024];
        let mut got = 0;
        let want_ok = self.password.is_some();
        loop {
            let n = match stream.read(&mut reply[got..]) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                read => read.expect("redis-server answers"),
            };
            assert!(n > 0, "redis-server closed the connection");
            got += n;
            let body = if want_ok { reply[..got].strip_prefix(b"+OK\r\n") } else { Some(&reply[..got]) };
            if let Some(body) = body.filter(|b| b.ends_with(b"\r\n")) {
                return body.to_vec();
            }
        }
    }

    /// `FLUSHALL`: every key gone, the scripts kept.
    pub fn flushall(&self) {
        assert_eq!(self.command(&["FLUSHALL"]), b"+OK\r\n");
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A port nothing listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().unwrap().port()
}

/// One command in RESP, written here without pushlab's encoder.
fn encode(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend(format!("${}\r\n{arg}\r\n", arg.len()).into_bytes());
    }
    out
}
