//! `Dropout(keep = ..)`: `::sinew::layers::Dropout<Net_d1>`, with `keep` in a
//! `DropoutShape`. The identity at inference: it has no inference buffers.

use super::Code;
use crate::shape::{Kind, Layer, Model};
use proc_macro2::{Literal, TokenStream};
use quote::quote;
use syn::Ident;

pub struct Dropout;

impl Code for Dropout {
    fn runtime_type(&self, _: &Layer, shape: &Ident) -> TokenStream {
        quote!(::sinew::layers::Dropout<#shape>)
    }

    fn shape_impl(&self, layer: &Layer, _: &Model, shape: &Ident) -> Option<TokenStream> {
        let Kind::Dropout { keep } = layer.kind else { return None };
        let keep = Literal::f64_suffixed(keep);
        Some(quote! {
            impl ::sinew::layers::DropoutShape for #shape {
                const KEEP: f64 = #keep;
            }
        })
    }

    /// Output, gradient and mask.
    fn training_values(&self, layer: &Layer, b: u128) -> u128 {
        3 * layer.output.len() as u128 * b
    }
}
