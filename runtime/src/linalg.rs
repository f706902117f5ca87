//! Matrix products on column-major slices, and the statically shaped entry points the
//! layers call.
//!
//! Every matrix in sinew is column-major (nalgebra's layout): element `(i, j)` of an
//! `r × c` matrix is at `j * r + i`. A product is described by a [`Gemm`]:
//! `C (m × n) = op(A) · op(B)`, where `op(A)` is `A` (stored `m × k`) or `Aᵀ` (stored
//! `k × m`), and likewise for `B` (`k × n` or `n × k`).
//!
//! [`gemm_portable`] is plain Rust that LLVM vectorises for any target, `no_std`
//! included. With the `std` feature, `f32` and `f64` route products that are large enough
//! to a cache-blocked SIMD kernel chosen at run time (see `kernels`).

use crate::Float;
use nalgebra::SMatrix;

/// Whether an operand is used as stored or transposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// As stored.
    N,
    /// Transposed.
    T,
}

/// A matrix product `C (m × n) = op(A) · op(B)`, plus `C` when `accumulate` is set.
///
/// # Shapes
/// - `A` holds `m × k` values if `a == Op::N`, `k × m` if `a == Op::T`;
/// - `B` holds `k × n` values if `b == Op::N`, `n × k` if `b == Op::T`;
/// - `C` holds `m × n` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gemm {
    /// Rows of `C`.
    pub m: usize,
    /// Columns of `C`.
    pub n: usize,
    /// The contracted dimension.
    pub k: usize,
    /// How `A` is used.
    pub a: Op,
    /// How `B` is used.
    pub b: Op,
    /// Add to `C` instead of overwriting it.
    pub accumulate: bool,
}

impl Gemm {
    /// Panics unless the slices have exactly the sizes the descriptor implies.
    #[inline]
    pub fn check(&self, a: usize, b: usize, c: usize) {
        assert!(
            a == self.m * self.k && b == self.k * self.n && c == self.m * self.n,
            "gemm {self:?}: slices of {a}, {b}, {c} values do not match"
        );
    }
}

/// `C = op(A) · op(B) (+ C)` with the fastest kernel available for `T`.
///
/// # Panics
/// If the slice lengths do not match `g`.
///
/// ```
/// use sinew::linalg::{gemm, Gemm, Op};
/// // [1 2; 3 4] (column-major: 1, 3, 2, 4) times [1; 1]
/// let a = [1.0_f32, 3.0, 2.0, 4.0];
/// let mut c = [0.0; 2];
/// gemm(Gemm { m: 2, n: 1, k: 2, a: Op::N, b: Op::N, accumulate: false }, &a, &[1.0, 1.0], &mut c);
/// assert_eq!(c, [3.0, 7.0]);
/// ```
#[inline]
pub fn gemm<T: Float>(g: Gemm, a: &[T], b: &[T], c: &mut [T]) {
    g.check(a.len(), b.len(), c.len());
    #[cfg(feature = "host")]
    if let (Some(a), Some(b), Some(c)) =
        (crate::float::as_f32(a), crate::float::as_f32(b), crate::float::as_f32_mut(c))
    {
        return crate::kernels::gemm_f32(g, a, b, c);
    }
    gemm_portable(g, a, b, c);
}

/// The portable kernel behind [`gemm`]: straight loops that vectorise on every target.
///
/// # Panics
/// If the slice lengths do not match `g`.
pub fn gemm_portable<T: Float>(g: Gemm, a: &[T], b: &[T], c: &mut [T]) {
    g.check(a.len(), b.len(), c.len());
    let Gemm { m, n, k, .. } = g;
    if m == 0 || n == 0 {
        return;
    }
    if !g.accumulate {
        c.fill(T::zero());
    }
    if k == 0 {
        return;
    }
    match g.a {
        Op::N => {
            // B(p, j): stored k × n (Op::N) or n × k (Op::T).
            let (rs, cs) = match g.b {
                Op::N => (1, k),
                Op::T => (n, 1),
            };
            axpy_form(m, k, a, b, rs, cs, c);
        }
        Op::T => match g.b {
            Op::N => dot_form(m, k, a, b, c),
            Op::T => {
                for j in 0..n {
                    for i in 0..m {
                        let mut s = T::zero();
                        for p in 0..k {
                            s += a[i * k + p] * b[p * n + j];
                        }
                        c[j * m + i] += s;
                    }
                }
            }
        },
    }
}

