//! Loss functions: a value and its gradient with respect to the network output.
//!
//! Every loss is a **mean over the samples** of a **sum over the outputs** of one sample
//! (`m` samples, outputs `ŷ`, targets `y`):
//!
//! | loss | value | gradient `dL/dŷ` |
//! |---|---|---|
//! | [`L2`] | `(1/m) Σ ½ (ŷ − y)²` | `(ŷ − y) / m` |
//! | [`L1`] | `(1/m) Σ abs(ŷ − y)` | `sign(ŷ − y) / m` (0 at 0) |
//! | [`SoftmaxCrossEntropy`] | `(1/m) Σ_samples −Σ_k y_k log softmax(z)_k` | `(softmax(z) Σ_k y_k − y) / m` |
//! | [`SigmoidBinaryCrossEntropy`] | `(1/m) Σ softplus(z) − y z` | `(σ(z) − y) / m` |
//!
//! The two cross-entropies are fused with their output function and computed from the
//! logits `z`: `log softmax(z) = z − max − log Σ e^{z − max}` and
//! `softplus(z) = max(z, 0) + log(1 + e^{−|z|})`, so no `exp` overflows and no `log` sees
//! 0: they are finite for logits of any finite magnitude (tested at ±1e4).
//!
//! Targets are matrices like the output, or for [`SoftmaxCrossEntropy`] also class
//! indices `[usize; B]`. The `_partial` methods treat only the first `samples` columns as
//! real: the mean is over those, the other columns get a zero gradient (padding of a last,
//! partial batch).

use crate::Float;
use crate::model::{TrainsHead, head};
use nalgebra::SMatrix;

/// A loss over batches of `B` samples with `N` outputs, against targets of type `Y`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot compare a batch of `{B}` samples with `{N}` outputs each against targets of type `{Y}`",
    label = "these targets do not fit a batch of `{B}` samples with `{N}` outputs",
    note = "class labels are `[usize; {B}]`, one per sample of the batch; vector targets are `SMatrix<T, {N}, {B}>`, one column per sample",
    note = "the usual cause is a wrong number of labels for the batch (e.g. 6 labels for a batch of 8), or targets built for another batch size"
)]
pub trait Loss<T: Float, const N: usize, const B: usize, Y: ?Sized> {
    /// The loss averaged over the first `samples` columns.
    ///
    /// # Panics
    /// If `samples` is 0 or larger than `B`, or a target is out of range.
    fn value_partial(&self, output: &SMatrix<T, N, B>, target: &Y, samples: usize) -> T;

    /// The loss averaged over the first `samples` columns, and its gradient with respect
    /// to `output` written into `grad` (zero in the other columns).
    ///
    /// # Panics
    /// If `samples` is 0 or larger than `B`, or a target is out of range.
    fn gradient_partial(
        &self,
        output: &SMatrix<T, N, B>,
        target: &Y,
        samples: usize,
        grad: &mut SMatrix<T, N, B>,
    ) -> T;

    /// The loss averaged over the whole batch.
    fn value(&self, output: &SMatrix<T, N, B>, target: &Y) -> T {
        self.value_partial(output, target, B)
    }

    /// The loss averaged over the whole batch, and its gradient written into `grad`.
    fn gradient(&self, output: &SMatrix<T, N, B>, target: &Y, grad: &mut SMatrix<T, N, B>) -> T {
        self.gradient_partial(output, target, B, grad)
    }
}

fn check_samples<const B: usize>(samples: usize) {
    assert!(
        samples >= 1 && samples <= B,
        "a batch of {B} columns cannot hold {samples} samples (expected 1..={B})"
    );
}

/// Half squared error, `(1/m) Σ ½ (ŷ − y)²`; gradient `(ŷ − y) / m`.
///
/// ```
/// use sinew::{loss::{Loss, L2}, SMatrix};
/// let out = SMatrix::<f64, 1, 2>::new(1.0, 3.0);
/// let y = SMatrix::<f64, 1, 2>::new(0.0, 0.0);
/// assert_eq!(L2.value(&out, &y), (0.5 * 1.0 + 0.5 * 9.0) / 2.0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct L2;

/// Absolute error, `(1/m) Σ abs(ŷ − y)`; gradient `sign(ŷ − y) / m`, 0 where `ŷ = y`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct L1;

/// Softmax followed by cross-entropy, fused and computed from logits.
///
/// Targets are class indices (`[usize; B]`) or, as a matrix like the output, class
/// probabilities (one-hot or soft labels), as PyTorch's `CrossEntropyLoss` accepts.
///
/// ```
/// use sinew::{loss::{Loss, SoftmaxCrossEntropy}, SMatrix};
/// let logits = SMatrix::<f32, 2, 1>::new(1e4, -1e4);
/// assert_eq!(SoftmaxCrossEntropy.value(&logits, &[0]), 0.0);
/// assert_eq!(SoftmaxCrossEntropy.value(&logits, &[1]), 2e4);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SoftmaxCrossEntropy;

