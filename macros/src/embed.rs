//! `#[weights("file.safetensors")]`: the file is read and checked against the declaration
//! when the macro expands, and the network gets a const `EMBEDDED` built from the file's
//! bytes (`include_bytes!`) by the runtime's `embed` const fns (and `EMBEDDED_F64` on
//! the `f64` network: two consts of one name would make `Net::EMBEDDED` ambiguous).
//!
//! Rules: every tensor the network declares is in the file, with the same shape, as `F32`
//! or `F64`; the file holds no other tensor (batch norm's `num_batches_tracked` aside,
//! which sinew does not keep). Errors name the tensor, the layer and both shapes.

use crate::expand::Names;
use crate::model::Model;
use crate::report::Errors;
use proc_macro2::TokenStream;
use quote::quote;
use safetensors::{Dtype, SafeTensors};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use syn::LitStr;

/// The file as written, resolved against `base` (the directory of the invoking source
/// file, as for `include_bytes!`).
fn resolve(lit: &LitStr, base: Option<&Path>) -> PathBuf {
    let written = PathBuf::from(lit.value());
    match base {
        Some(base) if written.is_relative() => base.join(written),
        _ => written,
    }
}

/// Shapes as PyTorch prints them.
fn shape_text(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    format!("[{}]", dims.join(", "))
}

/// Checks the file and returns the `EMBEDDED` consts, or `None` (errors reported).
pub fn embedded(
    model: &Model,
    names: &Names,
    lit: &LitStr,
    base: Option<&Path>,
    errors: &mut Errors,
) -> Option<TokenStream> {
    let path = resolve(lit, base);
    let shown = lit.value();
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) => {
            errors.error(
                lit,
                format!("cannot read the weight file `{shown}`: {e}; the path is relative to this source file's directory, as for `include_bytes!`"),
            );
            return None;
        }
    };
    let (header, metadata) = match SafeTensors::read_metadata(&bytes) {
        Ok(m) => m,
        Err(e) => {
            errors.error(lit, format!("`{shown}` is not a valid safetensors file: {e}"));
            return None;
        }
    };
    let in_file = metadata.tensors();
    let data_start = 8 + header;
    let net = &names.net;
    let before = errors.len();

    let mut expected: BTreeSet<String> = BTreeSet::new();
    // Per layer with parameters: its field initialisers, for f32 and for f64.
    let mut layers_f32 = Vec::new();
    let mut layers_f64 = Vec::new();
    for layer in model.layers.iter().filter(|l| l.has_params()) {
        let name = &layer.name;
        let code = layer.code;
        let tensors = code.tensors(layer);
        let mut fields_f32 = Vec::new();
        let mut fields_f64 = Vec::new();
        for &field in code.fields() {
            let field_ident = quote::format_ident!("{}", field);
            let Some(t) = tensors.iter().find(|t| t.field == field) else {
                // `bias = false`: zero, not in the file.
                fields_f32.push(quote!(#field_ident: ::sinew::embed::zeros_f32()));
                fields_f64.push(quote!(#field_ident: ::sinew::embed::zeros_f64()));
                continue;
            };
            let full = format!("{}.{}", layer.path, t.suffix);
            expected.insert(full.clone());
            let Some(info) = in_file.get(&full) else {
                let present: Vec<&str> = {
                    let mut v: Vec<&str> = in_file.keys().map(String::as_str).collect();
                    v.sort_unstable();
                    v
                };
                errors.error(
                    &layer.name,
                    format!(
                        "the weight file `{shown}` has no tensor `{full}` (layer `{}` needs {}); it holds {}",
                        layer.text(),
                        shape_text(&t.shape),
                        if present.is_empty() { String::from("no tensors") } else { present.join(", ") }
                    ),
                );
                continue;
            };
            if info.shape != t.shape {
                errors.error(
                    &layer.name,
                    format!(
                        "tensor `{full}` in `{shown}` has shape {}, but layer `{}` needs {}; the file was saved from a different declaration",
                        shape_text(&info.shape),
                        layer.text(),
                        shape_text(&t.shape)
                    ),
                );
                continue;
            }
            let dtype = match info.dtype {
                Dtype::F32 => quote!(::sinew::embed::Dtype::F32),
                Dtype::F64 => quote!(::sinew::embed::Dtype::F64),
                other => {
                    errors.error(
                        &layer.name,
                        format!(
                            "tensor `{full}` in `{shown}` is {other:?}; sinew embeds F32 and F64 tensors"
                        ),
                    );
                    continue;
                }
            };
            let start = crate::expand::lit(data_start + info.data_offsets.0);
            let layout = &t.layout;
            fields_f32.push(quote!(#field_ident: ::sinew::embed::matrix_f32(BYTES, #start, #dtype, #layout)));
            fields_f64.push(quote!(#field_ident: ::sinew::embed::matrix_f64(BYTES, #start, #dtype, #layout)));
        }
        let ty = code.struct_path(layer);
        layers_f32.push(quote!(#name: #ty { #(#fields_f32,)* }));
        layers_f64.push(quote!(#name: #ty { #(#fields_f64,)* }));
    }
    let batch_norms: BTreeSet<String> = model
        .layers
        .iter()
        .filter(|l| matches!(l.kind, crate::model::Kind::BatchNorm { .. }))
        .map(|l| format!("{}.num_batches_tracked", l.path))
        .collect();
    let mut extra: Vec<&String> =
        in_file.keys().filter(|k| !expected.contains(*k) && !batch_norms.contains(*k)).collect();
    extra.sort_unstable();
    if !extra.is_empty() {
        let list: Vec<String> =
            extra.iter().map(|k| format!("`{k}` {}", shape_text(&in_file[*k].shape))).collect();
        errors.error(
            lit,
            format!(
                "the weight file `{shown}` holds tensors that network `{net}` does not declare: {}; it was saved from a different declaration",
                list.join(", ")
            ),
        );
    }
    if errors.len() > before {
        return None;
    }

    let absolute = std::fs::canonicalize(&path).unwrap_or(path);
    let file = LitStr::new(&absolute.display().to_string(), lit.span());
    let doc = format!(
        " The weights of `{shown}`, embedded when the crate was compiled: the file's tensors were checked against the declaration (names, shapes, dtypes) and decoded by the compiler, so a `static` of this value is initialised data that a microcontroller reads in place from flash."
    );
    let doc_f64 = format!(" [`EMBEDDED`]({net}::EMBEDDED) in double precision.");
    Some(quote! {
        impl #net<f32> {
            #[doc = #doc]
            pub const EMBEDDED: Self = {
                const BYTES: &[u8] = ::core::include_bytes!(#file);
                #net { #(#layers_f32,)* }
            };
        }

        impl #net<f64> {
            #[doc = #doc_f64]
            pub const EMBEDDED_F64: Self = {
                const BYTES: &[u8] = ::core::include_bytes!(#file);
                #net { #(#layers_f64,)* }
            };
        }
    })
}
