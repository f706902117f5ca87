//! The hand-derived backward pass: the layers in reverse declaration order (a reverse
//! topological order of the graph), each sending its input gradients along its edges.

use super::forward::training_value;
use super::{Names, activation_value, lit};
use crate::layers;
use crate::model::{Activation, Call, Layer, Model, Source};
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
        if layer.code.call() == Call::Identity {
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
        let (step, reads) = layer_backward(model, layer, &edges);
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
            #[allow(unused_imports)]
            use ::sinew::layers::{Join, Layer, Store, Values};
            let tw = tw.buffers();
            let _ = x;
            #propagate
            #body
        }
    }
}

/// Where a layer's input gradient goes in backward.
enum Dest {
    /// Another layer's `grad` buffer, e.g. `tw.c1.grad`.
    Buffer(TokenStream),
    /// The caller's optional `input_grad`.
    Input,
}

/// One value a layer reads, seen from the backward pass.
struct Edge {
    /// The value itself (e.g. `&tw.c1.value`, or `x`).
    value: TokenStream,
    /// Where its gradient goes.
    dest: Dest,
    /// Whether this edge adds to a gradient another reader already wrote (`Store::Add`)
    /// rather than writing it (`Store::Overwrite`).
    add: bool,
    /// Whether the gradient is always needed (a trained layer lies below); otherwise it is
    /// computed only when the caller asked for `dL/dx` (`propagate`).
    always: bool,
}

impl Edge {
    fn store(&self) -> TokenStream {
        if self.add { quote!(Store::Add) } else { quote!(Store::Overwrite) }
    }

    /// `Option<(&mut dx, Store)>` for a `Layer`'s backward; `gated` when the whole layer
    /// already runs only if `propagate`.
    fn optional(&self, gated: bool) -> TokenStream {
        let store = self.store();
        match &self.dest {
            Dest::Buffer(buffer) if self.always || gated => {
                quote!(::core::option::Option::Some((&mut #buffer, #store)))
            }
            Dest::Buffer(buffer) => quote! {
                if propagate { ::core::option::Option::Some((&mut #buffer, #store)) } else { ::core::option::Option::None }
            },
            Dest::Input => quote!(input_grad.as_deref_mut().map(|dx| (dx, #store))),
        }
    }

    /// `body(dx)` for a `Join`'s backward of this input: `dx` is the buffer's values, or
    /// the caller's `input_grad`'s when given.
    fn into(&self, body: impl Fn(TokenStream) -> TokenStream) -> TokenStream {
        match &self.dest {
            Dest::Buffer(buffer) => body(quote!(Values::values_mut(&mut #buffer))),
            Dest::Input => {
                let inner = body(quote!(Values::values_mut(dx)));
                quote!(if let ::core::option::Option::Some(dx) = input_grad.as_deref_mut() { #inner })
            }
        }
    }
}

/// The backward statements of a layer: the activation's derivative, then one call that
/// computes its parameter gradients (unless it is frozen) and `dL/d input` along its edges
/// (a `Join` calls once per edge). What only the caller's `dL/dx` needs is wrapped in
/// `if propagate`. Returns them and whether they read `propagate`.
fn layer_backward(model: &Model, layer: &Layer, edges: &[Edge]) -> (TokenStream, bool) {
    let name = &layer.name;
    let act = if layer.activation == Activation::Identity {
        TokenStream::new()
    } else {
        let value = activation_value(layer.activation);
        let n = lit(layer.output.len());
        quote!(::sinew::activation::Activation::backward(&#value, tw.#name.value.as_slice(), tw.#name.grad.as_mut_slice(), #n);)
    };
    let trained = layer.trained();
    // With nothing trained below and no trained parameters, the whole layer only serves
    // the caller's `dL/dx`.
    let gated = !trained && !edges.iter().any(|e| e.always);
    let this = layers::this(model, layer);
    let (call, reads) = match layer.code.call() {
        Call::Layer => {
            let edge = &edges[0];
            let x = &edge.value;
            let dx = edge.optional(gated);
            let grads = if trained {
                quote!(::core::option::Option::Some(&mut tw.grads.#name))
            } else {
                quote!(::core::option::Option::None)
            };
            let call = quote! {
                Layer::<T, B>::backward(&#this, #x, &mut tw.#name, #grads, #dx, tw.samples as usize);
            };
            (call, !edge.always && matches!(edge.dest, Dest::Buffer(_)) && !gated)
        }
        Call::Join => {
            let mut reads = false;
            let mut call = TokenStream::new();
            for (part, edge) in edges.iter().enumerate() {
                let (part, store) = (lit(part), edge.store());
                let step = edge
                    .into(|dx| quote!(Join::<T, B>::backward(&#this, #part, &tw.#name.grad, #dx, #store);));
                if edge.always || gated {
                    call.extend(step);
                } else {
                    reads = true;
                    call.extend(quote!(if propagate { #step }));
                }
            }
            (call, reads)
        }
        Call::Identity => return (TokenStream::new(), false),
    };
    if gated { (quote!(if propagate { #act #call }), true) } else { (quote!(#act #call), reads) }
}
