//! Chapter 06's cost figures: read from `docs/data/costs.txt`, written out as the chapter's
//! two Markdown tables and as the chart `docs/img/costs.svg`. One source, three outputs, so
//! the chart changes when the numbers do.
//!
//! `demos/chart.rs` writes the outputs; `tests/book_figures.rs` checks that the committed
//! ones are what this module makes of the data file. Both include it with
//! `#[path = "…/demos/common/figures.rs"] mod figures;`. No dependencies: the data format is
//! a few lines of `TABLE | TRANSPORT | key = value | …`, and the SVG is written as text.
// Each includer uses part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The data file, the chapter and the chart, relative to the repository's root.
pub const DATA: &str = "docs/data/costs.txt";
pub const CHAPTER: &str = "docs/06-choosing.md";
pub const SVG: &str = "docs/img/costs.svg";

/// One row of "Requests and bytes per message".
#[derive(Debug)]
pub struct PerMessage {
    pub transport: String,
    pub label: String,
    /// As the table shows it: `2.15`, `1.00`, `0`.
    pub requests: String,
    pub requests_note: Option<String>,
    pub to_client: u64,
    pub to_client_note: Option<String>,
    pub from_client: u64,
}

/// One row of "What an idle client costs", per client per minute.
#[derive(Debug)]
pub struct Idle {
    pub transport: String,
    pub label: String,
    pub requests: String,
    pub received: u64,
    pub sent: u64,
    /// The table's "bytes on the wire" cell, with `{received}`, `{sent}`, `{total}` and
    /// `{per-request}` to fill in.
    pub bytes: String,
    pub source: String,
}

#[derive(Debug)]
pub struct Costs {
    pub per_message: Vec<PerMessage>,
    pub idle: Vec<Idle>,
}

/// Parses the data file; an error names the line.
pub fn parse(text: &str) -> Result<Costs, String> {
    let mut costs = Costs { per_message: Vec::new(), idle: Vec::new() };
    for (n, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut cells = line.split('|').map(str::trim);
        let (table, transport) = (cells.next().unwrap_or(""), cells.next().unwrap_or("").to_string());
        let mut f = Fields { line: n, map: BTreeMap::new() };
        for cell in cells {
            let (key, value) =
                cell.split_once('=').ok_or_else(|| f.fail(format!("{cell:?} is not key = value")))?;
            f.map.insert(key.trim(), value.trim().to_string());
        }
        match table {
            "per-message" => costs.per_message.push(PerMessage {
                label: f.text("label")?,
                requests: f.decimal("requests")?,
                requests_note: f.map.remove("requests-note"),
                to_client: f.count("to-client")?,
                to_client_note: f.map.remove("to-client-note"),
                from_client: f.count("from-client")?,
                transport,
            }),
            "idle" => costs.idle.push(Idle {
                label: f.text("label")?,
                requests: f.decimal("requests")?,
                received: f.count("received")?,
                sent: f.count("sent")?,
                bytes: f.text("bytes")?,
                source: f.text("source")?,
                transport,
            }),
            other => return Err(f.fail(format!("unknown table {other:?}"))),
        }
        if let Some(key) = f.map.keys().next() {
            return Err(f.fail(format!("unknown key {key:?}")));
        }
    }
    if costs.per_message.is_empty() || costs.idle.is_empty() {
        return Err(format!("{DATA}: both tables need rows"));
    }
    Ok(costs)
}

/// The `key = value` cells of one line, taken out one by one.
struct Fields<'a> {
    line: usize,
    map: BTreeMap<&'a str, String>,
}

impl Fields<'_> {
    fn fail(&self, what: String) -> String {
        format!("{DATA}:{}: {what}", self.line)
    }

    fn text(&mut self, key: &str) -> Result<String, String> {
        self.map.remove(key).ok_or_else(|| self.fail(format!("no {key}")))
    }

    /// A whole number of bytes.
    fn count(&mut self, key: &str) -> Result<u64, String> {
        let value = self.text(key)?;
        value.parse().map_err(|_| self.fail(format!("{key} = {value:?} is not a whole number")))
    }

    /// A decimal number, kept as written (`1.00` stays `1.00`).
    fn decimal(&mut self, key: &str) -> Result<String, String> {
        let value = self.text(key)?;
        match value.parse::<f64>() {
            Ok(x) if x.is_finite() && x >= 0.0 => Ok(value),
            _ => Err(self.fail(format!("{key} = {value:?} is not a number"))),
        }
    }
}

