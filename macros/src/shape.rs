//! Layer kinds, options and sizes: each layer is resolved against the output shape of the
//! one before it, so sizes that are left out are inferred and sizes that are written are
//! checked. One resolve function per layer kind; each states its rules.

use crate::ast::{
    ActivationDecl, Arg, Args, InputDecl, Item, LayerDecl, MAX_SIZE, Network, ShapeDecl, Value,
};
use crate::report::Errors;
use crate::symbol;
use proc_macro2::Span;
use quote::ToTokens;
use std::collections::BTreeMap;
use syn::{Attribute, Ident};

use crate::graph;

/// The largest number of values one tensor or buffer may hold (2^31): beyond that rustc
/// itself rejects the array types, with a far less helpful message.
const MAX_TENSOR: u128 = 1 << 31;

/// A per-sample shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A feature vector.
    Flat(usize),
    /// Channels × height × width, stored channel-major (NCHW within a sample).
    Image { c: usize, h: usize, w: usize },
}

impl Shape {
    /// Values per sample: the number of rows of the activation matrix.
    pub fn len(self) -> usize {
        match self {
            Shape::Flat(n) => n,
            Shape::Image { c, h, w } => c.saturating_mul(h).saturating_mul(w),
        }
    }

    /// As written in a declaration.
    pub fn text(self) -> String {
        match self {
            Shape::Flat(n) => n.to_string(),
            Shape::Image { c, h, w } => format!("[{c}, {h}, {w}]"),
        }
    }
}

/// The geometry of a sliding window (mirrors the runtime's `Geometry`): input
/// `c × h × w`, kernel, stride, padding, output `ho × wo`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geo {
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
    pub ph: usize,
    pub pw: usize,
    pub ho: usize,
    pub wo: usize,
}

impl Geo {
    /// Output positions per channel.
    pub fn positions(&self) -> usize {
        self.ho.saturating_mul(self.wo)
    }

    /// Values under one window: `c·kh·kw`.
    pub fn patch(&self) -> usize {
        self.c.saturating_mul(self.kh).saturating_mul(self.kw)
    }

    /// Values of the unfolded input (im2col) per sample: `positions · patch`.
    pub fn unfolded(&self) -> usize {
        self.positions().saturating_mul(self.patch())
    }
}

/// `floor((n + 2p − k) / s) + 1`, or `None` if the kernel does not fit or `s = 0`; the
/// same formula as the runtime's `conv_output_size` (a test checks they agree).
pub fn conv_output(n: usize, k: usize, s: usize, p: usize) -> Option<usize> {
    let padded = p.checked_mul(2)?.checked_add(n)?;
    (s > 0 && k > 0 && k <= padded).then(|| (padded - k) / s + 1)
}

/// `(n − 1) s − 2p + k`, or `None` if not positive.
pub fn conv_transpose_output(n: usize, k: usize, s: usize, p: usize) -> Option<usize> {
    let full = n.checked_sub(1)?.checked_mul(s)?.checked_add(k)?;
    let cut = p.checked_mul(2)?;
    (s > 0 && k > 0 && full > cut).then(|| full - cut)
}

/// An activation with its arguments resolved.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    Identity,
    Sigmoid,
    Tanh,
    Relu,
    LeakyRelu(f64),
    Softmax,
}

impl Activation {
    /// As written in a declaration (canonical form).
    pub fn text(self) -> String {
        match self {
            Activation::Identity => symbol::IDENTITY.into(),
            Activation::Sigmoid => symbol::SIGMOID.into(),
            Activation::Tanh => symbol::TANH.into(),
            Activation::Relu => symbol::RELU.into(),
            Activation::LeakyRelu(s) => format!("{}({s:?})", symbol::LEAKY_RELU),
            Activation::Softmax => symbol::SOFTMAX.into(),
        }
    }
}

/// A layer kind with its arguments resolved.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    Dense {
        inputs: usize,
        outputs: usize,
        bias: bool,
    },
    Dropout {
        keep: f64,
    },
    Conv2d {
        co: usize,
        geo: Geo,
        bias: bool,
    },
    /// `geo` is the adjoint convolution's: its input is this layer's output (`co` channels),
    /// its output this layer's input (`ci` channels).
    ConvTranspose2d {
        ci: usize,
        co: usize,
        geo: Geo,
        bias: bool,
    },
    MaxPool {
        geo: Geo,
    },
    AvgPool {
        geo: Geo,
    },
    Flatten,
    BatchNorm {
        channels: usize,
        spatial: usize,
        eps: f64,
        momentum: f64,
    },
    /// The mean of each channel over its `spatial` positions: an image to `channels`
    /// features.
    GlobalAvgPool {
        channels: usize,
        spatial: usize,
    },
    /// The sum of two or more values of one shape.
    Add,
    /// Two or more values stacked: images along channels, vectors along features.
    Concat {
        output: Shape,
    },
}

/// Where a layer reads a value from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// The network input.
    Input,
    /// The output of the layer at this index of `Model::layers` (always an earlier one).
    Layer(usize),
}

/// A resolved layer.
pub struct Layer {
    /// The field name (`b1_c1` for layer `c1` of block use `b1`).
    pub name: Ident,
    /// The PyTorch module path that names its tensors (`b1.c1`).
    pub path: String,
    /// The values it reads, in order: one for most kinds (the previous layer unless
    /// `from = ..` says otherwise), two or more for `Add` and `Concat`.
    pub inputs: Vec<Source>,
    /// The names of `inputs` as written (`input` for the network input).
    pub input_names: Vec<String>,
    /// Whether the single input was named with `from = ..` rather than implied.
    pub explicit_from: bool,
    /// Attributes written on the layer (doc comments).
    pub attrs: Vec<Attribute>,
    pub kind: Kind,
    pub activation: Activation,
    pub output: Shape,
    /// `#[frozen]`: no gradient, no optimizer state, never updated.
    pub frozen: bool,
    /// The span of the layer's kind, for generated code.
    pub span: Span,
}

fn no_bias(bias: bool) -> &'static str {
    if bias { "" } else { ", bias = false" }
}

fn pair_text(a: usize, b: usize) -> String {
    if a == b { a.to_string() } else { format!("({a}, {b})") }
}

