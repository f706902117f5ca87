//! Tokens to [`ast`](crate::ast). The body is split at top-level commas first and every
//! item is parsed on its own, so that several syntax mistakes are all reported.

use crate::ast::{
    ActivationDecl, Arg, Args, Budget, InputDecl, Item, LayerDecl, MAX_SIZE, Network, ShapeDecl, Value,
};
use crate::report::Errors;
use crate::symbol;
use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::parse::{ParseStream, Parser};
use syn::{
    Attribute, Ident, LitBool, LitFloat, LitInt, LitStr, Token, Visibility, braced, bracketed, parenthesized,
};

/// Parses the whole invocation: any `block` declarations, then the network. A malformed
/// header is fatal (`Err`); malformed items are recorded in `errors` and skipped.
pub fn network(input: TokenStream, errors: &mut Errors) -> syn::Result<Network> {
    type Header = (
        Vec<syn::ItemConst>,
        Vec<(Ident, Vec<Ident>, TokenStream, proc_macro2::Span)>,
        Vec<Attribute>,
        Visibility,
        Ident,
        TokenStream,
        proc_macro2::Span,
    );
    let parser = |stream: ParseStream| -> syn::Result<Header> {
        let mut blocks = Vec::new();
        let mut consts = Vec::new();
        let attrs = loop {
            // Doc comments may precede a block; they document the declaration only.
            let attrs = stream.call(Attribute::parse_outer)?;
            let fork = stream.fork();
            let _ = fork.parse::<Visibility>();
            if fork.peek(Token![const]) {
                // The item's tokens, up to its `;`.
                let tokens: TokenStream =
                    peek_until(stream, |tt, _| matches!(tt, TokenTree::Punct(p) if p.as_char() == ';'))?
                        .into_iter()
                        .collect();
                if too_complex(tokens.clone(), MAX_CONST_TOKENS) {
                    return Err(syn::Error::new_spanned(
                        tokens,
                        "this constant is too long or nests too deeply for `network!`; declare it outside the macro (it could not be a size anyway)",
                    ));
                }
                let mut item: syn::ItemConst = stream.parse()?;
                item.attrs.splice(0..0, attrs);
                consts.push(item);
                continue;
            }
            if !(stream.peek(Ident) && stream.fork().parse::<Ident>().is_ok_and(|i| i == symbol::BLOCK)) {
                break attrs;
            }
            if let Some(attr) = attrs.iter().find(|a| !a.path().is_ident("doc")) {
                return Err(syn::Error::new_spanned(attr, "a block takes doc comments only"));
            }
            stream.parse::<Ident>()?;
            let name: Ident = stream.parse().map_err(|e| {
                syn::Error::new(e.span(), "expected the block's name: `block Name(params) { layers }`")
            })?;
            let mut params = Vec::new();
            if stream.peek(syn::token::Paren) {
                let content;
                parenthesized!(content in stream);
                let list = content.parse_terminated(<Ident as syn::parse::Parse>::parse, Token![,])?;
                params.extend(list);
            }
            if !stream.peek(syn::token::Brace) {
                return Err(stream.error(format!(
                    "expected `{{` after `block {name}`: `block {name} {{ c1: Conv2d(16, kernel = 3), ... }}`"
                )));
            }
            let content;
            let brace = braced!(content in stream);
            let body: TokenStream = content.parse()?;
            blocks.push((name, params, body, brace.span.join()));
        };
        let vis: Visibility = stream.parse()?;
        if !stream.peek(Token![struct]) {
            return Err(stream.error(
                "expected `struct`: a network is declared as `pub struct Name { input: ..., layer: ..., }`",
            ));
        }
        stream.parse::<Token![struct]>()?;
        let name: Ident = stream.parse()?;
        if stream.peek(Token![<]) {
            return Err(stream.error(format!(
                "`{name}` must not declare generic parameters: every network is generic over its scalar type, `{name}<T = f32>`"
            )));
        }
        if !stream.peek(syn::token::Brace) {
            return Err(stream.error(format!("expected `{{` after `struct {name}`")));
        }
        let content;
        let brace = braced!(content in stream);
        let body: TokenStream = content.parse()?;
        if stream.peek(Token![;]) {
            stream.parse::<Token![;]>()?;
        }
        if !stream.is_empty() {
            return Err(stream.error(
                "unexpected tokens after the network's body; `network!` declares one network (blocks come before it)",
            ));
        }
        Ok((consts, blocks, attrs, vis, name, body, brace.span.join()))
    };
    let (consts, block_decls, attrs, vis, name, body, body_span) = parser.parse2(input)?;

    let before = errors.len();
    let mut blocks = Vec::new();
    for (block, params, body, span) in block_decls {
        let mut layers = Vec::new();
        let mut sequences = Vec::new();
        for chunk in split_top_level_commas(body, errors) {
            match item.parse2(chunk) {
                Ok(Item::Layer(layer)) => layers.push(layer),
                Ok(Item::Sequence(seq)) => {
                    let entries = seq.into_layers();
                    if let Some(last) = entries.last() {
                        let name = last.path.rsplit_once('.').map_or("", |(seq, _)| seq).to_string();
                        sequences.push((name, last.name.to_string()));
                    }
                    layers.extend(entries);
                }
                Ok(Item::Input(decl)) => errors.error(
                    &decl.key,
                    format!("block `{block}` takes no `input`: its input is whatever feeds it, named `input` inside the block"),
                ),
                Err(e) => errors.push(e),
            }
        }
        blocks.push(crate::ast::BlockDecl { name: block, params, layers, sequences, body_span: span });
    }
    let mut items = Vec::new();
    for chunk in split_top_level_commas(body, errors) {
        match item.parse2(chunk) {
            Ok(item) => items.push(item),
            Err(e) => errors.push(e),
        }
    }
    let items = crate::blocks::inline(items, &blocks, &consts, errors);
    let (attrs, weights, budget) = network_attributes(attrs, errors);
    Ok(Network {
        attrs,
        weights,
        budget,
        vis,
        name,
        items,
        consts,
        body_span,
        incomplete: errors.len() > before,
    })
}

