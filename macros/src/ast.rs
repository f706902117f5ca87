//! The declaration as written, keeping every token an error may need to point at.

use proc_macro2::Span;
use syn::{Attribute, Ident, LitBool, LitFloat, LitInt, Token, Visibility};

/// `attrs vis struct Name { items }`.
pub struct Network {
    /// Outer attributes, doc comments included; forwarded to the struct (sinew's own,
    /// `weights` and `budget`, are taken out).
    pub attrs: Vec<Attribute>,
    /// `#[weights("file.safetensors")]`: weights to embed at compile time.
    pub weights: Option<syn::LitStr>,
    /// `#[budget(flash = 64K, ram = 16K, ...)]`.
    pub budget: Option<Budget>,
    pub vis: Visibility,
    pub name: Ident,
    /// The items that parsed; the ones that did not are already reported. Block instances
    /// are already inlined and constants evaluated (see `blocks`).
    pub items: Vec<Item>,
    /// `const NAME: usize = expr;` items declared before the network: emitted as written,
    /// so the rest of the program shares them, and usable in sizes.
    pub consts: Vec<syn::ItemConst>,
    /// The span of the braces, for errors about the body as a whole.
    pub body_span: Span,
    /// Whether some item failed to parse (and was reported): rules about the body as a
    /// whole, such as "has no `input`", would then only repeat that error.
    pub incomplete: bool,
}

/// The largest size that may be written anywhere in a declaration (features, channels,
/// kernel, stride, padding, a budget's batch): 2^31. With every written size at most this,
/// no sum such as `n + 2p` can overflow; products are computed saturating and checked.
pub const MAX_SIZE: usize = 1 << 31;

/// A memory budget: limits in bytes, each with the tokens that set it (for errors).
pub struct Budget {
    pub flash: Option<(u128, syn::LitInt)>,
    pub ram: Option<(u128, syn::LitInt)>,
    pub batch: usize,
    /// The optimizer whose state counts in `ram` (training), if any.
    pub optimizer: Option<Ident>,
}

/// One comma-separated entry of the body.
pub enum Item {
    /// `input: 784` or `input: [1, 28, 28]`.
    Input(InputDecl),
    /// `name: Kind(args) -> Activation(args)`.
    Layer(LayerDecl),
    /// `name: [Block(args), Block(args)]`.
    Sequence(SequenceDecl),
}

/// `name: [Kind(args), ...]`: blocks (or layers) one after the other, named `name.0`,
/// `name.1`, ... as in a PyTorch `nn.Sequential`.
pub struct SequenceDecl {
    pub attrs: Vec<Attribute>,
    pub frozen: bool,
    pub name: Ident,
    pub entries: Vec<(Ident, Option<Args>)>,
    /// `=> shape`: what the last entry must produce.
    pub assertion: Option<ShapeDecl>,
}

impl SequenceDecl {
    /// The entries as layers `name_0`, `name_1`, ... with paths `name.0`, `name.1`, ...
    pub fn into_layers(self) -> Vec<LayerDecl> {
        let name = self.name;
        let last = self.entries.len().saturating_sub(1);
        let mut assertion = self.assertion;
        self.entries
            .into_iter()
            .enumerate()
            .map(|(i, (kind, args))| LayerDecl {
                attrs: self.attrs.clone(),
                // `#[frozen]` on a sequence freezes what has parameters in it: its blocks
                // (which pass it on) and its layers with parameters, not its pooling.
                frozen: self.frozen
                    && !crate::blocks::WITHOUT_PARAMETERS.contains(&kind.to_string().as_str()),
                name: Ident::new(&format!("{name}_{i}"), name.span()),
                path: format!("{name}.{i}"),
                kind,
                args,
                activation: None,
                assertion: if i == last { assertion.take() } else { None },
                reported: false,
                implied_from: false,
            })
            .collect()
    }
}

/// `input: <shape>`.
pub struct InputDecl {
    /// The `input` keyword.
    pub key: Ident,
    pub shape: ShapeDecl,
}

/// A shape as written.
#[derive(Clone)]
pub enum ShapeDecl {
    /// `784`.
    Flat(Value),
    /// `[C, H, W]`; the span covers the brackets.
    Image(Vec<Value>, Span),
    /// `Sequence(T, F)` or `Tokens(T, vocab = V)`.
    Call(Ident, Args),
}

