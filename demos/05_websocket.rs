//! Chapter 05 demo: a WebSocket echo and chat server in one small `Service`, on pushlab's
//! own event loop, HTTP layer and WebSocket machine.
//!
//! What this file writes is only the *decisions*: which request may upgrade, what the
//! upgraded connection is for, and what a received message means (`on_ws_message`: echo it,
//! or publish it on the chat topic). Everything after the `101` — framing, masking, UTF-8
//! checks, ping→pong, the closing handshake, heartbeats, replay and pushes — is
//! `pushlab::transport::ws_session` driven by the server loop, exactly as for the full server
//! (whose handshake, with its Origin policy and 426/405 answers, is `src/app/streams.rs`).
//!
//! ```text
//! cargo run --example 05_websocket               # then open http://127.0.0.1:8085/
//! cargo run --example 05_ws_client -- 127.0.0.1:8085 /chat   # a terminal chat client
//! ```

use pushlab::config::{Command, Config, USAGE};
use pushlab::http::reader::Request;
use pushlab::http::response::Response;
use pushlab::http::status;
use pushlab::server::Server;
use pushlab::service::{Ctx, Endpoint, Reply, Service};
use pushlab::transport::websocket::{MessageKind, Verdict};
use pushlab::wire::framing::has_token;
use pushlab::wire::ws::close::CloseCode;
use pushlab::wire::ws::handshake::{accept_key, key_is_valid};

/// A chat page: every line typed is sent as a text message; every frame received is shown.
const PAGE: &str = "<!doctype html><meta charset=utf-8><title>05_websocket chat</title>
<form id=f><input id=t autofocus placeholder='say something'></form><ol id=log></ol>
<script>const ws = new WebSocket('ws://' + location.host + '/chat');
ws.onmessage = (e) => { const m = JSON.parse(e.data), li = document.createElement('li');
  li.textContent = '#' + m.id + ' ' + m.data; log.append(li); };
ws.onclose = (e) => log.append('closed: ' + e.code);
f.onsubmit = (e) => { e.preventDefault(); ws.send(t.value); t.value = ''; };</script>";

struct Demo;

impl Service for Demo {
    fn call(&mut self, request: &Request<'_>, ctx: &mut Ctx<'_>) -> Reply {
        let head = &request.head;
        let endpoint = match head.path() {
            "/echo" => Endpoint::Echo,
            // Every chat client starts with everything the topic still retains (`since=0`).
            "/chat" => Endpoint::Topic { topic: "chat".into(), cursor: ctx.hub.cursor("chat", Some(0)) },
            _ => return Reply::Response(Response::ok("text/html; charset=utf-8", PAGE.into())),
        };
        // RFC 6455 §4.2.1, the short version: GET, Upgrade: websocket, version 13, a key.
        let key = head.header("Sec-WebSocket-Key").map(<[u8]>::trim_ascii).filter(|k| key_is_valid(k));
        let upgrade = head.method == "GET"
            && head.headers_named("Upgrade").any(|v| has_token(v, "websocket"))
            && head.header("Sec-WebSocket-Version").map(<[u8]>::trim_ascii) == Some(b"13");
        match key {
            Some(key) if upgrade => Reply::WebSocket {
                response: Response::switching_protocols()
                    .header("Upgrade", "websocket")
                    .header("Connection", "Upgrade")
                    // base64(SHA-1(key ++ "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")), §4.2.2.
                    .header("Sec-WebSocket-Accept", accept_key(key)),
                endpoint,
                max_message: 64 * 1024,
                // The demo speaks plain frames, as chapter 05 shows them (chapter 10 adds
                // permessage-deflate).
                deflate: None,
            },
            _ => Reply::Response(
                Response::error(status::BAD_REQUEST, "this is a WebSocket endpoint").closing(),
            ),
        }
    }

    fn on_ws_message(
        &mut self,
        topic: Option<&str>,
        kind: MessageKind,
        payload: &[u8],
        ctx: &mut Ctx<'_>,
    ) -> Verdict {
        match (topic, kind) {
            (None, _) => Verdict::Echo,
            (Some(topic), MessageKind::Text) => {
                // The protocol has checked the UTF-8 already.
                ctx.hub.publish(topic, std::str::from_utf8(payload).unwrap_or_default(), ctx.now_ms);
                Verdict::Accept
            }
            (Some(_), MessageKind::Binary) => Verdict::Close(CloseCode::Unsupported, "text only"),
        }
    }
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a.starts_with("--addr")) {
        args.extend(["--addr".to_string(), "127.0.0.1:8085".to_string()]);
    }
    let config = match Config::from_args(args, None) {
        Ok(Command::Serve(config)) => config,
        Ok(Command::Help) => return print!("{USAGE}"),
        Err(message) => {
            eprintln!("05_websocket: {message}");
            std::process::exit(2);
        }
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let server = Server::bind(config, || Demo).expect("cannot listen");
    let addr = server.local_addr().expect("bound address");
    println!("05_websocket listening on http://{addr}");
    println!("  chat page:   http://{addr}/   (open it in two tabs)");
    println!("  echo:        ws://{addr}/echo");
    println!("  terminal client:  cargo run --example 05_ws_client -- {addr} /chat");
    if let Err(e) = server.run() {
        eprintln!("05_websocket: {e}");
    }
}
