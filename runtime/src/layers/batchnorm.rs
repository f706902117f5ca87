use super::{Element, Layer, Shape, Store, Value, Values, samples};
use crate::Float;
use crate::params::{Layout, Parameters, Role, TensorInfo};
use bytemuck::Zeroable;
use rand_core::Rng;

/// Batch normalisation over `C` features or channels, as PyTorch's `BatchNorm1d` (after a
/// dense layer: `spatial = 1`) and `BatchNorm2d` (after a convolution: `spatial = h·w`
/// values per channel).
///
/// Training: every value is normalised with the mean and (biased) variance of its channel
/// over the real samples of the batch, `x̂ = (x − μ) / √(σ² + ε)`, then `y = γ x̂ + β`; the
/// running statistics move by `momentum` towards the batch's (the variance unbiased, as
/// PyTorch does). Inference uses the running statistics.
///
/// Backward, with `n` values per channel: `dx = γ/(n σ̂) (n dy − Σ dy − x̂ Σ dy x̂)`,
/// `dγ = Σ dy x̂`, `dβ = Σ dy`.
///
/// # Shapes
/// `weight` (γ), `bias` (β), `running_mean`, `running_var`: `(C)`; input and output
/// `(C·spatial, B)`.
#[derive(Clone, Debug, PartialEq, Zeroable)]
#[zeroable(bound = "T: Float, S: BatchNormShape")]
pub struct BatchNorm<T: Float, S: BatchNormShape> {
    /// γ, the scale.
    pub weight: S::Channels<T>,
    /// β, the shift.
    pub bias: S::Channels<T>,
    /// Running mean, for inference.
    pub running_mean: S::Channels<T>,
    /// Running (unbiased) variance, for inference.
    pub running_var: S::Channels<T>,
}

/// The shape and settings of a [`BatchNorm`]: `CHANNELS` channels of `SPATIAL` values
/// (`IN = OUT = CHANNELS · SPATIAL`), PyTorch's `eps` and `momentum`. `network!` writes one
/// per layer.
pub trait BatchNormShape: Shape {
    /// Channels (features after a dense layer).
    const CHANNELS: usize;
    /// Values per channel and sample: `h·w` after a convolution, 1 after a dense layer.
    const SPATIAL: usize;
    /// Added to the variance: PyTorch's default is `1e-5`.
    const EPS: f64;
    /// How far the running statistics move towards each batch's: PyTorch's default is 0.1.
    const MOMENTUM: f64;
    /// One value per channel, `(CHANNELS, 1)`.
    type Channels<E: Element>: Values<E>;
}

/// Checks, once per shape type, that its sizes agree.
const fn check_shape<S: BatchNormShape>() {
    assert!(
        S::IN == S::CHANNELS * S::SPATIAL
            && S::OUT == S::IN
            && size_of::<S::Channels<u8>>() == S::CHANNELS
            && S::SPATIAL > 0,
        "BatchNormShape: sizes disagree"
    );
}

impl<T: Float, S: BatchNormShape> BatchNorm<T, S> {
    /// All zero.
    pub fn zeroed() -> Self {
        Zeroable::zeroed()
    }

    /// The initial state: γ = 1, β = 0, running mean 0, running variance 1.
    pub fn init(&mut self) {
        self.weight.values_mut().fill(T::one());
        self.bias.values_mut().fill(T::zero());
        self.running_mean.values_mut().fill(T::zero());
        self.running_var.values_mut().fill(T::one());
    }
}

impl<T: Float, S: BatchNormShape, const B: usize> Layer<T, B> for BatchNorm<T, S> {
    type Input = S::Input<T, B>;
    type Output = S::Input<T, B>;
    type Inference = Value<S::Input<T, B>>;
    type Training = BatchNormTraining<S::Input<T, B>, S::Channels<T>>;

    /// Normalises with the running statistics.
    fn forward(&self, x: &Self::Input, ws: &mut Self::Inference) {
        const { check_shape::<S>() };
        let (n, spatial) = (S::IN, S::SPATIAL);
        let eps = T::cast(S::EPS);
        let (weight, bias) = (self.weight.values(), self.bias.values());
        let (mean, var) = (self.running_mean.values(), self.running_var.values());
        for (xs, ys) in samples(x.values(), n, ws.value.values_mut(), n) {
            for c in 0..S::CHANNELS {
                let scale = weight[c] / (var[c] + eps).sqrt();
                let shift = bias[c] - mean[c] * scale;
                let range = c * spatial..(c + 1) * spatial;
                for (yv, &xv) in ys[range.clone()].iter_mut().zip(&xs[range]) {
                    *yv = xv * scale + shift;
                }
            }
        }
    }