/// `block Name(param, ...) { layers }`: layers declared once and used as a layer kind,
/// each use with its own parameters, named `use.layer` as a PyTorch submodule's.
pub struct BlockDecl {
    pub name: Ident,
    /// Names that the block's sizes may use, given at each use: `Res(16)`.
    pub params: Vec<Ident>,
    pub layers: Vec<LayerDecl>,
    /// Sequences inside the block (`downsample: [Conv2d(..), BatchNorm]`), by name, with
    /// the name of their last entry: reading the sequence reads that entry.
    pub sequences: Vec<(String, String)>,
    /// The span of the braces.
    pub body_span: Span,
}

/// `name: Kind(args) -> Activation(args)`.
#[derive(Clone)]
pub struct LayerDecl {
    /// Doc comments on the layer; they go to its field.
    pub attrs: Vec<Attribute>,
    /// `#[frozen]`: never updated, no gradient or optimizer state.
    pub frozen: bool,
    pub name: Ident,
    /// The PyTorch-style module path (`b1.c1`, `layer1.0.conv1`): the name itself, or for
    /// a layer inside a block instance the instance's path, a dot and the layer's name.
    pub path: String,
    pub kind: Ident,
    pub args: Option<Args>,
    pub activation: Option<ActivationDecl>,
    /// `=> [C, H, W]` or `=> N`: the shape the layer must produce.
    pub assertion: Option<ShapeDecl>,
    /// Whether a mistake in it was already reported while inlining blocks: the later stages
    /// skip it quietly.
    pub reported: bool,
    /// Whether its `from` was implied (the first layer of a block reads what feeds the
    /// use), so the canonical text leaves it out.
    pub implied_from: bool,
}

/// `-> Name(args)`.
#[derive(Clone)]
pub struct ActivationDecl {
    pub name: Ident,
    pub args: Option<Args>,
}

/// A parenthesised argument list.
#[derive(Clone)]
pub struct Args {
    pub span: Span,
    pub list: Vec<Arg>,
}

/// One argument.
#[derive(Clone)]
pub enum Arg {
    /// `10`.
    Positional(Value),
    /// `keep = 0.5`.
    Named { name: Ident, value: Value },
    /// `784 => 128`.
    Arrow { from: Value, arrow: Token![=>], to: Value },
}

/// A literal argument value.
#[derive(Clone)]
pub enum Value {
    Int(LitInt),
    Float(LitFloat),
    Bool(LitBool),
    /// `-value`.
    Neg(Token![-], Box<Value>),
    /// `(a, b)`.
    Tuple(Span, Vec<Value>),
    /// A bare name: a constant declared in the invocation, a block's parameter, `same`.
    Ident(Ident),
    /// An arithmetic expression of numbers and constants, `2 * HIDDEN`; evaluated when
    /// blocks are inlined.
    Expr(Box<syn::Expr>),
    /// An expression whose evaluation failed and was reported: the rules skip it quietly.
    Reported(Span),
}

impl quote::ToTokens for Value {
    fn to_tokens(&self, tokens: &mut proc_macro2::TokenStream) {
        match self {
            Value::Int(v) => v.to_tokens(tokens),
            Value::Float(v) => v.to_tokens(tokens),
            Value::Bool(v) => v.to_tokens(tokens),
            Value::Neg(minus, v) => {
                minus.to_tokens(tokens);
                v.to_tokens(tokens);
            }
            Value::Tuple(span, items) => {
                let mut inner = proc_macro2::TokenStream::new();
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        <Token![,]>::default().to_tokens(&mut inner);
                    }
                    item.to_tokens(&mut inner);
                }
                let mut group = proc_macro2::Group::new(proc_macro2::Delimiter::Parenthesis, inner);
                group.set_span(*span);
                tokens.extend([proc_macro2::TokenTree::Group(group)]);
            }
            Value::Ident(v) => v.to_tokens(tokens),
            Value::Expr(e) => e.to_tokens(tokens),
            Value::Reported(span) => syn::LitBool::new(false, *span).to_tokens(tokens),
        }
    }
}

impl Value {
    /// The value as written, for messages.
    pub fn text(&self) -> String {
        match self {
            Value::Int(v) => v.to_string(),
            Value::Float(v) => v.to_string(),
            Value::Bool(v) => v.value.to_string(),
            Value::Neg(_, v) => format!("-{}", v.text()),
            Value::Tuple(_, items) => {
                let inner: Vec<String> = items.iter().map(Value::text).collect();
                format!("({})", inner.join(", "))
            }
            Value::Ident(v) => v.to_string(),
            Value::Expr(e) => quote::ToTokens::to_token_stream(e).to_string(),
            Value::Reported(_) => String::from("(an expression already reported)"),
        }
    }
}
