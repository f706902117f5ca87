//! The layer kinds, one file per kind (as the runtime has one file per kind), each an
//! `impl Code`: its rule (arguments, options, sizes and their errors), its canonical text
//! and output shape, and what it contributes to the generated code: the runtime type that
//! implements `Layer` (or `Join`), the shape type that holds its sizes and settings, its
//! tensors, its initialisation and its byte counts. The statements that call a layer are
//! the same for every kind and live in `expand/`.
//!
//! Adding a kind: a file here with its `impl Code` (its rule, its text, its generated
//! code), one line in [`by_name`], a variant in `model::Kind` for its resolved settings, its
//! name in `symbol.rs`, and its runtime file.

mod add;
mod batch_norm;
mod concat;
mod conv;
mod conv_transpose;
mod dense;
mod dropout;
mod embedding;
mod flatten;
mod global_pool;
mod pool;
mod recurrent;

use crate::model::{Call, Cell, Layer, Model, Tensor};
use crate::symbol;

pub use crate::model::Code;
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};
use syn::Ident;

/// An unsuffixed integer literal.
pub fn lit(n: usize) -> Literal {
    Literal::usize_unsuffixed(n)
}

/// The code of the layer kind named `name` in a declaration, if there is one: the one
/// place that lists every kind.
pub fn by_name(name: &str) -> Option<&'static dyn Code> {
    Some(match name {
        symbol::DENSE => &dense::Dense,
        symbol::DROPOUT => &dropout::Dropout,
        symbol::CONV2D => &conv::Conv2d,
        symbol::CONV_TRANSPOSE2D => &conv_transpose::ConvTranspose2d,
        symbol::MAX_POOL2D => &pool::MaxPool2d,
        symbol::AVG_POOL2D => &pool::AvgPool2d,
        symbol::FLATTEN => &flatten::Flatten,
        symbol::BATCH_NORM => &batch_norm::BatchNorm,
        symbol::GLOBAL_AVG_POOL => &global_pool::GlobalAvgPool,
        symbol::ADD => &add::Add,
        symbol::CONCAT => &concat::Concat,
        symbol::EMBEDDING => &embedding::Embedding,
        symbol::RNN => &recurrent::Recurrent(Cell::Rnn),
        symbol::GRU => &recurrent::Recurrent(Cell::Gru),
        symbol::LSTM => &recurrent::Recurrent(Cell::Lstm),
        _ => return None,
    })
}

/// The name of a layer's shape type: `LeNet_c1` for layer `c1` of `LeNet`.
pub fn shape_name(model: &Model, layer: &Layer) -> Ident {
    format_ident!("{}_{}", model.net.name, layer.name)
}

/// The runtime type of a layer.
pub fn runtime_type(model: &Model, layer: &Layer) -> TokenStream {
    layer.code.runtime_type(layer, &shape_name(model, layer))
}