impl Layer {
    /// The declaration in canonical form, with every size written out.
    pub fn text(&self) -> String {
        let window = |g: &Geo, default_stride: (usize, usize)| {
            let mut s = format!("kernel = {}", pair_text(g.kh, g.kw));
            if (g.sh, g.sw) != default_stride {
                s += &format!(", stride = {}", pair_text(g.sh, g.sw));
            }
            if (g.ph, g.pw) != (0, 0) {
                s += &format!(", padding = {}", pair_text(g.ph, g.pw));
            }
            s
        };
        let kind = match self.kind {
            Kind::Dense { inputs, outputs, bias } => {
                format!("{}({inputs} => {outputs}{})", symbol::DENSE, no_bias(bias))
            }
            Kind::Dropout { keep } => format!("{}({} = {keep:?})", symbol::DROPOUT, symbol::KEEP),
            Kind::Conv2d { co, geo, bias } => {
                format!("{}({} => {co}, {}{})", symbol::CONV2D, geo.c, window(&geo, (1, 1)), no_bias(bias))
            }
            Kind::ConvTranspose2d { ci, co, geo, bias } => {
                format!(
                    "{}({ci} => {co}, {}{})",
                    symbol::CONV_TRANSPOSE2D,
                    window(&geo, (1, 1)),
                    no_bias(bias)
                )
            }
            Kind::MaxPool { geo } => format!("{}({})", symbol::MAX_POOL2D, window(&geo, (geo.kh, geo.kw))),
            Kind::AvgPool { geo } => format!("{}({})", symbol::AVG_POOL2D, window(&geo, (geo.kh, geo.kw))),
            Kind::Flatten => symbol::FLATTEN.into(),
            Kind::BatchNorm { eps, momentum, .. } => {
                format!(
                    "{}({} = {eps:?}, {} = {momentum:?})",
                    symbol::BATCH_NORM,
                    symbol::EPS,
                    symbol::MOMENTUM
                )
            }
            Kind::GlobalAvgPool { .. } => symbol::GLOBAL_AVG_POOL.into(),
            Kind::Add => format!("{}({})", symbol::ADD, self.input_names.join(", ")),
            Kind::Concat { .. } => format!("{}({})", symbol::CONCAT, self.input_names.join(", ")),
        };
        let kind = match (&self.kind, self.explicit_from, self.input_names.first()) {
            (Kind::Add | Kind::Concat { .. }, _, _) | (_, false, _) | (_, _, None) => kind,
            (_, true, Some(from)) => match kind.strip_suffix(')') {
                Some(open) => format!("{open}, {} = {from})", symbol::FROM),
                None => format!("{kind}({} = {from})", symbol::FROM),
            },
        };
        match self.activation {
            Activation::Identity => format!("{}: {kind}", self.path),
            act => format!("{}: {kind} -> {}", self.path, act.text()),
        }
    }

    /// Whether the layer is trained: it has parameters and is not frozen.
    pub fn trained(&self) -> bool {
        self.has_params() && !self.frozen
    }

    /// Whether the layer has parameters (and so a field in the struct).
    pub fn has_params(&self) -> bool {
        matches!(
            self.kind,
            Kind::Dense { .. } | Kind::Conv2d { .. } | Kind::ConvTranspose2d { .. } | Kind::BatchNorm { .. }
        )
    }

    /// Trainable values.
    pub fn parameter_count(&self) -> usize {
        match self.kind {
            Kind::Dense { inputs, outputs, bias } => inputs * outputs + if bias { outputs } else { 0 },
            Kind::Conv2d { co, geo, bias } => geo.patch() * co + if bias { co } else { 0 },
            Kind::ConvTranspose2d { ci, co, geo, bias } => {
                ci * co * geo.kh * geo.kw + if bias { co } else { 0 }
            }
            Kind::BatchNorm { channels, .. } => 2 * channels,
            _ => 0,
        }
    }

    /// Whether the layer has buffers of its own in training: `Flatten` shares its input's.
    pub fn has_training_buffer(&self) -> bool {
        self.kind != Kind::Flatten
    }

    /// Whether the layer has buffers of its own at inference: `Flatten` and `Dropout`
    /// (the identity then) pass their input on.
    pub fn has_inference_buffer(&self) -> bool {
        !matches!(self.kind, Kind::Flatten | Kind::Dropout { .. })
    }
}

/// The checked network: everything expansion needs.
pub struct Model<'a> {
    pub net: &'a Network,
    pub input: Shape,
    pub layers: Vec<Layer>,
}

impl Model<'_> {
    /// Output values per sample.
    pub fn output(&self) -> Shape {
        self.layers.last().map_or(self.input, |l| l.output)
    }

    /// The activation that decides what the output means: the last layer's, looking
    /// through dropout and flatten.
    pub fn head(&self) -> Activation {
        self.layers
            .iter()
            .rev()
            .find(|l| !matches!(l.kind, Kind::Dropout { .. } | Kind::Flatten))
            .map_or(Activation::Identity, |l| l.activation)
    }

    /// The shape of a value.
    pub fn shape_of(&self, source: Source) -> Shape {
        match source {
            Source::Input => self.input,
            Source::Layer(i) => self.layers[i].output,
        }
    }

    /// Where a value is stored in training: `Flatten` shares its input's buffers, so a
    /// chain of them leads back to the layer (or the input) that owns them.
    pub fn training_owner(&self, mut source: Source) -> Source {
        while let Source::Layer(i) = source
            && !self.layers[i].has_training_buffer()
        {
            source = self.layers[i].inputs[0];
        }
        source
    }

    /// Where a value is stored at inference: `Flatten` and `Dropout` pass their input on.
    pub fn inference_owner(&self, mut source: Source) -> Source {
        while let Source::Layer(i) = source
            && !self.layers[i].has_inference_buffer()
        {
            source = self.layers[i].inputs[0];
        }
        source
    }

    /// Whether any layer is `#[frozen]`.
    pub fn has_frozen(&self) -> bool {
        self.layers.iter().any(|l| l.frozen)
    }

    /// Whether any layer normalises with batch statistics.
    pub fn has_batch_norm(&self) -> bool {
        self.layers.iter().any(|l| matches!(l.kind, Kind::BatchNorm { .. }))
    }
}

/// Resolves every layer in declaration order, which is a topological order of the graph:
/// a layer reads the input or earlier layers only. Returns `None` when anything is wrong
/// (all of it is reported in `errors`).
pub fn resolve<'a>(net: &'a Network, input: Option<&InputDecl>, errors: &mut Errors) -> Option<Model<'a>> {
    let input_shape = input.and_then(|decl| input_shape(decl, errors));
    let decls: Vec<&LayerDecl> = net
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Layer(decl) => Some(decl),
            _ => None,
        })
        .collect();
    // What each layer produces, `None` where it could not be resolved: a layer reading
    // one of those is skipped quietly, so that one mistake does not cascade into mismatch
    // errors further down.
    let mut produced: Vec<Option<Prev>> = Vec::with_capacity(decls.len());
    let mut layers = Vec::new();
    let mut ok = input_shape.is_some();
    for (index, decl) in decls.iter().enumerate() {
        let resolved = graph::sources(decl, index, &decls, errors).and_then(|sources| {
            let prevs: Option<Vec<Prev>> = sources
                .iter()
                .map(|r| match r.source {
                    Source::Input => {
                        input_shape.map(|shape| Prev { shape, producer: Producer::Input, batch_norm: false })
                    }
                    Source::Layer(j) => produced[j].clone().map(|mut prev| {
                        if r.explicit {
                            prev.producer = prev.producer.named();
                        }
                        prev
                    }),
                })
                .collect();
            layer(decl, &sources, prevs.as_deref(), errors)
        });
        match resolved {
            Some(layer) => {
                produced.push(Some(Prev {
                    shape: layer.output,
                    producer: Producer::Layer { name: layer.path.clone(), previous: true },
                    batch_norm: matches!(layer.kind, Kind::BatchNorm { .. }),
                }));
                layers.push(layer);
            }
            None => {
                produced.push(None);
                ok = false;
            }
        }
    }
    if ok && !layers.is_empty() && !layers.iter().any(Layer::has_params) {
        errors.at(
            net.body_span,
            format!("network `{}` has no layer with parameters; add one, e.g. `out: Dense(10)`", net.name),
        );
        ok = false;
    }
    if ok {
        ok = graph::all_used(net, &layers, errors);
    }
    if !ok || !errors.is_empty() {
        return None;
    }
    Some(Model { net, input: input_shape?, layers })
}

