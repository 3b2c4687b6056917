//! A real browser against pushlab: every demo page of SPEC §9 in headless Chromium — short
//! polling, long polling, Server-Sent Events, the WebSocket chat and the page that runs all
//! four side by side — with the browser's own `fetch`, `EventSource` and `WebSocket`; and
//! CORS as a browser enforces it (SPEC §7).
//!
//! The browser is driven over the Chrome DevTools Protocol by `tests/common/cdp.rs` (shared
//! with `demos/screenshots.rs`, which takes the book's pictures the same way). A test opens a
//! page, does what a reader would (types and sends a message, presses Burst or Cut), and
//! reads what the page shows: `#messages .msg` on the single-transport pages, and on the
//! comparison page `window.__pushlab.state()`, the page's own numbers as JSON. Any exception
//! or console error on a demo page fails its test ([`Page::assert_no_errors`]).
//!
//! Without Chromium each test prints `SKIPPED: chromium not found` and passes — unless
//! `PUSHLAB_REQUIRE_BROWSER=1` (CI sets it), which makes it fail. The browser is killed when
//! a test ends, also when it fails.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pushlab::config::Config;
use serde_json::{json, Value};

#[path = "common/cdp.rs"]
mod cdp;
mod common;
use cdp::{Browser, Page, PATIENCE};
use common::{config, fetch, get, poll_until, request, show, start_with};

/// Chromium, or `None` after saying loudly that the test is skipped.
fn browser() -> Option<Browser> {
    let Some(path) = cdp::find_chromium() else {
        assert!(
            std::env::var("PUSHLAB_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "PUSHLAB_REQUIRE_BROWSER=1 but no chromium was found (set PUSHLAB_CHROMIUM or install chromium)"
        );
        // Straight to the process's stderr: the test harness captures `eprintln!`.
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED: chromium not found — browser tests did not run ***\n"
        );
        return None;
    };
    Some(Browser::launch(&path).unwrap_or_else(|e| panic!("{e}")))
}

// ---------------------------------------------------------------------------------------
// Servers: pushlab in-process, and a second origin serving one page.
// ---------------------------------------------------------------------------------------

fn pushlab(allow_origins: Vec<String>) -> SocketAddr {
    start_with(Config { allow_origins, ..config() })
}

/// Publishes `text` to `topic` and returns its id.
fn publish(addr: SocketAddr, topic: &str, text: &str) -> u64 {
    let reply = fetch(addr, &request("POST", &format!("/publish?topic={topic}"), "", text.as_bytes()));
    assert_eq!(reply.status, 200, "publish: {}", show(&reply.body));
    reply.json()["id"].as_u64().expect("publish answers its id")
}

fn sse_connections(addr: SocketAddr) -> u64 {
    get(addr, "/stats").json()["connections"]["sse"].as_u64().expect("connections.sse")
}

/// Waits until pushlab has `n` open SSE streams: the page's EventSource has connected, so a
/// message published now is a live push, not history.
fn wait_for_streams(addr: SocketAddr, n: u64, page: &mut Page) {
    if poll_until(PATIENCE, || sse_connections(addr) == n).is_err() {
        page.fail(&format!("{n} SSE stream(s) open at pushlab (have {})", sse_connections(addr)));
    }
}

