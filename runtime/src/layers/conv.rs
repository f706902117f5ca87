use super::{Element, Layer, Shape, Store, Values, samples};
use crate::Float;
use crate::init::Init;
use crate::linalg::{Gemm, Op, gemm};
use crate::params::Layout;
use bytemuck::Zeroable;
use rand_core::Rng;

/// `floor((n + 2p − k) / s) + 1`: the output size of a convolution or pooling along one
/// axis, or `None` when the kernel does not fit in the padded input or the stride is 0.
///
/// ```
/// use sinew::layers::conv_output_size;
/// assert_eq!(conv_output_size(28, 5, 1, 2), Some(28));
/// assert_eq!(conv_output_size(10, 2, 2, 0), Some(5));
/// assert_eq!(conv_output_size(4, 5, 1, 0), None);
/// ```
pub const fn conv_output_size(n: usize, k: usize, s: usize, p: usize) -> Option<usize> {
    if s == 0 || k == 0 || k > n + 2 * p {
        return None;
    }
    Some((n + 2 * p - k) / s + 1)
}

/// `(n − 1) s − 2p + k`: the output size of a transposed convolution along one axis, or
/// `None` when it would not be positive.
///
/// ```
/// use sinew::layers::conv_transpose_output_size;
/// assert_eq!(conv_transpose_output_size(14, 2, 2, 0), Some(28));
/// assert_eq!(conv_transpose_output_size(7, 3, 2, 1), Some(13));
/// ```
pub const fn conv_transpose_output_size(n: usize, k: usize, s: usize, p: usize) -> Option<usize> {
    if s == 0 || k == 0 || n == 0 || (n - 1) * s + k <= 2 * p {
        return None;
    }
    Some((n - 1) * s + k - 2 * p)
}

/// The geometry of a 2-d convolution or pooling window sliding over a `c × h × w` input:
/// kernel `kh × kw`, stride `(sh, sw)`, zero padding `(ph, pw)`, output `ho × wo`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Input channels.
    pub c: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Kernel height.
    pub kh: usize,
    /// Kernel width.
    pub kw: usize,
    /// Vertical stride.
    pub sh: usize,
    /// Horizontal stride.
    pub sw: usize,
    /// Vertical padding.
    pub ph: usize,
    /// Horizontal padding.
    pub pw: usize,
    /// Output height.
    pub ho: usize,
    /// Output width.
    pub wo: usize,
}

impl Geometry {
    /// The geometry of a window over a `c × h × w` input.
    ///
    /// # Panics
    /// If the kernel does not fit (see [`conv_output_size`]); the macro checks this at
    /// compile time.
    pub const fn new(
        c: usize,
        (h, w): (usize, usize),
        (kh, kw): (usize, usize),
        (sh, sw): (usize, usize),
        (ph, pw): (usize, usize),
    ) -> Self {
        let (Some(ho), Some(wo)) = (conv_output_size(h, kh, sh, ph), conv_output_size(w, kw, sw, pw)) else {
            panic!("the kernel does not fit the padded input, or a stride is 0");
        };
        Self { c, h, w, kh, kw, sh, sw, ph, pw, ho, wo }
    }

    /// Input values per sample, `c·h·w`.
    pub const fn input_len(&self) -> usize {
        self.c * self.h * self.w
    }

    /// Output positions per channel, `ho·wo`.
    pub const fn positions(&self) -> usize {
        self.ho * self.wo
    }

    /// Values under one window position, `c·kh·kw`.
    pub const fn patch(&self) -> usize {
        self.c * self.kh * self.kw
    }

    /// The input index `(y, x)` under kernel offset `(ky, kx)` at output `(oy, ox)`, or
    /// `None` in the padding: the definition the unfolding is tested against.
    #[cfg(test)]
    fn source(&self, oy: usize, ox: usize, ky: usize, kx: usize) -> Option<(usize, usize)> {
        let y = (oy * self.sh + ky).checked_sub(self.ph)?;
        let x = (ox * self.sw + kx).checked_sub(self.pw)?;
        (y < self.h && x < self.w).then_some((y, x))
    }
}

impl Geometry {
    /// For kernel column `kx`, the output columns `lo..hi` whose input column
    /// `ox·sw + kx − pw` lies inside the image; outside them the window sees padding.
    #[inline(always)]
    fn valid_columns(&self, kx: usize) -> (usize, usize) {
        let lo = if kx >= self.pw { 0 } else { (self.pw - kx).div_ceil(self.sw) };
        // The largest ox with ox·sw + kx − pw ≤ w − 1.
        let hi =
            if self.w + self.pw > kx { ((self.w - 1 + self.pw - kx) / self.sw + 1).min(self.wo) } else { 0 };
        (lo.min(hi), hi)
    }

    /// The input row under kernel row `ky` at output row `oy`, if inside the image.
    #[inline(always)]
    fn source_row(&self, oy: usize, ky: usize) -> Option<usize> {
        (oy * self.sh + ky).checked_sub(self.ph).filter(|&y| y < self.h)
    }
}

