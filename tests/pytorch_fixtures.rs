//! sinew against PyTorch: the same weights and batch must give the same outputs, loss,
//! parameter gradients, input gradient and parameters after three Adam steps
//! (`tests/fixtures/`, produced by PyTorch in float64). f64 must agree to 1e-10 relative,
//! f32 to 1e-5.

mod common;

use common::{Tensor, as_f64, fixture, rel_inf, row_major};
use sinew::prelude::*;
use sinew::{Model, TrainsHead};

network! {
    /// `mlp_tanh_ce`.
    pub struct TanhCe {
        input: 4,
        hidden: Dense(8) -> Tanh,
        out: Dense(3),
    }
}

network! {
    /// `mlp_sigmoid_l2`.
    pub struct SigmoidL2 {
        input: 3,
        a: Dense(4) -> Sigmoid,
        out: Dense(2),
    }
}

network! {
    /// `mlp_relu_leaky_bce`.
    pub struct ReluLeakyBce {
        input: 6,
        a: Dense(5) -> Relu,
        b: Dense(4) -> LeakyRelu(0.01),
        out: Dense(2),
    }
}

network! {
    /// `cnn_small_ce`.
    pub struct CnnSmall {
        input: [1, 12, 12],
        c1: Conv2d(4, kernel = 3, padding = 1) -> Relu,
        s2: MaxPool2d(2),
        c3: Conv2d(6, kernel = 3) -> Relu => [6, 4, 4],
        s4: AvgPool2d(2),
        flat: Flatten => 24,
        f5: Dense(10),
    }
}

/// Loads the fixture's parameters through sinew's own safetensors loader: the names and
/// layouts are PyTorch's, the file also holds inputs and gradients (left unused).
fn load_params<T: Float, P: Parameters<T>>(net: &mut P, file: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(file);
    let unused = sinew::io::load_lenient(&path, net).unwrap();
    assert!(unused.iter().all(|n| !P::TENSORS.iter().any(|t| t.name == n)));
}

/// Runs every comparison for one fixture file.
fn check<N, T, L, Y, const IN: usize, const OUT: usize, const B: usize>(
    file: &str,
    loss: L,
    target: impl Fn(&Tensor) -> Y,
    tol: f64,
) where
    T: Float,
    N: Model<T, IN, OUT> + sinew::Trainable<T, Grads = N> + Zeroable,
    N::Workspace<B>: Zeroable,
    N::TrainWorkspace<B>: Zeroable,
    L: Loss<T, OUT, B, Y> + TrainsHead<N::Head>,
{
    let tensors = fixture(file);
    let mut net = N::zeroed();
    load_params(&mut net, file);
    // PyTorch's x is (batch, features) row-major: the same bytes as sinew's (features, batch).
    let x = SMatrix::<T, IN, B>::from_iterator(tensors["x"].data.iter().map(|&v| T::cast(v)));
    let y = target(&tensors["y"]);

    // Inference output.
    let mut ws = N::Workspace::<B>::zeroed();
    let out = net.forward(&x, &mut ws);
    let err = rel_inf(&as_f64(out.as_slice()), &tensors["out"].data);
    eprintln!("{file}: out {err:e}");
    assert!(err < tol, "{file}: out differs by {err:e}");

    // Loss, parameter gradients, input gradient.
    let mut tw = N::TrainWorkspace::<B>::zeroed();
    net.forward_train(&x, &mut tw, &mut sinew::rng(0));
    let (out, grad) = N::output_and_grad(&mut tw);
    let value = loss.gradient(out, &y, grad);
    let err = rel_inf(&[value.as_f64()], &tensors["loss"].data);
    assert!(err < tol, "{file}: loss {value} vs {:?} ({err:e})", tensors["loss"].data);
    let mut dx = SMatrix::<T, IN, B>::zeros();
    net.backward(&x, &mut tw, Some(&mut dx));
    for (i, info) in N::TENSORS.iter().enumerate() {
        let want = &tensors[&format!("grad.{}", info.name)];
        let err = rel_inf(&row_major(N::gradients(&tw), i), &want.data);
        assert!(err < tol, "{file}: grad.{} differs by {err:e}", info.name);
    }
    let err = rel_inf(&as_f64(dx.as_slice()), &tensors["grad.x"].data);
    assert!(err < tol, "{file}: grad.x differs by {err:e}");

    // Three Adam steps through the one-call training step.
    let mut adam = Adam::<T, N>::new(AdamConfig::with_lr(T::cast(0.01)));
    for _ in 0..3 {
        sinew::model::train_step(&mut net, &x, &y, B, &loss, &mut adam, &mut tw, &mut sinew::rng(0)).unwrap();
    }
    for (i, info) in N::TENSORS.iter().enumerate() {
        let want = &tensors[&format!("adam3.{}", info.name)];
        let err = rel_inf(&row_major(&net, i), &want.data);
        eprintln!("{file}: adam3.{} {err:e}", info.name);
        assert!(err < tol, "{file}: adam3.{} differs by {err:e}", info.name);
    }
}