/// Sigmoid followed by binary cross-entropy on every output, fused and computed from
/// logits (PyTorch's `BCEWithLogitsLoss`, summed over outputs, averaged over samples).
///
/// ```
/// use sinew::{loss::{Loss, SigmoidBinaryCrossEntropy}, SMatrix};
/// let logits = SMatrix::<f32, 1, 2>::new(1e4, -1e4);
/// let y = SMatrix::<f32, 1, 2>::new(1.0, 1.0);
/// assert_eq!(SigmoidBinaryCrossEntropy.value(&logits, &y), 1e4 / 2.0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigmoidBinaryCrossEntropy;

/// A loss that is a sum of one term per output value, `term(ŷ, y)`, with derivative
/// `derivative(ŷ, y)` with respect to `ŷ`.
trait Pointwise {
    fn term<T: Float>(output: T, target: T) -> T;
    fn derivative<T: Float>(output: T, target: T) -> T;
}

impl Pointwise for L2 {
    #[inline]
    fn term<T: Float>(o: T, y: T) -> T {
        T::cast(0.5) * (o - y) * (o - y)
    }
    #[inline]
    fn derivative<T: Float>(o: T, y: T) -> T {
        o - y
    }
}

impl Pointwise for L1 {
    #[inline]
    fn term<T: Float>(o: T, y: T) -> T {
        (o - y).abs()
    }
    #[inline]
    fn derivative<T: Float>(o: T, y: T) -> T {
        if o > y {
            T::one()
        } else if o < y {
            -T::one()
        } else {
            T::zero()
        }
    }
}

impl Pointwise for SigmoidBinaryCrossEntropy {
    #[inline]
    fn term<T: Float>(z: T, y: T) -> T {
        softplus(z) - y * z
    }
    #[inline]
    fn derivative<T: Float>(z: T, y: T) -> T {
        sigmoid(z) - y
    }
}

impl<P: Pointwise, T: Float, const N: usize, const B: usize> Loss<T, N, B, SMatrix<T, N, B>> for P {
    fn value_partial(&self, output: &SMatrix<T, N, B>, target: &SMatrix<T, N, B>, samples: usize) -> T {
        check_samples::<B>(samples);
        let n = samples * N;
        let mut sum = T::zero();
        for (&o, &y) in output.as_slice()[..n].iter().zip(&target.as_slice()[..n]) {
            sum += P::term(o, y);
        }
        sum / T::cast(samples as f64)
    }

    fn gradient_partial(
        &self,
        output: &SMatrix<T, N, B>,
        target: &SMatrix<T, N, B>,
        samples: usize,
        grad: &mut SMatrix<T, N, B>,
    ) -> T {
        check_samples::<B>(samples);
        let n = samples * N;
        let scale = T::one() / T::cast(samples as f64);
        let mut sum = T::zero();
        let g = grad.as_mut_slice();
        for ((g, &o), &y) in g[..n].iter_mut().zip(&output.as_slice()[..n]).zip(&target.as_slice()[..n]) {
            sum += P::term(o, y);
            *g = P::derivative(o, y) * scale;
        }
        g[n..].fill(T::zero());
        sum * scale
    }
}

/// `(max, log Σ e^{z − max})` of one sample's logits.
#[inline]
fn max_and_log_sum_exp<T: Float>(z: &[T]) -> (T, T) {
    let mut max = z[0];
    for &v in &z[1..] {
        if v > max {
            max = v;
        }
    }
    let mut sum = T::zero();
    for &v in z {
        sum += (v - max).exp_fast();
    }
    (max, sum.ln())
}

/// Writes `softmax(z) · mass − y` scaled by `scale` into `g`, where `y` is given lazily.
#[inline]
fn softmax_grad<T: Float>(z: &[T], max: T, lse: T, mass: T, scale: T, g: &mut [T], y: impl Fn(usize) -> T) {
    for (k, (g, &v)) in g.iter_mut().zip(z).enumerate() {
        let p = (v - max - lse).exp_fast();
        *g = (p * mass - y(k)) * scale;
    }
}

fn check_label<const N: usize>(label: usize, sample: usize) {
    assert!(label < N, "sample {sample} has class {label}, but the network has {N} outputs (classes 0..{N})");
}

impl<T: Float, const N: usize, const B: usize> Loss<T, N, B, [usize; B]> for SoftmaxCrossEntropy {
    fn value_partial(&self, output: &SMatrix<T, N, B>, target: &[usize; B], samples: usize) -> T {
        check_samples::<B>(samples);
        let mut sum = T::zero();
        for (j, (z, &label)) in output.as_slice().chunks_exact(N).zip(target).take(samples).enumerate() {
            check_label::<N>(label, j);
            let (max, lse) = max_and_log_sum_exp(z);
            sum += max + lse - z[label];
        }
        sum / T::cast(samples as f64)
    }

