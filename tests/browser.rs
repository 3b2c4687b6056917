//! A real browser against pushlab: headless Chromium's own `EventSource` (SPEC §6), CORS as a
//! browser enforces it (SPEC §7) and the SSE demo page (SPEC §9).
//!
//! The browser is driven over the Chrome DevTools Protocol: Chromium starts with
//! `--remote-debugging-port=0`, prints `DevTools listening on ws://…` on stderr, and the test
//! speaks CDP's JSON messages over that WebSocket with `tungstenite` (a dev-dependency):
//! `Target.createTarget` + `Target.attachToTarget` (a page session), `Page.navigate`, then
//! `Runtime.evaluate` polled until the page shows what was published; the `Network` domain's
//! events say what the browser itself received from pushlab, also when CORS hid it from the
//! page.
//!
//! Chromium is found at `$PUSHLAB_CHROMIUM` (empty: none) or as `chromium` /
//! `chromium-browser` / `google-chrome` on the usual paths. Without one, each test prints `SKIPPED: chromium not
//! found` and passes — unless `PUSHLAB_REQUIRE_BROWSER=1` (CI sets it), which makes it fail.
//! The browser is killed when a test ends, also when it fails ([`Browser`]'s `Drop`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pushlab::config::Config;
use serde_json::{json, Value};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

mod common;
use common::{config, fetch, get, poll_until, request, show, start_with};

/// How long the page may take to show a published message.
const PATIENCE: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------------
// Chromium and the DevTools protocol.
// ---------------------------------------------------------------------------------------

fn find_chromium() -> Option<PathBuf> {
    // An explicit path wins; an empty one means "no browser here" (to try the skip path).
    if let Some(path) = std::env::var_os("PUSHLAB_CHROMIUM") {
        return (!path.is_empty()).then(|| PathBuf::from(path));
    }
    let names = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];
    let dirs = ["/usr/bin", "/usr/local/bin", "/snap/bin"];
    dirs.iter().flat_map(|d| names.iter().map(move |n| PathBuf::from(d).join(n))).find(|p| p.is_file())
}

/// A running headless Chromium, killed (with its helper processes) when dropped.
struct Browser {
    child: Child,
    profile: PathBuf,
    /// `ws://127.0.0.1:PORT/devtools/browser/UUID`.
    devtools: String,
    /// Chromium's stderr lines, for failure messages.
    log: Arc<Mutex<Vec<String>>>,
}

