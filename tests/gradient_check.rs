//! Central-difference gradient checks in f64 for every activation, every loss, with and
//! without dropout: the analytic gradients of the generated `backward` (parameters and
//! input) must agree with `(J(w + h) − J(w − h)) / 2h` to a relative error below 1e-6.
//!
//! Each activation is tested both as a hidden activation and as the last layer's, except
//! where a fused loss forbids the pair (`Softmax` before `SoftmaxCrossEntropy`, `Sigmoid`
//! before `SigmoidBinaryCrossEntropy`: those do not compile, see `tests/ui`).

use sinew::gradcheck::{TensorCheck, check_gradients, check_gradients_with};
use sinew::prelude::*;
use sinew::{Model, Parameters, TrainsHead};

const BATCH: usize = 5;
const H: f64 = 1e-6;
const TOLERANCE: f64 = 1e-6;

/// A batch of inputs away from zero, so no ReLU sits on its kink.
fn inputs<const N: usize>(seed: u64) -> SMatrix<f64, N, BATCH> {
    let mut rng = sinew::rng(seed);
    let mut x = SMatrix::<f64, N, BATCH>::zeros();
    sinew::init::Init::Xavier.fill(x.as_mut_slice(), 1, 1, &mut rng);
    x
}

fn run<M, L, Y, const IN: usize, const OUT: usize>(name: &str, seed: u64, loss: L, y: &Y)
where
    M: Model<f64, IN, OUT> + Zeroable,
    M::TrainWorkspace<BATCH>: Zeroable,
    L: Loss<f64, OUT, BATCH, Y> + TrainsHead<M::Head>,
{
    let mut net = M::zeroed();
    // Any random weights will do; Xavier keeps every activation in its interesting range.
    let mut rng = sinew::rng(seed);
    net.for_each_tensor_mut(|_, t| sinew::init::Init::Xavier.fill(t, 4, 4, &mut rng));
    // Frozen layers have no gradient: only the tensors of `M::Grads` are checked.
    let trained = <M::Grads as Parameters<f64>>::TENSORS;
    let trainable = trained.iter().filter(|t| t.role != sinew::Role::Buffer).count();
    let before: Vec<Vec<f64>> = (0..M::TENSORS.len()).map(|i| net.tensor(i).to_vec()).collect();
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
    // Every tensor and the input were checked and had something to check.
    assert_eq!(report.tensors, trainable + 1, "{name}");
    assert_eq!(checks.len(), report.tensors, "{name}");
    for t in &checks {
        assert!(t.norm > 1e-8, "{name}: gradient of `{}` is zero, the check proves nothing", t.name);
    }
    // The check restores the trainable parameters exactly and leaves the rest alone
    // (batch norm's running statistics aside: each training pass updates them).
    for (i, b) in before.iter().enumerate() {
        if M::TENSORS[i].role != sinew::Role::Buffer {
            assert_eq!(net.tensor(i), &b[..], "{name}: tensor {i} not restored");
        }
    }
}

fn regression_target<const N: usize>(seed: u64) -> SMatrix<f64, N, BATCH> {
    inputs::<N>(seed + 7)
}

fn binary_target<const N: usize>(seed: u64) -> SMatrix<f64, N, BATCH> {
    inputs::<N>(seed + 9).map(|v| if v > 0.0 { 1.0 } else { 0.0 })
}

const CLASSES: [usize; BATCH] = [0, 2, 1, 2, 0];

