//! `Add(a, b, ...)`: `::sinew::layers::Add<Net_sum>`, a `Join` whose inputs all have the
//! output's size.

use super::lit;
use crate::args::*;
use crate::ast::*;
use crate::model::*;
use crate::report::Errors;
use crate::symbol;
use proc_macro2::TokenStream;
use quote::quote;
use syn::Ident;

pub struct Add;

impl Code for Add {
    fn resolve(
        &self,
        decl: &LayerDecl,
        refs: &[Reference],
        prevs: Option<&[Prev]>,
        errors: &mut Errors,
    ) -> Option<Kind> {
        add(decl, refs, prevs, errors)
    }

    fn output(&self, _: &Kind, input: Shape) -> Shape {
        input
    }

    fn text(&self, layer: &Layer) -> String {
        format!("{}({})", symbol::ADD, layer.input_names.join(", "))
    }

    fn runtime_type(&self, _: &Layer, shape: &Ident) -> TokenStream {
        quote!(::sinew::layers::Add<#shape>)
    }

    fn shape_impl(&self, layer: &Layer, model: &Model, shape: &Ident) -> Option<TokenStream> {
        Some(parts(layer, model, shape))
    }

    fn call(&self) -> Call {
        Call::Join
    }
}

/// `impl JoinShape` with the inputs' sizes.
pub fn parts(layer: &Layer, model: &Model, shape: &Ident) -> TokenStream {
    let parts = layer.inputs.iter().map(|s| lit(model.shape_of(*s).len()));
    quote! {
        impl ::sinew::layers::JoinShape for #shape {
            const PARTS: &'static [usize] = &[#(#parts),*];
        }
    }
}

/// Rule: `Add(a, b, ..)` sums values of exactly one shape (a 1×1 `Conv2d` projection
/// makes channels or sizes agree, as in ResNet's downsampling shortcut).
fn add(decl: &LayerDecl, refs: &[Reference], prevs: Option<&[Prev]>, errors: &mut Errors) -> Option<Kind> {
    let prevs = prevs?;
    for prev in prevs {
        no_tokens(decl, symbol::ADD, prev, errors)?;
    }
    let first = &prevs[0];
    for (r, prev) in refs.iter().zip(prevs).skip(1) {
        if prev.shape != first.shape {
            let rule =
                "the shapes must be equal (a 1x1 `Conv2d` with `from = ...` can project one to the other)";
            cannot_join(errors, r, decl, "`Add` layer", "add", first, prev, rule);
            return None;
        }
    }
    Some(Kind::Add)
}