/// A page on another origin whose script opens an `EventSource` to pushlab and lists what
/// arrives as `#messages .msg`, and the connection state in `#state`.
fn second_origin(pushlab: SocketAddr, listener: TcpListener) {
    let page = format!(
        r#"<!doctype html><meta charset="utf-8"><title>another origin</title><link rel="icon" href="data:,">
<p id="state">connecting</p><ol id="messages"></ol>
<script>
  const topic = new URLSearchParams(location.search).get('topic');
  const es = new EventSource('http://{pushlab}/sse?topic=' + topic);
  const state = document.getElementById('state');
  es.onopen = () => {{ state.textContent = 'open'; }};
  es.onerror = () => {{ state.textContent = es.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting'; }};
  es.onmessage = (e) => {{
    const li = document.createElement('li');
    li.className = 'msg';
    li.textContent = e.data;
    document.getElementById('messages').append(li);
  }};
</script>"#
    );
    let page = std::sync::Arc::new(page);
    std::thread::spawn(move || {
        // A thread per connection: a browser also opens sockets it sends nothing on (preconnects).
        for mut stream in listener.incoming().flatten() {
            let page = page.clone();
            std::thread::spawn(move || {
                // Read the request head, answer with the page whatever the path, close.
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                while !head.ends_with(b"\r\n\r\n") && matches!(stream.read(&mut byte), Ok(1)) {
                    head.push(byte[0]);
                }
                let (status, body) = if head.starts_with(b"GET /favicon") {
                    ("404 Not Found", "")
                } else {
                    ("200 OK", page.as_str())
                };
                let reply = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(reply.as_bytes());
            });
        }
    });
}

// ---------------------------------------------------------------------------------------
// What the tests ask of a page.
// ---------------------------------------------------------------------------------------

fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("{prefix} {nanos}")
}

/// JavaScript: true when some `#messages .msg` element's text is exactly `text`.
fn shows_message(text: &str) -> String {
    format!("[...document.querySelectorAll('#messages .msg')].some((e) => e.textContent === {})", json!(text))
}

/// Types `text` into the page's send box and submits it, as a reader pressing Enter would.
fn send_from_page(page: &mut Page, text: &str) {
    page.eval(&format!(
        "document.querySelector('#text').value = {}; document.querySelector('#send-form').requestSubmit(); true",
        json!(text)
    ));
}

/// The URLs of every request the page has made so far (from `Network.requestWillBeSent`).
fn requested_urls(page: &mut Page) -> Vec<String> {
    page.drain();
    page.network
        .iter()
        .filter(|e| e["method"] == "Network.requestWillBeSent")
        .filter_map(|e| e["params"]["request"]["url"].as_str().map(String::from))
        .collect()
}

/// A single-transport demo page at `/demos/{name}.html`: it connects; a message typed on
/// the page comes back through the hub; a message published by someone else arrives; and
/// nothing on the page threw or logged an error.
fn single_page(name: &str, extra_query: &str) -> Option<(Browser, SocketAddr, Page)> {
    let browser = browser()?;
    let addr = pushlab(Vec::new());
    let mut page = browser.new_page();
    let topic = format!("browser-{name}");
    page.navigate(&format!("http://{addr}/demos/{name}.html?topic={topic}{extra_query}"));
    page.wait_for(
        "document.querySelector('#status').dataset.state === 'open'",
        &format!("{name}.html connected (#status open)"),
    );
    let typed = unique(&format!("typed on {name}.html"));
    send_from_page(&mut page, &typed);
    page.wait_for(&shows_message(&typed), &format!("{typed:?}, sent from the page, listed in #messages"));
    let pushed = unique("published by someone else");
    publish(addr, &topic, &pushed);
    page.wait_for(&shows_message(&pushed), &format!("{pushed:?} listed in #messages"));
    page.assert_no_errors(&format!("{name}.html"));
    Some((browser, addr, page))
}

// ---------------------------------------------------------------------------------------
// The single-transport pages.
// ---------------------------------------------------------------------------------------

/// SPEC §4, §9: the short-poll page sends with `POST /publish` and sees both messages at
/// its next polls (every 200 ms here).
#[test]
fn short_poll_page_sends_and_receives() {
    let Some((_browser, _addr, mut page)) = single_page("short-poll", "&interval=200") else { return };
    let polls = requested_urls(&mut page).iter().filter(|u| u.contains("/poll?")).count();
    assert!(polls >= 2, "the page polled only {polls} times");
}

/// SPEC §5, §9: the long-poll page's held request is answered by both messages.
#[test]
fn long_poll_page_sends_and_receives() {
    let Some((_browser, _addr, mut page)) = single_page("long-poll", "") else { return };
    let held = requested_urls(&mut page).iter().filter(|u| u.contains("/long-poll?")).count();
    assert!(held >= 2, "the page asked /long-poll only {held} times");
}

/// SPEC §9 and §6: the SSE demo page, served by pushlab, shows a message published after its
/// `EventSource` connected, and one sent from its own send box.
#[test]
fn sse_page_shows_published_messages() {
    let Some((browser, addr, mut page)) = single_page("sse", "") else { return };
    wait_for_streams(addr, 1, &mut page);
    // A second message, multi-line: the browser's own parser rejoins data lines with LF.
    let lines = unique("line one\r\nline two");
    publish(addr, "browser-sse", &lines);
    page.wait_for(&shows_message(&lines.replace("\r\n", "\n")), "a two-line message, joined with LF");
    page.assert_no_errors("sse.html");
    drop(browser);
}

/// SPEC §7, §9: the WebSocket chat sends a message as a text frame on its socket — no HTTP
/// request — and the hub sends it back on the same socket as message JSON.
#[test]
fn websocket_chat_sends_through_the_hub() {
    let Some((browser, _addr, mut page)) = single_page("websocket", "") else { return };
    let urls = requested_urls(&mut page);
    assert!(!urls.iter().any(|u| u.contains("/publish")), "the chat page published over HTTP: {urls:?}");
    let sockets: Vec<&Value> =
        page.network.iter().filter(|e| e["method"] == "Network.webSocketCreated").collect();
    assert!(
        sockets.len() == 1 && sockets[0]["params"]["url"].as_str().is_some_and(|u| u.contains("/ws?topic=")),
        "the page's WebSockets: {sockets:?}"
    );
    // Chromium offers permessage-deflate on every WebSocket, and pushlab accepts it (RFC
    // 7692): what the page sends and receives below went compressed both ways.
    let handshakes: Vec<&Value> =
        page.network.iter().filter(|e| e["method"] == "Network.webSocketHandshakeResponseReceived").collect();
    let extensions = handshakes.first().and_then(|e| {
        let headers = e["params"]["response"]["headers"].as_object()?;
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("sec-websocket-extensions"))
            .map(|(_, v)| v.clone())
    });
    assert!(
        extensions.as_ref().and_then(Value::as_str).is_some_and(|v| v.starts_with("permessage-deflate")),
        "the handshake's Sec-WebSocket-Extensions: {extensions:?} ({handshakes:?})"
    );
    // The frame log shows the typed message going up (↑, masked) and coming back (↓, as JSON).
    let frames = page.eval(
        "[...document.querySelectorAll('#frames tr')].map((tr) => tr.className + ' ' + \
         tr.querySelector('td.content').textContent)",
    );
    let frames: Vec<&str> = frames.as_array().expect("rows").iter().filter_map(Value::as_str).collect();
    assert!(
        frames.iter().any(|f| f.starts_with("out ") && f.contains("typed on websocket.html")),
        "{frames:?}"
    );
    assert!(
        frames.iter().any(|f| f.starts_with("in ") && f.contains("typed on websocket.html")),
        "{frames:?}"
    );
    assert_eq!(page.eval("document.querySelector('[data-stat=sent]').textContent"), json!("1"));
    drop(browser);
}