/// `C += A · B` with `A` column-major `m × k`: each column of `C` accumulates columns of
/// `A` scaled by entries of `B`; four columns of `C` share each load of `A`.
#[allow(clippy::too_many_arguments)]
fn axpy_form<T: Float>(m: usize, k: usize, a: &[T], b: &[T], rs: usize, cs: usize, c: &mut [T]) {
    let mut blocks = c.chunks_exact_mut(4 * m);
    let mut j = 0;
    for block in &mut blocks {
        let (c0, rest) = block.split_at_mut(m);
        let (c1, rest) = rest.split_at_mut(m);
        let (c2, c3) = rest.split_at_mut(m);
        for p in 0..k {
            let col = &a[p * m..(p + 1) * m];
            let b0 = b[p * rs + j * cs];
            let b1 = b[p * rs + (j + 1) * cs];
            let b2 = b[p * rs + (j + 2) * cs];
            let b3 = b[p * rs + (j + 3) * cs];
            for i in 0..m {
                let v = col[i];
                c0[i] += v * b0;
                c1[i] += v * b1;
                c2[i] += v * b2;
                c3[i] += v * b3;
            }
        }
        j += 4;
    }
    for cj in blocks.into_remainder().chunks_exact_mut(m) {
        // Column j of B: B(p, j) = b[p * rs + j * cs], p = 0..k; contiguous unless B is
        // used transposed.
        if rs == 1 {
            axpy_column(m, a, b[j * cs..j * cs + k].iter().copied(), cj);
        } else {
            axpy_column(m, a, b[j * cs..].iter().step_by(rs).take(k).copied(), cj);
        }
        j += 1;
    }
}

/// Rows of `C` that [`axpy_column`] keeps in registers (four was no faster on a
/// soft-float Cortex-M3, and slower with an FPU).
const ROWS: usize = 8;

/// One column of `C += A · B` (a matrix-vector product, e.g. a batch of one sample):
/// [`ROWS`] rows of `C` at a time stay in registers while the columns of `A` stream past,
/// so each multiply-add costs one load of `A` instead of a load and a store of `C` too.
/// The sums run in the same order as the plain loop (`p = 0, 1, …`), so the results are
/// the same.
#[inline]
fn axpy_column<T: Float>(m: usize, a: &[T], b: impl Iterator<Item = T> + Clone, c: &mut [T]) {
    let mut rows = c.chunks_exact_mut(ROWS);
    let mut i = 0;
    for block in &mut rows {
        let mut acc = [T::zero(); ROWS];
        acc.copy_from_slice(block);
        // `i + ROWS <= m` holds for every column, so the bounds check leaves the loop.
        for (col, bp) in a.chunks_exact(m).zip(b.clone()) {
            let col = &col[i..i + ROWS];
            for l in 0..ROWS {
                acc[l] += col[l] * bp;
            }
        }
        block.copy_from_slice(&acc);
        i += ROWS;
    }
    let rest = rows.into_remainder();
    for (col, bp) in a.chunks_exact(m).zip(b) {
        for (x, &v) in rest.iter_mut().zip(&col[i..]) {
            *x += v * bp;
        }
    }
}

/// `C += Aᵀ · B` with `A` column-major `k × m`: every entry is a dot product of two
/// contiguous columns.
fn dot_form<T: Float>(m: usize, k: usize, a: &[T], b: &[T], c: &mut [T]) {
    for (j, cj) in c.chunks_exact_mut(m).enumerate() {
        let bj = &b[j * k..(j + 1) * k];
        for (i, x) in cj.iter_mut().enumerate() {
            *x += dot(&a[i * k..(i + 1) * k], bj);
        }
    }
}