    fn gradient_partial(
        &self,
        output: &SMatrix<T, N, B>,
        target: &[usize; B],
        samples: usize,
        grad: &mut SMatrix<T, N, B>,
    ) -> T {
        check_samples::<B>(samples);
        let scale = T::one() / T::cast(samples as f64);
        let mut sum = T::zero();
        let columns = output.as_slice().chunks_exact(N).zip(grad.as_mut_slice().chunks_exact_mut(N));
        for (j, ((z, g), &label)) in columns.zip(target).enumerate() {
            if j >= samples {
                g.fill(T::zero());
                continue;
            }
            check_label::<N>(label, j);
            let (max, lse) = max_and_log_sum_exp(z);
            sum += max + lse - z[label];
            softmax_grad(z, max, lse, T::one(), scale, g, |k| if k == label { T::one() } else { T::zero() });
        }
        sum * scale
    }
}

impl<T: Float, const N: usize, const B: usize> Loss<T, N, B, SMatrix<T, N, B>> for SoftmaxCrossEntropy {
    fn value_partial(&self, output: &SMatrix<T, N, B>, target: &SMatrix<T, N, B>, samples: usize) -> T {
        check_samples::<B>(samples);
        let mut sum = T::zero();
        for (z, y) in output.as_slice().chunks_exact(N).zip(target.as_slice().chunks_exact(N)).take(samples) {
            let (max, lse) = max_and_log_sum_exp(z);
            for (&zk, &yk) in z.iter().zip(y) {
                sum += yk * (max + lse - zk);
            }
        }
        sum / T::cast(samples as f64)
    }

    fn gradient_partial(
        &self,
        output: &SMatrix<T, N, B>,
        target: &SMatrix<T, N, B>,
        samples: usize,
        grad: &mut SMatrix<T, N, B>,
    ) -> T {
        check_samples::<B>(samples);
        let scale = T::one() / T::cast(samples as f64);
        let mut sum = T::zero();
        let columns = output.as_slice().chunks_exact(N).zip(target.as_slice().chunks_exact(N));
        for (j, ((z, y), g)) in columns.zip(grad.as_mut_slice().chunks_exact_mut(N)).enumerate() {
            if j >= samples {
                g.fill(T::zero());
                continue;
            }
            let (max, lse) = max_and_log_sum_exp(z);
            let mut mass = T::zero();
            for (&zk, &yk) in z.iter().zip(y) {
                sum += yk * (max + lse - zk);
                mass += yk;
            }
            softmax_grad(z, max, lse, mass, scale, g, |k| y[k]);
        }
        sum * scale
    }
}

/// `log(1 + e^z)` without overflow.
#[inline]
fn softplus<T: Float>(z: T) -> T {
    let pos = if z > T::zero() { z } else { T::zero() };
    pos + (-z.abs()).exp_fast().ln_1p()
}

/// `1 / (1 + e^-z)` without overflow.
#[inline]
fn sigmoid<T: Float>(z: T) -> T {
    let e = (-z.abs()).exp_fast();
    if z >= T::zero() { T::one() / (T::one() + e) } else { e / (T::one() + e) }
}

/// Softmax cross-entropy at every step of a sequence of logits (a language model's
/// loss): the output is `(S·K, B)`, `S` steps of `K` logits each in sinew's sequence layout,
/// and each step has a class. With a mask, only the steps where it is 1 count (padding
/// of variable-length sequences):
/// `(1/m) Σ_samples Σ_steps mask · −log softmax(z_step)[class]`, where `m` is the number of
/// samples (as PyTorch's sum over steps divided by the batch size), not of steps.
///
/// Targets: [`StepTargets`] (classes and a mask), or a `(S, B)` matrix of classes (every
/// step counts). Classes are stored as numbers of the network's scalar type, like token ids.
///
/// ```
/// use sinew::{loss::{Loss, StepCrossEntropy, StepTargets}, SMatrix};
/// // 2 steps of 2 logits, one sample: both steps even, class 0 then 1; only step 0 counts.
/// let z = SMatrix::<f64, 4, 1>::zeros();
/// let y = StepTargets { classes: SMatrix::<f64, 2, 1>::new(0.0, 1.0), mask: SMatrix::<f64, 2, 1>::new(1.0, 0.0) };
/// let mut g = SMatrix::<f64, 4, 1>::zeros();
/// let loss = StepCrossEntropy.gradient(&z, &y, &mut g);
/// assert!((loss - 2f64.ln()).abs() < 1e-12);
/// assert_eq!(g.as_slice(), &[-0.5, 0.5, 0.0, 0.0]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StepCrossEntropy;

/// The targets of [`StepCrossEntropy`] for `S` steps of `B` samples: a class per step, and a
/// mask, 1 where the step counts and 0 where it is padding.
#[derive(Clone, Debug, PartialEq, bytemuck::Zeroable)]
#[zeroable(bound = "T: Float")]
pub struct StepTargets<T: Float, const S: usize, const B: usize> {
    /// The class of every step, `(S, B)`.
    pub classes: SMatrix<T, S, B>,
    /// 1 or 0 for every step, `(S, B)`.
    pub mask: SMatrix<T, S, B>,
}

