//! Host kernels (the `host` feature): `f32` products and `tanh` on SIMD registers chosen at
//! run time (AVX-512, AVX2+FMA, NEON) through `pulp`, which keeps this crate free of
//! `unsafe`. The optimizers' own kernels live with them (`optim::adam`).
//!
//! # The product
//! A register-blocked kernel in the GotoBLAS style, with every buffer on the stack so that
//! nothing is allocated: `C` is computed in tiles of `MR × NR` (32 × 8 with AVX-512, whose
//! 16 accumulators hide the FMA latency), each the sum over `p` of a column of `A` times a
//! row of `B`. `B` is packed per tile into a contiguous `KC × NR` block (so its values are
//! broadcast from consecutive addresses); `A` is read in place when it is column-major and
//! packed when transposed or at a ragged edge. The contracted dimension is cut into chunks
//! of `KC` so that the packed blocks stay in L1.
//!
//! Products with fewer than [`SMALL`] multiply-adds take the portable loops, which have no
//! packing cost; matrix-vector products (one column) have their own kernel with two
//! interleaved accumulator chains, and weight gradients (`Aᵀ B`, both operands contiguous
//! along the contracted dimension) a dot-product kernel that needs no packing.

pub(crate) mod conv;

use crate::fastmath;
use crate::linalg::{Gemm, Op, gemm_portable};
use pulp::{Simd, WithSimd};
use std::sync::OnceLock;

/// Below this many multiply-adds the portable loops are faster than packing.
pub const SMALL: usize = 2048;
/// Chunk of the contracted dimension.
const KC: usize = 256;
/// The chunk for products whose contracted dimension is at most this.
const KC_SHORT: usize = 32;
/// Largest tile height (2 vectors of 16 lanes).
const MR_MAX: usize = 32;
/// Largest tile width.
const NR_MAX: usize = 8;

/// The instruction set, detected once (also used by the optimizers' kernels).
pub(crate) fn arch() -> pulp::Arch {
    static ARCH: OnceLock<pulp::Arch> = OnceLock::new();
    *ARCH.get_or_init(pulp::Arch::new)
}

/// `f32` product; see [`crate::linalg::gemm`].
pub fn gemm_f32(g: Gemm, a: &[f32], b: &[f32], c: &mut [f32]) {
    g.check(a.len(), b.len(), c.len());
    if g.n == 1 && g.a == Op::N {
        arch().dispatch(Matvec { m: g.m, k: g.k, a, x: b, y: c, accumulate: g.accumulate });
    } else if g.a == Op::T && g.b == Op::N && g.k >= 64 && g.m * g.n * g.k >= SMALL {
        // Both operands run along the contracted dimension (a weight gradient): dot
        // products of contiguous vectors, with no packing.
        arch().dispatch(Dots { g, a, b, c });
    } else if g.m * g.n * g.k < SMALL || g.m < 4 {
        gemm_portable(g, a, b, c);
    } else {
        arch().dispatch(Tiled { g, a, b, c });
    }
}

/// `tanh` of every value, 16 (AVX-512) or 8 (AVX2) at a time; see [`fastmath::tanh`].
pub fn tanh_f32(values: &mut [f32]) {
    arch().dispatch(Tanh(values));
}

/// Lanes of an `f32` vector on this machine's widest instruction set.
#[cfg(test)]
pub(crate) fn lanes_f32() -> usize {
    struct Lanes;
    impl WithSimd for Lanes {
        type Output = usize;
        #[inline(always)]
        fn with_simd<S: Simd>(self, _: S) -> usize {
            lanes::<S>()
        }
    }
    arch().dispatch(Lanes)
}

/// Lanes of an `f32` vector.
fn lanes<S: Simd>() -> usize {
    core::mem::size_of::<S::f32s>() / core::mem::size_of::<f32>()
}

struct Tiled<'a> {
    g: Gemm,
    a: &'a [f32],
    b: &'a [f32],
    c: &'a mut [f32],
}

