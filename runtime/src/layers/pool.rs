use super::conv::Geometry;
use super::{Buffers, Layer, Shape, Store, Value, Values, samples};
use crate::Float;
use bytemuck::Zeroable;
use core::marker::PhantomData;
use rand_core::Rng;

/// 2-d max pooling per channel, as PyTorch's `MaxPool2d`: each output is the largest input
/// under its window; padding never wins (it counts as −∞). Ties go to the first position
/// in row-major window order, as in PyTorch.
///
/// # Shapes
/// Input `(c·h·w, B)`, output `(c·ho·wo, B)`; the [`Geometry`] gives the sizes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MaxPool2d<S>(PhantomData<S>);

/// 2-d average pooling per channel, as PyTorch's `AvgPool2d` (with its default
/// `count_include_pad = true`: the divisor is always `kh·kw`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AvgPool2d<S>(PhantomData<S>);

/// The shape of a pooling layer: its window ([`Geometry`]), with `IN = c·h·w` and
/// `OUT = c·ho·wo`. `network!` writes one per layer.
pub trait WindowShape: Shape {
    /// The window over the input.
    const GEOMETRY: Geometry;
}

/// Checks, once per shape type, that its sizes agree with its window.
const fn check_window<S: WindowShape>() {
    let g = S::GEOMETRY;
    assert!(S::IN == g.input_len() && S::OUT == g.c * g.positions(), "WindowShape: sizes disagree");
}

