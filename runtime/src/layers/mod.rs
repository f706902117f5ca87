//! Layer kernels. Each is usable on its own, with its sizes as const generics; the
//! `network!` macro only wires them together.

mod dense;
mod dropout;

pub use dense::Dense;
pub use dropout::Dropout;

use crate::Float;
use bytemuck::Zeroable;
use nalgebra::SMatrix;

/// The buffers of one layer for a batch of `B` samples: its output and, during training,
/// the gradient of the loss with respect to that output.
#[derive(Clone, Debug, PartialEq, Zeroable)]
#[zeroable(bound = "T: Float")]
pub struct Buffers<T: Float, const N: usize, const B: usize> {
    /// The layer's output `a` (after its activation), `N` features by `B` samples.
    pub value: SMatrix<T, N, B>,
    /// `dL/da` on the way back, turned into `dL/dz` in place by the activation.
    pub grad: SMatrix<T, N, B>,
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
