//! `GlobalAvgPool`: `::sinew::layers::GlobalAvgPool<Net_pool>`; its shape type needs only
//! its sizes (positions per channel = `IN / OUT`).

use crate::args::*;
use crate::ast::*;
use crate::model::*;
use crate::report::Errors;
use crate::symbol;
use proc_macro2::TokenStream;
use quote::quote;
use syn::Ident;

pub struct GlobalAvgPool;

impl Code for GlobalAvgPool {
    fn resolve(
        &self,
        decl: &LayerDecl,
        _: &[Reference],
        prevs: Option<&[Prev]>,
        errors: &mut Errors,
    ) -> Option<Kind> {
        global_avg_pool(decl, prevs.and_then(|p| p.first()), errors)
    }

    fn output(&self, kind: &Kind, input: Shape) -> Shape {
        let Kind::GlobalAvgPool { channels, .. } = *kind else { return input };
        Shape::Flat(channels)
    }

    fn text(&self, _: &Layer) -> String {
        symbol::GLOBAL_AVG_POOL.into()
    }

    fn runtime_type(&self, _: &Layer, shape: &Ident) -> TokenStream {
        quote!(::sinew::layers::GlobalAvgPool<#shape>)
    }

    fn shape_impl(&self, _: &Layer, _: &Model, _: &Ident) -> Option<TokenStream> {
        Some(TokenStream::new())
    }
}

/// Rule: `GlobalAvgPool` takes the mean of each channel of an image over its height and
/// width (PyTorch's `AdaptiveAvgPool2d(1)` then `flatten`), giving one feature per
/// channel; it takes no arguments and no activation.
fn global_avg_pool(decl: &LayerDecl, prev: Option<&Prev>, errors: &mut Errors) -> Option<Kind> {
    let opts = options(decl, symbol::GLOBAL_AVG_POOL, &[], errors);
    if let Some(v) = opts.positional.first() {
        errors.error(
            *v,
            format!("`GlobalAvgPool` layer `{}` takes no arguments: it averages every channel over the whole image", decl.path),
        );
        return None;
    }
    no_activation(decl, "global average pooling", errors)?;
    let (c, h, w) = image_input(decl, symbol::GLOBAL_AVG_POOL, prev?, errors)?;
    if !opts.valid {
        return None;
    }
    Some(Kind::GlobalAvgPool { channels: c, spatial: h * w })
}
