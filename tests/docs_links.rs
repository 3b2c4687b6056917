//! The docs cannot drift from the code. xv6's book cites code by pattern and its build fails
//! when a pattern stops matching; this test does the same for `README.md` and `docs/*.md`.
//!
//! The rules, kept simple enough to predict:
//!
//! 1. **Paths.** Every backticked span that starts with `src/`, `demos/`, `tests/`, `benches/`,
//!    `fuzz/`, `docs/` or `.ci/` names a file or directory that exists. Spans with `*` are
//!    patterns and are not checked.
//! 2. **Items.** In a *sentence* that cites one or more `src/**.rs` files, every backticked
//!    item name is defined in one of those files:
//!    - `fn name`, `struct Name`, `enum Name`, `trait Name`, `type Name`, `const NAME`,
//!      `static NAME`, `mod name`: that exact definition (`fn name` …) exists;
//!    - `Type::name`: `Type` is defined or `impl`ed there, and `name` is defined there as a
//!      function, constant, type, enum variant or field;
//!    - a bare `CamelCase` name or `ALL_CAPS_NAME` (with an underscore): defined there;
//!    - trailing `(…)` and generics `<…>` are ignored: `Status::Complete(len)` checks
//!      `Status::Complete`, `Slab<T>` checks `Slab`.
//!
//!    Not checked: bare lowercase words (they are as often fields, parameters or protocol
//!    words), `module::item` paths with a lowercase first segment, spans with spaces other than
//!    the keyword forms above, and the std, mio, platform and protocol names in [`EXTERNAL`]
//!    (`Instant`, `Interest`, `SO_LINGER`, `Host`, `EventSource`, …).
//!    A "definition" is found by words, not by a Rust parser: `fn name` is the word `fn`
//!    followed by the word `name`; a variant or field is a line that starts with the name
//!    (after an optional `pub`) followed by `:`, `(`, `{`, `,`, `=` or the end of the line.
//!    A sentence ends at `.`, `?` or `!` followed by a space or the end of a line; a blank line,
//!    a heading, a list item or a table row starts a new one; fenced code blocks are skipped.
//! 3. **Demos.** Every `cargo run --example NAME`, anywhere (code blocks too), is an
//!    `[[example]]` of `Cargo.toml` whose file exists.
//!
//! A failure lists every broken reference as `file:line: what`.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Names from std, mio, the platform and the protocols (header fields, browser APIs) that docs
/// mention beside our paths; never checked.
const EXTERNAL: &str = "
    Vec Option Some None Ok Err Result String Box Rc Arc Cell RefCell OnceCell HashMap HashSet
    BinaryHeap VecDeque Reverse Instant Duration SystemTime IoSlice Read Write ErrorKind Error
    WouldBlock Interrupted WriteZero TcpStream TcpListener SocketAddr Self Iterator Drop Copy
    Clone Default
    Poll Events Event Token Interest Registry Waker
    SO_LINGER TCP_NODELAY SO_REUSEADDR EPOLL_CTL_ADD EPOLL_CTL_MOD EPOLL_CTL_DEL RLIMIT_NOFILE
    IORING_OP_RECV EV_CLEAR
    Host Date Allow Server Connection Expect Upgrade Origin Vary Accept EventSource WebSocket
    XMLHttpRequest";

fn external(name: &str) -> bool {
    EXTERNAL.split_whitespace().any(|e| e == name)
}

/// Item keywords whose `keyword name` form is checked literally.
const KEYWORDS: &[&str] = &["fn", "struct", "enum", "trait", "type", "const", "static", "mod", "union"];

/// Path prefixes whose backticked spans must exist.
const PATH_PREFIXES: &[&str] = &["src/", "demos/", "tests/", "benches/", "fuzz/", "docs/", ".ci/"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `README.md` and every `docs/*.md`, as (display name, text).
fn documents() -> Vec<(String, String)> {
    let root = root();
    let mut names = vec!["README.md".to_string()];
    if let Ok(dir) = fs::read_dir(root.join("docs")) {
        let mut chapters: Vec<String> = dir
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".md"))
            .map(|n| format!("docs/{n}"))
            .collect();
        chapters.sort();
        names.extend(chapters);
    }
    names
        .into_iter()
        .filter_map(|name| fs::read_to_string(root.join(&name)).ok().map(|text| (name, text)))
        .collect()
}