// ---------------------------------------------------------------------------------------
// The comparison page.
// ---------------------------------------------------------------------------------------

const LANES: [&str; 4] = ["poll", "long-poll", "sse", "ws"];

/// The comparison page's own numbers (`window.__pushlab.state()`).
fn compare_state(page: &mut Page) -> Value {
    page.eval("window.__pushlab.state()")
}

/// JavaScript: true when every lane satisfies `condition` (an expression of `l`, the lane).
fn every_lane(condition: &str) -> String {
    format!("Object.values(window.__pushlab.state().lanes).every((l) => {condition})")
}

/// Every column got exactly the ids `expected`, in order, with none missed or duplicated,
/// and none of them is shown in red.
fn assert_same_ids(page: &mut Page, expected: &[u64], when: &str) {
    let state = compare_state(page);
    for lane in LANES {
        let l = &state["lanes"][lane];
        let ids: Vec<u64> = l["ids"].as_array().expect("ids").iter().filter_map(Value::as_u64).collect();
        assert_eq!(ids, expected, "{when}: the ids {lane} delivered");
        assert_eq!(
            (&l["missed"], &l["duplicates"]),
            (&json!(0), &json!(0)),
            "{when}: {lane} missed/duplicates"
        );
    }
    let red = page.eval("document.querySelectorAll('dl.key dd.bad').length");
    assert_eq!(red, json!(0), "{when}: counters shown in red");
}

