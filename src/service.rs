//! The seam between the server and the application: what a service is asked, and what it may
//! answer (chapter 00 shows the loop that calls it, chapters 02–05 the answers).
//!
//! The server owns sockets and time; a [`Service`] owns decisions. The server reads a request
//! and hands it to [`Service::call`]; the [`Reply`] says whether to answer it, hold it, or
//! turn the connection into a stream. Nothing here names `mio`.

use std::rc::Rc;
use std::time::Instant;

use crate::config::Config;
use crate::http::reader::Request;
use crate::http::response::Response;
use crate::hub::Hub;
use crate::limits::DEFAULT_MAX_BODY;
use crate::stats::Stats;
use crate::transport::long_poll::HeldPoll;
use crate::transport::websocket::{MessageKind, Verdict};
use crate::wire::extensions::DeflateParams;
use crate::wire::request::RequestHead;
use crate::wire::ws::close::CloseCode;

/// What the application does with requests. pushlab's routes implement it
/// ([`crate::app::Pushlab`]); so does the `01_http` echo demo.
pub trait Service {
    /// The largest body `head` may carry (a larger `Content-Length` is `413` before any of
    /// the body is read).
    fn body_limit(&self, _head: &RequestHead<'_, '_>) -> usize {
        DEFAULT_MAX_BODY
    }

    /// Answers one complete request.
    fn call(&mut self, request: &Request<'_>, ctx: &mut Ctx<'_>) -> Reply;

    /// The answer of a held long-poll ([`Reply::LongPoll`]), asked when news arrives after
    /// its cursor or its deadline passes. Only services that hold requests need it.
    fn answer(&mut self, _held: &HeldPoll, _ctx: &mut Ctx<'_>) -> Response {
        Response::new(204)
    }

    /// A complete message received on a WebSocket this service upgraded ([`Reply::WebSocket`]):
    /// `topic` is the [`Endpoint::Topic`]'s, `None` for [`Endpoint::Echo`]. The [`Verdict`]
    /// takes effect before the next frame is read. By default nothing is accepted.
    fn on_ws_message(
        &mut self,
        _topic: Option<&str>,
        _kind: MessageKind,
        _payload: &[u8],
        _ctx: &mut Ctx<'_>,
    ) -> Verdict {
        Verdict::Close(CloseCode::Unsupported, "this endpoint accepts no messages")
    }
}

/// What a handler may use besides the request.
pub struct Ctx<'a> {
    pub hub: &'a mut Hub,
    pub config: &'a Config,
    pub stats: &'a mut Stats,
    pub now: Instant,
    /// Unix time in milliseconds.
    pub now_ms: u64,
}

/// A handler's answer: a response, or a change of what the connection is for.
pub enum Reply {
    Response(Response),
    /// Hold the request until news or a deadline (`/long-poll`).
    LongPoll(HeldPoll),
    /// Send the head of a never-ending response, then events (`/sse`).
    Sse {
        response: Response,
        topic: Rc<str>,
        cursor: u64,
    },
    /// Send `101 Switching Protocols` and speak WebSocket from the next byte on; messages
    /// over `max_message` bytes close the connection with 1009.
    WebSocket {
        response: Response,
        endpoint: Endpoint,
        max_message: usize,
        /// permessage-deflate's parameters, when it was negotiated (RFC 7692).
        deflate: Option<DeflateParams>,
    },
}

/// What a WebSocket connection is for (SPEC §7).
#[derive(Clone, Debug)]
pub enum Endpoint {
    /// Nothing is pushed; what the peer sends goes to [`Service::on_ws_message`] (`/echo`).
    Echo,
    /// Replay after `cursor`, then every message of the topic (`/ws`).
    Topic { topic: Rc<str>, cursor: u64 },
}
