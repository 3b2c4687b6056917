//! The docs cannot drift from the code. xv6's book cites code by pattern and its build fails
//! when a pattern stops matching; this test does the same for `README.md` and `docs/*.md`.
//!
//! The rules, kept simple enough to predict:
//!
//! 1. **Paths.** Every backticked span that starts with `src/`, `demos/`, `tests/`, `benches/`,
//!    `fuzz/`, `docs/` or `.ci/` names a file or directory that exists. Spans with `*`, `{` or
//!    a space are patterns and are not checked.
//!
//! 2. **Excerpts.** A fenced code block (any language) whose first line is a *naming line* is
//!    an excerpt, and it must match the file it names. A naming line is
//!
//!    ```text
//!    // PATH
//!    // PATH, ITEM
//!    // PATH, ITEM (NOTE)
//!    ```
//!
//!    - `//` may be `#`; the separator may be `,` or `—`; PATH starts with one of the prefixes
//!      of rule 1 and is a file (`// src/hub.rs — struct Message` and
//!      `// src/server/conn.rs, Connection::fill (abridged)` are both naming lines).
//!    - NOTE is anything in parentheses at the end of the line, and is ignored.
//!    - ITEM is one of `fn name`, `struct Name`, `enum Name`, `trait Name`, `type Name`,
//!      `const NAME`, `static NAME`, `mod name`, `union Name`, `impl Name` (the inherent block),
//!      `impl Trait for Name`, `Type::name` (a method, associated item, field or variant of
//!      `Type`), or a bare `name` (any item of that name). It must resolve to exactly one
//!      definition in PATH (rule 3 says how definitions are found); anything else after PATH is
//!      reported as unreadable.
//!
//!    The excerpt is every line after the naming line. Blank lines and the elision markers
//!    `…`, `...`, `// …` and `// ...` (the whole line, trimmed) are skipped; every other line,
//!    trimmed of leading and trailing whitespace, must equal a trimmed line of the source, and
//!    those source lines must come in the excerpt's order (a subsequence: gaps are allowed,
//!    reordering is not). With an ITEM the lines are searched only inside its definition: from
//!    the line that defines it to the brace that closes it (or the `;` that ends it), so a
//!    one-line `const` is that one line, and a field or variant is its own line. Without an
//!    ITEM the whole file is searched. An excerpt line added by the writer (a comment the code
//!    does not have, a `?` it does not use) therefore fails. A block whose first line is not
//!    a naming line is not checked.
//!
//! 3. **Items.** Every backticked item name, anywhere outside fenced blocks, resolves to exactly
//!    one definition. It is searched in the `.rs` files that the same *sentence* cites (rule 1
//!    paths, e.g. `src/server/conn.rs` or `tests/sse_conformance.rs`), else in all of
//!    `src/**.rs`. No definition fails ("no such item"); two or more fail ("ambiguous: defined
//!    in a.rs and b.rs; cite the file"). The forms checked:
//!    - `fn name`, `struct Name`, `enum Name`, `trait Name`, `type Name`, `const NAME`,
//!      `static NAME`, `mod name`, `union Name`: definitions of exactly that kind (methods and
//!      associated consts and types count);
//!    - `impl Name`, `impl Trait for Name`: the impl block;
//!    - `Type::name`: `name` defined directly inside `struct`/`enum`/`union`/`trait Type` (a
//!      field, variant or trait item) or inside an `impl … Type` block (a method, const or
//!      type). A trait's own declaration counts, its implementations for other types do not:
//!      `Service::handle` is the trait's line;
//!    - a bare `CamelCase` name: a `struct`, `enum`, `trait`, `type` or `union` of that name;
//!      only if there is none, an enum variant of that name;
//!    - a bare `ALL_CAPS_NAME` (with an underscore): a `const` or `static` of that name;
//!    - `module::item` (first segment lowercase): `crate::` or `pushlab::` start at
//!      `src/lib.rs`; any other first segment must be the last segment of exactly one module
//!      file of `src/` (`src/a/NAME.rs` or `src/a/NAME/mod.rs`), else the path is taken to be
//!      external (`std::…`, `tokio::…`, `str::…`) and is not checked. Following segments
//!      descend into module files while such files exist (`wire::ws::frame`); what remains
//!      is an item of the last file: one segment is a top-level item, two are `Type::name`.
//!      Inline `mod x { … }` blocks and `pub use` re-exports are not followed.
//!    - trailing `(…)` and generics `<…>` are ignored: `Status::Complete(len)` checks
//!      `Status::Complete`, `Slab<T>` checks `Slab`.
//!
//!    Not checked: bare lowercase words (they are as often fields, parameters or protocol
//!    words), spans with spaces other than the keyword forms above, names whose "name" is a
//!    Rust keyword (`const fn`), and the std, mio, platform, protocol and other projects' names
//!    in [`EXTERNAL`] (`Instant`, `Interest`, `SO_LINGER`, `Host`, `EventSource`, …). An
//!    external name is never checked bare; as the `Type` of `Type::name` it is checked anyway
//!    when `src/` defines a type of that name (`Connection::fill` is ours, `Connection` the
//!    header is not).
//!
//!    A "definition" is found by words, not by a Rust parser, after string and char literals
//!    and comments are blanked: `fn name` is the word `fn`, white space, then the word `name`
//!    (not after `*`, `<`, `,` or `'`, so `*const T`, `<const N: usize>` and `'static` are not
//!    items); `impl` blocks are lines that start with `impl`; an item's extent is found by
//!    counting braces from its definition line. A field or variant is a line directly inside a
//!    `struct`/`enum` body that starts with the name (after an optional `pub`) followed by
//!    `:`, `(`, `{`, `,`, `=` or the end of the line. Items in `#[cfg(test)]` modules count.
//!
//!    A sentence ends at `.`, `?` or `!` followed by a space or the end of a line; a blank line,
//!    a heading, a list item or a table row starts a new one.
//!
//! 4. **Demos.** Every `cargo run --example NAME`, anywhere (code blocks too), is an
//!    `[[example]]` of `Cargo.toml` whose file exists.
//!
//! One test, [`the_book_matches_the_code`], applies every rule to every document and fails with
//! the complete list, one `file:line: what` per broken reference. The checks are functions of
//! strings (a document's text, an [`Index`] built from source texts), so the tests at the
//! bottom exercise them on small fakes.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