/// What flows into a layer.
#[derive(Clone)]
pub(crate) struct Prev {
    pub(crate) shape: Shape,
    pub(crate) producer: Producer,
    batch_norm: bool,
}

/// Who produced the shape flowing into a layer, for messages.
#[derive(Clone)]
pub(crate) enum Producer {
    Input,
    /// A layer: the previous one (read implicitly) or one named with `from` / in `Add`.
    Layer {
        name: String,
        previous: bool,
    },
}

impl Producer {
    /// The same producer, named by the reader rather than implied.
    fn named(self) -> Self {
        match self {
            Producer::Layer { name, .. } => Producer::Layer { name, previous: false },
            input => input,
        }
    }

    /// `layer `c1``, `the network input`.
    pub(crate) fn who(&self) -> String {
        match self {
            Producer::Input => String::from("the network input"),
            Producer::Layer { name, .. } => format!("`{name}`"),
        }
    }

    pub(crate) fn produces(&self, shape: Shape) -> String {
        let layer = |name: &str, previous: bool| {
            if previous { format!("the previous layer `{name}`") } else { format!("layer `{name}`") }
        };
        match (self, shape) {
            (Producer::Input, Shape::Flat(n)) => format!("the network input has {n} features"),
            (Producer::Input, image) => format!("the network input is an image {}", image.text()),
            (Producer::Layer { name, previous }, Shape::Flat(n)) => {
                format!("{} produces {n} features", layer(name, *previous))
            }
            (Producer::Layer { name, previous }, image) => {
                format!("{} produces an image {}", layer(name, *previous), image.text())
            }
        }
    }
}

fn input_shape(decl: &InputDecl, errors: &mut Errors) -> Option<Shape> {
    shape_of(&decl.shape, "`input`", errors)
}

/// A written shape: `N` or `[C, H, W]`, every size positive.
fn shape_of(decl: &ShapeDecl, what: &str, errors: &mut Errors) -> Option<Shape> {
    match decl {
        ShapeDecl::Flat(v) => size(v, what, "features", errors).map(Shape::Flat),
        ShapeDecl::Image(dims, span) => {
            if dims.len() != 3 {
                errors.at(
                    *span,
                    format!("{what}: an image shape has three sizes, `[channels, height, width]`"),
                );
                return None;
            }
            let c = size(&dims[0], what, "channels", errors);
            let h = size(&dims[1], what, "rows", errors);
            let w = size(&dims[2], what, "columns", errors);
            let image = Shape::Image { c: c?, h: h?, w: w? };
            if image.len() as u128 > MAX_TENSOR {
                errors.at(
                    *span,
                    format!(
                        "{what}: an image {} has more than 2^31 values per sample; sinew networks are statically sized and must stay smaller",
                        image.text()
                    ),
                );
                return None;
            }
            Some(image)
        }
    }
}

/// A positive integer size. `what` names the thing for messages (e.g. "layer `hidden`"),
/// `unit` what it counts (e.g. "outputs").
fn size(value: &Value, what: &str, unit: &str, errors: &mut Errors) -> Option<usize> {
    match value {
        Value::Int(lit) if lit.base10_digits().starts_with('-') => {
            errors.error(
                lit,
                format!("{what} cannot have a negative number of {unit}; sizes must be at least 1"),
            );
            None
        }
        Value::Int(lit) => match lit.base10_parse::<usize>() {
            Ok(0) => {
                errors.error(lit, format!("{what} has 0 {unit}; sizes must be at least 1"));
                None
            }
            Ok(n) if n > MAX_SIZE => {
                errors.error(lit, too_large(what, lit));
                None
            }
            Ok(n) if lit.suffix().is_empty() || lit.suffix() == "usize" => Some(n),
            Ok(_) => {
                errors.error(
                    lit,
                    format!("{what}: write the size without a type suffix, e.g. `{}`", lit.base10_digits()),
                );
                None
            }
            Err(_) => {
                errors.error(lit, too_large(what, lit));
                None
            }
        },
        Value::Neg(..) => {
            errors.error(
                value,
                format!("{what} cannot have a negative number of {unit}; sizes must be at least 1"),
            );
            None
        }
        Value::Reported(_) => None,
        Value::Ident(ident) => {
            errors.error(
                ident,
                format!("{what}: `{ident}` is not a number the macro knows; it checks every shape when it expands, before the compiler evaluates constants, so declare the constant in this `network!`, before the network (`const {ident}: usize = 64;`), and the rest of the program can use it too"),
            );
            None
        }
        _ => {
            errors.error(
                value,
                format!("{what}: expected a positive integer number of {unit}, found `{}`", value.text()),
            );
            None
        }
    }
}

fn too_large(what: &str, lit: &syn::LitInt) -> String {
    format!(
        "{what}: `{lit}` is too large; sizes are at most 2^31 = 2,147,483,648, and every tensor at most 2^31 values"
    )
}

/// A non-negative integer (paddings).
fn count(value: &Value, what: &str, errors: &mut Errors) -> Option<usize> {
    match value {
        Value::Int(lit) if !lit.base10_digits().starts_with('-') && lit.suffix().is_empty() => {
            match lit.base10_parse::<usize>() {
                Ok(n) if n <= MAX_SIZE => Some(n),
                _ => {
                    errors.error(lit, too_large(what, lit));
                    None
                }
            }
        }
        Value::Reported(_) => None,
        _ => {
            errors.error(value, format!("{what}: expected a non-negative integer, found `{}`", value.text()));
            None
        }
    }
}