/// Opens the comparison page on `topic` and waits until all four columns are connected.
fn open_compare(browser: &Browser, addr: SocketAddr, topic: &str, extra_query: &str) -> Page {
    let mut page = browser.new_page();
    page.navigate(&format!("http://{addr}/demos/compare.html?topic={topic}{extra_query}"));
    page.wait_for("window.__pushlab && window.__pushlab.state().ready", "all four columns connected");
    page
}

/// SPEC §2, §9: the four columns deliver the same ids, a burst of 100 included, with none
/// missed; a cut of each transport, then a cut of all four, recovers from the cursor with
/// none missed, the message published while they were down included.
#[test]
fn compare_page_delivers_the_same_ids_and_recovers_from_cuts() {
    let Some(browser) = browser() else { return };
    let addr = pushlab(Vec::new());
    let topic = "browser-compare";
    let first = publish(addr, topic, "before the page opened") + 1;
    // A 250 ms short-poll interval keeps the test short; the page's default is 1 s.
    let mut page = open_compare(&browser, addr, topic, "&interval=250");
    assert_eq!(compare_state(&mut page)["since"], json!(first - 1), "all four start at the latest id");

    for i in 0..3 {
        publish(addr, topic, &format!("one of three, #{i}"));
    }
    page.eval("document.querySelector('#burst').click(); true");
    page.wait_for(&every_lane("l.burst && l.burst.doneAt !== null"), "every column received the burst's 100");
    let mut expected: Vec<u64> = (first..first + 103).collect();
    page.wait_for(&every_lane("l.ids.length === 103"), "103 messages in every column");
    assert_same_ids(&mut page, &expected, "after the burst");
    let state = compare_state(&mut page);
    for lane in LANES {
        let l = &state["lanes"][lane];
        assert!(
            l["samples"].as_u64().unwrap() > 0 && l["median"].is_number(),
            "{lane} has no latency chart: {l}"
        );
    }
    // Short polling batched the burst (a request per 250 ms, however many messages came in
    // it); SSE and WebSocket paid no request for it.
    let requests = |lane: &str| state["lanes"][lane]["burst"]["requests"].as_u64().expect("burst.requests");
    assert_eq!((requests("sse"), requests("ws")), (0, 0), "requests the streams made for the burst");
    assert!(requests("poll") < 50, "short polling took {} requests for 100 messages", requests("poll"));

    // One Cut button per column, pressed together: each column is down when the page
    // publishes, and each resumes from its own cursor.
    for (round, press) in [
        ("each Cut", "document.querySelectorAll('button[data-cut]').forEach((b) => b.click()); true"),
        ("Cut all", "document.querySelector('#cut-all').click(); true"),
    ] {
        let before = compare_state(&mut page);
        page.eval(press);
        page.wait_for(
            &every_lane("l.recovery && l.recovery.nextId !== null && l.recovery.publishedArrived"),
            &format!("after {round}: every column got the message published while it was down"),
        );
        let state = compare_state(&mut page);
        let published =
            LANES.iter().filter_map(|l| state["lanes"][l]["recovery"]["publishedId"].as_u64()).max();
        let published = published.expect("the page published while the columns were down");
        let cuts = if round == "each Cut" { 4 } else { 1 };
        expected.extend(published + 1 - cuts..=published);
        page.wait_for(
            &every_lane(&format!("l.ids.length === {}", expected.len())),
            "every published id arrived",
        );
        assert_same_ids(&mut page, &expected, &format!("after {round}"));
        // The held long-poll, the stream and the socket were really dropped, and came back.
        let state = compare_state(&mut page);
        for lane in ["long-poll", "sse", "ws"] {
            let (was, l) = (&before["lanes"][lane], &state["lanes"][lane]);
            assert_eq!(l["recovery"]["dropped"], json!(true), "{round}: {lane} had nothing to cut: {l}");
            assert!(
                l["reconnects"].as_u64() > was["reconnects"].as_u64(),
                "{round}: {lane} did not reconnect"
            );
        }
        let text = page.eval("document.querySelector('[data-recovery=sse]').textContent");
        assert!(
            text.as_str().is_some_and(|t| t.contains("0 missed, thanks to since=")),
            "SSE's recovery line: {text}"
        );
    }
    page.assert_no_errors("compare.html");
}