/// A backticked span and the line it is on (1-based).
#[derive(Debug, Clone)]
struct Span {
    text: String,
    line: usize,
}

/// Splits a document into sentences of backticked spans, skipping fenced code blocks.
fn sentences(text: &str) -> Vec<Vec<Span>> {
    let mut out = Vec::new();
    let mut current: Vec<Span> = Vec::new();
    let mut in_fence = false;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            in_fence = !in_fence;
            out.push(std::mem::take(&mut current));
            continue;
        }
        if in_fence {
            continue;
        }
        let starts_unit = trimmed.is_empty()
            || trimmed.starts_with('#')
            || trimmed.starts_with('|')
            || trimmed.starts_with("- ")
            || trimmed.starts_with("* ")
            || trimmed
                .split_once(". ")
                .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if starts_unit {
            out.push(std::mem::take(&mut current));
        }
        // Walk the line: text outside backticks may end a sentence; spans are collected.
        let mut rest = line;
        while !rest.is_empty() {
            match rest.find('`') {
                None => {
                    split_on_sentence_ends(rest, &mut current, &mut out);
                    rest = "";
                }
                Some(open) => {
                    split_on_sentence_ends(&rest[..open], &mut current, &mut out);
                    let after = &rest[open + 1..];
                    match after.find('`') {
                        Some(close) => {
                            current.push(Span { text: after[..close].to_string(), line: i + 1 });
                            rest = &after[close + 1..];
                        }
                        None => rest = "",
                    }
                }
            }
        }
    }
    out.push(current);
    out.retain(|s| !s.is_empty());
    out
}

/// Ends the current sentence if `prose` (text outside backticks) contains `.`, `?` or `!`
/// followed by a space or the end of the text.
fn split_on_sentence_ends(prose: &str, current: &mut Vec<Span>, out: &mut Vec<Vec<Span>>) {
    let bytes = prose.as_bytes();
    let ends = bytes
        .iter()
        .enumerate()
        .any(|(i, &b)| matches!(b, b'.' | b'?' | b'!') && bytes.get(i + 1).is_none_or(|&n| n == b' '));
    if ends {
        out.push(std::mem::take(current));
    }
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn words(line: &str) -> Vec<&str> {
    line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).collect()
}

/// What one source file defines, found by words (rule 2 above).
#[derive(Default)]
struct Definitions {
    /// `keyword name` pairs: `("fn", "settle")`, `("struct", "Timers")`, …
    items: HashSet<(String, String)>,
    /// Names that start a line (variants, fields).
    members: HashSet<String>,
    /// Every word on an `impl` line.
    impls: HashSet<String>,
}

impl Definitions {
    fn of(source: &str) -> Definitions {
        let mut defs = Definitions::default();
        for line in source.lines() {
            let w = words(line);
            for pair in w.windows(2).filter(|pair| KEYWORDS.contains(&pair[0])) {
                defs.items.insert((pair[0].to_string(), pair[1].to_string()));
            }
            if w.first() == Some(&"impl") {
                defs.impls.extend(w.iter().map(|word| word.to_string()));
            }
            if let Some(name) = member_name(line) {
                defs.members.insert(name.to_string());
            }
        }
        defs
    }

    fn has(&self, keyword: &str, name: &str) -> bool {
        self.items.contains(&(keyword.to_string(), name.to_string()))
    }

    fn defines(&self, name: &str) -> bool {
        KEYWORDS.iter().any(|k| self.has(k, name)) || self.members.contains(name)
    }

    fn defines_type(&self, name: &str) -> bool {
        ["struct", "enum", "trait", "type", "union"].iter().any(|k| self.has(k, name))
            || self.impls.contains(name)
    }
}