/// Takes sinew's own attributes out of the network's: `#[weights("file")]` and
/// `#[budget(...)]`; the others are forwarded to the struct.
fn network_attributes(
    attrs: Vec<Attribute>,
    errors: &mut Errors,
) -> (Vec<Attribute>, Option<LitStr>, Option<Budget>) {
    let mut rest = Vec::new();
    let mut weights: Option<LitStr> = None;
    let mut budget = None;
    for attr in attrs {
        if attr.path().is_ident(symbol::WEIGHTS) {
            match attr.parse_args::<LitStr>() {
                Ok(path) if weights.is_none() => weights = Some(path),
                Ok(path) => {
                    errors.error(&path, "`#[weights]` is given twice; a network embeds one weight file")
                }
                Err(_) => errors.error(
                    &attr,
                    "expected a file name: `#[weights(\"model.safetensors\")]`, relative to this source file",
                ),
            }
        } else if attr.path().is_ident(symbol::BUDGET) {
            match parse_budget(&attr) {
                Ok(b) if budget.is_none() => budget = Some(b),
                Ok(_) => errors.error(&attr, "`#[budget]` is given twice; give every limit in one attribute"),
                Err(e) => errors.push(e),
            }
        } else {
            rest.push(attr);
        }
    }
    (rest, weights, budget)
}

