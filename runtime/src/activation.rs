//! Activation functions, applied in place to a layer's pre-activations.
//!
//! A layer's buffer holds `z = W x + b` after the product and `a = f(z)` after the
//! activation; backward needs only `a`, because every derivative here can be written in
//! terms of the output:
//!
//! | activation | `a = f(z)` | `da/dz` from `a` |
//! |---|---|---|
//! | [`Identity`] | `z` | `1` |
//! | [`Sigmoid`] | `1 / (1 + e^-z)` | `a (1 - a)` |
//! | [`Tanh`] | `tanh z` | `1 - a²` |
//! | [`Relu`] | `max(z, 0)` | `1` if `a > 0`, else `0` |
//! | [`LeakyRelu`] | `z` if `z > 0`, else `slope · z` | `1` if `a > 0`, else `slope` |
//! | [`Softmax`] | `e^z / Σ e^z` per sample | `dz = a ⊙ (da − Σ a ⊙ da)` |
//!
//! At `z = 0` the ReLU family takes the derivative of the negative side, as PyTorch does.

use crate::Float;
use crate::head;
use nalgebra::SMatrix;

/// An activation function, applied in place.
///
/// `features` is the number of rows of the matrix the slice holds (column-major, one
/// column per sample); only [`Softmax`] needs it.
pub trait Activation: Copy + core::fmt::Debug {
    /// The name written in `network!`.
    const NAME: &'static str;
    /// What a network whose last layer ends in this activation outputs (see [`head`]).
    type Head: head::Head;
    /// `values ← f(values)`.
    fn forward<T: Float>(&self, values: &mut [T], features: usize);
    /// `grad ← grad ⊙ f'(z)`, where `output = f(z)`: turns `dL/da` into `dL/dz`.
    fn backward<T: Float>(&self, output: &[T], grad: &mut [T], features: usize);
}

/// `f(z) = z`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Identity;

/// `f(z) = 1 / (1 + e^-z)`, the logistic sigmoid.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Sigmoid;

/// `f(z) = tanh z`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Tanh;

/// `f(z) = max(z, 0)`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Relu;

/// `f(z) = z` for `z > 0`, `slope · z` otherwise.
///
/// `slope` must be non-negative (the macro checks it); the default is 0.01, as in PyTorch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LeakyRelu {
    /// The slope for negative inputs.
    pub slope: f64,
}

impl LeakyRelu {
    /// PyTorch's default negative slope.
    pub const DEFAULT_SLOPE: f64 = 0.01;
}

impl Default for LeakyRelu {
    fn default() -> Self {
        Self { slope: Self::DEFAULT_SLOPE }
    }
}

/// `f(z)_i = e^{z_i} / Σ_j e^{z_j}` over the features of each sample.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Softmax;

impl Activation for Identity {
    const NAME: &'static str = "Identity";
    type Head = head::Logits;
    #[inline]
    fn forward<T: Float>(&self, _: &mut [T], _: usize) {}
    #[inline]
    fn backward<T: Float>(&self, _: &[T], _: &mut [T], _: usize) {}
}

impl Activation for Sigmoid {
    const NAME: &'static str = "Sigmoid";
    type Head = head::Sigmoid;
    #[inline]
    fn forward<T: Float>(&self, values: &mut [T], _: usize) {
        T::sigmoid_slice(values);
    }
    #[inline]
    fn backward<T: Float>(&self, output: &[T], grad: &mut [T], _: usize) {
        for (g, &a) in grad.iter_mut().zip(output) {
            *g *= a * (T::one() - a);
        }
    }
}

impl Activation for Tanh {
    const NAME: &'static str = "Tanh";
    type Head = head::Activated;
    #[inline]
    fn forward<T: Float>(&self, values: &mut [T], _: usize) {
        T::tanh_slice(values);
    }
    #[inline]
    fn backward<T: Float>(&self, output: &[T], grad: &mut [T], _: usize) {
        for (g, &a) in grad.iter_mut().zip(output) {
            *g *= T::one() - a * a;
        }
    }
}

