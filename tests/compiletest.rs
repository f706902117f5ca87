//! Compile-time checks of `network!`: every mistake gets a clear error at the offending
//! token (`tests/ui/<category>/*.rs` with the expected `.stderr` beside each), and valid
//! declarations compile (`tests/ui/pass`). Snapshots are tied to the toolchain pinned in
//! `rust-toolchain.toml`; regenerate with `TRYBUILD=overwrite` and review the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    for category in [
        "syntax",
        "input",
        "shape",
        "layer",
        "activation",
        "options",
        "loss",
        "multi",
        "conv",
        "weights",
        "memory",
        "train",
        "graph",
        "sequence",
    ] {
        t.compile_fail(format!("tests/ui/{category}/*.rs"));
    }
    t.pass("tests/ui/pass/*.rs");
}
