//! `Flatten`: no runtime layer. An image and its flattening are the same column of values,
//! so the generated code reads through it (it has no buffers and no statements).

use super::{Call, Code};
use crate::shape::{Layer, Model};
use proc_macro2::TokenStream;
use syn::Ident;

pub struct Flatten;

impl Code for Flatten {
    fn runtime_type(&self, _: &Layer, _: &Ident) -> TokenStream {
        TokenStream::new()
    }

    fn shape_impl(&self, _: &Layer, _: &Model, _: &Ident) -> Option<TokenStream> {
        None
    }

    fn call(&self) -> Call {
        Call::Identity
    }
}
