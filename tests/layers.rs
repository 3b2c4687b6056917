//! The map in `src/lib.rs` is a rule, not a picture: a layer uses only the layers listed
//! above it, and only `server/` names `mio`. This test reads every file under `src/` and
//! fails on any `crate::…` path (or `mio::`) that crosses the map the wrong way.
//!
//! Comments and test code (`#[cfg(test)]` modules, `*_tests.rs` files) are not read: a doc
//! comment may point anywhere, and a test may use an upper layer to state what it checks.

use std::fs;
use std::path::{Path, PathBuf};

/// The layers bottom-up, as `src/lib.rs` lists them; each may use those before it. Layers
/// on one row (`config`, `stats`) are peers that may not use each other.
const LAYERS: &[&[&str]] = &[
    &["limits"],
    &["wire"],
    &["outq"],
    &["http"],
    &["hub"],
    &["redis"],
    &["transport"],
    &["config", "stats"],
    &["service"],
    &["server"],
    &["app"],
];

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|row| row.contains(&module))
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("src/ is readable").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file: comments removed, and nothing from the first `#[cfg(test)]` on.
fn code(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        let line = match line.find("//") {
            // A `//` inside a string literal (a URL) is rare in src/ and would only hide code.
            Some(at) => &line[..at],
            None => line,
        };
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Every `crate::name` in `code`.
fn uses(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        found.push(name);
    }
    found
}

#[test]
fn every_layer_uses_only_the_layers_below_it() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    files(&root, &mut paths);
    paths.sort();
    let mut broken = Vec::new();
    for path in &paths {
        let relative = path.strip_prefix(&root).expect("under src/");
        let name = relative.to_string_lossy();
        if name.ends_with("_tests.rs") || name == "lib.rs" || name == "main.rs" {
            continue;
        }
        let module = name.split(['/', '.']).next().expect("a file name");
        let Some(own) = rank(module) else {
            broken.push(format!("src/{name}: module `{module}` is not on the map in src/lib.rs"));
            continue;
        };
        let code = code(&fs::read_to_string(path).expect("readable"));
        for used in uses(&code) {
            match rank(&used) {
                Some(r) if used == module || r < own => {}
                Some(_) => {
                    broken.push(format!("src/{name}: `{module}` uses `crate::{used}`, which is above it"))
                }
                None => broken.push(format!("src/{name}: `crate::{used}` is not on the map")),
            }
        }
        if module != "server" && (code.contains("mio::") || code.contains("use mio")) {
            broken.push(format!("src/{name}: names `mio` outside server/"));
        }
    }
    assert!(paths.len() > 30, "found only {} files under src/", paths.len());
    assert!(broken.is_empty(), "the map in src/lib.rs is broken:\n{}", broken.join("\n"));
}

#[test]
fn the_checker_sees_an_upward_use() {
    let code = code("use crate::wire::json;\n// crate::server in a comment\nfn f() { crate::server::run() }\n#[cfg(test)]\nuse crate::app;");
    assert_eq!(uses(&code), ["wire", "server"]);
    assert!(rank("server") > rank("wire"));
}

#[test]
fn every_file_in_src_is_under_600_lines() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    files(&root, &mut paths);
    let long: Vec<String> = paths
        .iter()
        .filter_map(|p| {
            let lines = fs::read_to_string(p).ok()?.lines().count();
            (lines >= 600).then(|| format!("{}: {lines} lines", p.display()))
        })
        .collect();
    assert!(long.is_empty(), "STYLE.md: a file a reader finishes in one sitting:\n{}", long.join("\n"));
}
