//! # pushlab
//!
//! A real-time push server built from the sockets up, to be read beside its docs. `mio`
//! event loops, one per core, serve the four ways a server pushes messages to a browser —
//! short polling, long polling, Server-Sent Events and WebSocket — over an HTTP/1.1
//! implementation of its own. `SPEC.md` is the behaviour contract; `docs/` explains every layer.
//!
//! ## The map
//!
//! Layers from the bytes up; each module teaches one chapter of `docs/`. A layer uses only
//! the layers above it in this table (`tests/layers.rs` holds the code to that).
//!
//! | module | layer | chapter |
//! |---|---|---|
//! | [`limits`] | every limit and default, one commented line each | all |
//! | [`wire`] | bytes ↔ types: HTTP heads, chunked coding, SSE events, WebSocket frames and extension offers, DEFLATE, UTF-8, JSON | 01–05 |
//! | [`outq`] | a connection's output queue: owned and shared segments, written with `writev` | 00 |
//! | [`http`] | requests from input, errors → statuses, routing, responses | 01 |
//! | [`hub`] | topics, ids, replay rings, subscribers, each message's shared encodings; the bus that sequences ids across loops | 02, 09 |
//! | [`redis`] | topics shared through Redis, sans-IO: URL, scripts, command and Pub/Sub connections | 09 |
//! | [`transport`] | one sans-IO state machine per streaming transport: long-poll, SSE, WebSocket | 03–05 |
//! | [`config`], [`stats`] | command-line flags; the `/stats` counters | — |
//! | [`service`] | the seam between the server and the application: `Service`, `Reply` | 00 |
//! | [`server`] | the `mio` event loops, connection slab, timers, buffers, accepting and handing over — the only I/O | 00, 09 |
//! | [`app`] | pushlab's routes and policies: publish, poll, long-poll, SSE, WebSocket, pages | 02–05 |
//!
//! Nothing outside `server` names `mio`; `wire`, `outq`, `hub` and `redis` know nothing of
//! `transport`, `server` or `app`. A published message goes app → hub → server (fan-out) →
//! transport (what to send) → outq → socket, and never back up.
//!
//! `unsafe` is denied everywhere except `server/rlimit.rs` (two libc calls).
#![deny(unsafe_code)]

pub mod app;
pub mod config;
pub mod http;
pub mod hub;
pub mod limits;
pub mod outq;
pub mod redis;
pub mod server;
pub mod service;
pub mod stats;
pub mod transport;
pub mod wire;

use std::io;
use std::net::SocketAddr;

/// Binds pushlab with `config` and serves it on a new thread; returns the bound address.
/// This is how tests start a real server on `127.0.0.1:0`.
pub fn spawn(config: config::Config) -> io::Result<SocketAddr> {
    spawn_service(config, app::Pushlab::new)
}

/// Binds the service `make()` returns with `config` and serves it on a new thread (and
/// `config.workers - 1` more); returns the bound address. Each loop makes its service on its
/// own thread, so the service need not be `Send`.
pub fn spawn_service<S, F>(config: config::Config, make: F) -> io::Result<SocketAddr>
where
    S: service::Service + 'static,
    F: Fn() -> S + Send + Sync + 'static,
{
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new().name("pushlab".into()).spawn(move || {
        let server = match server::Server::bind(config, make) {
            Ok(server) => server,
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        };
        let _ = tx.send(server.local_addr());
        if let Err(e) = server.run() {
            log::error!("event loop failed: {e}");
        }
    })?;
    rx.recv().map_err(|_| io::Error::other("server thread ended before binding"))?
}