/// The idle minute (2 s here) publishes nothing and counts what each column still pays:
/// short polling a request per interval, SSE and WebSocket none.
#[test]
fn compare_page_idle_minute_counts_what_idling_costs() {
    let Some(browser) = browser() else { return };
    let addr = pushlab(Vec::new());
    let mut page = open_compare(&browser, addr, "browser-idle", "&idle=2&interval=400");
    page.eval("document.querySelector('#idle').click(); true");
    // Everything that publishes is off meanwhile: Send, Burst, and the Cut buttons (a cut publishes).
    let off = page.eval(
        "['#send', '#burst', '#cut-all', '[data-cut=ws]'].map((s) => document.querySelector(s).disabled)",
    );
    assert_eq!(off, json!([true, true, true, true]), "Send, Burst, Cut all, Cut while idling");
    page.wait_for("window.__pushlab.state().idleRunning === false", "the idle window ended");
    let state = compare_state(&mut page);
    let idle = |lane: &str, what: &str| state["lanes"][lane]["idle"][what].as_u64().expect("idle figures");
    assert!(
        idle("poll", "requests") >= 3,
        "short polling at 400 ms made {} requests in 2 s",
        idle("poll", "requests")
    );
    assert!(idle("poll", "bytes") > 0);
    for lane in ["long-poll", "sse", "ws"] {
        assert_eq!(idle(lane, "requests"), 0, "{lane} made requests while idle");
    }
    page.wait_for(
        "document.querySelector('[data-episode=poll]').textContent.startsWith('Idle 0:02, done: ')",
        "the short-poll column's idle line says what it paid",
    );
    assert_eq!(page.eval("document.querySelector('#send').disabled"), json!(false), "Send after idling");
    page.assert_no_errors("compare.html, idle");
}

/// The zero above means something: with a replay ring of 4, a WebSocket cut while 8
/// messages are published comes back to a jump in ids, and its column counts the loss in red.
#[test]
fn compare_page_counts_messages_the_ring_no_longer_holds() {
    let Some(browser) = browser() else { return };
    let addr = start_with(Config { replay: 4, ..config() });
    let topic = "browser-ring";
    let mut page = open_compare(&browser, addr, topic, "");
    let last = compare_state(&mut page)["since"].as_u64().unwrap();
    page.eval("document.querySelector('button[data-cut=ws]').click(); true");
    // The page publishes last+1 as it cuts; these are last+2 ..= last+8. The ring keeps 4.
    page.wait_for("window.__pushlab.state().lanes.ws.recovery.publishedId !== null", "the page published");
    for i in 0..7 {
        publish(addr, topic, &format!("while the socket is down, #{i}"));
    }
    page.wait_for("window.__pushlab.state().lanes.ws.recovery.nextId !== null", "the socket came back");
    let ws = &compare_state(&mut page)["lanes"]["ws"];
    assert_eq!(ws["ids"], json!((last + 5..=last + 8).collect::<Vec<_>>()), "what the ring still held: {ws}");
    assert_eq!(ws["missed"], json!(4), "ids last+1 ..= last+4 were gone: {ws}");
    page.wait_for(
        "document.querySelector('[data-transport=ws] [data-key=missed]').classList.contains('bad') && \
         document.querySelector('[data-recovery=ws]').dataset.state === 'bad'",
        "the WebSocket column's missed count and recovery line in red",
    );
    page.assert_no_errors("compare.html, ring");
}

// ---------------------------------------------------------------------------------------
// CORS, as the browser enforces it.
// ---------------------------------------------------------------------------------------

/// What the browser saw of one request: see [`network_outcome`].
#[derive(Debug)]
struct NetworkOutcome {
    status: u64,
    headers: serde_json::Map<String, Value>,
    /// `corsErrorStatus.corsError` of `Network.loadingFailed` (`MissingAllowOriginHeader`, …).
    cors_error: Option<String>,
}

