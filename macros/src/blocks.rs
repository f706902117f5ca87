//! Blocks: layers declared once (`block Res(ch) { ... }`) and used as a layer kind, each use
//! with its own parameters. Uses are inlined before any other stage runs: `b1: Res(16)`
//! becomes the block's layers with fields `b1_c1`, `b1_n1`, ... and PyTorch paths `b1.c1`,
//! `b1.n1`, ... (so the `state_dict` of the equivalent PyTorch module loads); inside the
//! block, `input` is what feeds the use, and outside, the use's name is the block's last
//! layer. A sequence `layer1: [Res(16), Res(16)]` names its entries `layer1.0`,
//! `layer1.1`, as `nn.Sequential` does. `#[frozen]` on a use or a sequence freezes every
//! layer with parameters in it.

use crate::ast::{Arg, Args, BlockDecl, Item, LayerDecl, SequenceDecl, ShapeDecl, Value};
use crate::report::Errors;
use crate::symbol;
use std::collections::HashMap;
use syn::Ident;

/// Layer kinds that have parameters, and so can be frozen.
const WITH_PARAMETERS: &[&str] =
    &[symbol::DENSE, symbol::CONV2D, symbol::CONV_TRANSPOSE2D, symbol::BATCH_NORM];

/// Layer kinds without parameters: `#[frozen]` on a sequence skips them.
pub const WITHOUT_PARAMETERS: &[&str] = &[
    symbol::DROPOUT,
    symbol::MAX_POOL2D,
    symbol::AVG_POOL2D,
    symbol::GLOBAL_AVG_POOL,
    symbol::FLATTEN,
    symbol::ADD,
    symbol::CONCAT,
];

/// How deeply blocks may use blocks (a block using itself would never end).
const MAX_DEPTH: usize = 16;

/// The network's items with every block use and sequence replaced by its layers, and
/// every constant and arithmetic expression in a size replaced by its value.
pub fn inline(
    items: Vec<Item>,
    blocks: &[BlockDecl],
    consts: &[syn::ItemConst],
    errors: &mut Errors,
) -> Vec<Item> {
    let mut values: HashMap<String, i128> = HashMap::new();
    let mut opaque: HashMap<String, String> = HashMap::new();
    for item in consts {
        // Only integer constants can be sizes; others are emitted and left alone.
        let integer = matches!(&*item.ty, syn::Type::Path(t) if t.path.get_ident().is_some_and(|i| {
            ["usize", "u8", "u16", "u32", "u64", "u128", "isize", "i8", "i16", "i32", "i64", "i128"].iter().any(|n| i == n)
        }));
        if !integer {
            continue;
        }
        let lookup = |name: &Ident| match values.get(&name.to_string()) {
            Some(v) => Known::Value(*v),
            None => Known::Unknown,
        };
        match eval(&item.expr, &lookup) {
            Ok(v) => {
                values.insert(item.ident.to_string(), v);
            }
            // A constant the program needs but no size uses is fine: it is reported only
            // where a size uses it.
            Err(e) => {
                opaque.insert(item.ident.to_string(), e.to_string());
            }
        }
    }
    let mut seen: HashMap<String, &BlockDecl> = HashMap::new();
    for block in blocks {
        if symbol::LAYERS.contains(&block.name.to_string().as_str()) {
            errors.error(
                &block.name,
                format!("block `{}` has the name of a layer kind; rename it", block.name),
            );
        } else if seen.insert(block.name.to_string(), block).is_some() {
            errors.error(&block.name, format!("block `{}` is declared twice", block.name));
        }
    }
    let mut out = Inliner {
        blocks: seen,
        errors,
        emitted: Vec::new(),
        alias: HashMap::new(),
        last: None,
        consts: values,
        opaque,
        reported: false,
    };
    let mut result = Vec::new();
    for item in items {
        match item {
            Item::Input(mut decl) => {
                decl.shape = out.bind_shape(&decl.shape, &Scope::outer());
                result.push(Item::Input(decl));
            }
            Item::Layer(decl) => {
                out.layer(decl, &Scope::outer(), 0);
                result.extend(out.emitted.drain(..).map(Item::Layer));
            }
            Item::Sequence(seq) => {
                out.sequence(seq, &Scope::outer(), 0);
                result.extend(out.emitted.drain(..).map(Item::Layer));
            }
        }
    }
    result
}

