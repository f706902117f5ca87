//! Reading a layer's arguments: sizes, pairs, options, windows and flags, each with its
//! error messages. The layer kinds' rules (`layers/<kind>.rs`) are written with these.

use crate::ast::{Arg, Args, LayerDecl, MAX_SIZE, Value};
use crate::model::{Geo, MAX_TENSOR, Prev, Producer, Reference, Shape, conv_output, pair_text};
use crate::report::Errors;
use crate::symbol;
use quote::ToTokens;
use std::collections::BTreeMap;

/// A positive integer size. `what` names the thing for messages (e.g. "layer `hidden`"),
/// `unit` what it counts (e.g. "outputs").
pub fn size(value: &Value, what: &str, unit: &str, errors: &mut Errors) -> Option<usize> {
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
            Ok(n) if n > MAX_SIZE => {
                errors.error(lit, too_large(what, lit));
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
                errors.error(lit, too_large(what, lit));
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
        Value::Reported(_) => None,
        Value::Ident(ident) => {
            errors.error(
                ident,
                format!("{what}: `{ident}` is not a number the macro knows; it checks every shape when it expands, before the compiler evaluates constants, so declare the constant in this `network!`, before the network (`const {ident}: usize = 64;`), and the rest of the program can use it too"),
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

pub fn too_large(what: &str, lit: &syn::LitInt) -> String {
    format!(
        "{what}: `{lit}` is too large; sizes are at most 2^31 = 2,147,483,648, and every tensor at most 2^31 values"
    )
}

/// A non-negative integer (paddings).
pub fn count(value: &Value, what: &str, errors: &mut Errors) -> Option<usize> {
    match value {
        Value::Int(lit) if !lit.base10_digits().starts_with('-') && lit.suffix().is_empty() => {
            match lit.base10_parse::<usize>() {
                Ok(n) if n <= MAX_SIZE => Some(n),
                _ => {
                    errors.error(lit, too_large(what, lit));
                    None
                }
            }
        }
        Value::Reported(_) => None,
        _ => {
            errors.error(value, format!("{what}: expected a non-negative integer, found `{}`", value.text()));
            None
        }
    }
}

/// `k` or `(kh, kw)`: the same for both axes, or one each. `zero_ok` allows 0 (padding).
pub fn pair(
    value: &Value,
    what: &str,
    unit: &str,
    zero_ok: bool,
    errors: &mut Errors,
) -> Option<(usize, usize)> {
    let one = |v: &Value, errors: &mut Errors| {
        if zero_ok {
            return count(v, what, errors);
        }
        if let Value::Int(lit) = v
            && lit.base10_parse::<usize>().ok() == Some(0)
        {
            errors.error(lit, format!("{what}: a {unit} of 0 is impossible; it must be at least 1"));
            return None;
        }
        size(v, what, unit, errors)
    };
    match value {
        Value::Tuple(_, items) if items.len() == 2 => {
            let a = one(&items[0], errors);
            let b = one(&items[1], errors);
            Some((a?, b?))
        }
        Value::Tuple(..) => {
            errors.error(value, format!("{what}: write one {unit} for both axes, or `(height, width)`"));
            None
        }
        v => one(v, errors).map(|n| (n, n)),
    }
}

/// A finite number (integer or float literal, possibly negative).
pub fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Int(lit) => lit.base10_parse::<f64>().ok(),
        Value::Float(lit) => lit.base10_parse::<f64>().ok(),
        Value::Neg(_, inner) => number(inner).map(|v| -v),
        _ => None,
    }
}

/// The arguments of a layer split into positional values and named options, checking the
/// option names against `allowed` (with suggestions) and rejecting repeats.
pub struct Options<'a> {
    pub positional: Vec<&'a Value>,
    pub named: BTreeMap<String, &'a Value>,
    /// Whether every option was known and given once.
    pub valid: bool,
}

pub fn options<'a>(decl: &'a LayerDecl, kind: &str, allowed: &[&str], errors: &mut Errors) -> Options<'a> {
    read_options(decl, kind, allowed, false, errors)
}

/// [`options`] for a layer that also takes `in => out` (read by its own rule).
pub fn options_with_arrow<'a>(
    decl: &'a LayerDecl,
    kind: &str,
    allowed: &[&str],
    errors: &mut Errors,
) -> Options<'a> {
    read_options(decl, kind, allowed, true, errors)
}

