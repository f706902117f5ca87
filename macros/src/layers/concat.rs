//! `Concat(a, b, ...)`: `::sinew::layers::Concat<Net_both>`, a `Join` that stacks its
//! inputs in order.

use crate::args::*;
use crate::ast::*;
use crate::model::*;
use crate::report::Errors;
use crate::symbol;
use proc_macro2::TokenStream;
use quote::quote;
use syn::Ident;

pub struct Concat;

impl Code for Concat {
    fn resolve(
        &self,
        decl: &LayerDecl,
        refs: &[Reference],
        prevs: Option<&[Prev]>,
        errors: &mut Errors,
    ) -> Option<Kind> {
        concat(decl, refs, prevs, errors)
    }

    fn output(&self, kind: &Kind, input: Shape) -> Shape {
        let Kind::Concat { output } = *kind else { return input };
        output
    }

    fn text(&self, layer: &Layer) -> String {
        format!("{}({})", symbol::CONCAT, layer.input_names.join(", "))
    }

    fn runtime_type(&self, _: &Layer, shape: &Ident) -> TokenStream {
        quote!(::sinew::layers::Concat<#shape>)
    }

    fn shape_impl(&self, layer: &Layer, model: &Model, shape: &Ident) -> Option<TokenStream> {
        Some(super::add::parts(layer, model, shape))
    }

    fn call(&self) -> Call {
        Call::Join
    }
}

/// Rule: `Concat(a, b, ..)` stacks images of one height and width along their channels, or
/// feature vectors along their features; an image and a vector do not mix (flatten the
/// image first).
fn concat(decl: &LayerDecl, refs: &[Reference], prevs: Option<&[Prev]>, errors: &mut Errors) -> Option<Kind> {
    let prevs = prevs?;
    for prev in prevs {
        no_tokens(decl, symbol::CONCAT, prev, errors)?;
    }
    let first = &prevs[0];
    let mut output = first.shape;
    for (r, prev) in refs.iter().zip(prevs).skip(1) {
        let joined = match (output, prev.shape) {
            (Shape::Flat(a), Shape::Flat(b)) => Some(Shape::Flat(a + b)),
            (Shape::Image { c, h, w }, Shape::Image { c: c2, h: h2, w: w2 }) if (h, w) == (h2, w2) => {
                Some(Shape::Image { c: c + c2, h, w })
            }
            _ => None,
        };
        let Some(joined) = joined else {
            let rule = match (first.shape, prev.shape) {
                (Shape::Image { .. }, Shape::Image { .. }) => {
                    "images are joined along their channels, so their height and width must be equal (pad, pool or crop one of them)"
                }
                (Shape::Sequence { .. }, _) | (_, Shape::Sequence { .. }) => {
                    "`Concat` joins images and vectors; sequences cannot be joined (read their last steps with `steps = last` and join those)"
                }
                _ => "an image and a vector cannot be joined; `Flatten` the image first",
            };
            cannot_join(errors, r, decl, "`Concat` layer", "join", first, prev, rule);
            return None;
        };
        output = joined;
    }
    Some(Kind::Concat { output })
}