/// Names from outside pushlab that chapters mention; see rule 3 for how they are skipped.
/// Each group says where its names come from.
const EXTERNAL: &[&str] = &[
    // std
    "Vec Option Some None Ok Err Result String Box Rc Arc Cell RefCell OnceCell HashMap HashSet \
     BinaryHeap VecDeque Reverse Instant Duration SystemTime IoSlice Read Write ErrorKind Error \
     WouldBlock Interrupted WriteZero TcpStream TcpListener SocketAddr Self Iterator Drop Copy \
     Clone Default From TryFrom",
    // mio
    "Poll Events Event Token Interest Registry Waker",
    // the platform: socket options, epoll/kqueue/io_uring constants, TCP states
    "SO_LINGER TCP_NODELAY SO_REUSEADDR EPOLL_CTL_ADD EPOLL_CTL_MOD EPOLL_CTL_DEL RLIMIT_NOFILE \
     IORING_OP_RECV EV_CLEAR TIME_WAIT",
    // protocols and browsers: header fields, Web APIs, HTTP/2 settings
    "Host Date Allow Server Connection Expect Upgrade Origin Vary Accept Authorization Referer ETag \
     EventSource WebSocket XMLHttpRequest MessageEvent BroadcastChannel SharedWorker \
     WebSocketStream Object SETTINGS_MAX_CONCURRENT_STREAMS",
    // environment variables (of the server, the logger and the benches), not items
    "RUST_LOG PUSHLAB_ADDR PUSHLAB_REDIS SSE_FANOUT_N SSE_FANOUT_PACED SSE_FANOUT_BURST",
    // other projects the chapters compare with: Netty, tokio, Servlet/Spring, tungstenite, futures
    "EventLoop HashedWheelTimer ChannelOutboundBuffer WriteBufferWaterMark ScheduledIo \
     DeferredResult AsyncContext StringCollector WebSocketConfig SinkExt",
    // other projects' compression settings (zlib, uWebSockets, .NET) that chapter 10 names
    "Z_SYNC_FLUSH SHARED_COMPRESSOR DangerousEnableCompression DisableCompression",
    // message text in captures, not code
    "Hello",
];

fn external(name: &str) -> bool {
    EXTERNAL.iter().flat_map(|group| group.split_whitespace()).any(|e| e == name)
}

/// Rust keywords: never the name of an item (`const fn`, `pub unsafe fn` …).
const RUST_KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern", "false",
    "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where", "while",
    "union",
];

/// Path prefixes whose backticked spans must exist.
const PATH_PREFIXES: &[&str] = &["src/", "demos/", "tests/", "benches/", "fuzz/", "docs/", ".ci/"];

/// Directories whose `.rs` files can be a sentence's scope (rule 3); `src/` is also the default.
const SOURCE_DIRS: &[&str] = &["src", "tests", "benches", "demos", "fuzz"];

/// One broken reference: `doc:line: what`.
#[derive(Debug, Clone, PartialEq)]
struct Problem {
    doc: String,
    line: usize,
    what: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.doc, self.line, self.what)
    }
}

// ---------------------------------------------------------------------------------------------
// Sources: what a `.rs` file defines, and where each definition starts and ends.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Fn,
    Struct,
    Enum,
    Trait,
    Type,
    Const,
    Static,
    Mod,
    Union,
    Impl,
    /// A struct field or an enum variant.
    Field,
}

impl Kind {
    fn of_keyword(keyword: &str) -> Option<Kind> {
        Some(match keyword {
            "fn" => Kind::Fn,
            "struct" => Kind::Struct,
            "enum" => Kind::Enum,
            "trait" => Kind::Trait,
            "type" => Kind::Type,
            "const" => Kind::Const,
            "static" => Kind::Static,
            "mod" => Kind::Mod,
            "union" => Kind::Union,
            _ => return None,
        })
    }

    fn is_type(self) -> bool {
        matches!(self, Kind::Struct | Kind::Enum | Kind::Trait | Kind::Type | Kind::Union)
    }
}

/// One definition. Lines are 0-based indices into [`SourceFile::lines`].
#[derive(Debug, Clone)]
struct Item {
    kind: Kind,
    /// The item's name; for an `impl` block, the type it is for.
    name: String,
    /// For `impl Trait for Type`, the trait.
    of_trait: Option<String>,
    line: usize,
    /// The last line of the definition (the closing brace, or the `;`).
    end: usize,
    /// The item whose body directly contains this one.
    parent: Option<usize>,
}

#[derive(Debug)]
struct SourceFile {
    path: String,
    lines: Vec<String>,
    items: Vec<Item>,
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && chars.all(is_ident_char)
}

/// `source` with the contents of comments and string and char literals replaced by spaces;
/// line breaks are kept, so the result has the same lines.
fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let blank = |c: char| if c == '\n' || c == '\r' { c } else { ' ' };
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let after_ident = i > 0 && is_ident_char(chars[i - 1]);
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(blank(chars[i]));
                i += 1;
            }
            continue;
        }
        if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
            continue;
        }
        // Raw strings: r"…", r#"…"#, br"…".
        if !after_ident && (c == 'r' || (c == 'b' && next == Some('r'))) {
            let start = if c == 'b' { i + 2 } else { i + 1 };
            let mut j = start;
            while chars.get(j) == Some(&'#') {
                j += 1;
            }
            if chars.get(j) == Some(&'"') {
                let hashes = j - start;
                out.extend(&chars[i..=j]);
                i = j + 1;
                while i < chars.len() {
                    if chars[i] == '"' && (1..=hashes).all(|h| chars.get(i + h) == Some(&'#')) {
                        out.push('"');
                        out.extend(std::iter::repeat_n('#', hashes));
                        i += 1 + hashes;
                        break;
                    }
                    out.push(blank(chars[i]));
                    i += 1;
                }
                continue;
            }
        }
        if c == '"' {
            out.push('"');
            i += 1;
            while i < chars.len() {
                match chars[i] {
                    '\\' => {
                        out.push(' ');
                        if let Some(&escaped) = chars.get(i + 1) {
                            out.push(blank(escaped));
                        }
                        i += 2;
                    }
                    '"' => {
                        out.push('"');
                        i += 1;
                        break;
                    }
                    other => {
                        out.push(blank(other));
                        i += 1;
                    }
                }
            }
            continue;
        }
        if c == '\'' {
            if next == Some('\\') {
                // '\n', '\'', '\u{…}': the escape, then up to the closing quote.
                out.push_str("'  ");
                i += 3;
                while i < chars.len() && chars[i] != '\'' && chars[i] != '\n' {
                    out.push(' ');
                    i += 1;
                }
                if chars.get(i) == Some(&'\'') {
                    out.push('\'');
                    i += 1;
                }
                continue;
            }
            if chars.get(i + 2) == Some(&'\'') && next != Some('\n') {
                out.push_str("' '");
                i += 3;
                continue;
            }
            // A lifetime.
        }
        out.push(c);
        i += 1;
    }
    out
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
    let end = t.find(|c: char| !is_ident_char(c)).unwrap_or(t.len());
    let (name, after) = t.split_at(end);
    let after = after.trim();
    let ok = is_ident(name)
        && !RUST_KEYWORDS.contains(&name)
        && (after.is_empty() || after.starts_with([':', '(', '{', ',', '=']))
        && !after.starts_with("::");
    ok.then_some(name)
}

