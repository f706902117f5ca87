//! What each layer kind contributes to the generated code: its field type, its buffers, and
//! its statements in the forward, training and backward passes.

use super::{activation_value, lit};
use crate::shape::{Activation, Geo, Kind, Layer, Model, Source};
use proc_macro2::TokenStream;
use quote::quote;

/// The name of a windowed layer's geometry constant: `C1_GEOMETRY` for layer `c1`.
fn geometry_name(layer: &Layer) -> syn::Ident {
    quote::format_ident!("{}_GEOMETRY", layer.name.to_string().to_uppercase())
}

/// `&Self::C1_GEOMETRY`: a windowed layer's geometry, defined once per network.
fn geometry_ref(layer: &Layer) -> TokenStream {
    let name = geometry_name(layer);
    quote!(&Self::#name)
}

/// The window geometry constants of the convolution and pooling layers, one per layer,
/// for the network's `impl` block.
pub fn geometry_consts(model: &Model) -> TokenStream {
    let mut out = TokenStream::new();
    for layer in &model.layers {
        let g = match layer.kind {
            Kind::Conv2d { geo, .. }
            | Kind::ConvTranspose2d { geo, .. }
            | Kind::MaxPool { geo }
            | Kind::AvgPool { geo } => geo,
            _ => continue,
        };
        let Geo { c, h, w, kh, kw, sh, sw, ph, pw, ho, wo } = g;
        let [c, h, w, kh, kw, sh, sw, ph, pw, ho, wo] = [c, h, w, kh, kw, sh, sw, ph, pw, ho, wo].map(lit);
        let name = geometry_name(layer);
        let doc = format!(" The window of `{}`.", layer.text());
        out.extend(quote! {
            #[doc = #doc]
            const #name: ::sinew::layers::Geometry = ::sinew::layers::Geometry {
                c: #c, h: #h, w: #w, kh: #kh, kw: #kw, sh: #sh, sw: #sw, ph: #ph, pw: #pw, ho: #ho, wo: #wo,
            };
        });
    }
    out
}

