//! `Dropout(keep = ..)`: `::sinew::layers::Dropout<Net_d1>`, with `keep` in a
//! `DropoutShape`. The identity at inference: it has no inference buffers.

use crate::args::*;
use crate::ast::*;
use crate::model::*;
use crate::report::Errors;
use crate::symbol;
use proc_macro2::{Literal, TokenStream};
use quote::quote;
use syn::Ident;

pub struct Dropout;

impl Code for Dropout {
    fn resolve(
        &self,
        decl: &LayerDecl,
        _: &[Reference],
        prevs: Option<&[Prev]>,
        errors: &mut Errors,
    ) -> Option<Kind> {
        dropout(decl, prevs.and_then(|p| p.first()), errors)
    }

    fn output(&self, _: &Kind, input: Shape) -> Shape {
        input
    }

    fn text(&self, layer: &Layer) -> String {
        let Kind::Dropout { keep } = layer.kind else { return String::new() };
        format!("{}({} = {keep:?})", symbol::DROPOUT, symbol::KEEP)
    }

    fn takes_activation(&self) -> bool {
        false
    }

    fn computes_at_inference(&self) -> bool {
        false
    }

    fn runtime_type(&self, _: &Layer, shape: &Ident) -> TokenStream {
        quote!(::sinew::layers::Dropout<#shape>)
    }

    fn shape_impl(&self, layer: &Layer, _: &Model, shape: &Ident) -> Option<TokenStream> {
        let Kind::Dropout { keep } = layer.kind else { return None };
        let keep = Literal::f64_suffixed(keep);
        Some(quote! {
            impl ::sinew::layers::DropoutShape for #shape {
                const KEEP: f64 = #keep;
            }
        })
    }

    /// Output, gradient and mask.
    fn training_values(&self, layer: &Layer, b: u128) -> u128 {
        3 * layer.output.len() as u128 * b
    }
}

/// Rule: `Dropout(keep = p)` with `0 < p <= 1`, and no activation.
fn dropout(decl: &LayerDecl, prev: Option<&Prev>, errors: &mut Errors) -> Option<Kind> {
    let name = &decl.name;
    let usage = format!(
        "write `{name}: Dropout(keep = 0.8)`: `keep` is the probability of keeping a unit (PyTorch's `p` is `1 - keep`)"
    );
    let mut keep = None;
    let mut seen = false;
    let list = decl.args.as_ref().map_or(&[][..], |a: &Args| &a.list);
    for arg in list {
        match arg {
            Arg::Named { name: option, .. } if option == symbol::FROM => {}
            Arg::Named { name: option, value } if option == symbol::KEEP => {
                seen = true;
                keep = match number(value) {
                    Some(p) if p > 0.0 && p <= 1.0 => Some(p),
                    Some(_) => {
                        errors.error(
                            value,
                            format!(
                                "`keep` of dropout layer `{name}` must be in (0, 1], found `{}`; it is the probability of keeping a unit (PyTorch's `p` is `1 - keep`)",
                                value.text()
                            ),
                        );
                        None
                    }
                    None => {
                        errors.error(
                            value,
                            format!(
                                "`keep` of dropout layer `{name}` must be a number in (0, 1], found `{}`",
                                value.text()
                            ),
                        );
                        None
                    }
                };
            }
            Arg::Named { name: option, .. } => {
                errors.error(
                    option,
                    symbol::unknown(
                        "option",
                        &option.to_string(),
                        &format!(" for `Dropout` layer `{name}`"),
                        &[symbol::KEEP],
                    ),
                );
            }
            other => {
                errors.error(arg_tokens(other), format!("`Dropout` takes its probability by name; {usage}"));
            }
        }
    }
    if !seen {
        if list.is_empty() {
            errors.error(&decl.kind, format!("`Dropout` layer `{name}` needs `keep`; {usage}"));
        }
        return None;
    }
    no_activation(decl, "dropout", errors)?;
    no_tokens(decl, symbol::DROPOUT, prev?, errors)?;
    keep.map(|keep| Kind::Dropout { keep })
}