/// `impl<…> Trait<…> for Type<…> {` → (Some(Trait), Type); `impl Type {` → (None, Type).
fn impl_header(after_impl: &str) -> Option<(Option<String>, String)> {
    let head = after_impl.split('{').next().unwrap_or("");
    let head = head.split(" where").next().unwrap_or("");
    // Drop generics (balanced `<…>`), minding `->` inside them.
    let mut plain = String::new();
    let mut depth = 0usize;
    let mut prev = ' ';
    for c in head.chars() {
        match c {
            '<' => depth += 1,
            '>' if prev != '-' => depth = depth.saturating_sub(1),
            _ if depth == 0 => plain.push(c),
            _ => {}
        }
        prev = c;
    }
    let words: Vec<&str> = plain
        .split(|c: char| !is_ident_char(c))
        .filter(|w| !w.is_empty() && !matches!(*w, "dyn" | "mut" | "unsafe" | "const"))
        .collect();
    let last_ident = |ws: &[&str]| ws.last().map(|w| w.to_string());
    match words.iter().position(|w| *w == "for") {
        Some(at) => Some((last_ident(&words[..at]), last_ident(&words[at + 1..])?)),
        None => Some((None, last_ident(&words)?)),
    }
}

/// Parses one source file into its items.
fn parse_source(path: &str, text: &str) -> SourceFile {
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    let code_text = code_only(text);
    let code: Vec<&str> = code_text.lines().collect();
    // Brackets and `;` in order, with their position; and the brace depth at each line start.
    let mut tokens: Vec<(usize, usize, char)> = Vec::new();
    let mut depth_at = Vec::with_capacity(code.len());
    let mut depth = 0usize;
    for (l, line) in code.iter().enumerate() {
        depth_at.push(depth);
        for (c, ch) in line.char_indices() {
            if matches!(ch, '{' | '}' | '(' | ')' | '[' | ']' | ';') {
                tokens.push((l, c, ch));
            }
            match ch {
                '{' => depth += 1,
                '}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    }
    // The line an item starting at (line, col) ends on, and whether it has a braced body.
    let extent = |line: usize, col: usize| -> (usize, bool) {
        let from = tokens.partition_point(|t| (t.0, t.1) < (line, col));
        let (mut parens, mut braces, mut opened) = (0i32, 0i32, false);
        for &(l, _, ch) in &tokens[from..] {
            match ch {
                '(' | '[' => parens += 1,
                ')' | ']' => parens -= 1,
                '{' if opened => braces += 1,
                '{' if parens == 0 => {
                    opened = true;
                    braces = 1;
                }
                '}' if opened => {
                    braces -= 1;
                    if braces == 0 {
                        return (l, true);
                    }
                }
                ';' if !opened && parens == 0 => return (l, false),
                _ => {}
            }
        }
        (code.len().saturating_sub(1), opened)
    };

    // (item, has a braced body)
    let mut found: Vec<(Item, bool)> = Vec::new();
    for (l, line) in code.iter().enumerate() {
        let trimmed = line.trim_start();
        let impl_at = if trimmed.starts_with("impl") && !trimmed[4..].starts_with(is_ident_char) {
            Some(line.len() - trimmed.len())
        } else if let Some(rest) = trimmed.strip_prefix("unsafe impl") {
            (!rest.starts_with(is_ident_char)).then(|| line.len() - rest.len() - 4)
        } else {
            None
        };
        if let Some(at) = impl_at {
            if let Some((of_trait, name)) = impl_header(&line[at + 4..]) {
                let (end, braced) = extent(l, at);
                let item = Item { kind: Kind::Impl, name, of_trait, line: l, end, parent: None };
                found.push((item, braced));
            }
            continue;
        }
        for (at, word) in words_with_positions(line) {
            let Some(kind) = Kind::of_keyword(word) else { continue };
            let before = line[..at].trim_end();
            if line[..at].ends_with(['\'', '#']) || before.ends_with(['*', '<', ',']) {
                continue;
            }
            let rest = &line[at + word.len()..];
            let name_part = rest.trim_start();
            if name_part.len() == rest.len() {
                continue; // `fn(` is a type, not an item
            }
            let name_len = name_part.find(|c: char| !is_ident_char(c)).unwrap_or(name_part.len());
            let name = &name_part[..name_len];
            if !is_ident(name) || RUST_KEYWORDS.contains(&name) {
                continue;
            }
            let (end, braced) = extent(l, at);
            let item = Item { kind, name: name.to_string(), of_trait: None, line: l, end, parent: None };
            found.push((item, braced));
        }
    }

    // Parents: the innermost braced item whose extent holds the item's line.
    let mut items: Vec<Item> = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    for (mut item, braced) in found {
        while stack.last().is_some_and(|&top| items[top].end < item.line) {
            stack.pop();
        }
        item.parent = stack.last().copied().filter(|&top| items[top].line < item.line);
        items.push(item);
        if braced {
            stack.push(items.len() - 1);
        }
    }
    // Fields and variants: lines directly inside a struct, enum or union body.
    for idx in 0..items.len() {
        let container = &items[idx];
        if !matches!(container.kind, Kind::Struct | Kind::Enum | Kind::Union)
            || container.end == container.line
        {
            continue;
        }
        let inner = depth_at[container.line] + 1;
        let (from, to) = (container.line + 1, container.end);
        for (l, line) in code.iter().enumerate().take(to).skip(from) {
            if depth_at[l] != inner {
                continue;
            }
            if let Some(name) = member_name(line) {
                let field = Item {
                    kind: Kind::Field,
                    name: name.to_string(),
                    of_trait: None,
                    line: l,
                    end: l,
                    parent: Some(idx),
                };
                items.push(field);
            }
        }
    }
    SourceFile { path: path.to_string(), lines, items }
}

/// The words of a line with their byte offsets.
fn words_with_positions(line: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices().chain(std::iter::once((line.len(), ' '))) {
        match (start, is_ident_char(c)) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                out.push((s, &line[s..i]));
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// Every parsed source file, and the module each one is.
struct Index {
    files: Vec<SourceFile>,
}

/// A definition: (file index, item index).
type Def = (usize, usize);

/// What a reference asks for.
#[derive(Debug, Clone, PartialEq)]
enum Claim {
    /// `fn name`, `struct Name`, …
    Keyword(Kind, String),
    /// `impl Name` (None) or `impl Trait for Name`.
    Impl(Option<String>, String),
    /// `Type::name`.
    Member(String, String),
    /// A bare `CamelCase` or `ALL_CAPS` name.
    Name(String),
    /// A bare name in a naming line: any item.
    Any(String),
    /// An enum variant (how a bare `CamelCase` name resolves when no type has it).
    Variant(String),
    /// `module::…::item`, first segment lowercase.
    Path(Vec<String>),
}

/// Where a module path leads.
#[derive(Debug, PartialEq)]
enum ModuleLookup<'a> {
    /// Not one of our modules: not checked.
    External,
    Ambiguous(Vec<String>),
    /// A file, and the segments left after its module path.
    File(usize, &'a [String]),
}

impl Index {
    fn new(sources: &[(&str, &str)]) -> Index {
        Index { files: sources.iter().map(|(path, text)| parse_source(path, text)).collect() }
    }

    /// Every `.rs` file under [`SOURCE_DIRS`].
    fn load(root: &Path) -> Index {
        fn walk(dir: &Path, rel: &str, out: &mut Vec<(String, String)>) {
            let Ok(entries) = fs::read_dir(dir) else { return };
            let mut entries: Vec<_> = entries.filter_map(|e| e.ok()).collect();
            entries.sort_by_key(|e| e.file_name());
            for entry in entries {
                let name = entry.file_name().to_string_lossy().into_owned();
                let rel = format!("{rel}/{name}");
                let path = entry.path();
                if path.is_dir() {
                    if name != "target" {
                        walk(&path, &rel, out);
                    }
                } else if name.ends_with(".rs") {
                    if let Ok(text) = fs::read_to_string(&path) {
                        out.push((rel, text));
                    }
                }
            }
        }
        let mut sources = Vec::new();
        for dir in SOURCE_DIRS {
            walk(&root.join(dir), dir, &mut sources);
        }
        let borrowed: Vec<(&str, &str)> = sources.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
        Index::new(&borrowed)
    }

    fn file(&self, path: &str) -> Option<usize> {
        self.files.iter().position(|f| f.path == path)
    }

    /// The files searched by default: `src/**.rs`.
    fn src(&self) -> Vec<usize> {
        (0..self.files.len()).filter(|&i| self.files[i].path.starts_with("src/")).collect()
    }

    /// Does `src/` define a type (struct, enum, trait, type alias, union) called `name`?
    fn defines_type(&self, name: &str) -> bool {
        self.src()
            .into_iter()
            .any(|f| self.files[f].items.iter().any(|it| it.kind.is_type() && it.name == name))
    }

    fn location(&self, (f, i): Def) -> String {
        format!("{}:{}", self.files[f].path, self.files[f].items[i].line + 1)
    }

    /// Every definition of `claim` in `files`. `Path` claims go through [`Index::lookup`].
    fn definitions(&self, claim: &Claim, files: &[usize]) -> Vec<Def> {
        let collect = |claim: &Claim| -> Vec<Def> {
            files
                .iter()
                .flat_map(|&f| file_definitions(&self.files[f], claim).into_iter().map(move |i| (f, i)))
                .collect()
        };
        match claim {
            // A variant only if no type has the name, in all of `files`.
            Claim::Name(name) if name.contains(|c: char| c.is_ascii_lowercase()) => {
                let types = collect(claim);
                if types.is_empty() {
                    collect(&Claim::Variant(name.clone()))
                } else {
                    types
                }
            }
            _ => collect(claim),
        }
    }

    /// The module path of a file: `src/wire/ws/frame.rs` → `wire::ws::frame`, `src/lib.rs` →
    /// the crate root (empty). Other files are no module.
    fn module_path(path: &str) -> Option<Vec<String>> {
        let rel = path.strip_prefix("src/")?.strip_suffix(".rs")?;
        if rel == "main" {
            return None;
        }
        if rel == "lib" {
            return Some(Vec::new());
        }
        let rel = rel.strip_suffix("/mod").unwrap_or(rel);
        Some(rel.split('/').map(str::to_string).collect())
    }

    fn module(&self, segments: &[String]) -> Option<usize> {
        self.files.iter().position(|f| Index::module_path(&f.path).as_deref() == Some(segments))
    }

    /// Resolves the module part of `a::b::c` (rule 3).
    fn lookup<'s>(&self, segments: &'s [String]) -> ModuleLookup<'s> {
        let mut module: Vec<String> = match segments[0].as_str() {
            "crate" | "pushlab" => Vec::new(),
            first => {
                let candidates: Vec<Vec<String>> = self
                    .files
                    .iter()
                    .filter_map(|f| Index::module_path(&f.path))
                    .filter(|m| m.last().is_some_and(|last| last == first))
                    .collect();
                match candidates.len() {
                    0 => return ModuleLookup::External,
                    1 => candidates.into_iter().next().unwrap_or_default(),
                    _ => return ModuleLookup::Ambiguous(candidates.iter().map(|m| m.join("::")).collect()),
                }
            }
        };
        let mut rest = &segments[1..];
        while let Some(next) = rest.first() {
            module.push(next.clone());
            if self.module(&module).is_none() {
                module.pop();
                break;
            }
            rest = &rest[1..];
        }
        match self.module(&module) {
            Some(file) => ModuleLookup::File(file, rest),
            None => ModuleLookup::External,
        }
    }

    /// Checks that `claim` has exactly one definition in `scope`; the problem otherwise.
    /// `None` also when the claim is not checked (an external path).
    fn check(&self, text: &str, claim: &Claim, scope: &[usize]) -> Option<String> {
        let (claim, scope): (Claim, Vec<usize>) = match claim {
            Claim::Path(segments) => match self.lookup(segments) {
                ModuleLookup::External => return None,
                ModuleLookup::Ambiguous(modules) => {
                    return Some(format!(
                        "`{text}`: ambiguous module: {}; write the path from `crate::`",
                        and_list(&modules)
                    ))
                }
                ModuleLookup::File(_, []) => return None,
                ModuleLookup::File(file, [name]) => {
                    let top_level: Vec<Def> = self
                        .definitions(&Claim::Any(name.clone()), &[file])
                        .into_iter()
                        .filter(|&(f, i)| self.files[f].items[i].parent.is_none())
                        .collect();
                    return self.verdict(text, &top_level, &[file], &Claim::Any(name.clone()));
                }
                ModuleLookup::File(file, [.., ty, name]) => {
                    (Claim::Member(ty.clone(), name.clone()), vec![file])
                }
            },
            other => (other.clone(), scope.to_vec()),
        };
        let defs = self.definitions(&claim, &scope);
        self.verdict(text, &defs, &scope, &claim)
    }

    fn verdict(&self, text: &str, defs: &[Def], scope: &[usize], claim: &Claim) -> Option<String> {
        if defs.len() == 1 {
            return None;
        }
        let at: Vec<String> = defs.iter().map(|&d| self.location(d)).collect();
        if !defs.is_empty() {
            let mut files: Vec<usize> = defs.iter().map(|&(f, _)| f).collect();
            files.dedup();
            return Some(ambiguous(text, &at, files.len() > 1));
        }
        let src = self.src();
        let whole_src = scope.len() == src.len() && scope.iter().all(|f| src.contains(f));
        if whole_src {
            return Some(no_such(text, "src/", &[]));
        }
        let place = or_list(&scope.iter().map(|&f| self.files[f].path.clone()).collect::<Vec<_>>());
        let elsewhere: Vec<String> =
            self.definitions(claim, &src).into_iter().map(|d| self.location(d)).collect();
        Some(no_such(text, &place, &elsewhere))
    }
}

/// The items of one file that `claim` names (for `Claim::Name`, only the types; see
/// [`Index::definitions`]).
fn file_definitions(file: &SourceFile, claim: &Claim) -> Vec<usize> {
    let parent = |it: &Item| it.parent.map(|p| &file.items[p]);
    let pred: Box<dyn Fn(&Item) -> bool> = match claim {
        Claim::Keyword(kind, name) => Box::new(move |it| it.kind == *kind && it.name == *name),
        Claim::Impl(of_trait, name) => {
            Box::new(move |it| it.kind == Kind::Impl && it.name == *name && it.of_trait == *of_trait)
        }
        Claim::Any(name) => {
            Box::new(move |it| !matches!(it.kind, Kind::Impl | Kind::Field) && it.name == *name)
        }
        Claim::Name(name) if name.contains(|c: char| c.is_ascii_lowercase()) => {
            Box::new(move |it| it.kind.is_type() && it.name == *name)
        }
        Claim::Name(name) => {
            Box::new(move |it| matches!(it.kind, Kind::Const | Kind::Static) && it.name == *name)
        }
        Claim::Variant(name) => Box::new(move |it| {
            it.kind == Kind::Field && it.name == *name && parent(it).is_some_and(|p| p.kind == Kind::Enum)
        }),
        Claim::Member(ty, name) => Box::new(move |it| {
            it.name == *name
                && matches!(it.kind, Kind::Fn | Kind::Const | Kind::Type | Kind::Static | Kind::Field)
                && parent(it).is_some_and(|p| {
                    p.name == *ty
                        && (p.kind == Kind::Impl
                            || matches!(p.kind, Kind::Struct | Kind::Enum | Kind::Union | Kind::Trait))
                })
        }),
        Claim::Path(_) => return Vec::new(),
    };
    let mut out: Vec<usize> = Vec::new();
    for (i, it) in file.items.iter().enumerate().filter(|(_, it)| pred(it)) {
        // Same name, kind and enclosing item: only `#[cfg]` alternatives can be that; one.
        let twin = |&j: &usize| {
            let other = &file.items[j];
            it.kind != Kind::Impl
                && other.kind == it.kind
                && other.name == it.name
                && other.parent == it.parent
        };
        if !out.iter().any(twin) {
            out.push(i);
        }
    }
    // A field loses to a method, const or type of the same name (a getter).
    if let Claim::Member(..) = claim {
        if out.iter().any(|&i| file.items[i].kind != Kind::Field) {
            out.retain(|&i| file.items[i].kind != Kind::Field);
        }
    }
    out
}

fn no_such(text: &str, place: &str, elsewhere: &[String]) -> String {
    let mut what = format!("`{text}`: no such item in {place}");
    if !elsewhere.is_empty() {
        what.push_str(&format!(" (defined in {})", and_list(elsewhere)));
    }
    what
}

fn ambiguous(text: &str, at: &[String], several_files: bool) -> String {
    let advice = if several_files { "cite the file" } else { "qualify it" };
    format!("`{text}`: ambiguous: defined in {}; {advice}", and_list(at))
}

fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn or_list(items: &[String]) -> String {
    match items {
        [init @ .., last] if !init.is_empty() => format!("{} or {last}", init.join(", ")),
        _ => and_list(items),
    }
}

// ---------------------------------------------------------------------------------------------
// Documents: sentences of backticked spans, and fenced blocks.

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

/// A fenced block: its lines (between the fences), each with its line number (1-based).
#[derive(Debug)]
struct Fence {
    body: Vec<(usize, String)>,
}

fn fences(text: &str) -> Vec<Fence> {
    let mut out = Vec::new();
    let mut current: Option<Fence> = None;
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            match current.take() {
                Some(fence) => out.push(fence),
                None => current = Some(Fence { body: Vec::new() }),
            }
        } else if let Some(fence) = current.as_mut() {
            fence.body.push((i + 1, line.to_string()));
        }
    }
    out.extend(current);
    out
}

/// What a backticked span in prose asks to be checked, if anything (rule 3).
fn claim(span: &str) -> Option<Claim> {
    let span = span.trim();
    if let Some((keyword, rest)) = span.split_once(' ') {
        if keyword == "impl" {
            return impl_claim(rest);
        }
        let name = rest.split(['(', '<', ' ', ':', ';']).next().unwrap_or("");
        let kind = Kind::of_keyword(keyword)?;
        return (is_ident(name) && !RUST_KEYWORDS.contains(&name))
            .then(|| Claim::Keyword(kind, name.to_string()));
    }
    // Drop a call's arguments and a type's generics.
    let base = span.split(['(', '<']).next().unwrap_or("");
    let segments: Vec<&str> = base.split("::").collect();
    if segments.iter().any(|s| !is_ident(s)) {
        return None;
    }
    let upper = |s: &str| s.starts_with(|c: char| c.is_ascii_uppercase());
    match segments.as_slice() {
        [name] if external(name) => None,
        [name] if upper(name) && name.contains(|c: char| c.is_ascii_lowercase()) => {
            Some(Claim::Name(name.to_string()))
        }
        [name] if name.contains('_') && !name.contains(|c: char| c.is_ascii_lowercase()) => {
            Some(Claim::Name(name.to_string()))
        }
        [_] => None,
        [first, ..] if !upper(first) => Some(Claim::Path(segments.iter().map(|s| s.to_string()).collect())),
        [.., ty, member] if upper(ty) => Some(Claim::Member(ty.to_string(), member.to_string())),
        _ => None,
    }
}

/// `impl Name` or `impl Trait for Name`.
fn impl_claim(rest: &str) -> Option<Claim> {
    let words: Vec<&str> = rest.split_whitespace().collect();
    match words.as_slice() {
        [name] if is_ident(name) => Some(Claim::Impl(None, name.to_string())),
        [tr, "for", name] if is_ident(tr) && is_ident(name) => {
            Some(Claim::Impl(Some(tr.to_string()), name.to_string()))
        }
        _ => None,
    }
}

/// The ITEM of a naming line (rule 2): the prose forms, plus a bare name of any case.
fn naming_claim(item: &str) -> Option<Claim> {
    if is_ident(item) && !RUST_KEYWORDS.contains(&item) {
        return Some(Claim::Any(item.to_string()));
    }
    match claim(item)? {
        Claim::Path(_) => None,
        Claim::Name(name) => Some(Claim::Any(name)),
        other => Some(other),
    }
}

/// A parsed naming line: the path, and the ITEM text if any.
#[derive(Debug, PartialEq)]
struct Naming<'a> {
    path: &'a str,
    item: Option<&'a str>,
}

