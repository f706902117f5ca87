//! Direct `f32` convolution kernels, without the unfolding (`im2col`):
//!
//! - **channels in lanes** (output channels a multiple of the vector width, any input
//!   channels, stride and padding): each output position's channels are one vector; eight
//!   positions at a time accumulate `Σ_q x[q + base_j] · Wᵀ[q, ..]` over the kernel taps `q`
//!   (`x` broadcast, the transposed weights a vector). The weight gradient is the same
//!   loop with the roles swapped: `dWᵀ[q, ..] += Σ_p x[q + base_p] · dYᵀ[p, ..]`.
//! - **columns in lanes** (one input channel, stride 1 along the rows, output rows up to two
//!   vectors wide): each output row is one or two vectors; every tap adds a shifted input
//!   row times a broadcast weight, for four output channels at a time. The weight gradient
//!   sums `dY[o, row] · x[shifted row]` over rows and samples, lane by lane, and reduces
//!   once at the end.
//!
//! Padded inputs are first copied into a zero-bordered plane (in the caller's scratch), so
//! that no tap needs a bounds check. Each entry point returns `false`, having done nothing,
//! when its case does not apply (or its scratch is too small); the caller then unfolds.

use super::{arch, lanes};
use crate::layers::{Geometry, copy_short};
use pulp::{Simd, WithSimd};

/// Positions per block of the channels-in-lanes kernels.
const NB: usize = 8;
/// Largest transposed weight (`K · CO` values) kept on the stack.
const WT_MAX: usize = 8192;
/// Output channels per block for the columns-in-lanes accumulator bound.
const OG: usize = 4;
/// Largest number of vector accumulators of the columns-in-lanes weight gradient.
const ACC_MAX: usize = 640;

/// The vector at the start of `v`, which holds at least one vector's values. (pulp's
/// `partial_load` picks its mask through an indirect call: too slow for inner loops.)
#[inline(always)]
fn load<S: Simd>(v: &[f32]) -> S::f32s {
    S::as_simd_f32s(&v[..lanes::<S>()]).0[0]
}

/// Stores the first `dst.len()` (at most one vector's) values of `v` into `dst`.
#[inline(always)]
fn store<S: Simd>(dst: &mut [f32], v: S::f32s) {
    let values: &[f32] = bytemuck::cast_slice(core::slice::from_ref(&v));
    dst.copy_from_slice(&values[..dst.len()]);
}

/// The padded plane's sizes `(HP, WP)`.
fn padded(g: &Geometry) -> (usize, usize) {
    (g.h + 2 * g.ph, g.w + 2 * g.pw)
}

/// Copies one sample `x` (`c × h × w`) into `plane` (`c × HP × WP`, zero borders) and
/// zeroes `slack` values after it (read, times zero, by the last row's vector loads).
fn pad(g: &Geometry, x: &[f32], plane: &mut [f32], slack: usize) {
    let (hp, wp) = padded(g);
    let used = g.c * hp * wp;
    if g.ph == 0 && g.pw == 0 {
        plane[..used].copy_from_slice(x);
    } else {
        plane[..used].fill(0.0);
        for (src, dst) in x.chunks_exact(g.h * g.w).zip(plane.chunks_exact_mut(hp * wp)) {
            for (row, out) in src.chunks_exact(g.w).zip(dst[g.ph * wp..].chunks_exact_mut(wp)) {
                copy_short(&mut out[g.pw..g.pw + g.w], row);
            }
        }
    }
    plane[used..used + slack].fill(0.0);
}

/// Forward pass of a convolution on `B` samples (`x`: `B · c·h·w`, `y`: `B · co·ho·wo`),
/// weight `(K, co)` column-major, one bias per channel; `scratch` holds one padded sample.
/// Returns `false` without touching `y` when no direct kernel applies.
pub(crate) fn forward(
    g: &Geometry,
    co: usize,
    x: &[f32],
    weight: &[f32],
    bias: &[f32],
    y: &mut [f32],
    scratch: &mut [f32],
) -> bool {
    arch().dispatch(Forward { g, co, x, weight, bias, y, scratch })
}

/// Weight and bias gradients of a convolution on `B` samples, added to `dw` (`(K, co)`)
/// and `db`: `dW[q, o] += Σ_{s,p} x_s[q + base_p] dY_s[o, p]`. `scratch` holds one padded
/// sample, `scratch2` one transposed output gradient (`positions · co`). Returns `false`
/// without touching anything when no direct kernel applies.
#[allow(clippy::too_many_arguments)]
pub(crate) fn weight_gradient(
    g: &Geometry,
    co: usize,
    x: &[f32],
    dy: &[f32],
    dw: &mut [f32],
    scratch: &mut [f32],
    scratch2: &mut [f32],
) -> bool {
    arch().dispatch(WeightGradient { g, co, x, dy, dw, scratch, scratch2 })
}