/// `k` or `(kh, kw)`: the same for both axes, or one each. `zero_ok` allows 0 (padding).
fn pair(value: &Value, what: &str, unit: &str, zero_ok: bool, errors: &mut Errors) -> Option<(usize, usize)> {
    let one = |v: &Value, errors: &mut Errors| {
        if zero_ok {
            return count(v, what, errors);
        }
        if let Value::Int(lit) = v
            && lit.base10_parse::<usize>().ok() == Some(0)
        {
            errors.error(lit, format!("{what}: a {unit} of 0 is impossible; it must be at least 1"));
            return None;
        }
        size(v, what, unit, errors)
    };
    match value {
        Value::Tuple(_, items) if items.len() == 2 => {
            let a = one(&items[0], errors);
            let b = one(&items[1], errors);
            Some((a?, b?))
        }
        Value::Tuple(..) => {
            errors.error(value, format!("{what}: write one {unit} for both axes, or `(height, width)`"));
            None
        }
        v => one(v, errors).map(|n| (n, n)),
    }
}

/// A finite number (integer or float literal, possibly negative).
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Int(lit) => lit.base10_parse::<f64>().ok(),
        Value::Float(lit) => lit.base10_parse::<f64>().ok(),
        Value::Neg(_, inner) => number(inner).map(|v| -v),
        _ => None,
    }
}

/// The arguments of a layer split into positional values and named options, checking the
/// option names against `allowed` (with suggestions) and rejecting repeats.
struct Options<'a> {
    positional: Vec<&'a Value>,
    named: BTreeMap<String, &'a Value>,
    /// Whether every option was known and given once.
    valid: bool,
}

fn options<'a>(decl: &'a LayerDecl, kind: &str, allowed: &[&str], errors: &mut Errors) -> Options<'a> {
    let mut out = Options { positional: Vec::new(), named: BTreeMap::new(), valid: true };
    let mut ok = true;
    for arg in decl.args.as_ref().map_or(&[][..], |a: &Args| &a.list) {
        match arg {
            Arg::Positional(v) => out.positional.push(v),
            Arg::Named { name, .. } if name == symbol::FROM => {}
            Arg::Named { name, value } => {
                let key = name.to_string();
                if !allowed.contains(&key.as_str()) {
                    let context = format!(" for `{kind}` layer `{}`", decl.path);
                    let message = if allowed.is_empty() {
                        format!("unknown option `{key}`{context}; `{kind}` takes no options")
                    } else {
                        symbol::unknown("option", &key, &context, allowed)
                    };
                    errors.error(name, message);
                    ok = false;
                } else if out.named.insert(key.clone(), value).is_some() {
                    errors.error(name, format!("option `{key}` of layer `{}` is given twice", decl.path));
                    ok = false;
                }
            }
            Arg::Arrow { from, arrow, to } => {
                let mut tokens = proc_macro2::TokenStream::new();
                from.to_tokens(&mut tokens);
                arrow.to_tokens(&mut tokens);
                to.to_tokens(&mut tokens);
                errors.error(
                    tokens,
                    format!("`{kind}` does not take `in => out`; write the output size alone"),
                );
                ok = false;
            }
        }
    }
    out.valid = ok;
    out
}

fn layer(
    decl: &LayerDecl,
    sources: &[graph::Reference],
    prevs: Option<&[Prev]>,
    errors: &mut Errors,
) -> Option<Layer> {
    let kind_name = decl.kind.to_string();
    let prev = prevs.and_then(|p| p.first());
    let kind = match kind_name.as_str() {
        symbol::ADD => graph::add(decl, sources, prevs, errors),
        symbol::CONCAT => graph::concat(decl, sources, prevs, errors),
        symbol::GLOBAL_AVG_POOL => global_avg_pool(decl, prev, errors),
        symbol::DENSE => dense(decl, prev, errors),
        symbol::DROPOUT => dropout(decl, prev, errors),
        symbol::CONV2D => conv2d(decl, prev, errors),
        symbol::CONV_TRANSPOSE2D => conv_transpose2d(decl, prev, errors),
        symbol::MAX_POOL2D | symbol::AVG_POOL2D => pool(decl, &kind_name, prev, errors),
        symbol::FLATTEN => flatten(decl, prev, errors),
        symbol::BATCH_NORM => batch_norm(decl, prev, errors),
        other => {
            errors.error(&decl.kind, symbol::unknown("layer", other, "", symbol::LAYERS));
            None
        }
    };
    let activation = activation(decl, kind, errors);
    let (kind, activation) = (kind?, activation?);
    let input = prev?.shape;
    let output = match kind {
        Kind::Dense { outputs, .. } => Shape::Flat(outputs),
        Kind::Conv2d { co, geo, .. } => Shape::Image { c: co, h: geo.ho, w: geo.wo },
        Kind::ConvTranspose2d { co, geo, .. } => Shape::Image { c: co, h: geo.h, w: geo.w },
        Kind::MaxPool { geo } | Kind::AvgPool { geo } => Shape::Image { c: geo.c, h: geo.ho, w: geo.wo },
        Kind::Flatten => Shape::Flat(input.len()),
        Kind::Dropout { .. } | Kind::BatchNorm { .. } | Kind::Add => input,
        Kind::GlobalAvgPool { channels, .. } => Shape::Flat(channels),
        Kind::Concat { output } => output,
    };
    if activation == Activation::Softmax && matches!(output, Shape::Image { .. }) {
        let name = decl.activation.as_ref().map(|a| &a.name);
        errors.error(
            name,
            format!(
                "layer `{}` produces an image {}; softmax over an image is ambiguous, so flatten first",
                decl.path,
                output.text()
            ),
        );
        return None;
    }
    if output.len() as u128 > MAX_TENSOR {
        errors.error(
            &decl.kind,
            format!(
                "layer `{}` would produce {} values per sample, more than 2^31",
                decl.path,
                if output.len() == usize::MAX { "over 2^64".to_string() } else { output.len().to_string() }
            ),
        );
        return None;
    }
    if let Some(assertion) = &decl.assertion {
        let written = shape_of(assertion, &format!("the shape asserted for `{}`", decl.path), errors)?;
        if written != output {
            errors.error(
                assertion_tokens(assertion),
                format!(
                    "layer `{}` produces {}, not {} as asserted; fix the assertion, or the layer's sizes",
                    decl.path,
                    output.text(),
                    written.text()
                ),
            );
            return None;
        }
    }
    let layer = Layer {
        name: decl.name.clone(),
        path: decl.path.clone(),
        inputs: sources.iter().map(|r| r.source).collect(),
        input_names: sources.iter().map(|r| r.name.clone()).collect(),
        explicit_from: sources.len() == 1 && sources[0].explicit && !decl.implied_from,
        attrs: decl.attrs.clone(),
        kind,
        activation,
        output,
        frozen: decl.frozen,
        span: decl.kind.span(),
    };
    if layer.frozen && !layer.has_params() {
        errors.error(
            &decl.name,
            format!(
                "layer `{}` has no parameters, so `#[frozen]` does nothing; freeze a `Dense`, `Conv2d`, `ConvTranspose2d` or `BatchNorm` layer",
                decl.path
            ),
        );
        return None;
    }
    Some(layer)
}