/// Reads a naming line (rule 2), or `None` if the line is not one.
fn naming_line(line: &str) -> Option<Naming<'_>> {
    let t = line.trim();
    let rest = t.strip_prefix("// ").or_else(|| t.strip_prefix("# "))?.trim_start();
    if !PATH_PREFIXES.iter().any(|p| rest.starts_with(p)) {
        return None;
    }
    let end = rest.find([',', ' ', '—']).unwrap_or(rest.len());
    let (path, mut tail) = rest.split_at(end);
    tail = tail.trim_start();
    tail = tail.strip_prefix(',').or_else(|| tail.strip_prefix('—')).unwrap_or(tail).trim();
    // A trailing note in parentheses.
    if tail.ends_with(')') {
        if let Some(open) = tail.rfind(" (").or_else(|| tail.starts_with('(').then_some(0)) {
            tail = tail[..open].trim();
        }
    }
    Some(Naming { path, item: (!tail.is_empty()).then_some(tail) })
}

fn is_elision(line: &str) -> bool {
    matches!(line, "…" | "..." | "// …" | "// ...")
}

/// Matches excerpt lines against `source` lines `from..=to` (rule 2); one message per line
/// that fails, with its document line.
fn match_excerpt(
    excerpt: &[(usize, String)],
    source: &SourceFile,
    from: usize,
    to: usize,
    label: &str,
) -> Vec<(usize, String)> {
    let trimmed: Vec<&str> = source.lines.iter().map(|l| l.trim()).collect();
    let to = to.min(trimmed.len().saturating_sub(1));
    let mut problems = Vec::new();
    let mut next = from;
    let mut last_match: Option<usize> = None;
    for (doc_line, line) in excerpt {
        let want = line.trim();
        if want.is_empty() || is_elision(want) {
            continue;
        }
        if let Some(at) = (next..=to).find(|&j| trimmed[j] == want) {
            next = at + 1;
            last_match = Some(at);
            continue;
        }
        let what = if let Some(at) = (from..next.min(to + 1)).find(|&j| trimmed[j] == want) {
            format!(
                "excerpt of {label}: out of order: `{want}` is line {}, before line {} that the excerpt shows above it",
                at + 1,
                last_match.map_or(from, |m| m) + 1
            )
        } else if let Some(at) = trimmed.iter().position(|&t| t == want) {
            format!(
                "excerpt of {label}: `{want}` is line {} of {}, outside {label} (lines {}–{})",
                at + 1,
                source.path,
                from + 1,
                to + 1
            )
        } else {
            format!("excerpt of {label}: `{want}` is not in the code")
        };
        problems.push((*doc_line, what));
    }
    problems
}