fn read_options<'a>(
    decl: &'a LayerDecl,
    kind: &str,
    allowed: &[&str],
    arrow_ok: bool,
    errors: &mut Errors,
) -> Options<'a> {
    let mut out = Options { positional: Vec::new(), named: BTreeMap::new(), valid: true };
    let mut ok = true;
    for arg in decl.args.as_ref().map_or(&[][..], |a: &Args| &a.list) {
        match arg {
            Arg::Positional(v) => out.positional.push(v),
            Arg::Named { name, .. } if name == symbol::FROM => {}
            Arg::Named { name, value } => {
                let key = name.to_string();
                if !allowed.contains(&key.as_str()) {
                    let context = format!(" for `{kind}` layer `{}`", decl.path);
                    let message = if allowed.is_empty() {
                        format!("unknown option `{key}`{context}; `{kind}` takes no options")
                    } else {
                        symbol::unknown("option", &key, &context, allowed)
                    };
                    errors.error(name, message);
                    ok = false;
                } else if out.named.insert(key.clone(), value).is_some() {
                    errors.error(name, format!("option `{key}` of layer `{}` is given twice", decl.path));
                    ok = false;
                }
            }
            Arg::Arrow { .. } if arrow_ok => {}
            Arg::Arrow { from, arrow, to } => {
                let mut tokens = proc_macro2::TokenStream::new();
                from.to_tokens(&mut tokens);
                arrow.to_tokens(&mut tokens);
                to.to_tokens(&mut tokens);
                errors.error(
                    tokens,
                    format!("`{kind}` does not take `in => out`; write the output size alone"),
                );
                ok = false;
            }
        }
    }
    out.valid = ok;
    out
}

/// The image flowing into a layer that needs one, or an error saying so.
pub fn image_input(
    decl: &LayerDecl,
    kind: &str,
    prev: &Prev,
    errors: &mut Errors,
) -> Option<(usize, usize, usize)> {
    match prev.shape {
        Shape::Image { c, h, w } => Some((c, h, w)),
        other => {
            let hint = match (&prev.producer, other) {
                (_, Shape::Tokens { .. }) => "token ids are read by an `Embedding` first".to_string(),
                (_, Shape::Sequence { .. }) => {
                    "sequences are read by `Rnn`, `Gru`, `Lstm` and `Dense(.., steps = all)`".to_string()
                }
                (Producer::Input, _) => {
                    "declare the input as an image, e.g. `input: [1, 28, 28]`".to_string()
                }
                (Producer::Layer { .. }, _) => {
                    "image layers go before `Flatten` and dense layers".to_string()
                }
            };
            errors.error(
                &decl.kind,
                format!(
                    "`{kind}` layer `{}` needs an image [channels, height, width], but {}; {hint}",
                    decl.path,
                    prev.producer.produces(other)
                ),
            );
            None
        }
    }
}

/// Rule: a layer without an activation of its own.
pub fn no_activation(decl: &LayerDecl, what: &str, errors: &mut Errors) -> Option<()> {
    if let Some(act) = &decl.activation {
        errors.error(
            &act.name,
            format!(
                "{what} layer `{}` takes no activation; put `-> {}` on the layer before it",
                decl.path, act.name
            ),
        );
        return None;
    }
    Some(())
}

/// The kernel, stride and padding of a convolution or pooling layer, as written.
pub struct WindowSpec<'a> {
    pub kernel: (usize, usize),
    pub stride: (usize, usize),
    pub padding: (usize, usize),
    /// The kernel's tokens, for errors.
    pub kernel_value: &'a Value,
}

/// Reads `kernel` (required), `stride` (default `default_stride`, or the kernel) and
/// `padding` (default 0); each is one size or `(height, width)`. With `same_ok`, `padding =
/// same` keeps the height and width: stride 1 and an odd kernel, padded by `(k − 1) / 2`
/// (PyTorch's `padding='same'` for odd kernels).
pub fn window_spec<'a>(
    decl: &LayerDecl,
    opts: &Options<'a>,
    kernel: Option<&'a Value>,
    default_stride: Option<(usize, usize)>,
    same_ok: bool,
    errors: &mut Errors,
) -> Option<WindowSpec<'a>> {
    let name = &decl.name;
    let what = format!("layer `{name}`");
    let Some(kernel_value) = kernel else {
        // A misspelt option (already reported, with a suggestion) is the likely cause.
        if opts.valid {
            errors.error(
                &decl.kind,
                format!("layer `{name}` needs a kernel size, e.g. `kernel = 3` or `kernel = (3, 5)`"),
            );
        }
        return None;
    };
    let kernel = pair(kernel_value, &what, "kernel size", false, errors);
    let stride = match opts.named.get(symbol::STRIDE) {
        Some(v) => pair(v, &what, "stride", false, errors),
        None => default_stride.or(kernel),
    };
    let padding = match opts.named.get(symbol::PADDING) {
        Some(Value::Ident(same)) if same == symbol::SAME => {
            same_padding(decl, same, same_ok, kernel, stride, errors)
        }
        Some(v) => pair(v, &what, "padding", true, errors),
        None => Some((0, 0)),
    };
    Some(WindowSpec { kernel: kernel?, stride: stride?, padding: padding?, kernel_value })
}

