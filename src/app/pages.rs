//! `GET /`, `GET /demos/…`, `GET /stats` (SPEC §9): pages compiled into the binary, so the
//! server runs from any directory.

use crate::http::response::Response;
use crate::http::status;
use crate::service::Ctx;

/// The index: every chapter, its demo client and the comparison page.
pub fn index() -> Response {
    Response::static_page("text/html; charset=utf-8", include_bytes!("index.html"))
}

/// The demo clients under `demos/web/`, by file name.
const DEMOS: &[(&str, &str, &[u8])] = &[
    ("common.js", "text/javascript; charset=utf-8", include_bytes!("../../demos/web/common.js")),
    ("compare.html", "text/html; charset=utf-8", include_bytes!("../../demos/web/compare.html")),
    ("compare.js", "text/javascript; charset=utf-8", include_bytes!("../../demos/web/compare.js")),
    ("long-poll.html", "text/html; charset=utf-8", include_bytes!("../../demos/web/long-poll.html")),
    ("long-poll.js", "text/javascript; charset=utf-8", include_bytes!("../../demos/web/long-poll.js")),
    ("short-poll.html", "text/html; charset=utf-8", include_bytes!("../../demos/web/short-poll.html")),
    ("short-poll.js", "text/javascript; charset=utf-8", include_bytes!("../../demos/web/short-poll.js")),
    ("sse.html", "text/html; charset=utf-8", include_bytes!("../../demos/web/sse.html")),
    ("sse.js", "text/javascript; charset=utf-8", include_bytes!("../../demos/web/sse.js")),
    ("style.css", "text/css; charset=utf-8", include_bytes!("../../demos/web/style.css")),
    ("transports.js", "text/javascript; charset=utf-8", include_bytes!("../../demos/web/transports.js")),
    ("websocket.html", "text/html; charset=utf-8", include_bytes!("../../demos/web/websocket.html")),
    ("websocket.js", "text/javascript; charset=utf-8", include_bytes!("../../demos/web/websocket.js")),
];

/// `GET /demos/<file>`.
pub fn demo(path: &str) -> Response {
    let name = path.trim_start_matches("/demos/");
    match DEMOS.iter().find(|(file, _, _)| *file == name) {
        Some((_, content_type, body)) => Response::static_page(content_type, body),
        None => Response::error(status::NOT_FOUND, "no such demo file"),
    }
}

/// `GET /stats`: the counters of SPEC §9.
pub fn stats(ctx: &Ctx<'_>) -> Response {
    Response::ok("application/json", ctx.stats.to_json(ctx.hub, ctx.now)).header("Cache-Control", "no-store")
}

#[cfg(test)]
mod tests {
    use super::DEMOS;

    /// The table is written by hand; this keeps it in step with `demos/web/`.
    #[test]
    fn every_demo_file_is_compiled_in() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/demos/web");
        let mut missing = Vec::new();
        for entry in std::fs::read_dir(dir).expect("demos/web exists") {
            let name = entry.expect("readable entry").file_name().to_string_lossy().into_owned();
            if !DEMOS.iter().any(|(file, _, _)| *file == name) {
                missing.push(name);
            }
        }
        assert!(missing.is_empty(), "add these to DEMOS in src/app/pages.rs: {missing:?}");
    }
}
