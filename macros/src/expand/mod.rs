//! Code generation. Everything is emitted with absolute paths through the facade
//! (`::sinew::...`), per-layer statements carry the layer's span, and every public item
//! gets a doc comment, so the output is clean under `#![deny(missing_docs)]`.

mod backward;
mod forward;
mod params;

use crate::layers;
use crate::model::{Activation, Call, Layer, Model};
use crate::report::Errors;
use crate::{check, embed, fallback, memory, parse, shape};
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::Ident;

/// The whole macro: parse, check, infer shapes, then expand or report. `base` is the
/// directory that `#[weights("file")]` is relative to.
pub fn network(input: TokenStream, base: Option<&std::path::Path>) -> TokenStream {
    let mut errors = Errors::default();
    let net = match parse::network(input, &mut errors) {
        Ok(net) => net,
        Err(e) => {
            errors.push(e);
            return errors.to_compile_errors();
        }
    };
    let input = check::input(&net, &mut errors);
    check::not_empty(&net, &mut errors);
    check::unique_names(&net, &mut errors);
    check::name_is_free(&net, &mut errors);
    let model = shape::resolve(&net, input, &mut errors);
    let mut extra = TokenStream::new();
    if let Some(model) = &model
        && errors.is_empty()
    {
        let names = Names::new(&model.net.name);
        if let Some(budget) = &net.budget {
            let footprint = memory::Footprint::new(model, budget.batch);
            memory::check_budget(model, budget, &footprint, &mut errors);
            extra.extend(budget_assertions(budget, &footprint, &names));
        }
        if let Some(weights) = &net.weights
            && let Some(consts) = embed::embedded(model, &names, weights, base, &mut errors)
        {
            extra.extend(consts);
        }
    }
    // The constants declared in the invocation, as written, whatever else happens: the
    // rest of the program uses them.
    let consts = &net.consts;
    let mut out = quote!(#(#consts)*);
    match model {
        Some(model) if errors.is_empty() => {
            out.extend(expand(&model));
            out.extend(extra);
        }
        model => {
            let io = model.map(|m| (m.input.len(), m.output().len()));
            out.extend(errors.to_compile_errors());
            out.extend(fallback::stub(&net, io));
        }
    }
    out
}

/// Compile-time assertions that the counts above are the sizes of the generated types.
fn budget_assertions(budget: &crate::ast::Budget, fp: &memory::Footprint, names: &Names) -> TokenStream {
    let Names { net, workspace, train, .. } = names;
    let b = lit(budget.batch);
    let [p, w, t] = [fp.parameters, fp.workspace, fp.train_workspace]
        .map(|v| usize::try_from(v).unwrap_or(usize::MAX))
        .map(lit);
    let message = "sinew's byte counts disagree with the generated types; please report this";
    quote! {
        const _: () = {
            ::core::assert!(::core::mem::size_of::<#net<f32>>() == #p, #message);
            ::core::assert!(::core::mem::size_of::<#workspace<#b, f32>>() == #w, #message);
            ::core::assert!(::core::mem::size_of::<#train<#b, f32>>() == #t, #message);
        };
    }
}

/// Names of the generated items.
pub struct Names {
    pub net: Ident,
    pub input: Ident,
    pub output: Ident,
    pub workspace: Ident,
    pub train: Ident,
    pub grads: Ident,
}

impl Names {
    pub fn new(net: &Ident) -> Self {
        Names {
            net: net.clone(),
            input: format_ident!("{}Input", net),
            output: format_ident!("{}Output", net),
            workspace: format_ident!("{}Workspace", net),
            train: format_ident!("{}TrainWorkspace", net),
            grads: format_ident!("{}Grads", net),
        }
    }
}

pub use crate::layers::lit;

/// The runtime value of an activation, e.g. `::sinew::activation::Relu`.
pub fn activation_value(act: Activation) -> TokenStream {
    match act {
        Activation::Identity => quote!(::sinew::activation::Identity),
        Activation::Sigmoid => quote!(::sinew::activation::Sigmoid),
        Activation::Tanh => quote!(::sinew::activation::Tanh),
        Activation::Relu => quote!(::sinew::activation::Relu),
        Activation::LeakyRelu(slope) => {
            let slope = Literal::f64_suffixed(slope);
            quote!(::sinew::activation::LeakyRelu { slope: #slope })
        }
        Activation::Softmax => quote!(::sinew::activation::Softmax),
    }
}

/// The head marker of a network whose last activation is `act`.
fn head(act: Activation) -> TokenStream {
    match act {
        Activation::Identity => quote!(::sinew::head::Logits),
        Activation::Softmax => quote!(::sinew::head::Softmax),
        Activation::Sigmoid => quote!(::sinew::head::Sigmoid),
        _ => quote!(::sinew::head::Activated),
    }
}

/// Doc attributes written by the user on a layer, or a generated one.
fn layer_docs(layer: &Layer) -> TokenStream {
    let user: Vec<_> = layer.attrs.iter().filter(|a| a.path().is_ident("doc")).collect();
    if user.is_empty() {
        let doc = format!(" `{}`", layer.text());
        quote!(#[doc = #doc])
    } else {
        quote!(#(#user)*)
    }
}

/// The derives the user did not already ask for.
fn derives(model: &Model) -> TokenStream {
    let mut wanted = vec!["Clone", "Debug", "PartialEq"];
    for attr in &model.net.attrs {
        if !attr.path().is_ident("derive") {
            continue;
        }
        let _ = attr.parse_nested_meta(|meta| {
            if let Some(last) = meta.path.segments.last() {
                wanted.retain(|w| last.ident != w);
            }
            Ok(())
        });
    }
    let wanted: Vec<Ident> = wanted.iter().map(|w| format_ident!("{}", w)).collect();
    quote!(#[derive(#(#wanted,)* ::sinew::__private::Zeroable)])
}

/// The Zeroable derive's helper attribute: the crate path. No explicit `bound`: with one,
/// bytemuck's derive adds every field's type to the where clause of every field's check,
/// which is quadratic in the number of layers (a 200-layer network expanded to 259,000
/// lines); without, the impl is bounded on `T: Zeroable` and each check stays small.
fn zeroable_attrs() -> TokenStream {
    quote! {
        #[bytemuck(crate = "::sinew::__private::bytemuck")]
    }
}

/// The type of a layer's inference or training buffers (`which` is `Inference` or
/// `Training`): `::sinew::layers::Inference<T, Conv2d<T, LeNet_c1>, B>`.
fn buffer_type(model: &Model, layer: &Layer, which: TokenStream) -> TokenStream {
    let ty = layers::runtime_type(model, layer);
    match layer.code.call() {
        Call::Join => quote!(<#ty as ::sinew::layers::Join<T, B>>::#which),
        Call::Layer | Call::Identity => quote!(::sinew::layers::#which<T, #ty, B>),
    }
}

fn expand(model: &Model) -> TokenStream {
    let names = Names::new(&model.net.name);
    let Names { net, input: input_alias, output: output_alias, workspace, train, .. } = &names;
    let vis = &model.net.vis;
    let attrs = &model.net.attrs;
    let inputs = lit(model.input.len());
    let outputs = lit(model.output().len());
    let derives = derives(model);
    let zeroable = zeroable_attrs();
    let has_docs = attrs.iter().any(|a| a.path().is_ident("doc"));
    let default_doc = (!has_docs).then(|| {
        let doc = format!(
            " A neural network declared with `network!`: {} inputs, {} outputs.",
            model.input.len(),
            model.output().len()
        );
        quote!(#[doc = #doc])
    });

    let fields = model.layers.iter().filter_map(|layer| {
        let name = &layer.name;
        let docs = layer_docs(layer);
        if !layer.has_params() {
            return None;
        }
        let ty = layers::runtime_type(model, layer);
        Some(quote_spanned!(layer.span=> #docs pub #name: #ty,))
    });

    let ws_fields = model.layers.iter().filter_map(|layer| {
        let name = &layer.name;
        if !layer.has_inference_buffer() {
            return None;
        }
        let ty = buffer_type(model, layer, quote!(Inference));
        let doc = format!(" Inference buffers of `{}`, one column per sample.", layer.name);
        Some(quote!(#[doc = #doc] pub #name: #ty,))
    });
    let train_fields = model.layers.iter().filter_map(|layer| {
        let name = &layer.name;
        if !layer.has_training_buffer() {
            return None;
        }
        let ty = buffer_type(model, layer, quote!(Training));
        let doc = format!(" Training buffers of `{}`.", layer.name);
        Some(quote!(#[doc = #doc] pub #name: #ty,))
    });

    let consts = params::consts(model);
    let shapes = layers::shape_types(model);
    let param_layers: Vec<&Layer> = model.layers.iter().filter(|l| l.has_params()).collect();
    let parameters = params::parameters_impl(&param_layers, net);
    let (trainable, grads_ty) = params::trainable(model, &names);
    let init = params::init(model);
    let forward = forward::inference(model, &names);
    let forward_train = forward::training(model, &names);
    let backward = backward::backward(model, &names);
    let last = forward::last_buffer(model);
    let head = head(model.head());
    let differentiable = matches!(model.input, crate::model::Shape::Tokens { .. }).then(|| {
        quote!(
            const DIFFERENTIABLE_INPUT: bool = false;
        )
    });
    let random = model.layers.iter().any(|l| matches!(l.kind, crate::model::Kind::Dropout { .. }));
    let differentiable = quote!(#differentiable const RANDOM: bool = #random;);
    let input_doc = match model.input {
        crate::model::Shape::Flat(n) => {
            format!(" A batch of `B` inputs of [`{net}`]: {n} features by `B` samples (one column each).")
        }
        crate::model::Shape::Sequence { t, f } => format!(
            " A batch of `B` inputs of [`{net}`]: sequences of {t} steps of {f} features, step after step ({} values), by `B` samples (one column each; PyTorch's `(batch, T, features)` rows).",
            t * f
        ),
        crate::model::Shape::Tokens { t, vocab } => format!(
            " A batch of `B` inputs of [`{net}`]: {t} token ids below {vocab} (stored as numbers), by `B` samples (one column each)."
        ),
        image => format!(
            " A batch of `B` inputs of [`{net}`]: {} images, {} values each in channel-major (NCHW) order, by `B` samples (one column each).",
            image.text(),
            image.len()
        ),
    };
    let output_doc =
        format!(" A batch of `B` outputs of [`{net}`]: {} values by `B` samples.", model.output().len());
    let ws_doc = format!(
        " Buffers for inference with [`{net}`] on `B` samples at once; build once, reuse for every call."
    );
    let train_doc = format!(
        " Buffers for training [`{net}`] on batches of `B` samples: every layer's output and gradient, dropout masks, and the parameter gradients (`grads`, a [`{net}`])."
    );
    let grads_doc = if model.has_frozen() {
        String::from(" Parameter gradients of the last backward pass, of the trained layers only.")
    } else {
        format!(" Parameter gradients of the last backward pass, as a [`{net}`].")
    };

    quote! {
        #shapes

        #(#attrs)*
        #default_doc
        #derives
        #zeroable
        #vis struct #net<T: ::sinew::Float = f32> {
            #(#fields)*
        }

        #[doc = #input_doc]
        #vis type #input_alias<const B: usize, T = f32> = ::sinew::SMatrix<T, #inputs, B>;

        #[doc = #output_doc]
        #vis type #output_alias<const B: usize, T = f32> = ::sinew::SMatrix<T, #outputs, B>;

        #[doc = #ws_doc]
        #[derive(Clone, Debug, ::sinew::__private::Zeroable)]
        #zeroable
        #vis struct #workspace<const B: usize, T: ::sinew::Float = f32> {
            #(#ws_fields)*
        }

        #[doc = #train_doc]
        #[derive(Clone, Debug, ::sinew::__private::Zeroable)]
        #zeroable
        #vis struct #train<const B: usize, T: ::sinew::Float = f32> {
            #(#train_fields)*
            #[doc = #grads_doc]
            pub grads: #grads_ty,
            /// Real samples in the batch of the last training pass (the rest is padding).
            pub samples: u32,
        }

        impl<const B: usize, T: ::sinew::Float> ::sinew::model::BatchBuffers<B> for #workspace<B, T> {
            type Buffers = Self;
            fn buffers(&mut self) -> &mut Self {
                self
            }
        }

        impl<const B: usize, T: ::sinew::Float> ::sinew::model::BatchBuffers<B> for #train<B, T> {
            type Buffers = Self;
            fn buffers(&mut self) -> &mut Self {
                self
            }
        }

        impl<const B: usize, T: ::sinew::Float> #workspace<B, T> {
            /// Bytes of these buffers (the RAM inference needs besides the network).
            pub const BYTES: usize = ::core::mem::size_of::<Self>();

            /// All buffers zero, built by value (for small networks and `static`s; use
            /// `boxed` on the host for large ones).
            pub fn zeroed() -> Self {
                ::sinew::__private::Zeroable::zeroed()
            }
        }

        impl<const B: usize, T: ::sinew::Float> #train<B, T> {
            /// Bytes of these buffers, the parameter gradients included (the RAM training
            /// needs besides the network and the optimizer state).
            pub const BYTES: usize = ::core::mem::size_of::<Self>();

            /// All buffers zero, built by value (for small networks and `static`s; use
            /// `boxed` on the host for large ones).
            pub fn zeroed() -> Self {
                ::sinew::__private::Zeroable::zeroed()
            }
        }

        impl<T: ::sinew::Float> #net<T> {
            #consts

            /// Every weight and bias zero.
            pub fn zeroed() -> Self {
                ::sinew::__private::Zeroable::zeroed()
            }

            #init
            #forward
            #forward_train
            #backward

            /// One training step on a full batch: training forward pass, loss and its
            /// gradient, backward pass, optimizer update. Returns the mean loss over the
            /// batch; if it is NaN or infinite, returns an error and leaves the parameters
            /// untouched. Allocates nothing.
            pub fn train_step<const B: usize, Y, L, O, W, R>(
                &mut self,
                x: &#input_alias<B, T>,
                y: &Y,
                loss: &L,
                optimizer: &mut O,
                tw: &mut W,
                rng: &mut R,
            ) -> ::core::result::Result<T, ::sinew::NonFiniteLoss>
            where
                W: ::sinew::model::BatchBuffers<B, Buffers = #train<B, T>> + ?Sized,
                Y: ?Sized,
                L: ::sinew::loss::Loss<T, #outputs, B, Y> + ::sinew::TrainsHead<#head>,
                O: ::sinew::optim::Optimizer<T, Self>,
                R: ::sinew::__private::Rng + ?Sized,
            {
                ::sinew::model::train_step(self, x, y, B, loss, optimizer, tw.buffers(), rng)
            }

            /// [`train_step`](Self::train_step) on the first `samples` columns of the batch
            /// only: the others are padding and count in neither the loss nor the gradient.
            ///
            /// # Panics
            /// If `samples` is 0 or larger than `B`.
            #[allow(clippy::too_many_arguments)]
            pub fn train_step_partial<const B: usize, Y, L, O, W, R>(
                &mut self,
                x: &#input_alias<B, T>,
                y: &Y,
                samples: usize,
                loss: &L,
                optimizer: &mut O,
                tw: &mut W,
                rng: &mut R,
            ) -> ::core::result::Result<T, ::sinew::NonFiniteLoss>
            where
                W: ::sinew::model::BatchBuffers<B, Buffers = #train<B, T>> + ?Sized,
                Y: ?Sized,
                L: ::sinew::loss::Loss<T, #outputs, B, Y> + ::sinew::TrainsHead<#head>,
                O: ::sinew::optim::Optimizer<T, Self>,
                R: ::sinew::__private::Rng + ?Sized,
            {
                ::sinew::model::train_step(self, x, y, samples, loss, optimizer, tw.buffers(), rng)
            }
        }

        #parameters
        #trainable

        impl<T: ::sinew::Float> ::sinew::Model<T, #inputs, #outputs> for #net<T> {
            type Head = #head;
            type Workspace<const B: usize> = #workspace<B, T>;
            type TrainWorkspace<const B: usize> = #train<B, T>;
            #differentiable

            fn forward<'w, const B: usize>(
                &self,
                x: &::sinew::SMatrix<T, #inputs, B>,
                ws: &'w mut #workspace<B, T>,
            ) -> &'w ::sinew::SMatrix<T, #outputs, B> {
                #net::forward(self, x, ws)
            }

            fn forward_train_partial<'w, const B: usize, R: ::sinew::__private::Rng + ?Sized>(
                &mut self,
                x: &::sinew::SMatrix<T, #inputs, B>,
                samples: usize,
                tw: &'w mut #train<B, T>,
                rng: &mut R,
            ) -> &'w ::sinew::SMatrix<T, #outputs, B> {
                #net::forward_train_partial(self, x, samples, tw, rng)
            }

            fn output_and_grad<const B: usize>(
                tw: &mut #train<B, T>,
            ) -> (&::sinew::SMatrix<T, #outputs, B>, &mut ::sinew::SMatrix<T, #outputs, B>) {
                (&tw.#last.value, &mut tw.#last.grad)
            }

            fn backward<const B: usize>(
                &self,
                x: &::sinew::SMatrix<T, #inputs, B>,
                tw: &mut #train<B, T>,
                input_grad: ::core::option::Option<&mut ::sinew::SMatrix<T, #inputs, B>>,
            ) {
                #net::backward(self, x, tw, input_grad)
            }

            fn gradients<const B: usize>(tw: &#train<B, T>) -> &#grads_ty {
                &tw.grads
            }

            fn gradients_mut<const B: usize>(tw: &mut #train<B, T>) -> &mut #grads_ty {
                &mut tw.grads
            }
        }

        ::sinew::__with_std! {
            impl<T: ::sinew::Float> #net<T> {
                /// Every weight and bias zero, allocated directly on the heap: the network
                /// never passes through the stack, however large.
                pub fn boxed_zeroed() -> ::sinew::__private::Box<Self> {
                    ::sinew::__private::zeroed_box()
                }

                /// [`init`](Self::init) on the heap: allocated zeroed, then initialised in
                /// place, never passing through the stack.
                pub fn boxed_init<R: ::sinew::__private::Rng + ?Sized>(rng: &mut R) -> ::sinew::__private::Box<Self> {
                    let mut net = Self::boxed_zeroed();
                    net.init_in_place(rng);
                    net
                }
            }

            impl<const B: usize, T: ::sinew::Float> #workspace<B, T> {
                /// All buffers zero, allocated directly on the heap.
                pub fn boxed() -> ::sinew::__private::Box<Self> {
                    ::sinew::__private::zeroed_box()
                }
            }

            impl<const B: usize, T: ::sinew::Float> #train<B, T> {
                /// All buffers zero, allocated directly on the heap.
                pub fn boxed() -> ::sinew::__private::Box<Self> {
                    ::sinew::__private::zeroed_box()
                }
            }
        }
    }
}
