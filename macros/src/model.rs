//! The macro's vocabulary, shared by every stage and every layer kind: shapes, resolved
//! layers and the model, the values a layer reads, and [`Code`], what a layer kind
//! contributes (implemented once per kind in `layers/<kind>.rs`). It depends on nothing
//! but the parsed declaration.

use crate::ast::{LayerDecl, Network};
use crate::report::Errors;
use crate::symbol;
use proc_macro2::{Span, TokenStream};
use syn::{Attribute, Ident};

/// The largest number of values one tensor or buffer may hold (2^31): beyond that rustc
/// itself rejects the array types, with a far less helpful message.
pub const MAX_TENSOR: u128 = 1 << 31;

/// A per-sample shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A feature vector.
    Flat(usize),
    /// Channels × height × width, stored channel-major (NCHW within a sample).
    Image { c: usize, h: usize, w: usize },
    /// `t` steps of `f` features, stored step-major (`x[t·f + i]`).
    Sequence { t: usize, f: usize },
    /// `t` token ids below `vocab`, one value each.
    Tokens { t: usize, vocab: usize },
}

impl Shape {
    /// Values per sample: the number of rows of the activation matrix.
    pub fn len(self) -> usize {
        match self {
            Shape::Flat(n) => n,
            Shape::Image { c, h, w } => c.saturating_mul(h).saturating_mul(w),
            Shape::Sequence { t, f } => t.saturating_mul(f),
            Shape::Tokens { t, .. } => t,
        }
    }

    /// As written in a declaration.
    pub fn text(self) -> String {
        match self {
            Shape::Flat(n) => n.to_string(),
            Shape::Image { c, h, w } => format!("[{c}, {h}, {w}]"),
            Shape::Sequence { t, f } => format!("{}({t}, {f})", symbol::SEQUENCE),
            Shape::Tokens { t, vocab } => format!("{}({t}, {} = {vocab})", symbol::TOKENS, symbol::VOCAB),
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

/// A recurrent cell, with PyTorch's gate count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
    Rnn,
    Gru,
    Lstm,
}

impl Cell {
    /// Gates per hidden unit.
    pub fn gates(self) -> usize {
        match self {
            Cell::Rnn => 1,
            Cell::Gru => 3,
            Cell::Lstm => 4,
        }
    }

    /// Extra per-step values a training pass keeps, per hidden unit.
    pub fn extra(self) -> usize {
        match self {
            Cell::Rnn => 0,
            Cell::Gru | Cell::Lstm => 1,
        }
    }

    /// Its name in a declaration.
    pub fn name(self) -> &'static str {
        match self {
            Cell::Rnn => symbol::RNN,
            Cell::Gru => symbol::GRU,
            Cell::Lstm => symbol::LSTM,
        }
    }
}

/// A layer kind with its arguments resolved.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// `steps`: `Some(T)` when applied at every step of a `T`-step sequence.
    Dense {
        inputs: usize,
        outputs: usize,
        bias: bool,
        steps: Option<usize>,
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
    /// `Embedding(vocab => dim)` over `steps` token ids.
    Embedding {
        vocab: usize,
        dim: usize,
        steps: usize,
    },
    /// `Rnn`, `Gru` or `Lstm` over `steps` steps of `features`, `hidden` units; every
    /// step's state out, or the last one's.
    Recurrent {
        cell: Cell,
        steps: usize,
        features: usize,
        hidden: usize,
        every: bool,
    },
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
    /// What its kind contributes to the rules and the generated code (`layers/<kind>.rs`).
    pub code: &'static dyn Code,
}

/// `, bias = false` when a layer has no bias.
pub fn no_bias(bias: bool) -> &'static str {
    if bias { "" } else { ", bias = false" }
}

/// `k`, or `(kh, kw)` when they differ.
pub fn pair_text(a: usize, b: usize) -> String {
    if a == b { a.to_string() } else { format!("({a}, {b})") }
}

/// `kernel = k, stride = s, padding = p` as written, leaving out the defaults.
pub fn window_text(g: &Geo, default_stride: (usize, usize)) -> String {
    let mut s = format!("kernel = {}", pair_text(g.kh, g.kw));
    if (g.sh, g.sw) != default_stride {
        s += &format!(", stride = {}", pair_text(g.sh, g.sw));
    }
    if (g.ph, g.pw) != (0, 0) {
        s += &format!(", padding = {}", pair_text(g.ph, g.pw));
    }
    s
}

