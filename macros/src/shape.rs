//! Layer kinds, options and sizes: each layer is resolved against the output shape of the
//! one before it, so sizes that are left out are inferred and sizes that are written are
//! checked. One `check`/resolve function per layer kind and per rule.

use crate::ast::{ActivationDecl, Arg, Args, InputDecl, Item, LayerDecl, Network, ShapeDecl, Value};
use crate::report::Errors;
use crate::symbol;
use proc_macro2::Span;
use syn::{Attribute, Ident};

/// The largest number of values one tensor may hold (2^31): beyond that rustc itself
/// rejects the array types, with a far less helpful message.
const MAX_TENSOR: u128 = 1 << 31;

/// A per-sample shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A feature vector.
    Flat(usize),
}

impl Shape {
    /// Values per sample: the number of rows of the activation matrix.
    pub fn len(self) -> usize {
        match self {
            Shape::Flat(n) => n,
        }
    }
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
    Dense { inputs: usize, outputs: usize },
    Dropout { keep: f64 },
}

/// A resolved layer.
pub struct Layer {
    pub name: Ident,
    /// Attributes written on the layer (doc comments).
    pub attrs: Vec<Attribute>,
    pub kind: Kind,
    pub activation: Activation,
    pub output: Shape,
    /// The span of the layer's kind, for generated code.
    pub span: Span,
}

impl Layer {
    /// The declaration in canonical form, with every size written out.
    pub fn text(&self) -> String {
        let kind = match self.kind {
            Kind::Dense { inputs, outputs } => format!("{}({inputs} => {outputs})", symbol::DENSE),
            Kind::Dropout { keep } => format!("{}({} = {keep:?})", symbol::DROPOUT, symbol::KEEP),
        };
        match self.activation {
            Activation::Identity => format!("{}: {kind}", self.name),
            act => format!("{}: {kind} -> {}", self.name, act.text()),
        }
    }

