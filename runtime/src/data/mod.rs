//! Data: datasets in memory, CSV and IDX loaders, normalisation, seeded shuffles and
//! splits, cross-validation folds, and batches with correct padding.
//!
//! [`Normalizer`], [`one_hot`], [`shuffle`] and [`below`] work without `std` (on a device
//! too); the rest needs the `data` feature (part of `std`).

mod normalize;
pub use normalize::Normalizer;

#[cfg(feature = "data")]
pub mod csv;
#[cfg(feature = "data")]
mod dataset;
#[cfg(feature = "data")]
mod error;
#[cfg(feature = "data")]
pub mod idx;
#[cfg(feature = "data")]
pub mod synthetic;

#[cfg(feature = "data")]
pub use dataset::{Batch, Batches, Dataset, Fold, StepClasses, Target};
#[cfg(feature = "data")]
pub use error::DataError;

use crate::Float;
use nalgebra::SVector;
use rand_core::Rng;

/// The one-hot vector of `class` among `K` classes.
///
/// # Panics
/// If `class >= K`.
///
/// ```
/// use sinew::{data::one_hot, SVector};
/// assert_eq!(one_hot::<f32, 3>(1), SVector::<f32, 3>::new(0.0, 1.0, 0.0));
/// ```
pub fn one_hot<T: Float, const K: usize>(class: usize) -> SVector<T, K> {
    assert!(class < K, "class {class} of {K}");
    let mut v = SVector::zeros();
    v[class] = T::one();
    v
}

/// A uniform integer in `0..n`, without modulo bias (Lemire's method).
///
/// # Panics
/// If `n` is 0.
///
/// ```
/// let mut rng = sinew::rng(1);
/// assert!((0..1000).all(|_| sinew::data::below(&mut rng, 7) < 7));
/// ```
pub fn below<R: Rng + ?Sized>(rng: &mut R, n: usize) -> usize {
    assert!(n > 0, "`below(0)` has no value to return");
    let n = n as u64;
    let threshold = n.wrapping_neg() % n;
    loop {
        let m = u128::from(rng.next_u64()) * u128::from(n);
        if (m as u64) >= threshold {
            return (m >> 64) as usize;
        }
    }
}

/// Shuffles `items` in place (Fisher–Yates); the same generator state gives the same
/// order on every platform.
///
/// ```
/// let mut v = [1, 2, 3, 4, 5];
/// sinew::data::shuffle(&mut v, &mut sinew::rng(3));
/// let mut sorted = v;
/// sorted.sort();
/// assert_eq!(sorted, [1, 2, 3, 4, 5]);
/// ```
pub fn shuffle<T, R: Rng + ?Sized>(items: &mut [T], rng: &mut R) {
    for i in (1..items.len()).rev() {
        items.swap(i, below(rng, i + 1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_is_uniform() {
        let mut rng = crate::rng(5);
        let mut counts = [0usize; 6];
        for _ in 0..60_000 {
            counts[below(&mut rng, 6)] += 1;
        }
        for c in counts {
            assert!((9_400..10_600).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn shuffle_is_seeded_and_a_permutation() {
        let mut a: [u32; 50] = core::array::from_fn(|i| i as u32);
        let mut b = a;
        shuffle(&mut a, &mut crate::rng(9));
        shuffle(&mut b, &mut crate::rng(9));
        assert_eq!(a, b);
        assert_ne!(a, core::array::from_fn::<u32, 50, _>(|i| i as u32));
        let mut sorted = a;
        sorted.sort();
        assert_eq!(sorted, core::array::from_fn::<u32, 50, _>(|i| i as u32));
    }
}
