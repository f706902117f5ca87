//! The baseline `infer` measures sinew against: the same network written by hand with
//! nalgebra's operators, as one would without sinew, on the same weights.

use crate::model::{Digits, pixels};
use nalgebra::ComplexField;

/// Class probabilities and predicted class of one sample: `W₂ relu(W₁ x + b₁) + b₂`, then
/// softmax and argmax.
pub fn classify(net: &Digits, sample: &[u8]) -> (usize, [f32; 10]) {
    let x = pixels(sample);
    let h = (net.hidden.weight * x + net.hidden.bias).map(|v| v.max(0.0));
    let z = net.out.weight * h + net.out.bias;
    let max = z.max();
    let e = z.map(|v| ComplexField::exp(v - max));
    let p = e / e.sum();
    let mut out = [0.0f32; 10];
    out.copy_from_slice(p.as_slice());
    (p.imax(), out)
}
