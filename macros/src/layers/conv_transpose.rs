//! `ConvTranspose2d(co, kernel = .., ...)`: `::sinew::layers::ConvTranspose2d<T, Net_up>`,
//! with the adjoint convolution's window in a `ConvShape`.

use super::{Tensor, scheme, weight_and_bias};
use crate::args::*;
use crate::ast::*;
use crate::model::*;
use crate::report::Errors;
use crate::symbol;
use proc_macro2::TokenStream;
use quote::quote;
use syn::Ident;

pub struct ConvTranspose2d;

impl Code for ConvTranspose2d {
    fn resolve(
        &self,
        decl: &LayerDecl,
        _: &[Reference],
        prevs: Option<&[Prev]>,
        errors: &mut Errors,
    ) -> Option<Kind> {
        conv_transpose2d(decl, prevs.and_then(|p| p.first()), errors)
    }

    fn output(&self, kind: &Kind, input: Shape) -> Shape {
        let Kind::ConvTranspose2d { co, geo, .. } = *kind else { return input };
        Shape::Image { c: co, h: geo.h, w: geo.w }
    }

    fn text(&self, layer: &Layer) -> String {
        let Kind::ConvTranspose2d { ci, co, geo, bias } = layer.kind else { return String::new() };
        format!("{}({ci} => {co}, {}{})", symbol::CONV_TRANSPOSE2D, window_text(&geo, (1, 1)), no_bias(bias))
    }

    fn parameters(&self, layer: &Layer) -> usize {
        let Kind::ConvTranspose2d { ci, co, geo, bias } = layer.kind else { return 0 };
        ci * co * geo.kh * geo.kw + if bias { co } else { 0 }
    }

    fn runtime_type(&self, _: &Layer, shape: &Ident) -> TokenStream {
        quote!(::sinew::layers::ConvTranspose2d<T, #shape>)
    }

    fn shape_impl(&self, layer: &Layer, _: &Model, shape: &Ident) -> Option<TokenStream> {
        let Kind::ConvTranspose2d { ci, co, geo, .. } = layer.kind else { return None };
        Some(super::conv::conv_shape(shape, &geo, ci, co, ci))
    }

    fn struct_path(&self, _layer: &Layer) -> TokenStream {
        quote!(::sinew::layers::ConvTranspose2d)
    }

    fn fields(&self) -> &'static [&'static str] {
        &["weight", "bias"]
    }

    /// `weight` `(ci, co, kh, kw)`, `bias` `(co)`.
    fn tensors(&self, layer: &Layer) -> Vec<Tensor> {
        let Kind::ConvTranspose2d { ci, co, geo, bias } = layer.kind else { return Vec::new() };
        weight_and_bias(vec![ci, co, geo.kh, geo.kw], false, bias.then_some(co))
    }

    fn init(&self, layer: &Layer, act: Activation) -> TokenStream {
        let (name, scheme) = (&layer.name, scheme(act));
        quote!(self.#name.init(#scheme, rng);)
    }

    fn stored(&self, layer: &Layer) -> u128 {
        let Kind::ConvTranspose2d { ci, co, geo, .. } = layer.kind else { return 0 };
        (geo.patch() * ci + co) as u128
    }

    /// The output and one sample's unfolding.
    fn inference_values(&self, layer: &Layer, b: u128) -> u128 {
        let Kind::ConvTranspose2d { geo, .. } = layer.kind else { return 0 };
        layer.output.len() as u128 * b + geo.unfolded() as u128
    }

    /// Output, gradient and one scratch unfolding.
    fn training_values(&self, layer: &Layer, b: u128) -> u128 {
        let Kind::ConvTranspose2d { geo, .. } = layer.kind else { return 0 };
        2 * layer.output.len() as u128 * b + geo.unfolded() as u128
    }
}

/// Rule: `ConvTranspose2d(out_channels, kernel, stride, padding)` on an image; the output
/// `(n − 1) s − 2p + k` is positive on both axes.
fn conv_transpose2d(decl: &LayerDecl, prev: Option<&Prev>, errors: &mut Errors) -> Option<Kind> {
    let opts = options(
        decl,
        symbol::CONV_TRANSPOSE2D,
        &[symbol::KERNEL, symbol::STRIDE, symbol::PADDING, symbol::BIAS],
        errors,
    );
    let co = out_channels(decl, symbol::CONV_TRANSPOSE2D, &opts, errors);
    let bias = bias_option(decl, &opts, errors);
    let spec = window_spec(decl, &opts, opts.named.get(symbol::KERNEL).copied(), Some((1, 1)), false, errors);
    let (ci, hi, wi) = image_input(decl, symbol::CONV_TRANSPOSE2D, prev?, errors)?;
    let spec = spec?;
    let kernel_value = spec.kernel_value;
    let (co, (kh, kw), (sh, sw), (ph, pw)) = (co?, spec.kernel, spec.stride, spec.padding);
    if !opts.valid {
        return None;
    }
    let (Some(h), Some(w)) = (conv_transpose_output(hi, kh, sh, ph), conv_transpose_output(wi, kw, sw, pw))
    else {
        errors.error(
            kernel_value,
            format!(
                "layer `{}`: on its input {} the output size (n - 1) x stride - 2 x padding + kernel is not positive; reduce the padding",
                decl.path,
                Shape::Image { c: ci, h: hi, w: wi }.text()
            ),
        );
        return None;
    };
    let geo = Geo { c: co, h, w, kh, kw, sh, sw, ph, pw, ho: hi, wo: wi };
    if !tensors_fit(decl, &[("unfold", geo.unfolded()), ("have", geo.patch().saturating_mul(ci))], errors) {
        return None;
    }
    Some(Kind::ConvTranspose2d { ci, co, geo, bias: bias? })
}
