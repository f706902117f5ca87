//! The scalar types sinew computes in.

use crate::fastmath;
use bytemuck::Pod;
use nalgebra::RealField;

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A floating-point scalar: `f32` (the default of every network) or `f64` (for reference
/// computations and gradient checks).
///
/// Besides nalgebra's [`RealField`] arithmetic it carries the elementwise functions whose
/// speed matters (`tanh`, the logistic sigmoid, `exp`), so that each type can pick its
/// fastest implementation. Kernels that belong to a layer or an optimizer (the matrix
/// product, Adam's update) live with them and pick theirs by type. The trait is sealed.
///
/// ```
/// use sinew::Float;
/// let mut v = [0.0_f32, 1.0, -1.0];
/// f32::tanh_slice(&mut v);
/// assert!((v[1] - 1.0_f32.tanh()).abs() < 1e-6);
/// assert_eq!(<f64 as Float>::DTYPE, "F64");
/// ```
pub trait Float:
    RealField
    + Copy
    + Default
    + Pod
    + Send
    + Sync
    + core::fmt::Display
    + core::fmt::LowerExp
    + sealed::Sealed
    + 'static
{
    /// The safetensors dtype string of this type (`"F32"` or `"F64"`).
    const DTYPE: &'static str;
    /// Machine epsilon.
    const EPSILON: Self;
    /// The smallest positive normal number; below it values are subnormal.
    const MIN_NORMAL: Self;

    /// `0` for a value whose magnitude is below [`MIN_NORMAL`](Self::MIN_NORMAL), the value
    /// otherwise. The optimizers apply it to their decaying state (momentum, moments): a
    /// velocity of a weight whose gradient stays 0 decays towards the subnormal range, where
    /// x86 arithmetic runs tens of times slower (measured: a fifth of LeNet's velocities,
    /// making the SGD-momentum update 30 times slower). Below 1.2e-38 (`f32`) the state can
    /// no longer move a normal weight.
    #[inline(always)]
    fn flush(self) -> Self {
        if self.abs() < Self::MIN_NORMAL { Self::zero() } else { self }
    }

    /// Converts from `f64`, rounding to nearest.
    fn cast(value: f64) -> Self;
    /// Converts to `f64` exactly.
    fn as_f64(self) -> f64;

    /// `e^x`. For `f32` this is [`fastmath::exp`] (relative error < 2e-7).
    fn exp_fast(self) -> Self;
    /// Replaces every element by its hyperbolic tangent.
    fn tanh_slice(values: &mut [Self]);
    /// Replaces every element by its logistic sigmoid `1 / (1 + e^-x)`.
    fn sigmoid_slice(values: &mut [Self]);
}

impl Float for f32 {
    const DTYPE: &'static str = "F32";
    const EPSILON: Self = f32::EPSILON;
    const MIN_NORMAL: Self = f32::MIN_POSITIVE;

    #[inline(always)]
    fn cast(value: f64) -> Self {
        value as f32
    }
    #[inline(always)]
    fn as_f64(self) -> f64 {
        f64::from(self)
    }
    #[inline(always)]
    fn exp_fast(self) -> Self {
        fastmath::exp(self)
    }
    #[inline]
    fn tanh_slice(values: &mut [Self]) {
        #[cfg(feature = "host")]
        crate::kernels::tanh_f32(values);
        #[cfg(not(feature = "host"))]
        for v in values {
            *v = fastmath::tanh(*v);
        }
    }
    #[inline]
    fn sigmoid_slice(values: &mut [Self]) {
        for v in values {
            *v = fastmath::sigmoid(*v);
        }
    }
}

impl Float for f64 {
    const DTYPE: &'static str = "F64";
    const EPSILON: Self = f64::EPSILON;
    const MIN_NORMAL: Self = f64::MIN_POSITIVE;

    #[inline(always)]
    fn cast(value: f64) -> Self {
        value
    }
    #[inline(always)]
    fn as_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn exp_fast(self) -> Self {
        nalgebra::ComplexField::exp(self)
    }
    #[inline]
    fn tanh_slice(values: &mut [Self]) {
        for v in values {
            *v = nalgebra::ComplexField::tanh(*v);
        }
    }
    #[inline]
    fn sigmoid_slice(values: &mut [Self]) {
        for v in values {
            *v = 1.0 / (1.0 + nalgebra::ComplexField::exp(-*v));
        }
    }
}

/// `v` as `f32` values when `T` is `f32` (decided at compile time; the cast is the
/// identity), for the host's `f32` kernels; `None` for `f64`.
#[cfg(feature = "host")]
#[inline(always)]
pub(crate) fn as_f32<T: Float>(v: &[T]) -> Option<&[f32]> {
    (core::any::TypeId::of::<T>() == core::any::TypeId::of::<f32>()).then(|| bytemuck::cast_slice(v))
}

/// [`as_f32`], mutably.
#[cfg(feature = "host")]
#[inline(always)]
pub(crate) fn as_f32_mut<T: Float>(v: &mut [T]) -> Option<&mut [f32]> {
    (core::any::TypeId::of::<T>() == core::any::TypeId::of::<f32>()).then(|| bytemuck::cast_slice_mut(v))
}
