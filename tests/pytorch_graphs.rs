//! Graph networks against PyTorch (`tests/fixtures/resblock_bn.*`, `inception.*`): a residual
//! block with batch norm and global average pooling, and an Inception module, both declared
//! with blocks so that their parameters carry PyTorch's nested names (`b1.c1.weight`,
//! `inc.b3.reduce.bias`) and load straight from the fixture. The training-mode output, the
//! loss, every parameter gradient, the input gradient, the batch-norm running statistics
//! after one pass and the parameters after three Adam steps must agree to 1e-10 (f64) and
//! 1e-5 (f32), relative to each tensor's largest entry.

mod common;

use common::{Tensor, as_f64, fixture, rel_inf, row_major};
use sinew::prelude::*;
use sinew::{Model, Role, TrainsHead};

network! {
    /// `ConvBn` in the fixture: convolution, batch norm, ReLU.
    block ConvBn(channels) {
        conv: Conv2d(channels, kernel = 3, padding = 1, bias = false),
        bn: BatchNorm -> Relu,
    }

    /// `ResBlockBn`: two convolutions with batch norm, plus the identity.
    block ResBlockBn(channels) {
        c1: Conv2d(channels, kernel = 3, padding = same, bias = false),
        n1: BatchNorm -> Relu,
        c2: Conv2d(channels, kernel = 3, padding = same, bias = false),
        n2: BatchNorm,
        sum: Add(n2, input) -> Relu,
    }

    /// `resblock_bn`.
    pub struct ResNetSmall {
        input: [3, 6, 6],
        stem: ConvBn(4),
        b1: ResBlockBn(4),
        pool: GlobalAvgPool,
        out: Dense(3),
    }
}

network! {
    /// A 1x1 reduction, then a k x k convolution.
    block Reduced(reduce, out, k, pad) {
        reduce: Conv2d(reduce, kernel = 1) -> Relu,
        conv: Conv2d(out, kernel = k, padding = pad) -> Relu,
    }

    /// 3x3 max pooling, then a 1x1 projection.
    block PoolProject(out) {
        pool: MaxPool2d(3, stride = 1, padding = 1),
        conv: Conv2d(out, kernel = 1) -> Relu,
    }

    /// GoogLeNet's module: four branches on one input, concatenated along channels.
    block Inception {
        b1: Conv2d(2, kernel = 1) -> Relu,
        b3: Reduced(2, 3, 3, 1, from = input),
        b5: Reduced(1, 2, 5, 2, from = input),
        bp: PoolProject(2, from = input),
        cat: Concat(b1, b3, b5, bp) => [9, 5, 5],
    }

    /// `inception`.
    pub struct InceptionNet {
        input: [3, 5, 5],
        inc: Inception,
        flat: Flatten,
        out: Dense(2),
    }
}