// ---------------------------------------------------------------------------------------------
// The checks, one per rule; each takes a document's name and text.

fn is_checked_path(span: &str) -> bool {
    PATH_PREFIXES.iter().any(|p| span.starts_with(p)) && !span.contains(['*', ' ', '{'])
}

/// Rule 1. `exists` answers for a path relative to the repository root.
fn check_paths(doc: &str, text: &str, exists: &dyn Fn(&str) -> bool) -> Vec<Problem> {
    let mut out = Vec::new();
    for span in sentences(text).into_iter().flatten() {
        if is_checked_path(&span.text) && !exists(&span.text) {
            out.push(Problem {
                doc: doc.to_string(),
                line: span.line,
                what: format!("`{}` does not exist", span.text),
            });
        }
    }
    out
}

/// Rule 2. `read` gives the text of a file that is not in `index` (a non-Rust file).
fn check_excerpts(
    doc: &str,
    text: &str,
    index: &Index,
    read: &dyn Fn(&str) -> Option<String>,
) -> Vec<Problem> {
    let mut out = Vec::new();
    let problem = |line: usize, what: String| Problem { doc: doc.to_string(), line, what };
    for fence in fences(text) {
        let Some(((naming_at, first), excerpt)) = fence.body.split_first() else { continue };
        let Some(naming) = naming_line(first) else { continue };
        let owned;
        let source = match index.file(naming.path) {
            Some(f) => &index.files[f],
            None => match read(naming.path) {
                Some(text) => {
                    owned = parse_source(naming.path, &text);
                    &owned
                }
                None => {
                    out.push(problem(
                        *naming_at,
                        format!("excerpt names `{}`, which is not a file", naming.path),
                    ));
                    continue;
                }
            },
        };
        let (from, to, label) = match naming.item {
            None => (0, source.lines.len().saturating_sub(1), naming.path.to_string()),
            Some(item) => {
                let Some(claim) = naming_claim(item) else {
                    out.push(problem(
                        *naming_at,
                        format!("cannot read the item `{item}` of the naming line (rule 2)"),
                    ));
                    continue;
                };
                let defs = file_definitions(source, &claim);
                let at: Vec<String> =
                    defs.iter().map(|&i| format!("{}:{}", source.path, source.items[i].line + 1)).collect();
                let what = match defs.len() {
                    1 => None,
                    0 => Some(no_such(item, &source.path, &[])),
                    _ => Some(ambiguous(item, &at, false)),
                };
                if let Some(what) = what {
                    out.push(problem(*naming_at, format!("excerpt names {what}")));
                    continue;
                }
                let it = &source.items[defs[0]];
                (it.line, it.end, format!("{item} ({}:{})", source.path, it.line + 1))
            }
        };
        for (line, what) in match_excerpt(excerpt, source, from, to, &label) {
            out.push(problem(line, what));
        }
    }
    out
}