/// `#[budget(flash = 64K, ram = 16K, batch = 1, optimizer = Adam)]`.
fn parse_budget(attr: &Attribute) -> syn::Result<Budget> {
    let mut budget = Budget { flash: None, ram: None, batch: 1, optimizer: None };
    let expected = "expected `flash = <bytes>`, `ram = <bytes>`, `batch = <samples>` or `optimizer = <Sgd|Momentum|RmsProp|Adam>`";
    if !matches!(attr.meta, syn::Meta::List(_)) {
        return Err(syn::Error::new_spanned(
            attr,
            format!("`#[budget]` needs limits: {expected}, e.g. `#[budget(flash = 64K, ram = 16K)]`"),
        ));
    }
    attr.parse_nested_meta(|meta| {
        let key = meta.path.get_ident().map(Ident::to_string).unwrap_or_default();
        match key.as_str() {
            symbol::FLASH | symbol::RAM => {
                let lit: LitInt = meta.value()?.parse()?;
                let bytes = byte_size(&lit)?;
                let slot = if key == symbol::FLASH { &mut budget.flash } else { &mut budget.ram };
                *slot = Some((bytes, lit));
            }
            symbol::BATCH => {
                let lit: LitInt = meta.value()?.parse()?;
                let batch: usize = lit.base10_parse().map_err(|_| {
                    syn::Error::new_spanned(&lit, "`batch` is a number of samples, from 1 to 2^31")
                })?;
                if batch == 0 || batch > MAX_SIZE {
                    return Err(syn::Error::new_spanned(
                        lit,
                        "`batch` is a number of samples, from 1 to 2^31",
                    ));
                }
                budget.batch = batch;
            }
            symbol::OPTIMIZER => {
                let name: Ident = meta.value()?.parse()?;
                if !symbol::OPTIMIZERS.iter().any(|o| name == o) {
                    return Err(syn::Error::new_spanned(
                        &name,
                        symbol::unknown("optimizer", &name.to_string(), "", symbol::OPTIMIZERS),
                    ));
                }
                budget.optimizer = Some(name);
            }
            _ => {
                let hint =
                    symbol::suggest(&key, &[symbol::FLASH, symbol::RAM, symbol::BATCH, symbol::OPTIMIZER])
                        .map(|s| format!("did you mean `{s}`? "))
                        .unwrap_or_default();
                return Err(meta.error(format!("unknown budget `{key}`; {hint}{expected}")));
            }
        }
        Ok(())
    })?;
    if budget.flash.is_none() && budget.ram.is_none() {
        return Err(syn::Error::new_spanned(
            attr,
            "`#[budget]` sets no limit; give `flash = <bytes>` and/or `ram = <bytes>`",
        ));
    }
    Ok(budget)
}

/// `4096`, `64K` / `64KiB` (×1024), `1M` / `1MiB` (×1024²).
fn byte_size(lit: &LitInt) -> syn::Result<u128> {
    let scale: u128 = match lit.suffix() {
        "" => 1,
        "K" | "KiB" | "k" => 1 << 10,
        "M" | "MiB" => 1 << 20,
        other => {
            return Err(syn::Error::new_spanned(
                lit,
                format!(
                    "unknown size unit `{other}`; write bytes (`4096`), `K` (KiB) or `M` (MiB), e.g. `64K`"
                ),
            ));
        }
    };
    let digits: u128 =
        lit.base10_digits().parse().map_err(|_| syn::Error::new_spanned(lit, "size too large"))?;
    digits.checked_mul(scale).ok_or_else(|| syn::Error::new_spanned(lit, "size too large"))
}

/// Splits at commas outside any group; reports empty entries (`,,`).
fn split_top_level_commas(body: TokenStream, errors: &mut Errors) -> Vec<TokenStream> {
    let mut chunks = Vec::new();
    let mut current = Vec::new();
    for tree in body {
        match &tree {
            TokenTree::Punct(p) if p.as_char() == ',' => {
                if current.is_empty() {
                    errors.at(
                        p.span(),
                        "unexpected `,`: expected a layer such as `hidden: Dense(128) -> Relu`",
                    );
                } else {
                    chunks.push(current.drain(..).collect());
                }
            }
            _ => current.push(tree),
        }
    }
    if !current.is_empty() {
        chunks.push(current.into_iter().collect());
    }
    chunks
}