/// Whether [`weight_gradient`] (and so [`forward`]) applies, with scratch buffers of
/// these lengths: a training pass that takes the direct forward keeps no unfoldings, so it
/// must know that the backward pass will not need them.
pub(crate) fn weight_gradient_applies(g: &Geometry, co: usize, scratch: usize, scratch2: usize) -> bool {
    struct Applies<'a>(&'a Geometry, usize, usize, usize);
    impl WithSimd for Applies<'_> {
        type Output = bool;
        #[inline(always)]
        fn with_simd<S: Simd>(self, _: S) -> bool {
            let Applies(g, co, scratch, scratch2) = self;
            gradient_kind(g, co, lanes::<S>(), scratch, scratch2).is_some()
        }
    }
    arch().dispatch(Applies(g, co, scratch, scratch2))
}

/// The direct weight-gradient kernel for this geometry, if one applies: [`kind`], and room
/// in `scratch2` for its transposed (channels in lanes) or padded (columns in lanes) output
/// gradient.
fn gradient_kind(g: &Geometry, co: usize, lanes: usize, scratch: usize, scratch2: usize) -> Option<Kind> {
    let found = kind(g, co, lanes, scratch)?;
    let room = match found {
        Kind::ChannelsInLanes => g.positions() * co,
        Kind::ColumnsInLanes => co * g.ho * g.wo.div_ceil(lanes) * lanes,
    };
    (scratch2 >= room).then_some(found)
}

/// Which direct kernel applies to a geometry with `co` output channels, if any, for
/// vectors of `lanes` values and `scratch` values of room for one padded sample.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    ChannelsInLanes,
    ColumnsInLanes,
}

fn kind(g: &Geometry, co: usize, lanes: usize, scratch: usize) -> Option<Kind> {
    if lanes < 8 {
        return None;
    }
    let (hp, wp) = padded(g);
    let room = g.c * hp * wp + 2 * lanes <= scratch;
    if !room {
        return None;
    }
    if co.is_multiple_of(lanes) && g.patch() * co <= WT_MAX {
        Some(Kind::ChannelsInLanes)
    } else if g.c == 1
        && g.sw == 1
        && g.wo <= 2 * lanes
        && g.kw <= 7
        && co.div_ceil(OG) * OG * g.kh * g.kw * 2 <= ACC_MAX
    {
        Some(Kind::ColumnsInLanes)
    } else {
        None
    }
}

/// The offsets in the padded plane of every kernel tap `q = (c, ky, kx)`, for the
/// channels-in-lanes kernels (at most `WT_MAX / lanes` taps, since `K · co ≤ WT_MAX`).
fn taps(g: &Geometry, out: &mut [usize]) {
    let (hp, wp) = padded(g);
    let mut q = 0;
    for c in 0..g.c {
        for ky in 0..g.kh {
            for kx in 0..g.kw {
                out[q] = c * hp * wp + ky * wp + kx;
                q += 1;
            }
        }
    }
}

/// The padded-plane offset of output position `p`'s window.
#[inline(always)]
fn base(g: &Geometry, wp: usize, p: usize) -> usize {
    let (oy, ox) = (p / g.wo, p % g.wo);
    oy * g.sh * wp + ox * g.sw
}

struct Forward<'a> {
    g: &'a Geometry,
    co: usize,
    x: &'a [f32],
    weight: &'a [f32],
    bias: &'a [f32],
    y: &'a mut [f32],
    scratch: &'a mut [f32],
}

