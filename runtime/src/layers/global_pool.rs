use super::Store;
use crate::Float;
use nalgebra::SMatrix;

/// Global average pooling, as PyTorch's `AdaptiveAvgPool2d(1)` followed by `flatten(1)`: the
/// mean of each channel over all its positions, the head of ResNet and Inception.
///
/// # Shapes
/// Input `(C·S, B)` (each column one sample in NCHW order, `S = h·w` positions per
/// channel), output `(C, B)`.
///
/// # Computation
/// `y[c] = (1/S) Σ_p x[c·S + p]`; backward `dx[c·S + p] = dy[c] / S`.
///
/// ```
/// use sinew::{layers::{GlobalAvgPool, Store}, SMatrix};
///
/// // 2 channels of 2 positions, one sample
/// let x = SMatrix::<f64, 4, 1>::from_column_slice(&[1.0, 3.0, 10.0, 20.0]);
/// let mut y = SMatrix::<f64, 2, 1>::zeros();
/// GlobalAvgPool::forward(2, &x, &mut y);
/// assert_eq!(y.as_slice(), &[2.0, 15.0]);
/// let mut dx = SMatrix::<f64, 4, 1>::zeros();
/// GlobalAvgPool::backward(2, &SMatrix::<f64, 2, 1>::new(1.0, 4.0), &mut dx, Store::Overwrite);
/// assert_eq!(dx.as_slice(), &[0.5, 0.5, 2.0, 2.0]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GlobalAvgPool;

impl GlobalAvgPool {
    fn check(spatial: usize, input: usize, output: usize) {
        assert!(
            spatial > 0 && input == output * spatial,
            "global pooling of {spatial} positions cannot take {input} inputs to {output} outputs"
        );
    }

    /// `y = mean over positions`, per channel and sample.
    pub fn forward<T: Float, const IN: usize, const C: usize, const B: usize>(
        spatial: usize,
        x: &SMatrix<T, IN, B>,
        y: &mut SMatrix<T, C, B>,
    ) {
        Self::check(spatial, IN, C);
        let scale = T::one() / T::cast(spatial as f64);
        for (xs, ys) in x.as_slice().chunks_exact(IN).zip(y.as_mut_slice().chunks_exact_mut(C)) {
            for (plane, out) in xs.chunks_exact(spatial).zip(ys) {
                *out = plane.iter().copied().fold(T::zero(), |s, v| s + v) * scale;
            }
        }
    }

    /// `dL/dx`: each channel's gradient spread evenly over its positions, written or added
    /// to `input_grad` as `store` says.
    pub fn backward<T: Float, const IN: usize, const C: usize, const B: usize>(
        spatial: usize,
        grad: &SMatrix<T, C, B>,
        input_grad: &mut SMatrix<T, IN, B>,
        store: Store,
    ) {
        Self::check(spatial, IN, C);
        let scale = T::one() / T::cast(spatial as f64);
        for (gs, dx) in grad.as_slice().chunks_exact(C).zip(input_grad.as_mut_slice().chunks_exact_mut(IN)) {
            for (&g, plane) in gs.iter().zip(dx.chunks_exact_mut(spatial)) {
                let share = g * scale;
                match store {
                    Store::Overwrite => plane.fill(share),
                    Store::Add => plane.iter_mut().for_each(|v| *v += share),
                }
            }
        }
    }
}
