//! The book's pictures, taken from a running server, not by hand, so they can be taken again
//! whenever the pages change:
//!
//! ```text
//! cargo run --example screenshots --release          # writes docs/img/*.png
//! cargo run --example screenshots --release -- DIR   # writes them to DIR instead
//! ```
//!
//! (`--release`, so the delays in the pictures are the server's and not a debug build's.)
//!
//! It starts pushlab in this process on a free port, starts headless Chromium, and drives
//! the demo pages the way a reader would, through the same Chrome DevTools Protocol client as
//! `tests/browser.rs` (`tests/common/cdp.rs`, included below). Every page is laid out on a
//! 1280×800 screen in the light colour scheme:
//!
//! - `compare-burst.png`: the comparison page after a dozen paced messages and a burst of
//!   100 — short polling's batching, long polling's request per reply, the latency charts;
//! - `compare-cut.png`: the same page after Cut all — each column's recovery line;
//! - `websocket-chat.png`: the WebSocket chat after a short conversation between two tabs,
//!   from its topic bar to the end of its frame log (taller than the viewport).
//!
//! Needs Chromium (`$PUSHLAB_CHROMIUM`, or `chromium` on the usual paths).

use std::path::PathBuf;
use std::time::Duration;

use pushlab::config::Config;
use serde_json::json;

#[path = "../tests/common/cdp.rs"]
mod cdp;
use cdp::{Browser, Page};

const WIDTH: u32 = 1280;
const HEIGHT: u32 = 800;

fn main() {
    let out = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/img"));
    std::fs::create_dir_all(&out).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    let chromium = cdp::find_chromium().expect("no Chromium found: install chromium or set PUSHLAB_CHROMIUM");
    let browser = Browser::launch(&chromium).unwrap_or_else(|e| panic!("{e}"));
    let addr = pushlab::spawn(Config { addr: "127.0.0.1:0".parse().unwrap(), ..Config::default() })
        .expect("pushlab starts");
    println!("pushlab on http://{addr}, Chromium {}", chromium.display());

    // The comparison page: ordinary traffic first, so the charts have something before the burst.
    let mut page = tab(&browser);
    page.navigate(&format!("http://{addr}/demos/compare.html?topic=demo"));
    page.wait_for("window.__pushlab && window.__pushlab.state().ready", "all four columns connected");
    for i in 1..=12 {
        page.eval(&format!("PL.publish('demo', 'tick {i}').then(() => true)"));
        std::thread::sleep(Duration::from_millis(180));
    }
    page.eval("document.querySelector('#burst').click(); true");
    page.wait_for(
        "Object.values(window.__pushlab.state().lanes).every((l) => l.burst && l.burst.doneAt !== null)",
        "every column received the burst",
    );
    settle(&mut page);
    save(&mut page, &out, "compare-burst.png");

    page.eval("document.querySelector('#cut-all').click(); true");
    page.wait_for(
        "Object.values(window.__pushlab.state().lanes).every((l) => l.recovery && l.recovery.publishedArrived)",
        "every column recovered from the cut",
    );
    settle(&mut page);
    save(&mut page, &out, "compare-cut.png");
    page.assert_no_errors("compare.html");

    // The WebSocket chat: two tabs on one topic, this one in the picture.
    let mut other = tab(&browser);
    other.navigate(&format!("http://{addr}/demos/websocket.html?topic=lobby"));
    let mut chat = tab(&browser);
    chat.navigate(&format!("http://{addr}/demos/websocket.html?topic=lobby"));
    for p in [&mut other, &mut chat] {
        p.wait_for("document.querySelector('#status').dataset.state === 'open'", "the chat connected");
    }
    for (from_other, text) in [
        (false, "hello — is anyone on lobby?"),
        (true, "here, from another tab: your frame came back through the hub"),
        (false, "one frame up, 6 bytes of header; one frame down to each of us, 2 bytes"),
    ] {
        send(if from_other { &mut other } else { &mut chat }, text);
        chat.wait_for(
            &format!(
                "[...document.querySelectorAll('#messages .msg')].some((e) => e.textContent === {})",
                json!(text)
            ),
            "the message in the chat",
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    settle(&mut chat);
    // From the topic bar to the end of the frame log: the chat, its costs and its frames.
    let png = chat.screenshot_between_png("#topic-form", "main > section.card:last-of-type", 16);
    write(&out, "websocket-chat.png", &png);
    chat.assert_no_errors("websocket.html");
    other.assert_no_errors("websocket.html, the other tab");
}

/// Types `text` into the page's send box and sends it, as a reader pressing Enter would.
fn send(page: &mut Page, text: &str) {
    page.eval(&format!(
        "document.querySelector('#text').value = {}; document.querySelector('#send-form').requestSubmit(); true",
        json!(text)
    ));
}

/// A tab laid out as a 1280×800 screen, in the light colour scheme.
fn tab(browser: &Browser) -> Page {
    let mut page = browser.new_page();
    page.set_viewport(WIDTH, HEIGHT);
    page.call(
        "Emulation.setEmulatedMedia",
        json!({ "features": [{ "name": "prefers-color-scheme", "value": "light" }] }),
    );
    page
}

/// Lets timers and redraws catch up (the page redraws its columns every 250 ms) and puts
/// the page back at its top.
fn settle(page: &mut Page) {
    page.eval("window.scrollTo(0, 0); document.activeElement && document.activeElement.blur(); true");
    std::thread::sleep(Duration::from_millis(600));
}

fn save(page: &mut Page, dir: &std::path::Path, name: &str) {
    write(dir, name, &page.screenshot_png());
}

fn write(dir: &std::path::Path, name: &str, png: &[u8]) {
    let path = dir.join(name);
    std::fs::write(&path, png).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    println!("wrote {} ({} bytes)", path.display(), png.len());
}