/// The layer as a value for its passes: `self.c1` for a layer with parameters, the
/// zero-sized value of its type otherwise.
pub fn this(model: &Model, layer: &Layer) -> TokenStream {
    if layer.has_params() {
        let name = &layer.name;
        quote!(self.#name)
    } else {
        let ty = runtime_type(model, layer);
        quote!(<#ty>::new())
    }
}

/// The shape types of every layer that has one: a zero-sized struct each, with its
/// `Shape` impl and its kind's own.
pub fn shape_types(model: &Model) -> TokenStream {
    let vis = &model.net.vis;
    let mut out = TokenStream::new();
    for layer in &model.layers {
        let shape = shape_name(model, layer);
        let Some(own) = layer.code.shape_impl(layer, model, &shape) else { continue };
        let inputs = lit(shape_input(model, layer));
        let outputs = lit(layer.output.len());
        let doc = format!(
            " The sizes and settings of layer `{}` of [`{}`], which reads {} and writes {}: the shape type of its runtime layer.",
            layer.text(),
            model.net.name,
            layer.inputs.iter().map(|s| model.shape_of(*s).text()).collect::<Vec<_>>().join(" and "),
            layer.output.text(),
        );
        out.extend(quote! {
            #[doc = #doc]
            #[allow(non_camel_case_types)]
            #[derive(Clone, Copy, Debug, Default, PartialEq)]
            #vis struct #shape;

            impl ::sinew::layers::Shape for #shape {
                const IN: usize = #inputs;
                const OUT: usize = #outputs;
                type Input<E: ::sinew::layers::Element, const B: usize> = ::sinew::SMatrix<E, #inputs, B>;
                type Output<E: ::sinew::layers::Element, const B: usize> = ::sinew::SMatrix<E, #outputs, B>;
            }

            #own
        });
    }
    out
}

/// Values per sample that a shape type's `Input` holds: the one input's, or for the
/// layers that join several, the output's (their inputs are read as slices).
fn shape_input(model: &Model, layer: &Layer) -> usize {
    match (layer.code.call(), layer.inputs.first()) {
        (Call::Layer, Some(source)) => model.shape_of(*source).len(),
        _ => layer.output.len(),
    }
}

/// `SMatrix<E, R, C>` for a shape type's parameters (`E` is the GAT's element type).
pub fn matrix(rows: usize, cols: usize) -> TokenStream {
    let (r, c) = (lit(rows), lit(cols));
    quote!(::sinew::SMatrix<E, #r, #c>)
}

/// `SMatrix<E, N, B>` for a shape type's per-batch buffers.
pub fn batch(rows: usize) -> TokenStream {
    let r = lit(rows);
    quote!(::sinew::SMatrix<E, #r, B>)
}

/// A `Geometry` literal, through its checked constructor.
pub fn geometry(g: &crate::model::Geo) -> TokenStream {
    let [c, h, w, kh, kw, sh, sw, ph, pw] = [g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw].map(lit);
    quote!(::sinew::layers::Geometry::new(#c, (#h, #w), (#kh, #kw), (#sh, #sw), (#ph, #pw)))
}

/// Roles of tensors.
#[derive(Clone, Copy)]
pub enum Role {
    Weight,
    Bias,
    Buffer,
}

impl Tensor {
    pub fn new(suffix: &'static str, shape: Vec<usize>, role: Role, column_major: bool) -> Self {
        let role = match role {
            Role::Weight => quote!(::sinew::Role::Weight),
            Role::Bias => quote!(::sinew::Role::Bias),
            Role::Buffer => quote!(::sinew::Role::Buffer),
        };
        let layout = if column_major {
            quote!(::sinew::Layout::ColumnMajor)
        } else {
            quote!(::sinew::Layout::RowMajor)
        };
        Tensor { suffix, shape, role, layout, field: suffix }
    }
}

/// A weight and, unless `bias = false`, a bias: without one the layer's bias stays zero and
/// is not a tensor (not saved, loaded or trained), as in PyTorch's `bias=False`.
pub fn weight_and_bias(weight: Vec<usize>, column_major: bool, bias: Option<usize>) -> Vec<Tensor> {
    let mut tensors = vec![Tensor::new("weight", weight, Role::Weight, column_major)];
    if let Some(size) = bias {
        tensors.push(Tensor::new("bias", vec![size], Role::Bias, false));
    }
    tensors
}

/// `Init::He` before the ReLU family, `Init::Xavier` otherwise.
pub fn scheme(act: crate::model::Activation) -> TokenStream {
    use crate::model::Activation;
    match act {
        Activation::Relu => quote!(::sinew::init::Init::He { negative_slope: 0.0 }),
        Activation::LeakyRelu(s) => {
            let s = proc_macro2::Literal::f64_suffixed(s);
            quote!(::sinew::init::Init::He { negative_slope: #s })
        }
        _ => quote!(::sinew::init::Init::Xavier),
    }
}