fn assertion_tokens(decl: &ShapeDecl) -> proc_macro2::TokenStream {
    match decl {
        ShapeDecl::Flat(v) => v.to_token_stream(),
        ShapeDecl::Image(_, span) => {
            let mut group =
                proc_macro2::Group::new(proc_macro2::Delimiter::Bracket, proc_macro2::TokenStream::new());
            group.set_span(*span);
            proc_macro2::TokenTree::Group(group).into_token_stream()
        }
    }
}

/// The image flowing into a layer that needs one, or an error saying so.
fn image_input(
    decl: &LayerDecl,
    kind: &str,
    prev: &Prev,
    errors: &mut Errors,
) -> Option<(usize, usize, usize)> {
    match prev.shape {
        Shape::Image { c, h, w } => Some((c, h, w)),
        flat @ Shape::Flat(_) => {
            let hint = match prev.producer {
                Producer::Input => "declare the input as an image, e.g. `input: [1, 28, 28]`".to_string(),
                Producer::Layer { .. } => "image layers go before `Flatten` and dense layers".to_string(),
            };
            errors.error(
                &decl.kind,
                format!(
                    "`{kind}` layer `{}` needs an image [channels, height, width], but {}; {hint}",
                    decl.path,
                    prev.producer.produces(flat)
                ),
            );
            None
        }
    }
}

/// Rule: `Dense(out)` or `Dense(in => out)`, sizes positive, `in` equal to what the previous
/// layer produces, and that a flat vector (after `Flatten` if it was an image).
fn dense(decl: &LayerDecl, prev: Option<&Prev>, errors: &mut Errors) -> Option<Kind> {
    let name = &decl.name;
    let usage = format!(
        "write `{name}: Dense(<outputs>)`, or `Dense(<inputs> => <outputs>)` to also check the input size"
    );
    let Some(args) = &decl.args else {
        errors.error(&decl.kind, format!("`Dense` layer `{name}` needs its number of outputs; {usage}"));
        return None;
    };
    let what = format!("layer `{name}`");
    let mut outputs = None;
    let mut written_inputs = None;
    let mut seen_size = false;
    let mut bias = Some(true);
    for arg in &args.list {
        match arg {
            Arg::Named { name: option, .. } if option == symbol::FROM => {}
            Arg::Named { name: option, value } if option == symbol::BIAS => {
                bias = flag(value, &what, symbol::BIAS, errors);
            }
            Arg::Named { name: option, .. } => {
                errors.error(
                    option,
                    symbol::unknown(
                        "option",
                        &option.to_string(),
                        &format!(" for `Dense` layer `{name}`"),
                        &[symbol::BIAS],
                    ),
                );
            }
            _ if seen_size => {
                errors.error(arg_tokens(arg), format!("`Dense` layer `{name}` takes one size; {usage}"));
            }
            Arg::Positional(v) => {
                seen_size = true;
                outputs = size(v, &what, "outputs", errors);
            }
            Arg::Arrow { from, to, .. } => {
                seen_size = true;
                written_inputs = Some((from, size(from, &what, "inputs", errors)));
                outputs = size(to, &what, "outputs", errors);
            }
        }
    }
    if !seen_size {
        errors.at(args.span, format!("`Dense` layer `{name}` needs its number of outputs; {usage}"));
        return None;
    }
    let outputs = outputs?;
    let prev = prev?;
    let available = match prev.shape {
        Shape::Flat(n) => n,
        image @ Shape::Image { .. } => {
            errors.error(
                &decl.kind,
                format!(
                    "`Dense` layer `{name}` needs a flat input, but {}; add `flat: Flatten,` before it (it gives {} features)",
                    prev.producer.produces(image),
                    image.len()
                ),
            );
            return None;
        }
    };
    if let Some((tokens, inputs)) = written_inputs {
        let inputs = inputs?;
        if inputs != available {
            errors.error(
                tokens,
                format!(
                    "layer `{name}` expects {inputs} inputs, but {}; write `Dense({available} => {outputs})`, or leave the input size out to infer it",
                    prev.producer.produces(prev.shape)
                ),
            );
            return None;
        }
    }
    if (available as u128) * (outputs as u128) > MAX_TENSOR {
        errors.error(
            &decl.kind,
            format!("layer `{name}` would have {available} x {outputs} weights, more than 2^31; sinew networks are statically sized and must stay smaller"),
        );
        return None;
    }
    Some(Kind::Dense { inputs: available, outputs, bias: bias? })
}

/// Rule: `Dropout(keep = p)` with `0 < p <= 1`, and no activation.
fn dropout(decl: &LayerDecl, prev: Option<&Prev>, errors: &mut Errors) -> Option<Kind> {
    let name = &decl.name;
    let usage = format!(
        "write `{name}: Dropout(keep = 0.8)`: `keep` is the probability of keeping a unit (PyTorch's `p` is `1 - keep`)"
    );
    let mut keep = None;
    let mut seen = false;
    let list = decl.args.as_ref().map_or(&[][..], |a: &Args| &a.list);
    for arg in list {
        match arg {
            Arg::Named { name: option, .. } if option == symbol::FROM => {}
            Arg::Named { name: option, value } if option == symbol::KEEP => {
                seen = true;
                keep = match number(value) {
                    Some(p) if p > 0.0 && p <= 1.0 => Some(p),
                    Some(_) => {
                        errors.error(
                            value,
                            format!(
                                "`keep` of dropout layer `{name}` must be in (0, 1], found `{}`; it is the probability of keeping a unit (PyTorch's `p` is `1 - keep`)",
                                value.text()
                            ),
                        );
                        None
                    }
                    None => {
                        errors.error(
                            value,
                            format!(
                                "`keep` of dropout layer `{name}` must be a number in (0, 1], found `{}`",
                                value.text()
                            ),
                        );
                        None
                    }
                };
            }
            Arg::Named { name: option, .. } => {
                errors.error(
                    option,
                    symbol::unknown(
                        "option",
                        &option.to_string(),
                        &format!(" for `Dropout` layer `{name}`"),
                        &[symbol::KEEP],
                    ),
                );
            }
            other => {
                errors.error(arg_tokens(other), format!("`Dropout` takes its probability by name; {usage}"));
            }
        }
    }
    if !seen {
        if list.is_empty() {
            errors.error(&decl.kind, format!("`Dropout` layer `{name}` needs `keep`; {usage}"));
        }
        return None;
    }
    no_activation(decl, "dropout", errors)?;
    prev?;
    keep.map(|keep| Kind::Dropout { keep })
}

