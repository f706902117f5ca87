//! Layer kernels. Each is usable on its own, with its sizes as const generics; the
//! `network!` macro only wires them together.

/// `Parameters` with the tensors `weight` and `bias` (PyTorch's names), and `Trainable`
/// with gradients of the layer's own type, for a layer struct with those two fields.
macro_rules! weight_and_bias {
    ([$($generics:tt)*] $ty:ty, $name:literal, weight: $shape:expr, $layout:expr, bias: $bias:expr) => {
        impl<$($generics)*> $crate::params::Parameters<T> for $ty {
            const TENSORS: &'static [$crate::params::TensorInfo] = &[
                $crate::params::TensorInfo {
                    name: "weight",
                    shape: $shape,
                    role: $crate::params::Role::Weight,
                    layout: $layout,
                },
                $crate::params::TensorInfo {
                    name: "bias",
                    shape: $bias,
                    role: $crate::params::Role::Bias,
                    layout: $crate::params::Layout::RowMajor,
                },
            ];

            fn tensor(&self, index: usize) -> &[T] {
                match index {
                    0 => self.weight.as_slice(),
                    1 => self.bias.as_slice(),
                    _ => panic!(concat!("`", $name, "` has 2 tensors, not {}"), index + 1),
                }
            }

            fn tensor_mut(&mut self, index: usize) -> &mut [T] {
                match index {
                    0 => self.weight.as_mut_slice(),
                    1 => self.bias.as_mut_slice(),
                    _ => panic!(concat!("`", $name, "` has 2 tensors, not {}"), index + 1),
                }
            }
        }

        /// Trained as a whole: its gradients have its own type.
        impl<$($generics)*> $crate::params::Trainable<T> for $ty {
            type Grads = Self;
            fn trainable_mut(&mut self, index: usize) -> &mut [T] {
                $crate::params::Parameters::tensor_mut(self, index)
            }
        }
    };
}

mod batchnorm;
mod conv;
mod dense;
mod dropout;
mod global_pool;
mod merge;
mod pool;

pub use batchnorm::{BatchNorm, BatchNormBuffers, BatchNormTraining};
pub use conv::{
    Conv2d, Conv2dBuffers, ConvScratch, ConvTranspose2d, ConvTransposeBuffers, Geometry, col2im,
    conv_output_size, conv_transpose_output_size, im2col,
};
pub use dense::Dense;
pub use dropout::{Dropout, DropoutBuffers};
pub use global_pool::GlobalAvgPool;
pub use merge::{Add, Concat};
pub use pool::{AvgPool2d, MaxPool2d, MaxPoolBuffers};

/// How a backward pass stores an input gradient. A value that several layers read (a
/// residual connection's input, an Inception module's input) gets the sum of their
/// gradients: the generated backward pass lets the first of them (in backward order)
/// overwrite the buffer and the others add to it, so no gradient is copied twice and no
/// buffer needs zeroing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Store {
    /// `dx = ∂L/∂x` through this layer.
    Overwrite,
    /// `dx += ∂L/∂x` through this layer.
    Add,
}

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