fn item(stream: ParseStream) -> syn::Result<Item> {
    let mut attrs = stream.call(Attribute::parse_outer)?;
    let mut frozen = false;
    for attr in &attrs {
        if attr.path().is_ident(symbol::FROZEN) {
            if !matches!(attr.meta, syn::Meta::Path(_)) {
                return Err(syn::Error::new_spanned(attr, "`#[frozen]` takes no arguments"));
            }
            frozen = true;
        } else if !attr.path().is_ident("doc") {
            let written = attr.path().get_ident().map(Ident::to_string).unwrap_or_default();
            let hint = match symbol::suggest(&written, &[symbol::FROZEN]) {
                Some(s) => format!("; did you mean `#[{s}]`?"),
                None => String::from(";"),
            };
            return Err(syn::Error::new_spanned(
                attr.path(),
                format!(
                    "unknown layer attribute `{}`{hint} a layer takes doc comments and `#[frozen]` (never trained)",
                    attr.path().to_token_stream()
                ),
            ));
        }
    }
    attrs.retain(|a| !a.path().is_ident(symbol::FROZEN));
    let name: Ident = stream.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            "expected a layer name, as in `hidden: Dense(128) -> Relu`, or `input: <features>`",
        )
    })?;
    if !stream.peek(Token![:]) {
        let example = if name == symbol::INPUT { "784" } else { "Dense(10)" };
        return Err(stream.error(format!("expected `:` after `{name}`, as in `{name}: {example}`")));
    }
    stream.parse::<Token![:]>()?;
    if name == symbol::INPUT {
        if let Some(attr) = attrs.first() {
            return Err(syn::Error::new_spanned(attr, "`input` takes no attributes"));
        }
        if frozen {
            return Err(stream.error("`input` has no parameters to freeze; put `#[frozen]` on a layer"));
        }
        let shape = shape(stream)?;
        expect_end(stream, "after the input shape")?;
        return Ok(Item::Input(InputDecl { key: name, shape }));
    }
    if stream.peek(syn::token::Bracket) {
        // `layer1: [Res(16), Res(16)]`: a sequence, its entries named `layer1.0`, ...
        let content;
        bracketed!(content in stream);
        let mut entries = Vec::new();
        while !content.is_empty() {
            let kind: Ident = content.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    format!("expected a block or layer kind in sequence `{name}`, e.g. `[Res(16), Res(16)]`"),
                )
            })?;
            let args = if content.peek(syn::token::Paren) { Some(parse_args(&content)?) } else { None };
            entries.push((kind, args));
            if content.is_empty() {
                break;
            }
            content.parse::<Token![,]>()?;
        }
        let assertion = if stream.peek(Token![=>]) {
            stream.parse::<Token![=>]>()?;
            Some(shape(stream)?)
        } else {
            None
        };
        expect_end(stream, &format!("after sequence `{name}`"))?;
        if entries.is_empty() {
            return Err(syn::Error::new(
                name.span(),
                format!("sequence `{name}` is empty; list its blocks, e.g. `{name}: [Res(16), Res(16)]`"),
            ));
        }
        return Ok(Item::Sequence(crate::ast::SequenceDecl { attrs, frozen, name, entries, assertion }));
    }
    let kind: Ident = stream.parse().map_err(|e| {
        syn::Error::new(e.span(), format!("expected a layer kind after `{name}:`, e.g. `Dense(10)`"))
    })?;
    let args = if stream.peek(syn::token::Paren) { Some(parse_args(stream)?) } else { None };
    let activation = if stream.peek(Token![->]) {
        stream.parse::<Token![->]>()?;
        let act: Ident = stream.parse().map_err(|e| {
            syn::Error::new(e.span(), format!("expected an activation after `->`, e.g. `{}`", symbol::RELU))
        })?;
        let args = if stream.peek(syn::token::Paren) { Some(parse_args(stream)?) } else { None };
        Some(ActivationDecl { name: act, args })
    } else {
        None
    };
    let assertion = if stream.peek(Token![=>]) {
        stream.parse::<Token![=>]>()?;
        Some(shape(stream).map_err(|e| {
            syn::Error::new(
                e.span(),
                format!("expected the shape `{name}` produces after `=>`, e.g. `=> [6, 28, 28]` or `=> 120`"),
            )
        })?)
    } else {
        None
    };
    expect_end(stream, &format!("after layer `{name}`"))?;
    Ok(Item::Layer(LayerDecl {
        attrs,
        frozen,
        path: name.to_string(),
        name,
        kind,
        args,
        activation,
        assertion,
        reported: false,
        implied_from: false,
    }))
}

