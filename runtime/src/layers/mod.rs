//! Layers: one file per kind, each implementing [`Layer`] (or [`Join`]) with its
//! parameters, buffers and kernels. Each is usable on its own; the `network!` macro writes
//! their shape types and wires them together with one statement per layer.

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
                    0 => $crate::layers::Values::values(&self.weight),
                    1 => $crate::layers::Values::values(&self.bias),
                    _ => panic!(concat!("`", $name, "` has 2 tensors, not {}"), index + 1),
                }
            }

            fn tensor_mut(&mut self, index: usize) -> &mut [T] {
                match index {
                    0 => $crate::layers::Values::values_mut(&mut self.weight),
                    1 => $crate::layers::Values::values_mut(&mut self.bias),
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
mod embedding;
mod global_pool;
mod merge;
mod pool;
mod recurrent;

pub use batchnorm::{BatchNorm, BatchNormShape, BatchNormTraining};
pub use conv::{
    Conv2d, Conv2dBuffers, ConvInference, ConvShape, ConvTranspose2d, ConvTransposeBuffers, Geometry, col2im,
    conv_output_size, conv_transpose_output_size, im2col,
};
pub use dense::{Dense, DenseSteps, DenseStepsShape};
pub use dropout::{Dropout, DropoutBuffers, DropoutShape};
pub use embedding::{Embedding, EmbeddingShape};
pub use global_pool::GlobalAvgPool;
pub use merge::{Add, Concat, Join, JoinShape};
pub use pool::{AvgPool2d, MaxPool2d, MaxPoolBuffers, WindowShape};
pub use recurrent::{
    Cell, Recurrent, RecurrentBuffers, RecurrentInference, RecurrentShape, RecurrentTraining,
};

use crate::Float;
use bytemuck::Zeroable;
use core::fmt::Debug;
use nalgebra::SMatrix;
use rand_core::Rng;

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

impl Store {
    /// `*d = v` or `*d += v`.
    #[inline(always)]
    pub fn put<T: Float>(self, d: &mut T, v: T) {
        match self {
            Store::Overwrite => *d = v,
            Store::Add => *d += v,
        }
    }
}

/// One layer: what it reads and writes for a batch of `B` samples, the buffers it needs,
/// and its three passes. Every layer kind implements it (the layers that join several
/// values implement [`Join`] instead), so `network!` emits the same statement for each:
///
/// ```text
/// Layer::<T, B>::forward(&self.c1, x, &mut ws.c1);
/// Layer::<T, B>::forward(&self.c2, &ws.c1.value, &mut ws.c2);
/// Layer::<T, B>::forward_train(&mut self.c2, &tw.c1.value, &mut tw.c2, samples, rng);
/// Layer::<T, B>::backward(&self.c2, &tw.c1.value, &mut tw.c2, Some(&mut tw.grads.c2),
///     Some((&mut tw.c1.grad, Store::Overwrite)), tw.samples as usize);
/// ```
///
/// A layer's settings (its window, `eps`, `keep`) are constants of its type: of its const
/// generics (`Dense<T, 784, 128>`), or of a *shape type* that `network!` writes for the
/// layer ([`ConvShape`], [`WindowShape`], [`BatchNormShape`], [`DropoutShape`], [`Shape`]).
/// Its buffers are plain structs of matrices, so their sizes are `size_of` of the types.
///
/// # Buffers
/// Every inference buffer has a `value` field (the layer's output, of type
/// [`Layer::Output`]), every training buffer a `value` and a `grad` (`dL/d value`, turned
/// into `dL/dz` in place by the activation that follows the layer); the generated code
/// reads them by name.
pub trait Layer<T: Float, const B: usize> {
    /// The batch read, `(inputs, B)`.
    type Input;
    /// The batch written, `(outputs, B)`.
    type Output;
    /// Buffers for inference: the output and any scratch.
    type Inference: Zeroable;
    /// Buffers for training: the output, its gradient, and what backward needs.
    type Training: Zeroable;

    /// Inference: `ws.value = f(x)` (batch norm with its running statistics; dropout is
    /// the identity and has no inference pass).
    fn forward(&self, x: &Self::Input, ws: &mut Self::Inference);

    /// Training forward on the first `samples` columns of `x` (the rest is padding):
    /// `tw.value = f(x)`, recording what backward needs. Batch norm updates its running
    /// statistics, dropout draws its mask from `rng`.
    fn forward_train<R: Rng + ?Sized>(
        &mut self,
        x: &Self::Input,
        tw: &mut Self::Training,
        samples: usize,
        rng: &mut R,
    );

    /// Backward from `tw.grad = dL/dz`: the parameter gradients into `grads` (`None` for a
    /// frozen layer or one without parameters), and `dL/dx` into `dx`, written or added as
    /// its [`Store`] says (`None` when no one needs it). `x` is the input of the training
    /// pass.
    fn backward(
        &self,
        x: &Self::Input,
        tw: &mut Self::Training,
        grads: Option<&mut Self>,
        dx: Option<(&mut Self::Input, Store)>,
        samples: usize,
    );
}

/// The inference buffers of layer `L` on batches of `B`: `Inference<T, Dense<T, 4, 2>, 32>`.
pub type Inference<T, L, const B: usize> = <L as Layer<T, B>>::Inference;

/// The training buffers of layer `L` on batches of `B`.
pub type Training<T, L, const B: usize> = <L as Layer<T, B>>::Training;

/// The element types a buffer may hold: the [`Float`]s, and `u32` for max pooling's
/// positions.
pub trait Element: nalgebra::Scalar + Copy + Zeroable {}
impl<E: nalgebra::Scalar + Copy + Zeroable> Element for E {}

/// A fixed number of values in one contiguous block: the storage a shape type names.
/// Implemented by every `SMatrix`.
pub trait Values<E>: Zeroable + Clone + Debug + PartialEq {
    /// All values, column by column.
    fn values(&self) -> &[E];
    /// All values, column by column.
    fn values_mut(&mut self) -> &mut [E];
}

impl<E: Element, const R: usize, const C: usize> Values<E> for SMatrix<E, R, C> {
    #[inline(always)]
    fn values(&self) -> &[E] {
        self.as_slice()
    }
    #[inline(always)]
    fn values_mut(&mut self) -> &mut [E] {
        self.as_mut_slice()
    }
}

/// The sizes of a layer whose input and output are batches of `IN` and `OUT` values per
/// sample, as a type: `network!` writes one for each layer that needs one, a zero-sized
/// struct named after the network and the layer (`LeNet_c1`), with its sizes as literals
/// that the macro checked:
///
/// ```
/// use sinew::{layers::{Element, Shape}, SMatrix};
///
/// /// 6 × 28 × 28 values in and out.
/// #[derive(Clone, Copy, Debug, Default, PartialEq)]
/// struct Maps;
/// impl Shape for Maps {
///     const IN: usize = 4704;
///     const OUT: usize = 4704;
///     type Input<E: Element, const B: usize> = SMatrix<E, 4704, B>;
///     type Output<E: Element, const B: usize> = SMatrix<E, 4704, B>;
/// }
/// ```
///
/// (Stable Rust cannot compute an array size from a constant of a generic type, so the
/// sizes that follow from the settings, such as a convolution's output, are written by the
/// macro rather than derived in the runtime.)
pub trait Shape: Copy + Default + Debug + PartialEq + 'static {
    /// Values per sample in.
    const IN: usize;
    /// Values per sample out.
    const OUT: usize;
    /// `(IN, B)`.
    type Input<E: Element, const B: usize>: Values<E>;
    /// `(OUT, B)`.
    type Output<E: Element, const B: usize>: Values<E>;
}

/// The inference buffer of a layer with no scratch: its output.
#[derive(Clone, Debug, PartialEq, Zeroable)]
#[zeroable(bound = "Y: Zeroable")]
pub struct Value<Y> {
    /// The layer's output `a` (after its activation).
    pub value: Y,
}

/// The training buffers of a layer that keeps nothing else for backward: its output and
/// the gradient of the loss with respect to it.
#[derive(Clone, Debug, PartialEq, Zeroable)]
#[zeroable(bound = "Y: Zeroable")]
pub struct Buffers<Y> {
    /// The layer's output `a` (after its activation).
    pub value: Y,
    /// `dL/da` on the way back, turned into `dL/dz` in place by the activation.
    pub grad: Y,
}

/// Pairs of per-sample slices of a batch: `chunks_exact` of both, `n` and `m` values wide.
#[inline(always)]
fn samples<'a, E, F>(
    x: &'a [E],
    n: usize,
    y: &'a mut [F],
    m: usize,
) -> core::iter::Zip<core::slice::ChunksExact<'a, E>, core::slice::ChunksExactMut<'a, F>> {
    x.chunks_exact(n).zip(y.chunks_exact_mut(m))
}