impl Activation for Relu {
    const NAME: &'static str = "Relu";
    type Head = head::Activated;
    #[inline]
    fn forward<T: Float>(&self, values: &mut [T], _: usize) {
        for v in values {
            // A select, not `max`, which would turn NaN into 0 and hide a diverging
            // network; and an unconditional store, so that it vectorises.
            *v = if *v < T::zero() { T::zero() } else { *v };
        }
    }
    #[inline]
    fn backward<T: Float>(&self, output: &[T], grad: &mut [T], _: usize) {
        for (g, &a) in grad.iter_mut().zip(output) {
            *g = if a > T::zero() { *g } else { T::zero() };
        }
    }
}

impl Activation for LeakyRelu {
    const NAME: &'static str = "LeakyRelu";
    type Head = head::Activated;
    #[inline]
    fn forward<T: Float>(&self, values: &mut [T], _: usize) {
        let slope = T::cast(self.slope);
        for v in values {
            *v = if *v < T::zero() { *v * slope } else { *v };
        }
    }
    #[inline]
    fn backward<T: Float>(&self, output: &[T], grad: &mut [T], _: usize) {
        let slope = T::cast(self.slope);
        for (g, &a) in grad.iter_mut().zip(output) {
            *g = if a > T::zero() { *g } else { *g * slope };
        }
    }
}

impl Activation for Softmax {
    const NAME: &'static str = "Softmax";
    type Head = head::Softmax;
    #[inline]
    fn forward<T: Float>(&self, values: &mut [T], features: usize) {
        for column in values.chunks_exact_mut(features) {
            softmax_in_place(column);
        }
    }
    #[inline]
    fn backward<T: Float>(&self, output: &[T], grad: &mut [T], features: usize) {
        for (g, a) in grad.chunks_exact_mut(features).zip(output.chunks_exact(features)) {
            let mut inner = T::zero();
            for (&gi, &ai) in g.iter().zip(a) {
                inner += gi * ai;
            }
            for (gi, &ai) in g.iter_mut().zip(a) {
                *gi = ai * (*gi - inner);
            }
        }
    }
}

/// Softmax of one sample's logits, in place, shifted by the maximum so that no `exp`
/// overflows (finite for logits of any finite magnitude).
///
/// ```
/// let mut z = [1000.0_f32, 1000.0];
/// sinew::activation::softmax_in_place(&mut z);
/// assert_eq!(z, [0.5, 0.5]);
/// ```
#[inline]
pub fn softmax_in_place<T: Float>(z: &mut [T]) {
    let Some(&first) = z.first() else { return };
    let max = z.iter().copied().fold(first, |m, v| if v > m { v } else { m });
    let mut sum = T::zero();
    for v in z.iter_mut() {
        *v = (*v - max).exp_fast();
        sum += *v;
    }
    let inv = T::one() / sum;
    for v in z.iter_mut() {
        *v *= inv;
    }
}

/// Softmax of every column (sample) of a network output: turns logits into probabilities
/// at inference time, for networks trained with the fused
/// [`SoftmaxCrossEntropy`](crate::loss::SoftmaxCrossEntropy).
///
/// ```
/// use sinew::{activation::softmax, SMatrix};
/// let logits = SMatrix::<f64, 2, 1>::new(0.0, 0.0);
/// assert_eq!(softmax(&logits), SMatrix::<f64, 2, 1>::new(0.5, 0.5));
/// ```
pub fn softmax<T: Float, const N: usize, const B: usize>(logits: &SMatrix<T, N, B>) -> SMatrix<T, N, B> {
    let mut p = *logits;
    Softmax.forward(p.as_mut_slice(), N);
    p
}

/// The index of the largest value of every column: predicted classes from logits or
/// probabilities.
///
/// ```
/// use sinew::{activation::argmax, SMatrix};
/// // two samples (columns): (0.1, 0.7, 0.2) and (0.9, 0.0, 0.3)
/// let out = SMatrix::<f32, 3, 2>::from_column_slice(&[0.1, 0.7, 0.2, 0.9, 0.0, 0.3]);
/// assert_eq!(argmax(&out), [1, 0]);
/// ```
pub fn argmax<T: Float, const N: usize, const B: usize>(values: &SMatrix<T, N, B>) -> [usize; B] {
    let mut classes = [0; B];
    for (class, column) in classes.iter_mut().zip(values.column_iter()) {
        let mut best = 0;
        for (i, &v) in column.iter().enumerate() {
            if v > column[best] {
                best = i;
            }
        }
        *class = best;
    }
    classes
}