fn ratio(value: &str) -> f64 {
    value.parse().unwrap_or(0.0)
}

/// `11460` → `11 460`, as the book writes numbers.
pub fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

impl Idle {
    fn total(&self) -> u64 {
        self.received + self.sent
    }

    /// The "bytes on the wire" cell, its placeholders filled in.
    pub fn bytes_cell(&self) -> String {
        let per_request = match ratio(&self.requests) {
            r if r > 0.0 => group((self.total() as f64 / r).round() as u64),
            _ => "–".into(),
        };
        self.bytes
            .replace("{received}", &group(self.received))
            .replace("{sent}", &group(self.sent))
            .replace("{total}", &group(self.total()))
            .replace("{per-request}", &per_request)
    }
}

/// The Markdown of "Requests and bytes per message".
pub fn per_message_table(costs: &Costs) -> String {
    let mut out =
        String::from("| | requests | bytes to the client | bytes from the client |\n|---|---|---|---|\n");
    for r in &costs.per_message {
        let requests = match &r.requests_note {
            Some(note) => format!("{} ({note})", r.requests),
            None => r.requests.clone(),
        };
        let to = match &r.to_client_note {
            Some(note) => format!("{}: {note}", group(r.to_client)),
            None => group(r.to_client),
        };
        let _ = writeln!(out, "| {} | {requests} | {to} | {} |", r.label, group(r.from_client));
    }
    out
}

/// The Markdown of "What an idle client costs".
pub fn idle_table(costs: &Costs) -> String {
    let mut out = String::from("| transport | requests | bytes on the wire | source |\n|---|---|---|---|\n");
    for r in &costs.idle {
        let _ = writeln!(out, "| {} | {} | {} | {} |", r.label, r.requests, r.bytes_cell(), r.source);
    }
    out
}

/// The markers around a generated table in the chapter: `<!-- costs:NAME … -->` on a line of
/// its own before it, `<!-- /costs:NAME -->` after it.
fn markers(name: &str) -> (String, String) {
    (format!("<!-- costs:{name}"), format!("<!-- /costs:{name} -->"))
}

