//! Data helpers that work on slices and need no allocation.

use rand_core::Rng;

/// A uniform integer in `0..n`, without modulo bias (Lemire's method).
///
/// # Panics
/// If `n` is 0.
///
/// ```
/// let mut rng = sinew_runtime::rng(1);
/// assert!((0..1000).all(|_| sinew_runtime::data::below(&mut rng, 7) < 7));
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
/// sinew_runtime::data::shuffle(&mut v, &mut sinew_runtime::rng(3));
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