/// The steps of the first `samples` columns that count in `targets`, and how many of them
/// the largest logit gets right: per-step accuracy is their ratio.
///
/// # Panics
/// If `N` is not a multiple of `S`, or `samples` is larger than `B`.
pub fn step_accuracy<T: Float, const N: usize, const S: usize, const B: usize>(
    output: &SMatrix<T, N, B>,
    targets: &StepTargets<T, S, B>,
    samples: usize,
) -> (usize, usize) {
    assert!(
        S > 0 && N.is_multiple_of(S) && samples <= B,
        "{N} outputs are not {S} steps of logits for {samples} samples"
    );
    let k = N / S;
    let (mut right, mut counted) = (0, 0);
    for j in 0..samples {
        for t in 0..S {
            if targets.mask[(t, j)] == T::zero() {
                continue;
            }
            let z = &output.as_slice()[(j * S + t) * k..][..k];
            let best = (1..k).fold(0, |best, c| if z[c] > z[best] { c } else { best });
            counted += 1;
            right += usize::from(best as f64 == targets.classes[(t, j)].as_f64());
        }
    }
    (right, counted)
}

impl StepCrossEntropy {
    /// The summed loss of the first `samples` columns and, if given, its gradient scaled by
    /// `1/samples`.
    fn run<T: Float, const N: usize, const S: usize, const B: usize>(
        output: &SMatrix<T, N, B>,
        classes: &SMatrix<T, S, B>,
        mask: Option<&SMatrix<T, S, B>>,
        samples: usize,
        mut grad: Option<&mut SMatrix<T, N, B>>,
    ) -> T {
        check_samples::<B>(samples);
        assert!(S > 0 && N.is_multiple_of(S), "{N} outputs are not {S} steps of logits");
        let k = N / S;
        let scale = T::one() / T::cast(samples as f64);
        let mut sum = T::zero();
        for j in 0..B {
            for t in 0..S {
                let z = &output.as_slice()[(j * S + t) * k..][..k];
                let weight = if j < samples { mask.map_or(T::one(), |m| m[(t, j)]) } else { T::zero() };
                let g = grad.as_deref_mut().map(|g| &mut g.as_mut_slice()[(j * S + t) * k..][..k]);
                if weight == T::zero() {
                    if let Some(g) = g {
                        g.fill(T::zero());
                    }
                    continue;
                }
                let id = classes[(t, j)].as_f64();
                assert!(
                    id >= 0.0 && id < k as f64 && (id as usize) as f64 == id,
                    "step {t} of sample {j} has class {id}, but each step has {k} logits (classes 0..{k})"
                );
                let label = id as usize;
                let (max, lse) = max_and_log_sum_exp(z);
                sum += weight * (max + lse - z[label]);
                if let Some(g) = g {
                    softmax_grad(
                        z,
                        max,
                        lse,
                        weight,
                        scale,
                        g,
                        |c| if c == label { weight } else { T::zero() },
                    );
                }
            }
        }
        sum * scale
    }
}

impl<T: Float, const N: usize, const S: usize, const B: usize> Loss<T, N, B, StepTargets<T, S, B>>
    for StepCrossEntropy
{
    fn value_partial(&self, output: &SMatrix<T, N, B>, target: &StepTargets<T, S, B>, samples: usize) -> T {
        Self::run(output, &target.classes, Some(&target.mask), samples, None)
    }

    fn gradient_partial(
        &self,
        output: &SMatrix<T, N, B>,
        target: &StepTargets<T, S, B>,
        samples: usize,
        grad: &mut SMatrix<T, N, B>,
    ) -> T {
        Self::run(output, &target.classes, Some(&target.mask), samples, Some(grad))
    }
}

impl<T: Float, const N: usize, const S: usize, const B: usize> Loss<T, N, B, SMatrix<T, S, B>>
    for StepCrossEntropy
{
    fn value_partial(&self, output: &SMatrix<T, N, B>, target: &SMatrix<T, S, B>, samples: usize) -> T {
        Self::run(output, target, None, samples, None)
    }

    fn gradient_partial(
        &self,
        output: &SMatrix<T, N, B>,
        target: &SMatrix<T, S, B>,
        samples: usize,
        grad: &mut SMatrix<T, N, B>,
    ) -> T {
        Self::run(output, target, None, samples, Some(grad))
    }
}

/// Softmax cross-entropy at every pixel of an image of logits (semantic segmentation): the
/// output is `(K·P, B)`, `K` channels of `P = h·w` pixels each in NCHW order, and every pixel
/// has a class; the loss is the mean over the pixels, then over the samples,
/// `(1/m) Σ_samples (1/P) Σ_pixels −log softmax_c(z[:, pixel])[class]`, PyTorch's
/// `F.cross_entropy(out, y)` on `(batch, K, H, W)` logits.
///
/// Targets: a `(P, B)` matrix of classes, one per pixel in row-major order, stored as numbers of
/// the network's scalar type.
///
/// ```
/// use sinew::{loss::{Loss, PixelCrossEntropy}, SMatrix};
/// // 2 classes over 2 pixels, one sample: logits equal, so −log ½ at each pixel.
/// let z = SMatrix::<f64, 4, 1>::zeros();
/// let y = SMatrix::<f64, 2, 1>::new(0.0, 1.0);
/// let mut g = SMatrix::<f64, 4, 1>::zeros();
/// assert!((PixelCrossEntropy.gradient(&z, &y, &mut g) - 2f64.ln()).abs() < 1e-12);
/// // channel 0 at both pixels, then channel 1: (p − onehot) / 2 pixels
/// assert_eq!(g.as_slice(), &[-0.25, 0.25, 0.25, -0.25]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PixelCrossEntropy;

