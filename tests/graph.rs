//! Graph networks: residual sums, concatenations, fan-out and layers that read any earlier
//! value. Central-difference gradient checks in f64 (relative error below 1e-6) for every
//! way values join, then the forward pass against a direct computation.

use sinew::gradcheck::{TensorCheck, check_gradients_with};
use sinew::prelude::*;
use sinew::{Model, Parameters, TrainsHead};

const BATCH: usize = 4;
const H: f64 = 1e-6;
const TOLERANCE: f64 = 1e-6;

fn inputs<const N: usize>(seed: u64) -> SMatrix<f64, N, BATCH> {
    let mut rng = sinew::rng(seed);
    let mut x = SMatrix::<f64, N, BATCH>::zeros();
    sinew::init::Init::Xavier.fill(x.as_mut_slice(), 1, 1, &mut rng);
    x
}

/// Checks every trained tensor and the input gradient; returns the networks's gradient
/// norms by tensor name, so a test can also see that a frozen part got none.
fn run<M, L, Y, const IN: usize, const OUT: usize>(name: &str, seed: u64, loss: L, y: &Y) -> Vec<TensorCheck>
where
    M: Model<f64, IN, OUT> + Zeroable,
    M::TrainWorkspace<BATCH>: Zeroable,
    L: Loss<f64, OUT, BATCH, Y> + TrainsHead<M::Head>,
{
    let mut net = M::zeroed();
    let mut rng = sinew::rng(seed);
    net.for_each_tensor_mut(|info, t| {
        if info.role != sinew::Role::Buffer {
            sinew::init::Init::Xavier.fill(t, 3, 3, &mut rng);
        }
    });
    // Batch norm: start from the identity statistics and unit scale.
    for i in 0..M::TENSORS.len() {
        let info = &M::TENSORS[i];
        if info.name.ends_with("running_var") {
            net.tensor_mut(i).fill(1.0);
        }
    }
    let trained = <M::Grads as Parameters<f64>>::TENSORS;
    let trainable = trained.iter().filter(|t| t.role != sinew::Role::Buffer).count();
    let x = inputs::<IN>(seed + 1);
    let mut tw = M::TrainWorkspace::<BATCH>::zeroed();
    let mut checks: Vec<TensorCheck> = Vec::new();
    let report = check_gradients_with(&mut net, &x, y, &loss, seed, H, &mut tw, |t| checks.push(*t));
    let worst = report.worst;
    assert!(
        report.max_relative_error() < TOLERANCE,
        "{name}: gradient of `{}` off by {:e} (norm {:e})",
        worst.name,
        worst.relative_error,
        worst.norm
    );
    assert_eq!(report.tensors, trainable + 1, "{name}: every trained tensor and the input");
    for t in &checks {
        assert!(t.norm > 1e-8, "{name}: gradient of `{}` is zero, the check proves nothing", t.name);
    }
    checks
}

const CLASSES: [usize; BATCH] = [0, 2, 1, 2];

network! {
    /// A residual connection in a dense network: `a` is read twice (fan-out), by `b` and
    /// by the sum.
    pub struct DenseResidual {
        input: 5,
        a: Dense(6) -> Tanh,
        b: Dense(6) -> Tanh,
        sum: Add(b, a) -> Tanh,
        out: Dense(3),
    }
}

network! {
    /// The input itself in a sum, and three values added at once.
    pub struct AddInput {
        input: 4,
        a: Dense(4) -> Tanh,
        b: Dense(4, from = input) -> Sigmoid,
        sum: Add(a, input, b),
        out: Dense(3),
    }
}

network! {
    /// One value added to itself: both edges land in the same buffer.
    pub struct AddTwice {
        input: 4,
        a: Dense(5) -> Tanh,
        twice: Add(a, a) -> Tanh,
        out: Dense(3),
    }
}