impl WithSimd for Tiled<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        // A short contracted dimension gets small packing buffers: they are zeroed on
        // every call, and 40 KB of zeroes would cost more than a `k = 16` product.
        let short = self.g.k <= KC_SHORT;
        match lanes::<S>() {
            1 => gemm_portable(self.g, self.a, self.b, self.c),
            16.. if short => tiled::<S, 2, 8, KC_SHORT>(simd, self),
            16.. => tiled::<S, 2, 8, KC>(simd, self),
            _ if short => tiled::<S, 2, 4, KC_SHORT>(simd, self),
            _ => tiled::<S, 2, 4, KC>(simd, self),
        }
    }
}

#[inline(always)]
fn tiled<S: Simd, const MV: usize, const NR: usize, const KC: usize>(simd: S, Tiled { g, a, b, c }: Tiled) {
    let Gemm { m, n, k, .. } = g;
    let mr = MV * lanes::<S>();
    debug_assert!(mr <= MR_MAX && NR <= NR_MAX);
    let mut apack = [[0.0f32; MR_MAX]; KC];
    let mut bpack = [[0.0f32; NR_MAX]; KC];
    let (apack, bpack) = (apack.as_flattened_mut(), bpack.as_flattened_mut());
    for k0 in (0..k).step_by(KC) {
        let kc = KC.min(k - k0);
        let overwrite = k0 == 0 && !g.accumulate;
        let bpack = &mut bpack[..kc * NR];
        let apack = &mut apack[..kc * mr];
        if g.a == Op::N {
            // A is read in place: pack each block of B once and sweep every row tile.
            for j0 in (0..n).step_by(NR) {
                let cols = NR.min(n - j0);
                pack_b::<NR>(g, b, k0, j0, cols, bpack);
                for i0 in (0..m).step_by(mr) {
                    let rows = mr.min(m - i0);
                    if rows == mr {
                        let acc = micro::<S, MV, NR>(simd, &a[k0 * m + i0..], m, bpack, mr);
                        store_tile::<S, MV, NR>(simd, &acc, c, m, i0, rows, j0, cols, overwrite);
                    } else if MV > 1 && rows <= lanes::<S>() {
                        // A short last tile: one vector of rows rather than `MV`.
                        let one = lanes::<S>();
                        let apack = &mut apack[..kc * one];
                        pack_a(g, a, k0, i0, rows, one, apack);
                        let acc = micro::<S, 1, NR>(simd, apack, one, bpack, one);
                        store_tile::<S, 1, NR>(simd, &acc, c, m, i0, rows, j0, cols, overwrite);
                    } else {
                        pack_a(g, a, k0, i0, rows, mr, apack);
                        let acc = micro::<S, MV, NR>(simd, apack, mr, bpack, mr);
                        store_tile::<S, MV, NR>(simd, &acc, c, m, i0, rows, j0, cols, overwrite);
                    }
                }
            }
        } else {
            // A is transposed: pack each row tile of A once and sweep every block of B.
            for i0 in (0..m).step_by(mr) {
                let rows = mr.min(m - i0);
                pack_a(g, a, k0, i0, rows, mr, apack);
                for j0 in (0..n).step_by(NR) {
                    let cols = NR.min(n - j0);
                    pack_b::<NR>(g, b, k0, j0, cols, bpack);
                    let acc = micro::<S, MV, NR>(simd, apack, mr, bpack, mr);
                    store_tile::<S, MV, NR>(simd, &acc, c, m, i0, rows, j0, cols, overwrite);
                }
            }
        }
    }
}

/// Packs rows `i0..i0 + rows` of `op(A)` over `p` in `k0..k0 + kc` p-major (`mr` values per
/// `p`), zero-padded to `mr` rows.
#[inline(always)]
fn pack_a(g: Gemm, a: &[f32], k0: usize, i0: usize, rows: usize, mr: usize, apack: &mut [f32]) {
    let kc = apack.len() / mr;
    match g.a {
        Op::N => {
            for (p, dst) in apack.chunks_exact_mut(mr).enumerate() {
                let src = &a[(k0 + p) * g.m + i0..][..rows];
                let (head, tail) = dst.split_at_mut(rows);
                crate::layers::copy_short(head, src);
                for t in tail {
                    *t = 0.0;
                }
            }
        }
        Op::T => {
            // Row i of op(A) is contiguous in p.
            apack.fill(0.0);
            for r in 0..rows {
                let src = &a[(i0 + r) * g.k + k0..][..kc];
                for (p, &v) in src.iter().enumerate() {
                    apack[p * mr + r] = v;
                }
            }
        }
    }
}

