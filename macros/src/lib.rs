//! The `network!` macro of sinew. See the `sinew` crate for its documentation.
//!
//! Stages, one per module: `parse` (tokens → `ast`), `blocks` (constants and blocks
//! inlined), `check` (rules that need the whole declaration), `shape` (each layer resolved
//! against the values it reads, with `graph`), `memory` (`#[budget]`), `expand` (code
//! generation). Below the stages: `model` (the vocabulary they share, and the `Code` trait
//! of a layer kind), `args` (reading arguments), and `layers/`, one file per layer kind.
//! Errors are accumulated in `report::Errors` and all reported together; if there are any,
//! `fallback` emits them with a stub of the network so that user code does not cascade into
//! more errors.

mod args;
mod ast;
mod blocks;
mod check;
mod embed;
mod expand;
mod fallback;
mod graph;
mod layers;
mod memory;
mod model;
mod parse;
mod report;
mod shape;
mod symbol;
#[cfg(test)]
mod tests;

use proc_macro::TokenStream;

/// Declares a neural network: a plain struct of statically shaped matrices with generated
/// `forward`, `forward_train`, `backward` and `train_step`, every shape checked when the
/// macro expands. The syntax, the rules and examples are in the `sinew` crate's
/// documentation; `sinew::example::Mlp` shows everything one declaration generates.
///
/// # Debug builds
///
/// The generated code calls the kernels of `sinew-runtime`, and the runtime's generic layers
/// are compiled in the crate that declares the network. In a debug build both are unoptimised
/// and training is about 100× slower than in release (a LeNet-style CNN: 12.9 s against
/// 0.12 s). In `Cargo.toml`:
///
/// ```toml
/// [profile.dev.package."*"]
/// opt-level = 3      # dependencies: 0.94 s
///
/// [profile.dev]
/// opt-level = 1      # your crate too: 0.22 s
/// ```
#[proc_macro]
pub fn network(input: TokenStream) -> TokenStream {
    // `#[weights("file")]` is relative to the invoking source file, as `include_bytes!`;
    // without one (e.g. in an IDE's expansion), to the package.
    let base = proc_macro::Span::call_site()
        .local_file()
        .and_then(|file| file.parent().map(std::path::Path::to_path_buf))
        .or_else(|| std::env::var_os("CARGO_MANIFEST_DIR").map(std::path::PathBuf::from));
    expand::network(input.into(), base.as_deref()).into()
}
