//! The hand-derived backward pass, layer by layer in reverse.

use super::Names;
use super::layers::{self, Dest};
use crate::shape::{Kind, Model};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

/// `pub fn backward`.
pub fn backward(model: &Model, names: &Names) -> TokenStream {
    let Names { input, train, .. } = names;
    let mut body = TokenStream::new();
    let mut uses_propagate = false;
    for (i, layer) in model.layers.iter().enumerate().rev() {
        if layer.kind == Kind::Flatten {
            continue;
        }
        // The layer that produced this one's input: the nearest earlier layer with buffers
        // (`Flatten` shares its input's), or the network input.
        let source = model.layers[..i].iter().rev().find(|l| layers::training_buffer(l).is_some());
        let (value, dest) = match source {
            Some(s) => {
                let n = &s.name;
                (quote!(&tw.#n.value), Dest::Buffer(quote!(tw.#n.grad)))
            }
            None => (quote!(x), Dest::Input),
        };
        // Gradients flow further down only as far as a trained layer needs them (or the
        // caller asked for `dL/dx`).
        let always = model.layers[..i].iter().any(|l| l.trained());
        let comment = format!(" {}", layer.text());
        let (step, reads) = layers::backward(layer, &value, &dest, always);
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
        /// only if a trained layer (or `input_grad`) needs them. Nothing is allocated.
        #[allow(unused_doc_comments)]
        pub fn backward<const B: usize, W>(
            &self,
            x: &#input<B, T>,
            tw: &mut W,
            input_grad: ::core::option::Option<&mut #input<B, T>>,
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