/// What became of the page's request for `url`, once it has failed or finished: the
/// response as it came off the wire (`Network.responseReceivedExtraInfo` reports it even
/// when CORS then hides it from the page) and the CORS error, if that is why it failed.
fn network_outcome(page: &mut Page, url: &str) -> NetworkOutcome {
    let found = poll_until(PATIENCE, || {
        page.drain();
        outcome_so_far(page, url)
    });
    found.unwrap_or_else(|_| page.fail(&format!("the request for {url} to fail or finish")))
}

fn outcome_so_far(page: &Page, url: &str) -> Option<NetworkOutcome> {
    let of = |method: &'static str| {
        page.network.iter().filter(move |e| e["method"] == method).map(|e| &e["params"])
    };
    let id = of("Network.requestWillBeSent").find(|p| p["request"]["url"] == url)?["requestId"].clone();
    let response = of("Network.responseReceivedExtraInfo").find(|p| p["requestId"] == id)?;
    let failed = of("Network.loadingFailed").find(|p| p["requestId"] == id);
    if failed.is_none() && !of("Network.loadingFinished").any(|p| p["requestId"] == id) {
        return None;
    }
    Some(NetworkOutcome {
        status: response["statusCode"].as_u64().unwrap_or(0),
        headers: response["headers"].as_object().cloned().unwrap_or_default(),
        cors_error: failed.and_then(|p| p["corsErrorStatus"]["corsError"].as_str()).map(String::from),
    })
}

/// SPEC §7: a page on another origin listed by `--allow-origin` receives events through its
/// `EventSource`; the same page on an unlisted origin is refused by the browser itself.
#[test]
fn cross_origin_eventsource_works_for_a_listed_origin_only() {
    let Some(browser) = browser() else { return };
    let listener = TcpListener::bind("127.0.0.1:0").expect("second origin");
    let port = listener.local_addr().unwrap().port();
    // `127.0.0.1:PORT` and `localhost:PORT` are the same server but two origins.
    let listed = format!("http://127.0.0.1:{port}");
    let addr = pushlab(vec![listed.clone()]);
    second_origin(addr, listener);
    let mut page = browser.new_page();

    page.navigate(&format!("{listed}/?topic=cors-listed"));
    page.wait_for(
        "document.getElementById('state').textContent === 'open'",
        "EventSource open from a listed origin",
    );
    let text = unique("across origins");
    publish(addr, "cors-listed", &text);
    page.wait_for(&shows_message(&text), &format!("{text:?} to arrive on {listed}"));
    page.assert_no_errors("the listed origin's page");

    // Unlisted: pushlab streams (it does not know better), but without
    // Access-Control-Allow-Origin the browser fails the connection for good (CLOSED).
    page.navigate(&format!("http://localhost:{port}/?topic=cors-unlisted"));
    page.wait_for(
        "document.getElementById('state').textContent === 'closed'",
        "EventSource refused (CLOSED)",
    );
    // It was the browser that refused, on pushlab's own answer: a `200` stream without
    // Access-Control-Allow-Origin (SPEC §7: an unlisted origin gets no CORS headers), failed by
    // the CORS check — not a refusal by the server, nor a connection that never got through.
    let url = format!("http://{addr}/sse?topic=cors-unlisted");
    let seen = network_outcome(&mut page, &url);
    assert_eq!(seen.status, 200, "pushlab's answer to the unlisted origin: {seen:?}");
    assert!(
        !seen.headers.keys().any(|name| name.eq_ignore_ascii_case("access-control-allow-origin")),
        "an unlisted origin got Access-Control-Allow-Origin: {seen:?}"
    );
    assert_eq!(
        seen.cors_error.as_deref(),
        Some("MissingAllowOriginHeader"),
        "the browser's reason for failing the EventSource: {seen:?}"
    );
    // And the page was told so, as an error on its console.
    assert!(page.errors.iter().any(|e| e.contains("CORS")), "no CORS error reported: {:?}", page.errors);
    drop(browser);
}
