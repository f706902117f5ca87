//! The inference and training forward passes.

use super::{Names, activation_value, lit};
use crate::shape::{Activation, Kind, Model};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::Ident;

/// The layer whose training buffers hold the network output.
pub fn last_buffer(model: &Model) -> (Ident, usize) {
    let last = model.layers.last().map(|l| (l.name.clone(), l.output.len()));
    // `resolve` guarantees at least one layer.
    last.unwrap_or_else(|| (model.net.name.clone(), 0))
}

/// `f(values)` in place, or nothing for the identity.
pub fn apply_activation(
    act: Activation,
    values: TokenStream,
    features: usize,
    span: proc_macro2::Span,
) -> TokenStream {
    if act == Activation::Identity {
        return TokenStream::new();
    }
    let value = activation_value(act);
    let n = lit(features);
    quote_spanned!(span=> ::sinew::activation::Activation::forward(&#value, #values.as_mut_slice(), #n);)
}

/// `pub fn forward`: dropout is the identity, so each layer reads the last buffer written.
pub fn inference(model: &Model, names: &Names) -> TokenStream {
    let Names { input, output, workspace, .. } = names;
    let mut current = quote!(x);
    let mut body = TokenStream::new();
    for layer in &model.layers {
        let name = &layer.name;
        let comment = format!(" {}", layer.text());
        match layer.kind {
            Kind::Dense { .. } => {
                let act =
                    apply_activation(layer.activation, quote!(ws.#name), layer.output.len(), layer.span);
                body.extend(quote_spanned! {layer.span=>
                    #[doc = #comment]
                    self.#name.forward(#current, &mut ws.#name);
                    #act
                });
                current = quote!(&ws.#name);
            }
            Kind::Dropout { .. } => {}
        }
    }
    quote! {
        /// Inference on a batch of `B` samples (one per column): dropout is off. The output
        /// lives in `ws`; nothing is allocated.
        #[allow(unused_doc_comments)]
        pub fn forward<'w, const B: usize>(
            &self,
            x: &#input<B, T>,
            ws: &'w mut #workspace<B, T>,
        ) -> &'w #output<B, T> {
            #body
            #current
        }
    }
}

/// `pub fn forward_train`: draws dropout masks and records every layer's output.
pub fn training(model: &Model, names: &Names) -> TokenStream {
    let Names { input, output, train, .. } = names;
    let mut current = quote!(x);
    let mut body = TokenStream::new();
    let mut uses_rng = false;
    for layer in &model.layers {
        let name = &layer.name;
        let comment = format!(" {}", layer.text());
        match layer.kind {
            Kind::Dense { .. } => {
                let act = apply_activation(
                    layer.activation,
                    quote!(tw.#name.value),
                    layer.output.len(),
                    layer.span,
                );
                body.extend(quote_spanned! {layer.span=>
                    #[doc = #comment]
                    self.#name.forward(#current, &mut tw.#name.value);
                    #act
                });
            }
            Kind::Dropout { keep } => {
                uses_rng = true;
                let keep = proc_macro2::Literal::f64_suffixed(keep);
                body.extend(quote_spanned! {layer.span=>
                    #[doc = #comment]
                    ::sinew::layers::Dropout { keep: #keep }.forward_train(#current, &mut tw.#name.mask, &mut tw.#name.value, rng);
                });
            }
        }
        current = quote!(&tw.#name.value);
    }
    let silence = (!uses_rng).then(|| quote!(let _ = rng;));
    quote! {
        /// The training forward pass on a batch of `B` samples: dropout masks are drawn
        /// from `rng`, and every layer's output is recorded in `tw` for
        /// [`backward`](Self::backward). Returns the output; nothing is allocated.
        #[allow(unused_doc_comments)]
        pub fn forward_train<'w, const B: usize, R: ::sinew::__private::Rng + ?Sized>(
            &self,
            x: &#input<B, T>,
            tw: &'w mut #train<B, T>,
            rng: &mut R,
        ) -> &'w #output<B, T> {
            #silence
            #body
            #current
        }
    }
}
