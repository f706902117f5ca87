//! The network as a graph: which values each layer reads, and that every value is used.
//! (The rules of the layers that join values are in `layers/add.rs` and `layers/concat.rs`.)
//!
//! A declaration is a DAG in declaration order. Each layer reads the previous one unless it
//! says otherwise (`from = name`, or the arguments of `Add` / `Concat`), and a reference may
//! only point backwards, to the input or an earlier layer: declaration order is then a
//! topological order, so the forward pass runs the layers as written and the backward pass
//! in reverse, and no cycle can be written. Every value but the last (the output) must be
//! read by some layer.

use crate::ast::{Arg, LayerDecl, Network, Value};
use crate::model::{Layer, Reference, Source};
use crate::report::Errors;
use crate::symbol;

/// Whether `kind` joins several values.
fn joins(kind: &str) -> bool {
    kind == symbol::ADD || kind == symbol::CONCAT
}

/// Rule: the values a layer reads. `Add(a, b, ..)` and `Concat(a, b, ..)` name two or more;
/// any other layer reads the previous layer (the input for the first one) unless
/// `from = name` names another. A name is `input` or an earlier layer: not the layer
/// itself, not a later one (that would be a cycle), and not an unknown one.
pub fn sources(
    decl: &LayerDecl,
    index: usize,
    decls: &[&LayerDecl],
    errors: &mut Errors,
) -> Option<Vec<Reference>> {
    if decl.reported {
        return None;
    }
    let kind = decl.kind.to_string();
    let args = decl.args.as_ref().map_or(&[][..], |a| &a.list);
    if joins(&kind) {
        let mut refs = Vec::new();
        let mut ok = true;
        for arg in args {
            match arg {
                Arg::Positional(Value::Ident(name)) => match reference(decl, name, index, decls, errors) {
                    Some(r) => refs.push(r),
                    None => ok = false,
                },
                Arg::Positional(value) => {
                    errors.error(
                        value,
                        format!(
                            "`{kind}` layer `{}` takes the names of the values it joins, e.g. `{kind}(c2, input)`; found `{}`",
                            decl.path,
                            value.text()
                        ),
                    );
                    ok = false;
                }
                Arg::Named { name, .. } => {
                    let hint = if name == symbol::FROM {
                        format!(
                            "`{kind}` names its inputs as arguments, e.g. `{kind}(c2, input)`; `from` is for layers with one input"
                        )
                    } else {
                        format!("`{kind}` takes no options, only the names of the values it joins")
                    };
                    errors.error(
                        name,
                        format!("unknown option `{name}` for `{kind}` layer `{}`: {hint}", decl.path),
                    );
                    ok = false;
                }
                Arg::Arrow { arrow, .. } => {
                    errors
                        .error(arrow, format!("`{kind}` layer `{}` takes names, not `in => out`", decl.path));
                    ok = false;
                }
            }
        }
        if !ok {
            return None;
        }
        if refs.len() < 2 {
            let what = if kind == symbol::ADD { "add" } else { "join" };
            errors.error(
                &decl.kind,
                format!(
                    "`{kind}` layer `{}` needs at least two values to {what}, e.g. `{kind}(c2, input)`; found {}",
                    decl.path,
                    refs.len()
                ),
            );
            return None;
        }
        return Some(refs);
    }
    let from = args.iter().find_map(|arg| match arg {
        Arg::Named { name, value } if name == symbol::FROM => Some((name, value)),
        _ => None,
    });
    match from {
        Some((_, Value::Ident(name))) => reference(decl, name, index, decls, errors).map(|r| vec![r]),
        Some((key, value)) => {
            errors.error(
                value,
                format!(
                    "`{key}` names the value layer `{}` reads: `input` or an earlier layer, e.g. `from = c1`; found `{}`",
                    decl.path,
                    value.text()
                ),
            );
            None
        }
        None => {
            let span = decl.kind.span();
            Some(vec![match index.checked_sub(1) {
                Some(previous) => Reference {
                    source: Source::Layer(previous),
                    name: decls[previous].path.clone(),
                    explicit: false,
                    span,
                },
                None => {
                    Reference { source: Source::Input, name: symbol::INPUT.into(), explicit: false, span }
                }
            }])
        }
    }
}

/// One written name, resolved.
fn reference(
    decl: &LayerDecl,
    name: &syn::Ident,
    index: usize,
    decls: &[&LayerDecl],
    errors: &mut Errors,
) -> Option<Reference> {
    let text = name.to_string();
    let made = |source, shown: &str| {
        Some(Reference { source, name: shown.to_string(), explicit: true, span: name.span() })
    };
    if text == symbol::INPUT {
        return made(Source::Input, &text);
    }
    match decls.iter().position(|d| d.name == text) {
        Some(j) if j < index => made(Source::Layer(j), &decls[j].path),
        Some(j) if j == index => {
            errors.error(
                name,
                format!(
                    "layer `{text}` reads its own output, which would be a cycle; read `input` or an earlier layer"
                ),
            );
            None
        }
        Some(_) => {
            errors.error(
                name,
                format!(
                    "layer `{}` reads `{text}`, which is declared after it; a layer reads `input` or an earlier layer, so that the network has no cycles: move `{text}` before `{}`",
                    decl.path, decl.path
                ),
            );
            None
        }
        None => {
            let mut known: Vec<&str> = vec![symbol::INPUT];
            let names: Vec<String> = decls[..index].iter().map(|d| d.name.to_string()).collect();
            known.extend(names.iter().map(String::as_str));
            let hint = match symbol::suggest(&text, &known) {
                Some(s) => format!("; did you mean `{s}`?"),
                None => format!("; the values declared before it are {}", list(&known)),
            };
            errors.error(name, format!("layer `{}` reads `{text}`, which is not declared{hint}", decl.path));
            None
        }
    }
}

/// `` `a`, `b` and `c` ``.
fn list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => quoted.join(""),
    }
}

/// Rule: every value is used. A layer that no later layer reads (other than the last,
/// the output) is computed for nothing and, if it has parameters, never trained: almost
/// always a missing `Add` or `Concat` argument, so it is an error, not a warning (a
/// procedural macro cannot raise warnings on stable Rust, and a warning would be easy to
/// miss while the network silently trains without that branch).
pub fn all_used(net: &Network, layers: &[Layer], errors: &mut Errors) -> bool {
    let mut used = vec![false; layers.len()];
    for layer in layers {
        for source in &layer.inputs {
            if let Source::Layer(j) = source {
                used[*j] = true;
            }
        }
    }
    let Some((last, rest)) = layers.split_last() else { return true };
    let mut ok = true;
    for (layer, used) in rest.iter().zip(used) {
        if !used {
            errors.error(
                &layer.name,
                format!(
                    "the output of layer `{}` is never used: no later layer reads it, and only the last layer (`{}`) is the output of `{}`; read it (e.g. `Add({}, ...)` or `from = {}`) or remove it",
                    layer.path, last.path, net.name, layer.name, layer.name
                ),
            );
            ok = false;
        }
    }
    ok
}