/// `padding = same`: `(k − 1) / 2` on each axis, for a convolution of stride 1 with an odd
/// kernel; anything else is an error on `same` saying why.
pub fn same_padding(
    decl: &LayerDecl,
    same: &syn::Ident,
    same_ok: bool,
    kernel: Option<(usize, usize)>,
    stride: Option<(usize, usize)>,
    errors: &mut Errors,
) -> Option<(usize, usize)> {
    let name = &decl.name;
    if !same_ok {
        errors.error(
            same,
            format!(
                "layer `{name}`: `padding = same` is for `Conv2d`; give `{}` its padding as a number",
                decl.kind
            ),
        );
        return None;
    }
    let ((kh, kw), stride) = (kernel?, stride?);
    if stride != (1, 1) {
        errors.error(
            same,
            format!(
                "layer `{name}`: `padding = same` keeps the size only with stride 1, but the stride is {}; give the padding as a number",
                pair_text(stride.0, stride.1)
            ),
        );
        return None;
    }
    if kh % 2 == 0 || kw % 2 == 0 {
        errors.error(
            same,
            format!(
                "layer `{name}`: `padding = same` needs an odd kernel (it pads (k - 1) / 2 on each side), but the kernel is {}",
                pair_text(kh, kw)
            ),
        );
        return None;
    }
    Some(((kh - 1) / 2, (kw - 1) / 2))
}

/// The window over a `c × h × w` input, with its output size; an error (on the kernel)
/// if the kernel does not fit the padded input.
pub fn fit_window(
    decl: &LayerDecl,
    (c, h, w): (usize, usize, usize),
    spec: &WindowSpec,
    errors: &mut Errors,
) -> Option<Geo> {
    let ((kh, kw), (sh, sw), (ph, pw)) = (spec.kernel, spec.stride, spec.padding);
    let (ho, wo) = (conv_output(h, kh, sh, ph), conv_output(w, kw, sw, pw));
    let (Some(ho), Some(wo)) = (ho, wo) else {
        let mut axes = Vec::new();
        if ho.is_none() {
            axes.push(format!("height {h} + 2 x {ph} = {} < {kh}", h + 2 * ph));
        }
        if wo.is_none() {
            axes.push(format!("width {w} + 2 x {pw} = {} < {kw}", w + 2 * pw));
        }
        errors.error(
            spec.kernel_value,
            format!(
                "layer `{}`: its {kh} x {kw} kernel does not fit its input {} with padding ({}); use a smaller kernel, more padding, or less pooling before it",
                decl.path,
                Shape::Image { c, h, w }.text(),
                axes.join(", ")
            ),
        );
        return None;
    };
    Some(Geo { c, h, w, kh, kw, sh, sw, ph, pw, ho, wo })
}

/// Checks that each of a layer's buffers or weights (`(verb, values)`, e.g. `("have",
/// weights)`) holds at most 2^31 values.
pub fn tensors_fit(decl: &LayerDecl, tensors: &[(&str, usize)], errors: &mut Errors) -> bool {
    for &(verb, values) in tensors {
        if values as u128 > MAX_TENSOR {
            let count = if values == usize::MAX { "over 2^64".to_string() } else { values.to_string() };
            let noun = if verb == "have" { "weights" } else { "values per sample" };
            errors.error(
                &decl.kind,
                format!("layer `{}` would {verb} {count} {noun}, more than 2^31; sinew networks are statically sized and must stay smaller", decl.path),
            );
            return false;
        }
    }
    true
}

/// `bias = false` drops the layer's bias (PyTorch's `bias=False`, e.g. before batch norm).
pub fn bias_option(decl: &LayerDecl, opts: &Options, errors: &mut Errors) -> Option<bool> {
    match opts.named.get(symbol::BIAS) {
        None => Some(true),
        Some(v) => flag(v, &format!("layer `{}`", decl.path), symbol::BIAS, errors),
    }
}

/// `true` or `false`.
pub fn flag(value: &Value, what: &str, key: &str, errors: &mut Errors) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(b.value),
        Value::Reported(_) => None,
        _ => {
            errors.error(value, format!("{what}: `{key}` is `true` or `false`, found `{}`", value.text()));
            None
        }
    }
}