impl WithSimd for Forward<'_> {
    type Output = bool;

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> bool {
        let Forward { g, co, x, weight, bias, y, scratch } = self;
        let lanes = lanes::<S>();
        match kind(g, co, lanes, scratch.len()) {
            Some(Kind::ChannelsInLanes) => forward_channels::<S>(simd, g, co, x, weight, bias, y, scratch),
            Some(Kind::ColumnsInLanes) => forward_columns::<S>(simd, g, co, x, weight, bias, y, scratch),
            None => return false,
        }
        true
    }
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn forward_channels<S: Simd>(
    simd: S,
    g: &Geometry,
    co: usize,
    x: &[f32],
    weight: &[f32],
    bias: &[f32],
    y: &mut [f32],
    scratch: &mut [f32],
) {
    let lanes = lanes::<S>();
    let k = g.patch();
    let (_, wp) = padded(g);
    let positions = g.positions();
    // Wᵀ: tap-major, channels contiguous.
    let mut wt = [0.0f32; WT_MAX];
    for o in 0..co {
        for q in 0..k {
            wt[q * co + o] = weight[o * k + q];
        }
    }
    let mut offsets = [0usize; WT_MAX / 8];
    taps(g, &mut offsets);
    let offsets = &offsets[..k];
    for (xs, ys) in x.chunks_exact(g.input_len()).zip(y.chunks_exact_mut(co * positions)) {
        pad(g, xs, scratch, 2 * lanes);
        let plane = &scratch[..];
        for o0 in (0..co).step_by(lanes) {
            let b = load::<S>(&bias[o0..]);
            let mut p0 = 0;
            while p0 < positions {
                let count = NB.min(positions - p0);
                // Missing positions repeat the last; their sums are dropped.
                let bases: [usize; NB] = core::array::from_fn(|j| base(g, wp, p0 + j.min(count - 1)));
                let mut acc = [b; NB];
                for (q, &off) in offsets.iter().enumerate() {
                    let w = load::<S>(&wt[q * co + o0..]);
                    for j in 0..NB {
                        acc[j] = simd.mul_add_e_f32s(simd.splat_f32s(plane[bases[j] + off]), w, acc[j]);
                    }
                }
                for (j, acc) in acc.iter().enumerate().take(count) {
                    let values: &[f32] = bytemuck::cast_slice(core::slice::from_ref(acc));
                    for (l, &v) in values.iter().enumerate() {
                        ys[(o0 + l) * positions + p0 + j] = v;
                    }
                }
                p0 += count;
            }
        }
    }
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn forward_columns<S: Simd>(
    simd: S,
    g: &Geometry,
    co: usize,
    x: &[f32],
    weight: &[f32],
    bias: &[f32],
    y: &mut [f32],
    scratch: &mut [f32],
) {
    // The widest group of channels that fits the registers (two vectors each), with the
    // fewest wasted channels.
    match co.min(OG_FORWARD) {
        1 => forward_columns_by::<S, 1>(simd, g, co, x, weight, bias, y, scratch),
        2 => forward_columns_by::<S, 2>(simd, g, co, x, weight, bias, y, scratch),
        3 => forward_columns_by::<S, 3>(simd, g, co, x, weight, bias, y, scratch),
        4 => forward_columns_by::<S, 4>(simd, g, co, x, weight, bias, y, scratch),
        5 => forward_columns_by::<S, 5>(simd, g, co, x, weight, bias, y, scratch),
        6 => forward_columns_by::<S, 6>(simd, g, co, x, weight, bias, y, scratch),
        7 => forward_columns_by::<S, 7>(simd, g, co, x, weight, bias, y, scratch),
        _ => forward_columns_by::<S, 8>(simd, g, co, x, weight, bias, y, scratch),
    }
}

/// Largest group of output channels of the columns-in-lanes forward pass.
const OG_FORWARD: usize = 8;

/// The columns-in-lanes forward pass, `G` output channels at a time: per output row,
/// `2 G` accumulators take every tap (two input vectors, `G` weights broadcast).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn forward_columns_by<S: Simd, const G: usize>(
    simd: S,
    g: &Geometry,
    co: usize,
    x: &[f32],
    weight: &[f32],
    bias: &[f32],
    y: &mut [f32],
    scratch: &mut [f32],
) {
    let lanes = lanes::<S>();
    let taps = g.kh * g.kw;
    let (_, wp) = padded(g);
    let positions = g.positions();
    let two = g.wo > lanes;
    for (xs, ys) in x.chunks_exact(g.input_len()).zip(y.chunks_exact_mut(co * positions)) {
        pad(g, xs, scratch, 2 * lanes);
        let plane = &scratch[..];
        for o0 in (0..co).step_by(G) {
            let group = G.min(co - o0);
            // Missing channels repeat the last; their sums are dropped.
            let kernels: [&[f32]; G] =
                core::array::from_fn(|i| &weight[(o0 + i.min(group - 1)) * taps..][..taps]);
            let biases: [f32; G] = core::array::from_fn(|i| bias[o0 + i.min(group - 1)]);
            for oy in 0..g.ho {
                let mut acc: [[S::f32s; 2]; G] = core::array::from_fn(|i| [simd.splat_f32s(biases[i]); 2]);
                for ky in 0..g.kh {
                    let row = &plane[(oy * g.sh + ky) * wp..];
                    for kx in 0..g.kw {
                        let x0 = load::<S>(&row[kx..]);
                        let x1 = if two { load::<S>(&row[kx + lanes..]) } else { x0 };
                        for i in 0..G {
                            let w = simd.splat_f32s(kernels[i][ky * g.kw + kx]);
                            acc[i][0] = simd.mul_add_e_f32s(x0, w, acc[i][0]);
                            if two {
                                acc[i][1] = simd.mul_add_e_f32s(x1, w, acc[i][1]);
                            }
                        }
                    }
                }
                for (i, acc) in acc.iter().enumerate().take(group) {
                    let out = &mut ys[(o0 + i) * positions + oy * g.wo..][..g.wo];
                    let (first, rest) = out.split_at_mut(g.wo.min(lanes));
                    store::<S>(first, acc[0]);
                    if two {
                        store::<S>(rest, acc[1]);
                    }
                }
            }
        }
    }
}