/// Rule: a layer without an activation of its own.
fn no_activation(decl: &LayerDecl, what: &str, errors: &mut Errors) -> Option<()> {
    if let Some(act) = &decl.activation {
        errors.error(
            &act.name,
            format!(
                "{what} layer `{}` takes no activation; put `-> {}` on the layer before it",
                decl.path, act.name
            ),
        );
        return None;
    }
    Some(())
}

/// The kernel, stride and padding of a convolution or pooling layer, as written.
struct WindowSpec<'a> {
    kernel: (usize, usize),
    stride: (usize, usize),
    padding: (usize, usize),
    /// The kernel's tokens, for errors.
    kernel_value: &'a Value,
}

/// Reads `kernel` (required), `stride` (default `default_stride`, or the kernel) and
/// `padding` (default 0); each is one size or `(height, width)`. With `same_ok`, `padding =
/// same` keeps the height and width: stride 1 and an odd kernel, padded by `(k − 1) / 2`
/// (PyTorch's `padding='same'` for odd kernels).
fn window_spec<'a>(
    decl: &LayerDecl,
    opts: &Options<'a>,
    kernel: Option<&'a Value>,
    default_stride: Option<(usize, usize)>,
    same_ok: bool,
    errors: &mut Errors,
) -> Option<WindowSpec<'a>> {
    let name = &decl.name;
    let what = format!("layer `{name}`");
    let Some(kernel_value) = kernel else {
        // A misspelt option (already reported, with a suggestion) is the likely cause.
        if opts.valid {
            errors.error(
                &decl.kind,
                format!("layer `{name}` needs a kernel size, e.g. `kernel = 3` or `kernel = (3, 5)`"),
            );
        }
        return None;
    };
    let kernel = pair(kernel_value, &what, "kernel size", false, errors);
    let stride = match opts.named.get(symbol::STRIDE) {
        Some(v) => pair(v, &what, "stride", false, errors),
        None => default_stride.or(kernel),
    };
    let padding = match opts.named.get(symbol::PADDING) {
        Some(Value::Ident(same)) if same == symbol::SAME => {
            same_padding(decl, same, same_ok, kernel, stride, errors)
        }
        Some(v) => pair(v, &what, "padding", true, errors),
        None => Some((0, 0)),
    };
    Some(WindowSpec { kernel: kernel?, stride: stride?, padding: padding?, kernel_value })
}

/// `padding = same`: `(k − 1) / 2` on each axis, for a convolution of stride 1 with an odd
/// kernel; anything else is an error on `same` saying why.
fn same_padding(
    decl: &LayerDecl,
    same: &syn::Ident,
    same_ok: bool,
    kernel: Option<(usize, usize)>,
    stride: Option<(usize, usize)>,
    errors: &mut Errors,
) -> Option<(usize, usize)> {
    let name = &decl.name;
    if !same_ok {
        errors.error(
            same,
            format!(
                "layer `{name}`: `padding = same` is for `Conv2d`; give `{}` its padding as a number",
                decl.kind
            ),
        );
        return None;
    }
    let ((kh, kw), stride) = (kernel?, stride?);
    if stride != (1, 1) {
        errors.error(
            same,
            format!(
                "layer `{name}`: `padding = same` keeps the size only with stride 1, but the stride is {}; give the padding as a number",
                pair_text(stride.0, stride.1)
            ),
        );
        return None;
    }
    if kh % 2 == 0 || kw % 2 == 0 {
        errors.error(
            same,
            format!(
                "layer `{name}`: `padding = same` needs an odd kernel (it pads (k - 1) / 2 on each side), but the kernel is {}",
                pair_text(kh, kw)
            ),
        );
        return None;
    }
    Some(((kh - 1) / 2, (kw - 1) / 2))
}

/// The window over a `c × h × w` input, with its output size; an error (on the kernel)
/// if the kernel does not fit the padded input.
fn fit_window(
    decl: &LayerDecl,
    (c, h, w): (usize, usize, usize),
    spec: &WindowSpec,
    errors: &mut Errors,
) -> Option<Geo> {
    let ((kh, kw), (sh, sw), (ph, pw)) = (spec.kernel, spec.stride, spec.padding);
    let (ho, wo) = (conv_output(h, kh, sh, ph), conv_output(w, kw, sw, pw));
    let (Some(ho), Some(wo)) = (ho, wo) else {
        let mut axes = Vec::new();
        if ho.is_none() {
            axes.push(format!("height {h} + 2 x {ph} = {} < {kh}", h + 2 * ph));
        }
        if wo.is_none() {
            axes.push(format!("width {w} + 2 x {pw} = {} < {kw}", w + 2 * pw));
        }
        errors.error(
            spec.kernel_value,
            format!(
                "layer `{}`: its {kh} x {kw} kernel does not fit its input {} with padding ({}); use a smaller kernel, more padding, or less pooling before it",
                decl.path,
                Shape::Image { c, h, w }.text(),
                axes.join(", ")
            ),
        );
        return None;
    };
    Some(Geo { c, h, w, kh, kw, sh, sw, ph, pw, ho, wo })
}

/// Rule: `Conv2d(out_channels, kernel = k | (kh, kw), stride = s | (sh, sw), padding =
/// p | (ph, pw))` on an image; the kernel fits the padded input; sizes positive.
fn conv2d(decl: &LayerDecl, prev: Option<&Prev>, errors: &mut Errors) -> Option<Kind> {
    let opts = options(
        decl,
        symbol::CONV2D,
        &[symbol::KERNEL, symbol::STRIDE, symbol::PADDING, symbol::BIAS],
        errors,
    );
    let co = out_channels(decl, symbol::CONV2D, &opts, errors);
    let bias = bias_option(decl, &opts, errors);
    let spec = window_spec(decl, &opts, opts.named.get(symbol::KERNEL).copied(), Some((1, 1)), true, errors);
    let input = image_input(decl, symbol::CONV2D, prev?, errors)?;
    let geo = fit_window(decl, input, &spec?, errors)?;
    let co = co?;
    if !opts.valid {
        return None;
    }
    if !tensors_fit(decl, &[("unfold", geo.unfolded()), ("have", geo.patch().saturating_mul(co))], errors) {
        return None;
    }
    Some(Kind::Conv2d { co, geo, bias: bias? })
}

/// Checks that each of a layer's buffers or weights (`(verb, values)`, e.g. `("have",
/// weights)`) holds at most 2^31 values.
fn tensors_fit(decl: &LayerDecl, tensors: &[(&str, usize)], errors: &mut Errors) -> bool {
    for &(verb, values) in tensors {
        if values as u128 > MAX_TENSOR {
            let count = if values == usize::MAX { "over 2^64".to_string() } else { values.to_string() };
            let noun = if verb == "have" { "weights" } else { "values per sample" };
            errors.error(
                &decl.kind,
                format!("layer `{}` would {verb} {count} {noun}, more than 2^31; sinew networks are statically sized and must stay smaller", decl.path),
            );
            return false;
        }
    }
    true
}

