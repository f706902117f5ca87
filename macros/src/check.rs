//! Rules about the declaration as a whole. One function per rule; each states its rule.

use crate::ast::{InputDecl, Item, LayerDecl, Network};
use crate::report::Errors;
use std::collections::HashSet;

/// Rule: there is exactly one `input`, and it comes before every layer.
pub fn input<'a>(net: &'a Network, errors: &mut Errors) -> Option<&'a InputDecl> {
    let mut found: Option<&InputDecl> = None;
    let mut first_layer: Option<&LayerDecl> = None;
    for item in &net.items {
        match item {
            Item::Input(decl) => {
                if found.is_some() {
                    errors.error(
                        &decl.key,
                        format!("`input` is declared twice in `{}`; a network has exactly one input, so remove this one", net.name),
                    );
                    continue;
                }
                if let Some(layer) = first_layer {
                    errors.error(
                        &decl.key,
                        format!(
                            "`input` must come first, before layer `{}`; move it to the top of `{}`",
                            layer.name, net.name
                        ),
                    );
                }
                found = Some(decl);
            }
            Item::Layer(layer) => {
                first_layer.get_or_insert(layer);
            }
            Item::Sequence(_) => {}
        }
    }
    if found.is_none() && !net.incomplete {
        errors.error(
            &net.name,
            format!("network `{}` has no `input`; start its body with the number of input features, e.g. `input: 784,`", net.name),
        );
    }
    found
}

/// Rule: a network has at least one layer.
pub fn not_empty(net: &Network, errors: &mut Errors) {
    if !net.incomplete && !net.items.iter().any(|i| matches!(i, Item::Layer(_))) {
        errors.at(
            net.body_span,
            format!(
                "network `{}` has no layers; add at least one after `input`, e.g. `out: Dense(10)`",
                net.name
            ),
        );
    }
}

/// Field names of the generated training workspace besides the layers': a layer cannot
/// take them.
const RESERVED_FIELDS: &[(&str, &str)] =
    &[("grads", "the parameter gradients"), ("samples", "the number of real samples in the batch")];

/// Rule: layer names are unique (each becomes a field) and are not the generated fields.
pub fn unique_names(net: &Network, errors: &mut Errors) {
    let mut seen: HashSet<String> = HashSet::new();
    for item in &net.items {
        let Item::Layer(layer) = item else { continue };
        let name = layer.name.to_string();
        if let Some((_, holds)) = RESERVED_FIELDS.iter().find(|(field, _)| *field == name) {
            errors.error(
                &layer.name,
                format!(
                    "`{name}` is reserved: the training workspace of `{}` has a field `{name}` for {holds}; rename this layer (e.g. `{name}_layer`)",
                    net.name
                ),
            );
            continue;
        }
        if !seen.insert(name.clone()) {
            errors.error(
                &layer.name,
                format!(
                    "duplicate layer name `{name}` in `{}`; every layer becomes a field of the struct, so rename this one (e.g. `{name}2`)",
                    net.name
                ),
            );
        }
    }
}

/// Rule: the network is not named `B` or `T`, the generic parameters of the generated code
/// (batch size and scalar type).
pub fn name_is_free(net: &Network, errors: &mut Errors) {
    for reserved in ["B", "T"] {
        if net.name == reserved {
            let what = if reserved == "B" { "batch size" } else { "scalar type" };
            errors.error(
                &net.name,
                format!("a network cannot be named `{reserved}`: the generated code uses `{reserved}` for the {what}; choose another name"),
            );
        }
    }
}
