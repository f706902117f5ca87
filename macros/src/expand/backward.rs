//! The hand-derived backward pass: the layers in reverse declaration order (a reverse
//! topological order of the graph), each sending its input gradients along its edges.

use super::Names;
use super::forward::training_value;
use super::layers::{self, Dest, Edge};
use crate::shape::{Kind, Model, Source};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use std::collections::BTreeSet;

/// `pub fn backward`.
pub fn backward(model: &Model, names: &Names) -> TokenStream {
    let Names { input, train, .. } = names;
    // Whether a trained layer lies at or below each layer: the gradient into its output
    // is then always needed, otherwise only for the caller's `dL/dx`.
    let mut trains_below = vec![false; model.layers.len()];
    for (i, layer) in model.layers.iter().enumerate() {
        trains_below[i] = layer.trained()
            || layer.inputs.iter().any(|s| match model.training_owner(*s) {
                Source::Layer(j) => trains_below[j],
                Source::Input => false,
            });
    }
    // A value read by several layers gets the sum of their gradients: the first reader in
    // backward order writes it, the others add to it.
    let mut written: BTreeSet<Source> = BTreeSet::new();
    let mut body = TokenStream::new();
    let mut uses_propagate = false;
    for layer in model.layers.iter().rev() {
        if layer.kind == Kind::Flatten {
            continue;
        }
        let edges: Vec<Edge> = layer
            .inputs
            .iter()
            .map(|source| {
                let owner = model.training_owner(*source);
                let (dest, always) = match owner {
                    Source::Layer(j) => {
                        let n = &model.layers[j].name;
                        (Dest::Buffer(quote!(tw.#n.grad)), trains_below[j])
                    }
                    Source::Input => (Dest::Input, false),
                };
                Edge { value: training_value(model, *source), dest, add: !written.insert(owner), always }
            })
            .collect();
        let comment = format!(" {}", layer.text());
        let (step, reads) = layers::backward(layer, model, &edges);
        uses_propagate |= reads;
        body.extend(quote_spanned! {layer.span=>
            #[doc = #comment]
            { #step }
        });
    }
    let propagate = uses_propagate.then(|| quote!(let propagate = input_grad.is_some();));
    quote! {
        /// Backpropagates the gradient of the loss through the last
        /// [`forward_train`](Self::forward_train): it reads `dL/d output` from the last
        /// layer's `grad` buffer in `tw` (a loss writes it there), writes the gradient of
        /// every trained (not frozen) parameter into `tw.grads` (overwriting it) and, when
        /// `input_grad` is given, `dL/dx` into it. Gradients are propagated below a layer
        /// only if a trained layer (or `input_grad`) needs them; a value read by several
        /// layers receives the sum of their gradients. Nothing is allocated.
        #[allow(unused_doc_comments, unused_mut)]
        pub fn backward<const B: usize, W>(
            &self,
            x: &#input<B, T>,
            tw: &mut W,
            mut input_grad: ::core::option::Option<&mut #input<B, T>>,
        )
        where
            W: ::sinew::model::BatchBuffers<B, Buffers = #train<B, T>> + ?Sized,
        {
            let tw = tw.buffers();
            let _ = x;
            #propagate
            #body
        }
    }
}