/// Unfolds one sample `x` (`c × h × w`, channel-major) into `cols`, the column-major
/// `positions × patch` matrix whose row `p` holds the values under the window at output
/// position `p` (zero in the padding), so that a convolution is one matrix product.
///
/// Each output row is filled from one input row: a contiguous copy for stride 1.
///
/// # Panics
/// If the slices do not have `input_len` and `positions · patch` values.
pub fn im2col<T: Float>(g: &Geometry, x: &[T], cols: &mut [T]) {
    assert!(x.len() == g.input_len() && cols.len() == g.positions() * g.patch(), "im2col: wrong sizes");
    let mut columns = cols.chunks_exact_mut(g.positions());
    for plane in x.chunks_exact(g.h * g.w) {
        for ky in 0..g.kh {
            for kx in 0..g.kw {
                let Some(dst) = columns.next() else { return };
                let (lo, hi) = g.valid_columns(kx);
                for (oy, row) in dst.chunks_exact_mut(g.wo).enumerate() {
                    let Some(y) = g.source_row(oy, ky) else {
                        row.fill(T::zero());
                        continue;
                    };
                    // Padding (rare, narrow): skip the calls when there is none.
                    if lo > 0 {
                        row[..lo].fill(T::zero());
                    }
                    if hi < row.len() {
                        row[hi..].fill(T::zero());
                    }
                    if lo < hi {
                        let start = y * g.w + lo * g.sw + kx - g.pw;
                        let src = &plane[start..start + (hi - lo - 1) * g.sw + 1];
                        if g.sw == 1 {
                            super::copy_short(&mut row[lo..hi], src);
                        } else {
                            for (d, &v) in row[lo..hi].iter_mut().zip(src.iter().step_by(g.sw)) {
                                *d = v;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The adjoint of [`im2col`]: adds every value of `cols` back to the input position it
/// came from (positions in the padding are dropped). `x` is overwritten
/// ([`Store::Overwrite`]) or added to ([`Store::Add`]).
///
/// # Panics
/// If the slices do not have `input_len` and `positions · patch` values.
pub fn col2im<T: Float>(g: &Geometry, cols: &[T], x: &mut [T], store: Store) {
    assert!(x.len() == g.input_len() && cols.len() == g.positions() * g.patch(), "col2im: wrong sizes");
    if store == Store::Overwrite {
        x.fill(T::zero());
    }
    let mut columns = cols.chunks_exact(g.positions());
    for plane in x.chunks_exact_mut(g.h * g.w) {
        for ky in 0..g.kh {
            for kx in 0..g.kw {
                let Some(src) = columns.next() else { return };
                let (lo, hi) = g.valid_columns(kx);
                if lo >= hi {
                    continue;
                }
                for (oy, row) in src.chunks_exact(g.wo).enumerate() {
                    let Some(y) = g.source_row(oy, ky) else { continue };
                    let start = y * g.w + lo * g.sw + kx - g.pw;
                    let dst = &mut plane[start..start + (hi - lo - 1) * g.sw + 1];
                    if g.sw == 1 {
                        for (d, &v) in dst.iter_mut().zip(&row[lo..hi]) {
                            *d += v;
                        }
                    } else {
                        for (d, &v) in dst.iter_mut().step_by(g.sw).zip(&row[lo..hi]) {
                            *d += v;
                        }
                    }
                }
            }
        }
    }
}

/// The direct `f32` forward pass of a convolution on a whole batch, when one applies
/// (see `kernels::conv`); `false` if the caller must unfold.
#[cfg_attr(not(feature = "host"), allow(unused_variables))]
fn direct_forward<T: Float>(
    g: &Geometry,
    co: usize,
    x: &[T],
    weight: &[T],
    bias: &[T],
    y: &mut [T],
    scratch: &mut [T],
) -> bool {
    #[cfg(feature = "host")]
    {
        use crate::float::{as_f32, as_f32_mut};
        if let (Some(x), Some(w), Some(b), Some(y), Some(s)) =
            (as_f32(x), as_f32(weight), as_f32(bias), as_f32_mut(y), as_f32_mut(scratch))
        {
            return crate::kernels::conv::forward(g, co, x, w, b, y, s);
        }
    }
    false
}

/// The direct `f32` weight gradient of a convolution on a whole batch, added to `dw`, when
/// one applies (exactly when [`direct_weight_gradient_applies`] says so); `false` if the
/// caller must multiply the kept unfoldings.
#[cfg_attr(not(feature = "host"), allow(unused_variables))]
fn direct_weight_gradient<T: Float>(
    g: &Geometry,
    co: usize,
    x: &[T],
    dy: &[T],
    dw: &mut [T],
    scratch: &mut [T],
    scratch2: &mut [T],
) -> bool {
    #[cfg(feature = "host")]
    {
        use crate::float::{as_f32, as_f32_mut};
        if let (Some(x), Some(dy), Some(dw), Some(s1), Some(s2)) =
            (as_f32(x), as_f32(dy), as_f32_mut(dw), as_f32_mut(scratch), as_f32_mut(scratch2))
        {
            return crate::kernels::conv::weight_gradient(g, co, x, dy, dw, s1, s2);
        }
    }
    false
}

/// Whether the direct `f32` weight gradient applies with these scratch lengths.
#[cfg_attr(not(feature = "host"), allow(unused_variables))]
fn direct_weight_gradient_applies<T: Float>(
    g: &Geometry,
    co: usize,
    scratch: usize,
    scratch2: usize,
) -> bool {
    #[cfg(feature = "host")]
    if crate::float::as_f32::<T>(&[]).is_some() {
        return crate::kernels::conv::weight_gradient_applies(g, co, scratch, scratch2);
    }
    false
}

/// The shape of a convolution layer, [`Conv2d`] or [`ConvTranspose2d`]: its window and the
/// types of its kernels and unfoldings. `network!` writes one per layer, for example for
/// `c1: Conv2d(6, kernel = 5, padding = 2)` on `[1, 28, 28]`:
///
/// ```
/// use sinew::{layers::{ConvShape, Element, Geometry, Shape}, SMatrix};
///
/// /// `c1`: 1 → 6 channels, 5 × 5 over 28 × 28, padding 2: 784 positions of 25 values.
/// #[derive(Clone, Copy, Debug, Default, PartialEq)]
/// struct C1;
/// impl Shape for C1 {
///     const IN: usize = 784;
///     const OUT: usize = 4704;
///     type Input<E: Element, const B: usize> = SMatrix<E, 784, B>;
///     type Output<E: Element, const B: usize> = SMatrix<E, 4704, B>;
/// }
/// impl ConvShape for C1 {
///     const GEOMETRY: Geometry = Geometry::new(1, (28, 28), (5, 5), (1, 1), (2, 2));
///     const IN_CHANNELS: usize = 1;
///     const OUT_CHANNELS: usize = 6;
///     type Weight<E: Element> = SMatrix<E, 25, 6>;
///     type Bias<E: Element> = SMatrix<E, 6, 1>;
///     type Columns<E: Element, const B: usize> = SMatrix<E, 19600, B>;
/// }
/// let conv = sinew::layers::Conv2d::<f32, C1>::zeroed();
/// assert_eq!(core::mem::size_of_val(&conv), (25 * 6 + 6) * 4);
/// ```
pub trait ConvShape: Shape {
    /// The window. For a [`Conv2d`] it slides over the input; for a [`ConvTranspose2d`] it
    /// is the adjoint convolution's, sliding over this layer's *output* (`c = CO`), with
    /// this layer's input as its `ho × wo` positions.
    const GEOMETRY: Geometry;
    /// Channels in.
    const IN_CHANNELS: usize;
    /// Channels out.
    const OUT_CHANNELS: usize;
    /// The kernels: `(K, CO)` for a [`Conv2d`] (`K = CI·kh·kw`), `(K, CI)` for a
    /// [`ConvTranspose2d`] (`K = CO·kh·kw`); PyTorch's layout byte for byte.
    type Weight<E: Element>: Values<E>;
    /// One bias per output channel, `(CO, 1)`.
    type Bias<E: Element>: Values<E>;
    /// The unfoldings of `B` samples, `positions · K` values each ([`im2col`]).
    type Columns<E: Element, const B: usize>: Values<E>;
}

/// Checks, once per shape type, that its sizes agree with its window: for a convolution
/// the weight is `(CI·kh·kw, CO)`, for a transposed one `(CO·kh·kw, CI)`, the bias `(CO)`.
const fn check_conv<S: ConvShape>(transposed: bool) {
    let g = S::GEOMETRY;
    let (channels, image, positions, weight_cols) = if transposed {
        (S::OUT_CHANNELS, S::OUT, S::IN / S::IN_CHANNELS, S::IN_CHANNELS)
    } else {
        (S::IN_CHANNELS, S::IN, S::OUT / S::OUT_CHANNELS, S::OUT_CHANNELS)
    };
    assert!(
        g.c == channels && image == g.input_len() && positions == g.positions(),
        "ConvShape: sizes disagree"
    );
    assert!(
        size_of::<S::Columns<u8, 1>>() == g.positions() * g.patch(),
        "ConvShape: Columns must hold positions · patch values"
    );
    assert!(
        size_of::<S::Weight<u8>>() == g.patch() * weight_cols && size_of::<S::Bias<u8>>() == S::OUT_CHANNELS,
        "ConvShape: the weight must be (patch, CO) for a convolution, (patch, CI) transposed, and the bias (CO)"
    );
}

/// A 2-d convolution, as PyTorch's `Conv2d`; its sizes and window are those of its
/// [`ConvShape`] `S`.
///
/// # Shapes
/// - `weight`: PyTorch's `(CO, CI, kh, kw)`, stored as a `(K, CO)` nalgebra matrix with
///   `K = CI·kh·kw` (byte for byte PyTorch's layout);
/// - `bias`: `(CO)`;
/// - input: `(CI·h·w, B)` and output `(CO·ho·wo, B)`, each column one sample in NCHW order.
///
/// # Computation
/// Per sample, `Yᵀ = colsᵀ · Wᵀ + b` where `colsᵀ` is the [`im2col`] unfolding; backward,
/// `dWᵀ += cols · dYᵀ`, `db += Σ dY`, `dcolsᵀ = dYᵀ · W`, `dX = col2im(dcols)`.
#[derive(Clone, Debug, PartialEq, Zeroable)]
#[zeroable(bound = "T: Float, S: ConvShape")]
pub struct Conv2d<T: Float, S: ConvShape> {
    /// Kernels, `(CO, CI, kh, kw)` in PyTorch's layout.
    pub weight: S::Weight<T>,
    /// Bias per output channel.
    pub bias: S::Bias<T>,
}

impl<T: Float, S: ConvShape> Conv2d<T, S> {
    const SIZES: () = check_conv::<S>(false);

    /// All weights and biases zero.
    pub fn zeroed() -> Self {
        Zeroable::zeroed()
    }

    /// Draws the kernels with `init` (fan-in `CI·kh·kw`, fan-out `CO·kh·kw`) and zeroes
    /// the biases.
    pub fn init<R: Rng + ?Sized>(&mut self, init: Init, rng: &mut R) {
        let g = S::GEOMETRY;
        init.fill(self.weight.values_mut(), g.patch(), S::OUT_CHANNELS * g.kh * g.kw, rng);
        self.bias.values_mut().fill(T::zero());
    }

    /// One sample: `y = W ⊛ x + b`, with `cols` (`positions · K` values) as scratch.
    pub fn forward_sample(&self, x: &[T], cols: &mut [T], y: &mut [T]) {
        let () = Self::SIZES;
        let g = &S::GEOMETRY;
        im2col(g, x, cols);
        let n = g.positions();
        for (plane, &b) in y.chunks_exact_mut(n).zip(self.bias.values()) {
            plane.fill(b);
        }
        let desc = Gemm { m: n, n: S::OUT_CHANNELS, k: g.patch(), a: Op::N, b: Op::N, accumulate: true };
        gemm(desc, cols, self.weight.values(), y);
    }
}

impl<T: Float, S: ConvShape, const B: usize> Layer<T, B> for Conv2d<T, S> {
    type Input = S::Input<T, B>;
    type Output = S::Output<T, B>;
    type Inference = ConvInference<S::Output<T, B>, S::Columns<T, 1>>;
    type Training = Conv2dBuffers<S::Output<T, B>, S::Columns<T, B>, S::Columns<T, 1>>;

    /// With `f32` on a host, a direct kernel where one applies (see the type's notes);
    /// otherwise one sample at a time through the scratch unfolding.
    fn forward(&self, x: &Self::Input, ws: &mut Self::Inference) {
        let (w, b) = (self.weight.values(), self.bias.values());
        let (co, g) = (S::OUT_CHANNELS, &S::GEOMETRY);
        if direct_forward(g, co, x.values(), w, b, ws.value.values_mut(), ws.cols.values_mut()) {
            return;
        }
        for (xs, ys) in samples(x.values(), S::IN, ws.value.values_mut(), S::OUT) {
            self.forward_sample(xs, ws.cols.values_mut(), ys);
        }
    }

    /// Keeps every sample's unfolding for the weight gradient, unless the direct kernels
    /// apply to both passes (then nothing is kept: the backward pass reads the input).
    fn forward_train<R: Rng + ?Sized>(
        &mut self,
        x: &Self::Input,
        tw: &mut Self::Training,
        _: usize,
        _: &mut R,
    ) {
        let (co, g) = (S::OUT_CHANNELS, &S::GEOMETRY);
        if direct_weight_gradient_applies::<T>(g, co, tw.cols.values().len(), tw.dcols.values().len()) {
            let (w, b) = (self.weight.values(), self.bias.values());
            let done = direct_forward(g, co, x.values(), w, b, tw.value.values_mut(), tw.cols.values_mut());
            debug_assert!(done, "the direct forward applies wherever the direct weight gradient does");
            return;
        }
        let cols = tw.cols.values_mut().chunks_exact_mut(S::GEOMETRY.positions() * S::GEOMETRY.patch());
        for ((xs, ys), cs) in samples(x.values(), S::IN, tw.value.values_mut(), S::OUT).zip(cols) {
            self.forward_sample(xs, cs, ys);
        }
    }

    /// `dW` from the saved unfoldings (or directly from the input) and `dL/dy`;
    /// `dL/dx = col2im(dY · W)` through the scratch `dcols`.
    fn backward(
        &self,
        x: &Self::Input,
        tw: &mut Self::Training,
        grads: Option<&mut Self>,
        dx: Option<(&mut Self::Input, Store)>,
        _: usize,
    ) {
        let g = &S::GEOMETRY;
        let (n, k, co) = (g.positions(), g.patch(), S::OUT_CHANNELS);
        if let Some(grads) = grads {
            let desc = Gemm { m: k, n: co, k: n, a: Op::T, b: Op::N, accumulate: true };
            grads.weight.values_mut().fill(T::zero());
            grads.bias.values_mut().fill(T::zero());
            for gs in tw.grad.values().chunks_exact(S::OUT) {
                for (b, plane) in grads.bias.values_mut().iter_mut().zip(gs.chunks_exact(n)) {
                    *b += super::sum(plane);
                }
            }
            let (xs, dy, dw) = (x.values(), tw.grad.values(), grads.weight.values_mut());
            if !direct_weight_gradient(g, co, xs, dy, dw, tw.cols.values_mut(), tw.dcols.values_mut()) {
                let columns = tw.cols.values().chunks_exact(n * k).zip(tw.grad.values().chunks_exact(S::OUT));
                for (cs, gs) in columns {
                    gemm(desc, cs, gs, grads.weight.values_mut());
                }
            }
        }
        if let Some((dx, store)) = dx {
            let desc = Gemm { m: n, n: k, k: co, a: Op::N, b: Op::T, accumulate: false };
            for (gs, dxs) in samples(tw.grad.values(), S::OUT, dx.values_mut(), S::IN) {
                gemm(desc, gs, self.weight.values(), tw.dcols.values_mut());
                col2im(g, tw.dcols.values(), dxs, store);
            }
        }
    }
}

weight_and_bias!(
    [T: Float, S: ConvShape] Conv2d<T, S>, "Conv2d",
    weight: &[S::OUT_CHANNELS, S::IN_CHANNELS, S::GEOMETRY.kh, S::GEOMETRY.kw], Layout::RowMajor,
    bias: &[S::OUT_CHANNELS]
);

/// A 2-d transposed convolution ("deconvolution"), as PyTorch's `ConvTranspose2d`: the
/// adjoint of a convolution with the same kernel, stride and padding, so an `h × w` input
/// gives `((h − 1) s − 2p + k) × ...`. Its [`ConvShape`]'s geometry is that of the adjoint
/// convolution: input `CO × ho × wo` (this layer's output), positions `hi × wi` (this
/// layer's input).
///
/// # Shapes
/// - `weight`: PyTorch's `(CI, CO, kh, kw)`, stored as a `(K, CI)` nalgebra matrix with
///   `K = CO·kh·kw` (byte for byte PyTorch's layout);
/// - `bias`: `(CO)`.
///
/// # Computation
/// Per sample `y = col2im(xᵀ · Wt) + b`; backward `dW = im2col(dy)ᵀ x`,
/// `dx = im2col(dy) · Wt`.
#[derive(Clone, Debug, PartialEq, Zeroable)]
#[zeroable(bound = "T: Float, S: ConvShape")]
pub struct ConvTranspose2d<T: Float, S: ConvShape> {
    /// Kernels, `(CI, CO, kh, kw)` in PyTorch's layout.
    pub weight: S::Weight<T>,
    /// Bias per output channel.
    pub bias: S::Bias<T>,
}

impl<T: Float, S: ConvShape> ConvTranspose2d<T, S> {
    const SIZES: () = check_conv::<S>(true);

    /// All weights and biases zero.
    pub fn zeroed() -> Self {
        Zeroable::zeroed()
    }

    /// Draws the kernels with `init` (fan-in `CI·kh·kw`, fan-out `CO·kh·kw`) and zeroes
    /// the biases.
    pub fn init<R: Rng + ?Sized>(&mut self, init: Init, rng: &mut R) {
        let g = S::GEOMETRY;
        init.fill(self.weight.values_mut(), S::IN_CHANNELS * g.kh * g.kw, g.patch(), rng);
        self.bias.values_mut().fill(T::zero());
    }

    /// One sample: `y = col2im(xᵀ · Wt) + b`, with `cols` (`positions · K`) as scratch.
    pub fn forward_sample(&self, x: &[T], cols: &mut [T], y: &mut [T]) {
        let () = Self::SIZES;
        let g = &S::GEOMETRY;
        let desc =
            Gemm { m: g.positions(), n: g.patch(), k: S::IN_CHANNELS, a: Op::N, b: Op::T, accumulate: false };
        gemm(desc, x, self.weight.values(), cols);
        col2im(g, cols, y, Store::Overwrite);
        for (plane, &b) in y.chunks_exact_mut(g.h * g.w).zip(self.bias.values()) {
            for v in plane {
                *v += b;
            }
        }
    }
}

impl<T: Float, S: ConvShape, const B: usize> Layer<T, B> for ConvTranspose2d<T, S> {
    type Input = S::Input<T, B>;
    type Output = S::Output<T, B>;
    type Inference = ConvInference<S::Output<T, B>, S::Columns<T, 1>>;
    type Training = ConvTransposeBuffers<S::Output<T, B>, S::Columns<T, 1>>;

    fn forward(&self, x: &Self::Input, ws: &mut Self::Inference) {
        for (xs, ys) in samples(x.values(), S::IN, ws.value.values_mut(), S::OUT) {
            self.forward_sample(xs, ws.cols.values_mut(), ys);
        }
    }

    /// As inference: backward needs only the input.
    fn forward_train<R: Rng + ?Sized>(
        &mut self,
        x: &Self::Input,
        tw: &mut Self::Training,
        _: usize,
        _: &mut R,
    ) {
        for (xs, ys) in samples(x.values(), S::IN, tw.value.values_mut(), S::OUT) {
            self.forward_sample(xs, tw.cols.values_mut(), ys);
        }
    }

    /// `dW = Σ im2col(dy)ᵀ x` and `dx = im2col(dy) · Wt`, through the scratch unfolding.
    fn backward(
        &self,
        x: &Self::Input,
        tw: &mut Self::Training,
        grads: Option<&mut Self>,
        dx: Option<(&mut Self::Input, Store)>,
        _: usize,
    ) {
        let g = &S::GEOMETRY;
        let (k, ci) = (g.patch(), S::IN_CHANNELS);
        if let Some(grads) = grads {
            let desc = Gemm { m: k, n: ci, k: g.positions(), a: Op::T, b: Op::N, accumulate: true };
            grads.weight.values_mut().fill(T::zero());
            grads.bias.values_mut().fill(T::zero());
            let plane = g.h * g.w;
            for (xs, gs) in x.values().chunks_exact(S::IN).zip(tw.grad.values().chunks_exact(S::OUT)) {
                im2col(g, gs, tw.cols.values_mut());
                gemm(desc, tw.cols.values(), xs, grads.weight.values_mut());
                for (b, p) in grads.bias.values_mut().iter_mut().zip(gs.chunks_exact(plane)) {
                    *b += super::sum(p);
                }
            }
        }
        if let Some((dx, store)) = dx {
            let accumulate = store == Store::Add;
            let desc = Gemm { m: g.positions(), n: ci, k, a: Op::N, b: Op::N, accumulate };
            for (gs, dxs) in samples(tw.grad.values(), S::OUT, dx.values_mut(), S::IN) {
                im2col(g, gs, tw.cols.values_mut());
                gemm(desc, tw.cols.values(), self.weight.values(), dxs);
            }
        }
    }
}

weight_and_bias!(
    [T: Float, S: ConvShape] ConvTranspose2d<T, S>, "ConvTranspose2d",
    weight: &[S::IN_CHANNELS, S::OUT_CHANNELS, S::GEOMETRY.kh, S::GEOMETRY.kw], Layout::RowMajor,
    bias: &[S::OUT_CHANNELS]
);

/// The inference buffers of a convolution: its output `Y` and one sample's unfolding `C`.
#[derive(Clone, Debug, PartialEq, Zeroable)]
#[zeroable(bound = "Y: Zeroable, C: Zeroable")]
pub struct ConvInference<Y, C> {
    /// The layer's output.
    pub value: Y,
    /// One sample's unfolding (scratch).
    pub cols: C,
}

/// The training buffers of a [`Conv2d`]: output and gradient `Y`, every sample's
/// unfolding `C` (kept for the weight gradient) and a scratch unfolding `D` for the input
/// gradient.
#[derive(Clone, Debug, PartialEq, Zeroable)]
#[zeroable(bound = "Y: Zeroable, C: Zeroable, D: Zeroable")]
pub struct Conv2dBuffers<Y, C, D> {
    /// The layer's output.
    pub value: Y,
    /// The gradient with respect to the output.
    pub grad: Y,
    /// Every sample's unfolding.
    pub cols: C,
    /// Scratch for the input gradient.
    pub dcols: D,
}

/// The training buffers of a [`ConvTranspose2d`]: output and gradient `Y`, and one
/// sample's unfolding `C` (scratch for forward and backward).
#[derive(Clone, Debug, PartialEq, Zeroable)]
#[zeroable(bound = "Y: Zeroable, C: Zeroable")]
pub struct ConvTransposeBuffers<Y, C> {
    /// The layer's output.
    pub value: Y,
    /// The gradient with respect to the output.
    pub grad: Y,
    /// Scratch unfolding.
    pub cols: C,
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::Inference;
    use nalgebra::{SMatrix, SVector};
    use std::vec::Vec;

    /// A `ConvShape` for a test: sizes written out as the macro writes them.
    macro_rules! conv_shape {
        ($name:ident: $ci:literal => $co:literal, geometry $g:expr, in $in:literal, out $out:literal,
         weight ($wr:literal, $wc:literal), cols $cols:literal) => {
            #[derive(Clone, Copy, Debug, Default, PartialEq)]
            struct $name;
            impl Shape for $name {
                const IN: usize = $in;
                const OUT: usize = $out;
                type Input<E: Element, const B: usize> = SMatrix<E, $in, B>;
                type Output<E: Element, const B: usize> = SMatrix<E, $out, B>;
            }
            impl ConvShape for $name {
                const GEOMETRY: Geometry = $g;
                const IN_CHANNELS: usize = $ci;
                const OUT_CHANNELS: usize = $co;
                type Weight<E: Element> = SMatrix<E, $wr, $wc>;
                type Bias<E: Element> = SMatrix<E, $co, 1>;
                type Columns<E: Element, const B: usize> = SMatrix<E, $cols, B>;
            }
        };
    }

    // 2 → 3 channels, 3 × 2 kernel over 7 × 6, stride (2, 1), padding 1: 4 × 7 positions.
    conv_shape!(Odd: 2 => 3, geometry Geometry::new(2, (7, 6), (3, 2), (2, 1), (1, 1)),
        in 84, out 84, weight (12, 3), cols 336);
    // 1 → 2 channels, 2 × 2 kernel, stride 2: 2 × 2 up to 4 × 4 (the adjoint's geometry).
    conv_shape!(Up: 1 => 2, geometry Geometry::new(2, (4, 4), (2, 2), (2, 2), (0, 0)),
        in 4, out 32, weight (8, 1), cols 32);

    /// The formula against a direct count of window positions, for many cases.
    #[test]
    fn output_size_matches_counting_positions() {
        for n in 1..12 {
            for k in 1..8 {
                for s in 1..5 {
                    for p in 0..4 {
                        let counted =
                            (0..n + 2 * p).step_by(s).filter(|&start| start + k <= n + 2 * p).count();
                        let expected = (k <= n + 2 * p).then_some(counted);
                        assert_eq!(conv_output_size(n, k, s, p), expected, "n={n} k={k} s={s} p={p}");
                    }
                }
            }
        }
        assert_eq!(conv_output_size(5, 3, 0, 0), None);
        assert_eq!(conv_output_size(5, 0, 1, 0), None);
    }

    /// Transposed convolution sizes invert convolution sizes when the stride divides evenly.
    #[test]
    fn transposed_sizes_invert_convolution_sizes() {
        for n in 1..10 {
            for k in 1..6 {
                for s in 1..4 {
                    for p in 0..3 {
                        if let Some(big) = conv_transpose_output_size(n, k, s, p) {
                            assert_eq!(conv_output_size(big, k, s, p), Some(n), "n={n} k={k} s={s} p={p}");
                        }
                    }
                }
            }
        }
    }

    // The direct f32 kernels' cases: channels in lanes (16 outputs; padding; stride 2) and
    // columns in lanes (one input channel; rows of two vectors; vertical stride).
    conv_shape!(Lanes: 3 => 16, geometry Geometry::new(3, (6, 7), (3, 3), (1, 1), (1, 1)),
        in 126, out 672, weight (27, 16), cols 1134);
    conv_shape!(Strided: 2 => 16, geometry Geometry::new(2, (9, 9), (3, 3), (2, 2), (0, 0)),
        in 162, out 256, weight (18, 16), cols 288);
    conv_shape!(Rows: 1 => 6, geometry Geometry::new(1, (12, 20), (5, 5), (1, 1), (2, 2)),
        in 240, out 1440, weight (25, 6), cols 6000);
    conv_shape!(Uneven: 1 => 5, geometry Geometry::new(1, (11, 9), (3, 4), (2, 1), (1, 0)),
        in 99, out 180, weight (12, 5), cols 432);

    /// The `f32` passes of a batch of 3 (direct kernels where they apply) against f64
    /// loops: outputs, weight, bias and input gradients.
    #[allow(clippy::needless_range_loop)]
    fn check_f32_against_f64<S: ConvShape>() {
        const B: usize = 3;
        let g = S::GEOMETRY;
        let co = S::OUT_CHANNELS;
        let mut conv = Conv2d::<f32, S>::zeroed();
        for (i, v) in conv.weight.values_mut().iter_mut().enumerate() {
            *v = ((i * 37) % 23) as f32 / 11.0 - 1.0;
        }
        for (i, v) in conv.bias.values_mut().iter_mut().enumerate() {
            *v = i as f32 * 0.1 - 0.3;
        }
        let mut x = <S::Input<f32, B> as Zeroable>::zeroed();
        for (i, v) in x.values_mut().iter_mut().enumerate() {
            *v = ((i * 13) % 31) as f32 / 15.0 - 1.0;
        }
        let w64: Vec<f64> = conv.weight.values().iter().map(|&v| f64::from(v)).collect();
        let b64: Vec<f64> = conv.bias.values().iter().map(|&v| f64::from(v)).collect();
        let mut ws = <Inference<f32, Conv2d<f32, S>, B> as Zeroable>::zeroed();
        let mut tw = <super::super::Training<f32, Conv2d<f32, S>, B> as Zeroable>::zeroed();
        Layer::<f32, B>::forward(&conv, &x, &mut ws);
        Layer::<f32, B>::forward_train(&mut conv, &x, &mut tw, B, &mut crate::rng(0));
        let close = |a: f32, b: f64, what: &str| {
            assert!((f64::from(a) - b).abs() < 1e-4 * (1.0 + b.abs()), "{what}: {a} vs {b} ({g:?})");
        };
        for s in 0..B {
            let xs: Vec<f64> = x.values()[s * S::IN..][..S::IN].iter().map(|&v| f64::from(v)).collect();
            let want = direct(&g, co, &w64, &b64, &xs);
            for (i, w) in want.iter().enumerate() {
                close(ws.value.values()[s * S::OUT + i], *w, "inference");
                close(tw.value.values()[s * S::OUT + i], *w, "training");
            }
        }
        for (i, v) in tw.grad.values_mut().iter_mut().enumerate() {
            *v = ((i * 7) % 19) as f32 / 9.0 - 1.0;
        }
        let mut grads = Conv2d::<f32, S>::zeroed();
        let mut dx = <S::Input<f32, B> as Zeroable>::zeroed();
        Layer::<f32, B>::backward(&conv, &x, &mut tw, Some(&mut grads), Some((&mut dx, Store::Overwrite)), B);
        let (mut dw, mut db, mut dxs) = (vec![0.0f64; w64.len()], vec![0.0f64; co], vec![0.0f64; B * S::IN]);
        for s in 0..B {
            for o in 0..co {
                for oy in 0..g.ho {
                    for ox in 0..g.wo {
                        let d = f64::from(tw.grad.values()[s * S::OUT + (o * g.ho + oy) * g.wo + ox]);
                        db[o] += d;
                        for c in 0..g.c {
                            for ky in 0..g.kh {
                                for kx in 0..g.kw {
                                    if let Some((yy, xx)) = g.source(oy, ox, ky, kx) {
                                        let wi = ((o * g.c + c) * g.kh + ky) * g.kw + kx;
                                        let xi = s * S::IN + (c * g.h + yy) * g.w + xx;
                                        dw[wi] += d * f64::from(x.values()[xi]);
                                        dxs[xi] += d * w64[wi];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        for (a, b) in grads.weight.values().iter().zip(&dw) {
            close(*a, *b, "weight gradient");
        }
        for (a, b) in grads.bias.values().iter().zip(&db) {
            close(*a, *b, "bias gradient");
        }
        for (a, b) in dx.values().iter().zip(&dxs) {
            close(*a, *b, "input gradient");
        }
    }

    #[test]
    fn direct_f32_kernels_match_f64_loops() {
        // On a host with AVX2 or AVX-512 these cases take the direct kernels.
        if crate::kernels::lanes_f32() >= 8 {
            let cols = |s: usize| s * 3;
            assert!(crate::kernels::conv::weight_gradient_applies(&Lanes::GEOMETRY, 16, cols(1134), 1134));
            assert!(crate::kernels::conv::weight_gradient_applies(&Strided::GEOMETRY, 16, cols(288), 288));
            assert!(crate::kernels::conv::weight_gradient_applies(&Rows::GEOMETRY, 6, cols(6000), 6000));
            // Too little scratch for its padded output gradient: inference takes the direct
            // kernel, training unfolds.
            assert!(!crate::kernels::conv::weight_gradient_applies(&Uneven::GEOMETRY, 5, cols(432), 432));
        }
        check_f32_against_f64::<Lanes>();
        check_f32_against_f64::<Strided>();
        check_f32_against_f64::<Rows>();
        check_f32_against_f64::<Uneven>();
        check_f32_against_f64::<Odd>();
    }

    /// A direct 7-loop convolution, the reference.
    fn direct(g: &Geometry, co: usize, w: &[f64], b: &[f64], x: &[f64]) -> Vec<f64> {
        let mut y = vec![0.0; co * g.positions()];
        for o in 0..co {
            for oy in 0..g.ho {
                for ox in 0..g.wo {
                    let mut s = b[o];
                    for c in 0..g.c {
                        for ky in 0..g.kh {
                            for kx in 0..g.kw {
                                if let Some((yy, xx)) = g.source(oy, ox, ky, kx) {
                                    s += w[((o * g.c + c) * g.kh + ky) * g.kw + kx]
                                        * x[(c * g.h + yy) * g.w + xx];
                                }
                            }
                        }
                    }
                    y[(o * g.ho + oy) * g.wo + ox] = s;
                }
            }
        }
        y
    }

    #[test]
    fn im2col_convolution_matches_direct_loops() {
        let g = Odd::GEOMETRY;
        let mut conv = Conv2d::<f64, Odd>::zeroed();
        for (i, v) in conv.weight.iter_mut().enumerate() {
            *v = ((i * 37) % 11) as f64 / 7.0 - 0.6;
        }
        conv.bias = SVector::<f64, 3>::new(0.1, -0.2, 0.3);
        let x: Vec<f64> = (0..g.input_len()).map(|i| ((i * 13) % 17) as f64 / 9.0 - 0.8).collect();
        let mut cols = vec![0.0; g.positions() * g.patch()];
        let mut y = vec![0.0; 3 * g.positions()];
        conv.forward_sample(&x, &mut cols, &mut y);
        let want = direct(&g, 3, conv.weight.as_slice(), conv.bias.as_slice(), &x);
        for (a, b) in y.iter().zip(&want) {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
    }

    /// The row-wise `im2col` against its definition, element by element, and `col2im`
    /// against the adjoint identity, over every small geometry.
    #[test]
    fn unfolding_matches_its_definition_for_every_small_geometry() {
        for (h, w) in [(1, 1), (3, 4), (5, 5), (6, 7)] {
            for (kh, kw) in [(1, 1), (2, 3), (3, 3), (4, 2)] {
                for (sh, sw) in [(1, 1), (2, 1), (1, 3), (2, 2)] {
                    for (ph, pw) in [(0, 0), (1, 0), (0, 2), (2, 1)] {
                        let (Some(_), Some(_)) =
                            (conv_output_size(h, kh, sh, ph), conv_output_size(w, kw, sw, pw))
                        else {
                            continue;
                        };
                        let g = Geometry::new(2, (h, w), (kh, kw), (sh, sw), (ph, pw));
                        let x: Vec<f64> = (0..g.input_len()).map(|i| i as f64 + 1.0).collect();
                        let mut cols = vec![f64::NAN; g.positions() * g.patch()];
                        im2col(&g, &x, &mut cols);
                        let mut column = 0;
                        for c in 0..g.c {
                            for ky in 0..g.kh {
                                for kx in 0..g.kw {
                                    for oy in 0..g.ho {
                                        for ox in 0..g.wo {
                                            let want = g
                                                .source(oy, ox, ky, kx)
                                                .map_or(0.0, |(y, xx)| x[(c * h + y) * w + xx]);
                                            assert_eq!(
                                                cols[column * g.positions() + oy * g.wo + ox],
                                                want,
                                                "{g:?}"
                                            );
                                        }
                                    }
                                    column += 1;
                                }
                            }
                        }
                        let c: Vec<f64> = (0..cols.len()).map(|i| ((i * 7) % 13) as f64).collect();
                        let mut back = vec![f64::NAN; x.len()];
                        col2im(&g, &c, &mut back, Store::Overwrite);
                        let lhs: f64 = cols.iter().zip(&c).map(|(a, b)| a * b).sum();
                        let rhs: f64 = x.iter().zip(&back).map(|(a, b)| a * b).sum();
                        assert_eq!(lhs, rhs, "{g:?}");
                    }
                }
            }
        }
    }

    /// Kernel 2, stride 2: each input pixel stamps its value times the kernel onto its own
    /// 2 × 2 output block (PyTorch's definition, with weights `(in, out, kh, kw)`).
    #[test]
    fn transposed_convolution_by_hand() {
        // 1 input channel, 2 output channels, 2 x 2 input -> 4 x 4 output
        let g = Up::GEOMETRY;
        let mut up = ConvTranspose2d::<f64, Up>::zeroed();
        // PyTorch layout (ci = 0, co, ky, kx): channel 0 kernel [[1, 2], [3, 4]], channel 1 all 10
        up.weight.as_mut_slice().copy_from_slice(&[1.0, 2.0, 3.0, 4.0, 10.0, 10.0, 10.0, 10.0]);
        up.bias = SVector::<f64, 2>::new(0.5, -0.5);
        let x = [1.0, 2.0, 3.0, 4.0];
        let mut cols = vec![0.0; g.positions() * g.patch()];
        let mut y = vec![0.0; 32];
        up.forward_sample(&x, &mut cols, &mut y);
        let channel0 = [
            1.5, 2.5, 2.5, 4.5, //
            3.5, 4.5, 6.5, 8.5, //
            3.5, 6.5, 4.5, 8.5, //
            9.5, 12.5, 12.5, 16.5,
        ];
        assert_eq!(&y[..16], &channel0);
        assert_eq!(&y[16..20], &[9.5, 9.5, 19.5, 19.5]);
    }

    /// `col2im` is the adjoint of `im2col`: ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩.
    #[test]
    fn col2im_is_the_adjoint_of_im2col() {
        let g = Geometry::new(3, (5, 6), (3, 3), (2, 2), (1, 0));
        let x: Vec<f64> = (0..g.input_len()).map(|i| (i as f64 * 0.37).sin()).collect();
        let c: Vec<f64> = (0..g.positions() * g.patch()).map(|i| (i as f64 * 0.11).cos()).collect();
        let mut ix = vec![0.0; c.len()];
        im2col(&g, &x, &mut ix);
        let mut cc = vec![0.0; x.len()];
        col2im(&g, &c, &mut cc, Store::Overwrite);
        let lhs: f64 = ix.iter().zip(&c).map(|(a, b)| a * b).sum();
        let rhs: f64 = x.iter().zip(&cc).map(|(a, b)| a * b).sum();
        assert!((lhs - rhs).abs() < 1e-12, "{lhs} vs {rhs}");
    }
}
