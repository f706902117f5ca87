//! Gradient checking by central differences: the test that backpropagation is right.
//!
//! For every trainable value `w` (and every input value), the numerical derivative
//! `(J(w + h) − J(w − h)) / 2h` is compared with the gradient from `backward`. Per tensor
//! the comparison is the error of the two gradient vectors, relative where they are
//! large and absolute where they are near zero (as `torch.autograd.gradcheck`'s
//! `atol + rtol·|expected|`):
//!
//! ```text
//! ‖a − n‖ / (ATOL + ‖a‖ + ‖n‖)        ATOL = 1e-8
//! ```
//!
//! (`a` analytic, `n` numerical), which is below 1e-6 in `f64` when backward is right and
//! of order 1 when it is wrong. A gradient that is exactly zero, whose numerical estimate
//! is rounding noise of order 1e-17, therefore passes instead of scoring 1. Dropout masks are made identical across evaluations by
//! re-seeding the generator before every forward pass.
//!
//! Run it in `f64`: in `f32` the rounding error of the differences alone is about 1e-3.

use crate::loss::Loss;
use crate::model::Model;
use crate::params::{Parameters, Role};
use crate::{Float, rng};
use nalgebra::SMatrix;

/// `|a − b| / max(|a| + |b|, tiny)`: 0 when equal, 1 when opposite or one is zero.
///
/// ```
/// assert_eq!(sinew::gradcheck::relative_error(1.0, 1.0), 0.0);
/// assert_eq!(sinew::gradcheck::relative_error(1.0, -1.0), 1.0);
/// ```
pub fn relative_error(a: f64, b: f64) -> f64 {
    (a - b).abs() / (a.abs() + b.abs()).max(f64::MIN_POSITIVE)
}

/// The absolute floor of the gradient check's denominator: gradients whose norms are far
/// below it are compared absolutely (see the [module docs](self)).
pub const ATOL: f64 = 1e-8;

/// The agreement of one tensor's analytic and numerical gradients.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TensorCheck {
    /// The tensor's name, or `"x"` for the input.
    pub name: &'static str,
    /// `‖a − n‖ / (ATOL + ‖a‖ + ‖n‖)`: relative for gradients well above [`ATOL`],
    /// absolute below.
    pub relative_error: f64,
    /// `max |a_i − n_i|`.
    pub max_abs_difference: f64,
    /// `‖a‖`, to tell a meaningful check from an all-zero one.
    pub norm: f64,
}

/// The result of [`check_gradients`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GradientReport {
    /// The tensor (or the input, `"x"`) whose gradients agree least.
    pub worst: TensorCheck,
    /// Tensors checked, the input included.
    pub tensors: usize,
    /// Values checked (each costs two forward passes).
    pub values: usize,
}

impl GradientReport {
    /// The largest relative error over all tensors and the input.
    pub fn max_relative_error(&self) -> f64 {
        self.worst.relative_error
    }
}

/// The loss of one training forward pass with the dropout masks of `seed`.
fn loss_at<T, M, L, Y, const IN: usize, const OUT: usize, const B: usize>(
    net: &mut M,
    x: &SMatrix<T, IN, B>,
    y: &Y,
    loss: &L,
    seed: u64,
    tw: &mut M::TrainWorkspace<B>,
) -> f64
where
    T: Float,
    M: Model<T, IN, OUT>,
    L: Loss<T, OUT, B, Y>,
    Y: ?Sized,
{
    let out = net.forward_train(x, tw, &mut rng(seed));
    loss.value(out, y).as_f64()
}

/// Accumulates `Σ(a−n)², Σa², Σn², max|a−n|` for one tensor.
#[derive(Default)]
struct Sums {
    diff2: f64,
    a2: f64,
    n2: f64,
    max_abs: f64,
}

impl Sums {
    fn add(&mut self, a: f64, n: f64) {
        self.diff2 += (a - n) * (a - n);
        self.a2 += a * a;
        self.n2 += n * n;
        self.max_abs = self.max_abs.max((a - n).abs());
    }

    fn finish(self, name: &'static str) -> TensorCheck {
        let (d, a, n) = (libm_sqrt(self.diff2), libm_sqrt(self.a2), libm_sqrt(self.n2));
        TensorCheck { name, relative_error: d / (ATOL + a + n), max_abs_difference: self.max_abs, norm: a }
    }
}

fn libm_sqrt(v: f64) -> f64 {
    nalgebra::ComplexField::sqrt(v)
}

