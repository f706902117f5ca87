//! Graph networks against PyTorch (`tests/fixtures/resblock_bn.*`, `inception.*`): a residual
//! block with batch norm and global average pooling, and an Inception module, both declared
//! with blocks so that their parameters carry PyTorch's nested names (`b1.c1.weight`,
//! `inc.b3.reduce.bias`) and load straight from the fixture. The training-mode output, the
//! loss, every parameter gradient, the input gradient, the batch-norm running statistics
//! after one pass and the parameters after three Adam steps must agree to 1e-10 (f64) and
//! 1e-5 (f32), relative to each tensor's largest entry.

mod common;

use common::{check_fixture, classes, matrix};
use sinew::prelude::*;

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
    check_fixture::<ResNetSmall<f64>, f64, _, _, 108, 3, 4>(
        "resblock_bn.f64.safetensors",
        SoftmaxCrossEntropy,
        classes,
        1e-10,
    );
}

#[test]
fn residual_block_with_batch_norm_f32() {
    check_fixture::<ResNetSmall<f32>, f32, _, _, 108, 3, 4>(
        "resblock_bn.f32.safetensors",
        SoftmaxCrossEntropy,
        classes,
        1e-5,
    );
}

#[test]
fn inception_module_f64() {
    check_fixture::<InceptionNet<f64>, f64, _, _, 75, 2, 4>(
        "inception.f64.safetensors",
        SigmoidBinaryCrossEntropy,
        matrix,
        1e-10,
    );
}

#[test]
fn inception_module_f32() {
    check_fixture::<InceptionNet<f32>, f32, _, _, 75, 2, 4>(
        "inception.f32.safetensors",
        SigmoidBinaryCrossEntropy,
        matrix,
        1e-5,
    );
}
