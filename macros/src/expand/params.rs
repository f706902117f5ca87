//! Parameter consts, the named-tensor visitor and initialisation.

use super::{Names, lit};
use crate::layers;
use crate::model::{Layer, Model};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::Ident;

/// `INPUT`, `OUTPUT`, `PARAMETERS`, `SUMMARY`.
pub fn consts(model: &Model) -> TokenStream {
    let inputs = lit(model.input.len());
    let outputs = lit(model.output().len());
    let parameters = lit(model.layers.iter().map(|l| l.parameter_count()).sum());
    let trainable = lit(model.layers.iter().filter(|l| !l.frozen).map(|l| l.parameter_count()).sum());
    let summary = summary(model);
    quote! {
        /// Input values per sample.
        pub const INPUT: usize = #inputs;
        /// Output values per sample.
        pub const OUTPUT: usize = #outputs;
        /// Trainable values (weights, biases, batch-norm scales and shifts).
        pub const PARAMETERS: usize = #parameters;
        /// Values that are trained: [`PARAMETERS`](Self::PARAMETERS) minus the frozen layers'.
        pub const TRAINABLE_PARAMETERS: usize = #trainable;
        /// A table of the layers, their output shapes and parameter counts.
        pub const SUMMARY: &'static str = #summary;

        /// Bytes of the network value: every weight, bias and buffer (what sits in flash
        /// when the weights are embedded).
        pub const PARAMETER_BYTES: usize = ::core::mem::size_of::<Self>();
        /// Bytes of one gradient copy (the `grads` of a training workspace), of the trained
        /// layers only: frozen layers have none.
        pub const GRADIENT_BYTES: usize = ::core::mem::size_of::<<Self as ::sinew::Trainable<T>>::Grads>();
        /// Bytes of optimizer state for [`Sgd`](::sinew::optim::Sgd): none.
        pub const SGD_STATE_BYTES: usize = 0;
        /// Bytes of optimizer state for [`Momentum`](::sinew::optim::Momentum): one
        /// velocity per trained value.
        pub const MOMENTUM_STATE_BYTES: usize = Self::GRADIENT_BYTES;
        /// Bytes of optimizer state for [`RmsProp`](::sinew::optim::RmsProp): one running
        /// mean square per trained value.
        pub const RMSPROP_STATE_BYTES: usize = Self::GRADIENT_BYTES;
        /// Bytes of optimizer state for [`Adam`](::sinew::optim::Adam): two moments per
        /// trained value (the optimizer value adds its few bytes of settings).
        pub const ADAM_STATE_BYTES: usize = 2 * Self::GRADIENT_BYTES;
    }
}

