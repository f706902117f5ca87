//! Puts the memory map where cortex-m-rt's `link.x` looks for it: the lm3s6965's, or the
//! mps2's larger one for the `big` feature.

use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    // Not named `memory.x` in the package: the linker would find that one first, in its
    // working directory.
    let map = if env::var_os("CARGO_FEATURE_BIG").is_some() { "memory/mps2.x" } else { "memory/lm3s6965.x" };
    fs::copy(map, out.join("memory.x")).expect("memory map copied to OUT_DIR");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory");
    println!("cargo:rerun-if-changed=build.rs");
}