/// Rule 3.
fn check_items(doc: &str, text: &str, index: &Index) -> Vec<Problem> {
    let mut out = Vec::new();
    let src = index.src();
    for sentence in sentences(text) {
        let cited: Vec<usize> = sentence
            .iter()
            .filter(|s| s.text.ends_with(".rs") && is_checked_path(&s.text))
            .filter_map(|s| index.file(&s.text))
            .collect();
        let (mut scope, others): (Vec<usize>, Vec<usize>) = cited.into_iter().partition(|f| src.contains(f));
        if scope.is_empty() {
            scope = src.clone();
        }
        scope.extend(others);
        for span in &sentence {
            let Some(claim) = claim(&span.text) else { continue };
            if let Claim::Member(ty, _) = &claim {
                if external(ty) && !index.defines_type(ty) {
                    continue;
                }
            }
            if let Some(what) = index.check(&span.text, &claim, &scope) {
                out.push(Problem { doc: doc.to_string(), line: span.line, what });
            }
        }
    }
    out
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

/// Rule 4. `is_file` answers for a path relative to the repository root.
fn check_demos(
    doc: &str,
    text: &str,
    examples: &[(String, String)],
    is_file: &dyn Fn(&str) -> bool,
) -> Vec<Problem> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        for (at, _) in line.match_indices("cargo run --example ") {
            let rest = &line[at + "cargo run --example ".len()..];
            let name: String =
                rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect();
            let what = match examples.iter().find(|(n, _)| *n == name) {
                None => format!("no [[example]] named `{name}` in Cargo.toml"),
                Some((_, path)) if !is_file(path) => format!("example `{name}` points at missing `{path}`"),
                Some(_) => continue,
            };
            out.push(Problem { doc: doc.to_string(), line: i + 1, what });
        }
    }
    out
}