pub fn out_channels(decl: &LayerDecl, kind: &str, opts: &Options, errors: &mut Errors) -> Option<usize> {
    let name = &decl.name;
    match opts.positional.as_slice() {
        [] => {
            errors.error(&decl.kind, format!("`{kind}` layer `{name}` needs its number of output channels, e.g. `{kind}(16, kernel = 3)`"));
            None
        }
        [v] => size(v, &format!("layer `{name}`"), "output channels", errors),
        [_, extra, ..] => {
            errors.error(
                *extra,
                format!(
                    "`{kind}` takes one positional value, the output channels; name the others (`kernel = 3`)"
                ),
            );
            None
        }
    }
}

/// The tokens of an argument, for error spans.
pub fn arg_tokens(arg: &Arg) -> proc_macro2::TokenStream {
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

/// `` `Add` layer `sum` cannot add `b` to `a`: <what a gives>, but <what b gives>; <rule> ``,
/// at the token naming `b`.
#[allow(clippy::too_many_arguments)]
pub fn cannot_join(
    errors: &mut Errors,
    at: &Reference,
    decl: &LayerDecl,
    kind: &str,
    verb: &str,
    first: &Prev,
    prev: &Prev,
    rule: &str,
) {
    errors.at(
        at.span,
        format!(
            "{kind} `{}` cannot {verb} {} to {}: {}, but {}; {rule}",
            decl.path,
            prev.producer.who(),
            first.producer.who(),
            first.producer.produces(first.shape),
            prev.producer.produces(prev.shape),
        ),
    );
}

/// Rule: a layer that cannot read token ids says so, and to put an `Embedding` first.
pub fn no_tokens(decl: &LayerDecl, kind: &str, prev: &Prev, errors: &mut Errors) -> Option<()> {
    if let Shape::Tokens { .. } = prev.shape {
        errors.error(
            &decl.kind,
            format!(
                "`{kind}` layer `{}` cannot read token ids: {}; put an `Embedding` before it, e.g. `emb: Embedding(16)`",
                decl.path,
                prev.producer.produces(prev.shape)
            ),
        );
        return None;
    }
    Some(())
}

/// `steps = all | last`, if given: `Some(true)` for every step.
pub fn steps_option(decl: &LayerDecl, value: &Value, errors: &mut Errors) -> Option<bool> {
    match value {
        Value::Ident(word) if word == symbol::ALL => Some(true),
        Value::Ident(word) if word == symbol::LAST => Some(false),
        Value::Reported(_) => None,
        other => {
            errors.error(
                other,
                format!(
                    "`{}` of layer `{}` is `{}` (every step) or `{}` (the last step), found `{}`",
                    symbol::STEPS,
                    decl.path,
                    symbol::ALL,
                    symbol::LAST,
                    other.text()
                ),
            );
            None
        }
    }
}

/// The size of a layer written `Kind(n)` or `Kind(m => n)`, as the rules of `Dense`,
/// `Embedding` and the recurrent layers read it.
pub struct OneSize<'a> {
    /// Whether a size was written at all.
    pub seen: bool,
    /// `n`, if it is a valid size.
    pub size: Option<usize>,
    /// For `m => n`: `m`'s tokens and value, for the caller to check against its input.
    pub written_input: Option<(&'a Value, Option<usize>)>,
}

/// Reads [`OneSize`]: `units` name `m` and `n` in messages; every size after the first is an
/// error on its tokens, saying how to write the layer (`usage`). Named arguments are left to
/// the caller.
pub fn one_size<'a>(
    decl: &'a LayerDecl,
    kind: &str,
    (input_unit, unit): (&str, &str),
    usage: &str,
    errors: &mut Errors,
) -> OneSize<'a> {
    let name = &decl.name;
    let what = format!("layer `{name}`");
    let mut out = OneSize { seen: false, size: None, written_input: None };
    for arg in decl.args.as_ref().map_or(&[][..], |a: &Args| &a.list) {
        match arg {
            Arg::Named { .. } => {}
            _ if out.seen => {
                errors.error(arg_tokens(arg), format!("`{kind}` layer `{name}` takes one size; {usage}"));
            }
            Arg::Positional(v) => {
                out.seen = true;
                out.size = size(v, &what, unit, errors);
            }
            Arg::Arrow { from, to, .. } => {
                out.seen = true;
                out.written_input = Some((from, size(from, &what, input_unit, errors)));
                out.size = size(to, &what, unit, errors);
            }
        }
    }
    out
}
