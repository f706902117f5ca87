//! `Flatten`: no runtime layer. An image and its flattening are the same column of values,
//! so the generated code reads through it (it has no buffers and no statements).

use crate::args::*;
use crate::ast::*;
use crate::model::*;
use crate::report::Errors;
use crate::symbol;
use proc_macro2::TokenStream;
use syn::Ident;

pub struct Flatten;

impl Code for Flatten {
    fn resolve(
        &self,
        decl: &LayerDecl,
        _: &[Reference],
        prevs: Option<&[Prev]>,
        errors: &mut Errors,
    ) -> Option<Kind> {
        flatten(decl, prevs.and_then(|p| p.first()), errors)
    }

    fn output(&self, _: &Kind, input: Shape) -> Shape {
        Shape::Flat(input.len())
    }

    fn text(&self, _: &Layer) -> String {
        symbol::FLATTEN.into()
    }

    fn takes_activation(&self) -> bool {
        false
    }

    fn runtime_type(&self, _: &Layer, _: &Ident) -> TokenStream {
        TokenStream::new()
    }

    fn shape_impl(&self, _: &Layer, _: &Model, _: &Ident) -> Option<TokenStream> {
        None
    }

    fn call(&self) -> Call {
        Call::Identity
    }
}

/// Rule: `Flatten` turns an image into its `C·H·W` features, in place; on a flat input it
/// would do nothing.
fn flatten(decl: &LayerDecl, prev: Option<&Prev>, errors: &mut Errors) -> Option<Kind> {
    let opts = options(decl, symbol::FLATTEN, &[], errors);
    if let Some(v) = opts.positional.first() {
        errors.error(*v, format!("`Flatten` layer `{}` takes no arguments", decl.path));
        return None;
    }
    no_activation(decl, "flatten", errors)?;
    let prev = prev?;
    no_tokens(decl, symbol::FLATTEN, prev, errors)?;
    if !opts.valid {
        return None;
    }
    if let flat @ Shape::Flat(_) = prev.shape {
        errors.error(
            &decl.kind,
            format!(
                "`Flatten` layer `{}` has nothing to do: {}; remove it",
                decl.path,
                prev.producer.produces(flat)
            ),
        );
        return None;
    }
    Some(Kind::Flatten)
}
