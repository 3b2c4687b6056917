//! The load tool's binary: everything is in `mod.rs` and its files, callable from tests.
#[path = "mod.rs"]
mod load;

fn main() {
    load::main();
}