/// `bias = false` drops the layer's bias (PyTorch's `bias=False`, e.g. before batch norm).
fn bias_option(decl: &LayerDecl, opts: &Options, errors: &mut Errors) -> Option<bool> {
    match opts.named.get(symbol::BIAS) {
        None => Some(true),
        Some(v) => flag(v, &format!("layer `{}`", decl.path), symbol::BIAS, errors),
    }
}

/// `true` or `false`.
fn flag(value: &Value, what: &str, key: &str, errors: &mut Errors) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(b.value),
        Value::Reported(_) => None,
        _ => {
            errors.error(value, format!("{what}: `{key}` is `true` or `false`, found `{}`", value.text()));
            None
        }
    }
}

fn out_channels(decl: &LayerDecl, kind: &str, opts: &Options, errors: &mut Errors) -> Option<usize> {
    let name = &decl.name;
    match opts.positional.as_slice() {
        [] => {
            errors.error(&decl.kind, format!("`{kind}` layer `{name}` needs its number of output channels, e.g. `{kind}(16, kernel = 3)`"));
            None
        }
        [v] => size(v, &format!("layer `{name}`"), "output channels", errors),
        [_, extra, ..] => {
            errors.error(
                *extra,
                format!(
                    "`{kind}` takes one positional value, the output channels; name the others (`kernel = 3`)"
                ),
            );
            None
        }
    }
}

/// Rule: `ConvTranspose2d(out_channels, kernel, stride, padding)` on an image; the output
/// `(n − 1) s − 2p + k` is positive on both axes.
fn conv_transpose2d(decl: &LayerDecl, prev: Option<&Prev>, errors: &mut Errors) -> Option<Kind> {
    let opts = options(
        decl,
        symbol::CONV_TRANSPOSE2D,
        &[symbol::KERNEL, symbol::STRIDE, symbol::PADDING, symbol::BIAS],
        errors,
    );
    let co = out_channels(decl, symbol::CONV_TRANSPOSE2D, &opts, errors);
    let bias = bias_option(decl, &opts, errors);
    let spec = window_spec(decl, &opts, opts.named.get(symbol::KERNEL).copied(), Some((1, 1)), false, errors);
    let (ci, hi, wi) = image_input(decl, symbol::CONV_TRANSPOSE2D, prev?, errors)?;
    let spec = spec?;
    let kernel_value = spec.kernel_value;
    let (co, (kh, kw), (sh, sw), (ph, pw)) = (co?, spec.kernel, spec.stride, spec.padding);
    if !opts.valid {
        return None;
    }
    let (Some(h), Some(w)) = (conv_transpose_output(hi, kh, sh, ph), conv_transpose_output(wi, kw, sw, pw))
    else {
        errors.error(
            kernel_value,
            format!(
                "layer `{}`: on its input {} the output size (n - 1) x stride - 2 x padding + kernel is not positive; reduce the padding",
                decl.path,
                Shape::Image { c: ci, h: hi, w: wi }.text()
            ),
        );
        return None;
    };
    let geo = Geo { c: co, h, w, kh, kw, sh, sw, ph, pw, ho: hi, wo: wi };
    if !tensors_fit(decl, &[("unfold", geo.unfolded()), ("have", geo.patch().saturating_mul(ci))], errors) {
        return None;
    }
    Some(Kind::ConvTranspose2d { ci, co, geo, bias: bias? })
}

/// Rule: `MaxPool2d(k)` / `AvgPool2d(k)` (or `kernel = k`), `stride` defaulting to the
/// kernel, `padding` at most half the kernel (PyTorch's rule), on an image.
fn pool(decl: &LayerDecl, kind: &str, prev: Option<&Prev>, errors: &mut Errors) -> Option<Kind> {
    let opts = options(decl, kind, &[symbol::KERNEL, symbol::STRIDE, symbol::PADDING], errors);
    let kernel = match (opts.positional.as_slice(), opts.named.get(symbol::KERNEL)) {
        ([k], None) => Some(*k),
        ([], Some(k)) => Some(*k),
        ([], None) => None,
        _ => {
            errors.error(
                &decl.kind,
                format!(
                    "`{kind}` layer `{}` takes its kernel once: `{kind}(2)` or `{kind}(kernel = 2)`",
                    decl.path
                ),
            );
            return None;
        }
    };
    let spec = window_spec(decl, &opts, kernel, None, false, errors);
    if let Some(spec) = &spec
        && (2 * spec.padding.0 > spec.kernel.0 || 2 * spec.padding.1 > spec.kernel.1)
    {
        let padding = opts.named.get(symbol::PADDING).copied();
        let (kh, kw) = spec.kernel;
        errors.error(
            padding,
            format!("layer `{}`: padding must be at most half the {kh} x {kw} kernel, or a window could hold only padding", decl.path),
        );
        return None;
    }
    let input = image_input(decl, kind, prev?, errors)?;
    let geo = fit_window(decl, input, &spec?, errors)?;
    if !opts.valid {
        return None;
    }
    Some(if kind == symbol::MAX_POOL2D { Kind::MaxPool { geo } } else { Kind::AvgPool { geo } })
}

/// Rule: `GlobalAvgPool` takes the mean of each channel of an image over its height and
/// width (PyTorch's `AdaptiveAvgPool2d(1)` then `flatten`), giving one feature per
/// channel; it takes no arguments and no activation.
fn global_avg_pool(decl: &LayerDecl, prev: Option<&Prev>, errors: &mut Errors) -> Option<Kind> {
    let opts = options(decl, symbol::GLOBAL_AVG_POOL, &[], errors);
    if let Some(v) = opts.positional.first() {
        errors.error(
            *v,
            format!("`GlobalAvgPool` layer `{}` takes no arguments: it averages every channel over the whole image", decl.path),
        );
        return None;
    }
    no_activation(decl, "global average pooling", errors)?;
    let (c, h, w) = image_input(decl, symbol::GLOBAL_AVG_POOL, prev?, errors)?;
    if !opts.valid {
        return None;
    }
    Some(Kind::GlobalAvgPool { channels: c, spatial: h * w })
}

/// Rule: `Flatten` turns an image into its `C·H·W` features, in place; on a flat input it
/// would do nothing.
fn flatten(decl: &LayerDecl, prev: Option<&Prev>, errors: &mut Errors) -> Option<Kind> {
    let opts = options(decl, symbol::FLATTEN, &[], errors);
    if let Some(v) = opts.positional.first() {
        errors.error(*v, format!("`Flatten` layer `{}` takes no arguments", decl.path));
        return None;
    }
    no_activation(decl, "flatten", errors)?;
    let prev = prev?;
    if !opts.valid {
        return None;
    }
    if let flat @ Shape::Flat(_) = prev.shape {
        errors.error(
            &decl.kind,
            format!(
                "`Flatten` layer `{}` has nothing to do: {}; remove it",
                decl.path,
                prev.producer.produces(flat)
            ),
        );
        return None;
    }
    Some(Kind::Flatten)
}