impl PixelCrossEntropy {
    fn run<T: Float, const N: usize, const P: usize, const B: usize>(
        output: &SMatrix<T, N, B>,
        classes: &SMatrix<T, P, B>,
        samples: usize,
        mut grad: Option<&mut SMatrix<T, N, B>>,
    ) -> T {
        check_samples::<B>(samples);
        assert!(P > 0 && N.is_multiple_of(P), "{N} outputs are not channels of {P} pixels");
        let k = N / P;
        let scale = T::one() / T::cast((samples * P) as f64);
        let mut sum = T::zero();
        for j in 0..B {
            let z = &output.as_slice()[j * N..][..N];
            let g = grad.as_deref_mut().map(|g| &mut g.as_mut_slice()[j * N..][..N]);
            if j >= samples {
                if let Some(g) = g {
                    g.fill(T::zero());
                }
                continue;
            }
            let mut g = g;
            for p in 0..P {
                let id = classes[(p, j)].as_f64();
                assert!(
                    id >= 0.0 && id < k as f64 && (id as usize) as f64 == id,
                    "pixel {p} of sample {j} has class {id}, but the output has {k} channels (classes 0..{k})"
                );
                let label = id as usize;
                let (mut max, mut total) = (z[p], T::zero());
                for c in 1..k {
                    if z[c * P + p] > max {
                        max = z[c * P + p];
                    }
                }
                for c in 0..k {
                    total += (z[c * P + p] - max).exp();
                }
                let lse = total.ln();
                sum += max + lse - z[label * P + p];
                if let Some(g) = g.as_deref_mut() {
                    for c in 0..k {
                        let prob = (z[c * P + p] - max - lse).exp();
                        g[c * P + p] = (prob - if c == label { T::one() } else { T::zero() }) * scale;
                    }
                }
            }
        }
        sum * scale
    }
}

impl<T: Float, const N: usize, const P: usize, const B: usize> Loss<T, N, B, SMatrix<T, P, B>>
    for PixelCrossEntropy
{
    fn value_partial(&self, output: &SMatrix<T, N, B>, target: &SMatrix<T, P, B>, samples: usize) -> T {
        Self::run(output, target, samples, None)
    }

    fn gradient_partial(
        &self,
        output: &SMatrix<T, N, B>,
        target: &SMatrix<T, P, B>,
        samples: usize,
        grad: &mut SMatrix<T, N, B>,
    ) -> T {
        Self::run(output, target, samples, Some(grad))
    }
}

/// The triplet loss of face verification (FaceNet), over the outputs of one network applied
/// to anchors `a`, positives `p` and negatives `n` (one column per triplet):
/// `(1/m) Σ max(‖a − p‖² − ‖a − n‖² + margin, 0)`, with squared Euclidean distances. A triplet
/// that satisfies the margin contributes 0 and no gradient. Train with
/// [`train_step_shared`](crate::model::train_step_shared).
///
/// ```
/// use sinew::{loss::TripletLoss, SMatrix};
/// let a = SMatrix::<f64, 2, 1>::new(0.0, 0.0);
/// let p = SMatrix::<f64, 2, 1>::new(1.0, 0.0); // ‖a − p‖² = 1
/// let n = SMatrix::<f64, 2, 1>::new(0.0, 1.0); // ‖a − n‖² = 1
/// let (mut ga, mut gp, mut gn) = (SMatrix::zeros(), SMatrix::zeros(), SMatrix::zeros());
/// let loss = TripletLoss { margin: 0.2 }.gradient(&a, &p, &n, 1, &mut ga, &mut gp, &mut gn);
/// assert!((loss - 0.2).abs() < 1e-12);
/// assert_eq!(ga, SMatrix::<f64, 2, 1>::new(-2.0, 2.0)); // 2 (n − p)
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TripletLoss {
    /// `α`, how much nearer the positive must be than the negative.
    pub margin: f64,
}