/// Compares `backward` with central differences of step `h` for every trainable tensor
/// of `net` and for the input `x`; see the [module docs](self). The trainable values of
/// `net` are restored exactly; buffers such as batch norm's running statistics move, as
/// in any training pass (they do not enter training-mode outputs).
///
/// Each value costs two forward passes: use small networks and batches.
///
/// ```text
/// let report = check_gradients(&mut net, &x, &y, &L2, 7, 1e-6, &mut tw);
/// assert!(report.max_relative_error() < 1e-6, "{:?}", report.worst);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn check_gradients<T, M, L, Y, const IN: usize, const OUT: usize, const B: usize>(
    net: &mut M,
    x: &SMatrix<T, IN, B>,
    y: &Y,
    loss: &L,
    seed: u64,
    h: f64,
    tw: &mut M::TrainWorkspace<B>,
) -> GradientReport
where
    T: Float,
    M: Model<T, IN, OUT>,
    L: Loss<T, OUT, B, Y>,
    Y: ?Sized,
{
    check_gradients_with(net, x, y, loss, seed, h, tw, |_| {})
}

/// [`check_gradients`], calling `each` with the result of every tensor (and of the input,
/// last) as it is checked.
#[allow(clippy::too_many_arguments)]
pub fn check_gradients_with<T, M, L, Y, const IN: usize, const OUT: usize, const B: usize>(
    net: &mut M,
    x: &SMatrix<T, IN, B>,
    y: &Y,
    loss: &L,
    seed: u64,
    h: f64,
    tw: &mut M::TrainWorkspace<B>,
    mut each: impl FnMut(&TensorCheck),
) -> GradientReport
where
    T: Float,
    M: Model<T, IN, OUT>,
    L: Loss<T, OUT, B, Y>,
    Y: ?Sized,
{
    // Analytic gradients.
    let mut input_grad = SMatrix::<T, IN, B>::zeros();
    net.forward_train(x, tw, &mut rng(seed));
    let (out, grad) = M::output_and_grad(tw);
    loss.gradient(out, y, grad);
    net.backward(x, tw, Some(&mut input_grad));

    let mut report: Option<GradientReport> = None;
    let mut record = |check: TensorCheck, values: usize| {
        each(&check);
        let r = report.get_or_insert(GradientReport { worst: check, tensors: 0, values: 0 });
        if check.relative_error > r.worst.relative_error {
            r.worst = check;
        }
        r.tensors += 1;
        r.values += values;
    };

    // The trained tensors: those of the gradient type (frozen layers have none).
    for (i, info) in <M::Grads as Parameters<T>>::TENSORS.iter().enumerate() {
        if info.role == Role::Buffer {
            continue;
        }
        let mut sums = Sums::default();
        for e in 0..info.len() {
            let analytic = M::gradients(tw).tensor(i)[e].as_f64();
            let original = net.trainable_mut(i)[e];
            net.trainable_mut(i)[e] = T::cast(original.as_f64() + h);
            let plus = loss_at(net, x, y, loss, seed, tw);
            net.trainable_mut(i)[e] = T::cast(original.as_f64() - h);
            let minus = loss_at(net, x, y, loss, seed, tw);
            net.trainable_mut(i)[e] = original;
            sums.add(analytic, (plus - minus) / (2.0 * h));
        }
        record(sums.finish(info.name), info.len());
    }

    if !M::DIFFERENTIABLE_INPUT {
        // Token ids: nothing to differentiate.
        return report.expect("a network has a trained tensor or a differentiable input");
    }
    let mut xp = *x;
    let mut sums = Sums::default();
    for e in 0..IN * B {
        let original = xp.as_slice()[e];
        xp.as_mut_slice()[e] = T::cast(original.as_f64() + h);
        let plus = loss_at(net, &xp, y, loss, seed, tw);
        xp.as_mut_slice()[e] = T::cast(original.as_f64() - h);
        let minus = loss_at(net, &xp, y, loss, seed, tw);
        xp.as_mut_slice()[e] = original;
        sums.add(input_grad.as_slice()[e].as_f64(), (plus - minus) / (2.0 * h));
    }
    record(sums.finish("x"), IN * B);
    report.expect("the input is always checked, so there is a report")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 8: a tensor whose true gradient is exactly 0 scored relative error 1.0 when
    /// the numerical side was rounding noise (~1e-17).
    #[test]
    fn zero_gradients_with_rounding_noise_pass() {
        let mut sums = Sums::default();
        for noise in [1e-17, -3e-17, 0.0, 2e-18] {
            sums.add(0.0, noise);
        }
        assert!(sums.finish("w").relative_error < 1e-6);
    }

    #[test]
    fn wrong_gradients_still_fail_at_any_scale() {
        for scale in [1e-6, 1.0, 1e6] {
            let mut sums = Sums::default();
            sums.add(scale, -scale);
            sums.add(2.0 * scale, 0.0);
            assert!(sums.finish("w").relative_error > 0.1, "scale {scale}");
        }
        let mut right = Sums::default();
        right.add(0.5, 0.5 + 1e-12);
        assert!(right.finish("w").relative_error < 1e-6);
    }
}