fn classes<const B: usize>(y: &Tensor) -> [usize; B] {
    assert_eq!(y.data.len(), B);
    std::array::from_fn(|i| y.data[i] as usize)
}

fn matrix<T: Float, const N: usize, const B: usize>(y: &Tensor) -> SMatrix<T, N, B> {
    SMatrix::from_iterator(y.data.iter().map(|&v| T::cast(v)))
}

#[test]
fn tanh_softmax_cross_entropy_f64() {
    check::<TanhCe<f64>, f64, _, _, 4, 3, 5>(
        "mlp_tanh_ce.f64.safetensors",
        SoftmaxCrossEntropy,
        classes,
        1e-10,
    );
}

#[test]
fn tanh_softmax_cross_entropy_f32() {
    check::<TanhCe<f32>, f32, _, _, 4, 3, 5>(
        "mlp_tanh_ce.f32.safetensors",
        SoftmaxCrossEntropy,
        classes,
        1e-5,
    );
}

#[test]
fn sigmoid_l2_f64() {
    check::<SigmoidL2<f64>, f64, _, _, 3, 2, 6>("mlp_sigmoid_l2.f64.safetensors", L2, matrix, 1e-10);
}

#[test]
fn sigmoid_l2_f32() {
    check::<SigmoidL2<f32>, f32, _, _, 3, 2, 6>("mlp_sigmoid_l2.f32.safetensors", L2, matrix, 1e-5);
}

#[test]
fn relu_leaky_relu_binary_cross_entropy_f64() {
    check::<ReluLeakyBce<f64>, f64, _, _, 6, 2, 7>(
        "mlp_relu_leaky_bce.f64.safetensors",
        SigmoidBinaryCrossEntropy,
        matrix,
        1e-10,
    );
}

#[test]
fn relu_leaky_relu_binary_cross_entropy_f32() {
    check::<ReluLeakyBce<f32>, f32, _, _, 6, 2, 7>(
        "mlp_relu_leaky_bce.f32.safetensors",
        SigmoidBinaryCrossEntropy,
        matrix,
        1e-5,
    );
}

/// The class-index and one-hot forms of the cross-entropy target agree with PyTorch too.
#[test]
fn one_hot_targets_match_class_indices() {
    let tensors = fixture("mlp_tanh_ce.f64.safetensors");
    let labels: [usize; 5] = classes(&tensors["y"]);
    let mut onehot = SMatrix::<f64, 3, 5>::zeros();
    for (j, &c) in labels.iter().enumerate() {
        onehot[(c, j)] = 1.0;
    }
    let out = SMatrix::<f64, 3, 5>::from_iterator(tensors["out"].data.iter().copied());
    let a = SoftmaxCrossEntropy.value(&out, &labels);
    let b = SoftmaxCrossEntropy.value(&out, &onehot);
    assert!(rel_inf(&[a], &tensors["loss"].data) < 1e-12);
    assert!(rel_inf(&[b], &tensors["loss"].data) < 1e-12);
}

#[test]
fn small_cnn_softmax_cross_entropy_f64() {
    check::<CnnSmall<f64>, f64, _, _, 144, 10, 3>(
        "cnn_small_ce.f64.safetensors",
        SoftmaxCrossEntropy,
        classes,
        1e-10,
    );
}

#[test]
fn small_cnn_softmax_cross_entropy_f32() {
    check::<CnnSmall<f32>, f32, _, _, 144, 10, 3>(
        "cnn_small_ce.f32.safetensors",
        SoftmaxCrossEntropy,
        classes,
        1e-5,
    );
}