/// Rule: `BatchNorm` (optionally `eps = e` > 0, `momentum = m` in [0, 1]) normalises the
/// features of a flat input or the channels of an image; directly after another
/// `BatchNorm` it would normalise what is already normalised.
fn batch_norm(decl: &LayerDecl, prev: Option<&Prev>, errors: &mut Errors) -> Option<Kind> {
    let opts = options(decl, symbol::BATCH_NORM, &[symbol::EPS, symbol::MOMENTUM], errors);
    if let Some(v) = opts.positional.first() {
        errors.error(
            *v,
            format!(
                "`BatchNorm` layer `{}` infers its size; name its options, e.g. `BatchNorm(eps = 1e-3)`",
                decl.path
            ),
        );
        return None;
    }
    let mut get = |key: &str, default: f64, ok: fn(f64) -> bool, rule: &str| -> Option<f64> {
        match opts.named.get(key) {
            None => Some(default),
            Some(v) => match number(v) {
                Some(x) if ok(x) => Some(x),
                _ => {
                    errors.error(
                        *v,
                        format!("`{key}` of layer `{}` must be {rule}, found `{}`", decl.path, v.text()),
                    );
                    None
                }
            },
        }
    };
    let eps = get(symbol::EPS, 1e-5, |e| e > 0.0 && e.is_finite(), "a positive number");
    let momentum = get(symbol::MOMENTUM, 0.1, |m| (0.0..=1.0).contains(&m), "in [0, 1]");
    let prev = prev?;
    if !opts.valid {
        return None;
    }
    if prev.batch_norm {
        let Producer::Layer { name: before, .. } = &prev.producer else { return None };
        errors.error(
            &decl.kind,
            format!("`BatchNorm` layer `{}` directly follows `BatchNorm` layer `{before}`, whose output is already normalised; remove one", decl.path),
        );
        return None;
    }
    let (channels, spatial) = match prev.shape {
        Shape::Flat(n) => (n, 1),
        Shape::Image { c, h, w } => (c, h * w),
    };
    Some(Kind::BatchNorm { channels, spatial, eps: eps?, momentum: momentum? })
}

/// Resolves `-> Name(args)`; `Identity` when absent.
fn activation(decl: &LayerDecl, kind: Option<Kind>, errors: &mut Errors) -> Option<Activation> {
    let Some(ActivationDecl { name, args }) = &decl.activation else {
        return Some(Activation::Identity);
    };
    if matches!(kind, Some(Kind::Dropout { .. } | Kind::Flatten)) {
        // Reported by the layer's own rule.
        return Some(Activation::Identity);
    }
    let layer = &decl.name;
    let text = name.to_string();
    let no_args = |act: Activation, errors: &mut Errors| match args {
        Some(a) => {
            errors.at(
                a.span,
                format!("activation `{text}` of layer `{layer}` takes no arguments; write `-> {text}`"),
            );
            None
        }
        None => Some(act),
    };
    match text.as_str() {
        symbol::IDENTITY => no_args(Activation::Identity, errors),
        symbol::SIGMOID => no_args(Activation::Sigmoid, errors),
        symbol::TANH => no_args(Activation::Tanh, errors),
        symbol::RELU => no_args(Activation::Relu, errors),
        symbol::SOFTMAX => no_args(Activation::Softmax, errors),
        symbol::LEAKY_RELU => leaky_relu(layer, args.as_ref(), errors),
        other => {
            errors.error(
                name,
                symbol::unknown("activation", other, &format!(" on layer `{layer}`"), symbol::ACTIVATIONS),
            );
            None
        }
    }
}

/// Rule: `LeakyRelu`, `LeakyRelu(s)` or `LeakyRelu(slope = s)` with `s >= 0` finite.
fn leaky_relu(layer: &Ident, args: Option<&Args>, errors: &mut Errors) -> Option<Activation> {
    let Some(args) = args else {
        return Some(Activation::LeakyRelu(0.01));
    };
    let usage = "write `LeakyRelu` (slope 0.01), `LeakyRelu(0.2)` or `LeakyRelu(slope = 0.2)`";
    let value = match args.list.as_slice() {
        [Arg::Positional(v)] => v,
        [Arg::Named { name, value }] if name == symbol::SLOPE => value,
        [Arg::Named { name, .. }] => {
            errors.error(
                name,
                symbol::unknown(
                    "option",
                    &name.to_string(),
                    &format!(" for `LeakyRelu` on layer `{layer}`"),
                    &[symbol::SLOPE],
                ),
            );
            return None;
        }
        _ => {
            errors.at(args.span, format!("`LeakyRelu` on layer `{layer}` takes one slope; {usage}"));
            return None;
        }
    };
    match number(value) {
        Some(s) if s >= 0.0 && s.is_finite() => Some(Activation::LeakyRelu(s)),
        Some(_) => {
            errors.error(
                value,
                format!(
                    "the slope of `LeakyRelu` on layer `{layer}` must be non-negative and finite, found `{}`",
                    value.text()
                ),
            );
            None
        }
        None => {
            errors.error(
                value,
                format!(
                    "the slope of `LeakyRelu` on layer `{layer}` must be a number, found `{}`; {usage}",
                    value.text()
                ),
            );
            None
        }
    }
}

/// The tokens of an argument, for error spans.
fn arg_tokens(arg: &Arg) -> proc_macro2::TokenStream {
    let mut tokens = proc_macro2::TokenStream::new();
    match arg {
        Arg::Positional(v) => v.to_tokens(&mut tokens),
        Arg::Named { name, value } => {
            name.to_tokens(&mut tokens);
            value.to_tokens(&mut tokens);
        }
        Arg::Arrow { from, arrow, to } => {
            from.to_tokens(&mut tokens);
            arrow.to_tokens(&mut tokens);
            to.to_tokens(&mut tokens);
        }
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The macro's formulas against counting window positions (the runtime's are tested
    /// the same way, and `tests/conv_shapes.rs` checks the two agree).
    #[test]
    fn output_sizes() {
        for n in 1..12 {
            for k in 1..8 {
                for s in 1..5 {
                    for p in 0..4 {
                        let counted =
                            (0..n + 2 * p).step_by(s).filter(|&start| start + k <= n + 2 * p).count();
                        assert_eq!(conv_output(n, k, s, p), (k <= n + 2 * p).then_some(counted));
                        if let Some(big) = conv_transpose_output(n, k, s, p) {
                            assert_eq!(conv_output(big, k, s, p), Some(n));
                        }
                    }
                }
            }
        }
        assert_eq!(conv_output(3, 3, 0, 0), None);
        assert_eq!(conv_transpose_output(1, 1, 1, 1), None);
    }
}