/// Packs columns `j0..j0 + cols` of `op(B)` over `p` in `k0..k0 + kc` p-major (`NR` values
/// per `p`), zero-padded to `NR` columns. Reads follow the stored layout.
#[inline(always)]
fn pack_b<const NR: usize>(g: Gemm, b: &[f32], k0: usize, j0: usize, cols: usize, bpack: &mut [f32]) {
    let kc = bpack.len() / NR;
    match g.b {
        Op::N => {
            // Column j of op(B) is contiguous in p.
            if cols < NR {
                bpack.fill(0.0);
            }
            for j in 0..cols {
                let src = &b[(j0 + j) * g.k + k0..][..kc];
                for (p, &v) in src.iter().enumerate() {
                    bpack[p * NR + j] = v;
                }
            }
        }
        Op::T => {
            // Row p of op(B) is contiguous in j.
            // Rows of at most `NR` values: moved inline, not through `memcpy` calls.
            for (p, dst) in bpack.chunks_exact_mut(NR).enumerate() {
                let src = &b[(k0 + p) * g.n + j0..][..cols];
                for (j, d) in dst.iter_mut().enumerate() {
                    *d = if j < cols { src[j] } else { 0.0 };
                }
            }
        }
    }
}

/// Writes (or adds) the valid part of a tile into `C`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn store_tile<S: Simd, const MV: usize, const NR: usize>(
    simd: S,
    acc: &[[S::f32s; MV]; NR],
    c: &mut [f32],
    m: usize,
    i0: usize,
    rows: usize,
    j0: usize,
    cols: usize,
    overwrite: bool,
) {
    for (j, acc) in acc.iter().enumerate().take(cols) {
        let dst = &mut c[(j0 + j) * m + i0..][..rows];
        store::<S, MV>(simd, acc, dst, overwrite);
    }
}

/// One `mr × NR` tile: `Σ_p A[.., p] B[p, ..]` over the packed `B` block.
#[inline(always)]
fn micro<S: Simd, const MV: usize, const NR: usize>(
    simd: S,
    a: &[f32],
    a_stride: usize,
    bpack: &[f32],
    mr: usize,
) -> [[S::f32s; MV]; NR] {
    let mut acc = [[simd.splat_f32s(0.0); MV]; NR];
    for (p, bp) in bpack.chunks_exact(NR).enumerate() {
        let (av, _) = S::as_simd_f32s(&a[p * a_stride..][..mr]);
        let av: [S::f32s; MV] = core::array::from_fn(|v| av[v]);
        for (acc, &bv) in acc.iter_mut().zip(bp) {
            let bv = simd.splat_f32s(bv);
            for v in 0..MV {
                acc[v] = simd.mul_add_e_f32s(av[v], bv, acc[v]);
            }
        }
    }
    acc
}

/// Writes (or adds) one column of a tile into `dst`, which may be shorter than the tile.
#[inline(always)]
fn store<S: Simd, const MV: usize>(simd: S, acc: &[S::f32s; MV], dst: &mut [f32], overwrite: bool) {
    let lanes = lanes::<S>();
    if dst.len() == MV * lanes {
        let (dv, _) = S::as_mut_simd_f32s(dst);
        for (d, &a) in dv.iter_mut().zip(acc) {
            *d = if overwrite { a } else { simd.add_f32s(*d, a) };
        }
    } else {
        let values: &[f32] = bytemuck::cast_slice(acc);
        for (d, &v) in dst.iter_mut().zip(values) {
            *d = if overwrite { v } else { *d + v };
        }
    }
}