/// The type of the layer's field in the network struct (layers with parameters only).
pub fn field_type(layer: &Layer) -> Option<TokenStream> {
    Some(match layer.kind {
        Kind::Dense { inputs, outputs, .. } => {
            let (i, o) = (lit(inputs), lit(outputs));
            quote!(::sinew::layers::Dense<T, #i, #o>)
        }
        Kind::Conv2d { co, geo, .. } => {
            let [ci, co, kh, kw, k] = [geo.c, co, geo.kh, geo.kw, geo.patch()].map(lit);
            quote!(::sinew::layers::Conv2d<T, #ci, #co, #kh, #kw, #k>)
        }
        Kind::ConvTranspose2d { ci, co, geo, .. } => {
            let [ci, co, kh, kw, k] = [ci, co, geo.kh, geo.kw, geo.patch()].map(lit);
            quote!(::sinew::layers::ConvTranspose2d<T, #ci, #co, #kh, #kw, #k>)
        }
        Kind::BatchNorm { channels, .. } => {
            let c = lit(channels);
            quote!(::sinew::layers::BatchNorm<T, #c>)
        }
        _ => return None,
    })
}

/// How a layer's output is reached in a workspace, e.g. `ws.c1.value`.
pub fn value_path(layer: &Layer, root: TokenStream) -> TokenStream {
    let name = &layer.name;
    match layer.kind {
        Kind::Conv2d { .. } | Kind::ConvTranspose2d { .. } => quote!(#root.#name.value),
        _ => quote!(#root.#name),
    }
}

/// The inference buffer type (`None` for layers that are the identity at inference).
pub fn inference_buffer(layer: &Layer) -> Option<TokenStream> {
    let n = lit(layer.output.len());
    Some(match layer.kind {
        Kind::Conv2d { geo, .. } | Kind::ConvTranspose2d { geo, .. } => {
            let cols = lit(geo.positions() * geo.patch());
            quote!(::sinew::layers::ConvScratch<T, #n, #cols, B>)
        }
        Kind::Dense { .. }
        | Kind::MaxPool { .. }
        | Kind::AvgPool { .. }
        | Kind::BatchNorm { .. }
        | Kind::GlobalAvgPool { .. }
        | Kind::Add
        | Kind::Concat { .. } => quote!(::sinew::SMatrix<T, #n, B>),
        Kind::Dropout { .. } | Kind::Flatten => return None,
    })
}

/// The training buffer type (`None` for `Flatten`, which shares its input's buffers).
pub fn training_buffer(layer: &Layer) -> Option<TokenStream> {
    let n = lit(layer.output.len());
    Some(match layer.kind {
        Kind::Dense { .. }
        | Kind::AvgPool { .. }
        | Kind::GlobalAvgPool { .. }
        | Kind::Add
        | Kind::Concat { .. } => {
            quote!(::sinew::layers::Buffers<T, #n, B>)
        }
        Kind::Dropout { .. } => quote!(::sinew::layers::DropoutBuffers<T, #n, B>),
        Kind::Conv2d { geo, .. } => {
            let cols = lit(geo.positions() * geo.patch());
            quote!(::sinew::layers::Conv2dBuffers<T, #n, #cols, B>)
        }
        Kind::ConvTranspose2d { geo, .. } => {
            let cols = lit(geo.positions() * geo.patch());
            quote!(::sinew::layers::ConvTransposeBuffers<T, #n, #cols, B>)
        }
        Kind::MaxPool { .. } => quote!(::sinew::layers::MaxPoolBuffers<T, #n, B>),
        Kind::BatchNorm { channels, .. } => {
            let c = lit(channels);
            quote!(::sinew::layers::BatchNormTraining<T, #c, #n, B>)
        }
        Kind::Flatten => return None,
    })
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

/// The statements of the layers that join values, the same in inference and training:
/// `out` is the output buffer, `inputs` the values read.
fn join(layer: &Layer, model: &Model, inputs: &[TokenStream], out: &TokenStream) -> Option<TokenStream> {
    Some(match layer.kind {
        Kind::Add => quote!(::sinew::layers::Add::forward(&[#(#inputs),*], &mut #out);),
        Kind::Concat { .. } => {
            let mut offset = 0;
            let mut steps = TokenStream::new();
            for (input, source) in inputs.iter().zip(&layer.inputs) {
                let at = lit(offset);
                steps.extend(quote!(::sinew::layers::Concat::forward(#input, #at, &mut #out);));
                offset += model.shape_of(*source).len();
            }
            steps
        }
        Kind::GlobalAvgPool { spatial, .. } => {
            let (s, input) = (lit(spatial), &inputs[0]);
            quote!(::sinew::layers::GlobalAvgPool::forward(#s, #input, &mut #out);)
        }
        _ => return None,
    })
}

/// The inference statements of a layer reading `inputs` (expressions of type `&SMatrix`);
/// empty for the identity layers.
pub fn forward(layer: &Layer, model: &Model, inputs: &[TokenStream]) -> TokenStream {
    let name = &layer.name;
    let input = &inputs[0];
    let out = value_path(layer, quote!(ws));
    let step = match layer.kind {
        Kind::Dense { .. } => quote!(self.#name.forward(#input, &mut #out);),
        Kind::Conv2d { .. } | Kind::ConvTranspose2d { .. } => {
            let g = geometry_ref(layer);
            quote!(self.#name.forward(#g, #input, &mut ws.#name.cols, &mut #out);)
        }
        Kind::MaxPool { .. } => {
            let g = geometry_ref(layer);
            quote!(::sinew::layers::MaxPool2d::forward(#g, #input, &mut #out);)
        }
        Kind::AvgPool { .. } => {
            let g = geometry_ref(layer);
            quote!(::sinew::layers::AvgPool2d::forward(#g, #input, &mut #out);)
        }
        Kind::BatchNorm { spatial, eps, .. } => {
            let (s, e) = (lit(spatial), proc_macro2::Literal::f64_suffixed(eps));
            quote!(self.#name.forward(#s, #e, #input, &mut #out);)
        }
        Kind::Add | Kind::Concat { .. } | Kind::GlobalAvgPool { .. } => {
            join(layer, model, inputs, &out).unwrap_or_default()
        }
        Kind::Dropout { .. } | Kind::Flatten => return TokenStream::new(),
    };
    let act = apply_activation(layer.activation, out, layer.output.len());
    quote!(#step #act)
}

/// The training statements of a layer reading `inputs`.
pub fn forward_train(layer: &Layer, model: &Model, inputs: &[TokenStream]) -> TokenStream {
    let name = &layer.name;
    let input = &inputs[0];
    let out = quote!(tw.#name.value);
    let step = match layer.kind {
        Kind::Dense { .. } => quote!(self.#name.forward(#input, &mut #out);),
        Kind::Dropout { keep } => {
            let keep = proc_macro2::Literal::f64_suffixed(keep);
            quote!(::sinew::layers::Dropout { keep: #keep }.forward_train(#input, &mut tw.#name.mask, &mut #out, rng);)
        }
        Kind::Conv2d { .. } => {
            let g = geometry_ref(layer);
            quote!(self.#name.forward_train(#g, #input, &mut tw.#name.cols, &mut #out);)
        }
        Kind::ConvTranspose2d { .. } => {
            let g = geometry_ref(layer);
            quote!(self.#name.forward(#g, #input, &mut tw.#name.cols, &mut #out);)
        }
        Kind::MaxPool { .. } => {
            let g = geometry_ref(layer);
            quote!(::sinew::layers::MaxPool2d::forward_train(#g, #input, &mut #out, &mut tw.#name.argmax);)
        }
        Kind::AvgPool { .. } => {
            let g = geometry_ref(layer);
            quote!(::sinew::layers::AvgPool2d::forward(#g, #input, &mut #out);)
        }
        Kind::BatchNorm { spatial, eps, momentum, .. } => {
            let (s, e, m) = (
                lit(spatial),
                proc_macro2::Literal::f64_suffixed(eps),
                proc_macro2::Literal::f64_suffixed(momentum),
            );
            quote!(self.#name.forward_train(#s, #e, #m, samples, #input, &mut #out, &mut tw.#name.stats);)
        }
        Kind::Add | Kind::Concat { .. } | Kind::GlobalAvgPool { .. } => {
            join(layer, model, inputs, &out).unwrap_or_default()
        }
        Kind::Flatten => return TokenStream::new(),
    };
    let act = apply_activation(layer.activation, out, layer.output.len());
    quote!(#step #act)
}

/// Where a layer's input gradient goes in backward.
pub enum Dest {
    /// Another layer's `grad` buffer, e.g. `tw.c1.grad`.
    Buffer(TokenStream),
    /// The caller's optional `input_grad`.
    Input,
}

/// One value a layer reads, seen from the backward pass.
pub struct Edge {
    /// The value itself (e.g. `&tw.c1.value`, or `x`).
    pub value: TokenStream,
    /// Where its gradient goes.
    pub dest: Dest,
    /// Whether this edge adds to a gradient another reader already wrote (`Store::Add`)
    /// rather than writing it (`Store::Overwrite`).
    pub add: bool,
    /// Whether the gradient is always needed (a trained layer lies below); otherwise it is
    /// computed only when the caller asked for `dL/dx` (`propagate`).
    pub always: bool,
}

impl Edge {
    fn store(&self) -> TokenStream {
        if self.add { quote!(::sinew::layers::Store::Add) } else { quote!(::sinew::layers::Store::Overwrite) }
    }

    /// `body(dx)` wrapped for the destination: `dx` is `&mut buffer`, or the caller's
    /// `input_grad` when given.
    fn into(&self, body: impl Fn(TokenStream) -> TokenStream) -> TokenStream {
        match &self.dest {
            Dest::Buffer(buffer) => body(quote!(&mut #buffer)),
            Dest::Input => {
                let inner = body(quote!(dx));
                quote!(if let ::core::option::Option::Some(dx) = input_grad.as_deref_mut() { #inner })
            }
        }
    }
}

/// The input-gradient statements of one edge of a layer (the layer's `grad` already holds
/// `dL/dz`, after the activation's derivative).
fn input_gradient(layer: &Layer, model: &Model, edge: &Edge, position: usize) -> TokenStream {
    let name = &layer.name;
    let grad = quote!(tw.#name.grad);
    let store = edge.store();
    match layer.kind {
        Kind::Dense { .. } => edge.into(|dx| quote!(self.#name.backward_input(&#grad, #dx, #store);)),
        Kind::Dropout { .. } => {
            edge.into(|dx| quote!(::sinew::layers::Dropout::backward(&tw.#name.mask, &#grad, #dx, #store);))
        }
        Kind::Conv2d { .. } => {
            let g = geometry_ref(layer);
            edge.into(|dx| quote!(self.#name.backward_input(#g, &#grad, &mut tw.#name.dcols, #dx, #store);))
        }
        Kind::ConvTranspose2d { .. } => {
            let g = geometry_ref(layer);
            edge.into(|dx| quote!(self.#name.backward_input(#g, &#grad, &mut tw.#name.cols, #dx, #store);))
        }
        Kind::MaxPool { .. } => {
            let g = geometry_ref(layer);
            edge.into(
                |dx| quote!(::sinew::layers::MaxPool2d::backward(#g, &#grad, &tw.#name.argmax, #dx, #store);),
            )
        }
        Kind::AvgPool { .. } => {
            let g = geometry_ref(layer);
            edge.into(|dx| quote!(::sinew::layers::AvgPool2d::backward(#g, &#grad, #dx, #store);))
        }
        Kind::GlobalAvgPool { spatial, .. } => {
            let s = lit(spatial);
            edge.into(|dx| quote!(::sinew::layers::GlobalAvgPool::backward(#s, &#grad, #dx, #store);))
        }
        Kind::Add => edge.into(|dx| quote!(::sinew::layers::Add::backward(&#grad, #dx, #store);)),
        Kind::Concat { .. } => {
            let offset: usize = layer.inputs[..position].iter().map(|s| model.shape_of(*s).len()).sum();
            let at = lit(offset);
            edge.into(|dx| quote!(::sinew::layers::Concat::backward(&#grad, #at, #dx, #store);))
        }
        // Computed with the parameters (below), or nothing to do.
        Kind::BatchNorm { .. } | Kind::Flatten => TokenStream::new(),
    }
}

/// The backward statements of a layer: the activation's derivative, the parameter
/// gradients (unless the layer is frozen), then `dL/d input` along every edge. Statements
/// that only the caller's `dL/dx` needs are wrapped in `if propagate`. Returns them and
/// whether they read `propagate`.
pub fn backward(layer: &Layer, model: &Model, edges: &[Edge]) -> (TokenStream, bool) {
    let name = &layer.name;
    let grad = quote!(tw.#name.grad);
    let act = if layer.activation == Activation::Identity {
        TokenStream::new()
    } else {
        let value = activation_value(layer.activation);
        let n = lit(layer.output.len());
        quote!(::sinew::activation::Activation::backward(&#value, tw.#name.value.as_slice(), #grad.as_mut_slice(), #n);)
    };
    let trained = layer.trained();
    // With nothing trained below and no trained parameters, the whole layer only serves
    // the caller's `dL/dx`.
    let gated = !trained && !edges.iter().any(|e| e.always);
    if let Kind::BatchNorm { spatial, .. } = layer.kind {
        // One call computes both; each destination is optional.
        let edge = &edges[0];
        let s = lit(spatial);
        let store = edge.store();
        let dx = match &edge.dest {
            Dest::Buffer(buffer) if edge.always || gated => {
                quote!(::core::option::Option::Some((&mut #buffer, #store)))
            }
            Dest::Buffer(buffer) => {
                quote!(if propagate { ::core::option::Option::Some((&mut #buffer, #store)) } else { ::core::option::Option::None })
            }
            Dest::Input => quote!(input_grad.as_deref_mut().map(|dx| (dx, #store))),
        };
        let grads = if trained {
            quote!(::core::option::Option::Some(&mut tw.grads.#name))
        } else {
            quote!(::core::option::Option::None)
        };
        let call =
            quote!(self.#name.backward(#s, tw.samples as usize, &#grad, &tw.#name.stats, #dx, #grads););
        let reads = !edge.always && matches!(edge.dest, Dest::Buffer(_)) && !gated;
        return if gated { (quote!(if propagate { #act #call }), true) } else { (quote!(#act #call), reads) };
    }
    let params = if trained {
        match layer.kind {
            Kind::Dense { .. } => {
                let input = &edges[0].value;
                quote!(::sinew::layers::Dense::backward_params(#input, &#grad, &mut tw.grads.#name);)
            }
            Kind::Conv2d { .. } => {
                let g = geometry_ref(layer);
                quote!(::sinew::layers::Conv2d::backward_params(#g, &tw.#name.cols, &#grad, &mut tw.grads.#name);)
            }
            Kind::ConvTranspose2d { .. } => {
                let g = geometry_ref(layer);
                let input = &edges[0].value;
                quote!(::sinew::layers::ConvTranspose2d::backward_params(#g, #input, &#grad, &mut tw.#name.cols, &mut tw.grads.#name);)
            }
            _ => TokenStream::new(),
        }
    } else {
        TokenStream::new()
    };
    let mut reads = gated;
    let mut dx = TokenStream::new();
    for (position, edge) in edges.iter().enumerate() {
        let step = input_gradient(layer, model, edge, position);
        if edge.always || gated {
            dx.extend(step);
        } else {
            reads = true;
            dx.extend(quote!(if propagate { #step }));
        }
    }
    if gated { (quote!(if propagate { #act #params #dx }), true) } else { (quote!(#act #params #dx), reads) }
}

/// The statement initialising a layer with parameters.
pub fn init(model: &Model, index: usize) -> TokenStream {
    let layer = &model.layers[index];
    let name = &layer.name;
    if let Kind::BatchNorm { .. } = layer.kind {
        return quote!(self.#name.init(););
    }
    // The activation this layer's output goes through: its own, or that of a batch norm
    // right after it that reads it.
    let act = match (layer.activation, model.layers.get(index + 1)) {
        (Activation::Identity, Some(next))
            if matches!(next.kind, Kind::BatchNorm { .. }) && next.inputs == [Source::Layer(index)] =>
        {
            next.activation
        }
        (own, _) => own,
    };
    let scheme = match act {
        Activation::Relu => quote!(::sinew::init::Init::He { negative_slope: 0.0 }),
        Activation::LeakyRelu(s) => {
            let s = proc_macro2::Literal::f64_suffixed(s);
            quote!(::sinew::init::Init::He { negative_slope: #s })
        }
        _ => quote!(::sinew::init::Init::Xavier),
    };
    quote!(self.#name.init(#scheme, rng);)
}

/// One tensor of a layer: suffix, PyTorch shape, role, layout and field path.
pub struct Tensor {
    pub suffix: &'static str,
    pub shape: Vec<usize>,
    pub role: TokenStream,
    pub layout: TokenStream,
    pub field: &'static str,
}

/// The fields of a layer's struct, in order (a tensor each, except a missing bias).
pub fn fields(layer: &Layer) -> &'static [&'static str] {
    match layer.kind {
        Kind::Dense { .. } | Kind::Conv2d { .. } | Kind::ConvTranspose2d { .. } => &["weight", "bias"],
        Kind::BatchNorm { .. } => &["weight", "bias", "running_mean", "running_var"],
        _ => &[],
    }
}

/// The path of a layer's struct, for struct literals (`::sinew::layers::Dense`).
pub fn struct_path(layer: &Layer) -> Option<TokenStream> {
    Some(match layer.kind {
        Kind::Dense { .. } => quote!(::sinew::layers::Dense),
        Kind::Conv2d { .. } => quote!(::sinew::layers::Conv2d),
        Kind::ConvTranspose2d { .. } => quote!(::sinew::layers::ConvTranspose2d),
        Kind::BatchNorm { .. } => quote!(::sinew::layers::BatchNorm),
        _ => return None,
    })
}

/// The tensors of a layer, in PyTorch `state_dict` order.
pub fn tensors(layer: &Layer) -> Vec<Tensor> {
    let weight = quote!(::sinew::Role::Weight);
    let bias = quote!(::sinew::Role::Bias);
    let buffer = quote!(::sinew::Role::Buffer);
    let t = |suffix, shape, role: &TokenStream, column_major: bool, field| Tensor {
        suffix,
        shape,
        role: role.clone(),
        layout: if column_major {
            quote!(::sinew::Layout::ColumnMajor)
        } else {
            quote!(::sinew::Layout::RowMajor)
        },
        field,
    };
    // Without a bias the layer's bias stays zero and is not a tensor: not saved, loaded
    // or trained, as in PyTorch's `bias=False`.
    let with_bias = |mut tensors: Vec<Tensor>, has: bool, size: usize| {
        if has {
            tensors.push(t("bias", vec![size], &bias, false, "bias"));
        }
        tensors
    };
    match layer.kind {
        Kind::Dense { inputs, outputs, bias: has } => {
            with_bias(vec![t("weight", vec![outputs, inputs], &weight, true, "weight")], has, outputs)
        }
        Kind::Conv2d { co, geo, bias: has } => {
            with_bias(vec![t("weight", vec![co, geo.c, geo.kh, geo.kw], &weight, false, "weight")], has, co)
        }
        Kind::ConvTranspose2d { ci, co, geo, bias: has } => {
            with_bias(vec![t("weight", vec![ci, co, geo.kh, geo.kw], &weight, false, "weight")], has, co)
        }
        Kind::BatchNorm { channels, .. } => vec![
            t("weight", vec![channels], &bias, false, "weight"),
            t("bias", vec![channels], &bias, false, "bias"),
            t("running_mean", vec![channels], &buffer, false, "running_mean"),
            t("running_var", vec![channels], &buffer, false, "running_var"),
        ],
        _ => Vec::new(),
    }
}