impl TripletLoss {
    /// The loss over the first `samples` triplets, and its gradients with respect to each
    /// output written into `ga`, `gp`, `gn` (zero for inactive triplets and padding):
    /// `2(n − p)/m`, `−2(a − p)/m`, `2(a − n)/m`.
    ///
    /// # Panics
    /// If `samples` is 0 or larger than `B`.
    #[allow(clippy::too_many_arguments)]
    pub fn gradient<T: Float, const N: usize, const B: usize>(
        &self,
        a: &SMatrix<T, N, B>,
        p: &SMatrix<T, N, B>,
        n: &SMatrix<T, N, B>,
        samples: usize,
        ga: &mut SMatrix<T, N, B>,
        gp: &mut SMatrix<T, N, B>,
        gn: &mut SMatrix<T, N, B>,
    ) -> T {
        check_samples::<B>(samples);
        let (two, scale, margin) = (T::cast(2.0), T::one() / T::cast(samples as f64), T::cast(self.margin));
        let mut sum = T::zero();
        for j in 0..B {
            let (aj, pj, nj) = (a.column(j), p.column(j), n.column(j));
            let term = (aj - pj).norm_squared() - (aj - nj).norm_squared() + margin;
            let active = j < samples && term > T::zero();
            if active {
                sum += term;
            }
            for i in 0..N {
                let (av, pv, nv) = (aj[i], pj[i], nj[i]);
                let (da, dp, dn) = if active {
                    (two * (nv - pv) * scale, -two * (av - pv) * scale, two * (av - nv) * scale)
                } else {
                    (T::zero(), T::zero(), T::zero())
                };
                (ga[(i, j)], gp[(i, j)], gn[(i, j)]) = (da, dp, dn);
            }
        }
        sum * scale
    }
}

/// The contrastive loss of a Siamese network (Hadsell, Chopra and LeCun, 2006), over the
/// outputs `x`, `y` of one network applied to the two sides of each pair (one column per
/// pair), with `d = ‖x − y‖`:
/// `(1/m) Σ [s d² + (1 − s) max(margin − d, 0)²]`, where `s` is 1 for a pair of the same
/// kind and 0 otherwise. Similar pairs are pulled together, dissimilar ones pushed at least
/// `margin` apart.
///
/// ```
/// use sinew::{loss::ContrastiveLoss, SMatrix};
/// let x = SMatrix::<f64, 2, 2>::new(0.0, 0.0, 0.0, 0.0);
/// let y = SMatrix::<f64, 2, 2>::new(3.0, 0.5, 4.0, 0.0); // distances 5 and 0.5
/// let (mut gx, mut gy) = (SMatrix::zeros(), SMatrix::zeros());
/// let loss = ContrastiveLoss { margin: 1.0 }.gradient(&x, &y, &[true, false], 2, &mut gx, &mut gy);
/// assert!((loss - (25.0 + 0.25) / 2.0).abs() < 1e-12);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ContrastiveLoss {
    /// How far apart a dissimilar pair must be to cost nothing.
    pub margin: f64,
}

impl ContrastiveLoss {
    /// The loss over the first `samples` pairs (`same[j]`: whether pair `j` is of one kind),
    /// and its gradients with respect to `x` and `y` written into `gx`, `gy`.
    ///
    /// # Panics
    /// If `samples` is 0 or larger than `B`.
    pub fn gradient<T: Float, const N: usize, const B: usize>(
        &self,
        x: &SMatrix<T, N, B>,
        y: &SMatrix<T, N, B>,
        same: &[bool; B],
        samples: usize,
        gx: &mut SMatrix<T, N, B>,
        gy: &mut SMatrix<T, N, B>,
    ) -> T {
        check_samples::<B>(samples);
        let (two, scale, margin) = (T::cast(2.0), T::one() / T::cast(samples as f64), T::cast(self.margin));
        let mut sum = T::zero();
        for j in 0..B {
            let diff = x.column(j) - y.column(j);
            let d = diff.norm();
            // dL/dx = k (x − y), dL/dy = −k (x − y).
            let k = if j >= samples {
                T::zero()
            } else if same[j] {
                sum += d * d;
                two * scale
            } else if d < margin {
                sum += (margin - d) * (margin - d);
                if d > T::zero() { -two * (margin - d) / d * scale } else { T::zero() }
            } else {
                T::zero()
            };
            for i in 0..N {
                gx[(i, j)] = k * diff[i];
                gy[(i, j)] = -k * diff[i];
            }
        }
        sum * scale
    }
}

/// How one part of a [`MultiPart`] output is scored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartLoss {
    /// Sigmoid and binary cross-entropy on each output, from logits: `softplus(z) − y z`;
    /// one 0-or-1 target per output (presence, multi-label tasks).
    SigmoidBce,
    /// Half squared error on each output: `½ (z − y)²`; one target per output (box
    /// coordinates, regression tasks).
    L2,
    /// Softmax cross-entropy over the part's outputs, from logits; one target, the class.
    SoftmaxCe,
}

/// One named slice of a [`MultiPart`] output.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Part {
    /// Its name, for messages and reports.
    pub name: &'static str,
    /// Its rows of the output.
    pub outputs: usize,
    /// How it is scored.
    pub loss: PartLoss,
    /// Its weight in the sum.
    pub weight: f64,
    /// Whether it counts only where its presence is 1: the target of the nearest one-output
    /// [`PartLoss::SigmoidBce`] part before it. The box and the class of a localization head
    /// mean nothing where there is no object; in a YOLO-style output, `[presence, box,
    /// classes]` repeated per cell, each cell's box and classes follow its own presence.
    pub only_if_present: bool,
}