/// For one activation, declares networks with it hidden and last, with and without
/// dropout, and checks them against every loss that may train them.
macro_rules! activation_suite {
    ($module:ident, $($act:tt)+) => {
        mod $module {
            use super::*;

            network! {
                /// The activation in the hidden layer, logits out.
                pub struct Hidden {
                    input: 4,
                    a: Dense(6) -> $($act)+,
                    b: Dense(5) -> $($act)+,
                    out: Dense(3),
                }
            }

            network! {
                /// The activation in the hidden layer, with dropout after it.
                pub struct HiddenDropout {
                    input: 4,
                    a: Dense(6) -> $($act)+,
                    drop: Dropout(keep = 0.6),
                    b: Dense(5) -> $($act)+,
                    out: Dense(3),
                }
            }

            network! {
                /// The activation on the last layer.
                pub struct Last {
                    input: 4,
                    a: Dense(6) -> Tanh,
                    out: Dense(3) -> $($act)+,
                }
            }

            network! {
                /// The activation on the last layer, dropout first (on the input).
                pub struct LastDropout {
                    input: 4,
                    drop: Dropout(keep = 0.7),
                    a: Dense(6) -> Tanh,
                    out: Dense(3) -> $($act)+,
                }
            }

            #[test]
            fn l2() {
                run::<Hidden<f64>, _, _, 4, 3>("hidden/l2", 11, L2, &regression_target::<3>(1));
                run::<HiddenDropout<f64>, _, _, 4, 3>("hidden+dropout/l2", 12, L2, &regression_target::<3>(2));
                run::<Last<f64>, _, _, 4, 3>("last/l2", 13, L2, &regression_target::<3>(3));
                run::<LastDropout<f64>, _, _, 4, 3>("last+dropout/l2", 14, L2, &regression_target::<3>(4));
            }

            #[test]
            fn l1() {
                run::<Hidden<f64>, _, _, 4, 3>("hidden/l1", 21, L1, &regression_target::<3>(1));
                run::<HiddenDropout<f64>, _, _, 4, 3>("hidden+dropout/l1", 22, L1, &regression_target::<3>(2));
                run::<Last<f64>, _, _, 4, 3>("last/l1", 23, L1, &regression_target::<3>(3));
                run::<LastDropout<f64>, _, _, 4, 3>("last+dropout/l1", 24, L1, &regression_target::<3>(4));
            }

            #[test]
            fn softmax_cross_entropy() {
                run::<Hidden<f64>, _, _, 4, 3>("hidden/ce", 31, SoftmaxCrossEntropy, &CLASSES);
                run::<HiddenDropout<f64>, _, _, 4, 3>("hidden+dropout/ce", 32, SoftmaxCrossEntropy, &CLASSES);
                // Soft labels exercise the probability-target form.
                let soft = sinew::activation::softmax(&regression_target::<3>(5));
                run::<Hidden<f64>, _, _, 4, 3>("hidden/ce-soft", 33, SoftmaxCrossEntropy, &soft);
            }

            #[test]
            fn sigmoid_binary_cross_entropy() {
                run::<Hidden<f64>, _, _, 4, 3>("hidden/bce", 41, SigmoidBinaryCrossEntropy, &binary_target::<3>(1));
                run::<HiddenDropout<f64>, _, _, 4, 3>(
                    "hidden+dropout/bce",
                    42,
                    SigmoidBinaryCrossEntropy,
                    &binary_target::<3>(2),
                );
            }
        }
    };
}

activation_suite!(identity, Identity);
activation_suite!(sigmoid, Sigmoid);
activation_suite!(tanh, Tanh);
activation_suite!(relu, Relu);
activation_suite!(leaky_relu, LeakyRelu);
activation_suite!(leaky_relu_steep, LeakyRelu(slope = 0.3));
activation_suite!(softmax, Softmax);

/// The fused losses with an activated (but not softmax/sigmoid) last layer are allowed.
mod fused_after_activated_output {
    use super::*;

    network! {
        /// Tanh on the logits.
        pub struct TanhOut {
            input: 4,
            a: Dense(6) -> Relu,
            drop: Dropout(keep = 0.5),
            out: Dense(3) -> Tanh,
        }
    }

    #[test]
    fn cross_entropies() {
        run::<TanhOut<f64>, _, _, 4, 3>("tanh-out/ce", 51, SoftmaxCrossEntropy, &CLASSES);
        run::<TanhOut<f64>, _, _, 4, 3>(
            "tanh-out/bce",
            52,
            SigmoidBinaryCrossEntropy,
            &binary_target::<3>(3),
        );
    }
}