/// How names resolve where a layer is written.
struct Scope {
    /// Prefix of field names and paths (`b1_`, `b1.`); empty outside blocks.
    field: String,
    path: String,
    /// Inside a block: what `input` means, and the block's own layer names.
    inside: Option<(Ident, Vec<String>, String)>,
    /// The block's parameters, bound to the use's values.
    params: HashMap<String, Value>,
}

impl Scope {
    fn outer() -> Self {
        Scope { field: String::new(), path: String::new(), inside: None, params: HashMap::new() }
    }
}

struct Inliner<'a, 'e> {
    blocks: HashMap<String, &'a BlockDecl>,
    errors: &'e mut Errors,
    emitted: Vec<LayerDecl>,
    /// Use name (field form) → the field of its last layer.
    alias: HashMap<String, Ident>,
    /// The field of the layer emitted last, if any.
    last: Option<Ident>,
    /// The values of the constants declared in the invocation.
    consts: HashMap<String, i128>,
    /// The constants declared in the invocation that the macro cannot evaluate, with why.
    opaque: HashMap<String, String>,
    /// Whether a reference of the layer being inlined was already reported.
    reported: bool,
}

impl Inliner<'_, '_> {
    /// The field name of the value most recently produced, or `input`, with `span`.
    fn previous(&self, span: proc_macro2::Span) -> Ident {
        Ident::new(&self.last.as_ref().map_or_else(|| symbol::INPUT.to_string(), ToString::to_string), span)
    }

    /// A name as written in `scope`, as a field name (with the written span).
    fn rename(&mut self, name: &Ident, scope: &Scope, reader: &str) -> Ident {
        let text = name.to_string();
        let resolved = match &scope.inside {
            Some((input, _, _)) if text == symbol::INPUT => return input.clone(),
            Some((_, locals, block)) => {
                let text = match self
                    .blocks
                    .get(block)
                    .and_then(|b| b.sequences.iter().find(|(seq, _)| *seq == text))
                {
                    Some((_, last)) => last.clone(),
                    None => text,
                };
                if !locals.contains(&text) {
                    let mut known: Vec<&str> = vec![symbol::INPUT];
                    known.extend(locals.iter().map(String::as_str));
                    let hint = symbol::suggest(&text, &known)
                        .map(|s| format!("did you mean `{s}`? "))
                        .unwrap_or_default();
                    self.errors.error(
                        name,
                        format!(
                            "layer `{reader}` of block `{block}` reads `{text}`, which is not in the block; {hint}a block reads `input` (what feeds it) and its own layers"
                        ),
                    );
                    self.reported = true;
                    return name.clone();
                }
                format!("{}{text}", scope.field)
            }
            None => text,
        };
        let target = self.alias.get(&resolved).cloned().unwrap_or_else(|| Ident::new(&resolved, name.span()));
        Ident::new(&target.to_string(), name.span())
    }

