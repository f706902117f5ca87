//! `MaxPool2d(..)` and `AvgPool2d(..)`: `::sinew::layers::MaxPool2d<Net_p1>`, with the
//! window in a `WindowShape`.

use super::{Code, geometry};
use crate::shape::{Kind, Layer, Model};
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
    fn runtime_type(&self, _: &Layer, shape: &Ident) -> TokenStream {
        quote!(::sinew::layers::AvgPool2d<#shape>)
    }

    fn shape_impl(&self, layer: &Layer, _: &Model, shape: &Ident) -> Option<TokenStream> {
        window(layer, shape)
    }
}
