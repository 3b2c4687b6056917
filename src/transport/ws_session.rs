//! A WebSocket connection after the handshake, as the server drives it (SPEC §7, chapter
//! 05): the RFC 6455 protocol machine ([`super::websocket`]) plus what a push server adds —
//! the heartbeat, the close timeout, and for `/ws` the topic's replay and live pushes.
//!
//! *May I still send?* is answered in one place, [`WsSession::may_send`]: only while the
//! protocol is `Open`. Every push, every replay batch and every ping asks it, so after our
//! Close frame — sent because the peer closed, broke a rule, or sent what the application
//! refused — nothing else leaves (RFC 6455 §5.5.1: "after sending a Close frame, the
//! endpoint MUST NOT send any more data frames"), whatever was still to be replayed.
//!
//! ```text
//! input ──▶ on_input ──▶ protocol.receive ──▶ handler's Verdict (echo, publish, refuse)
//! EOF ────▶ on_eof ────▶ Drop (the peer vanished without a Close: free it now)
//! message ▶ push ──────▶ one shared text frame, if may_send and not yet sent
//! budget ─▶ replay ────▶ the next batch from the ring, if may_send
//! time ───▶ on_deadline ▶ ping, or Drop when silent too long or the close timed out
//! ```

use std::rc::Rc;
use std::time::{Duration, Instant};

use super::replay::Replay;
use super::websocket::{MessageHandler, WsProtocol, WsState};
use super::Next;
use crate::hub::{Encoding, Hub, Message};
use crate::limits::{WS_CLOSE_TIMEOUT, WS_PING_PAYLOAD, WS_SILENT_BEATS};
use crate::outq::OutQueue;
use crate::wire::deflate::{MAX_WINDOW_BITS, MIN_WINDOW_BITS};
use crate::wire::extensions::DeflateParams;
use crate::wire::ws::frame::{write_frame, OpCode};

use super::permessage::shared_frame;

/// A message as one unmasked text frame holding its JSON, shared by every `/ws` subscriber.
pub const TEXT_FRAME: Encoding = Encoding(2);
/// The same, compressed (RFC 7692) with a 32 KiB window and no context: shared by every
/// subscriber that negotiated permessage-deflate with `server_max_window_bits` 15.
pub const DEFLATE_FRAME: Encoding = Encoding(3);
/// The same with a 512-byte window, valid for any window a client asked for.
pub const DEFLATE_FRAME_SMALL: Encoding = Encoding(4);

/// What the connection is for.
#[derive(Debug)]
enum Role {
    /// `/echo`: messages go back; nothing is pushed.
    Echo,
    /// `/ws`: the topic's replay after the cursor, then every message published on it.
    Topic { topic: Rc<str>, replay: Replay },
}

#[derive(Debug)]
pub struct WsSession {
    protocol: WsProtocol,
    role: Role,
    /// When anything at all was last received (SPEC §7: "silent" means nothing received).
    heard_at: Instant,
    /// When we last sent a ping.
    pinged_at: Instant,
    /// Set once our Close is sent: give up waiting for the peer's at this time.
    close_deadline: Option<Instant>,
}

impl WsSession {
    /// `/echo`: messages of up to `max_message` bytes; compressed both ways when `deflate`
    /// was negotiated.
    pub fn echo(max_message: usize, deflate: Option<DeflateParams>, now: Instant) -> WsSession {
        WsSession::new(Role::Echo, max_message, deflate, now)
    }

    /// `/ws?topic=…`: replays the topic after `cursor`, then pushes it live.
    pub fn topic(
        topic: Rc<str>,
        cursor: u64,
        max_message: usize,
        deflate: Option<DeflateParams>,
        now: Instant,
    ) -> WsSession {
        WsSession::new(Role::Topic { topic, replay: Replay::after(cursor) }, max_message, deflate, now)
    }

    fn new(role: Role, max_message: usize, deflate: Option<DeflateParams>, now: Instant) -> WsSession {
        let protocol = match deflate {
            Some(params) => WsProtocol::with_deflate(max_message, params),
            None => WsProtocol::new(max_message),
        };
        WsSession { protocol, role, heard_at: now, pinged_at: now, close_deadline: None }
    }

    /// The topic pushed to this connection (`/ws`), if any.
    pub fn topic_name(&self) -> Option<&Rc<str>> {
        match &self.role {
            Role::Topic { topic, .. } => Some(topic),
            Role::Echo => None,
        }
    }

    /// Whether anything but the closing handshake may still be sent: only while the
    /// protocol is `Open` (RFC 6455 §5.5.1).
    pub fn may_send(&self) -> bool {
        self.protocol.state() == WsState::Open
    }

