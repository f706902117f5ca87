//! `GlobalAvgPool`: `::sinew::layers::GlobalAvgPool<Net_pool>`; its shape type needs only
//! its sizes (positions per channel = `IN / OUT`).

use super::Code;
use crate::shape::{Layer, Model};
use proc_macro2::TokenStream;
use quote::quote;
use syn::Ident;

pub struct GlobalAvgPool;

impl Code for GlobalAvgPool {
    fn runtime_type(&self, _: &Layer, shape: &Ident) -> TokenStream {
        quote!(::sinew::layers::GlobalAvgPool<#shape>)
    }

    fn shape_impl(&self, _: &Layer, _: &Model, _: &Ident) -> Option<TokenStream> {
        Some(TokenStream::new())
    }
}