/// `chapter` with the text between each pair of markers replaced by its table (a blank line,
/// the table, a blank line). Fails when a marker is missing.
pub fn with_tables(chapter: &str, costs: &Costs) -> Result<String, String> {
    let mut out = chapter.to_string();
    for (name, table) in [("per-message", per_message_table(costs)), ("idle", idle_table(costs))] {
        let (open, close) = markers(name);
        let start = out.find(&open).ok_or_else(|| format!("{CHAPTER}: no {open} … --> line"))?;
        let body =
            start + out[start..].find('\n').ok_or_else(|| format!("{CHAPTER}: {open} ends the file"))? + 1;
        let end =
            body + out[body..].find(&close).ok_or_else(|| format!("{CHAPTER}: no {close} after {open}"))?;
        out.replace_range(body..end, &format!("\n{table}\n"));
    }
    Ok(out)
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// "2.15 requests", "1.00 request", "no request".
fn requests_label(requests: &str) -> String {
    match ratio(requests) {
        0.0 => "no request".into(),
        r if r <= 1.0 => format!("{requests} request"),
        _ => format!("{requests} requests"),
    }
}

// The chart's geometry and colours (those of the demo pages, `demos/web/style.css`).
const WIDTH: f64 = 760.0;
const LABELS: f64 = 138.0; // the transports' names, left of the bars
const VALUES: f64 = 178.0; // room right of the longest bar for its value
const ROW: f64 = 30.0;
const BAR: f64 = 18.0;
const FG: &str = "#1c2230";
const MUTED: &str = "#5d6778";
const TO_CLIENT: &str = "#3461c8";
const FROM_CLIENT: &str = "#a9bdea";
const FONT: &str = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif";

/// One panel: a title, then a row per transport with a stacked bar (to the client, from the
/// client) scaled to the panel's largest total, and its value. Returns the height used.
fn panel(out: &mut String, top: f64, title: &str, note: &str, rows: &[(&str, u64, u64, String)]) -> f64 {
    let _ = writeln!(
        out,
        r#"  <text x="24" y="{:.1}" font-size="15" font-weight="700" fill="{FG}">{}</text>"#,
        top + 16.0,
        esc(title)
    );
    let _ = writeln!(
        out,
        r#"  <text x="24" y="{:.1}" font-size="12" fill="{MUTED}">{}</text>"#,
        top + 34.0,
        esc(note)
    );
    let first = top + 48.0;
    let max = rows.iter().map(|(_, to, from, _)| to + from).max().unwrap_or(1).max(1) as f64;
    let span = WIDTH - LABELS - VALUES - 24.0;
    for (i, (name, to, from, value)) in rows.iter().enumerate() {
        let y = first + i as f64 * ROW;
        let w_to = *to as f64 / max * span;
        let w_from = *from as f64 / max * span;
        let _ = writeln!(
            out,
            r#"  <text x="{:.1}" y="{:.1}" font-size="13" text-anchor="end" fill="{FG}">{}</text>"#,
            LABELS - 10.0,
            y + BAR / 2.0 + 4.5,
            esc(name)
        );
        let _ = writeln!(
            out,
            r#"  <rect x="{LABELS:.1}" y="{y:.1}" width="{:.1}" height="{BAR:.1}" fill="{TO_CLIENT}"/>"#,
            w_to.max(1.0)
        );
        if *from > 0 {
            let _ = writeln!(
                out,
                r#"  <rect x="{:.1}" y="{y:.1}" width="{:.1}" height="{BAR:.1}" fill="{FROM_CLIENT}"/>"#,
                LABELS + w_to,
                w_from.max(1.0)
            );
        }
        let _ = writeln!(
            out,
            r#"  <text x="{:.1}" y="{:.1}" font-size="13" fill="{FG}">{}</text>"#,
            LABELS + w_to.max(1.0) + w_from + 8.0,
            y + BAR / 2.0 + 4.5,
            esc(value)
        );
    }
    let bottom = first + rows.len() as f64 * ROW;
    let _ = writeln!(
        out,
        r#"  <line x1="{LABELS:.1}" y1="{:.1}" x2="{LABELS:.1}" y2="{:.1}" stroke="{MUTED}" stroke-width="1"/>"#,
        first - 6.0,
        bottom - ROW + BAR + 6.0
    );
    bottom - top
}

/// The chart: bytes per delivered message, and what an idle client costs per minute, each a
/// bar per transport split into bytes to and from the client, labelled with its requests.
pub fn svg(costs: &Costs) -> String {
    let mut body = String::new();
    let per_message: Vec<_> = costs
        .per_message
        .iter()
        .map(|r| {
            let value = format!("{} B, {}", group(r.to_client + r.from_client), requests_label(&r.requests));
            (r.transport.as_str(), r.to_client, r.from_client, value)
        })
        .collect();
    let idle: Vec<_> = costs
        .idle
        .iter()
        .map(|r| {
            let value = format!("{} B, {}", group(r.total()), requests_label(&r.requests));
            (r.transport.as_str(), r.received, r.sent, value)
        })
        .collect();
    let mut y = 16.0;
    y += panel(
        &mut body,
        y,
        "One delivered message",
        "bytes on the wire and requests per message",
        &per_message,
    );
    y += 18.0;
    y += panel(
        &mut body,
        y,
        "An idle client, per minute",
        "bytes on the wire and requests, nothing published",
        &idle,
    );
    y += 14.0;
    let legend = [(TO_CLIENT, "to the client"), (FROM_CLIENT, "from the client (request heads, pongs)")];
    let mut x = 24.0;
    for (colour, text) in legend {
        let _ = writeln!(
            body,
            r#"  <rect x="{x:.1}" y="{:.1}" width="12" height="12" fill="{colour}"/>"#,
            y - 10.0
        );
        let _ = writeln!(
            body,
            r#"  <text x="{:.1}" y="{y:.1}" font-size="12" fill="{MUTED}">{}</text>"#,
            x + 18.0,
            esc(text)
        );
        x += 18.0 + text.len() as f64 * 6.4 + 24.0;
    }
    y += 20.0;
    let _ = writeln!(
        body,
        r#"  <text x="24" y="{y:.1}" font-size="11" fill="{MUTED}">Drawn by cargo run --example chart from {DATA}, the figures of chapter 06's tables.</text>"#
    );
    let height = y + 16.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH:.0}" height="{height:.0}" viewBox="0 0 {WIDTH:.0} {height:.0}" font-family="{FONT}">"#
    );
    let _ = writeln!(
        out,
        "  <title>What each transport costs: per delivered message, and per idle minute</title>"
    );
    let _ = writeln!(
        out,
        r##"  <rect x="0.5" y="0.5" width="{:.0}" height="{:.0}" rx="10" fill="#ffffff" stroke="#e1e5ec"/>"##,
        WIDTH - 1.0,
        height - 1.0
    );
    out.push_str(&body);
    out.push_str("</svg>\n");
    out
}
