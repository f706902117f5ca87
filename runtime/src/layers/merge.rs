//! The layers that join values in a graph: [`Add`] sums them, [`Concat`] stacks them.

use super::{Buffers, Shape, Store, Value, Values};
use crate::Float;
use bytemuck::Zeroable;
use core::marker::PhantomData;

/// A layer that reads several values, `PARTS[i]` values per sample from input `i`, and
/// writes one: one forward over all its inputs, and backward one input at a time (each
/// input's gradient has its own destination and [`Store`]). The joining counterpart of
/// [`Layer`](super::Layer): `network!` emits
///
/// ```text
/// Join::<T, B>::forward(&Add::<Net_sum>::new(), &[values(&ws.n2.value), values(&ws.c1.value)], &mut ws.sum.value);
/// Join::<T, B>::backward(&Add::<Net_sum>::new(), 1, &tw.sum.grad, values_mut(&mut tw.c1.grad), Store::Add);
/// ```
pub trait Join<T: Float, const B: usize> {
    /// The batch written, `(OUT, B)`.
    type Output: Values<T>;
    /// Buffers for inference: the output.
    type Inference: Zeroable;
    /// Buffers for training: the output and its gradient.
    type Training: Zeroable;

    /// `y = join(inputs)`; input `i` holds `B` columns of `PARTS[i]` values.
    ///
    /// # Panics
    /// If the inputs' sizes are not those of the shape.
    fn forward(&self, inputs: &[&[T]], y: &mut Self::Output);

    /// The gradient of input `part` from `grad = dL/dy`, written or added to `dx` as
    /// `store` says.
    fn backward(&self, part: usize, grad: &Self::Output, dx: &mut [T], store: Store);
}

/// The shape of a [`Join`]: the sizes of its inputs, per sample. `network!` writes one per
/// layer.
pub trait JoinShape: Shape {
    /// Values per sample of each input, in order.
    const PARTS: &'static [usize];
}

/// `dx = g` or `dx += g`.
fn store_all<T: Float>(dx: &mut [T], g: &[T], store: Store) {
    match store {
        Store::Overwrite => dx.copy_from_slice(g),
        Store::Add => dx.iter_mut().zip(g).for_each(|(d, &v)| *d += v),
    }
}

/// The sum of values of one shape, as in a residual connection `y = f(x) + x`.
///
/// # Shapes
/// Every input and the output `(N, B)`.
///
/// # Computation
/// `y = Σ_i x_i`; backward, every input receives `dL/dy` unchanged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Add<S>(PhantomData<S>);

impl<S> Add<S> {
    /// The layer (it has no parameters).
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<T: Float, S: JoinShape, const B: usize> Join<T, B> for Add<S> {
    type Output = S::Output<T, B>;
    type Inference = Value<S::Output<T, B>>;
    type Training = Buffers<S::Output<T, B>>;

    fn forward(&self, inputs: &[&[T]], y: &mut Self::Output) {
        let y = y.values_mut();
        let (first, rest) = inputs.split_first().expect("`Add` needs at least one input");
        y.copy_from_slice(first);
        for x in rest {
            store_all(y, x, Store::Add);
        }
    }

    fn backward(&self, _: usize, grad: &Self::Output, dx: &mut [T], store: Store) {
        store_all(dx, grad.values(), store);
    }
}

/// Values stacked along their first axis: images along channels (NCHW columns, so the
/// channels of the second input follow those of the first), feature vectors along
/// features. GoogLeNet's Inception module and U-Net's skip connections.
///
/// # Shapes
/// Input `i` is `(N_i, B)`, placed at rows `offset_i .. offset_i + N_i` of the `(N, B)`
/// output, with `N = Σ N_i` and `N_i = PARTS[i]`.
///
/// # Computation
/// `y[offset_i + r] = x_i[r]`; backward, `dL/dx_i` is the matching rows of `dL/dy`.
///
/// ```
/// use sinew::{layers::{Concat, Element, Join, JoinShape, Shape, Store}, SMatrix};
///
/// /// 1 + 2 features.
/// #[derive(Clone, Copy, Debug, Default, PartialEq)]
/// struct Both;
/// impl Shape for Both {
///     const IN: usize = 3;
///     const OUT: usize = 3;
///     type Input<E: Element, const B: usize> = SMatrix<E, 3, B>;
///     type Output<E: Element, const B: usize> = SMatrix<E, 3, B>;
/// }
/// impl JoinShape for Both {
///     const PARTS: &'static [usize] = &[1, 2];
/// }
///
/// let (a, b) = (SMatrix::<f64, 1, 2>::new(1.0, 2.0), SMatrix::<f64, 2, 2>::new(3.0, 4.0, 5.0, 6.0));
/// let mut y = SMatrix::<f64, 3, 2>::zeros();
/// let concat = Concat::<Both>::new();
/// Join::<f64, 2>::forward(&concat, &[a.as_slice(), b.as_slice()], &mut y);
/// assert_eq!(y, SMatrix::<f64, 3, 2>::new(1.0, 2.0, 3.0, 4.0, 5.0, 6.0));
/// let mut db = SMatrix::<f64, 2, 2>::zeros();
/// Join::<f64, 2>::backward(&concat, 1, &y, db.as_mut_slice(), Store::Overwrite);
/// assert_eq!(db, b);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Concat<S>(PhantomData<S>);

impl<S> Concat<S> {
    /// The layer (it has no parameters).
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<S: JoinShape> Concat<S> {
    /// The first row of input `part`.
    fn offset(part: usize) -> usize {
        S::PARTS[..part].iter().sum()
    }
}

impl<T: Float, S: JoinShape, const B: usize> Join<T, B> for Concat<S> {
    type Output = S::Output<T, B>;
    type Inference = Value<S::Output<T, B>>;
    type Training = Buffers<S::Output<T, B>>;

    fn forward(&self, inputs: &[&[T]], y: &mut Self::Output) {
        assert!(
            inputs.len() == S::PARTS.len(),
            "`Concat` joins {} inputs, not {}",
            S::PARTS.len(),
            inputs.len()
        );
        let mut offset = 0;
        for (x, &rows) in inputs.iter().zip(S::PARTS) {
            for (xs, ys) in x.chunks_exact(rows).zip(y.values_mut().chunks_exact_mut(S::OUT)) {
                ys[offset..offset + rows].copy_from_slice(xs);
            }
            offset += rows;
        }
    }

    fn backward(&self, part: usize, grad: &Self::Output, dx: &mut [T], store: Store) {
        let (offset, rows) = (Self::offset(part), S::PARTS[part]);
        for (gs, ds) in grad.values().chunks_exact(S::OUT).zip(dx.chunks_exact_mut(rows)) {
            store_all(ds, &gs[offset..offset + rows], store);
        }
    }
}
