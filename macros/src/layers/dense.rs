//! `Dense(n)`: `::sinew::layers::Dense<T, I, O>`, whose const generics are its sizes, so
//! it needs no shape type; on a sequence, `Dense(n, steps = all)`:
//! `::sinew::layers::DenseSteps<T, Net_out>`, the same weights at every step.

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
        _: &[Reference],
        prevs: Option<&[Prev]>,
        errors: &mut Errors,
    ) -> Option<Kind> {
        dense(decl, prevs.and_then(|p| p.first()), errors)
    }

    fn output(&self, kind: &Kind, input: Shape) -> Shape {
        match *kind {
            Kind::Dense { outputs, steps: Some(t), .. } => Shape::Sequence { t, f: outputs },
            Kind::Dense { outputs, .. } => Shape::Flat(outputs),
            _ => input,
        }
    }

    fn text(&self, layer: &Layer) -> String {
        let Kind::Dense { inputs, outputs, bias, steps } = layer.kind else { return String::new() };
        let steps =
            if steps.is_some() { format!(", {} = {}", symbol::STEPS, symbol::ALL) } else { String::new() };
        format!("{}({inputs} => {outputs}{}{steps})", symbol::DENSE, no_bias(bias))
    }

    fn parameters(&self, layer: &Layer) -> usize {
        let Kind::Dense { inputs, outputs, bias, .. } = layer.kind else { return 0 };
        inputs * outputs + if bias { outputs } else { 0 }
    }

    fn runtime_type(&self, layer: &Layer, shape: &Ident) -> TokenStream {
        match layer.kind {
            Kind::Dense { steps: Some(_), .. } => quote!(::sinew::layers::DenseSteps<T, #shape>),
            Kind::Dense { inputs, outputs, .. } => {
                let (i, o) = (lit(inputs), lit(outputs));
                quote!(::sinew::layers::Dense<T, #i, #o>)
            }
            _ => TokenStream::new(),
        }
    }

    /// Only on a sequence: `DenseStepsShape`.
    fn shape_impl(&self, layer: &Layer, _: &Model, shape: &Ident) -> Option<TokenStream> {
        let Kind::Dense { inputs, outputs, steps: Some(t), .. } = layer.kind else { return None };
        let (t, i, o) = (lit(t), lit(inputs), lit(outputs));
        let (weight, bias) = (super::matrix(outputs, inputs), super::matrix(outputs, 1));
        Some(quote! {
            impl ::sinew::layers::DenseStepsShape for #shape {
                const STEPS: usize = #t;
                const INPUTS: usize = #i;
                const OUTPUTS: usize = #o;
                type Weight<E: ::sinew::layers::Element> = #weight;
                type Bias<E: ::sinew::layers::Element> = #bias;
            }
        })
    }

    fn struct_path(&self, layer: &Layer) -> TokenStream {
        if let Kind::Dense { steps: Some(_), .. } = layer.kind {
            quote!(::sinew::layers::DenseSteps)
        } else {
            quote!(::sinew::layers::Dense)
        }
    }

    fn fields(&self) -> &'static [&'static str] {
        &["weight", "bias"]
    }

    /// `weight` `(out, in)` (stored column-major: nalgebra's `(O, I)`), `bias` `(out)`.
    fn tensors(&self, layer: &Layer) -> Vec<Tensor> {
        let Kind::Dense { inputs, outputs, bias, .. } = layer.kind else { return Vec::new() };
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
    let mut bias = Some(true);
    let mut every_step = None;
    for arg in &args.list {
        match arg {
            Arg::Named { name: option, .. } if option == symbol::FROM => {}
            Arg::Named { name: option, value } if option == symbol::BIAS => {
                bias = flag(value, &what, symbol::BIAS, errors);
            }
            Arg::Named { name: option, value } if option == symbol::STEPS => {
                every_step = Some((option, steps_option(decl, value, errors)));
            }
            Arg::Named { name: option, .. } => {
                errors.error(
                    option,
                    symbol::unknown(
                        "option",
                        &option.to_string(),
                        &format!(" for `Dense` layer `{name}`"),
                        &[symbol::BIAS, symbol::STEPS],
                    ),
                );
            }
            _ => {}
        }
    }
    let OneSize { seen, size: outputs, written_input: written_inputs } =
        one_size(decl, "Dense", ("inputs", "outputs"), &usage, errors);
    if !seen {
        errors.at(args.span, format!("`Dense` layer `{name}` needs its number of outputs; {usage}"));
        return None;
    }
    let outputs = outputs?;
    let prev = prev?;
    no_tokens(decl, "Dense", prev, errors)?;
    let (available, steps) = match (prev.shape, every_step) {
        (Shape::Flat(n), None) => (n, None),
        (Shape::Flat(n), Some((option, _))) => {
            errors.error(
                option,
                format!(
                    "`Dense` layer `{name}` reads a vector, not a sequence ({}), so `{}` does not apply; remove it",
                    prev.producer.produces(Shape::Flat(n)),
                    symbol::STEPS
                ),
            );
            return None;
        }
        (Shape::Sequence { t, f }, Some((_, every))) => match every? {
            true => (f, Some(t)),
            false => {
                errors.error(
                    &decl.kind,
                    format!(
                        "`Dense` layer `{name}` reads a sequence ({}); a dense layer cannot pick the last step: give the recurrent layer `steps = last` instead",
                        prev.producer.produces(prev.shape)
                    ),
                );
                return None;
            }
        },
        (sequence @ Shape::Sequence { t, f }, None) => {
            errors.error(
                &decl.kind,
                format!(
                    "`Dense` layer `{name}` reads a sequence ({}); say which steps: `Dense({outputs}, steps = all)` applies it at every step ({t} x {f} in, {t} x {outputs} out), or give the recurrent layer `steps = last` to read only its last state",
                    prev.producer.produces(sequence)
                ),
            );
            return None;
        }
        (image, _) => {
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
    Some(Kind::Dense { inputs: available, outputs, bias: bias?, steps })
}
