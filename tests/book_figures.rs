//! Chapter 06's cost tables and `docs/img/costs.svg` are made from `docs/data/costs.txt` by
//! `cargo run --example chart` (`demos/common/figures.rs`); these tests fail when the committed
//! chapter or chart no longer match the data file, so the picture cannot lag the numbers.

use std::path::Path;

#[path = "../demos/common/figures.rs"]
mod figures;

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn costs() -> figures::Costs {
    figures::parse(&read(figures::DATA)).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn chapter_06_tables_are_the_data_files() {
    let chapter = read(figures::CHAPTER);
    let expected = figures::with_tables(&chapter, &costs()).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        chapter == expected,
        "{} no longer shows the figures of {}: run `cargo run --example chart`",
        figures::CHAPTER,
        figures::DATA
    );
}

#[test]
fn the_chart_is_drawn_from_the_data_file() {
    assert!(
        read(figures::SVG) == figures::svg(&costs()),
        "{} is not the chart of {}: run `cargo run --example chart`",
        figures::SVG,
        figures::DATA
    );
}

#[test]
fn the_chart_changes_when_the_numbers_do() {
    let mut costs = costs();
    let before = figures::svg(&costs);
    costs.idle[0].received += 1000;
    let after = figures::svg(&costs);
    assert_ne!(before, after);
    assert!(after.contains(&format!("{} B", figures::group(costs.idle[0].received + costs.idle[0].sent))));
}

#[test]
fn the_data_format() {
    let row = "per-message | x | label = X | requests = 1.5 | to-client = 1234 | from-client = 0";
    let idle = "idle | x | label = X | requests = 2 | received = 10 | sent = 6 | bytes = {total} in {per-request}s | source = s";
    let costs = figures::parse(&format!("# a comment\n\n{row}\n{idle}\n")).unwrap();
    assert_eq!(figures::per_message_table(&costs).lines().nth(2), Some("| X | 1.5 | 1 234 | 0 |"));
    assert_eq!(costs.idle[0].bytes_cell(), "16 in 8s");
    for bad in [
        format!("{row} | colour = red\n{idle}"),
        format!("{}\n{idle}", row.replace("1234", "12.5")),
        format!("{}\n{idle}", row.replace("1.5", "many")),
        format!("{row}\n{}", idle.replace("idle", "busy")),
        row.to_string(),
    ] {
        assert!(figures::parse(&bad).is_err(), "accepted: {bad}");
    }
    assert_eq!(
        (figures::group(7), figures::group(3120), figures::group(1_234_567)),
        ("7".into(), "3 120".into(), "1 234 567".into())
    );
}
