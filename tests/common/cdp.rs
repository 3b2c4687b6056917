//! A small Chrome DevTools Protocol client: headless Chromium, one tab at a time, over CDP's
//! JSON messages on a WebSocket. Shared by `tests/browser.rs` (every demo page in a real
//! browser) and `demos/screenshots.rs` (the book's pictures), each of which includes it with
//! `#[path = "…/tests/common/cdp.rs"] mod cdp;`. It is not part of `tests/common/mod.rs`, so
//! the other test files do not compile it.
//!
//! How it works: Chromium starts with `--remote-debugging-port=0` and prints
//! `DevTools listening on ws://…` on stderr; [`Browser::launch`] reads that line and
//! [`Browser::new_page`] connects to it with `tungstenite` (a dev-dependency), opens a tab
//! (`Target.createTarget`) and attaches to it as a flat session (`Target.attachToTarget`).
//! From then on a [`Page`] sends commands (`Page.navigate`, `Runtime.evaluate`,
//! `Page.captureScreenshot`, …) and reads replies; the events that arrive in between are kept:
//! console messages, exceptions and log entries in [`Page::notes`] (the errors among them also
//! in [`Page::errors`]), and the `Network.*` events in [`Page::network`].
//!
//! Chromium is found at `$PUSHLAB_CHROMIUM` (empty: none) or as `chromium` /
//! `chromium-browser` / `google-chrome` on the usual paths ([`find_chromium`]). The browser
//! and its helper processes are killed when the [`Browser`] is dropped, also on a panic.
// Each includer uses part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::{json, Value};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// How long [`Page::wait_for`] waits by default for the page to show what it should.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// How long one CDP command may take to be answered.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(15);

/// `$PUSHLAB_CHROMIUM` when set (`None` when set but empty, to try the no-browser path), else
/// the first Chromium or Chrome binary on the usual paths.
pub fn find_chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PUSHLAB_CHROMIUM") {
        return (!path.is_empty()).then(|| PathBuf::from(path));
    }
    let names = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];
    let dirs = ["/usr/bin", "/usr/local/bin", "/snap/bin"];
    dirs.iter().flat_map(|d| names.iter().map(move |n| PathBuf::from(d).join(n))).find(|p| p.is_file())
}

/// A running headless Chromium, killed (with its helper processes) when dropped.
pub struct Browser {
    child: Child,
    profile: PathBuf,
    /// `ws://127.0.0.1:PORT/devtools/browser/UUID`.
    devtools: String,
    /// Chromium's stderr lines, for failure messages.
    log: Arc<Mutex<Vec<String>>>,
}

impl Browser {
    /// Starts the Chromium at `path` headless, with a fresh profile, and waits for its
    /// DevTools URL.
    pub fn launch(path: &Path) -> Result<Browser, String> {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
        let profile = std::env::temp_dir().join(format!("pushlab-chromium-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&profile).map_err(|e| format!("profile directory: {e}"))?;
        let mut child = Command::new(path)
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
                "--hide-scrollbars",
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
            .map_err(|e| format!("cannot start {}: {e}", path.display()))?;
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
                return Err(format!(
                    "{} printed no DevTools URL in 30 s; stderr:\n{}",
                    path.display(),
                    browser.stderr()
                ))
            }
        }
        Ok(browser)
    }

    /// What Chromium printed on stderr, minus the D-Bus noise of a machine without a session.
    pub fn stderr(&self) -> String {
        let lines = self.log.lock().unwrap();
        lines.iter().filter(|l| !l.contains("dbus")).cloned().collect::<Vec<_>>().join("\n")
    }

