//! The `network!` macro of sinew. See the `sinew` crate for its documentation.
//!
//! Stages, one per module: `parse` (tokens → `ast`), `check` (rules that need the whole
//! declaration), `shape` (layer kinds, options and sizes, inferred layer by layer),
//! `expand` (code generation). Errors are accumulated in `report::Errors` and all
//! reported together; if there are any, `fallback` emits them with a stub of the network
//! so that user code does not cascade into more errors.

mod ast;
mod check;
mod expand;
mod fallback;
mod parse;
mod report;
mod shape;
mod symbol;
#[cfg(test)]
mod tests;

use proc_macro::TokenStream;

/// Declares a neural network; see the `sinew` crate.
#[proc_macro]
pub fn network(input: TokenStream) -> TokenStream {
    expand::network(input.into()).into()
}