/// A wrong gradient is caught: the check is not vacuous.
#[test]
fn a_wrong_gradient_fails_the_check() {
    network! {
        pub struct Small {
            input: 3,
            a: Dense(4) -> Tanh,
            out: Dense(2),
        }
    }
    // L2 with its gradient deliberately doubled.
    #[derive(Clone, Copy)]
    struct BrokenL2;
    impl<const N: usize, const B: usize> Loss<f64, N, B, SMatrix<f64, N, B>> for BrokenL2 {
        fn value_partial(&self, o: &SMatrix<f64, N, B>, y: &SMatrix<f64, N, B>, s: usize) -> f64 {
            L2.value_partial(o, y, s)
        }
        fn gradient_partial(
            &self,
            o: &SMatrix<f64, N, B>,
            y: &SMatrix<f64, N, B>,
            s: usize,
            g: &mut SMatrix<f64, N, B>,
        ) -> f64 {
            let v = L2.gradient_partial(o, y, s, g);
            *g *= 2.0;
            v
        }
    }
    impl<H: sinew::head::Head> TrainsHead<H> for BrokenL2 {}

    let mut net = Small::<f64>::init(&mut sinew::rng(1));
    let x = inputs::<3>(2);
    let y = regression_target::<2>(3);
    let mut tw = SmallTrainWorkspace::<BATCH, f64>::zeroed();
    let report = check_gradients(&mut net, &x, &y, &BrokenL2, 0, H, &mut tw);
    let worst = report.max_relative_error();
    assert!(worst > 0.3, "doubled gradient gave relative error {worst}");
}

/// Convolutions (odd kernels, strides and paddings per axis), both poolings (with padding
/// and strides other than the kernel), flatten, batch norm in training mode after a
/// convolution and after a dense layer, and transposed convolution.
mod convolutional {
    use super::*;

    network! {
        /// Every window parameter different per axis.
        pub struct Windows {
            input: [2, 7, 6],
            c1: Conv2d(3, kernel = (3, 2), stride = (2, 1), padding = (1, 1)) -> Tanh => [3, 4, 7],
            p1: MaxPool2d(kernel = 2, stride = 1, padding = 1) => [3, 5, 8],
            p2: AvgPool2d(kernel = (2, 3), stride = 2, padding = (1, 0)) => [3, 3, 3],
            flat: Flatten => 27,
            out: Dense(4),
        }
    }

    network! {
        /// Batch norm per channel and per feature, with dropout.
        pub struct Normalized {
            input: [2, 5, 5],
            c1: Conv2d(3, kernel = 3, padding = 1, bias = false),
            bn1: BatchNorm -> LeakyRelu(0.1),
            flat: Flatten,
            d1: Dense(6, bias = false),
            bn2: BatchNorm(eps = 1e-3, momentum = 0.2) -> Tanh,
            drop: Dropout(keep = 0.7),
            out: Dense(3),
        }
    }

    network! {
        /// Upsampling by a transposed convolution, then a convolution.
        pub struct Upsampling {
            input: [2, 3, 3],
            up: ConvTranspose2d(3, kernel = 3, stride = 2, padding = 1) -> Tanh => [3, 5, 5],
            c: Conv2d(2, kernel = 2) => [2, 4, 4],
            flat: Flatten,
            out: Dense(2),
        }
    }

    network! {
        /// Flatten first, then a dense layer straight off the image.
        pub struct FlatFirst {
            input: [1, 3, 3],
            flat: Flatten,
            out: Dense(2) -> Sigmoid,
        }
    }

    #[test]
    fn windows() {
        run::<Windows<f64>, _, _, 84, 4>("windows/l2", 61, L2, &regression_target::<4>(1));
        run::<Windows<f64>, _, _, 84, 4>("windows/ce", 62, SoftmaxCrossEntropy, &[0, 3, 1, 2, 0]);
    }