impl Layer {
    /// The declaration in canonical form, with every size written out.
    pub fn text(&self) -> String {
        let kind = self.code.text(self);
        let kind = match (self.code.call(), self.explicit_from, self.input_names.first()) {
            (Call::Join, _, _) | (_, false, _) | (_, _, None) => kind,
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
        !self.code.fields().is_empty()
    }

    /// Trainable values.
    pub fn parameter_count(&self) -> usize {
        self.code.parameters(self)
    }

    /// Whether the layer has buffers of its own in training: `Flatten` shares its input's.
    pub fn has_training_buffer(&self) -> bool {
        self.code.call() != Call::Identity
    }

    /// Whether the layer has buffers of its own at inference: `Flatten` and `Dropout`
    /// (the identity then) pass their input on.
    pub fn has_inference_buffer(&self) -> bool {
        self.has_training_buffer() && self.code.computes_at_inference()
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
            .find(|l| l.has_inference_buffer())
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

/// What one layer kind contributes, from its rule to its generated code: implemented once
/// per kind, in `layers/<kind>.rs`.
pub trait Code: Sync {
    /// Rule: the kind's arguments and options, checked against the values it reads
    /// (`prevs`, `None` when one of them failed: check the arguments alone), reporting
    /// every mistake in `errors`.
    fn resolve(
        &self,
        decl: &LayerDecl,
        refs: &[Reference],
        prevs: Option<&[Prev]>,
        errors: &mut Errors,
    ) -> Option<Kind>;

    /// The shape it produces from `input`, the shape of its first input.
    fn output(&self, kind: &Kind, input: Shape) -> Shape;

    /// The declaration in canonical form, without path, `from` or activation:
    /// `Conv2d(1 => 6, kernel = 5, padding = 2)`.
    fn text(&self, layer: &Layer) -> String;

    /// Whether `-> Activation` may follow it (the rule reports it otherwise).
    fn takes_activation(&self) -> bool {
        true
    }

    /// How the generated code calls it.
    fn call(&self) -> Call {
        Call::Layer
    }

    /// Whether it computes anything at inference (`Dropout` is the identity then).
    fn computes_at_inference(&self) -> bool {
        true
    }

    /// Trainable values.
    fn parameters(&self, _layer: &Layer) -> usize {
        0
    }

    /// The runtime type, e.g. `::sinew::layers::Conv2d<T, LeNet_c1>`; `shape` names the
    /// layer's shape type.
    fn runtime_type(&self, layer: &Layer, shape: &Ident) -> TokenStream;

    /// The impls of the kind's own shape trait for `shape` (`ConvShape`, ...), beyond the
    /// `Shape` impl every shape type has; `None` when the kind needs no shape type (its
    /// runtime type carries its sizes, or it has no runtime type).
    fn shape_impl(&self, layer: &Layer, model: &Model, shape: &Ident) -> Option<TokenStream>;

    /// The path of its parameter struct, for struct literals (`::sinew::layers::Dense`);
    /// empty for kinds without parameters.
    fn struct_path(&self, _layer: &Layer) -> TokenStream {
        TokenStream::new()
    }

    /// The fields of its parameter struct, in order (a tensor each, except a missing
    /// bias); empty for kinds without parameters.
    fn fields(&self) -> &'static [&'static str] {
        &[]
    }

    /// Its tensors, in PyTorch `state_dict` order.
    fn tensors(&self, _layer: &Layer) -> Vec<Tensor> {
        Vec::new()
    }

    /// The statement initialising a layer with parameters; `act` is the activation its
    /// output goes through.
    fn init(&self, _layer: &Layer, _act: Activation) -> TokenStream {
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

/// One tensor of a layer: suffix, PyTorch shape, role, layout and field path.
pub struct Tensor {
    pub suffix: &'static str,
    pub shape: Vec<usize>,
    pub role: TokenStream,
    pub layout: TokenStream,
    pub field: &'static str,
}

/// One value a layer reads, as resolved from the declaration.
pub struct Reference {
    pub source: Source,
    /// The name as written (`input` for the network input).
    pub name: String,
    /// Whether it was written (`from = x`, `Add(x, ..)`) rather than implied.
    pub explicit: bool,
    /// The token that names it (the layer kind when implied), for errors.
    pub span: Span,
}

/// What flows into a layer.
#[derive(Clone)]
pub struct Prev {
    pub shape: Shape,
    pub producer: Producer,
    /// Whether it is a batch norm's output.
    pub batch_norm: bool,
}

/// Who produced the shape flowing into a layer, for messages.
#[derive(Clone)]
pub enum Producer {
    Input,
    /// A layer: the previous one (read implicitly) or one named with `from` / in `Add`.
    Layer {
        name: String,
        previous: bool,
    },
}

impl Producer {
    /// The same producer, named by the reader rather than implied.
    pub fn named(self) -> Self {
        match self {
            Producer::Layer { name, .. } => Producer::Layer { name, previous: false },
            input => input,
        }
    }

    /// `layer `c1``, `the network input`.
    pub fn who(&self) -> String {
        match self {
            Producer::Input => String::from("the network input"),
            Producer::Layer { name, .. } => format!("`{name}`"),
        }
    }

    pub fn produces(&self, shape: Shape) -> String {
        let layer = |name: &str, previous: bool| {
            if previous { format!("the previous layer `{name}`") } else { format!("layer `{name}`") }
        };
        let what = match shape {
            Shape::Flat(n) => format!("{n} features"),
            Shape::Image { .. } => format!("an image {}", shape.text()),
            Shape::Sequence { t, f } => format!("a sequence of {t} steps of {f} features"),
            Shape::Tokens { t, vocab } => format!("{t} token ids below {vocab}"),
        };
        match self {
            Producer::Input if matches!(shape, Shape::Flat(_)) => format!("the network input has {what}"),
            Producer::Input => format!("the network input is {what}"),
            Producer::Layer { name, previous } => format!("{} produces {what}", layer(name, *previous)),
        }
    }
}
