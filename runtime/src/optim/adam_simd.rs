//! Adam's update on SIMD registers (the `host` feature): 16 (AVX-512) or 8 (AVX2) values
//! at a time, dispatched at run time through `pulp`, as the products are.

use super::adam::AdamUpdate;
use pulp::{Simd, WithSimd};

/// One Adam update of one tensor (see [`AdamUpdate`]), 16 or 8 values at a time.
///
/// # Panics
/// If the slices have different lengths.
pub fn adam_f32(update: &AdamUpdate<f32>, w: &mut [f32], v: &mut [f32], s: &mut [f32], g: &[f32]) {
    assert!(v.len() == w.len() && s.len() == w.len() && g.len() == w.len(), "tensors of different sizes");
    crate::kernels::arch().dispatch(Adam { update, w, v, s, g });
}

struct Adam<'a> {
    update: &'a AdamUpdate<f32>,
    w: &'a mut [f32],
    v: &'a mut [f32],
    s: &'a mut [f32],
    g: &'a [f32],
}

impl WithSimd for Adam<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let Adam { update, w, v, s, g } = self;
        let u = *update;
        let (wh, wt) = S::as_mut_simd_f32s(w);
        let (vh, vt) = S::as_mut_simd_f32s(v);
        let (sh, st) = S::as_mut_simd_f32s(s);
        let (gh, gt) = S::as_simd_f32s(g);
        let k = |x: f32| simd.splat_f32s(x);
        let (b1, b2, l2, shrink, step, isc2, eps) =
            (k(u.beta1), k(u.beta2), k(u.l2), k(u.shrink), k(u.step_size), k(u.inv_sqrt_c2), k(u.eps));
        let (one_b1, one_b2) = (k(1.0 - u.beta1), k(1.0 - u.beta2));
        for (((w, v), s), &g) in wh.iter_mut().zip(vh).zip(sh).zip(gh) {
            let g = simd.mul_add_e_f32s(l2, *w, g);
            *v = flush(simd, simd.mul_add_e_f32s(b1, *v, simd.mul_f32s(one_b1, g)));
            *s = flush(simd, simd.mul_add_e_f32s(b2, *s, simd.mul_f32s(one_b2, simd.mul_f32s(g, g))));
            let denom = simd.mul_add_e_f32s(simd.sqrt_f32s(*s), isc2, eps);
            *w = simd.sub_f32s(simd.mul_f32s(*w, shrink), simd.div_f32s(simd.mul_f32s(step, *v), denom));
        }
        u.apply(wt, vt, st, gt);
    }
}

/// [`Float::flush`](crate::Float::flush) on a vector: subnormal lanes become 0.
#[inline(always)]
fn flush<S: Simd>(simd: S, x: S::f32s) -> S::f32s {
    let small = simd.less_than_f32s(simd.abs_f32s(x), simd.splat_f32s(f32::MIN_POSITIVE));
    simd.select_f32s(small, simd.splat_f32s(0.0), x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::filled;
    use std::vec::Vec;

    /// The SIMD Adam update agrees with the portable one.
    #[test]
    fn simd_adam_matches_portable() {
        let update = AdamUpdate {
            beta1: 0.9,
            beta2: 0.999,
            step_size: 0.01 / 0.1,
            inv_sqrt_c2: 1.0 / 0.001f32.sqrt(),
            eps: 1e-8,
            l2: 0.01,
            shrink: 0.999,
        };
        let n = 1003;
        let (w0, v0, s0, g) = (
            filled(n, 1),
            filled(n, 2),
            filled(n, 3).iter().map(|x| x.abs()).collect::<Vec<_>>(),
            filled(n, 4),
        );
        let (mut w1, mut v1, mut s1) = (w0.clone(), v0.clone(), s0.clone());
        update.apply(&mut w1, &mut v1, &mut s1, &g);
        let (mut w2, mut v2, mut s2) = (w0, v0, s0);
        adam_f32(&update, &mut w2, &mut v2, &mut s2, &g);
        for (a, b) in w1.iter().zip(&w2).chain(v1.iter().zip(&v2)).chain(s1.iter().zip(&s2)) {
            assert!((a - b).abs() <= 1e-5 * a.abs().max(1.0), "{a} vs {b}");
        }
    }
}
