//! Parameter consts, the named-tensor visitor and initialisation.

use super::{Names, lit};
use crate::shape::{Activation, Kind, Model};
use proc_macro2::TokenStream;
use quote::quote;

/// `INPUT`, `OUTPUT`, `PARAMETERS`, `SUMMARY`.
pub fn consts(model: &Model) -> TokenStream {
    let inputs = lit(model.input.len());
    let outputs = lit(model.output().len());
    let parameters: usize = model.layers.iter().map(|l| parameter_count(l.kind)).sum();
    let parameters = lit(parameters);
    let summary = summary(model);
    quote! {
        /// Input features per sample.
        pub const INPUT: usize = #inputs;
        /// Outputs per sample.
        pub const OUTPUT: usize = #outputs;
        /// Trainable values (weights and biases).
        pub const PARAMETERS: usize = #parameters;
        /// A table of the layers, their output sizes and parameter counts.
        pub const SUMMARY: &'static str = #summary;
    }
}

fn parameter_count(kind: Kind) -> usize {
    match kind {
        Kind::Dense { inputs, outputs } => inputs * outputs + outputs,
        Kind::Dropout { .. } => 0,
    }
}

fn summary(model: &Model) -> String {
    let mut rows = vec![(String::from("input"), model.input.len().to_string(), String::from("0"))];
    for layer in &model.layers {
        let decl = layer.text();
        rows.push((decl, layer.output.len().to_string(), parameter_count(layer.kind).to_string()));
    }
    let total: usize = model.layers.iter().map(|l| parameter_count(l.kind)).sum();
    let w0 = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(5);
    let w1 = rows.iter().map(|r| r.1.len()).max().unwrap_or(0).max(6);
    let mut out = format!("{:<w0$}  {:>w1$}  {}\n", "layer", "output", "parameters");
    for (a, b, c) in rows {
        out.push_str(&format!("{a:<w0$}  {b:>w1$}  {c}\n"));
    }
    out.push_str(&format!("total parameters: {total}"));
    out
}

/// `impl Parameters`: PyTorch `state_dict` names and shapes.
pub fn parameters_impl(model: &Model, names: &Names) -> TokenStream {
    let net = &names.net;
    let mut infos = Vec::new();
    let mut getters = Vec::new();
    let mut setters = Vec::new();
    let mut index = 0usize;
    for layer in &model.layers {
        let name = &layer.name;
        if let Kind::Dense { inputs, outputs } = layer.kind {
            let (i, o) = (lit(inputs), lit(outputs));
            let weight = format!("{name}.weight");
            let bias = format!("{name}.bias");
            infos.push(
                quote!(::sinew::TensorInfo { name: #weight, shape: &[#o, #i], role: ::sinew::Role::Weight }),
            );
            infos.push(quote!(::sinew::TensorInfo { name: #bias, shape: &[#o], role: ::sinew::Role::Bias }));
            let (iw, ib) = (lit(index), lit(index + 1));
            getters.push(quote!(#iw => self.#name.weight.as_slice(),));
            getters.push(quote!(#ib => self.#name.bias.as_slice(),));
            setters.push(quote!(#iw => self.#name.weight.as_mut_slice(),));
            setters.push(quote!(#ib => self.#name.bias.as_mut_slice(),));
            index += 2;
        }
    }
    let count = index;
    let message = format!("`{net}` has {count} tensors; index {{}} is out of range");
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

/// `init` and `init_in_place`: He before the ReLU family, Xavier otherwise, zero biases.
pub fn init(model: &Model) -> TokenStream {
    let steps = model.layers.iter().filter(|l| l.has_params()).map(|layer| {
        let name = &layer.name;
        let scheme = match layer.activation {
            Activation::Relu => quote!(::sinew::init::Init::He { negative_slope: 0.0 }),
            Activation::LeakyRelu(s) => {
                let s = proc_macro2::Literal::f64_suffixed(s);
                quote!(::sinew::init::Init::He { negative_slope: #s })
            }
            _ => quote!(::sinew::init::Init::Xavier),
        };
        quote!(self.#name.init(#scheme, rng);)
    });
    quote! {
        /// A freshly initialised network: He (Kaiming) normal weights before `Relu` and
        /// `LeakyRelu`, Xavier (Glorot) normal weights otherwise, zero biases. The same
        /// generator state gives the same network, bit for bit.
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
            #(#steps)*
        }
    }
}