/// `Σ x[i] y[i]` with eight independent partial sums, so that it vectorises.
#[inline]
pub fn dot<T: Float>(x: &[T], y: &[T]) -> T {
    assert_eq!(x.len(), y.len(), "dot of slices of different lengths");
    let mut acc = [T::zero(); 8];
    let xs = x.chunks_exact(8);
    let ys = y.chunks_exact(8);
    let (xr, yr) = (xs.remainder(), ys.remainder());
    for (xc, yc) in xs.zip(ys) {
        for l in 0..8 {
            acc[l] += xc[l] * yc[l];
        }
    }
    for (l, (&a, &b)) in xr.iter().zip(yr).enumerate() {
        acc[l] += a * b;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
}

/// `Z = W · X (+ Z)`: `W` is `m × k`, `X` is `k × b` samples.
#[inline]
pub fn matmul<T: Float, const M: usize, const K: usize, const B: usize>(
    w: &SMatrix<T, M, K>,
    x: &SMatrix<T, K, B>,
    z: &mut SMatrix<T, M, B>,
    accumulate: bool,
) {
    let g = Gemm { m: M, n: B, k: K, a: Op::N, b: Op::N, accumulate };
    gemm(g, w.as_slice(), x.as_slice(), z.as_mut_slice());
}

/// `D = Wᵀ · G (+ D)`: `W` is `m × k`, `G` is `m × b`, `D` is `k × b`; the input gradient
/// of a dense layer.
#[inline]
pub fn matmul_tn<T: Float, const M: usize, const K: usize, const B: usize>(
    w: &SMatrix<T, M, K>,
    g: &SMatrix<T, M, B>,
    d: &mut SMatrix<T, K, B>,
    accumulate: bool,
) {
    let desc = Gemm { m: K, n: B, k: M, a: Op::T, b: Op::N, accumulate };
    gemm(desc, w.as_slice(), g.as_slice(), d.as_mut_slice());
}

/// `G = D · Xᵀ (+ G)`: `D` is `m × b`, `X` is `k × b`, `G` is `m × k`; the weight gradient
/// of a dense layer, summed over the batch.
#[inline]
pub fn matmul_nt<T: Float, const M: usize, const K: usize, const B: usize>(
    d: &SMatrix<T, M, B>,
    x: &SMatrix<T, K, B>,
    g: &mut SMatrix<T, M, K>,
    accumulate: bool,
) {
    let desc = Gemm { m: M, n: K, k: B, a: Op::N, b: Op::T, accumulate };
    gemm(desc, d.as_slice(), x.as_slice(), g.as_mut_slice());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook triple loop, as the independent reference.
    fn naive(g: Gemm, a: &[f64], b: &[f64], c0: &[f64]) -> std::vec::Vec<f64> {
        let at = |i: usize, p: usize| match g.a {
            Op::N => a[p * g.m + i],
            Op::T => a[i * g.k + p],
        };
        let bt = |p: usize, j: usize| match g.b {
            Op::N => b[j * g.k + p],
            Op::T => b[p * g.n + j],
        };
        let mut c = std::vec![0.0; g.m * g.n];
        for j in 0..g.n {
            for i in 0..g.m {
                let mut s = if g.accumulate { c0[j * g.m + i] } else { 0.0 };
                for p in 0..g.k {
                    s += at(i, p) * bt(p, j);
                }
                c[j * g.m + i] = s;
            }
        }
        c
    }

    fn filled(len: usize, seed: u64) -> std::vec::Vec<f64> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..len)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s % 2001) as f64 / 1000.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn every_op_combination_matches_the_triple_loop() {
        let shapes =
            [(1, 1, 1), (3, 5, 7), (8, 4, 9), (17, 9, 33), (5, 1, 16), (1, 6, 3), (19, 1, 40), (16, 3, 5)];
        for &(m, n, k) in &shapes {
            for a_op in [Op::N, Op::T] {
                for b_op in [Op::N, Op::T] {
                    for accumulate in [false, true] {
                        let g = Gemm { m, n, k, a: a_op, b: b_op, accumulate };
                        let a = filled(m * k, 1);
                        let b = filled(k * n, 2);
                        let c0 = filled(m * n, 3);
                        let want = naive(g, &a, &b, &c0);
                        let mut got = c0.clone();
                        gemm(g, &a, &b, &mut got);
                        for (x, y) in got.iter().zip(&want) {
                            assert!((x - y).abs() < 1e-12, "{g:?}: {x} vs {y}");
                        }
                        let mut got = c0.clone();
                        gemm_portable(g, &a, &b, &mut got);
                        for (x, y) in got.iter().zip(&want) {
                            assert!((x - y).abs() < 1e-12, "{g:?}: {x} vs {y}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    #[should_panic(expected = "do not match")]
    fn wrong_lengths_panic() {
        let g = Gemm { m: 2, n: 2, k: 2, a: Op::N, b: Op::N, accumulate: false };
        gemm(g, &[0.0_f32; 4], &[0.0; 3], &mut [0.0; 4]);
    }

    #[test]
    fn dot_handles_remainders() {
        let x: std::vec::Vec<f64> = (0..19).map(f64::from).collect();
        assert_eq!(dot(&x, &x), (0..19).map(|v| f64::from(v * v)).sum::<f64>());
    }
}