/// `C = Aᵀ B` with `A` stored `(k, m)` and `B` stored `(k, n)`, both column-major: every
/// `C[i, j]` is the dot product of two contiguous runs of `k` values. Tiles of 4 × 4 dot
/// products share their loads (8 vector loads feed 16 multiply-adds).
struct Dots<'a> {
    g: Gemm,
    a: &'a [f32],
    b: &'a [f32],
    c: &'a mut [f32],
}

impl WithSimd for Dots<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let Dots { g, a, b, c } = self;
        if lanes::<S>() == 1 {
            return gemm_portable(g, a, b, c);
        }
        let Gemm { m, n, k, accumulate, .. } = g;
        for j0 in (0..n).step_by(4) {
            let cols = 4.min(n - j0);
            for i0 in (0..m).step_by(4) {
                let rows = 4.min(m - i0);
                // Missing rows and columns repeat the last one; their sums are dropped.
                let a_rows: [&[f32]; 4] = core::array::from_fn(|r| &a[(i0 + r.min(rows - 1)) * k..][..k]);
                let b_cols: [&[f32]; 4] = core::array::from_fn(|q| &b[(j0 + q.min(cols - 1)) * k..][..k]);
                let sums = dots4::<S>(simd, a_rows, b_cols);
                for (q, sums) in sums.iter().enumerate().take(cols) {
                    for (r, &v) in sums.iter().enumerate().take(rows) {
                        let dst = &mut c[(j0 + q) * m + i0 + r];
                        *dst = if accumulate { *dst + v } else { v };
                    }
                }
            }
        }
    }
}

/// The 16 dot products of 4 rows with 4 columns, each of the same length.
#[inline(always)]
fn dots4<S: Simd>(simd: S, a: [&[f32]; 4], b: [&[f32]; 4]) -> [[f32; 4]; 4] {
    let a_parts = a.map(S::as_simd_f32s);
    let b_parts = b.map(S::as_simd_f32s);
    let (a_heads, a_tails) = (a_parts.map(|p| p.0), a_parts.map(|p| p.1));
    let (b_heads, b_tails) = (b_parts.map(|p| p.0), b_parts.map(|p| p.1));
    let mut acc = [[simd.splat_f32s(0.0); 4]; 4];
    for p in 0..a_heads[0].len() {
        let av: [S::f32s; 4] = core::array::from_fn(|r| a_heads[r][p]);
        let bv: [S::f32s; 4] = core::array::from_fn(|q| b_heads[q][p]);
        for q in 0..4 {
            for r in 0..4 {
                acc[q][r] = simd.mul_add_e_f32s(av[r], bv[q], acc[q][r]);
            }
        }
    }
    if !a_tails[0].is_empty() {
        let av: [S::f32s; 4] = core::array::from_fn(|r| simd.partial_load_f32s(a_tails[r]));
        let bv: [S::f32s; 4] = core::array::from_fn(|q| simd.partial_load_f32s(b_tails[q]));
        for q in 0..4 {
            for r in 0..4 {
                acc[q][r] = simd.mul_add_e_f32s(av[r], bv[q], acc[q][r]);
            }
        }
    }
    acc.map(|row| row.map(|v| simd.reduce_sum_f32s(v)))
}

struct Matvec<'a> {
    m: usize,
    k: usize,
    a: &'a [f32],
    x: &'a [f32],
    y: &'a mut [f32],
    accumulate: bool,
}

