//! The inference and training forward passes.

use super::{Names, layers};
use crate::shape::{Kind, Model};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::Ident;

/// The layer whose training buffers hold the network output (the last one with buffers:
/// a trailing `Flatten` shares its input's).
pub fn last_buffer(model: &Model) -> Ident {
    let last =
        model.layers.iter().rev().find(|l| layers::training_buffer(l).is_some()).map(|l| l.name.clone());
    // `resolve` guarantees a layer with parameters, and those have buffers.
    last.unwrap_or_else(|| model.net.name.clone())
}

/// `pub fn forward`: dropout and flatten are the identity, so each layer reads the last
/// buffer written.
pub fn inference(model: &Model, names: &Names) -> TokenStream {
    let Names { input, output, workspace, .. } = names;
    let mut current = quote!(x);
    let mut body = TokenStream::new();
    for layer in &model.layers {
        let comment = format!(" {}", layer.text());
        let step = layers::forward(layer, &current);
        if !step.is_empty() {
            body.extend(quote_spanned! {layer.span=>
                #[doc = #comment]
                { #step }
            });
        }
        if layers::inference_buffer(layer).is_some() {
            let path = layers::value_path(layer, quote!(ws));
            current = quote!(&#path);
        }
    }
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
            let ws = ws.buffers();
            #body
            #current
        }
    }
}

/// `pub fn forward_train_partial` and `forward_train`.
pub fn training(model: &Model, names: &Names) -> TokenStream {
    let Names { input, output, train, .. } = names;
    let mut current = quote!(x);
    let mut body = TokenStream::new();
    for layer in &model.layers {
        let comment = format!(" {}", layer.text());
        let step = layers::forward_train(layer, &current);
        if !step.is_empty() {
            body.extend(quote_spanned! {layer.span=>
                #[doc = #comment]
                { #step }
            });
        }
        if layers::training_buffer(layer).is_some() {
            let name = &layer.name;
            current = quote!(&tw.#name.value);
        }
    }
    let uses_rng = model.layers.iter().any(|l| matches!(l.kind, Kind::Dropout { .. }));
    let silence = (!uses_rng).then(|| quote!(let _ = rng;));
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
            let tw = tw.buffers();
            #batch_norm
            ::core::assert!(samples >= 1 && samples <= B, "a batch of {} columns cannot hold {} samples", B, samples);
            tw.samples = samples as u32;
            #silence
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
