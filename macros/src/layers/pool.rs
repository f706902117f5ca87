//! `MaxPool2d(..)` and `AvgPool2d(..)`: `::sinew::layers::MaxPool2d<Net_p1>`, with the
//! window in a `WindowShape`.

use super::geometry;
use crate::args::*;
use crate::ast::*;
use crate::model::*;
use crate::report::Errors;
use crate::symbol;
use proc_macro2::TokenStream;
use quote::quote;
use syn::Ident;

pub struct MaxPool2d;
pub struct AvgPool2d;

/// `impl WindowShape`.
fn window(layer: &Layer, shape: &Ident) -> Option<TokenStream> {
    let (Kind::MaxPool { geo } | Kind::AvgPool { geo }) = layer.kind else { return None };
    let g = geometry(&geo);
    Some(quote! {
        impl ::sinew::layers::WindowShape for #shape {
            const GEOMETRY: ::sinew::layers::Geometry = #g;
        }
    })
}

impl Code for MaxPool2d {
    fn resolve(
        &self,
        decl: &LayerDecl,
        _: &[Reference],
        prevs: Option<&[Prev]>,
        errors: &mut Errors,
    ) -> Option<Kind> {
        pool(decl, symbol::MAX_POOL2D, prevs.and_then(|p| p.first()), errors)
    }

    fn output(&self, kind: &Kind, input: Shape) -> Shape {
        let (Kind::MaxPool { geo } | Kind::AvgPool { geo }) = *kind else { return input };
        Shape::Image { c: geo.c, h: geo.ho, w: geo.wo }
    }

    fn text(&self, layer: &Layer) -> String {
        let (Kind::MaxPool { geo } | Kind::AvgPool { geo }) = layer.kind else { return String::new() };
        format!("{}({})", symbol::MAX_POOL2D, window_text(&geo, (geo.kh, geo.kw)))
    }

    fn runtime_type(&self, _: &Layer, shape: &Ident) -> TokenStream {
        quote!(::sinew::layers::MaxPool2d<#shape>)
    }

    fn shape_impl(&self, layer: &Layer, _: &Model, shape: &Ident) -> Option<TokenStream> {
        window(layer, shape)
    }

    /// Output, gradient and the winning positions.
    fn training_values(&self, layer: &Layer, b: u128) -> u128 {
        3 * layer.output.len() as u128 * b
    }
}

impl Code for AvgPool2d {
    fn resolve(
        &self,
        decl: &LayerDecl,
        _: &[Reference],
        prevs: Option<&[Prev]>,
        errors: &mut Errors,
    ) -> Option<Kind> {
        pool(decl, symbol::AVG_POOL2D, prevs.and_then(|p| p.first()), errors)
    }

    fn output(&self, kind: &Kind, input: Shape) -> Shape {
        let (Kind::MaxPool { geo } | Kind::AvgPool { geo }) = *kind else { return input };
        Shape::Image { c: geo.c, h: geo.ho, w: geo.wo }
    }

    fn text(&self, layer: &Layer) -> String {
        let (Kind::MaxPool { geo } | Kind::AvgPool { geo }) = layer.kind else { return String::new() };
        format!("{}({})", symbol::AVG_POOL2D, window_text(&geo, (geo.kh, geo.kw)))
    }

    fn runtime_type(&self, _: &Layer, shape: &Ident) -> TokenStream {
        quote!(::sinew::layers::AvgPool2d<#shape>)
    }

    fn shape_impl(&self, layer: &Layer, _: &Model, shape: &Ident) -> Option<TokenStream> {
        window(layer, shape)
    }
}

/// Rule: `MaxPool2d(k)` / `AvgPool2d(k)` (or `kernel = k`), `stride` defaulting to the
/// kernel, `padding` at most half the kernel (PyTorch's rule), on an image.
fn pool(decl: &LayerDecl, kind: &str, prev: Option<&Prev>, errors: &mut Errors) -> Option<Kind> {
    let opts = options(decl, kind, &[symbol::KERNEL, symbol::STRIDE, symbol::PADDING], errors);
    let kernel = match (opts.positional.as_slice(), opts.named.get(symbol::KERNEL)) {
        ([k], None) => Some(*k),
        ([], Some(k)) => Some(*k),
        ([], None) => None,
        _ => {
            errors.error(
                &decl.kind,
                format!(
                    "`{kind}` layer `{}` takes its kernel once: `{kind}(2)` or `{kind}(kernel = 2)`",
                    decl.path
                ),
            );
            return None;
        }
    };
    let spec = window_spec(decl, &opts, kernel, None, false, errors);
    if let Some(spec) = &spec
        && (2 * spec.padding.0 > spec.kernel.0 || 2 * spec.padding.1 > spec.kernel.1)
    {
        let padding = opts.named.get(symbol::PADDING).copied();
        let (kh, kw) = spec.kernel;
        errors.error(
            padding,
            format!("layer `{}`: padding must be at most half the {kh} x {kw} kernel, or a window could hold only padding", decl.path),
        );
        return None;
    }
    let input = image_input(decl, kind, prev?, errors)?;
    let geo = fit_window(decl, input, &spec?, errors)?;
    if !opts.valid {
        return None;
    }
    Some(if kind == symbol::MAX_POOL2D { Kind::MaxPool { geo } } else { Kind::AvgPool { geo } })
}
