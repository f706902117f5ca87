//! `Conv2d(co, kernel = .., ...)`: `::sinew::layers::Conv2d<T, Net_c1>`, with its window,
//! kernels and unfoldings in a `ConvShape`.

use super::{Tensor, batch, geometry, lit, matrix, scheme, weight_and_bias};
use crate::args::*;
use crate::ast::*;
use crate::model::*;
use crate::report::Errors;
use crate::symbol;
use proc_macro2::TokenStream;
use quote::quote;
use syn::Ident;

pub struct Conv2d;

impl Code for Conv2d {
    fn resolve(
        &self,
        decl: &LayerDecl,
        _: &[Reference],
        prevs: Option<&[Prev]>,
        errors: &mut Errors,
    ) -> Option<Kind> {
        conv2d(decl, prevs.and_then(|p| p.first()), errors)
    }

    fn output(&self, kind: &Kind, input: Shape) -> Shape {
        let Kind::Conv2d { co, geo, .. } = *kind else { return input };
        Shape::Image { c: co, h: geo.ho, w: geo.wo }
    }

    fn text(&self, layer: &Layer) -> String {
        let Kind::Conv2d { co, geo, bias } = layer.kind else { return String::new() };
        format!("{}({} => {co}, {}{})", symbol::CONV2D, geo.c, window_text(&geo, (1, 1)), no_bias(bias))
    }

    fn parameters(&self, layer: &Layer) -> usize {
        let Kind::Conv2d { co, geo, bias } = layer.kind else { return 0 };
        geo.patch() * co + if bias { co } else { 0 }
    }

    fn runtime_type(&self, _: &Layer, shape: &Ident) -> TokenStream {
        quote!(::sinew::layers::Conv2d<T, #shape>)
    }

    fn shape_impl(&self, layer: &Layer, _: &Model, shape: &Ident) -> Option<TokenStream> {
        let Kind::Conv2d { co, geo, .. } = layer.kind else { return None };
        Some(conv_shape(shape, &geo, geo.c, co, co))
    }

    fn struct_path(&self, _layer: &Layer) -> TokenStream {
        quote!(::sinew::layers::Conv2d)
    }

    fn fields(&self) -> &'static [&'static str] {
        &["weight", "bias"]
    }

    /// `weight` `(co, ci, kh, kw)`, `bias` `(co)`.
    fn tensors(&self, layer: &Layer) -> Vec<Tensor> {
        let Kind::Conv2d { co, geo, bias } = layer.kind else { return Vec::new() };
        weight_and_bias(vec![co, geo.c, geo.kh, geo.kw], false, bias.then_some(co))
    }

    fn init(&self, layer: &Layer, act: Activation) -> TokenStream {
        let (name, scheme) = (&layer.name, scheme(act));
        quote!(self.#name.init(#scheme, rng);)
    }

    fn stored(&self, layer: &Layer) -> u128 {
        let Kind::Conv2d { co, geo, .. } = layer.kind else { return 0 };
        (geo.patch() * co + co) as u128
    }

    /// The output and one sample's unfolding.
    fn inference_values(&self, layer: &Layer, b: u128) -> u128 {
        let Kind::Conv2d { geo, .. } = layer.kind else { return 0 };
        layer.output.len() as u128 * b + geo.unfolded() as u128
    }

    /// Output, gradient, every sample's unfolding and one scratch unfolding.
    fn training_values(&self, layer: &Layer, b: u128) -> u128 {
        let Kind::Conv2d { geo, .. } = layer.kind else { return 0 };
        let cols = geo.unfolded() as u128;
        2 * layer.output.len() as u128 * b + cols * b + cols
    }
}

/// Rule: `Conv2d(out_channels, kernel = k | (kh, kw), stride = s | (sh, sw), padding =
/// p | (ph, pw))` on an image; the kernel fits the padded input; sizes positive.
fn conv2d(decl: &LayerDecl, prev: Option<&Prev>, errors: &mut Errors) -> Option<Kind> {
    let opts = options(
        decl,
        symbol::CONV2D,
        &[symbol::KERNEL, symbol::STRIDE, symbol::PADDING, symbol::BIAS],
        errors,
    );
    let co = out_channels(decl, symbol::CONV2D, &opts, errors);
    let bias = bias_option(decl, &opts, errors);
    let spec = window_spec(decl, &opts, opts.named.get(symbol::KERNEL).copied(), Some((1, 1)), true, errors);
    let input = image_input(decl, symbol::CONV2D, prev?, errors)?;
    let geo = fit_window(decl, input, &spec?, errors)?;
    let co = co?;
    if !opts.valid {
        return None;
    }
    if !tensors_fit(decl, &[("unfold", geo.unfolded()), ("have", geo.patch().saturating_mul(co))], errors) {
        return None;
    }
    Some(Kind::Conv2d { co, geo, bias: bias? })
}

/// `impl ConvShape` for a convolution (the weight `(K, CO)`) or a transposed one (the
/// adjoint's geometry, the weight `(K, CI)`): `weight_cols` is the weight's columns.
pub fn conv_shape(shape: &Ident, geo: &Geo, ci: usize, co: usize, weight_cols: usize) -> TokenStream {
    let g = geometry(geo);
    let (ci, co_lit) = (lit(ci), lit(co));
    let weight = matrix(geo.patch(), weight_cols);
    let bias = matrix(co, 1);
    let columns = batch(geo.unfolded());
    quote! {
        impl ::sinew::layers::ConvShape for #shape {
            const GEOMETRY: ::sinew::layers::Geometry = #g;
            const IN_CHANNELS: usize = #ci;
            const OUT_CHANNELS: usize = #co_lit;
            type Weight<E: ::sinew::layers::Element> = #weight;
            type Bias<E: ::sinew::layers::Element> = #bias;
            type Columns<E: ::sinew::layers::Element, const B: usize> = #columns;
        }
    }
}