network! {
    /// Two branches on the input (one through dropout) and the input itself,
    /// concatenated along features.
    pub struct ConcatFlat {
        input: 4,
        left: Dense(3) -> Tanh,
        right: Dense(2, from = input) -> Relu,
        drop: Dropout(keep = 0.8),
        both: Concat(left, drop, input),
        out: Dense(3),
    }
}

network! {
    /// Branches that read a flattened image, so two readers share `Flatten`'s buffer.
    pub struct FlattenFanOut {
        input: [2, 3, 3],
        c: Conv2d(2, kernel = 2) -> Tanh,
        f: Flatten,
        d1: Dense(4) -> Tanh,
        d2: Dense(4, from = f) -> Tanh,
        sum: Add(d1, d2),
        out: Dense(3),
    }
}

network! {
    /// A residual block with batch norm (ResNet's basic block), global average pooling
    /// and a projection shortcut from the stem.
    pub struct Residual {
        input: [2, 5, 5],
        stem: Conv2d(3, kernel = 3, padding = same, bias = false),
        stem_bn: BatchNorm -> Relu,
        c1: Conv2d(3, kernel = 3, padding = same, bias = false),
        n1: BatchNorm -> Relu,
        c2: Conv2d(3, kernel = 3, padding = same, bias = false),
        n2: BatchNorm,
        sum: Add(n2, stem_bn) -> Relu,
        down: Conv2d(4, kernel = 3, stride = 2, padding = 1, bias = false),
        dn: BatchNorm -> Relu,
        proj: Conv2d(4, kernel = 1, stride = 2, bias = false, from = sum),
        pn: BatchNorm,
        sum2: Add(dn, pn) -> Relu,
        pool: GlobalAvgPool,
        out: Dense(3),
    }
}

network! {
    /// An Inception module: 1x1, 3x3 and 5x5 branches and a pooling branch, concatenated
    /// along channels.
    pub struct Inception {
        input: [3, 5, 5],
        b1: Conv2d(2, kernel = 1) -> Relu,
        b3_reduce: Conv2d(2, kernel = 1, from = input) -> Relu,
        b3: Conv2d(3, kernel = 3, padding = 1) -> Relu,
        b5_reduce: Conv2d(1, kernel = 1, from = input) -> Relu,
        b5: Conv2d(2, kernel = 5, padding = 2) -> Relu,
        bp_pool: MaxPool2d(3, stride = 1, padding = 1, from = input),
        bp: Conv2d(2, kernel = 1) -> Relu,
        inc: Concat(b1, b3, b5, bp),
        f: Flatten,
        out: Dense(3),
    }
}

network! {
    /// The residual body frozen, the head trained (fine-tuning).
    pub struct FrozenBody {
        input: 5,
        #[frozen]
        a: Dense(5) -> Tanh,
        #[frozen]
        b: Dense(5) -> Tanh,
        sum: Add(a, b),
        out: Dense(3),
    }
}

#[test]
fn add_with_fan_out() {
    run::<DenseResidual<f64>, _, _, 5, 3>("dense residual/ce", 1, SoftmaxCrossEntropy, &CLASSES);
    run::<DenseResidual<f64>, _, _, 5, 3>("dense residual/l2", 2, L2, &inputs::<3>(9));
}

#[test]
fn add_reading_the_input() {
    run::<AddInput<f64>, _, _, 4, 3>("add input/ce", 3, SoftmaxCrossEntropy, &CLASSES);
}

#[test]
fn a_value_added_to_itself() {
    run::<AddTwice<f64>, _, _, 4, 3>("add twice/l2", 4, L2, &inputs::<3>(8));
}

#[test]
fn concat_of_vectors_and_the_input() {
    run::<ConcatFlat<f64>, _, _, 4, 3>("concat flat/ce", 5, SoftmaxCrossEntropy, &CLASSES);
}

#[test]
fn readers_of_a_flatten() {
    run::<FlattenFanOut<f64>, _, _, 18, 3>("flatten fan-out/ce", 6, SoftmaxCrossEntropy, &CLASSES);
}

