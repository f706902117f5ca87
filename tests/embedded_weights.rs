//! `#[weights("file")]`: weights embedded at compile time. The files are written by
//! `tests/embed/make.py` without sinew (every value a closed form of the tensor's name and
//! its PyTorch row-major index), so these tests check the layouts against an independent
//! truth; then `EMBEDDED` must agree with the same file loaded at run time by `sinew::io`.

use sinew::prelude::*;
use sinew::{Parameters, TensorInfo};

network! {
    /// Every layer kind with parameters: a convolution without bias, batch norm (whose
    /// `num_batches_tracked` the file carries and sinew skips), a transposed convolution
    /// and dense layers with and without bias.
    #[weights("embed/mixed.safetensors")]
    pub struct Mixed {
        input: [1, 6, 6],
        c1: Conv2d(3, kernel = 3, padding = 1, bias = false),
        bn: BatchNorm -> Relu,
        up: ConvTranspose2d(2, kernel = 2, stride = 2) => [2, 12, 12],
        pool: MaxPool2d(4),
        flat: Flatten => 18,
        d1: Dense(5, bias = false) -> Tanh,
        out: Dense(3),
    }
}

network! {
    /// An MLP stored in double precision.
    #[weights("embed/mlp64.safetensors")]
    pub struct Mlp64 {
        input: 4,
        hidden: Dense(8) -> Relu,
        out: Dense(2),
    }
}

network! {
    block Res {
        c1: Conv2d(2, kernel = 3, padding = same, bias = false),
        n1: BatchNorm,
        sum: Add(n1, input) -> Relu,
    }

    /// A graph with a block: its tensors are found by their nested names (`b1.n1.weight`).
    #[weights("embed/graph.safetensors")]
    pub struct Graph {
        input: [1, 4, 4],
        stem: Conv2d(2, kernel = 3, padding = 1) -> Relu,
        b1: Res,
        side: Conv2d(2, kernel = 1, from = input),
        both: Concat(b1, side),
        pool: GlobalAvgPool,
        out: Dense(3),
    }
}

/// A `static`: initialised data, no code runs to build it (on a microcontroller it lives
/// in flash).
static MIXED: Mixed = Mixed::EMBEDDED;

/// `tests/embed/make.py`'s `value`.
fn value(name: &str, i: usize) -> f64 {
    let seed: u32 = name.chars().map(|c| c as u32).sum();
    let v = (1.0 + 0.37 * i as f64 + 0.011 * seed as f64).sin();
    if name.ends_with("running_var") { v.abs() + 0.5 } else { v }
}

/// Every tensor of `net`, back in PyTorch's row-major order, against the closed form.
fn check_against_closed_form<T: Float, N: Parameters<T>>(net: &N, tolerance: f64) {
    for (i, info) in N::TENSORS.iter().enumerate() {
        let mut row_major = vec![T::zero(); info.len()];
        TensorInfo::to_row_major(info, net.tensor(i), &mut row_major);
        for (j, v) in row_major.iter().enumerate() {
            let want = value(info.name, j);
            let got = v.as_f64();
            assert!((got - want).abs() <= tolerance * want.abs(), "{}[{j}]: {got} vs {want}", info.name);
        }
    }
}

#[test]
fn every_layer_kind_is_embedded_in_sinew_layout() {
    // The f32 file holds f32 values: exact in f32 and in f64.
    check_against_closed_form(&MIXED, f32::EPSILON as f64);
    check_against_closed_form(&Mixed::<f64>::EMBEDDED_F64, f32::EPSILON as f64);
    let f64_from_f32 = Mixed::<f64>::EMBEDDED_F64;
    for i in 0..Mixed::<f32>::TENSORS.len() {
        let exact: Vec<f64> = MIXED.tensor(i).iter().map(|&v| v as f64).collect();
        assert_eq!(f64_from_f32.tensor(i), &exact[..]);
    }
    // Without a bias the field is zero, and not a tensor.
    assert!(MIXED.c1.bias.iter().chain(MIXED.d1.bias.iter()).all(|&v| v == 0.0));
}

#[test]
fn a_graph_with_a_block_is_embedded_by_nested_names() {
    check_against_closed_form(&Graph::<f32>::EMBEDDED, f32::EPSILON as f64);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/embed");
    let mut loaded = Graph::<f32>::zeroed();
    sinew::io::load(dir.join("graph.safetensors"), &mut loaded).unwrap();
    assert_eq!(loaded, Graph::<f32>::EMBEDDED);
    let x = GraphInput::<2>::repeat(0.5);
    let (mut a, mut b) = (GraphWorkspace::<2>::zeroed(), GraphWorkspace::<2>::zeroed());
    assert_eq!(Graph::<f32>::EMBEDDED.forward(&x, &mut a), loaded.forward(&x, &mut b));
}

#[test]
fn double_precision_files_are_exact_in_f64_and_rounded_in_f32() {
    let exact = Mlp64::<f64>::EMBEDDED_F64;
    check_against_closed_form(&exact, 0.0);
    let rounded = Mlp64::<f32>::EMBEDDED;
    for i in 0..Mlp64::<f32>::TENSORS.len() {
        let want: Vec<f32> = exact.tensor(i).iter().map(|&v| v as f32).collect();
        assert_eq!(rounded.tensor(i), &want[..]);
    }
}

#[test]
fn embedded_equals_the_file_loaded_at_run_time() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/embed");
    let mut loaded = Mixed::<f32>::zeroed();
    // The file has `bn.num_batches_tracked`, which sinew accepts and ignores.
    sinew::io::load(dir.join("mixed.safetensors"), &mut loaded).unwrap();
    assert_eq!(loaded, MIXED);
    let mut loaded = Mlp64::<f64>::zeroed();
    sinew::io::load(dir.join("mlp64.safetensors"), &mut loaded).unwrap();
    assert_eq!(loaded, Mlp64::<f64>::EMBEDDED_F64);

    // And they compute the same outputs.
    let mut x = MixedInput::<2>::zeros();
    x.iter_mut().enumerate().for_each(|(i, v)| *v = (i as f32 * 0.1).cos());
    let mut ws = MixedWorkspace::<2>::zeroed();
    let from_static = *MIXED.forward(&x, &mut ws);
    assert_eq!(from_static, *loaded_forward(&x));
}

fn loaded_forward(x: &MixedInput<2>) -> Box<MixedOutput<2>> {
    let mut net = Mixed::<f32>::zeroed();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/embed/mixed.safetensors");
    sinew::io::load(path, &mut net).unwrap();
    let mut ws = MixedWorkspace::<2>::zeroed();
    Box::new(*net.forward(x, &mut ws))
}