fn expect_end(stream: ParseStream, context: &str) -> syn::Result<()> {
    if stream.is_empty() {
        return Ok(());
    }
    let message = if stream.peek(Token![-]) && stream.peek2(Token![>]) {
        format!("expected `->` {context}")
    } else {
        format!("expected `,` {context}")
    };
    Err(stream.error(message))
}

fn shape(stream: ParseStream) -> syn::Result<ShapeDecl> {
    if stream.peek(syn::token::Bracket) {
        let content;
        let bracket = bracketed!(content in stream);
        let mut dims = Vec::new();
        while !content.is_empty() {
            dims.push(value(&content)?);
            if content.is_empty() {
                break;
            }
            content.parse::<Token![,]>()?;
        }
        return Ok(ShapeDecl::Image(dims, bracket.span.join()));
    }
    if stream.peek(syn::Ident) && stream.peek2(syn::token::Paren) {
        let name: syn::Ident = stream.parse()?;
        return Ok(ShapeDecl::Call(name, parse_args(stream)?));
    }
    Ok(ShapeDecl::Flat(value(stream)?))
}

fn parse_args(stream: ParseStream) -> syn::Result<Args> {
    let content;
    let paren = parenthesized!(content in stream);
    let mut list = Vec::new();
    while !content.is_empty() {
        list.push(arg(&content)?);
        if content.is_empty() {
            break;
        }
        if !content.peek(Token![,]) {
            return Err(content.error("expected `,` between arguments"));
        }
        content.parse::<Token![,]>()?;
    }
    Ok(Args { span: paren.span.join(), list })
}

fn arg(stream: ParseStream) -> syn::Result<Arg> {
    if stream.peek(Ident) && stream.peek2(Token![=]) && !stream.peek2(Token![=>]) {
        let name: Ident = stream.parse()?;
        stream.parse::<Token![=]>()?;
        let value = value(stream)?;
        return Ok(Arg::Named { name, value });
    }
    let first = value(stream)?;
    if stream.peek(Token![=>]) {
        let arrow = stream.parse()?;
        let to = value(stream)?;
        return Ok(Arg::Arrow { from: first, arrow, to });
    }
    Ok(Arg::Positional(first))
}

/// The token trees ahead of `stream`, up to (not including) the first for which `stop`
/// holds (it also sees where the next token starts), without consuming them.
fn peek_until(
    stream: ParseStream,
    stop: impl Fn(&TokenTree, syn::buffer::Cursor) -> bool,
) -> syn::Result<Vec<TokenTree>> {
    stream.fork().step(|cursor| {
        let mut rest = *cursor;
        let mut out = Vec::new();
        while let Some((tt, next)) = rest.token_tree() {
            if stop(&tt, next) {
                break;
            }
            out.push(tt);
            rest = next;
        }
        Ok((out, rest))
    })
}

/// Expressions may nest parentheses this deep (syn parses them recursively).
const MAX_NESTING: usize = 32;

/// The most tokens a size expression may have (syn builds an operator chain as a nested
/// tree, which is evaluated and dropped recursively).
const MAX_EXPRESSION_TOKENS: usize = 256;

/// The most tokens a constant declared in the invocation may have, for the same reason.
const MAX_CONST_TOKENS: usize = 4096;

/// Whether `tokens` nest deeper than [`MAX_NESTING`] or hold more than `max` tokens in
/// all, counted without recursion.
fn too_complex(tokens: TokenStream, max: usize) -> bool {
    let mut stack = vec![tokens.into_iter()];
    let mut count = 0;
    while let Some(iter) = stack.last_mut() {
        match iter.next() {
            Some(tt) => {
                count += 1;
                if count > max {
                    return true;
                }
                if let TokenTree::Group(g) = tt {
                    if stack.len() >= MAX_NESTING {
                        return true;
                    }
                    stack.push(g.stream().into_iter());
                }
            }
            None => {
                stack.pop();
            }
        }
    }
    false
}

