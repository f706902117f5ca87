//! `Rnn(h)`, `Gru(h)`, `Lstm(h)` on a sequence, with `steps = all` (default: every step's
//! state, a sequence) or `steps = last` (the last state, a vector):
//! `::sinew::layers::Recurrent<T, Net_rnn>`, with the cell, sizes and buffers in a
//! `RecurrentShape`.

use super::{Tensor, lit, matrix};
use crate::args::*;
use crate::ast::*;
use crate::model::*;
use crate::report::Errors;
use crate::symbol;
use proc_macro2::TokenStream;
use quote::quote;
use syn::Ident;

/// The code of one cell kind.
pub struct Recurrent(pub Cell);

/// The sizes of a recurrent layer: `(t, f, h, g·h, extra·h)`.
fn sizes(layer: &Layer) -> Option<(usize, usize, usize, usize, usize, bool)> {
    let Kind::Recurrent { cell, steps, features, hidden, every } = layer.kind else { return None };
    Some((steps, features, hidden, cell.gates() * hidden, cell.extra() * hidden, every))
}

impl Code for Recurrent {
    fn resolve(
        &self,
        decl: &LayerDecl,
        _: &[Reference],
        prevs: Option<&[Prev]>,
        errors: &mut Errors,
    ) -> Option<Kind> {
        recurrent(decl, self.0, prevs.and_then(|p| p.first()), errors)
    }

    fn output(&self, kind: &Kind, input: Shape) -> Shape {
        match *kind {
            Kind::Recurrent { steps, hidden, every: true, .. } => Shape::Sequence { t: steps, f: hidden },
            Kind::Recurrent { hidden, .. } => Shape::Flat(hidden),
            _ => input,
        }
    }

    fn text(&self, layer: &Layer) -> String {
        let Kind::Recurrent { cell, features, hidden, every, .. } = layer.kind else { return String::new() };
        let steps = if every { String::new() } else { format!(", {} = {}", symbol::STEPS, symbol::LAST) };
        format!("{}({features} => {hidden}{steps})", cell.name())
    }

    fn parameters(&self, layer: &Layer) -> usize {
        let Some((_, f, h, gh, ..)) = sizes(layer) else { return 0 };
        gh * f + gh * h + 2 * gh
    }

    fn runtime_type(&self, _: &Layer, shape: &Ident) -> TokenStream {
        quote!(::sinew::layers::Recurrent<T, #shape>)
    }

    fn shape_impl(&self, layer: &Layer, _: &Model, shape: &Ident) -> Option<TokenStream> {
        let (t, f, h, gh, x, every) = sizes(layer)?;
        let cell = match self.0 {
            Cell::Rnn => quote!(::sinew::layers::Cell::Rnn),
            Cell::Gru => quote!(::sinew::layers::Cell::Gru),
            Cell::Lstm => quote!(::sinew::layers::Cell::Lstm),
        };
        let (weight_ih, weight_hh, bias) = (matrix(f, gh), matrix(h, gh), matrix(gh, 1));
        let [gates, states, extra, step, state] = [gh * t, h * t, x * t, gh, h].map(super::batch);
        let [t, f, h] = [t, f, h].map(lit);
        Some(quote! {
            impl ::sinew::layers::RecurrentShape for #shape {
                const CELL: ::sinew::layers::Cell = #cell;
                const STEPS: usize = #t;
                const FEATURES: usize = #f;
                const HIDDEN: usize = #h;
                const EVERY_STEP: bool = #every;
                type WeightIh<E: ::sinew::layers::Element> = #weight_ih;
                type WeightHh<E: ::sinew::layers::Element> = #weight_hh;
                type Bias<E: ::sinew::layers::Element> = #bias;
                type Gates<E: ::sinew::layers::Element, const B: usize> = #gates;
                type States<E: ::sinew::layers::Element, const B: usize> = #states;
                type Extra<E: ::sinew::layers::Element, const B: usize> = #extra;
                type Step<E: ::sinew::layers::Element, const B: usize> = #step;
                type State<E: ::sinew::layers::Element, const B: usize> = #state;
            }
        })
    }

    fn struct_path(&self, _layer: &Layer) -> TokenStream {
        quote!(::sinew::layers::Recurrent)
    }