#[test]
fn residual_block_with_batch_norm() {
    run::<Residual<f64>, _, _, 50, 3>("residual/ce", 7, SoftmaxCrossEntropy, &CLASSES);
}

#[test]
fn inception_module() {
    run::<Inception<f64>, _, _, 75, 3>("inception/ce", 8, SoftmaxCrossEntropy, &CLASSES);
}

#[test]
fn frozen_body_gets_no_gradient() {
    let checks = run::<FrozenBody<f64>, _, _, 5, 3>("frozen body/ce", 9, SoftmaxCrossEntropy, &CLASSES);
    let names: Vec<&str> = checks.iter().map(|c| c.name).collect();
    assert!(names.iter().all(|n| !n.starts_with("a.") && !n.starts_with("b.")), "{names:?}");
    assert_eq!(<<FrozenBody<f64> as sinew::Trainable<f64>>::Grads as Parameters<f64>>::TENSORS.len(), 2);
}

/// The forward pass against the formula, value by value: `out = W (relu(b) + a) + c`.
#[test]
fn forward_is_the_sum_and_the_concatenation() {
    let mut rng = sinew::rng(3);
    let net = ConcatFlat::<f64>::init(&mut rng);
    let x = inputs::<4>(2);
    let mut ws = ConcatFlatWorkspace::<BATCH, f64>::zeroed();
    let y = *net.forward(&x, &mut ws);
    for j in 0..BATCH {
        let xj = x.column(j);
        let l = (net.left.weight * xj + net.left.bias).map(f64::tanh);
        let r = (net.right.weight * xj + net.right.bias).map(|v| v.max(0.0));
        let mut both = SVector::<f64, 9>::zeros();
        both.fixed_rows_mut::<3>(0).copy_from(&l);
        both.fixed_rows_mut::<2>(3).copy_from(&r);
        both.fixed_rows_mut::<4>(5).copy_from(&xj);
        let expected = net.out.weight * both + net.out.bias;
        assert!((y.column(j) - expected).norm() < 1e-12);
    }
}

network! {
    /// A residual dense block.
    block Res(width) {
        a: Dense(width) -> Tanh,
        b: Dense(width),
        sum: Add(b, input) -> Tanh,
    }

    /// The block used twice, each use with its own parameters; the second frozen; a
    /// sequence of two more; a frozen sequence with a layer without parameters.
    pub struct Blocks {
        input: 4,
        first: Res(4),
        #[frozen]
        second: Res(4),
        head: [Res(4), Res(4)],
        #[frozen]
        tail: [Dense(3), Dropout(keep = 0.9)],
        out: Dense(3, from = head),
        sum: Add(out, tail),
    }
}

#[test]
fn a_block_used_several_times_and_a_frozen_block() {
    let checks = run::<Blocks<f64>, _, _, 4, 3>("blocks/ce", 10, SoftmaxCrossEntropy, &CLASSES);
    let names: Vec<&str> = checks.iter().map(|c| c.name).collect();
    for trained in ["first.a.weight", "first.b.bias", "head.0.a.weight", "head.1.b.weight", "out.weight"] {
        assert!(names.contains(&trained), "{trained} not checked: {names:?}");
    }
    assert!(names.iter().all(|n| !n.starts_with("second.") && !n.starts_with("tail.")), "{names:?}");
    let all: Vec<&str> = <Blocks<f64> as Parameters<f64>>::TENSORS.iter().map(|t| t.name).collect();
    assert!(all.contains(&"second.a.weight") && all.contains(&"second.b.bias"));
    // Each use has its own parameters: after init they differ.
    let net = Blocks::<f64>::init(&mut sinew::rng(1));
    assert_ne!(net.first_a.weight, net.second_a.weight);
    assert_ne!(net.head_0_a.weight, net.head_1_a.weight);
}