    /// A value with the block's parameters replaced by the use's, constants by their
    /// values and expressions evaluated (an expression that cannot be is reported).
    fn bind(&mut self, value: &Value, scope: &Scope) -> Value {
        match value {
            Value::Ident(i) => match scope.params.get(&i.to_string()) {
                Some(bound) => bound.clone(),
                None => match (self.consts.get(&i.to_string()), self.opaque.get(&i.to_string())) {
                    (Some(v), _) => number(*v, i.span()),
                    (None, Some(why)) => {
                        self.errors.error(i, opaque_message(i, why));
                        Value::Reported(i.span())
                    }
                    (None, None) => value.clone(),
                },
            },
            Value::Neg(minus, inner) => Value::Neg(*minus, Box::new(self.bind(inner, scope))),
            Value::Tuple(span, items) => {
                Value::Tuple(*span, items.iter().map(|v| self.bind(v, scope)).collect())
            }
            Value::Expr(expr) => {
                let lookup = |name: &Ident| -> Known {
                    let key = name.to_string();
                    let int =
                        |lit: &syn::LitInt| lit.base10_parse::<i128>().map_or(Known::Unknown, Known::Value);
                    match scope.params.get(&key) {
                        Some(Value::Int(lit)) => int(lit),
                        Some(Value::Neg(_, inner)) => match &**inner {
                            Value::Int(lit) => match int(lit) {
                                Known::Value(v) => Known::Value(-v),
                                other => other,
                            },
                            _ => Known::Unknown,
                        },
                        Some(_) => Known::Unknown,
                        None => match (self.consts.get(&key), self.opaque.get(&key)) {
                            (Some(v), _) => Known::Value(*v),
                            (None, Some(why)) => Known::Opaque(why.clone()),
                            (None, None) => Known::Unknown,
                        },
                    }
                };
                match eval(expr, &lookup) {
                    Ok(v) => number(v, syn::spanned::Spanned::span(&**expr)),
                    Err(e) => {
                        self.errors.push(e);
                        // The rules skip it quietly, so nothing cascades from it.
                        Value::Reported(syn::spanned::Spanned::span(&**expr))
                    }
                }
            }
            other => other.clone(),
        }
    }

    /// A shape with its values bound.
    fn bind_shape(&mut self, shape: &ShapeDecl, scope: &Scope) -> ShapeDecl {
        match shape {
            ShapeDecl::Flat(v) => ShapeDecl::Flat(self.bind(v, scope)),
            ShapeDecl::Image(dims, span) => {
                ShapeDecl::Image(dims.iter().map(|v| self.bind(v, scope)).collect(), *span)
            }
            ShapeDecl::Call(name, args) => {
                let mut args = args.clone();
                for arg in &mut args.list {
                    match arg {
                        Arg::Positional(v) | Arg::Named { value: v, .. } => *v = self.bind(v, scope),
                        Arg::Arrow { from, to, .. } => {
                            *from = self.bind(from, scope);
                            *to = self.bind(to, scope);
                        }
                    }
                }
                ShapeDecl::Call(name.clone(), args)
            }
        }
    }