impl Part {
    /// Its rows of the targets: one for [`PartLoss::SoftmaxCe`] (the class), one per output
    /// otherwise.
    pub fn targets(&self) -> usize {
        if self.loss == PartLoss::SoftmaxCe { 1 } else { self.outputs }
    }
}

/// A multi-part head: the output's rows are the parts one after the other, and so are the
/// targets' (see [`Part::targets`]). The loss is `(1/m) Σ_samples Σ_parts weight · loss`, where
/// a part marked [`only_if_present`](Part::only_if_present) counts only where its presence
/// target is 1: the course's localization loss (presence, then the box and class of a present
/// object), YOLO's per-cell output (those three parts for every cell), or several tasks
/// sharing lower layers.
///
/// ```
/// use sinew::{loss::{Loss, MultiPart, Part, PartLoss}, SMatrix};
/// let head = MultiPart { parts: [
///     Part { name: "presence", outputs: 1, loss: PartLoss::SigmoidBce, weight: 1.0, only_if_present: false },
///     Part { name: "box", outputs: 4, loss: PartLoss::L2, weight: 5.0, only_if_present: true },
///     Part { name: "class", outputs: 3, loss: PartLoss::SoftmaxCe, weight: 1.0, only_if_present: true },
/// ] };
/// // One sample with no object: only the presence counts.
/// let z = SMatrix::<f64, 8, 1>::zeros();
/// let y = SMatrix::<f64, 6, 1>::from_column_slice(&[0.0, 0.1, 0.1, 0.5, 0.5, 2.0]);
/// let mut g = SMatrix::<f64, 8, 1>::zeros();
/// assert!((head.gradient(&z, &y, &mut g) - 2f64.ln()).abs() < 1e-12);
/// assert_eq!(g[0], 0.5);
/// assert!(g.iter().skip(1).all(|&v| v == 0.0));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MultiPart<const P: usize> {
    /// The parts, in the order of the output's rows.
    pub parts: [Part; P],
}

impl<const P: usize> MultiPart<P> {
    /// The summed loss of the first `samples` columns and, if given, its gradient, each
    /// divided by `samples`.
    fn run<T: Float, const N: usize, const M: usize, const B: usize>(
        &self,
        output: &SMatrix<T, N, B>,
        target: &SMatrix<T, M, B>,
        samples: usize,
        mut grad: Option<&mut SMatrix<T, N, B>>,
    ) -> T {
        check_samples::<B>(samples);
        let outputs: usize = self.parts.iter().map(|p| p.outputs).sum();
        let targets: usize = self.parts.iter().map(Part::targets).sum();
        assert!(
            outputs == N && targets == M,
            "the parts take {outputs} outputs and {targets} targets, but the network has {N} outputs and the targets {M} rows"
        );
        let scale = T::one() / T::cast(samples as f64);
        let mut sum = T::zero();
        for j in 0..B {
            let (z_all, y_all) = (&output.as_slice()[j * N..][..N], &target.as_slice()[j * M..][..M]);
            let mut g_all = grad.as_deref_mut().map(|g| &mut g.as_mut_slice()[j * N..][..N]);
            // The presence of the group being read: the last one-output sigmoid part's target.
            let mut present: Option<bool> = None;
            let (mut zo, mut yo) = (0, 0);
            for part in &self.parts {
                let (z, y) = (&z_all[zo..zo + part.outputs], &y_all[yo..yo + part.targets()]);
                let mut g = g_all.as_deref_mut().map(|g| &mut g[zo..zo + part.outputs]);
                (zo, yo) = (zo + part.outputs, yo + part.targets());
                let w = T::cast(part.weight);
                assert!(
                    !part.only_if_present || present.is_some(),
                    "part `{}` counts only where an object is present, but no one-output SigmoidBce part (the presence) comes before it",
                    part.name
                );
                if part.loss == PartLoss::SigmoidBce && part.outputs == 1 {
                    present = Some(y[0] == T::one());
                }
                if j >= samples || (part.only_if_present && present != Some(true)) {
                    if let Some(g) = g {
                        g.fill(T::zero());
                    }
                    continue;
                }
                match part.loss {
                    PartLoss::SigmoidBce => {
                        for (i, (&zv, &yv)) in z.iter().zip(y).enumerate() {
                            sum += w * (softplus(zv) - yv * zv);
                            if let Some(g) = g.as_deref_mut() {
                                g[i] = w * (sigmoid(zv) - yv) * scale;
                            }
                        }
                    }
                    PartLoss::L2 => {
                        for (i, (&zv, &yv)) in z.iter().zip(y).enumerate() {
                            let e = zv - yv;
                            sum += w * T::cast(0.5) * e * e;
                            if let Some(g) = g.as_deref_mut() {
                                g[i] = w * e * scale;
                            }
                        }
                    }
                    PartLoss::SoftmaxCe => {
                        let id = y[0].as_f64();
                        let k = part.outputs;
                        assert!(
                            id >= 0.0 && id < k as f64 && (id as usize) as f64 == id,
                            "sample {j}: part `{}` has class {id}, but {k} outputs (classes 0..{k})",
                            part.name
                        );
                        let label = id as usize;
                        let (max, lse) = max_and_log_sum_exp(z);
                        sum += w * (max + lse - z[label]);
                        if let Some(g) = g {
                            softmax_grad(z, max, lse, T::one(), w * scale, g, |c| {
                                if c == label { T::one() } else { T::zero() }
                            });
                        }
                    }
                }
            }
        }
        sum * scale
    }
}

