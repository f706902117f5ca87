use super::Store;
use crate::Float;
use crate::params::{Layout, Parameters, Role, TensorInfo};
use bytemuck::Zeroable;
use nalgebra::{SMatrix, SVector};

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
#[zeroable(bound = "T: Float")]
pub struct BatchNorm<T: Float, const C: usize> {
    /// γ, the scale.
    pub weight: SVector<T, C>,
    /// β, the shift.
    pub bias: SVector<T, C>,
    /// Running mean, for inference.
    pub running_mean: SVector<T, C>,
    /// Running (unbiased) variance, for inference.
    pub running_var: SVector<T, C>,
}

/// What a training pass of [`BatchNorm`] records for backward.
#[derive(Clone, Debug, PartialEq, Zeroable)]
#[zeroable(bound = "T: Float")]
pub struct BatchNormBuffers<T: Float, const C: usize, const N: usize, const B: usize> {
    /// The normalised input `x̂`.
    pub normalized: SMatrix<T, N, B>,
    /// `1 / √(σ² + ε)` per channel.
    pub inv_std: SVector<T, C>,
}

impl<T: Float, const C: usize> BatchNorm<T, C> {
    /// PyTorch's default `eps`.
    pub const EPS: f64 = 1e-5;
    /// PyTorch's default `momentum`.
    pub const MOMENTUM: f64 = 0.1;

    /// All zero.
    pub fn zeroed() -> Self {
        Zeroable::zeroed()
    }

    /// The initial state: γ = 1, β = 0, running mean 0, running variance 1.
    pub fn init(&mut self) {
        self.weight.fill(T::one());
        self.bias.fill(T::zero());
        self.running_mean.fill(T::zero());
        self.running_var.fill(T::one());
    }

    fn check(spatial: usize, rows: usize) {
        assert!(
            rows == C * spatial,
            "BatchNorm over {C} channels of {spatial} values cannot take {rows} rows"
        );
    }

    /// Inference: normalises with the running statistics.
    pub fn forward<const N: usize, const B: usize>(
        &self,
        spatial: usize,
        eps: f64,
        x: &SMatrix<T, N, B>,
        y: &mut SMatrix<T, N, B>,
    ) {
        Self::check(spatial, N);
        let eps = T::cast(eps);
        for (xs, ys) in x.as_slice().chunks_exact(N).zip(y.as_mut_slice().chunks_exact_mut(N)) {
            for c in 0..C {
                let scale = self.weight[c] / (self.running_var[c] + eps).sqrt();
                let shift = self.bias[c] - self.running_mean[c] * scale;
                for (yv, &xv) in
                    ys[c * spatial..(c + 1) * spatial].iter_mut().zip(&xs[c * spatial..(c + 1) * spatial])
                {
                    *yv = xv * scale + shift;
                }
            }
        }
    }

    /// Training: normalises with the statistics of the first `samples` columns, updates the
    /// running statistics, and records `x̂` and `1/σ̂` for backward.
    #[allow(clippy::too_many_arguments)]
    pub fn forward_train<const N: usize, const B: usize>(
        &mut self,
        spatial: usize,
        eps: f64,
        momentum: f64,
        samples: usize,
        x: &SMatrix<T, N, B>,
        y: &mut SMatrix<T, N, B>,
        buffers: &mut BatchNormBuffers<T, C, N, B>,
    ) {
        Self::check(spatial, N);
        assert!(samples >= 1 && samples <= B, "{samples} samples in a batch of {B}");
        let n = (samples * spatial) as f64;
        let (eps, m) = (T::cast(eps), T::cast(momentum));
        for c in 0..C {
            let values = || {
                x.as_slice().chunks_exact(N).take(samples).flat_map(|s| &s[c * spatial..(c + 1) * spatial])
            };
            let mean = values().fold(0.0, |s, v| s + v.as_f64()) / n;
            let var = values().fold(0.0, |s, v| s + (v.as_f64() - mean) * (v.as_f64() - mean)) / n;
            let inv_std = T::one() / (T::cast(var) + eps).sqrt();
            buffers.inv_std[c] = inv_std;
            let mean_t = T::cast(mean);
            let unbiased = if n > 1.0 { var * n / (n - 1.0) } else { var };
            self.running_mean[c] = (T::one() - m) * self.running_mean[c] + m * mean_t;
            self.running_var[c] = (T::one() - m) * self.running_var[c] + m * T::cast(unbiased);
            let (gamma, beta) = (self.weight[c], self.bias[c]);
            let columns = x.as_slice().chunks_exact(N).zip(y.as_mut_slice().chunks_exact_mut(N));
            for ((xs, ys), hs) in columns.zip(buffers.normalized.as_mut_slice().chunks_exact_mut(N)) {
                let range = c * spatial..(c + 1) * spatial;
                for ((yv, hv), &xv) in
                    ys[range.clone()].iter_mut().zip(&mut hs[range.clone()]).zip(&xs[range])
                {
                    *hv = (xv - mean_t) * inv_std;
                    *yv = gamma * *hv + beta;
                }
            }
        }
    }

