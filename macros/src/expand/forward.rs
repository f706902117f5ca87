//! The inference and training forward passes.

use super::{Names, activation_value, lit};
use crate::layers;
use crate::model::{Activation, Call, Layer, Model, Source};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::Ident;

/// The layer whose training buffers hold the network output (a trailing `Flatten`
/// shares its input's).
pub fn last_buffer(model: &Model) -> Ident {
    let last = Source::Layer(model.layers.len() - 1);
    match model.training_owner(last) {
        Source::Layer(i) => model.layers[i].name.clone(),
        // `resolve` guarantees a layer with parameters, and so a layer with buffers.
        Source::Input => model.net.name.clone(),
    }
}

/// A value at inference: `x`, or a layer's output in `ws`.
fn inference_value(model: &Model, source: Source) -> TokenStream {
    match model.inference_owner(source) {
        Source::Input => quote!(x),
        Source::Layer(i) => {
            let name = &model.layers[i].name;
            quote!(&ws.#name.value)
        }
    }
}

/// A value in training: `x`, or a layer's output in `tw`.
pub fn training_value(model: &Model, source: Source) -> TokenStream {
    match model.training_owner(source) {
        Source::Input => quote!(x),
        Source::Layer(i) => {
            let name = &model.layers[i].name;
            quote!(&tw.#name.value)
        }
    }
}

/// `f(values)` in place, or nothing for the identity.
pub fn apply_activation(act: Activation, values: TokenStream, features: usize) -> TokenStream {
    if act == Activation::Identity {
        return TokenStream::new();
    }
    let value = activation_value(act);
    let n = lit(features);
    quote!(::sinew::activation::Activation::forward(&#value, #values.as_mut_slice(), #n);)
}

/// `Values::values(x)` for each input of a join.
fn slices(inputs: &[TokenStream]) -> TokenStream {
    quote!(&[#(Values::values(#inputs)),*])
}

/// The inference statement of a layer reading `inputs` (expressions of type `&SMatrix`),
/// then its activation; nothing for the layers that are the identity at inference.
fn inference_step(model: &Model, layer: &Layer, inputs: &[TokenStream]) -> TokenStream {
    let name = &layer.name;
    let this = layers::this(model, layer);
    let step = match layer.code.call() {
        _ if !layer.has_inference_buffer() => return TokenStream::new(),
        Call::Identity => return TokenStream::new(),
        Call::Layer => {
            let input = &inputs[0];
            quote!(Layer::<T, B>::forward(&#this, #input, &mut ws.#name);)
        }
        Call::Join => {
            let inputs = slices(inputs);
            quote!(Join::<T, B>::forward(&#this, #inputs, &mut ws.#name.value);)
        }
    };
    let act = apply_activation(layer.activation, quote!(ws.#name.value), layer.output.len());
    quote!(#step #act)
}

/// The training statement of a layer reading `inputs`, then its activation.
fn training_step(model: &Model, layer: &Layer, inputs: &[TokenStream]) -> TokenStream {
    let name = &layer.name;
    let this = layers::this(model, layer);
    let step = match layer.code.call() {
        Call::Identity => return TokenStream::new(),
        Call::Layer => {
            let input = &inputs[0];
            quote!(Layer::<T, B>::forward_train(&mut #this, #input, &mut tw.#name, samples, rng);)
        }
        Call::Join => {
            let inputs = slices(inputs);
            quote!(Join::<T, B>::forward(&#this, #inputs, &mut tw.#name.value);)
        }
    };
    let act = apply_activation(layer.activation, quote!(tw.#name.value), layer.output.len());
    quote!(#step #act)
}

/// `pub fn forward`: the layers in declaration order (a topological order of the graph);
/// dropout and flatten are the identity, so their readers read what they read.
pub fn inference(model: &Model, names: &Names) -> TokenStream {
    let Names { input, output, workspace, .. } = names;
    let mut body = TokenStream::new();
    for layer in &model.layers {
        let comment = format!(" {}", layer.text());
        let inputs: Vec<TokenStream> = layer.inputs.iter().map(|s| inference_value(model, *s)).collect();
        let step = inference_step(model, layer, &inputs);
        if !step.is_empty() {
            body.extend(quote_spanned! {layer.span=>
                #[doc = #comment]
                { #step }
            });
        }
    }
    let current = inference_value(model, Source::Layer(model.layers.len() - 1));
    quote! {
        /// Inference on a batch of `B` samples (one per column): dropout is off and batch
        /// norm uses its running statistics. The output lives in `ws`; nothing is allocated.
        #[allow(unused_doc_comments)]
        pub fn forward<'w, const B: usize, W>(
            &self,
            x: &#input<B, T>,
            ws: &'w mut W,
        ) -> &'w #output<B, T>
        where
            W: ::sinew::model::BatchBuffers<B, Buffers = #workspace<B, T>> + ?Sized,
        {
            #[allow(unused_imports)]
            use ::sinew::layers::{Join, Layer, Store, Values};
            let ws = ws.buffers();
            #body
            #current
        }
    }
}

/// `pub fn forward_train_partial` and `forward_train`.
pub fn training(model: &Model, names: &Names) -> TokenStream {
    let Names { input, output, train, .. } = names;
    let mut body = TokenStream::new();
    for layer in &model.layers {
        let comment = format!(" {}", layer.text());
        let inputs: Vec<TokenStream> = layer.inputs.iter().map(|s| training_value(model, *s)).collect();
        let step = training_step(model, layer, &inputs);
        if !step.is_empty() {
            body.extend(quote_spanned! {layer.span=>
                #[doc = #comment]
                { #step }
            });
        }
    }
    let current = training_value(model, Source::Layer(model.layers.len() - 1));
    let batch_norm = model.has_batch_norm().then(|| {
        let message = format!(
            "`{}` has batch norm, which cannot train on batches of one sample (the variance of one value is 0); use a batch size of at least 2",
            model.net.name
        );
        quote!(const { ::core::assert!(B > 1, #message) };)
    });
    quote! {
        /// The training forward pass on the first `samples` columns of a batch of `B` (the
        /// rest is padding): dropout masks are drawn from `rng`, batch norm normalises with
        /// the statistics of the real samples and updates its running statistics, and
        /// every layer's output is recorded in `tw` for [`backward`](Self::backward).
        /// Returns the output; nothing is allocated.
        ///
        /// # Panics
        /// If `samples` is 0 or larger than `B`.
        #[allow(unused_doc_comments)]
        pub fn forward_train_partial<'w, const B: usize, W, R: ::sinew::__private::Rng + ?Sized>(
            &mut self,
            x: &#input<B, T>,
            samples: usize,
            tw: &'w mut W,
            rng: &mut R,
        ) -> &'w #output<B, T>
        where
            W: ::sinew::model::BatchBuffers<B, Buffers = #train<B, T>> + ?Sized,
        {
            #[allow(unused_imports)]
            use ::sinew::layers::{Join, Layer, Store, Values};
            let tw = tw.buffers();
            #batch_norm
            ::core::assert!(samples >= 1 && samples <= B, "a batch of {} columns cannot hold {} samples", B, samples);
            tw.samples = samples as u32;
            #body
            #current
        }

        /// [`forward_train_partial`](Self::forward_train_partial) on a full batch.
        pub fn forward_train<'w, const B: usize, W, R: ::sinew::__private::Rng + ?Sized>(
            &mut self,
            x: &#input<B, T>,
            tw: &'w mut W,
            rng: &mut R,
        ) -> &'w #output<B, T>
        where
            W: ::sinew::model::BatchBuffers<B, Buffers = #train<B, T>> + ?Sized,
        {
            self.forward_train_partial(x, B, tw.buffers(), rng)
        }
    }
}