struct WeightGradient<'a> {
    g: &'a Geometry,
    co: usize,
    x: &'a [f32],
    dy: &'a [f32],
    dw: &'a mut [f32],
    scratch: &'a mut [f32],
    scratch2: &'a mut [f32],
}

impl WithSimd for WeightGradient<'_> {
    type Output = bool;

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> bool {
        let WeightGradient { g, co, x, dy, dw, scratch, scratch2 } = self;
        match gradient_kind(g, co, lanes::<S>(), scratch.len(), scratch2.len()) {
            Some(Kind::ChannelsInLanes) => {
                weight_gradient_channels::<S>(simd, g, co, x, dy, dw, scratch, scratch2)
            }
            Some(Kind::ColumnsInLanes) => {
                weight_gradient_columns::<S>(simd, g, co, x, dy, dw, scratch, scratch2)
            }
            None => return false,
        }
        true
    }
}

/// Taps per block of the channels-in-lanes weight gradient.
const QB: usize = 8;

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn weight_gradient_channels<S: Simd>(
    simd: S,
    g: &Geometry,
    co: usize,
    x: &[f32],
    dy: &[f32],
    dw: &mut [f32],
    scratch: &mut [f32],
    dyt: &mut [f32],
) {
    let lanes = lanes::<S>();
    let k = g.patch();
    let (_, wp) = padded(g);
    let positions = g.positions();
    let mut offsets = [0usize; WT_MAX / 8];
    taps(g, &mut offsets);
    let offsets = &offsets[..k];
    // dWᵀ, tap-major with channels contiguous, summed over the batch.
    let mut dwt = [0.0f32; WT_MAX];
    let dwt = &mut dwt[..k * co];
    for (xs, dys) in x.chunks_exact(g.input_len()).zip(dy.chunks_exact(co * positions)) {
        pad(g, xs, scratch, 2 * lanes);
        let plane = &scratch[..];
        // dYᵀ: position-major, channels contiguous.
        for (o, plane_o) in dys.chunks_exact(positions).enumerate() {
            for (p, &v) in plane_o.iter().enumerate() {
                dyt[p * co + o] = v;
            }
        }
        for o0 in (0..co).step_by(lanes) {
            for q0 in (0..k).step_by(QB) {
                let count = QB.min(k - q0);
                let offs: [usize; QB] = core::array::from_fn(|j| offsets[q0 + j.min(count - 1)]);
                let mut acc = [simd.splat_f32s(0.0); QB];
                for oy in 0..g.ho {
                    for ox in 0..g.wo {
                        let d = load::<S>(&dyt[(oy * g.wo + ox) * co + o0..]);
                        let window = &plane[oy * g.sh * wp + ox * g.sw..];
                        for j in 0..QB {
                            acc[j] = simd.mul_add_e_f32s(simd.splat_f32s(window[offs[j]]), d, acc[j]);
                        }
                    }
                }
                for (j, acc) in acc.iter().enumerate().take(count) {
                    let dst = &mut dwt[(q0 + j) * co + o0..][..lanes];
                    let sum = simd.add_f32s(load::<S>(dst), *acc);
                    store::<S>(dst, sum);
                }
            }
        }
    }
    for o in 0..co {
        for q in 0..k {
            dw[o * k + q] += dwt[q * co + o];
        }
    }
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn weight_gradient_columns<S: Simd>(
    simd: S,
    g: &Geometry,
    co: usize,
    x: &[f32],
    dy: &[f32],
    dw: &mut [f32],
    scratch: &mut [f32],
    rows: &mut [f32],
) {
    let lanes = lanes::<S>();
    let (kh, kw) = (g.kh, g.kw);
    let positions = g.positions();
    let halves = g.wo.div_ceil(lanes);
    let stride = halves * lanes;
    let zero = simd.splat_f32s(0.0);
    // One vector of partial sums per (channel, tap, half), summed over rows and samples.
    let mut sums = [zero; ACC_MAX];
    let slot = |o: usize, ky: usize, kx: usize, h: usize| slot(kh, kw, o, ky, kx, h);
    // dY with its rows zero-padded to whole vectors: lanes past the row's end meet input
    // values of the next row, times zero.
    let rows = &mut rows[..co * g.ho * stride];
    rows.fill(0.0);
    for (xs, dys) in x.chunks_exact(g.input_len()).zip(dy.chunks_exact(co * positions)) {
        pad(g, xs, scratch, 2 * lanes);
        for (src, dst) in dys.chunks_exact(g.wo).zip(rows.chunks_exact_mut(stride)) {
            copy_short(&mut dst[..g.wo], src);
        }
        let (plane, rows) = (&scratch[..], &rows[..]);
        // Groups of 3 or 4 channels (`3 · KW` or `4 · KW` accumulators), whichever wastes
        // fewer; then the kernel width.
        let by3 = co.div_ceil(3) * 3 < co.div_ceil(4) * 4;
        macro_rules! widths {
            ($og:literal) => {
                match kw {
                    1 => rows_by_taps::<S, $og, 1>(simd, g, co, plane, rows, stride, &mut sums),
                    2 => rows_by_taps::<S, $og, 2>(simd, g, co, plane, rows, stride, &mut sums),
                    3 => rows_by_taps::<S, $og, 3>(simd, g, co, plane, rows, stride, &mut sums),
                    4 => rows_by_taps::<S, $og, 4>(simd, g, co, plane, rows, stride, &mut sums),
                    5 => rows_by_taps::<S, $og, 5>(simd, g, co, plane, rows, stride, &mut sums),
                    6 => rows_by_taps::<S, $og, 6>(simd, g, co, plane, rows, stride, &mut sums),
                    _ => rows_by_taps::<S, $og, 7>(simd, g, co, plane, rows, stride, &mut sums),
                }
            };
        }
        if by3 { widths!(3) } else { widths!(4) }
    }
    for o in 0..co {
        for ky in 0..kh {
            for kx in 0..kw {
                let mut total = 0.0;
                for h in 0..halves {
                    total += simd.reduce_sum_f32s(sums[slot(o, ky, kx, h)]);
                }
                dw[o * kh * kw + ky * kw + kx] += total;
            }
        }
    }
}

/// The index of the partial sums of channel `o`, tap `(ky, kx)` and half `h`.
#[inline(always)]
fn slot(kh: usize, kw: usize, o: usize, ky: usize, kx: usize, h: usize) -> usize {
    ((o * kh + ky) * kw + kx) * 2 + h
}

/// One sample's share of the columns-in-lanes weight gradient, for kernels `KW` wide,
/// `OG` channels at a time:
/// per group of `OG` channels, half and kernel row, `OG · KW` accumulators in registers
/// take every output row (the `OG` rows of `dY` loaded once for the `KW` shifted inputs).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn rows_by_taps<S: Simd, const OG: usize, const KW: usize>(
    simd: S,
    g: &Geometry,
    co: usize,
    plane: &[f32],
    rows: &[f32],
    stride: usize,
    sums: &mut [S::f32s],
) {
    let lanes = lanes::<S>();
    let (_, wp) = padded(g);
    let zero = simd.splat_f32s(0.0);
    for o0 in (0..co).step_by(OG) {
        let group = OG.min(co - o0);
        // Missing channels repeat the last; their sums are dropped.
        let channel: [usize; OG] = core::array::from_fn(|i| (o0 + i.min(group - 1)) * g.ho * stride);
        for h in 0..g.wo.div_ceil(lanes) {
            for ky in 0..g.kh {
                let mut acc = [[zero; KW]; OG];
                for oy in 0..g.ho {
                    let d: [S::f32s; OG] =
                        core::array::from_fn(|i| load::<S>(&rows[channel[i] + oy * stride + h * lanes..]));
                    let xs = &plane[(oy * g.sh + ky) * wp + h * lanes..];
                    for kx in 0..KW {
                        let xv = load::<S>(&xs[kx..]);
                        for i in 0..OG {
                            acc[i][kx] = simd.mul_add_e_f32s(d[i], xv, acc[i][kx]);
                        }
                    }
                }
                for (i, acc) in acc.iter().enumerate().take(group) {
                    for (kx, acc) in acc.iter().enumerate() {
                        let s = &mut sums[slot(g.kh, KW, o0 + i, ky, kx, h)];
                        *s = simd.add_f32s(*s, *acc);
                    }
                }
            }
        }
    }
}