impl WithSimd for Matvec<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let Matvec { m, k, a, x, y, accumulate } = self;
        let lanes = lanes::<S>();
        if lanes == 1 {
            let g = Gemm { m, n: 1, k, a: Op::N, b: Op::N, accumulate };
            return gemm_portable(g, a, x, y);
        }
        let mut i0 = 0;
        while i0 + 4 * lanes <= m {
            matvec_block::<S, 4>(simd, m, a, x, &mut y[i0..i0 + 4 * lanes], i0, accumulate);
            i0 += 4 * lanes;
        }
        if i0 + 2 * lanes <= m {
            matvec_block::<S, 2>(simd, m, a, x, &mut y[i0..i0 + 2 * lanes], i0, accumulate);
            i0 += 2 * lanes;
        }
        if i0 + lanes <= m {
            matvec_block::<S, 1>(simd, m, a, x, &mut y[i0..i0 + lanes], i0, accumulate);
            i0 += lanes;
        }
        if i0 < m {
            // Fewer rows than one vector: one masked vector.
            let rows = m - i0;
            let zero = simd.splat_f32s(0.0);
            let (mut even, mut odd) = (zero, zero);
            let mut columns = a.chunks_exact(m).zip(x);
            while let (Some((c0, &x0)), Some((c1, &x1))) = (columns.next(), columns.next()) {
                even = simd.mul_add_e_f32s(simd.partial_load_f32s(&c0[i0..]), simd.splat_f32s(x0), even);
                odd = simd.mul_add_e_f32s(simd.partial_load_f32s(&c1[i0..]), simd.splat_f32s(x1), odd);
            }
            if k % 2 == 1 {
                let c0 = &a[(k - 1) * m + i0..][..rows];
                even = simd.mul_add_e_f32s(simd.partial_load_f32s(c0), simd.splat_f32s(x[k - 1]), even);
            }
            let mut sum = simd.add_f32s(even, odd);
            let dst = &mut y[i0..];
            if accumulate {
                sum = simd.add_f32s(sum, simd.partial_load_f32s(dst));
            }
            simd.partial_store_f32s(dst, sum);
        }
    }
}

/// Rows `i0..i0 + MV·lanes` of `y = A x`, with two chains of accumulators (even and odd
/// columns) so that consecutive multiply-adds do not wait for each other.
#[inline(always)]
fn matvec_block<S: Simd, const MV: usize>(
    simd: S,
    m: usize,
    a: &[f32],
    x: &[f32],
    y: &mut [f32],
    i0: usize,
    accumulate: bool,
) {
    let rows = y.len();
    let zero = simd.splat_f32s(0.0);
    let (mut even, mut odd) = ([zero; MV], [zero; MV]);
    let load = |column: &[f32]| -> [S::f32s; MV] {
        let (v, _) = S::as_simd_f32s(&column[i0..i0 + rows]);
        core::array::from_fn(|i| v[i])
    };
    let mut columns = a.chunks_exact(m).zip(x);
    while let (Some((c0, &x0)), Some((c1, &x1))) = (columns.next(), columns.next()) {
        let (v0, v1) = (load(c0), load(c1));
        let (x0, x1) = (simd.splat_f32s(x0), simd.splat_f32s(x1));
        for v in 0..MV {
            even[v] = simd.mul_add_e_f32s(v0[v], x0, even[v]);
            odd[v] = simd.mul_add_e_f32s(v1[v], x1, odd[v]);
        }
    }
    let k = x.len();
    if k % 2 == 1 {
        let v0 = load(&a[(k - 1) * m..][..m]);
        let x0 = simd.splat_f32s(x[k - 1]);
        for v in 0..MV {
            even[v] = simd.mul_add_e_f32s(v0[v], x0, even[v]);
        }
    }
    let (yv, _) = S::as_mut_simd_f32s(y);
    for v in 0..MV {
        let sum = simd.add_f32s(even[v], odd[v]);
        yv[v] = if accumulate { simd.add_f32s(yv[v], sum) } else { sum };
    }
}

struct Tanh<'a>(&'a mut [f32]);

impl WithSimd for Tanh<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let (head, tail) = S::as_mut_simd_f32s(self.0);
        for v in head {
            *v = tanh_simd(simd, *v);
        }
        for t in tail {
            *t = fastmath::tanh(*t);
        }
    }
}