    /// A new tab, attached as a CDP session, with the `Runtime`, `Log` and `Network` domains on.
    pub fn new_page(&self) -> Page {
        let (ws, _) = tungstenite::connect(self.devtools.as_str()).expect("DevTools WebSocket");
        if let MaybeTlsStream::Plain(s) = ws.get_ref() {
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        }
        let mut page = Page {
            ws,
            next_id: 0,
            session: None,
            notes: Vec::new(),
            errors: Vec::new(),
            network: Vec::new(),
        };
        let target = page.call("Target.createTarget", json!({ "url": "about:blank" }));
        let target_id = target["targetId"].as_str().expect("targetId").to_string();
        let attached = page.call("Target.attachToTarget", json!({ "targetId": target_id, "flatten": true }));
        page.session = Some(attached["sessionId"].as_str().expect("sessionId").to_string());
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
pub struct Page {
    ws: WebSocket<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    session: Option<String>,
    /// Everything the page said on its console, threw, or logged, in order.
    pub notes: Vec<String>,
    /// The errors among [`Page::notes`]: exceptions (`Runtime.exceptionThrown`),
    /// `console.error` and `console.assert`, and log entries of level `error` (a failed
    /// load, a refused WebSocket, a CORS refusal).
    pub errors: Vec<String>,
    /// The page's `Network.*` events, as they came.
    pub network: Vec<Value>,
}

impl Page {
    /// Sends a CDP command and returns its `result`; events that arrive meanwhile are kept.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut command = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = &self.session {
            command["sessionId"] = json!(session);
        }
        self.ws.send(Message::text(command.to_string())).expect("CDP send");
        let deadline = Instant::now() + COMMAND_TIMEOUT;
        loop {
            assert!(Instant::now() < deadline, "CDP {method}: no answer in {COMMAND_TIMEOUT:?}");
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
        let (note, error) = match event["method"].as_str() {
            Some("Runtime.consoleAPICalled") => {
                let args: Vec<String> =
                    p["args"].as_array().into_iter().flatten().map(|a| a["value"].to_string()).collect();
                let kind = p["type"].as_str().unwrap_or("?");
                (format!("console.{kind}: {}", args.join(" ")), kind == "error" || kind == "assert")
            }
            Some("Runtime.exceptionThrown") => {
                let d = &p["exceptionDetails"];
                let what = d["exception"]["description"].as_str().or(d["text"].as_str()).unwrap_or("?");
                (format!("exception at {}:{}: {what}", d["url"], d["lineNumber"]), true)
            }
            Some("Log.entryAdded") => {
                let e = &p["entry"];
                let (level, text) = (e["level"].as_str().unwrap_or("?"), e["text"].as_str().unwrap_or("?"));
                (format!("log {level}: {text} ({})", e["url"].as_str().unwrap_or("")), level == "error")
            }
            _ => return,
        };
        if error {
            self.errors.push(note.clone());
        }
        self.notes.push(note);
    }

    /// Navigates the tab to `url` (the page then loads on its own; wait for what it shows).
    pub fn navigate(&mut self, url: &str) {
        let result = self.call("Page.navigate", json!({ "url": url }));
        assert!(result.get("errorText").is_none(), "navigating to {url}: {result}");
    }

    /// Evaluates `expression` in the page and returns its value (awaited, if a promise);
    /// an expression that throws fails the caller, with the page's message.
    pub fn eval(&mut self, expression: &str) -> Value {
        self.try_eval(expression).unwrap_or_else(|e| panic!("evaluating {expression:?} threw: {e}"))
    }

    /// [`Page::eval`], with what the expression threw as the error.
    pub fn try_eval(&mut self, expression: &str) -> Result<Value, String> {
        let result = self.call(
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }),
        );
        match result.get("exceptionDetails") {
            Some(e) => {
                Err(e["exception"]["description"].as_str().or(e["text"].as_str()).unwrap_or("?").to_string())
            }
            None => Ok(result["result"]["value"].clone()),
        }
    }

    /// Polls `expression` until it is `true`, or fails with what the page shows. While the
    /// page is still loading the expression may throw (no such element yet): that counts as
    /// "not yet", and the last such error is reported if it never comes true.
    pub fn wait_for(&mut self, expression: &str, what: &str) {
        self.wait_for_within(PATIENCE, expression, what);
    }

    /// [`Page::wait_for`] with its own patience.
    pub fn wait_for_within(&mut self, patience: Duration, expression: &str, what: &str) {
        let deadline = Instant::now() + patience;
        loop {
            let outcome = self.try_eval(expression);
            if outcome == Ok(json!(true)) {
                return;
            }
            if Instant::now() >= deadline {
                let last = match outcome {
                    Ok(v) => format!("it was {v}"),
                    Err(e) => format!("it threw {e}"),
                };
                self.fail(&format!("within {patience:?}: {what} ({expression}: {last})"));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Fails: `what` never happened, and this is what the page shows and said.
    pub fn fail(&mut self, what: &str) -> ! {
        let url = self.eval("location.href");
        let text = self.eval("document.body ? document.body.innerText.slice(0, 1500) : '(no body)'");
        panic!(
            "never happened {what}\n  page: {url}\n  text: {text}\n  notes:\n    {}",
            self.notes.join("\n    ")
        );
    }

    /// Collects the events sent so far (they arrive between replies: ask something).
    pub fn drain(&mut self) {
        self.eval("0");
    }

    /// Fails when the page has thrown or logged an error so far (see [`Page::errors`]).
    pub fn assert_no_errors(&mut self, context: &str) {
        self.drain();
        assert!(
            self.errors.is_empty(),
            "{context}: the page reported errors:\n    {}\n  all notes:\n    {}",
            self.errors.join("\n    "),
            self.notes.join("\n    ")
        );
    }

    /// Lays the page out as on a screen of `width` × `height` CSS pixels.
    pub fn set_viewport(&mut self, width: u32, height: u32) {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": false }),
        );
    }

    /// A PNG of what the viewport shows now.
    pub fn screenshot_png(&mut self) -> Vec<u8> {
        self.screenshot(json!({ "format": "png" }))
    }

    /// A PNG of the page's full width from `margin` CSS pixels above the element `from` to
    /// `margin` below the element `to` (CSS selectors), scrolled into view or not.
    pub fn screenshot_between_png(&mut self, from: &str, to: &str, margin: u32) -> Vec<u8> {
        let area = self.eval(&format!(
            "(() => {{ const a = document.querySelector({}).getBoundingClientRect(); \
             const b = document.querySelector({}).getBoundingClientRect(); \
             return [a.top + scrollY - {margin}, b.bottom - a.top + 2 * {margin}, \
             document.documentElement.clientWidth]; }})()",
            json!(from),
            json!(to)
        ));
        let [y, height, width] = [0, 1, 2].map(|i| area[i].as_f64().expect("a number").max(0.0).round());
        self.screenshot(json!({
            "format": "png",
            "captureBeyondViewport": true,
            "clip": { "x": 0, "y": y, "width": width, "height": height, "scale": 1 },
        }))
    }

    fn screenshot(&mut self, params: Value) -> Vec<u8> {
        let shot = self.call("Page.captureScreenshot", params);
        let data = shot["data"].as_str().expect("captureScreenshot returns data");
        base64::engine::general_purpose::STANDARD.decode(data).expect("the screenshot is base64")
    }
}