impl Browser {
    /// Starts Chromium, or returns `None` after saying why the test is skipped.
    fn start() -> Option<Browser> {
        let Some(path) = find_chromium() else {
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
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
        let profile = std::env::temp_dir().join(format!("pushlab-chromium-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&profile).expect("profile directory");
        let mut child = Command::new(&path)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--no-default-browser-check",
                "--mute-audio",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            // Its own process group, so the renderers and helpers can be killed with it.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", path.display()));
        let stderr = child.stderr.take().expect("piped stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let lines = log.clone();
        std::thread::spawn(move || {
            // Keep draining stderr for the browser's whole life, or it would block on a full pipe.
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    let _ = tx.send(url.trim().to_string());
                }
                lines.lock().unwrap().push(line);
            }
        });
        let mut browser = Browser { child, profile, devtools: String::new(), log };
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(url) => browser.devtools = url,
            Err(_) => {
                panic!("{} printed no DevTools URL in 30 s; stderr:\n{}", path.display(), browser.stderr())
            }
        }
        Some(browser)
    }

    fn stderr(&self) -> String {
        let lines = self.log.lock().unwrap();
        lines.iter().filter(|l| !l.contains("dbus")).cloned().collect::<Vec<_>>().join("\n")
    }

    /// A new tab, attached as a CDP session.
    fn new_page(&self) -> Page {
        let (ws, _) = tungstenite::connect(self.devtools.as_str()).expect("DevTools WebSocket");
        if let MaybeTlsStream::Plain(s) = ws.get_ref() {
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        }
        let mut page = Page { ws, next_id: 0, session: None, notes: Vec::new(), network: Vec::new() };
        let target = page.call("Target.createTarget", json!({ "url": "about:blank" }));
        let target_id = target["targetId"].as_str().expect("targetId").to_string();
        let attached = page.call("Target.attachToTarget", json!({ "targetId": target_id, "flatten": true }));
        page.session = Some(attached["sessionId"].as_str().expect("sessionId").to_string());
        // Console messages, exceptions and network errors (CORS refusals among them), for
        // failure messages; and the network events, for what the browser got from pushlab.
        page.call("Runtime.enable", json!({}));
        page.call("Log.enable", json!({}));
        page.call("Network.enable", json!({}));
        page
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The whole process group first (renderers, zygote), then the browser itself.
        let group = format!("kill -KILL -- -{} 2>/dev/null", self.child.id());
        let _ = Command::new("sh").args(["-c", &group]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// One tab, spoken to over CDP.
struct Page {
    ws: WebSocket<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    session: Option<String>,
    /// What the page said on its console, threw, or logged (network errors).
    notes: Vec<String>,
    /// The page's `Network.*` events, as they came (see [`Page::network_outcome`]).
    network: Vec<Value>,
}

impl Page {
    /// Sends a CDP command and returns its `result`; events that arrive meanwhile are noted.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut command = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = &self.session {
            command["sessionId"] = json!(session);
        }
        self.ws.send(Message::text(command.to_string())).expect("CDP send");
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            assert!(Instant::now() < deadline, "CDP {method}: no answer in 15 s");
            let text = match self.ws.read() {
                Ok(Message::Text(text)) => text,
                Ok(_) => continue,
                Err(e) => panic!("CDP {method}: {e}"),
            };
            let message: Value = serde_json::from_str(&text).expect("CDP sends JSON");
            if message["id"].as_u64() == Some(id) {
                if let Some(error) = message.get("error") {
                    panic!("CDP {method}: {error}");
                }
                return message["result"].clone();
            }
            self.note(&message);
        }
    }

    fn note(&mut self, event: &Value) {
        if event["method"].as_str().is_some_and(|m| m.starts_with("Network.")) {
            self.network.push(event.clone());
            return;
        }
        let p = &event["params"];
        let note = match event["method"].as_str() {
            Some("Runtime.consoleAPICalled") => {
                let args: Vec<String> =
                    p["args"].as_array().into_iter().flatten().map(|a| a["value"].to_string()).collect();
                format!("console.{}: {}", p["type"].as_str().unwrap_or("?"), args.join(" "))
            }
            Some("Runtime.exceptionThrown") => format!("exception: {}", p["exceptionDetails"]),
            Some("Log.entryAdded") => format!("log {}: {}", p["entry"]["level"], p["entry"]["text"]),
            _ => return,
        };
        self.notes.push(note);
    }

    fn navigate(&mut self, url: &str) {
        let result = self.call("Page.navigate", json!({ "url": url }));
        assert!(result.get("errorText").is_none(), "navigating to {url}: {result}");
    }

    /// Evaluates `expression` in the page and returns its value.
    fn eval(&mut self, expression: &str) -> Value {
        let result =
            self.call("Runtime.evaluate", json!({ "expression": expression, "returnByValue": true }));
        result["result"]["value"].clone()
    }

    /// Polls `expression` until it is `true`; on timeout, fails with what the page shows.
    fn wait_for(&mut self, expression: &str, what: &str) {
        if poll_until(PATIENCE, || self.eval(expression) == json!(true)).is_err() {
            self.fail(what);
        }
    }

    /// Fails the test: `what` never happened, and this is what the page shows.
    fn fail(&mut self, what: &str) -> ! {
        let url = self.eval("location.href");
        let text = self.eval("document.body ? document.body.innerText.slice(0, 1500) : '(no body)'");
        panic!(
            "never happened within {PATIENCE:?}: {what}\n  page: {url}\n  text: {text}\n  notes:\n    {}",
            self.notes.join("\n    ")
        );
    }

    /// What became of the page's request for `url`, once it has failed or finished: the
    /// response as it came off the wire (`Network.responseReceivedExtraInfo` reports it even
    /// when CORS then hides it from the page) and the CORS error, if that is why it failed.
    fn network_outcome(&mut self, url: &str) -> NetworkOutcome {
        let found = poll_until(PATIENCE, || {
            self.eval("0"); // CDP events arrive between replies: ask something, collect them
            self.outcome_so_far(url)
        });
        found.unwrap_or_else(|_| self.fail(&format!("the request for {url} to fail or finish")))
    }

    fn outcome_so_far(&self, url: &str) -> Option<NetworkOutcome> {
        let of = |method: &'static str| {
            self.network.iter().filter(move |e| e["method"] == method).map(|e| &e["params"])
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
}

/// What the browser saw of one request: see [`Page::network_outcome`].
#[derive(Debug)]
struct NetworkOutcome {
    status: u64,
    headers: serde_json::Map<String, Value>,
    /// `corsErrorStatus.corsError` of `Network.loadingFailed` (`MissingAllowOriginHeader`, …).
    cors_error: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Servers: pushlab in-process, and a second origin serving one page.
// ---------------------------------------------------------------------------------------

fn pushlab(allow_origins: Vec<String>) -> SocketAddr {
    start_with(Config { allow_origins, ..config() })
}

fn publish(addr: SocketAddr, topic: &str, text: &str) {
    let reply = fetch(addr, &request("POST", &format!("/publish?topic={topic}"), "", text.as_bytes()));
    assert_eq!(reply.status, 200, "publish: {}", show(&reply.body));
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
        r#"<!doctype html><meta charset="utf-8"><title>another origin</title>
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
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            // Read the request head, answer with the page whatever the path, close.
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            while !head.ends_with(b"\r\n\r\n") && matches!(stream.read(&mut byte), Ok(1)) {
                head.push(byte[0]);
            }
            let (status, body) =
                if head.starts_with(b"GET /favicon") { ("404 Not Found", "") } else { ("200 OK", &*page) };
            let reply = format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(reply.as_bytes());
        }
    });
}

fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("{prefix} {nanos}")
}

/// JavaScript: true when some `#messages .msg` element's text is exactly `text`.
fn shows_message(text: &str) -> String {
    format!("[...document.querySelectorAll('#messages .msg')].some((e) => e.textContent === {})", json!(text))
}

// ---------------------------------------------------------------------------------------
// The tests.
// ---------------------------------------------------------------------------------------

/// SPEC §9 and §6: the SSE demo page, served by pushlab, shows a message published after its
/// `EventSource` connected.
#[test]
fn demo_page_eventsource_shows_a_published_message() {
    let Some(browser) = Browser::start() else { return };
    let addr = pushlab(Vec::new());
    let mut page = browser.new_page();
    let topic = "browser-demo";
    page.navigate(&format!("http://{addr}/demos/sse.html?topic={topic}"));
    wait_for_streams(addr, 1, &mut page);
    let text = unique("hello from the browser test");
    publish(addr, topic, &text);
    page.wait_for(&shows_message(&text), &format!("the demo page to list {text:?} in #messages .msg"));
    // A second message, multi-line: the browser's own parser rejoins data lines with LF.
    let lines = unique("line one\r\nline two");
    publish(addr, topic, &lines);
    page.wait_for(&shows_message(&lines.replace("\r\n", "\n")), "a two-line message, joined with LF");
    drop(browser);
}

/// SPEC §7: a page on another origin listed by `--allow-origin` receives events through its
/// `EventSource`; the same page on an unlisted origin is refused by the browser itself.
#[test]
fn cross_origin_eventsource_works_for_a_listed_origin_only() {
    let Some(browser) = Browser::start() else { return };
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
    let seen = page.network_outcome(&url);
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
    drop(browser);
}