fn check<N, T, L, Y, const IN: usize, const OUT: usize, const B: usize>(
    file: &str,
    loss: L,
    target: impl Fn(&Tensor) -> Y,
    tol: f64,
) where
    T: Float,
    N: Model<T, IN, OUT> + sinew::Trainable<T, Grads = N> + Zeroable,
    N::TrainWorkspace<B>: Zeroable,
    L: Loss<T, OUT, B, Y> + TrainsHead<N::Head>,
{
    let tensors = fixture(file);
    let mut net = N::zeroed();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(file);
    let unused = sinew::io::load_lenient(&path, &mut net).unwrap();
    // Every tensor of the network came from the file, by its PyTorch name.
    assert!(unused.iter().all(|n| !N::TENSORS.iter().any(|t| t.name == n)));
    for info in N::TENSORS {
        assert!(tensors.contains_key(info.name), "{file}: no `{}` in the fixture", info.name);
    }
    let x = SMatrix::<T, IN, B>::from_iterator(tensors["x"].data.iter().map(|&v| T::cast(v)));
    let y = target(&tensors["y"]);

    // The training-mode forward pass (batch statistics), as the fixture's `out`.
    let mut tw = N::TrainWorkspace::<B>::zeroed();
    net.forward_train(&x, &mut tw, &mut sinew::rng(0));
    let (out, grad) = N::output_and_grad(&mut tw);
    let err = rel_inf(&as_f64(out.as_slice()), &tensors["out"].data);
    assert!(err < tol, "{file}: out differs by {err:e}");
    let value = loss.gradient(out, &y, grad);
    let err = rel_inf(&[value.as_f64()], &tensors["loss"].data);
    assert!(err < tol, "{file}: loss {value} vs {:?} ({err:e})", tensors["loss"].data);
    // Running statistics after that one pass.
    let mut stats = 0;
    for (i, info) in N::TENSORS.iter().enumerate() {
        if info.role == Role::Buffer {
            let err = rel_inf(&row_major(&net, i), &tensors[&format!("after1.{}", info.name)].data);
            assert!(err < tol, "{file}: after1.{} differs by {err:e}", info.name);
            stats += 1;
        }
    }
    let mut dx = SMatrix::<T, IN, B>::zeros();
    net.backward(&x, &mut tw, Some(&mut dx));
    let mut grads = 0;
    for (i, info) in N::TENSORS.iter().enumerate() {
        if info.role == Role::Buffer {
            continue;
        }
        let err = rel_inf(&row_major(N::gradients(&tw), i), &tensors[&format!("grad.{}", info.name)].data);
        assert!(err < tol, "{file}: grad.{} differs by {err:e}", info.name);
        grads += 1;
    }
    let err = rel_inf(&as_f64(dx.as_slice()), &tensors["grad.x"].data);
    assert!(err < tol, "{file}: grad.x differs by {err:e}");
    let expected_grads = tensors.keys().filter(|k| k.starts_with("grad.") && *k != "grad.x").count();
    assert_eq!(grads, expected_grads, "{file}: every parameter gradient compared");
    let expected_stats = tensors.keys().filter(|k| k.starts_with("after1.")).count();
    assert_eq!(stats, expected_stats, "{file}: every running statistic compared");

    // Three Adam steps (each also updating the running statistics, as in PyTorch).
    let mut net = N::zeroed();
    sinew::io::load_lenient(&path, &mut net).unwrap();
    let mut adam = Adam::<T, N>::new(AdamConfig::with_lr(T::cast(0.01)));
    for _ in 0..3 {
        sinew::model::train_step(&mut net, &x, &y, B, &loss, &mut adam, &mut tw, &mut sinew::rng(0)).unwrap();
    }
    for (i, info) in N::TENSORS.iter().enumerate() {
        if info.role == Role::Buffer {
            continue;
        }
        let err = rel_inf(&row_major(&net, i), &tensors[&format!("adam3.{}", info.name)].data);
        assert!(err < tol, "{file}: adam3.{} differs by {err:e}", info.name);
    }
}

fn classes<const B: usize>(y: &Tensor) -> [usize; B] {
    std::array::from_fn(|i| y.data[i] as usize)
}

fn matrix<T: Float, const N: usize, const B: usize>(y: &Tensor) -> SMatrix<T, N, B> {
    SMatrix::from_iterator(y.data.iter().map(|&v| T::cast(v)))
}

#[test]
fn parameter_names_nest_as_in_pytorch() {
    let names: Vec<&str> = <ResNetSmall<f64> as Parameters<f64>>::TENSORS.iter().map(|t| t.name).collect();
    assert!(names.contains(&"stem.conv.weight"));
    assert!(names.contains(&"b1.n2.running_var"));
    let names: Vec<&str> = <InceptionNet<f64> as Parameters<f64>>::TENSORS.iter().map(|t| t.name).collect();
    assert!(names.contains(&"inc.b3.reduce.bias"));
    assert!(names.contains(&"inc.bp.conv.weight"));
}

#[test]
fn residual_block_with_batch_norm_f64() {
    check::<ResNetSmall<f64>, f64, _, _, 108, 3, 4>(
        "resblock_bn.f64.safetensors",
        SoftmaxCrossEntropy,
        classes,
        1e-10,
    );
}

#[test]
fn residual_block_with_batch_norm_f32() {
    check::<ResNetSmall<f32>, f32, _, _, 108, 3, 4>(
        "resblock_bn.f32.safetensors",
        SoftmaxCrossEntropy,
        classes,
        1e-5,
    );
}

#[test]
fn inception_module_f64() {
    check::<InceptionNet<f64>, f64, _, _, 75, 2, 4>(
        "inception.f64.safetensors",
        SigmoidBinaryCrossEntropy,
        matrix,
        1e-10,
    );
}

#[test]
fn inception_module_f32() {
    check::<InceptionNet<f32>, f32, _, _, 75, 2, 4>(
        "inception.f32.safetensors",
        SigmoidBinaryCrossEntropy,
        matrix,
        1e-5,
    );
}
