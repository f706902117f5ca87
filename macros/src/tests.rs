//! Expansion tests on `proc_macro2` (cxx style): expand, parse the output as a file,
//! pretty-print it, and look at what was generated. Plus a property test that no input
//! makes the macro panic.

use crate::expand;
use proc_macro2::TokenStream;
use quote::quote;
use std::str::FromStr;

/// The macro, with `#[weights]` relative to the macros crate.
fn network(tokens: TokenStream) -> TokenStream {
    expand::network(tokens, Some(std::path::Path::new(env!("CARGO_MANIFEST_DIR"))))
}

fn pretty(tokens: TokenStream) -> String {
    let file: syn::File = syn::parse2(tokens).expect("the expansion parses as Rust items");
    prettyplease::unparse(&file)
}

/// Without whitespace or the trailing commas of multi-line calls, so that line breaking
/// does not matter.
fn flat(code: &str) -> String {
    code.split_whitespace().collect::<String>().replace(",)", ")").replace(",}", "}")
}

fn errors(tokens: TokenStream) -> Vec<String> {
    let out = network(tokens).to_string();
    out.split("compile_error !")
        .skip(1)
        .map(|s| s.split('"').nth(1).unwrap_or_default().to_string())
        .collect()
}

#[test]
fn dense_network_expands_to_readable_code() {
    let code = pretty(network(quote! {
        /// Docs.
        pub struct Mlp {
            input: 784,
            hidden: Dense(128) -> Relu,
            drop: Dropout(keep = 0.8),
            out: Dense(128 => 10),
        }
    }));
    for expected in [
        "pub struct Mlp<T: ::sinew::Float = f32>",
        "pub hidden: ::sinew::layers::Dense<T, 784, 128>",
        "pub out: ::sinew::layers::Dense<T, 128, 10>",
        "pub type MlpInput<const B: usize, T = f32> = ::sinew::SMatrix<T, 784, B>;",
        "pub type MlpOutput<const B: usize, T = f32> = ::sinew::SMatrix<T, 10, B>;",
        "pub struct MlpWorkspace<const B: usize, T: ::sinew::Float = f32>",
        "pub struct MlpTrainWorkspace<const B: usize, T: ::sinew::Float = f32>",
        "pub const PARAMETERS: usize = 101770;",
        "self.hidden.forward(x, &mut ws.hidden);",
        // inference skips dropout: `out` reads `hidden` directly
        "self.out.forward(&ws.hidden, &mut ws.out);",
        // training goes through the dropout buffers
        "::sinew::layers::Dropout { keep: 0.8f64 }",
        "self.out.forward(&tw.drop.value, &mut tw.out.value);",
        "::sinew::layers::Dense::backward_params(&tw.drop.value, &tw.out.grad, &mut tw.grads.out);",
        "self.out.backward_input(&tw.out.grad, &mut tw.drop.grad);",
        "::sinew::layers::Dropout::backward(&tw.drop.mask, &tw.drop.grad, &mut tw.hidden.grad);",
        "::sinew::init::Init::He { negative_slope: 0.0 }",
        "name: \"hidden.weight\"",
        "shape: &[128, 784]",
        "type Head = ::sinew::head::Logits;",
    ] {
        assert!(flat(&code).contains(&flat(expected)), "missing `{expected}` in:\n{code}");
    }
    // The doc comment is forwarded, and the generated struct is not also given one.
    assert!(code.contains("/// Docs."));
    assert!(!code.contains("A neural network declared with"));
}

#[test]
fn last_activation_decides_the_head() {
    let code = pretty(network(quote! {
        struct S { input: 3, a: Dense(4) -> Tanh, out: Dense(2) -> Softmax, d: Dropout(keep = 0.5) }
    }));
    assert!(code.contains("type Head = ::sinew::head::Softmax;"), "{code}");
}

#[test]
fn user_derives_are_not_repeated() {
    let code = pretty(network(quote! {
        #[derive(Clone, core::fmt::Debug)]
        struct S { input: 3, out: Dense(2) }
    }));
    assert!(code.contains("#[derive(PartialEq, ::sinew::__private::Zeroable)]"), "{code}");
}

#[test]
fn every_error_is_reported() {
    let errs = errors(quote! {
        struct S {
            input: 4,
            a: Dense(5 => 8) -> Rleu,
            b: Dropout(keep = 0),
            a: Dens(3),
        }
    });
    assert_eq!(errs.len(), 5, "{errs:#?}");
    assert!(errs.iter().any(|e| e.contains("duplicate layer name `a`")));
    assert!(errs.iter().any(|e| e.contains("expects 5 inputs, but the network input has 4 features")));
    assert!(errs.iter().any(|e| e.contains("did you mean `Relu`")));
    assert!(errs.iter().any(|e| e.contains("must be in (0, 1]")));
    assert!(errs.iter().any(|e| e.contains("did you mean `Dense`")));
}

#[test]
fn a_mistake_does_not_cascade_into_mismatches() {
    // `a` is unknown, so `b`'s written input size cannot be checked against it.
    let errs = errors(quote! { struct S { input: 4, a: Conv(8), b: Dense(99 => 2) } });
    assert_eq!(errs.len(), 1, "{errs:#?}");
}

#[test]
fn errors_come_with_a_stub() {
    let out = network(quote! { pub struct S { input: 4, out: Dense(0) } }).to_string();
    assert!(out.contains("compile_error"));
    assert!(out.contains("pub struct S"));
    assert!(out.contains("STrainWorkspace"));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, ..Default::default() })]

    /// Token soup built from the macro's vocabulary never makes it panic.
    #[test]
    fn never_panics(words in proptest::collection::vec(proptest::sample::select(VOCABULARY), 0..40)) {
        let body = words.join(" ");
        for source in [format!("pub struct N {{ {body} }}"), body.clone(), format!("struct N {{ input: 4, {body} }}")] {
            if let Ok(tokens) = TokenStream::from_str(&source) {
                let _ = network(tokens);
            }
        }
    }
}

const VOCABULARY: &[&str] = &[
    "input",
    ":",
    ",",
    "Dense",
    "Dropout",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "=>",
    "->",
    "=",
    "-",
    "0",
    "1",
    "3",
    "784",
    "0.5",
    "1.5",
    "-2",
    "1e400",
    "99999999999999999999999",
    "keep",
    "slope",
    "Relu",
    "LeakyRelu",
    "Softmax",
    "Tanh",
    "Sigmoid",
    "Identity",
    "x",
    "struct",
    "pub",
    "#",
    "///",
    "true",
    "'a",
    "\"s\"",
    "<",
    ">",
    ";",
    "2usize",
    "3u8",
    "hidden",
    "out",
    "bias",
];