/// One value: a literal, a name, a tuple, or an arithmetic expression of numbers and
/// constants (`2 * HIDDEN + 1`, `(SIDE - 1) / 2`), which ends at a top-level `,` or `=>`.
fn value(stream: ParseStream) -> syn::Result<Value> {
    value_or_expr(stream, false)
}

/// [`value`], also inside a tuple (`in_tuple`).
fn value_or_expr(stream: ParseStream, in_tuple: bool) -> syn::Result<Value> {
    // The tokens of this value, without consuming them.
    let tokens = peek_until(stream, |tt, next| match tt {
        TokenTree::Punct(p) => {
            p.as_char() == ','
                || (p.as_char() == '='
                    && matches!(next.token_tree(), Some((TokenTree::Punct(q), _)) if q.as_char() == '>'))
        }
        _ => false,
    })?;
    // A binary operator: `-` only after an operand (`- - 3` is unary minus, three times).
    let has_operator = |tokens: &[TokenTree]| {
        tokens.iter().enumerate().any(|(i, tt)| match tt {
            TokenTree::Punct(p) if matches!(p.as_char(), '+' | '*' | '/' | '%') => true,
            TokenTree::Punct(p) if p.as_char() == '-' => {
                i > 0 && !matches!(tokens[i - 1], TokenTree::Punct(_))
            }
            _ => false,
        })
    };
    // `(a - b)`: parentheses around an expression (a tuple has a top-level comma).
    let parenthesised = match tokens.as_slice() {
        [TokenTree::Group(g)] if g.delimiter() == proc_macro2::Delimiter::Parenthesis => {
            let inner: Vec<TokenTree> = g.stream().into_iter().collect();
            has_operator(&inner)
                && !inner.iter().any(|tt| matches!(tt, TokenTree::Punct(p) if p.as_char() == ','))
        }
        _ => false,
    };
    if (tokens.len() > 1 && has_operator(&tokens)) || parenthesised {
        let stream_tokens: TokenStream = tokens.iter().cloned().collect();
        if too_complex(stream_tokens.clone(), MAX_EXPRESSION_TOKENS) {
            return Err(syn::Error::new_spanned(
                stream_tokens,
                "this expression is too long or nests too deeply; write it more simply",
            ));
        }
        let expr: syn::Expr = syn::parse2(stream_tokens)?;
        // Consume exactly those tokens.
        for _ in 0..tokens.len() {
            stream.parse::<TokenTree>()?;
        }
        return Ok(Value::Expr(Box::new(expr)));
    }
    value_in(stream, in_tuple)
}

/// One value; `in_tuple` inside `( .. )`. Never recursive beyond one level: a minus sign
/// applies to one number and tuples do not nest, so no input can exhaust the stack.
fn value_in(stream: ParseStream, in_tuple: bool) -> syn::Result<Value> {
    if stream.peek(LitInt) {
        return Ok(Value::Int(stream.parse()?));
    }
    if stream.peek(LitFloat) {
        return Ok(Value::Float(stream.parse()?));
    }
    if stream.peek(LitBool) {
        return Ok(Value::Bool(stream.parse()?));
    }
    if stream.peek(Token![-]) {
        let minus = stream.parse()?;
        if stream.peek(Token![-]) || stream.peek(syn::token::Paren) {
            return Err(stream.error("expected a number after `-`"));
        }
        return Ok(Value::Neg(minus, Box::new(value_in(stream, in_tuple)?)));
    }
    if stream.peek(syn::token::Paren) {
        let content;
        let paren = parenthesized!(content in stream);
        if in_tuple {
            return Err(syn::Error::new(
                paren.span.join(),
                "parentheses do not nest here: write one number, or `(height, width)`",
            ));
        }
        let mut items = Vec::new();
        while !content.is_empty() {
            items.push(value_or_expr(&content, true)?);
            if content.is_empty() {
                break;
            }
            content.parse::<Token![,]>()?;
        }
        return Ok(Value::Tuple(paren.span.join(), items));
    }
    if stream.peek(Ident) {
        return Ok(Value::Ident(stream.parse()?));
    }
    Err(stream.error("expected a number"))
}
