//! `Add(a, b, ...)`: `::sinew::layers::Add<Net_sum>`, a `Join` whose inputs all have the
//! output's size.

use super::{Call, Code, lit};
use crate::shape::{Layer, Model};
use proc_macro2::TokenStream;
use quote::quote;
use syn::Ident;

pub struct Add;

impl Code for Add {
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