    /// Bytes from the peer. Complete messages go to `on_message`, whose verdict the protocol
    /// carries out at once; control frames are answered. Returns [`Next::Close`] once the
    /// closing handshake is complete or the connection failed.
    pub fn on_input(
        &mut self,
        input: &[u8],
        now: Instant,
        out: &mut OutQueue,
        on_message: &mut MessageHandler<'_>,
    ) -> Next {
        if input.is_empty() {
            return Next::Stay;
        }
        self.heard_at = now;
        let mut bytes = Vec::new();
        self.protocol.receive(input, &mut bytes, on_message);
        out.push_owned(bytes);
        if !self.may_send() {
            // Our Close is queued (or the peer's answered): nothing more will be pushed, and
            // the peer has `WS_CLOSE_TIMEOUT` to finish the handshake.
            if let Role::Topic { replay, .. } = &mut self.role {
                replay.stop();
            }
            self.close_deadline.get_or_insert(now + WS_CLOSE_TIMEOUT);
        }
        if self.protocol.is_done() {
            Next::Close
        } else {
            Next::Stay
        }
    }

    /// The peer closed TCP. With or without a Close frame before it, nobody is left to read
    /// what we would send: free the connection now (SPEC §8).
    pub fn on_eof(&mut self) -> Next {
        Next::Drop
    }

    /// A message published on the topic: one shared frame, unless the replay will send it,
    /// already did, or the connection is closing. Returns whether it was queued.
    pub fn push(&mut self, message: &Message, out: &mut OutQueue) -> bool {
        let may_send = self.may_send();
        let frame = self.frame_of();
        let Role::Topic { replay, .. } = &mut self.role else { return false };
        if !may_send || !replay.take_live(message.id) {
            return false;
        }
        out.push_shared(frame(message));
        true
    }

    /// `true` while retained messages are still to be queued.
    pub fn is_replaying(&self) -> bool {
        matches!(&self.role, Role::Topic { replay, .. } if replay.is_catching_up())
    }

    /// Queues the next batch of the replay until `out` holds `budget` bytes; returns how
    /// many messages it queued. Nothing once the connection is closing.
    pub fn replay(&mut self, hub: &Hub, out: &mut OutQueue, budget: usize) -> u64 {
        let may_send = self.may_send();
        let frame = self.frame_of();
        let Role::Topic { topic, replay } = &mut self.role else { return 0 };
        if !may_send {
            replay.stop();
            return 0;
        }
        replay.feed(hub, topic, out, budget, frame)
    }

    /// Whether pushes (not the peer's own echoes) fill this connection's output, so the
    /// slow-consumer rule applies (SPEC §8).
    pub fn is_pushed_to(&self) -> bool {
        matches!(self.role, Role::Topic { .. })
    }

    /// How this connection's pushes are framed: plain, or compressed with the window its
    /// client allows — each a frame shared with every subscriber that frames it alike.
    fn frame_of(&self) -> fn(&Message) -> Rc<[u8]> {
        match self.protocol.deflate() {
            None => text_frame,
            Some(p) if p.server_max_window_bits == MAX_WINDOW_BITS => deflate_frame,
            Some(_) => deflate_frame_small,
        }
    }

    /// The deadline came: drop a peer silent for `WS_SILENT_BEATS` heartbeats or one that
    /// never answered our Close; ping one silent for a heartbeat (SPEC §7).
    pub fn on_deadline(&mut self, now: Instant, heartbeat: Duration, out: &mut OutQueue) -> Next {
        if self.close_deadline.is_some_and(|d| d <= now) {
            log::debug!("websocket: no Close from the peer in time, closing");
            return Next::Drop;
        }
        let silent_for = now.saturating_duration_since(self.heard_at);
        if silent_for >= heartbeat * WS_SILENT_BEATS {
            log::debug!("websocket silent for {silent_for:?}, closing");
            return Next::Drop;
        }
        if self.may_send() && now >= self.ping_at(heartbeat) {
            let mut bytes = Vec::with_capacity(16);
            self.protocol.ping(WS_PING_PAYLOAD, &mut bytes);
            self.pinged_at = now;
            out.push_owned(bytes);
        }
        Next::Stay
    }

    /// The next moment [`WsSession::on_deadline`] has something to do.
    pub fn deadline(&self, heartbeat: Duration) -> Instant {
        let silent_at = self.heard_at + heartbeat * WS_SILENT_BEATS;
        let close_at = self.close_deadline.map_or(silent_at, |d| d.min(silent_at));
        if self.may_send() {
            self.ping_at(heartbeat).min(close_at)
        } else {
            close_at
        }
    }

    /// A heartbeat after the last ping or the last thing heard, whichever is later.
    fn ping_at(&self, heartbeat: Duration) -> Instant {
        self.pinged_at.max(self.heard_at) + heartbeat
    }
}

/// The shared text frame of a message.
fn text_frame(message: &Message) -> Rc<[u8]> {
    message.encoded(TEXT_FRAME, |m, out| write_frame(out, true, OpCode::Text, m.json()))
}

/// The shared compressed frame of a message, 15-bit window.
fn deflate_frame(message: &Message) -> Rc<[u8]> {
    message.encoded(DEFLATE_FRAME, |m, out| shared_frame(m.json(), MAX_WINDOW_BITS, out))
}

/// The shared compressed frame of a message, 9-bit window.
fn deflate_frame_small(message: &Message) -> Rc<[u8]> {
    message.encoded(DEFLATE_FRAME_SMALL, |m, out| shared_frame(m.json(), MIN_WINDOW_BITS, out))
}

#[cfg(test)]
#[path = "ws_session_tests.rs"]
mod tests;