    /// Normalises with the statistics of the first `samples` columns, updates the running
    /// statistics, and records `x̂` and `1/σ̂` for backward.
    fn forward_train<R: Rng + ?Sized>(
        &mut self,
        x: &Self::Input,
        tw: &mut Self::Training,
        samples: usize,
        _: &mut R,
    ) {
        const { check_shape::<S>() };
        let (n_rows, spatial) = (S::IN, S::SPATIAL);
        assert!(samples >= 1 && samples <= B, "{samples} samples in a batch of {B}");
        let n = (samples * spatial) as f64;
        let (eps, m) = (T::cast(S::EPS), T::cast(S::MOMENTUM));
        let x = x.values();
        for c in 0..S::CHANNELS {
            let range = c * spatial..(c + 1) * spatial;
            let values = || x.chunks_exact(n_rows).take(samples).flat_map(|s| &s[range.clone()]);
            let mean = values().fold(0.0, |s, v| s + v.as_f64()) / n;
            let var = values().fold(0.0, |s, v| s + (v.as_f64() - mean) * (v.as_f64() - mean)) / n;
            let inv_std = T::one() / (T::cast(var) + eps).sqrt();
            tw.inv_std.values_mut()[c] = inv_std;
            let mean_t = T::cast(mean);
            let unbiased = if n > 1.0 { var * n / (n - 1.0) } else { var };
            let running_mean = &mut self.running_mean.values_mut()[c];
            *running_mean = (T::one() - m) * *running_mean + m * mean_t;
            let running_var = &mut self.running_var.values_mut()[c];
            *running_var = (T::one() - m) * *running_var + m * T::cast(unbiased);
            let (gamma, beta) = (self.weight.values()[c], self.bias.values()[c]);
            let columns = x.chunks_exact(n_rows).zip(tw.value.values_mut().chunks_exact_mut(n_rows));
            for ((xs, ys), hs) in columns.zip(tw.normalized.values_mut().chunks_exact_mut(n_rows)) {
                for ((yv, hv), &xv) in
                    ys[range.clone()].iter_mut().zip(&mut hs[range.clone()]).zip(&xs[range.clone()])
                {
                    *hv = (xv - mean_t) * inv_std;
                    *yv = gamma * *hv + beta;
                }
            }
        }
    }

    /// `dγ = Σ dy x̂`, `dβ = Σ dy` into `grads`, and
    /// `dx = γ/(n σ̂) (n dy − Σ dy − x̂ Σ dy x̂)` (zero in the padding columns, which took
    /// no part in the statistics).
    fn backward(
        &self,
        _: &Self::Input,
        tw: &mut Self::Training,
        mut grads: Option<&mut Self>,
        mut dx: Option<(&mut Self::Input, Store)>,
        samples: usize,
    ) {
        let (n_rows, spatial) = (S::IN, S::SPATIAL);
        let n = T::cast((samples * spatial) as f64);
        if let Some(grads) = grads.as_deref_mut() {
            grads.running_mean.values_mut().fill(T::zero());
            grads.running_var.values_mut().fill(T::zero());
        }
        let (grad, normalized) = (tw.grad.values(), tw.normalized.values());
        for c in 0..S::CHANNELS {
            let range = c * spatial..(c + 1) * spatial;
            let (mut sum_dy, mut sum_dy_xhat) = (T::zero(), T::zero());
            let columns = grad.chunks_exact(n_rows).zip(normalized.chunks_exact(n_rows));
            for (gs, hs) in columns.take(samples) {
                for (&g, &h) in gs[range.clone()].iter().zip(&hs[range.clone()]) {
                    sum_dy += g;
                    sum_dy_xhat += g * h;
                }
            }
            if let Some(grads) = grads.as_deref_mut() {
                grads.weight.values_mut()[c] = sum_dy_xhat;
                grads.bias.values_mut()[c] = sum_dy;
            }
            let Some((dx, store)) = dx.as_mut() else { continue };
            let store = *store;
            let k = self.weight.values()[c] * tw.inv_std.values()[c] / n;
            let columns = grad.chunks_exact(n_rows).zip(normalized.chunks_exact(n_rows));
            for (j, ((gs, hs), d)) in columns.zip(dx.values_mut().chunks_exact_mut(n_rows)).enumerate() {
                for ((d, &g), &h) in
                    d[range.clone()].iter_mut().zip(&gs[range.clone()]).zip(&hs[range.clone()])
                {
                    let v = if j < samples { k * (n * g - sum_dy - h * sum_dy_xhat) } else { T::zero() };
                    store.put(d, v);
                }
            }
        }
    }
}

