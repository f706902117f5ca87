//! `Concat(a, b, ...)`: `::sinew::layers::Concat<Net_both>`, a `Join` that stacks its
//! inputs in order.

use super::{Call, Code};
use crate::shape::{Layer, Model};
use proc_macro2::TokenStream;
use quote::quote;
use syn::Ident;

pub struct Concat;

impl Code for Concat {
    fn runtime_type(&self, _: &Layer, shape: &Ident) -> TokenStream {
        quote!(::sinew::layers::Concat<#shape>)
    }

    fn shape_impl(&self, layer: &Layer, model: &Model, shape: &Ident) -> Option<TokenStream> {
        Some(super::add::parts(layer, model, shape))
    }

    fn call(&self) -> Call {
        Call::Join
    }
}
