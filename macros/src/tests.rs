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
    code.split_whitespace().collect::<String>().replace(",)", ")").replace(",}", "}").replace(",>", ">")
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
        // one statement per layer, the same for every kind
        "Layer::<T, B>::forward(&self.hidden, x, &mut ws.hidden);",
        // inference skips dropout: `out` reads `hidden` directly
        "Layer::<T, B>::forward(&self.out, &ws.hidden.value, &mut ws.out);",
        // training goes through the dropout buffers; its setting is a const of its type
        "pub struct Mlp_drop;",
        "const KEEP: f64 = 0.8f64;",
        "Layer::<T, B>::forward_train(&mut <::sinew::layers::Dropout<Mlp_drop>>::new(), &tw.hidden.value, &mut tw.drop, samples, rng);",
        "Layer::<T, B>::forward_train(&mut self.out, &tw.drop.value, &mut tw.out, samples, rng);",
        "Layer::<T, B>::backward(&self.out, &tw.drop.value, &mut tw.out, ::core::option::Option::Some(&mut tw.grads.out), ::core::option::Option::Some((&mut tw.drop.grad, Store::Overwrite)), tw.samples as usize);",
        "Layer::<T, B>::backward(&<::sinew::layers::Dropout<Mlp_drop>>::new(), &tw.hidden.value, &mut tw.drop, ::core::option::Option::None, ::core::option::Option::Some((&mut tw.hidden.grad, Store::Overwrite)), tw.samples as usize);",
        "pub hidden: ::sinew::layers::Inference<T, ::sinew::layers::Dense<T, 784, 128>, B>,",
        "pub drop: ::sinew::layers::Training<T, ::sinew::layers::Dropout<Mlp_drop>, B>,",
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

/// Issue 8: inputs that made shape arithmetic overflow (a panic in debug builds, and in
/// release a wrapped size that compiled). Each must be one clear error, and no panic.
#[test]
fn huge_sizes_are_errors_not_overflows() {
    let max = "18446744073709551615";
    let big = "4294967296"; // 2^32
    let cases = [
        format!("struct N {{ input: [{max}, 2, 2], f: Flatten, out: Dense(2) }}"),
        format!("struct N {{ input: [1, {big}, {big}], c: Conv2d(2, kernel = 3) }}"),
        format!("struct N {{ input: [1, 8, 8], c: Conv2d(2, kernel = 3, padding = {max}) }}"),
        format!("struct N {{ input: [1, 8, 8], c: Conv2d(2, kernel = 3, stride = {max}) }}"),
        format!("struct N {{ input: [1, 8, 8], c: Conv2d({max}, kernel = 3) }}"),
        format!("struct N {{ input: [1, 8, 8], c: Conv2d(2, kernel = {max}) }}"),
        format!("struct N {{ input: [1, 8, 8], c: Conv2d(2, kernel = ({max}, 1), padding = ({max}, 0)) }}"),
        format!("struct N {{ input: [1, 8, 8], c: ConvTranspose2d(2, kernel = 3, stride = {max}) }}"),
        format!("struct N {{ input: [1, 8, 8], c: ConvTranspose2d(2, kernel = {max}, padding = 1) }}"),
        format!("struct N {{ input: [1, 8, 8], c: ConvTranspose2d({big}, kernel = 3) }}"),
        format!("struct N {{ input: [1, 8, 8], p: MaxPool2d(2, padding = {max}) }}"),
        format!("struct N {{ input: [1, 8, 8], p: AvgPool2d({max}) }}"),
        format!("struct N {{ input: [{big}, {big}, 1], n: BatchNorm }}"),
        format!("struct N {{ input: {max}, out: Dense({max}) }}"),
        format!("#[budget(ram = 1K, batch = {max})] struct N {{ input: 4, out: Dense(2) }}"),
        format!("#[budget(ram = 1K, batch = {big})] struct N {{ input: 4, out: Dense(2) }}"),
        format!("struct N {{ input: [1, 8, 8], c: Conv2d(2, kernel = 3) => [{max}, {max}, {max}] }}"),
    ];
    for source in cases {
        let tokens = TokenStream::from_str(&source).unwrap();
        let result = std::panic::catch_unwind(|| errors(tokens));
        let errs = result.unwrap_or_else(|_| panic!("the macro panicked on `{source}`"));
        assert!(!errs.is_empty(), "no error for `{source}`");
    }
    // An absurdly large budget is simply met.
    let source = "#[budget(flash = 18446744073709551615M)] struct N { input: 4, out: Dense(2) }";
    assert!(errors(TokenStream::from_str(source).unwrap()).is_empty());
}