    #[test]
    fn batch_norm_in_training_mode() {
        run::<Normalized<f64>, _, _, 50, 3>("batchnorm/ce", 71, SoftmaxCrossEntropy, &CLASSES);
        run::<Normalized<f64>, _, _, 50, 3>("batchnorm/l2", 72, L2, &regression_target::<3>(2));
    }

    #[test]
    fn transposed_convolution() {
        run::<Upsampling<f64>, _, _, 18, 2>("upsampling/l2", 81, L2, &regression_target::<2>(3));
        run::<Upsampling<f64>, _, _, 18, 2>(
            "upsampling/bce",
            82,
            SigmoidBinaryCrossEntropy,
            &binary_target::<2>(4),
        );
    }

    #[test]
    fn flatten_first() {
        run::<FlatFirst<f64>, _, _, 9, 2>("flat-first/l1", 91, L1, &regression_target::<2>(5));
    }
}

/// Frozen layers: no gradient of their own, but the gradient still flows through them to
/// the trained layers before them (and to the input, which the check always asks for).
mod frozen {
    use super::*;

    network! {
        /// The first layer frozen: the trained layers come after it.
        pub struct FrozenFirst {
            input: 4,
            #[frozen]
            a: Dense(6) -> Tanh,
            b: Dense(5) -> Relu,
            out: Dense(3),
        }
    }

    network! {
        /// Frozen layers between trained ones: the gradient must cross them.
        pub struct FrozenMiddle {
            input: [2, 4, 4],
            // No bias: batch norm right after cancels it, so its gradient is 0.
            c1: Conv2d(3, kernel = 3, padding = 1, bias = false),
            #[frozen]
            bn: BatchNorm -> Relu,
            #[frozen]
            c2: Conv2d(2, kernel = 2, stride = 2) -> Tanh,
            flat: Flatten,
            drop: Dropout(keep = 0.8),
            #[frozen]
            d: Dense(5) -> Sigmoid,
            out: Dense(3),
        }
    }

    network! {
        /// Only the first layer trained.
        pub struct FrozenTail {
            input: 4,
            a: Dense(6) -> LeakyRelu(0.1),
            #[frozen]
            b: Dense(5) -> Tanh,
            #[frozen]
            out: Dense(2),
        }
    }

    network! {
        /// Every layer frozen: nothing to train, but `dL/dx` (e.g. for saliency maps or
        /// adversarial inputs) still flows through all of them.
        pub struct AllFrozen {
            input: 4,
            #[frozen]
            a: Dense(5) -> Tanh,
            #[frozen]
            out: Dense(3),
        }
    }

    network! {
        /// Batch norm first, trained, straight on the input.
        pub struct NormFirst {
            input: 6,
            bn: BatchNorm -> Tanh,
            out: Dense(3),
        }
    }

    #[test]
    fn every_layer_frozen_still_gives_the_input_gradient() {
        run::<AllFrozen<f64>, _, _, 4, 3>("all-frozen/ce", 105, SoftmaxCrossEntropy, &CLASSES);
    }

    #[test]
    fn batch_norm_on_the_input() {
        run::<NormFirst<f64>, _, _, 6, 3>("norm-first/l2", 106, L2, &regression_target::<3>(8));
    }

    #[test]
    fn first_layer_frozen() {
        run::<FrozenFirst<f64>, _, _, 4, 3>("frozen-first/ce", 101, SoftmaxCrossEntropy, &CLASSES);
        run::<FrozenFirst<f64>, _, _, 4, 3>("frozen-first/l2", 102, L2, &regression_target::<3>(6));
    }

    #[test]
    fn frozen_layers_between_trained_ones() {
        run::<FrozenMiddle<f64>, _, _, 32, 3>("frozen-middle/ce", 103, SoftmaxCrossEntropy, &CLASSES);
    }

    #[test]
    fn only_the_first_layer_trained() {
        run::<FrozenTail<f64>, _, _, 4, 2>("frozen-tail/l1", 104, L1, &regression_target::<2>(7));
    }
}