fn summary(model: &Model) -> String {
    let mut rows = vec![(String::from("input"), model.input.text(), String::from("0"))];
    for layer in &model.layers {
        let count = layer.parameter_count().to_string();
        let count = if layer.frozen { format!("{count} (frozen)") } else { count };
        rows.push((layer.text(), layer.output.text(), count));
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

/// The match arms `i => self.layer.field.as_slice()` (or `as_mut_slice()`) of every
/// tensor of `layers`, in order.
fn tensor_arms(layers: &[&Layer], mutable: bool) -> Vec<TokenStream> {
    let tensors =
        layers.iter().flat_map(|layer| layer.code.tensors(layer).into_iter().map(move |t| (&layer.name, t)));
    tensors
        .enumerate()
        .map(|(i, (name, t))| {
            let (index, field) = (lit(i), format_ident!("{}", t.field));
            if mutable {
                quote!(#index => self.#name.#field.as_mut_slice(),)
            } else {
                quote!(#index => self.#name.#field.as_slice(),)
            }
        })
        .collect()
}

/// `impl Parameters for #ty` over `layers`: PyTorch `state_dict` names, shapes and layouts.
pub fn parameters_impl(layers: &[&Layer], ty: &Ident) -> TokenStream {
    let mut infos = Vec::new();
    for layer in layers {
        for t in layer.code.tensors(layer) {
            let full = format!("{}.{}", layer.path, t.suffix);
            let shape = t.shape.iter().map(|&d| lit(d));
            let (role, layout) = (&t.role, &t.layout);
            infos.push(quote!(::sinew::TensorInfo { name: #full, shape: &[#(#shape),*], role: #role, layout: #layout }));
        }
    }
    let getters = tensor_arms(layers, false);
    let setters = tensor_arms(layers, true);
    let message = format!("`{ty}` has {} tensors; index {{}} is out of range", getters.len());
    quote! {
        impl<T: ::sinew::Float> ::sinew::Parameters<T> for #ty<T> {
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

/// The gradient type and `impl Trainable`. Without frozen layers the gradients are a value
/// of the network's own type; with them, a generated `NameGrads` holding only the trained
/// layers, so that frozen layers cost no gradient or optimizer memory.
pub fn trainable(model: &Model, names: &Names) -> (TokenStream, TokenStream) {
    let Names { net, grads, .. } = names;
    if !model.has_frozen() {
        let items = quote! {
            impl<T: ::sinew::Float> ::sinew::Trainable<T> for #net<T> {
                type Grads = Self;

                fn trainable_mut(&mut self, index: usize) -> &mut [T] {
                    ::sinew::Parameters::tensor_mut(self, index)
                }
            }
        };
        return (items, quote!(#net<T>));
    }
    let vis = &model.net.vis;
    let trained: Vec<&Layer> = model.layers.iter().filter(|l| l.trained()).collect();
    let fields = trained.iter().map(|layer| {
        let name = &layer.name;
        let ty = layers::runtime_type(model, layer);
        let doc = format!(" Gradient (or optimizer state) of `{name}`.");
        quote!(#[doc = #doc] pub #name: #ty,)
    });
    // With every layer frozen the type holds nothing, but must still use `T`.
    let marker = trained.is_empty().then(|| {
        quote! {
            /// Every layer is frozen: there is nothing to hold.
            pub _frozen: ::core::marker::PhantomData<T>,
        }
    });
    let frozen: Vec<String> =
        model.layers.iter().filter(|l| l.frozen).map(|l| format!("`{}`", l.name)).collect();
    let doc = format!(
        " Gradients and optimizer state of [`{net}`]: its trained layers only ({} frozen, so never updated and given no gradient or optimizer memory).",
        frozen.join(", ")
    );
    let zeroable = super::zeroable_attrs();
    let parameters = parameters_impl(&trained, grads);
    // The gradient type has the trained layers' fields under the same names, so its
    // `tensor_mut` arms, read on the network, are `trainable_mut`.
    let setters = tensor_arms(&trained, true);
    let message = format!("`{grads}` has {} tensors; index {{}} is out of range", setters.len());
    let items = quote! {
        #[doc = #doc]
        #[derive(Clone, Debug, PartialEq, ::sinew::__private::Zeroable)]
        #zeroable
        #vis struct #grads<T: ::sinew::Float = f32> {
            #(#fields)*
            #marker
        }

        #parameters

        impl<T: ::sinew::Float> ::sinew::Trainable<T> for #net<T> {
            type Grads = #grads<T>;

            fn trainable_mut(&mut self, index: usize) -> &mut [T] {
                match index {
                    #(#setters)*
                    _ => ::core::panic!(#message, index),
                }
            }
        }
    };
    (items, quote!(#grads<T>))
}

/// `init` and `init_in_place`: He before the ReLU family, Xavier otherwise, zero biases,
/// batch norm at γ = 1, β = 0.
pub fn init(model: &Model) -> TokenStream {
    let steps =
        (0..model.layers.len()).filter(|&i| model.layers[i].has_params()).map(|i| init_layer(model, i));
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

/// The statement initialising a layer with parameters, for the activation its output goes
/// through: its own, or that of a batch norm right after it that reads it.
fn init_layer(model: &Model, index: usize) -> TokenStream {
    use crate::model::{Activation, Kind, Source};
    let layer = &model.layers[index];
    let act = match (layer.activation, model.layers.get(index + 1)) {
        (Activation::Identity, Some(next))
            if matches!(next.kind, Kind::BatchNorm { .. }) && next.inputs == [Source::Layer(index)] =>
        {
            next.activation
        }
        (own, _) => own,
    };
    layer.code.init(layer, act)
}
