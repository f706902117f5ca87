//! The shape stage: each layer is resolved against the values it reads, in declaration
//! order, so sizes that are left out are inferred and sizes that are written are checked.
//! Each kind's own rule is in its file in `layers/`; this stage finds the kind, runs its
//! rule, and applies the rules every layer shares (activations, asserted shapes, sizes,
//! `#[frozen]`).

use crate::model::*;

use crate::args::{number, size};
use crate::ast::{ActivationDecl, Arg, Args, InputDecl, Item, LayerDecl, Network, ShapeDecl};
use crate::report::Errors;
use crate::{graph, layers, symbol};
use quote::ToTokens;
use syn::Ident;

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
        ShapeDecl::Call(name, args) => sequence_shape(name, args, what, errors),
    }
}

/// `Sequence(T, F)`: `T` steps of `F` features; `Tokens(T, vocab = V)`: `T` token ids below
/// `V`.
fn sequence_shape(name: &Ident, args: &Args, what: &str, errors: &mut Errors) -> Option<Shape> {
    let kind = name.to_string();
    let usage = format!(
        "write `{}(<steps>, <features>)` for a sequence, or `{}(<steps>, {} = <size>)` for token ids",
        symbol::SEQUENCE,
        symbol::TOKENS,
        symbol::VOCAB
    );
    let (positional, mut named) = (
        Vec::from_iter(args.list.iter().filter_map(|a| match a {
            Arg::Positional(v) => Some(v),
            _ => None,
        })),
        Vec::new(),
    );
    for arg in &args.list {
        match arg {
            Arg::Positional(_) => {}
            Arg::Named { name, value } => named.push((name, value)),
            Arg::Arrow { arrow, .. } => {
                errors.error(arrow, format!("{what}: `=>` has no meaning in a shape; {usage}"));
                return None;
            }
        }
    }
    let shape = match (kind.as_str(), positional.as_slice(), named.as_slice()) {
        (symbol::SEQUENCE, [t, f], []) => {
            let t = size(t, what, "steps", errors);
            let f = size(f, what, "features per step", errors);
            Shape::Sequence { t: t?, f: f? }
        }
        (symbol::TOKENS, [t], [(key, v)]) if *key == symbol::VOCAB => {
            let t = size(t, what, "steps", errors);
            let vocab = size(v, what, "tokens in the vocabulary", errors);
            Shape::Tokens { t: t?, vocab: vocab? }
        }
        (symbol::SEQUENCE | symbol::TOKENS, ..) => {
            errors.at(args.span, format!("{what}: {usage}"));
            return None;
        }
        _ => {
            errors.error(
                name,
                format!(
                    "{what}: unknown shape `{kind}`; {usage}, `<features>` or `[channels, height, width]`"
                ),
            );
            return None;
        }
    };
    if shape.len() as u128 > MAX_TENSOR {
        errors.at(args.span, format!("{what}: {} has more than 2^31 values per sample", shape.text()));
        return None;
    }
    Some(shape)
}

fn layer(
    decl: &LayerDecl,
    sources: &[Reference],
    prevs: Option<&[Prev]>,
    errors: &mut Errors,
) -> Option<Layer> {
    let kind_name = decl.kind.to_string();
    let code = layers::by_name(&kind_name);
    if code.is_none() {
        errors.error(&decl.kind, symbol::unknown("layer", &kind_name, "", symbol::LAYERS));
    }
    let kind = code.and_then(|code| code.resolve(decl, sources, prevs, errors));
    let activation = activation(decl, code, errors);
    let (code, kind, activation) = (code?, kind?, activation?);
    let input = prevs?.first()?.shape;
    let output = code.output(&kind, input);
    if activation == Activation::Softmax && !matches!(output, Shape::Flat(_)) {
        let name = decl.activation.as_ref().map(|a| &a.name);
        let (what, fix) = match output {
            Shape::Image { .. } => ("an image", "softmax over an image is ambiguous, so flatten first"),
            _ => (
                "a sequence",
                "softmax over a whole sequence is not a distribution per step; leave the logits and train with `StepCrossEntropy`",
            ),
        };
        errors.error(name, format!("layer `{}` produces {what} {}; {fix}", decl.path, output.text()));
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
        code,
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
        ShapeDecl::Call(name, args) => {
            let mut group =
                proc_macro2::Group::new(proc_macro2::Delimiter::Parenthesis, proc_macro2::TokenStream::new());
            group.set_span(args.span);
            let mut tokens = name.to_token_stream();
            tokens.extend([proc_macro2::TokenTree::Group(group)]);
            tokens
        }
    }
}

/// Resolves `-> Name(args)`; `Identity` when absent.
fn activation(decl: &LayerDecl, code: Option<&dyn layers::Code>, errors: &mut Errors) -> Option<Activation> {
    let Some(ActivationDecl { name, args }) = &decl.activation else {
        return Some(Activation::Identity);
    };
    if code.is_some_and(|code| !code.takes_activation()) {
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