/// A variant or field: the name a line starts with (after `pub`, `pub(crate)` …) when `:`,
/// `(`, `{`, `,`, `=` or the end of the line follows it.
fn member_name(line: &str) -> Option<&str> {
    let mut t = line.trim_start();
    if let Some(rest) = t.strip_prefix("pub") {
        t = match rest.strip_prefix('(') {
            Some(inner) => inner.split_once(')').map_or(rest, |(_, after)| after),
            None => rest,
        }
        .trim_start();
    }
    let end = t.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(t.len());
    let (name, after) = t.split_at(end);
    let after = after.trim_start();
    (is_ident(name) && (after.is_empty() || after.starts_with([':', '(', '{', ',', '=']))).then_some(name)
}

/// What a span asks to be checked, if anything.
#[derive(Debug, PartialEq)]
enum Claim<'a> {
    Keyword(&'a str, &'a str),
    Member(&'a str, &'a str),
    Name(&'a str),
}

fn claim(span: &str) -> Option<Claim<'_>> {
    let span = span.trim();
    if let Some((keyword, name)) = span.split_once(' ') {
        let name = name.split(['(', '<', ' ', ':', ';']).next().unwrap_or("");
        return (KEYWORDS.contains(&keyword) && is_ident(name)).then_some(Claim::Keyword(keyword, name));
    }
    // Drop a call's arguments and a type's generics.
    let span = span.split(['(', '<']).next().unwrap_or("");
    let segments: Vec<&str> = span.split("::").collect();
    if segments.iter().any(|s| !is_ident(s)) || segments.iter().any(|s| external(s)) {
        return None;
    }
    let upper = |s: &str| s.starts_with(|c: char| c.is_ascii_uppercase());
    match segments.as_slice() {
        [name] if upper(name) && name.contains(|c: char| c.is_ascii_lowercase()) => Some(Claim::Name(name)),
        [name] if name.contains('_') && !name.contains(|c: char| c.is_ascii_lowercase()) => {
            Some(Claim::Name(name))
        }
        [.., ty, member] if upper(ty) && upper(segments[0]) => Some(Claim::Member(ty, member)),
        _ => None,
    }
}

fn is_checked_path(span: &str) -> bool {
    PATH_PREFIXES.iter().any(|p| span.starts_with(p)) && !span.contains(['*', ' ', '{'])
}

#[test]
fn cited_paths_exist() {
    let root = root();
    let mut broken = Vec::new();
    for (doc, text) in documents() {
        for span in sentences(&text).into_iter().flatten() {
            if is_checked_path(&span.text) && !root.join(&span.text).exists() {
                broken.push(format!("{doc}:{}: `{}` does not exist", span.line, span.text));
            }
        }
    }
    assert!(broken.is_empty(), "docs cite paths that do not exist:\n{}\n", broken.join("\n"));
}

#[test]
fn cited_items_are_defined_in_the_cited_files() {
    let root = root();
    let mut cache: HashMap<String, Option<Definitions>> = HashMap::new();
    let mut broken = Vec::new();
    for (doc, text) in documents() {
        for sentence in sentences(&text) {
            let cited: Vec<&str> = sentence
                .iter()
                .map(|s| s.text.as_str())
                .filter(|t| t.starts_with("src/") && t.ends_with(".rs"))
                .collect();
            for path in &cited {
                cache.entry(path.to_string()).or_insert_with(|| {
                    fs::read_to_string(root.join(path)).ok().map(|src| Definitions::of(&src))
                });
            }
            let files: Vec<&Definitions> = cited.iter().filter_map(|p| cache[*p].as_ref()).collect();
            if files.is_empty() {
                continue;
            }
            for span in &sentence {
                let Some(claim) = claim(&span.text) else { continue };
                let found = files.iter().any(|defs| match claim {
                    Claim::Keyword(keyword, name) => defs.has(keyword, name),
                    Claim::Member(ty, member) => defs.defines_type(ty) && defs.defines(member),
                    Claim::Name(name) => defs.defines(name),
                });
                if !found {
                    broken.push(format!(
                        "{doc}:{}: `{}` is not defined in {}",
                        span.line,
                        span.text,
                        cited.join(" or ")
                    ));
                }
            }
        }
    }
    assert!(broken.is_empty(), "docs cite items that do not exist:\n{}\n", broken.join("\n"));
}

