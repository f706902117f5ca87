//! `Dense(n)`: `::sinew::layers::Dense<T, I, O>`, whose const generics are its sizes, so
//! it needs no shape type.

use super::{Code, Tensor, lit, scheme, weight_and_bias};
use crate::shape::{Activation, Kind, Layer, Model};
use proc_macro2::TokenStream;
use quote::quote;
use syn::Ident;

pub struct Dense;

impl Code for Dense {
    fn runtime_type(&self, layer: &Layer, _: &Ident) -> TokenStream {
        let Kind::Dense { inputs, outputs, .. } = layer.kind else { return TokenStream::new() };
        let (i, o) = (lit(inputs), lit(outputs));
        quote!(::sinew::layers::Dense<T, #i, #o>)
    }

    fn shape_impl(&self, _: &Layer, _: &Model, _: &Ident) -> Option<TokenStream> {
        None
    }

    fn struct_path(&self) -> TokenStream {
        quote!(::sinew::layers::Dense)
    }

    fn fields(&self) -> &'static [&'static str] {
        &["weight", "bias"]
    }

    /// `weight` `(out, in)` (stored column-major: nalgebra's `(O, I)`), `bias` `(out)`.
    fn tensors(&self, layer: &Layer) -> Vec<Tensor> {
        let Kind::Dense { inputs, outputs, bias } = layer.kind else { return Vec::new() };
        weight_and_bias(vec![outputs, inputs], true, bias.then_some(outputs))
    }

    fn init(&self, layer: &Layer, act: Activation) -> TokenStream {
        let (name, scheme) = (&layer.name, scheme(act));
        quote!(self.#name.init(#scheme, rng);)
    }

    fn stored(&self, layer: &Layer) -> u128 {
        let Kind::Dense { inputs, outputs, .. } = layer.kind else { return 0 };
        (outputs * inputs + outputs) as u128
    }
}