    /// One layer or block use, written in `scope`.
    fn layer(&mut self, mut decl: LayerDecl, scope: &Scope, depth: usize) {
        let kind = decl.kind.to_string();
        let reader = decl.name.to_string();
        let joins = kind == symbol::ADD || kind == symbol::CONCAT;
        // References: `Add`/`Concat` arguments and `from`.
        let mut from = None;
        if let Some(args) = &mut decl.args {
            for arg in &mut args.list {
                match arg {
                    Arg::Positional(Value::Ident(name)) if joins => *name = self.rename(name, scope, &reader),
                    Arg::Named { name, value: Value::Ident(v) } if name == symbol::FROM => {
                        *v = self.rename(v, scope, &reader);
                        from = Some(v.clone());
                    }
                    Arg::Positional(v) | Arg::Named { value: v, .. } => *v = self.bind(v, scope),
                    Arg::Arrow { from, to, .. } => {
                        *from = self.bind(from, scope);
                        *to = self.bind(to, scope);
                    }
                }
            }
        }
        if let Some(assertion) = &decl.assertion {
            decl.assertion = Some(self.bind_shape(assertion, scope));
        }
        let field = format!("{}{}", scope.field, decl.name);
        let path = format!("{}{}", scope.path, decl.path);
        let Some(block) = self.blocks.get(&kind).copied() else {
            decl.name = Ident::new(&field, decl.name.span());
            decl.path = path;
            decl.reported = std::mem::take(&mut self.reported);
            self.last = Some(decl.name.clone());
            self.emitted.push(decl);
            return;
        };
        if depth >= MAX_DEPTH {
            self.errors.error(
                &decl.kind,
                format!("blocks are nested more than {MAX_DEPTH} deep here; does block `{kind}` use itself?"),
            );
            return;
        }
        // A block use: its arguments are the block's parameters, and `from`.
        let mut values = Vec::new();
        for arg in decl.args.iter().flat_map(|a| &a.list) {
            match arg {
                Arg::Positional(v) => values.push(v.clone()),
                Arg::Named { name, .. } if name == symbol::FROM => {}
                Arg::Named { name, .. } => {
                    self.errors.error(
                        name,
                        format!(
                            "block `{kind}` takes its parameters by position ({}), and `from`",
                            block.params.len()
                        ),
                    );
                    return;
                }
                Arg::Arrow { arrow, .. } => {
                    self.errors.error(
                        arrow,
                        format!("block `{kind}` takes its parameters by position, not `in => out`"),
                    );
                    return;
                }
            }
        }
        if values.len() != block.params.len() {
            let wanted: Vec<String> = block.params.iter().map(ToString::to_string).collect();
            self.errors.error(
                &decl.kind,
                format!(
                    "block `{kind}` takes {} parameter{} ({}), but `{}` gives {}",
                    wanted.len(),
                    if wanted.len() == 1 { "" } else { "s" },
                    wanted.join(", "),
                    decl.name,
                    values.len()
                ),
            );
            return;
        }
        if let Some(act) = &decl.activation {
            self.errors.error(
                &act.name,
                format!("a block use takes no activation; put it on the last layer of block `{kind}`"),
            );
            return;
        }
        if block.layers.is_empty() {
            self.errors.at(block.body_span, format!("block `{kind}` has no layers"));
            return;
        }
        // What feeds the use; errors about it point at the use.
        let input = from.unwrap_or_else(|| self.previous(decl.kind.span()));
        let params = block.params.iter().map(ToString::to_string).zip(values).collect();
        let inner = Scope {
            field: format!("{field}_"),
            path: format!("{path}."),
            inside: Some((input, block.layers.iter().map(|l| l.name.to_string()).collect(), kind.clone())),
            params,
        };
        let start = self.emitted.len();
        for (i, layer) in block.layers.iter().enumerate() {
            let mut layer = layer.clone();
            if decl.frozen && WITH_PARAMETERS.contains(&layer.kind.to_string().as_str()) {
                layer.frozen = true;
            }
            // The first layer reads what feeds the use, unless it says otherwise.
            let kind = layer.kind.to_string();
            let explicit = layer
                .args
                .iter()
                .flat_map(|a| &a.list)
                .any(|a| matches!(a, Arg::Named { name, .. } if name == symbol::FROM));
            if i == 0 && kind != symbol::ADD && kind != symbol::CONCAT && !explicit {
                let span = layer.kind.span();
                let args = layer.args.get_or_insert_with(|| Args { span, list: Vec::new() });
                args.list.push(Arg::Named {
                    name: Ident::new(symbol::FROM, span),
                    value: Value::Ident(Ident::new(symbol::INPUT, span)),
                });
                layer.implied_from = true;
            }
            self.layer(layer, &inner, depth + 1);
        }
        if self.emitted.len() > start
            && let Some(last) = &self.last
        {
            self.alias.insert(field, last.clone());
        }
        // `b1: Res(16) => [16, 8, 8]` asserts what the block's last layer produces.
        if let Some(assertion) = decl.assertion
            && self.emitted.len() > start
            && let Some(layer) = self.emitted.last_mut()
        {
            layer.assertion = Some(assertion);
        }
    }

