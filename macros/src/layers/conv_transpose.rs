//! `ConvTranspose2d(co, kernel = .., ...)`: `::sinew::layers::ConvTranspose2d<T, Net_up>`,
//! with the adjoint convolution's window in a `ConvShape`.

use super::{Code, Tensor, batch, geometry, lit, matrix, scheme, weight_and_bias};
use crate::shape::{Activation, Kind, Layer, Model};
use proc_macro2::TokenStream;
use quote::quote;
use syn::Ident;

pub struct ConvTranspose2d;

impl Code for ConvTranspose2d {
    fn runtime_type(&self, _: &Layer, shape: &Ident) -> TokenStream {
        quote!(::sinew::layers::ConvTranspose2d<T, #shape>)
    }

    fn shape_impl(&self, layer: &Layer, _: &Model, shape: &Ident) -> Option<TokenStream> {
        let Kind::ConvTranspose2d { ci, co, geo, .. } = layer.kind else { return None };
        let g = geometry(&geo);
        let (ci_lit, co_lit) = (lit(ci), lit(co));
        let weight = matrix(geo.patch(), ci);
        let bias = matrix(co, 1);
        let columns = batch(geo.unfolded());
        Some(quote! {
            impl ::sinew::layers::ConvShape for #shape {
                const GEOMETRY: ::sinew::layers::Geometry = #g;
                const IN_CHANNELS: usize = #ci_lit;
                const OUT_CHANNELS: usize = #co_lit;
                type Weight<E: ::sinew::layers::Element> = #weight;
                type Bias<E: ::sinew::layers::Element> = #bias;
                type Columns<E: ::sinew::layers::Element, const B: usize> = #columns;
            }
        })
    }

    fn struct_path(&self) -> TokenStream {
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
