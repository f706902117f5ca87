//! Parameter consts, the named-tensor visitor and initialisation.

use super::{Names, layers, lit};
use crate::shape::Model;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// `INPUT`, `OUTPUT`, `PARAMETERS`, `SUMMARY`.
pub fn consts(model: &Model) -> TokenStream {
    let inputs = lit(model.input.len());
    let outputs = lit(model.output().len());
    let parameters = lit(model.layers.iter().map(|l| l.parameter_count()).sum());
    let summary = summary(model);
    quote! {
        /// Input values per sample.
        pub const INPUT: usize = #inputs;
        /// Output values per sample.
        pub const OUTPUT: usize = #outputs;
        /// Trainable values (weights, biases, batch-norm scales and shifts).
        pub const PARAMETERS: usize = #parameters;
        /// A table of the layers, their output shapes and parameter counts.
        pub const SUMMARY: &'static str = #summary;
    }
}

fn summary(model: &Model) -> String {
    let mut rows = vec![(String::from("input"), model.input.text(), String::from("0"))];
    for layer in &model.layers {
        rows.push((layer.text(), layer.output.text(), layer.parameter_count().to_string()));
    }
    let total: usize = model.layers.iter().map(|l| l.parameter_count()).sum();
    let w0 = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(5);
    let w1 = rows.iter().map(|r| r.1.len()).max().unwrap_or(0).max(6);
    let mut out = format!("{:<w0$}  {:>w1$}  {}\n", "layer", "output", "parameters");
    for (a, b, c) in rows {
        out.push_str(&format!("{a:<w0$}  {b:>w1$}  {c}\n"));
    }
    out.push_str(&format!("total parameters: {total}"));
    out
}

/// `impl Parameters`: PyTorch `state_dict` names, shapes and layouts.
pub fn parameters_impl(model: &Model, names: &Names) -> TokenStream {
    let net = &names.net;
    let mut infos = Vec::new();
    let mut getters = Vec::new();
    let mut setters = Vec::new();
    for layer in &model.layers {
        let name = &layer.name;
        for t in layers::tensors(layer) {
            let full = format!("{name}.{}", t.suffix);
            let shape = t.shape.iter().map(|&d| lit(d));
            let (role, layout) = (&t.role, &t.layout);
            infos.push(quote!(::sinew::TensorInfo { name: #full, shape: &[#(#shape),*], role: #role, layout: #layout }));
            let index = lit(getters.len());
            let field = format_ident!("{}", t.field);
            getters.push(quote!(#index => self.#name.#field.as_slice(),));
            setters.push(quote!(#index => self.#name.#field.as_mut_slice(),));
        }
    }
    let message = format!("`{net}` has {} tensors; index {{}} is out of range", getters.len());
    quote! {
        impl<T: ::sinew::Float> ::sinew::Parameters<T> for #net<T> {
            const TENSORS: &'static [::sinew::TensorInfo] = &[#(#infos),*];

            fn tensor(&self, index: usize) -> &[T] {
                match index {
                    #(#getters)*
                    _ => ::core::panic!(#message, index),
                }
            }

            fn tensor_mut(&mut self, index: usize) -> &mut [T] {
                match index {
                    #(#setters)*
                    _ => ::core::panic!(#message, index),
                }
            }
        }
    }
}

/// `init` and `init_in_place`: He before the ReLU family, Xavier otherwise, zero biases,
/// batch norm at γ = 1, β = 0.
pub fn init(model: &Model) -> TokenStream {
    let steps =
        (0..model.layers.len()).filter(|&i| model.layers[i].has_params()).map(|i| layers::init(model, i));
    quote! {
        /// A freshly initialised network: He (Kaiming) normal weights before `Relu` and
        /// `LeakyRelu`, Xavier (Glorot) normal weights otherwise, zero biases, batch norm
        /// at γ = 1, β = 0 with running statistics 0 and 1. The same generator state gives
        /// the same network, bit for bit.
        ///
        /// Built by value; for large networks use `boxed_init`, which never puts the
        /// network on the stack.
        pub fn init<R: ::sinew::__private::Rng + ?Sized>(rng: &mut R) -> Self {
            let mut net = Self::zeroed();
            net.init_in_place(rng);
            net
        }

        /// Re-initialises every layer in place (see [`init`](Self::init)).
        pub fn init_in_place<R: ::sinew::__private::Rng + ?Sized>(&mut self, rng: &mut R) {
            let _ = &rng;
            #(#steps)*
        }
    }
}