impl<T: Float, S: BatchNormShape> Parameters<T> for BatchNorm<T, S> {
    const TENSORS: &'static [TensorInfo] = &[
        TensorInfo { name: "weight", shape: &[S::CHANNELS], role: Role::Bias, layout: Layout::RowMajor },
        TensorInfo { name: "bias", shape: &[S::CHANNELS], role: Role::Bias, layout: Layout::RowMajor },
        TensorInfo {
            name: "running_mean",
            shape: &[S::CHANNELS],
            role: Role::Buffer,
            layout: Layout::RowMajor,
        },
        TensorInfo {
            name: "running_var",
            shape: &[S::CHANNELS],
            role: Role::Buffer,
            layout: Layout::RowMajor,
        },
    ];

    fn tensor(&self, index: usize) -> &[T] {
        match index {
            0 => self.weight.values(),
            1 => self.bias.values(),
            2 => self.running_mean.values(),
            3 => self.running_var.values(),
            _ => panic!("`BatchNorm` has 4 tensors, not {}", index + 1),
        }
    }

    fn tensor_mut(&mut self, index: usize) -> &mut [T] {
        match index {
            0 => self.weight.values_mut(),
            1 => self.bias.values_mut(),
            2 => self.running_mean.values_mut(),
            3 => self.running_var.values_mut(),
            _ => panic!("`BatchNorm` has 4 tensors, not {}", index + 1),
        }
    }
}

/// Trained as a whole: its gradients have its own type.
impl<T: Float, S: BatchNormShape> crate::params::Trainable<T> for BatchNorm<T, S> {
    type Grads = Self;
    fn trainable_mut(&mut self, index: usize) -> &mut [T] {
        self.tensor_mut(index)
    }
}

/// The training buffers of a [`BatchNorm`]: output, gradient and normalised input `Y`,
/// and `1/σ̂` per channel `C`, of the last training pass.
#[derive(Clone, Debug, PartialEq, Zeroable)]
#[zeroable(bound = "Y: Zeroable, C: Zeroable")]
pub struct BatchNormTraining<Y, C> {
    /// The layer's output.
    pub value: Y,
    /// The gradient with respect to the output.
    pub grad: Y,
    /// The normalised input `x̂`.
    pub normalized: Y,
    /// `1 / √(σ² + ε)` per channel.
    pub inv_std: C,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::Training;
    use nalgebra::SMatrix;

    /// 2 channels of 2 values.
    #[derive(Clone, Copy, Debug, Default, PartialEq)]
    struct Two;
    impl Shape for Two {
        const IN: usize = 4;
        const OUT: usize = 4;
        type Input<E: Element, const B: usize> = SMatrix<E, 4, B>;
        type Output<E: Element, const B: usize> = SMatrix<E, 4, B>;
    }
    impl BatchNormShape for Two {
        const CHANNELS: usize = 2;
        const SPATIAL: usize = 2;
        const EPS: f64 = 0.0;
        const MOMENTUM: f64 = 0.1;
        type Channels<E: Element> = SMatrix<E, 2, 1>;
    }

    #[test]
    fn training_normalises_and_updates_running_statistics() {
        // 2 channels of 2 values, 3 samples, the last one padding
        let mut bn = BatchNorm::<f64, Two>::zeroed();
        bn.init();
        let x = SMatrix::<f64, 4, 3>::from_column_slice(&[
            1.0, 3.0, 10.0, 10.0, 5.0, 7.0, 20.0, 30.0, 99.0, 99.0, 99.0, 99.0,
        ]);
        let mut tw = Training::<f64, BatchNorm<f64, Two>, 3>::zeroed();
        Layer::<f64, 3>::forward_train(&mut bn, &x, &mut tw, 2, &mut crate::rng(0));
        let y = tw.value;
        // channel 0: 1, 3, 5, 7 -> mean 4, var 5
        let s = 5.0_f64.sqrt();
        assert!((y[(0, 0)] + 3.0 / s).abs() < 1e-12 && (y[(1, 1)] - 3.0 / s).abs() < 1e-12);
        assert!((bn.running_mean[0] - 0.4).abs() < 1e-12);
        assert!((bn.running_var[0] - (0.9 + 0.1 * 5.0 * 4.0 / 3.0)).abs() < 1e-12);
        // channel 1: 10, 10, 20, 30 -> mean 17.5
        assert!((bn.running_mean[1] - 1.75).abs() < 1e-12);
    }
}