/// Issue 8: `Dense(- - - ... 3)` with 10,000 minus signs overflowed the stack inside the
/// macro (rustc died with SIGSEGV). Parsing is no longer recursive: on a 256 KiB stack the
/// input is one error. Nested parentheses are one error too.
#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let handle = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let minus = format!("struct N {{ input: 4, out: Dense({}3) }}", "- ".repeat(10_000));
            errors(TokenStream::from_str(&minus).unwrap())
        })
        .unwrap();
    let errs = handle.join().expect("no panic, no stack overflow");
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(errs[0].contains("expected a number after `-`"), "{errs:#?}");

    // (The test's own tokenizer recurses on nesting, so this depth stays moderate.)
    let parens =
        format!("struct N {{ input: 4, c: Conv2d(2, kernel = {}3{}) }}", "(".repeat(200), ")".repeat(200));
    let errs = errors(TokenStream::from_str(&parens).unwrap());
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(errs[0].contains("do not nest"), "{errs:#?}");
}

/// Long operator chains (syn builds them as deeply nested trees) in a size or a constant
/// are one error each, on a small stack, not a stack overflow.
#[test]
fn long_expressions_are_an_error_not_a_stack_overflow() {
    let handle = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let chain = "1 + ".repeat(50_000);
            let size = format!("struct N {{ input: 4, out: Dense(({chain}1)) }}");
            let constant = format!("const A: usize = ({chain}1); struct N {{ input: 4, out: Dense(A) }}");
            [size, constant].map(|source| errors(TokenStream::from_str(&source).unwrap()))
        })
        .unwrap();
    let [size, constant] = handle.join().expect("no panic, no stack overflow");
    assert_eq!(size.len(), 1, "{size:#?}");
    assert!(size[0].contains("too long"), "{size:#?}");
    assert_eq!(constant.len(), 1, "{constant:#?}");
    assert!(constant[0].contains("too long"), "{constant:#?}");
    // Within the limits, a chain is evaluated.
    let source = format!("const A: usize = {}1; struct N {{ input: 4, out: Dense(A) }}", "1 + ".repeat(200));
    assert!(errors(TokenStream::from_str(&source).unwrap()).is_empty());
}

/// Issue 8: layers named like generated fields (`grads`, `samples`) collided with them
/// (E0124 plus cascades). The name is now a clear error on the layer.
#[test]
fn reserved_layer_names_are_errors() {
    for name in ["grads", "samples"] {
        let source = format!("struct N {{ input: 4, {name}: Dense(3), out: Dense(2) }}");
        let errs = errors(TokenStream::from_str(&source).unwrap());
        assert_eq!(errs.len(), 1, "{errs:#?}");
        assert!(errs[0].contains(&format!("`{name}`")) && errs[0].contains("reserved"), "{errs:#?}");
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, ..Default::default() })]

    /// Declarations of every layer kind with sizes drawn near 0, near the limits and near
    /// `u64::MAX`, never make the macro panic (shape arithmetic is checked).
    #[test]
    fn shape_arithmetic_never_panics(
        sizes in proptest::collection::vec(proptest::sample::select(SIZES), 12),
        kinds in proptest::collection::vec(0usize..7, 1..5),
    ) {
        let mut body = format!("input: [{}, {}, {}], ", sizes[0], sizes[1], sizes[2]);
        for (i, kind) in kinds.iter().enumerate() {
            let [a, b, c] = [sizes[(3 + i) % 12], sizes[(4 + i) % 12], sizes[(5 + i) % 12]];
            body += &match kind {
                0 => format!("l{i}: Conv2d({a}, kernel = {b}, stride = {c}, padding = {a}), "),
                1 => format!("l{i}: ConvTranspose2d({a}, kernel = {b}, stride = {c}, padding = {b}), "),
                2 => format!("l{i}: MaxPool2d({a}, stride = {b}, padding = {c}), "),
                3 => format!("l{i}: AvgPool2d(kernel = ({a}, {b}), padding = ({c}, 0)), "),
                4 => format!("l{i}: BatchNorm, "),
                5 => format!("l{i}: Flatten, "),
                _ => format!("l{i}: Dense({a} => {b}), "),
            };
        }
        let budget = format!("#[budget(flash = {}K, ram = {}, batch = {})]", sizes[6], sizes[7], sizes[8]);
        for source in [format!("struct N {{ {body} }}"), format!("{budget} struct N {{ {body} }}")] {
            let tokens = TokenStream::from_str(&source).unwrap();
            let _ = network(tokens);
        }
    }

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

const SIZES: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "28",
    "65535",
    "2147483647",
    "2147483648",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "18446744073709551615",
    "18446744073709551616",
];

const VOCABULARY: &[&str] = &[
    "18446744073709551615",
    "4294967296",
    "Conv2d",
    "ConvTranspose2d",
    "MaxPool2d",
    "AvgPool2d",
    "BatchNorm",
    "Flatten",
    "kernel",
    "stride",
    "padding",
    "budget",
    "batch",
    "ram",
    "flash",
    "grads",
    "samples",
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
