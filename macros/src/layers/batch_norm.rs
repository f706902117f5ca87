//! `BatchNorm(eps = .., momentum = ..)`: `::sinew::layers::BatchNorm<T, Net_n1>`, with its
//! channels and settings in a `BatchNormShape`.

use super::{Role, Tensor, lit, matrix};
use crate::args::*;
use crate::ast::*;
use crate::model::*;
use crate::report::Errors;
use crate::symbol;
use proc_macro2::{Literal, TokenStream};
use quote::quote;
use syn::Ident;

pub struct BatchNorm;

impl Code for BatchNorm {
    fn resolve(
        &self,
        decl: &LayerDecl,
        _: &[Reference],
        prevs: Option<&[Prev]>,
        errors: &mut Errors,
    ) -> Option<Kind> {
        batch_norm(decl, prevs.and_then(|p| p.first()), errors)
    }

    fn output(&self, _: &Kind, input: Shape) -> Shape {
        input
    }

    fn text(&self, layer: &Layer) -> String {
        let Kind::BatchNorm { eps, momentum, .. } = layer.kind else { return String::new() };
        format!("{}({} = {eps:?}, {} = {momentum:?})", symbol::BATCH_NORM, symbol::EPS, symbol::MOMENTUM)
    }

    fn parameters(&self, layer: &Layer) -> usize {
        let Kind::BatchNorm { channels, .. } = layer.kind else { return 0 };
        2 * channels
    }

    fn runtime_type(&self, _: &Layer, shape: &Ident) -> TokenStream {
        quote!(::sinew::layers::BatchNorm<T, #shape>)
    }

    fn shape_impl(&self, layer: &Layer, _: &Model, shape: &Ident) -> Option<TokenStream> {
        let Kind::BatchNorm { channels, spatial, eps, momentum } = layer.kind else { return None };
        let (c, s) = (lit(channels), lit(spatial));
        let (eps, momentum) = (Literal::f64_suffixed(eps), Literal::f64_suffixed(momentum));
        let per_channel = matrix(channels, 1);
        Some(quote! {
            impl ::sinew::layers::BatchNormShape for #shape {
                const CHANNELS: usize = #c;
                const SPATIAL: usize = #s;
                const EPS: f64 = #eps;
                const MOMENTUM: f64 = #momentum;
                type Channels<E: ::sinew::layers::Element> = #per_channel;
            }
        })
    }

    fn struct_path(&self, _layer: &Layer) -> TokenStream {
        quote!(::sinew::layers::BatchNorm)
    }

    fn fields(&self) -> &'static [&'static str] {
        &["weight", "bias", "running_mean", "running_var"]
    }

    /// γ and β (trained, never decayed: the role of a bias), and the running statistics.
    fn tensors(&self, layer: &Layer) -> Vec<Tensor> {
        let Kind::BatchNorm { channels, .. } = layer.kind else { return Vec::new() };
        vec![
            Tensor::new("weight", vec![channels], Role::Bias, false),
            Tensor::new("bias", vec![channels], Role::Bias, false),
            Tensor::new("running_mean", vec![channels], Role::Buffer, false),
            Tensor::new("running_var", vec![channels], Role::Buffer, false),
        ]
    }

    fn init(&self, layer: &Layer, _: Activation) -> TokenStream {
        let name = &layer.name;
        quote!(self.#name.init();)
    }

    fn stored(&self, layer: &Layer) -> u128 {
        let Kind::BatchNorm { channels, .. } = layer.kind else { return 0 };
        4 * channels as u128
    }

    /// Output, gradient, the normalised input, and `1/σ̂` per channel.
    fn training_values(&self, layer: &Layer, b: u128) -> u128 {
        let Kind::BatchNorm { channels, .. } = layer.kind else { return 0 };
        3 * layer.output.len() as u128 * b + channels as u128
    }
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
        other @ (Shape::Sequence { .. } | Shape::Tokens { .. }) => {
            errors.error(
                &decl.kind,
                format!(
                    "`BatchNorm` layer `{}` normalises features or image channels, but {}; sequences have no batch norm here (normalise before the recurrent layer, or after its last step)",
                    decl.path,
                    prev.producer.produces(other)
                ),
            );
            return None;
        }
    };
    Some(Kind::BatchNorm { channels, spatial, eps: eps?, momentum: momentum? })
}
