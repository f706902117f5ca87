//! `Embedding(E)` or `Embedding(V => E)` on token ids: `::sinew::layers::Embedding<T,
//! Net_emb>`, with the vocabulary and the table in an `EmbeddingShape`.

use super::{Tensor, lit, matrix};
use crate::args::*;
use crate::ast::*;
use crate::model::*;
use crate::report::Errors;
use crate::symbol;
use proc_macro2::TokenStream;
use quote::quote;
use syn::Ident;

pub struct Embedding;

impl Code for Embedding {
    fn resolve(
        &self,
        decl: &LayerDecl,
        _: &[Reference],
        prevs: Option<&[Prev]>,
        errors: &mut Errors,
    ) -> Option<Kind> {
        embedding(decl, prevs.and_then(|p| p.first()), errors)
    }

    fn output(&self, kind: &Kind, input: Shape) -> Shape {
        let Kind::Embedding { steps, dim, .. } = *kind else { return input };
        Shape::Sequence { t: steps, f: dim }
    }

    fn text(&self, layer: &Layer) -> String {
        let Kind::Embedding { vocab, dim, .. } = layer.kind else { return String::new() };
        format!("{}({vocab} => {dim})", symbol::EMBEDDING)
    }

    fn parameters(&self, layer: &Layer) -> usize {
        let Kind::Embedding { vocab, dim, .. } = layer.kind else { return 0 };
        vocab * dim
    }

    fn runtime_type(&self, _: &Layer, shape: &Ident) -> TokenStream {
        quote!(::sinew::layers::Embedding<T, #shape>)
    }

    fn shape_impl(&self, layer: &Layer, _: &Model, shape: &Ident) -> Option<TokenStream> {
        let Kind::Embedding { vocab, dim, steps } = layer.kind else { return None };
        let weight = matrix(dim, vocab);
        let (vocab, dim, steps) = (lit(vocab), lit(dim), lit(steps));
        Some(quote! {
            impl ::sinew::layers::EmbeddingShape for #shape {
                const VOCAB: usize = #vocab;
                const DIM: usize = #dim;
                const STEPS: usize = #steps;
                type Weight<E: ::sinew::layers::Element> = #weight;
            }
        })
    }

    fn struct_path(&self, _layer: &Layer) -> TokenStream {
        quote!(::sinew::layers::Embedding)
    }

    fn fields(&self) -> &'static [&'static str] {
        &["weight"]
    }

    /// `weight` `(V, E)`, PyTorch's `nn.Embedding.weight`.
    fn tensors(&self, layer: &Layer) -> Vec<Tensor> {
        let Kind::Embedding { vocab, dim, .. } = layer.kind else { return Vec::new() };
        vec![Tensor::new("weight", vec![vocab, dim], super::Role::Weight, false)]
    }

    fn init(&self, layer: &Layer, _: Activation) -> TokenStream {
        let name = &layer.name;
        quote!(self.#name.init(rng);)
    }

    fn stored(&self, layer: &Layer) -> u128 {
        self.parameters(layer) as u128
    }
}

/// Rule: `Embedding(E)` or `Embedding(V => E)` reads token ids (`input: Tokens(T, vocab =
/// V)`): `T` steps of `E` features; a written `V` must be the input's vocabulary.
fn embedding(decl: &LayerDecl, prev: Option<&Prev>, errors: &mut Errors) -> Option<Kind> {
    let name = &decl.name;
    let usage = format!(
        "write `{name}: Embedding(<features>)`, or `Embedding(<vocabulary> => <features>)` to also check the vocabulary"
    );
    options_with_arrow(decl, symbol::EMBEDDING, &[], errors);
    let OneSize { seen, size: dim, written_input: written_vocab } =
        one_size(decl, "Embedding", ("tokens in the vocabulary", "features"), &usage, errors);
    if !seen {
        errors.error(&decl.kind, format!("`Embedding` layer `{name}` needs its number of features; {usage}"));
        return None;
    }
    let dim = dim?;
    let prev = prev?;
    let Shape::Tokens { t, vocab } = prev.shape else {
        errors.error(
            &decl.kind,
            format!(
                "`Embedding` layer `{name}` reads token ids, but {}; declare the input as `input: Tokens(<steps>, vocab = <size>)`",
                prev.producer.produces(prev.shape)
            ),
        );
        return None;
    };
    if let Some((tokens, written)) = written_vocab
        && written? != vocab
    {
        errors.error(
            tokens,
            format!(
                "`Embedding` layer `{name}` has a vocabulary of {}, but {}; write `Embedding({vocab} => {dim})`, or leave the vocabulary out to infer it",
                written.unwrap_or(0),
                prev.producer.produces(prev.shape)
            ),
        );
        return None;
    }
    if !tensors_fit(decl, &[("have", vocab.saturating_mul(dim)), ("make", t.saturating_mul(dim))], errors) {
        return None;
    }
    Some(Kind::Embedding { vocab, dim, steps: t })
}