impl<T: Float, const N: usize, const M: usize, const B: usize, const P: usize> Loss<T, N, B, SMatrix<T, M, B>>
    for MultiPart<P>
{
    fn value_partial(&self, output: &SMatrix<T, N, B>, target: &SMatrix<T, M, B>, samples: usize) -> T {
        self.run(output, target, samples, None)
    }

    fn gradient_partial(
        &self,
        output: &SMatrix<T, N, B>,
        target: &SMatrix<T, M, B>,
        samples: usize,
        grad: &mut SMatrix<T, N, B>,
    ) -> T {
        self.run(output, target, samples, Some(grad))
    }
}

impl<H: head::Head> TrainsHead<H> for L2 {}
impl<H: head::Head> TrainsHead<H> for L1 {}
impl TrainsHead<head::Logits> for SoftmaxCrossEntropy {}
impl TrainsHead<head::Activated> for SoftmaxCrossEntropy {}
impl TrainsHead<head::Logits> for SigmoidBinaryCrossEntropy {}
impl TrainsHead<head::Activated> for SigmoidBinaryCrossEntropy {}
// The per-step and per-pixel cross-entropies work on logits only.
impl TrainsHead<head::Logits> for StepCrossEntropy {}
impl TrainsHead<head::Logits> for PixelCrossEntropy {}
impl<const P: usize> TrainsHead<head::Logits> for MultiPart<P> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_entropy_of_uniform_logits_is_log_n() {
        let z = SMatrix::<f64, 4, 2>::zeros();
        let v = SoftmaxCrossEntropy.value(&z, &[0, 3]);
        assert!((v - 4.0_f64.ln()).abs() < 1e-15);
    }

    #[test]
    fn class_indices_and_one_hot_agree() {
        let z = SMatrix::<f64, 3, 2>::new(0.3, -1.0, 2.0, 0.1, 0.5, -0.7);
        let mut onehot = SMatrix::<f64, 3, 2>::zeros();
        onehot[(2, 0)] = 1.0;
        onehot[(0, 1)] = 1.0;
        let (mut g1, mut g2) = (SMatrix::zeros(), SMatrix::zeros());
        let a = SoftmaxCrossEntropy.gradient(&z, &[2, 0], &mut g1);
        let b = SoftmaxCrossEntropy.gradient(&z, &onehot, &mut g2);
        assert!((a - b).abs() < 1e-15);
        assert!((g1 - g2).abs().max() < 1e-15);
        // every column of the gradient sums to zero for a one-hot target
        for c in g1.column_iter() {
            assert!(c.sum().abs() < 1e-15);
        }
    }

    #[test]
    fn huge_logits_stay_finite() {
        let z = SMatrix::<f32, 3, 1>::new(1e4, -1e4, 0.0);
        let mut g = SMatrix::zeros();
        let v = SoftmaxCrossEntropy.gradient(&z, &[1], &mut g);
        assert_eq!(v, 2e4);
        assert!(g.iter().all(|x| x.is_finite()));
        let y = SMatrix::<f32, 3, 1>::new(0.0, 1.0, 0.5);
        let v = SigmoidBinaryCrossEntropy.gradient(&z, &y, &mut g);
        assert!(v.is_finite() && (v - (1e4 + 1e4 + 2.0_f32.ln())).abs() < 1e-2);
        assert_eq!(g, SMatrix::<f32, 3, 1>::new(1.0, -1.0, 0.0));
    }

    #[test]
    fn padding_counts_in_neither_value_nor_gradient() {
        let out = SMatrix::<f64, 2, 3>::new(1.0, 2.0, 3.0, 4.0, 5.0, 6.0);
        let y = SMatrix::<f64, 2, 3>::zeros();
        let mut g = SMatrix::<f64, 2, 3>::repeat(7.0);
        // columns (1, 4) and (2, 5) are real; (3, 6) is padding.
        let v = L2.gradient_partial(&out, &y, 2, &mut g);
        assert_eq!(v, 0.5 * (1.0 + 16.0 + 4.0 + 25.0) / 2.0);
        assert_eq!(g.column(2).iter().copied().collect::<std::vec::Vec<_>>(), [0.0, 0.0]);
        assert_eq!(g[(0, 0)], 0.5);
    }

    #[test]
    #[should_panic(expected = "has class 5, but the network has 3 outputs")]
    fn out_of_range_class_panics_with_a_clear_message() {
        SoftmaxCrossEntropy.value(&SMatrix::<f32, 3, 1>::zeros(), &[5]);
    }
}