    /// `name: [A(..), B(..)]`.
    fn sequence(&mut self, seq: SequenceDecl, scope: &Scope, depth: usize) {
        let name = seq.name.clone();
        let mut last = None;
        for decl in seq.into_layers() {
            last = Some(format!("{}{}", scope.field, decl.name));
            self.layer(decl, scope, depth);
        }
        if let (Some(last), Some(emitted)) = (last, &self.last) {
            let target = self.alias.get(&last).cloned().unwrap_or_else(|| emitted.clone());
            self.alias.insert(format!("{}{name}", scope.field), target);
        }
    }
}

/// What a name in a size stands for.
pub enum Known {
    Value(i128),
    /// A constant of the declaration the macro cannot evaluate, and why.
    Opaque(String),
    Unknown,
}

/// Why a declared constant cannot be a size.
fn opaque_message(name: &Ident, why: &str) -> String {
    format!(
        "`{name}` is declared in this `network!`, but the macro cannot evaluate it to use as a size: {why}"
    )
}

/// An integer literal with the value `v` at `span`, as if written there.
fn number(v: i128, span: proc_macro2::Span) -> Value {
    let lit = syn::LitInt::new(&v.unsigned_abs().to_string(), span);
    if v < 0 { Value::Neg(syn::Token![-](span), Box::new(Value::Int(lit))) } else { Value::Int(lit) }
}

/// The value of an integer expression: literals, names `lookup` knows, `+ - * / %`, unary
/// minus and parentheses, in `i128` with overflow and division by zero reported.
pub fn eval(expr: &syn::Expr, lookup: &dyn Fn(&Ident) -> Known) -> Result<i128, syn::Error> {
    use syn::{BinOp, Expr, Lit, UnOp};
    let err = |message: String| Err(syn::Error::new_spanned(expr, message));
    match expr {
        Expr::Lit(lit) => match &lit.lit {
            Lit::Int(i) => match i.base10_parse::<i128>() {
                Ok(v) => Ok(v),
                Err(_) => err(format!("`{}` is too large", i.base10_digits())),
            },
            other => err(format!(
                "`{}` is not an integer; sizes are whole numbers",
                quote::ToTokens::to_token_stream(other)
            )),
        },
        Expr::Path(path) => match path.path.get_ident() {
            Some(name) => match lookup(name) {
                Known::Value(v) => Ok(v),
                Known::Opaque(why) => err(opaque_message(name, &why)),
                Known::Unknown => err(format!(
                    "`{name}` is not a constant of this declaration; declare it before the network, `const {name}: usize = 64;`, and the rest of the program can use it too"
                )),
            },
            None => err(String::from(
                "the macro cannot read constants declared elsewhere (it checks shapes before the compiler evaluates them); declare the constant in this `network!`, before the network, and use it from the rest of the program",
            )),
        },
        Expr::Paren(inner) => eval(&inner.expr, lookup),
        Expr::Group(inner) => eval(&inner.expr, lookup),
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => eval(&u.expr, lookup).map(|v| -v),
        Expr::Binary(b) => {
            let (l, r) = (eval(&b.left, lookup)?, eval(&b.right, lookup)?);
            let value = match b.op {
                BinOp::Add(_) => l.checked_add(r),
                BinOp::Sub(_) => l.checked_sub(r),
                BinOp::Mul(_) => l.checked_mul(r),
                BinOp::Div(_) if r == 0 => return err(String::from("division by zero")),
                BinOp::Div(_) => l.checked_div(r),
                BinOp::Rem(_) if r == 0 => return err(String::from("division by zero")),
                BinOp::Rem(_) => l.checked_rem(r),
                _ => return err(String::from("a size may use `+`, `-`, `*`, `/` and `%` only")),
            };
            match value {
                Some(v) => Ok(v),
                None => err(String::from("this size overflows")),
            }
        }
        _ => err(String::from(
            "a size is an integer, a constant, or an arithmetic expression of them (`+ - * / %`, parentheses)",
        )),
    }
}