    fn fields(&self) -> &'static [&'static str] {
        &["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    }

    /// PyTorch's `weight_ih_l0` `(G·H, F)`, `weight_hh_l0` `(G·H, H)`, `bias_ih_l0` and
    /// `bias_hh_l0` `(G·H)`, stored in PyTorch's row-major layout.
    fn tensors(&self, layer: &Layer) -> Vec<Tensor> {
        let Some((_, f, h, gh, ..)) = sizes(layer) else { return Vec::new() };
        let tensor = |suffix, shape, role, field| Tensor { field, ..Tensor::new(suffix, shape, role, false) };
        vec![
            tensor("weight_ih_l0", vec![gh, f], super::Role::Weight, "weight_ih"),
            tensor("weight_hh_l0", vec![gh, h], super::Role::Weight, "weight_hh"),
            tensor("bias_ih_l0", vec![gh], super::Role::Bias, "bias_ih"),
            tensor("bias_hh_l0", vec![gh], super::Role::Bias, "bias_hh"),
        ]
    }

    fn init(&self, layer: &Layer, _: Activation) -> TokenStream {
        let name = &layer.name;
        quote!(self.#name.init(rng);)
    }

    fn stored(&self, layer: &Layer) -> u128 {
        self.parameters(layer) as u128
    }

    /// The output, the input projections, the states, the cell's extra values, one step's
    /// projections.
    fn inference_values(&self, layer: &Layer, b: u128) -> u128 {
        let Some((t, _, h, gh, x, _)) = sizes(layer) else { return 0 };
        let [t, h, gh, x] = [t, h, gh, x].map(|v| v as u128);
        layer.output.len() as u128 * b + gh * t * b + h * t * b + x * t * b + gh * b
    }

    /// As inference, plus the output's gradient, the gates, and two `(H, B)` gradients.
    fn training_values(&self, layer: &Layer, b: u128) -> u128 {
        let Some((t, _, h, gh, x, _)) = sizes(layer) else { return 0 };
        let [t, h, gh, x] = [t, h, gh, x].map(|v| v as u128);
        2 * layer.output.len() as u128 * b + 2 * gh * t * b + h * t * b + x * t * b + gh * b + 2 * h * b
    }
}

/// Rule: `Rnn(h)`, `Gru(h)` or `Lstm(h)` (`steps = all | last`) reads a sequence
/// (`input: Sequence(T, F)`, an `Embedding`, or another recurrent layer with every step):
/// `h` hidden units, every step's state (a sequence) or the last one (a vector).
fn recurrent(decl: &LayerDecl, cell: Cell, prev: Option<&Prev>, errors: &mut Errors) -> Option<Kind> {
    let kind = cell.name();
    let name = &decl.name;
    let usage = format!(
        "write `{name}: {kind}(<hidden>)`, or `{kind}(<features> => <hidden>)` to also check the input's features"
    );
    let opts = options_with_arrow(decl, kind, &[symbol::STEPS], errors);
    let OneSize { seen, size: hidden, written_input: written_features } =
        one_size(decl, kind, ("features", "hidden units"), &usage, errors);
    if !seen {
        errors.error(
            &decl.kind,
            format!("`{kind}` layer `{name}` needs its number of hidden units, e.g. `{kind}(64)`"),
        );
        return None;
    }
    let every = match opts.named.get(symbol::STEPS) {
        None => Some(true),
        Some(v) => steps_option(decl, v, errors),
    };
    let prev = prev?;
    no_tokens(decl, kind, prev, errors)?;
    let Shape::Sequence { t, f } = prev.shape else {
        errors.error(
            &decl.kind,
            format!(
                "`{kind}` layer `{name}` reads a sequence, but {}; declare the input as `input: {}(<steps>, <features>)`, or give the recurrent layer before it every step (the default)",
                prev.producer.produces(prev.shape),
                symbol::SEQUENCE
            ),
        );
        return None;
    };
    let (hidden, every) = (hidden?, every?);
    if !opts.valid {
        return None;
    }
    if let Some((tokens, written)) = written_features
        && written? != f
    {
        errors.error(
            tokens,
            format!(
                "`{kind}` layer `{name}` expects {} features per step, but {}; write `{kind}({f} => {hidden})`, or leave the features out to infer them",
                written.unwrap_or(0),
                prev.producer.produces(prev.shape)
            ),
        );
        return None;
    }
    let gh = cell.gates().saturating_mul(hidden);
    let tensors = [("have", gh.saturating_mul(f.saturating_add(hidden))), ("keep", gh.saturating_mul(t))];
    if !tensors_fit(decl, &tensors, errors) {
        return None;
    }
    Some(Kind::Recurrent { cell, steps: t, features: f, hidden, every })
}