    /// Whether the layer has parameters (and so a field in the struct).
    pub fn has_params(&self) -> bool {
        matches!(self.kind, Kind::Dense { .. })
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
    /// through dropout.
    pub fn head(&self) -> Activation {
        self.layers
            .iter()
            .rev()
            .find(|l| !matches!(l.kind, Kind::Dropout { .. }))
            .map_or(Activation::Identity, |l| l.activation)
    }
}

/// Resolves every layer in order. Returns `None` when anything is wrong (all of it is
/// reported in `errors`).
pub fn resolve<'a>(net: &'a Network, input: Option<&InputDecl>, errors: &mut Errors) -> Option<Model<'a>> {
    let input_shape = input.and_then(|decl| input_shape(decl, errors));
    // The shape flowing into the next layer; `None` once something before it is unknown,
    // so that one mistake does not cascade into mismatch errors further down.
    let mut current: Option<(Shape, Producer)> = input_shape.map(|s| (s, Producer::Input));
    let mut layers = Vec::new();
    let mut ok = input_shape.is_some();
    for item in &net.items {
        let Item::Layer(decl) = item else { continue };
        match layer(decl, current.as_ref(), errors) {
            Some(layer) => {
                current = Some((layer.output, Producer::Layer(layer.name.to_string())));
                layers.push(layer);
            }
            None => {
                current = None;
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
    if !ok || !errors.is_empty() {
        return None;
    }
    Some(Model { net, input: input_shape?, layers })
}

/// Who produced the shape flowing into a layer, for messages.
enum Producer {
    Input,
    Layer(String),
}

impl Producer {
    fn produces(&self, n: usize) -> String {
        match self {
            Producer::Input => format!("the network input has {n} features"),
            Producer::Layer(name) => format!("the previous layer `{name}` produces {n}"),
        }
    }
}

fn input_shape(decl: &InputDecl, errors: &mut Errors) -> Option<Shape> {
    match &decl.shape {
        ShapeDecl::Flat(v) => size(v, "`input`", "features", errors).map(Shape::Flat),
        ShapeDecl::Image(dims, span) => {
            let dims: Vec<String> = dims.iter().map(crate::ast::Value::text).collect();
            errors.at(*span, format!("image inputs `[{}]` need convolutional layers, which this version does not have yet; write the number of features, e.g. `input: 784`", dims.join(", ")));
            None
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
            Ok(n) if lit.suffix().is_empty() || lit.suffix() == "usize" => Some(n),
            Ok(_) => {
                errors.error(
                    lit,
                    format!("{what}: write the size without a type suffix, e.g. `{}`", lit.base10_digits()),
                );
                None
            }
            Err(_) => {
                errors.error(lit, format!("{what}: the size `{lit}` does not fit in `usize`"));
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
        Value::Ident(ident) => {
            errors.error(
                ident,
                format!("{what}: `{ident}` is not a number; sizes must be integer literals, because the macro checks every shape when it expands"),
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

/// A finite number (integer or float literal, possibly negative).
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Int(lit) => lit.base10_parse::<f64>().ok(),
        Value::Float(lit) => lit.base10_parse::<f64>().ok(),
        Value::Neg(_, inner) => number(inner).map(|v| -v),
        _ => None,
    }
}

fn layer(decl: &LayerDecl, prev: Option<&(Shape, Producer)>, errors: &mut Errors) -> Option<Layer> {
    let kind_name = decl.kind.to_string();
    let kind = match kind_name.as_str() {
        symbol::DENSE => dense(decl, prev, errors),
        symbol::DROPOUT => dropout(decl, prev, errors),
        other => {
            errors.error(&decl.kind, symbol::unknown("layer", other, "", symbol::LAYERS));
            None
        }
    };
    let activation = activation(decl, kind, errors);
    let kind = kind?;
    let activation = activation?;
    let input = prev.map(|(s, _)| *s)?;
    let output = match kind {
        Kind::Dense { outputs, .. } => Shape::Flat(outputs),
        Kind::Dropout { .. } => input,
    };
    Some(Layer {
        name: decl.name.clone(),
        attrs: decl.attrs.clone(),
        kind,
        activation,
        output,
        span: decl.kind.span(),
    })
}

/// Rule: `Dense(out)` or `Dense(in => out)`, sizes positive, `in` equal to what the previous
/// layer produces.
fn dense(decl: &LayerDecl, prev: Option<&(Shape, Producer)>, errors: &mut Errors) -> Option<Kind> {
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
    for arg in &args.list {
        match arg {
            Arg::Named { name: option, .. } => {
                errors.error(option, format!("unknown option `{option}` for `Dense` layer `{name}`; `Dense` has no options: {usage}"));
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
    let (prev_shape, producer) = prev?;
    let Shape::Flat(available) = *prev_shape;
    if let Some((tokens, inputs)) = written_inputs {
        let inputs = inputs?;
        if inputs != available {
            errors.error(
                tokens,
                format!(
                    "layer `{name}` expects {inputs} inputs, but {}; write `Dense({available} => {outputs})`, or leave the input size out to infer it",
                    producer.produces(available)
                ),
            );
            return None;
        }
    }
    if (available as u128) * (outputs as u128) > MAX_TENSOR {
        errors.error(&decl.kind, format!("layer `{name}` would have {available} x {outputs} weights, more than 2^31; sinew networks are statically sized and must stay smaller"));
        return None;
    }
    Some(Kind::Dense { inputs: available, outputs })
}

/// Rule: `Dropout(keep = p)` with `0 < p <= 1`, and no activation.
fn dropout(decl: &LayerDecl, prev: Option<&(Shape, Producer)>, errors: &mut Errors) -> Option<Kind> {
    let name = &decl.name;
    let usage = format!(
        "write `{name}: Dropout(keep = 0.8)`: `keep` is the probability of keeping a unit (PyTorch's `p` is `1 - keep`)"
    );
    let mut keep = None;
    let mut seen = false;
    let list = decl.args.as_ref().map_or(&[][..], |a: &Args| &a.list);
    for arg in list {
        match arg {
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
    if let Some(act) = &decl.activation {
        errors.error(
            &act.name,
            format!(
                "dropout layer `{name}` takes no activation; put `-> {}` on the layer before it",
                act.name
            ),
        );
        return None;
    }
    prev?;
    keep.map(|keep| Kind::Dropout { keep })
}

/// Resolves `-> Name(args)`; `Identity` when absent.
fn activation(decl: &LayerDecl, kind: Option<Kind>, errors: &mut Errors) -> Option<Activation> {
    let Some(ActivationDecl { name, args, .. }) = &decl.activation else {
        return Some(Activation::Identity);
    };
    if matches!(kind, Some(Kind::Dropout { .. })) {
        // Reported by `dropout`.
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
    use quote::ToTokens;
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
