//! `Dense(n)`: `::sinew::layers::Dense<T, I, O>`, whose const generics are its sizes, so
//! it needs no shape type.

use super::{Tensor, lit, scheme, weight_and_bias};
use crate::args::*;
use crate::ast::*;
use crate::model::*;
use crate::report::Errors;
use crate::symbol;
use proc_macro2::TokenStream;
use quote::quote;
use syn::Ident;

pub struct Dense;

impl Code for Dense {
    fn resolve(
        &self,
        decl: &LayerDecl,
        refs: &[Reference],
        prevs: Option<&[Prev]>,
        errors: &mut Errors,
    ) -> Option<Kind> {
        let _ = refs;
        dense(decl, prevs.and_then(|p| p.first()), errors)
    }

    fn output(&self, kind: &Kind, input: Shape) -> Shape {
        let Kind::Dense { outputs, .. } = *kind else { return input };
        Shape::Flat(outputs)
    }

    fn text(&self, layer: &Layer) -> String {
        let Kind::Dense { inputs, outputs, bias } = layer.kind else { return String::new() };
        format!("{}({inputs} => {outputs}{})", symbol::DENSE, no_bias(bias))
    }

    fn parameters(&self, layer: &Layer) -> usize {
        let Kind::Dense { inputs, outputs, bias } = layer.kind else { return 0 };
        inputs * outputs + if bias { outputs } else { 0 }
    }

    fn runtime_type(&self, layer: &Layer, _: &Ident) -> TokenStream {
        let Kind::Dense { inputs, outputs, .. } = layer.kind else { return TokenStream::new() };
        let (i, o) = (lit(inputs), lit(outputs));
        quote!(::sinew::layers::Dense<T, #i, #o>)
    }

    fn shape_impl(&self, _: &Layer, _: &Model, _: &Ident) -> Option<TokenStream> {
        None
    }

    fn struct_path(&self) -> TokenStream {
        quote!(::sinew::layers::Dense)
    }

    fn fields(&self) -> &'static [&'static str] {
        &["weight", "bias"]
    }

    /// `weight` `(out, in)` (stored column-major: nalgebra's `(O, I)`), `bias` `(out)`.
    fn tensors(&self, layer: &Layer) -> Vec<Tensor> {
        let Kind::Dense { inputs, outputs, bias } = layer.kind else { return Vec::new() };
        weight_and_bias(vec![outputs, inputs], true, bias.then_some(outputs))
    }

    fn init(&self, layer: &Layer, act: Activation) -> TokenStream {
        let (name, scheme) = (&layer.name, scheme(act));
        quote!(self.#name.init(#scheme, rng);)
    }

    fn stored(&self, layer: &Layer) -> u128 {
        let Kind::Dense { inputs, outputs, .. } = layer.kind else { return 0 };
        (outputs * inputs + outputs) as u128
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
