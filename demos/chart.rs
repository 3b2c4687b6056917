//! Chapter 06's cost tables and their chart, made from the measured figures:
//!
//! ```text
//! cargo run --example chart
//! ```
//!
//! reads `docs/data/costs.txt`, writes the tables "Requests and bytes per message" and "What
//! an idle client costs" into `docs/06-choosing.md` (between their `<!-- costs:… -->`
//! markers) and draws `docs/img/costs.svg` from the same numbers. So after a bench run,
//! change the numbers in the data file and run this; `tests/book_figures.rs` fails until the
//! chapter and the SVG agree with the data file again. The work is `demos/common/figures.rs`.

use std::path::Path;
use std::process::ExitCode;

#[path = "common/figures.rs"]
mod figures;

fn main() -> ExitCode {
    match run(Path::new(env!("CARGO_MANIFEST_DIR"))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chart: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(root: &Path) -> Result<(), String> {
    let read = |path: &str| std::fs::read_to_string(root.join(path)).map_err(|e| format!("{path}: {e}"));
    let costs = figures::parse(&read(figures::DATA)?)?;
    let chapter = read(figures::CHAPTER)?;
    let updated = figures::with_tables(&chapter, &costs)?;
    for (path, text, before) in [
        (figures::CHAPTER, updated, Some(chapter)),
        (figures::SVG, figures::svg(&costs), std::fs::read_to_string(root.join(figures::SVG)).ok()),
    ] {
        if before.as_deref() == Some(text.as_str()) {
            println!("{path}: up to date");
            continue;
        }
        let full = root.join(path);
        if let Some(dir) = full.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        std::fs::write(&full, text).map_err(|e| format!("{path}: {e}"))?;
        println!("{path}: written");
    }
    Ok(())
}
