use super::Store;
use crate::Float;
use bytemuck::Zeroable;
use nalgebra::SMatrix;
use rand_core::Rng;

/// Inverted dropout: during training each unit is kept with probability `keep` and
/// scaled by `1 / keep`, so that the expected activation is unchanged; at inference the
/// layer is the identity.
///
/// `keep` is the probability of *keeping* a unit (PyTorch's `p` is `1 - keep`); the macro
/// checks that it lies in `(0, 1]`.
///
/// # Shapes
/// Input, output and mask: `(N, B)`.
///
/// ```
/// use sinew::{layers::Dropout, rng, SMatrix};
/// let x = SMatrix::<f32, 1000, 1>::repeat(1.0);
/// let (mut mask, mut y) = (SMatrix::zeros(), SMatrix::zeros());
/// Dropout { keep: 0.8 }.forward_train(&x, &mut mask, &mut y, &mut rng(3));
/// let kept = y.iter().filter(|&&v| v != 0.0).count();
/// assert!((750..850).contains(&kept));
/// assert!(y.iter().all(|&v| v == 0.0 || v == 1.25));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dropout {
    /// Probability of keeping a unit, in `(0, 1]`.
    pub keep: f64,
}

impl Dropout {
    /// Draws a fresh mask and applies it: `y = x ⊙ mask`, with `mask ∈ {0, 1/keep}`.
    pub fn forward_train<T: Float, R: Rng + ?Sized, const N: usize, const B: usize>(
        &self,
        x: &SMatrix<T, N, B>,
        mask: &mut SMatrix<T, N, B>,
        y: &mut SMatrix<T, N, B>,
        rng: &mut R,
    ) {
        // P(u < threshold) = keep for u uniform on [0, 2^32).
        let threshold = (self.keep * 4_294_967_296.0) as u64;
        let scale = T::one() / T::cast(self.keep);
        for m in mask.iter_mut() {
            *m = if u64::from(rng.next_u32()) < threshold { scale } else { T::zero() };
        }
        y.copy_from(x);
        y.component_mul_assign(mask);
    }

    /// `dL/dx = dL/dy ⊙ mask`, written or added to `input_grad` as `store` says.
    pub fn backward<T: Float, const N: usize, const B: usize>(
        mask: &SMatrix<T, N, B>,
        grad: &SMatrix<T, N, B>,
        input_grad: &mut SMatrix<T, N, B>,
        store: Store,
    ) {
        let pairs = input_grad.iter_mut().zip(grad.iter().zip(mask.iter()));
        match store {
            Store::Overwrite => pairs.for_each(|(d, (&g, &m))| *d = g * m),
            Store::Add => pairs.for_each(|(d, (&g, &m))| *d += g * m),
        }
    }
}

/// The buffers of a dropout layer: output, gradient and the mask of the last training pass.
#[derive(Clone, Debug, PartialEq, Zeroable)]
#[zeroable(bound = "T: Float")]
pub struct DropoutBuffers<T: Float, const N: usize, const B: usize> {
    /// The layer's output.
    pub value: SMatrix<T, N, B>,
    /// The gradient with respect to the output.
    pub grad: SMatrix<T, N, B>,
    /// `1 / keep` where a unit was kept, 0 where it was dropped.
    pub mask: SMatrix<T, N, B>,
}
