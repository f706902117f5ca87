//! Per-pixel softmax cross-entropy against PyTorch (`tests/fixtures/seg_pixel_ce.*`): a small
//! convolutional network whose output is an image of 3-class logits, trained with
//! `PixelCrossEntropy` (the mean over pixels, then over the batch). Output, loss, every
//! gradient, the input gradient and three Adam steps to 1e-10 (f64) and 1e-5 (f32); and a
//! central-difference gradient check.

mod common;

use common::{check_fixture, matrix};
use sinew::gradcheck::check_gradients;
use sinew::loss::PixelCrossEntropy;
use sinew::prelude::*;

network! {
    /// `seg_pixel_ce`: two convolutions, the second a 1x1 to 3 classes per pixel.
    pub struct SegNet {
        input: [2, 6, 6],
        c1: Conv2d(4, kernel = 3, padding = 1) -> Relu,
        c2: Conv2d(3, kernel = 1),
    }
}

#[test]
fn per_pixel_cross_entropy_f64() {
    check_fixture::<SegNet<f64>, f64, _, _, 72, 108, 4>(
        "seg_pixel_ce.f64.safetensors",
        PixelCrossEntropy,
        matrix::<f64, 36, 4>,
        1e-10,
    );
}

#[test]
fn per_pixel_cross_entropy_f32() {
    check_fixture::<SegNet<f32>, f32, _, _, 72, 108, 4>(
        "seg_pixel_ce.f32.safetensors",
        PixelCrossEntropy,
        matrix::<f32, 36, 4>,
        1e-5,
    );
}

#[test]
fn per_pixel_cross_entropy_passes_a_gradient_check() {
    let mut net = SegNet::<f64>::init(&mut sinew::rng(11));
    let x = SMatrix::<f64, 72, 2>::from_fn(|i, j| ((i * 3 + j * 17) as f64 * 0.41).sin());
    let y = SMatrix::<f64, 36, 2>::from_fn(|p, j| ((p * 5 + j) % 3) as f64);
    let mut tw = SegNetTrainWorkspace::<2, f64>::zeroed();
    let report = check_gradients(&mut net, &x, &y, &PixelCrossEntropy, 3, 1e-6, &mut tw);
    assert!(report.max_relative_error() < 1e-6, "{report:?}");
}