impl<S> MaxPool2d<S> {
    /// The layer (it has no parameters).
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<S> AvgPool2d<S> {
    /// The layer (it has no parameters).
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

/// Max pooling's kernels, on one geometry.
struct Max;

/// Average pooling's kernels, on one geometry.
struct Avg;

fn check(g: &Geometry, input: usize, output: usize) {
    assert!(
        input == g.input_len() && output == g.c * g.positions(),
        "pooling over {g:?} cannot take {input} inputs to {output} outputs"
    );
}

/// The input rows and columns under output `(oy, ox)`, clipped to the input.
#[inline(always)]
fn window(g: &Geometry, oy: usize, ox: usize) -> (core::ops::Range<usize>, core::ops::Range<usize>) {
    let y0 = (oy * g.sh).saturating_sub(g.ph);
    let y1 = (oy * g.sh + g.kh).saturating_sub(g.ph).min(g.h);
    let x0 = (ox * g.sw).saturating_sub(g.pw);
    let x1 = (ox * g.sw + g.kw).saturating_sub(g.pw).min(g.w);
    (y0..y1, x0..x1)
}

/// Whether the window is the common 2 × 2, stride 2, no padding, on even sizes.
fn two_by_two(g: &Geometry) -> bool {
    (g.kh, g.kw, g.sh, g.sw, g.ph, g.pw) == (2, 2, 2, 2, 0, 0)
        && g.h.is_multiple_of(2)
        && g.w.is_multiple_of(2)
}

impl Max {
    /// The 2 × 2 / stride 2 case: each output row from two input rows, by pairs.
    fn forward_2x2<T: Float>(g: &Geometry, x: &[T], y: &mut [T], mut argmax: Option<&mut [u32]>) {
        let w = g.w;
        for (r, (rows, out)) in x.chunks_exact(2 * w).zip(y.chunks_exact_mut(g.wo)).enumerate() {
            let (top, bottom) = rows.split_at(w);
            let base = r * 2 * w;
            for (ox, ((t, b), o)) in
                top.chunks_exact(2).zip(bottom.chunks_exact(2)).zip(out.iter_mut()).enumerate()
            {
                // First maximum in row-major window order, as PyTorch.
                let (mut best, mut at) = (t[0], 0);
                for (k, &v) in [t[1], b[0], b[1]].iter().enumerate() {
                    if v > best {
                        best = v;
                        at = k + 1;
                    }
                }
                *o = best;
                if let Some(a) = argmax.as_deref_mut() {
                    let offset = [0, 1, w, w + 1][at];
                    a[r * g.wo + ox] = (base + 2 * ox + offset) as u32;
                }
            }
        }
    }

    /// One sample; records the winning input index of every output in `argmax` if given.
    fn forward_sample<T: Float>(g: &Geometry, x: &[T], y: &mut [T], mut argmax: Option<&mut [u32]>) {
        check(g, x.len(), y.len());
        if two_by_two(g) {
            return Self::forward_2x2(g, x, y, argmax);
        }
        let mut o = 0;
        for c in 0..g.c {
            let plane = c * g.h * g.w;
            for oy in 0..g.ho {
                for ox in 0..g.wo {
                    let (rows, cols) = window(g, oy, ox);
                    let mut best = plane + rows.start * g.w + cols.start;
                    for yy in rows {
                        for xx in cols.clone() {
                            let i = plane + yy * g.w + xx;
                            if x[i] > x[best] {
                                best = i;
                            }
                        }
                    }
                    y[o] = x[best];
                    if let Some(a) = argmax.as_deref_mut() {
                        a[o] = best as u32;
                    }
                    o += 1;
                }
            }
        }
    }

    /// Inference on a batch.
    #[inline]
    fn forward<T: Float>(g: &Geometry, x: &[T], y: &mut [T]) {
        for (xs, ys) in samples(x, g.input_len(), y, g.c * g.positions()) {
            Self::forward_sample(g, xs, ys, None);
        }
    }

    /// Training forward on a batch, recording the winners for backward.
    #[inline]
    fn forward_train<T: Float>(g: &Geometry, x: &[T], y: &mut [T], argmax: &mut [u32]) {
        let out = g.c * g.positions();
        for ((xs, ys), a) in samples(x, g.input_len(), y, out).zip(argmax.chunks_exact_mut(out)) {
            Self::forward_sample(g, xs, ys, Some(a));
        }
    }

    /// `dL/dx`: each output's gradient goes to its winning input; written or added to
    /// `input_grad` as `store` says.
    #[inline]
    fn backward<T: Float>(g: &Geometry, grad: &[T], argmax: &[u32], input_grad: &mut [T], store: Store) {
        let out = g.c * g.positions();
        for ((gs, dx), a) in samples(grad, out, input_grad, g.input_len()).zip(argmax.chunks_exact(out)) {
            if store == Store::Overwrite {
                dx.fill(T::zero());
            }
            for (&gv, &i) in gs.iter().zip(a) {
                dx[i as usize] += gv;
            }
        }
    }
}

impl Avg {
    /// One sample.
    fn forward_sample<T: Float>(g: &Geometry, x: &[T], y: &mut [T]) {
        check(g, x.len(), y.len());
        let scale = T::one() / T::cast((g.kh * g.kw) as f64);
        let mut o = 0;
        for c in 0..g.c {
            let plane = &x[c * g.h * g.w..(c + 1) * g.h * g.w];
            for oy in 0..g.ho {
                for ox in 0..g.wo {
                    let (rows, cols) = window(g, oy, ox);
                    let mut sum = T::zero();
                    for yy in rows {
                        for &v in &plane[yy * g.w + cols.start..yy * g.w + cols.end] {
                            sum += v;
                        }
                    }
                    y[o] = sum * scale;
                    o += 1;
                }
            }
        }
    }

    /// Forward on a batch (the same in training: backward needs nothing recorded).
    #[inline]
    fn forward<T: Float>(g: &Geometry, x: &[T], y: &mut [T]) {
        for (xs, ys) in samples(x, g.input_len(), y, g.c * g.positions()) {
            Self::forward_sample(g, xs, ys);
        }
    }

    /// `dL/dx`: each output's gradient is spread evenly over its window; written or added
    /// to `input_grad` as `store` says.
    #[inline]
    fn backward<T: Float>(g: &Geometry, grad: &[T], input_grad: &mut [T], store: Store) {
        let scale = T::one() / T::cast((g.kh * g.kw) as f64);
        for (gs, dx) in samples(grad, g.c * g.positions(), input_grad, g.input_len()) {
            if store == Store::Overwrite {
                dx.fill(T::zero());
            }
            let mut o = 0;
            for c in 0..g.c {
                let plane = &mut dx[c * g.h * g.w..(c + 1) * g.h * g.w];
                for oy in 0..g.ho {
                    for ox in 0..g.wo {
                        let share = gs[o] * scale;
                        let (rows, cols) = window(g, oy, ox);
                        for yy in rows {
                            for v in &mut plane[yy * g.w + cols.start..yy * g.w + cols.end] {
                                *v += share;
                            }
                        }
                        o += 1;
                    }
                }
            }
        }
    }
}

/// The training buffers of a [`MaxPool2d`]: output and gradient `Y`, and the winning
/// input of every output `A`.
#[derive(Clone, Debug, PartialEq, Zeroable)]
#[zeroable(bound = "Y: Zeroable, A: Zeroable")]
pub struct MaxPoolBuffers<Y, A> {
    /// The layer's output.
    pub value: Y,
    /// The gradient with respect to the output.
    pub grad: Y,
    /// Index (within the sample) of each output's winning input.
    pub argmax: A,
}

impl<T: Float, S: WindowShape, const B: usize> Layer<T, B> for MaxPool2d<S> {
    type Input = S::Input<T, B>;
    type Output = S::Output<T, B>;
    type Inference = Value<S::Output<T, B>>;
    type Training = MaxPoolBuffers<S::Output<T, B>, S::Output<u32, B>>;

    fn forward(&self, x: &Self::Input, ws: &mut Self::Inference) {
        const { check_window::<S>() };
        Max::forward(&S::GEOMETRY, x.values(), ws.value.values_mut());
    }

    /// Records the winners for backward.
    fn forward_train<R: Rng + ?Sized>(
        &mut self,
        x: &Self::Input,
        tw: &mut Self::Training,
        _: usize,
        _: &mut R,
    ) {
        const { check_window::<S>() };
        Max::forward_train(&S::GEOMETRY, x.values(), tw.value.values_mut(), tw.argmax.values_mut());
    }

    /// Each output's gradient goes to its winning input.
    fn backward(
        &self,
        _: &Self::Input,
        tw: &mut Self::Training,
        _: Option<&mut Self>,
        dx: Option<(&mut Self::Input, Store)>,
        _: usize,
    ) {
        if let Some((dx, store)) = dx {
            Max::backward(&S::GEOMETRY, tw.grad.values(), tw.argmax.values(), dx.values_mut(), store);
        }
    }
}

impl<T: Float, S: WindowShape, const B: usize> Layer<T, B> for AvgPool2d<S> {
    type Input = S::Input<T, B>;
    type Output = S::Output<T, B>;
    type Inference = Value<S::Output<T, B>>;
    type Training = Buffers<S::Output<T, B>>;

    fn forward(&self, x: &Self::Input, ws: &mut Self::Inference) {
        const { check_window::<S>() };
        Avg::forward(&S::GEOMETRY, x.values(), ws.value.values_mut());
    }

    /// As inference: backward needs nothing recorded.
    fn forward_train<R: Rng + ?Sized>(
        &mut self,
        x: &Self::Input,
        tw: &mut Self::Training,
        _: usize,
        _: &mut R,
    ) {
        const { check_window::<S>() };
        Avg::forward(&S::GEOMETRY, x.values(), tw.value.values_mut());
    }

    /// Each output's gradient is spread evenly over its window.
    fn backward(
        &self,
        _: &Self::Input,
        tw: &mut Self::Training,
        _: Option<&mut Self>,
        dx: Option<(&mut Self::Input, Store)>,
        _: usize,
    ) {
        if let Some((dx, store)) = dx {
            Avg::backward(&S::GEOMETRY, tw.grad.values(), dx.values_mut(), store);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::SMatrix;

    #[test]
    fn pools_by_hand() {
        // one channel, 4 × 4, 2 × 2 windows
        let g = Geometry::new(1, (4, 4), (2, 2), (2, 2), (0, 0));
        let x = SMatrix::<f64, 16, 1>::from_column_slice(&[
            1.0, 2.0, 5.0, 0.0, //
            3.0, 4.0, 1.0, 1.0, //
            0.0, 0.0, 2.0, 2.0, //
            9.0, 0.0, 2.0, 2.0,
        ]);
        let mut y = SMatrix::<f64, 4, 1>::zeros();
        let mut arg = SMatrix::<u32, 4, 1>::zeros();
        Max::forward_train(&g, x.as_slice(), y.as_mut_slice(), arg.as_mut_slice());
        assert_eq!(y.as_slice(), &[4.0, 5.0, 9.0, 2.0]);
        assert_eq!(arg.as_slice(), &[5, 2, 12, 10]); // ties: the first 2 in the last window
        Avg::forward(&g, x.as_slice(), y.as_mut_slice());
        assert_eq!(y.as_slice(), &[2.5, 1.75, 2.25, 2.0]);
        let dy = SMatrix::<f64, 4, 1>::from_column_slice(&[1.0, 2.0, 3.0, 4.0]);
        let mut dx = SMatrix::<f64, 16, 1>::zeros();
        Max::backward(&g, dy.as_slice(), arg.as_slice(), dx.as_mut_slice(), Store::Overwrite);
        assert_eq!((dx[5], dx[2], dx[12], dx[10], dx.sum()), (1.0, 2.0, 3.0, 4.0, 10.0));
        Avg::backward(&g, dy.as_slice(), dx.as_mut_slice(), Store::Overwrite);
        assert_eq!((dx[0], dx[15], dx.sum()), (0.25, 1.0, 10.0));
        Avg::backward(&g, dy.as_slice(), dx.as_mut_slice(), Store::Add);
        assert_eq!((dx[0], dx[15], dx.sum()), (0.5, 2.0, 20.0));
        Max::backward(&g, dy.as_slice(), arg.as_slice(), dx.as_mut_slice(), Store::Add);
        assert_eq!((dx[0], dx[5], dx.sum()), (0.5, 1.5, 30.0));
    }

    #[test]
    fn padding_never_wins_a_max() {
        let g = Geometry::new(1, (2, 2), (2, 2), (2, 2), (1, 1));
        let x = SMatrix::<f64, 4, 1>::from_column_slice(&[-1.0, -2.0, -3.0, -4.0]);
        let mut y = SMatrix::<f64, 4, 1>::zeros();
        Max::forward(&g, x.as_slice(), y.as_mut_slice());
        assert_eq!(y.as_slice(), &[-1.0, -2.0, -3.0, -4.0]);
    }
}
