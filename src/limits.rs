//! Every limit and default in pushlab, one commented line each (like xv6's `param.h`).
//!
//! The numbers come from `SPEC.md`; code elsewhere names these constants instead of
//! repeating the numbers, so this file is the one place to read or change them.

use std::time::Duration;

// ---- HTTP/1.1 (SPEC §8, chapter 01) ----
/// Longest request-target we accept; longer is `414 URI Too Long`.
pub const MAX_REQUEST_TARGET: usize = 8 * 1024;
/// Largest request head (request line + header fields + blank line); larger is `431`.
pub const MAX_HEAD: usize = 16 * 1024;
/// Most header fields in one request; more is `431` as well.
pub const MAX_HEADERS: usize = 100;
/// Body limit for handlers that do not set their own (the `01_http` echo demo).
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;
/// Default for `--head-timeout`: a request head must be complete this long after its first
/// byte, else `408` and close.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// Default for `--idle-timeout`: an idle keep-alive connection is closed silently after
/// this long.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

// ---- Connections and buffers (SPEC §1, §8, chapter 00) ----
/// Default for `--max-connections`; one more gets `503` and is closed.
pub const DEFAULT_MAX_CONNECTIONS: usize = 100_000;
/// Most event loops `--workers` may ask for (more loops than cores only adds switching).
pub const MAX_WORKERS: usize = 64;
/// Size of one read buffer; a connection holds one only while it has unparsed input.
pub const READ_BUFFER: usize = 64 * 1024;
/// Read buffers kept for reuse when connections go idle (the rest are freed).
pub const BUFFER_POOL: usize = 256;
/// Most unread input a plain HTTP connection buffers (a head plus the largest body a
/// handler accepts, with room for chunked-coding overhead); past it, reading pauses.
pub const MAX_INPUT: usize = MAX_HEAD + 2 * DEFAULT_MAX_BODY;
/// Queued output at which a connection stops parsing pipelined requests until it drains.
pub const OUTPUT_PAUSE: usize = 256 * 1024;
/// Read-and-process passes one connection gets per loop turn before others have theirs.
pub const READ_PASSES: usize = 16;
/// Readiness events fetched per `Poll::poll` call.
pub const EVENTS_PER_POLL: usize = 1024;
/// Output queued in the server (beyond what the kernel took) that makes a consumer "slow".
pub const SLOW_CONSUMER_BYTES: usize = 1024 * 1024;
/// A stream's replay is queued in batches of about this many bytes as its output drains.
pub const REPLAY_BATCH: usize = 256 * 1024;
/// permessage-deflate's compression level (zlib's scale, 0–9; 6 is zlib's default).
pub const DEFLATE_LEVEL: u8 = 6;
/// Spare inflate and deflate buffers each loop keeps for reuse (each up to 240 KiB).
pub const DEFLATE_POOL: usize = 8;
/// Replay batches one connection gets per loop turn: a reader fast enough to take a whole
/// replay at once still waits its turn, and its own input (a Close, a hang-up) is read
/// between turns.
pub const REPLAY_PASSES: usize = 1;
/// Most buffers handed to one `writev` call when flushing a connection.
pub const MAX_IOVECS: usize = 64;
/// The least room a read is given; below it the input buffer grows.
pub const MIN_READ: usize = 4096;
/// Most unread input a WebSocket connection buffers before its frames are processed.
pub const WS_READ_CAP: usize = 4 * READ_BUFFER;
/// How long a closing connection keeps reading (and dropping) what the client still sends.
pub const LINGER: Duration = Duration::from_secs(2);

// ---- Topics and messages (SPEC §2–3, chapters 02–03) ----
/// Longest topic name; a topic is 1..=64 of `[A-Za-z0-9._-]`.
pub const MAX_TOPIC_LEN: usize = 64;
/// Default for `--replay`: messages each topic keeps for replay.
pub const DEFAULT_REPLAY: usize = 1024;
/// Largest message body `POST /publish` accepts; larger is `413`.
pub const MAX_PUBLISH_BODY: usize = 64 * 1024;
/// Default `limit` of `/poll` and `/long-poll`.
pub const DEFAULT_POLL_LIMIT: u64 = 100;
/// `limit` is clamped to `1..=MAX_POLL_LIMIT`.
pub const MAX_POLL_LIMIT: u64 = 1000;
/// Default for `--long-poll-timeout`, in seconds.
pub const DEFAULT_LONG_POLL_TIMEOUT_S: u64 = 25;
/// Long-poll timeouts are clamped to `MIN..=MAX` seconds.
pub const MIN_LONG_POLL_TIMEOUT_S: u64 = 1;
/// See [`MIN_LONG_POLL_TIMEOUT_S`].
pub const MAX_LONG_POLL_TIMEOUT_S: u64 = 120;

// ---- Server-Sent Events and WebSocket (SPEC §6–7, chapters 04–05) ----
/// Default for `--heartbeat`, in seconds: SSE comments and WebSocket pings when idle.
pub const DEFAULT_HEARTBEAT_S: u64 = 15;
/// The reconnection delay an SSE stream announces first (`retry: 3000`).
pub const SSE_RETRY_MS: u64 = 3000;
/// Largest text message a `/ws` client may publish; larger is close `1009`.
pub const MAX_WS_CHAT_MESSAGE: usize = 64 * 1024;
/// Default for `--max-message`: largest message `/echo` accepts; larger is close `1009`.
pub const DEFAULT_MAX_ECHO_MESSAGE: usize = 16 * 1024 * 1024;
/// RFC 6455 §5.5: control frames carry at most 125 bytes of payload.
pub const MAX_CONTROL_PAYLOAD: usize = 125;
/// After sending a close frame, wait this long for the peer's before dropping the socket.
pub const WS_CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
/// A WebSocket peer silent (nothing received, pongs included) for this many heartbeats is
/// dropped (SPEC §7).
pub const WS_SILENT_BEATS: u32 = 2;
/// The payload of our heartbeat pings; a pong echoes it.
pub const WS_PING_PAYLOAD: &[u8] = b"pushlab";

// ---- Redis (SPEC §10, chapter 09) ----
/// The port of a `--redis` URL that names none (Redis's registered port).
pub const REDIS_DEFAULT_PORT: u16 = 6379;
/// Most unparsed reply bytes a Redis connection buffers; more is a protocol error (a history
/// of `MAX_POLL_LIMIT` messages of `MAX_PUBLISH_BODY` bytes fits with room to spare).
pub const REDIS_MAX_INPUT: usize = 128 * 1024 * 1024;
/// The first reconnection delay after Redis went away; each failure doubles it.
pub const REDIS_BACKOFF_MIN: Duration = Duration::from_millis(50);
/// The longest reconnection delay.
pub const REDIS_BACKOFF_MAX: Duration = Duration::from_secs(2);