/// `[[example]]` entries of Cargo.toml: (name, path).
fn examples(manifest: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut in_example = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_example = line == "[[example]]";
            if in_example {
                out.push((String::new(), String::new()));
            }
            continue;
        }
        let Some((key, value)) = line.split_once('=') else { continue };
        let (Some(entry), true) = (out.last_mut(), in_example) else { continue };
        let value = value.trim().trim_matches('"').to_string();
        match key.trim() {
            "name" => entry.0 = value,
            "path" => entry.1 = value,
            _ => {}
        }
    }
    for (name, path) in &mut out {
        if path.is_empty() {
            *path = format!("examples/{name}.rs");
        }
    }
    out
}

#[test]
fn demo_commands_name_real_examples() {
    let root = root();
    let manifest = fs::read_to_string(root.join("Cargo.toml")).expect("Cargo.toml");
    let examples = examples(&manifest);
    let mut broken = Vec::new();
    for (doc, text) in documents() {
        for (i, line) in text.lines().enumerate() {
            for (at, _) in line.match_indices("cargo run --example ") {
                let rest = &line[at + "cargo run --example ".len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                    .collect();
                match examples.iter().find(|(n, _)| *n == name) {
                    None => {
                        broken.push(format!("{doc}:{}: no [[example]] named `{name}` in Cargo.toml", i + 1))
                    }
                    Some((_, path)) if !Path::new(&root.join(path)).is_file() => {
                        broken.push(format!("{doc}:{}: example `{name}` points at missing `{path}`", i + 1))
                    }
                    Some(_) => {}
                }
            }
        }
    }
    assert!(broken.is_empty(), "docs name demos that do not exist:\n{}\n", broken.join("\n"));
}

/// The checker checks itself: the rules above, on small inputs.
#[test]
fn rules_do_what_the_header_says() {
    let src = "pub struct Timers {\n    heap: Vec<u8>,\n}\nimpl Timers {\n    pub fn pop_due(&self) {}\n}\n\
               pub enum Mode {\n    Http,\n    Lingering { until: u8 },\n}\npub const MAX_HEAD: usize = 1;\n";
    let defs = Definitions::of(src);
    assert!(defs.defines_type("Timers") && defs.defines("pop_due") && defs.has("fn", "pop_due"));
    assert!(defs.defines("Lingering") && defs.defines("Http") && defs.defines("heap"));
    assert!(defs.defines("MAX_HEAD") && !defs.defines("MAX_BODY") && !defs.defines("pop"));
    assert_eq!(claim("Timers::pop_due"), Some(Claim::Member("Timers", "pop_due")));
    assert_eq!(claim("Status::Complete(len)"), Some(Claim::Member("Status", "Complete")));
    assert_eq!(claim("fn settle"), Some(Claim::Keyword("fn", "settle")));
    assert_eq!(claim("Slab<T>"), Some(Claim::Name("Slab")));
    assert_eq!(claim("MAX_HEAD"), Some(Claim::Name("MAX_HEAD")));
    assert_eq!(claim("Interest::WRITABLE"), None);
    assert_eq!(claim("readable"), None);
    assert_eq!(claim("GET"), None);
    assert_eq!(claim("dispatch::settle"), None);
    let doc = "The heap (`src/server/timer.rs`) pops with `Timers::pop_due`. Then `Other`.\n\n```\n`x`\n```\n- `A`\n";
    let s = sentences(doc);
    let texts: Vec<Vec<&str>> = s.iter().map(|s| s.iter().map(|x| x.text.as_str()).collect()).collect();
    assert_eq!(texts, vec![vec!["src/server/timer.rs", "Timers::pop_due"], vec!["Other"], vec!["A"]]);
    let manifest =
        "[package]\nname = \"p\"\n[[example]]\nname = \"00_event_loop\"\npath = \"demos/00_event_loop.rs\"\n";
    assert_eq!(examples(manifest), vec![("00_event_loop".to_string(), "demos/00_event_loop.rs".to_string())]);
}
