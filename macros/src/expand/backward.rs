//! The hand-derived backward pass, layer by layer in reverse.

use super::{Names, activation_value, lit};
use crate::shape::{Activation, Kind, Model};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

/// `pub fn backward`.
pub fn backward(model: &Model, names: &Names) -> TokenStream {
    let Names { input, train, .. } = names;
    let mut body = TokenStream::new();
    for (i, layer) in model.layers.iter().enumerate().rev() {
        let name = &layer.name;
        let comment = format!(" {}", layer.text());
        let prev = i.checked_sub(1).map(|p| &model.layers[p].name);
        // The input of this layer and where its gradient goes.
        let prev_value = match prev {
            Some(p) => quote!(&tw.#p.value),
            None => quote!(x),
        };
        let step = match layer.kind {
            Kind::Dense { .. } => {
                let act = if layer.activation == Activation::Identity {
                    TokenStream::new()
                } else {
                    let value = activation_value(layer.activation);
                    let n = lit(layer.output.len());
                    quote!(::sinew::activation::Activation::backward(&#value, tw.#name.value.as_slice(), tw.#name.grad.as_mut_slice(), #n);)
                };
                let input_grad = match prev {
                    Some(p) => quote!(self.#name.backward_input(&tw.#name.grad, &mut tw.#p.grad);),
                    None => quote! {
                        if let ::core::option::Option::Some(dx) = input_grad {
                            self.#name.backward_input(&tw.#name.grad, dx);
                        }
                    },
                };
                quote! {
                    #act
                    ::sinew::layers::Dense::backward_params(#prev_value, &tw.#name.grad, &mut tw.grads.#name);
                    #input_grad
                }
            }
            Kind::Dropout { .. } => match prev {
                Some(p) => {
                    quote!(::sinew::layers::Dropout::backward(&tw.#name.mask, &tw.#name.grad, &mut tw.#p.grad);)
                }
                None => quote! {
                    if let ::core::option::Option::Some(dx) = input_grad {
                        ::sinew::layers::Dropout::backward(&tw.#name.mask, &tw.#name.grad, dx);
                    }
                },
            },
        };
        body.extend(quote_spanned! {layer.span=>
            #[doc = #comment]
            { #step }
        });
    }
    quote! {
        /// Backpropagates the gradient of the loss through the last
        /// [`forward_train`](Self::forward_train): it reads `dL/d output` from the last
        /// layer's `grad` buffer in `tw` (a loss writes it there), writes every parameter
        /// gradient into `tw.grads` (overwriting it) and, when `input_grad` is given,
        /// `dL/dx` into it. Nothing is allocated.
        #[allow(unused_doc_comments)]
        pub fn backward<const B: usize>(
            &self,
            x: &#input<B, T>,
            tw: &mut #train<B, T>,
            input_grad: ::core::option::Option<&mut #input<B, T>>,
        ) {
            #body
        }
    }
}