    /// Parameter gradients into `grads` (unless the layer is frozen: `None`) and, if asked,
    /// `dL/dx` into `input_grad`, written or added as its [`Store`] says (zero in the
    /// padding columns, which took no part in the statistics).
    pub fn backward<const N: usize, const B: usize>(
        &self,
        spatial: usize,
        samples: usize,
        grad: &SMatrix<T, N, B>,
        buffers: &BatchNormBuffers<T, C, N, B>,
        mut input_grad: Option<(&mut SMatrix<T, N, B>, Store)>,
        mut grads: Option<&mut Self>,
    ) {
        Self::check(spatial, N);
        let n = T::cast((samples * spatial) as f64);
        if let Some(grads) = grads.as_deref_mut() {
            grads.running_mean.fill(T::zero());
            grads.running_var.fill(T::zero());
        }
        for c in 0..C {
            let range = c * spatial..(c + 1) * spatial;
            let (mut sum_dy, mut sum_dy_xhat) = (T::zero(), T::zero());
            let columns = grad.as_slice().chunks_exact(N).zip(buffers.normalized.as_slice().chunks_exact(N));
            for (gs, hs) in columns.take(samples) {
                for (&g, &h) in gs[range.clone()].iter().zip(&hs[range.clone()]) {
                    sum_dy += g;
                    sum_dy_xhat += g * h;
                }
            }
            if let Some(grads) = grads.as_deref_mut() {
                grads.weight[c] = sum_dy_xhat;
                grads.bias[c] = sum_dy;
            }
            let Some((input_grad, store)) = input_grad.as_mut() else { continue };
            let store = *store;
            let k = self.weight[c] * buffers.inv_std[c] / n;
            let columns = grad.as_slice().chunks_exact(N).zip(buffers.normalized.as_slice().chunks_exact(N));
            for (j, ((gs, hs), dx)) in columns.zip(input_grad.as_mut_slice().chunks_exact_mut(N)).enumerate()
            {
                for ((d, &g), &h) in
                    dx[range.clone()].iter_mut().zip(&gs[range.clone()]).zip(&hs[range.clone()])
                {
                    let v = if j < samples { k * (n * g - sum_dy - h * sum_dy_xhat) } else { T::zero() };
                    match store {
                        Store::Overwrite => *d = v,
                        Store::Add => *d += v,
                    }
                }
            }
        }
    }
}

impl<T: Float, const C: usize> Parameters<T> for BatchNorm<T, C> {
    const TENSORS: &'static [TensorInfo] = &[
        TensorInfo { name: "weight", shape: &[C], role: Role::Bias, layout: Layout::RowMajor },
        TensorInfo { name: "bias", shape: &[C], role: Role::Bias, layout: Layout::RowMajor },
        TensorInfo { name: "running_mean", shape: &[C], role: Role::Buffer, layout: Layout::RowMajor },
        TensorInfo { name: "running_var", shape: &[C], role: Role::Buffer, layout: Layout::RowMajor },
    ];

    fn tensor(&self, index: usize) -> &[T] {
        match index {
            0 => self.weight.as_slice(),
            1 => self.bias.as_slice(),
            2 => self.running_mean.as_slice(),
            3 => self.running_var.as_slice(),
            _ => panic!("`BatchNorm` has 4 tensors, not {}", index + 1),
        }
    }

    fn tensor_mut(&mut self, index: usize) -> &mut [T] {
        match index {
            0 => self.weight.as_mut_slice(),
            1 => self.bias.as_mut_slice(),
            2 => self.running_mean.as_mut_slice(),
            3 => self.running_var.as_mut_slice(),
            _ => panic!("`BatchNorm` has 4 tensors, not {}", index + 1),
        }
    }
}

/// Trained as a whole: its gradients have its own type.
impl<T: Float, const C: usize> crate::params::Trainable<T> for BatchNorm<T, C> {
    type Grads = Self;
    fn trainable_mut(&mut self, index: usize) -> &mut [T] {
        self.tensor_mut(index)
    }
}

/// The training buffers of a [`BatchNorm`]: output, gradient and the statistics of the
/// batch.
#[derive(Clone, Debug, PartialEq, Zeroable)]
#[zeroable(bound = "T: Float")]
pub struct BatchNormTraining<T: Float, const C: usize, const N: usize, const B: usize> {
    /// The layer's output.
    pub value: SMatrix<T, N, B>,
    /// The gradient with respect to the output.
    pub grad: SMatrix<T, N, B>,
    /// `x̂` and `1/σ̂` of the last training pass.
    pub stats: BatchNormBuffers<T, C, N, B>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn training_normalises_and_updates_running_statistics() {
        // 2 channels of 2 values, 3 samples, the last one padding
        let mut bn = BatchNorm::<f64, 2>::zeroed();
        bn.init();
        let x = SMatrix::<f64, 4, 3>::from_column_slice(&[
            1.0, 3.0, 10.0, 10.0, 5.0, 7.0, 20.0, 30.0, 99.0, 99.0, 99.0, 99.0,
        ]);
        let mut y = SMatrix::zeros();
        let mut buf = BatchNormBuffers::<f64, 2, 4, 3>::zeroed();
        bn.forward_train(2, 0.0, 0.1, 2, &x, &mut y, &mut buf);
        // channel 0: 1, 3, 5, 7 -> mean 4, var 5
        let s = 5.0_f64.sqrt();
        assert!((y[(0, 0)] + 3.0 / s).abs() < 1e-12 && (y[(1, 1)] - 3.0 / s).abs() < 1e-12);
        assert!((bn.running_mean[0] - 0.4).abs() < 1e-12);
        assert!((bn.running_var[0] - (0.9 + 0.1 * 5.0 * 4.0 / 3.0)).abs() < 1e-12);
        // channel 1: 10, 10, 20, 30 -> mean 17.5
        assert!((bn.running_mean[1] - 1.75).abs() < 1e-12);
    }
}
