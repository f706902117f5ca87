//! What each layer kind contributes to the generated code, one file per kind (as the
//! runtime has one file per kind): the runtime type that implements `Layer` (or `Join`),
//! the shape type that holds its sizes and settings, its tensors, its initialisation and
//! its byte counts. The statements that call a layer are the same for every kind and live
//! in `expand/`.
//!
//! Adding a kind: its resolve rule in `shape.rs`, a file here with an `impl Code`, one arm
//! in [`code`], and its runtime file.

mod add;
mod batch_norm;
mod concat;
mod conv;
mod conv_transpose;
mod dense;
mod dropout;
mod flatten;
mod global_pool;
mod pool;

use crate::shape::{Kind, Layer, Model};
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};
use syn::Ident;

/// An unsuffixed integer literal.
pub fn lit(n: usize) -> Literal {
    Literal::usize_unsuffixed(n)
}

/// How the generated code calls a layer.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// `Layer::forward(&layer, x, buffers)`: one input.
    Layer,
    /// `Join::forward(&layer, &[inputs], output)`: several inputs.
    Join,
    /// Nothing: `Flatten` reads through to its input.
    Identity,
}

/// What one layer kind contributes to the generated code.
pub trait Code {
    /// The runtime type, e.g. `::sinew::layers::Conv2d<T, LeNet_c1>`; `shape` names the
    /// layer's shape type.
    fn runtime_type(&self, layer: &Layer, shape: &Ident) -> TokenStream;

    /// The impls of the kind's own shape trait for `shape` (`ConvShape`, ...), beyond the
    /// `Shape` impl every shape type has; `None` when the kind needs no shape type (its
    /// runtime type carries its sizes, or it has no runtime type).
    fn shape_impl(&self, layer: &Layer, model: &Model, shape: &Ident) -> Option<TokenStream>;

    /// How the generated code calls it.
    fn call(&self) -> Call {
        Call::Layer
    }

    /// The path of its parameter struct, for struct literals (`::sinew::layers::Dense`);
    /// empty for kinds without parameters.
    fn struct_path(&self) -> TokenStream {
        TokenStream::new()
    }

    /// The fields of its parameter struct, in order (a tensor each, except a missing bias).
    fn fields(&self) -> &'static [&'static str] {
        &[]
    }

    /// Its tensors, in PyTorch `state_dict` order.
    fn tensors(&self, _layer: &Layer) -> Vec<Tensor> {
        Vec::new()
    }

    /// The statement initialising a layer with parameters; `act` is the activation its
    /// output goes through.
    fn init(&self, _layer: &Layer, _act: crate::shape::Activation) -> TokenStream {
        TokenStream::new()
    }

    /// Values stored in its parameter struct (a layer without bias still stores a zero
    /// bias).
    fn stored(&self, _layer: &Layer) -> u128 {
        0
    }

    /// Values in its inference buffers for a batch of `b`.
    fn inference_values(&self, layer: &Layer, b: u128) -> u128 {
        layer.output.len() as u128 * b
    }

    /// Values in its training buffers for a batch of `b`.
    fn training_values(&self, layer: &Layer, b: u128) -> u128 {
        2 * layer.output.len() as u128 * b
    }
}

/// The code of a layer's kind: the one place that matches on every kind.
pub fn code(kind: &Kind) -> &'static dyn Code {
    match kind {
        Kind::Dense { .. } => &dense::Dense,
        Kind::Dropout { .. } => &dropout::Dropout,
        Kind::Conv2d { .. } => &conv::Conv2d,
        Kind::ConvTranspose2d { .. } => &conv_transpose::ConvTranspose2d,
        Kind::MaxPool { .. } => &pool::MaxPool2d,
        Kind::AvgPool { .. } => &pool::AvgPool2d,
        Kind::Flatten => &flatten::Flatten,
        Kind::BatchNorm { .. } => &batch_norm::BatchNorm,
        Kind::GlobalAvgPool { .. } => &global_pool::GlobalAvgPool,
        Kind::Add => &add::Add,
        Kind::Concat { .. } => &concat::Concat,
    }
}

/// The name of a layer's shape type: `LeNet_c1` for layer `c1` of `LeNet`.
pub fn shape_name(model: &Model, layer: &Layer) -> Ident {
    format_ident!("{}_{}", model.net.name, layer.name)
}

/// The runtime type of a layer.
pub fn runtime_type(model: &Model, layer: &Layer) -> TokenStream {
    code(&layer.kind).runtime_type(layer, &shape_name(model, layer))
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
        let Some(own) = code(&layer.kind).shape_impl(layer, model, &shape) else { continue };
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
    match (code(&layer.kind).call(), layer.inputs.first()) {
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
pub fn geometry(g: &crate::shape::Geo) -> TokenStream {
    let [c, h, w, kh, kw, sh, sw, ph, pw] = [g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw].map(lit);
    quote!(::sinew::layers::Geometry::new(#c, (#h, #w), (#kh, #kw), (#sh, #sw), (#ph, #pw)))
}

/// One tensor of a layer: suffix, PyTorch shape, role, layout and field path.
pub struct Tensor {
    pub suffix: &'static str,
    pub shape: Vec<usize>,
    pub role: TokenStream,
    pub layout: TokenStream,
    pub field: &'static str,
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
pub fn scheme(act: crate::shape::Activation) -> TokenStream {
    use crate::shape::Activation;
    match act {
        Activation::Relu => quote!(::sinew::init::Init::He { negative_slope: 0.0 }),
        Activation::LeakyRelu(s) => {
            let s = proc_macro2::Literal::f64_suffixed(s);
            quote!(::sinew::init::Init::He { negative_slope: #s })
        }
        _ => quote!(::sinew::init::Init::Xavier),
    }
}