/// [`fastmath::tanh`] on a vector, with the same coefficients; `NaN` stays `NaN`.
#[inline(always)]
fn tanh_simd<S: Simd>(simd: S, x: S::f32s) -> S::f32s {
    let [p1, p2, p3, p4, p5, p6] = fastmath::TANH_P;
    let [q1, q2, q3] = fastmath::TANH_Q;
    let s = |v: f32| simd.splat_f32s(v);
    let clamped = simd.min_f32s(simd.max_f32s(x, s(-fastmath::TANH_CLAMP)), s(fastmath::TANH_CLAMP));
    let t = simd.mul_f32s(clamped, clamped);
    let mut p = s(p6);
    for c in [p5, p4, p3, p2, p1, 1.0] {
        p = simd.mul_add_e_f32s(p, t, s(c));
    }
    let mut q = s(q3);
    for c in [q2, q1, 1.0] {
        q = simd.mul_add_e_f32s(q, t, s(c));
    }
    let y = simd.div_f32s(simd.mul_f32s(clamped, p), q);
    // min/max replace NaN by the bound; put it back.
    simd.select_f32s(simd.equal_f32s(x, x), y, x)
}

/// Test data: `len` values spread over [−1, 1], different for each `seed` (for the kernels'
/// tests here and the optimizers').
#[cfg(test)]
pub(crate) fn filled(len: usize, seed: u32) -> std::vec::Vec<f32> {
    (0..len as u32).map(|i| ((i.wrapping_mul(2_654_435_761) ^ seed) % 2001) as f32 / 1000.0 - 1.0).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// The tiled kernel, the matrix-vector kernel and every edge case against f64 loops.
    #[test]
    fn products_match_f64_reference() {
        let shapes = [
            (128, 32, 784),
            (128, 784, 32),
            (784, 32, 128),
            (33, 17, 300),
            (31, 9, 257),
            (100, 1, 300),
            (37, 1, 41),
            (64, 3, 64),
            (5, 40, 40),
            (25, 6, 784),
            (150, 16, 100),
            (7, 3, 70),
            (100, 150, 16),
            (40, 33, 32),
            (50, 20, 33),
        ];
        for &(m, n, k) in &shapes {
            for a_op in [Op::N, Op::T] {
                for b_op in [Op::N, Op::T] {
                    for accumulate in [false, true] {
                        let g = Gemm { m, n, k, a: a_op, b: b_op, accumulate };
                        let (a, b, c0) = (filled(m * k, 1), filled(k * n, 2), filled(m * n, 3));
                        let mut c = c0.clone();
                        gemm_f32(g, &a, &b, &mut c);
                        let at = |i: usize, p: usize| match a_op {
                            Op::N => a[p * m + i],
                            Op::T => a[i * k + p],
                        };
                        let bt = |p: usize, j: usize| match b_op {
                            Op::N => b[j * k + p],
                            Op::T => b[p * n + j],
                        };
                        for j in 0..n {
                            for i in 0..m {
                                let mut s = if accumulate { f64::from(c0[j * m + i]) } else { 0.0 };
                                for p in 0..k {
                                    s += f64::from(at(i, p)) * f64::from(bt(p, j));
                                }
                                let got = f64::from(c[j * m + i]);
                                assert!(
                                    (got - s).abs() < 1e-4 * (k as f64).sqrt(),
                                    "{g:?} ({i}, {j}): {got} vs {s}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    /// Within 1e-6 of the exact `tanh` over every stride-th float, like the scalar version.
    #[test]
    fn simd_tanh_is_within_1e6_and_keeps_nan() {
        let mut xs: Vec<f32> =
            (1e-30f32.to_bits()..=50f32.to_bits()).step_by(97).map(f32::from_bits).collect();
        let negatives: Vec<f32> = xs.iter().map(|x| -x).collect();
        xs.extend(negatives);
        let mut ys = xs.clone();
        tanh_f32(&mut ys);
        let worst = xs
            .iter()
            .zip(&ys)
            .map(|(&x, &y)| {
                let exact = f64::from(x).tanh();
                ((f64::from(y) - exact) / exact).abs()
            })
            .fold(0.0, f64::max);
        assert!(worst < 1e-6, "worst relative error {worst:e}");
        let mut special = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 0.0, -0.0];
        tanh_f32(&mut special);
        assert!(special[0].is_nan());
        assert_eq!(special[1], fastmath::tanh(1e6));
        assert_eq!(special[2], -fastmath::tanh(1e6));
        assert_eq!(special[3], 0.0);
    }
}