/// Every rule on one document, in line order.
fn check_document(
    doc: &str,
    text: &str,
    index: &Index,
    examples: &[(String, String)],
    exists: &dyn Fn(&str) -> bool,
    read: &dyn Fn(&str) -> Option<String>,
) -> Vec<Problem> {
    let mut out = check_paths(doc, text, exists);
    out.extend(check_excerpts(doc, text, index, read));
    out.extend(check_items(doc, text, index));
    out.extend(check_demos(doc, text, examples, exists));
    out.sort_by_key(|p| p.line);
    out
}

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

#[test]
fn the_book_matches_the_code() {
    let root = root();
    let index = Index::load(&root);
    let manifest = fs::read_to_string(root.join("Cargo.toml")).expect("Cargo.toml");
    let examples = examples(&manifest);
    let exists = |p: &str| root.join(p).exists();
    let read = |p: &str| fs::read_to_string(root.join(p)).ok();
    let mut problems = Vec::new();
    for (doc, text) in documents() {
        problems.extend(check_document(&doc, &text, &index, &examples, &exists, &read));
    }
    let list: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    assert!(
        problems.is_empty(),
        "{} broken references in the book (rules at the top of tests/docs_links.rs):\n{}\n",
        problems.len(),
        list.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// The checker checks itself: the rules above, on small inputs.

const FAKE_CONN: &str = r#"use std::io;

/// A connection; `fn fake` in a comment is not an item.
pub struct Connection {
    pub readable: bool,
    read_closed: bool,
}

impl Connection {
    pub fn fill(&mut self) -> io::Result<()> {
        let brace = "}"; let ch = '{';
        while self.readable && !self.read_closed {
            match self.read() {
                Ok(0) => self.read_closed = true,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    pub fn compact(&mut self) {}
}

pub const LINGER: u64 = 2;
"#;

const FAKE_TIMER: &str = "pub struct Timers {\n    heap: Vec<u8>,\n}\n\nimpl Timers {\n    pub fn fill(&self) {}\n    \
                          pub fn pop_due(&self) {}\n}\n\npub enum Mode {\n    Http,\n    Lingering { until: u8 },\n}\n";

fn fake_index() -> Index {
    Index::new(&[
        ("src/server/conn.rs", FAKE_CONN),
        ("src/server/timer.rs", FAKE_TIMER),
        ("src/server/mod.rs", "pub mod conn;\npub mod timer;\npub struct Server;\n"),
        ("src/lib.rs", "pub mod server;\npub fn spawn() {}\n"),
    ])
}

/// The messages of rules 2 and 3 for a fake chapter.
fn fake_check(doc: &str) -> Vec<String> {
    let index = fake_index();
    let mut problems = check_excerpts("fake.md", doc, &index, &|_| None);
    problems.extend(check_items("fake.md", doc, &index));
    problems.iter().map(|p| p.to_string()).collect()
}

fn excerpt(lines: &str) -> String {
    format!("Text.\n\n```rust\n// src/server/conn.rs, Connection::fill (abridged)\n{lines}```\n")
}

#[test]
fn checker_a_matching_excerpt_passes() {
    let doc = excerpt("while self.readable && !self.read_closed {\n    match self.read() {\n        Err(e) => return Err(e),\n");
    assert_eq!(fake_check(&doc), Vec::<String>::new());
    // Without an item, the whole file is searched.
    let whole = "```rust\n// src/server/conn.rs\npub struct Connection {\npub const LINGER: u64 = 2;\n```\n";
    assert_eq!(fake_check(whole), Vec::<String>::new());
}

#[test]
fn checker_a_changed_line_fails() {
    let doc = excerpt("while self.readable && !self.read_closed {\n    Err(e) => return Err(e)?,\n");
    assert_eq!(
        fake_check(&doc),
        ["fake.md:6: excerpt of Connection::fill (src/server/conn.rs:10): `Err(e) => return Err(e)?,` is not in the code"]
    );
    // A line of the file, but outside the named item, fails too.
    let doc = excerpt("pub fn compact(&mut self) {}\n");
    assert_eq!(
        fake_check(&doc),
        ["fake.md:5: excerpt of Connection::fill (src/server/conn.rs:10): `pub fn compact(&mut self) {}` is line 21 \
          of src/server/conn.rs, outside Connection::fill (src/server/conn.rs:10) (lines 10–19)"]
    );
}

#[test]
fn checker_out_of_order_lines_fail() {
    let doc = excerpt("Err(e) => return Err(e),\nOk(0) => self.read_closed = true,\n");
    assert_eq!(
        fake_check(&doc),
        ["fake.md:6: excerpt of Connection::fill (src/server/conn.rs:10): out of order: `Ok(0) => self.read_closed \
          = true,` is line 14, before line 15 that the excerpt shows above it"]
    );
}

#[test]
fn checker_elision_markers_are_skipped() {
    let doc =
        excerpt("pub fn fill(&mut self) -> io::Result<()> {\n    // …\n    …\n    // ...\n\n    Ok(())\n}\n");
    assert_eq!(fake_check(&doc), Vec::<String>::new());
    // A marker that is not the whole line is an ordinary line.
    let doc = excerpt("pub fn fill(&mut self) -> io::Result<()> { // …\n");
    assert_eq!(fake_check(&doc).len(), 1);
}

#[test]
fn checker_an_ambiguous_item_fails() {
    // `fn fill` is both `Connection::fill` and `Timers::fill`: anywhere, not only beside a path.
    assert_eq!(
        fake_check("Reading is `fn fill`.\n"),
        ["fake.md:1: `fn fill`: ambiguous: defined in src/server/conn.rs:10 and src/server/timer.rs:6; cite the file"]
    );
    // Citing the file resolves it; so does qualifying it.
    assert_eq!(fake_check("Reading is `fn fill` in `src/server/conn.rs`.\n"), Vec::<String>::new());
    assert_eq!(fake_check("Reading is `Timers::fill`.\n"), Vec::<String>::new());
    // In a naming line too.
    let doc = "```rust\n// src/server/timer.rs — fill\n```\n";
    assert!(fake_check(doc).is_empty());
    let doc = "```rust\n// src/server/conn.rs — Connection::nothing\n```\n";
    assert_eq!(
        fake_check(doc),
        ["fake.md:2: excerpt names `Connection::nothing`: no such item in src/server/conn.rs"]
    );
}

#[test]
fn checker_a_missing_item_fails() {
    assert_eq!(
        fake_check("The heap is `Timers::push` and `struct Heap` and `MAX_HEAD`.\n"),
        [
            "fake.md:1: `Timers::push`: no such item in src/",
            "fake.md:1: `struct Heap`: no such item in src/",
            "fake.md:1: `MAX_HEAD`: no such item in src/"
        ]
    );
    // Cited beside the wrong file: the message says where it is.
    assert_eq!(
        fake_check("`Timers::pop_due` in `src/server/conn.rs` pops.\n"),
        ["fake.md:1: `Timers::pop_due`: no such item in src/server/conn.rs (defined in src/server/timer.rs:7)"]
    );
}

#[test]
fn checker_resolves_kinds_members_and_modules() {
    let ok = [
        "`Connection::readable`",       // a field
        "`Mode::Lingering`",            // a variant
        "`Lingering`",                  // a bare variant, as no type has the name
        "`Connection::fill(cap)`",      // arguments ignored
        "`const LINGER`",               // a const
        "`impl Timers`",                // the inherent block
        "`Instant::now` and `Some(x)`", // external
        "`readable` and `GET`",         // bare lowercase, and all caps without an underscore: unchecked
        "`server::timer::Timers::pop_due`",
        "`timer::Timers`",
        "`pushlab::spawn`",
        "`std::mem::take` and `tokio::spawn`", // not our modules
        "`const fn`",
    ];
    for doc in ok {
        assert_eq!(fake_check(doc), Vec::<String>::new(), "{doc}");
    }
    assert_eq!(
        fake_check("`server::timer::Nope`"),
        ["fake.md:1: `server::timer::Nope`: no such item in src/server/timer.rs"]
    );
    // `Server` is an external name (the header), but `Server::missing` is ours to check.
    assert_eq!(
        fake_check("`Server` `Server::missing`"),
        ["fake.md:1: `Server::missing`: no such item in src/"]
    );
}

#[test]
fn checker_parses_sources_by_words_and_braces() {
    let file = parse_source("src/server/conn.rs", FAKE_CONN);
    let find = |kind: Kind, name: &str| file.items.iter().find(|it| it.kind == kind && it.name == name);
    let fill = find(Kind::Fn, "fill").expect("fn fill");
    assert_eq!((fill.line + 1, fill.end + 1), (10, 19), "braces in strings and chars do not count");
    assert!(find(Kind::Fn, "fake").is_none(), "comments are not code");
    assert_eq!(find(Kind::Const, "LINGER").map(|it| (it.line, it.end)), Some((23, 23)));
    assert!(find(Kind::Field, "read_closed").is_some());
    let imp = find(Kind::Impl, "Connection").expect("impl");
    assert_eq!(imp.of_trait, None);
    assert_eq!(
        impl_header("<'a, T: Into<u8>> fmt::Display for Slab<T> {"),
        Some((Some("Display".into()), "Slab".into()))
    );
    assert_eq!(code_only("let s = r#\"{\"#; // }\nx"), "let s = r#\" \"#;     \nx");
}

#[test]
fn checker_reads_naming_lines() {
    let n = |line| naming_line(line);
    assert_eq!(
        n("// src/hub.rs, Hub::publish"),
        Some(Naming { path: "src/hub.rs", item: Some("Hub::publish") })
    );
    assert_eq!(
        n("// src/hub.rs — struct Message"),
        Some(Naming { path: "src/hub.rs", item: Some("struct Message") })
    );
    assert_eq!(n("// src/x.rs — fn y (abridged)"), Some(Naming { path: "src/x.rs", item: Some("fn y") }));
    assert_eq!(n("// src/x.rs (abridged)"), Some(Naming { path: "src/x.rs", item: None }));
    assert_eq!(n("# .ci/autobahn/run.sh"), Some(Naming { path: ".ci/autobahn/run.sh", item: None }));
    assert_eq!(n("// what the client sends"), None);
    assert_eq!(naming_claim("deliver_fresh"), Some(Claim::Any("deliver_fresh".into())));
    assert_eq!(
        naming_claim("impl Display for Slab"),
        Some(Claim::Impl(Some("Display".into()), "Slab".into()))
    );
    assert_eq!(naming_claim("the loop"), None);
    let doc = "```rust\n// src/server/conn.rs, the loop\n```\n";
    assert_eq!(fake_check(doc), ["fake.md:2: cannot read the item `the loop` of the naming line (rule 2)"]);
    let doc = "```rust\n// src/server/gone.rs\n```\n";
    assert_eq!(fake_check(doc), ["fake.md:2: excerpt names `src/server/gone.rs`, which is not a file"]);
}

#[test]
fn checker_keeps_paths_sentences_and_demos() {
    assert_eq!(claim("Status::Complete(len)"), Some(Claim::Member("Status".into(), "Complete".into())));
    assert_eq!(claim("fn settle"), Some(Claim::Keyword(Kind::Fn, "settle".into())));
    assert_eq!(claim("Slab<T>"), Some(Claim::Name("Slab".into())));
    assert_eq!(claim("readable"), None);
    let doc = "The heap (`src/server/timer.rs`) pops with `Timers::pop_due`. Then `Other`.\n\n```\n`x`\n```\n- `A`\n";
    let s = sentences(doc);
    let texts: Vec<Vec<&str>> = s.iter().map(|s| s.iter().map(|x| x.text.as_str()).collect()).collect();
    assert_eq!(texts, vec![vec!["src/server/timer.rs", "Timers::pop_due"], vec!["Other"], vec!["A"]]);
    let paths = check_paths("fake.md", "See `src/a.rs`, `src/b.rs` and `src/*.rs`.\n", &|p| p == "src/a.rs");
    assert_eq!(
        paths.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
        ["fake.md:1: `src/b.rs` does not exist"]
    );
    let manifest =
        "[package]\nname = \"p\"\n[[example]]\nname = \"00_event_loop\"\npath = \"demos/00_event_loop.rs\"\n";
    let ex = examples(manifest);
    assert_eq!(ex, vec![("00_event_loop".to_string(), "demos/00_event_loop.rs".to_string())]);
    let demos = check_demos(
        "fake.md",
        "`cargo run --example 00_event_loop`, `cargo run --example nope`\n",
        &ex,
        &|_| true,
    );
    assert_eq!(
        demos.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
        ["fake.md:1: no [[example]] named `nope` in Cargo.toml"]
    );
}
