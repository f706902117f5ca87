//! `BatchNorm(eps = .., momentum = ..)`: `::sinew::layers::BatchNorm<T, Net_n1>`, with its
//! channels and settings in a `BatchNormShape`.

use super::{Code, Role, Tensor, lit, matrix};
use crate::shape::{Activation, Kind, Layer, Model};
use proc_macro2::{Literal, TokenStream};
use quote::quote;
use syn::Ident;

pub struct BatchNorm;

impl Code for BatchNorm {
    fn runtime_type(&self, _: &Layer, shape: &Ident) -> TokenStream {
        quote!(::sinew::layers::BatchNorm<T, #shape>)
    }

    fn shape_impl(&self, layer: &Layer, _: &Model, shape: &Ident) -> Option<TokenStream> {
        let Kind::BatchNorm { channels, spatial, eps, momentum } = layer.kind else { return None };
        let (c, s) = (lit(channels), lit(spatial));
        let (eps, momentum) = (Literal::f64_suffixed(eps), Literal::f64_suffixed(momentum));
        let per_channel = matrix(channels, 1);
        Some(quote! {
            impl ::sinew::layers::BatchNormShape for #shape {
                const CHANNELS: usize = #c;
                const SPATIAL: usize = #s;
                const EPS: f64 = #eps;
                const MOMENTUM: f64 = #momentum;
                type Channels<E: ::sinew::layers::Element> = #per_channel;
            }
        })
    }

    fn struct_path(&self) -> TokenStream {
        quote!(::sinew::layers::BatchNorm)
    }

    fn fields(&self) -> &'static [&'static str] {
        &["weight", "bias", "running_mean", "running_var"]
    }

    /// γ and β (trained, never decayed: the role of a bias), and the running statistics.
    fn tensors(&self, layer: &Layer) -> Vec<Tensor> {
        let Kind::BatchNorm { channels, .. } = layer.kind else { return Vec::new() };
        vec![
            Tensor::new("weight", vec![channels], Role::Bias, false),
            Tensor::new("bias", vec![channels], Role::Bias, false),
            Tensor::new("running_mean", vec![channels], Role::Buffer, false),
            Tensor::new("running_var", vec![channels], Role::Buffer, false),
        ]
    }

    fn init(&self, layer: &Layer, _: Activation) -> TokenStream {
        let name = &layer.name;
        quote!(self.#name.init();)
    }

    fn stored(&self, layer: &Layer) -> u128 {
        let Kind::BatchNorm { channels, .. } = layer.kind else { return 0 };
        4 * channels as u128
    }

    /// Output, gradient, the normalised input, and `1/σ̂` per channel.
    fn training_values(&self, layer: &Layer, b: u128) -> u128 {
        let Kind::BatchNorm { channels, .. } = layer.kind else { return 0 };
        3 * layer.output.len() as u128 * b + channels as u128
    }
}