/// `Σ v`, in eight interleaved partial sums (so that the additions do not wait for each
/// other and vectorise), added pairwise at the end.
#[inline]
fn sum<T: Float>(values: &[T]) -> T {
    let mut partial = [T::zero(); 8];
    let mut blocks = values.chunks_exact(8);
    for block in &mut blocks {
        for (p, &v) in partial.iter_mut().zip(block) {
            *p += v;
        }
    }
    for (p, &v) in partial.iter_mut().zip(blocks.remainder()) {
        *p += v;
    }
    let [a, b, c, d, e, f, g, h] = partial;
    ((a + b) + (c + d)) + ((e + f) + (g + h))
}

/// `dst.copy_from_slice(src)` for the short rows of an unfolding (a window's width): in
/// blocks of 8 moved inline rather than a call to `memcpy` per row.
#[inline(always)]
pub(crate) fn copy_short<T: Copy>(dst: &mut [T], src: &[T]) {
    let mut d = dst.chunks_exact_mut(8);
    let mut s = src.chunks_exact(8);
    for (d, s) in (&mut d).zip(&mut s) {
        let (d, s): (&mut [T; 8], &[T; 8]) = (
            d.try_into().unwrap_or_else(|_| unreachable!()),
            s.try_into().unwrap_or_else(|_| unreachable!()),
        );
        *d = *s;
    }
    for (d, &s) in d.into_remainder().iter_mut().zip(s.remainder()) {
        *d = s;
    }
}
