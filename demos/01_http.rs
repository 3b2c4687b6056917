//! Chapter 01 demo: a minimal HTTP/1.1 server on pushlab's own HTTP layer.
//!
//! It answers any method on any path by echoing the request body — the test subject the
//! public h1spec checks expect — so every framing rule (Content-Length, chunked bodies,
//! pipelining, `Expect: 100-continue`, the error statuses of SPEC §8) can be poked at with
//! curl or raw bytes:
//!
//! ```text
//! cargo run --example 01_http -- --addr 127.0.0.1:8081
//! curl -sv --data-binary 'hello' http://127.0.0.1:8081/anything
//! printf 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n' | nc 127.0.0.1 8081
//! ```

use pushlab::config::{Command, Config, USAGE};
use pushlab::http::reader::Request;
use pushlab::http::response::Response;
use pushlab::server::Server;
use pushlab::service::{Ctx, Reply, Service};

/// Echoes every request body back with `200 OK`.
struct Echo;

impl Service for Echo {
    fn call(&mut self, request: &Request<'_>, _ctx: &mut Ctx<'_>) -> Reply {
        Reply::Response(Response::ok("application/octet-stream", request.body.to_vec()))
    }
}

fn main() {
    let config = match Config::from_args(std::env::args().skip(1), None) {
        Ok(Command::Serve(config)) => config,
        Ok(Command::Help) => return print!("{USAGE}"),
        Err(message) => {
            eprintln!("01_http: {message}");
            std::process::exit(2);
        }
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let addr = config.addr;
    let result = Server::bind(config, || Echo).and_then(|server| {
        println!("01_http listening on http://{}", server.local_addr()?);
        server.run()
    });
    if let Err(e) = result {
        eprintln!("01_http: {addr}: {e}");
        std::process::exit(1);
    }
}
