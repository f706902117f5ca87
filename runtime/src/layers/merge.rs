//! The layers that join values in a graph: [`Add`] sums them, [`Concat`] stacks them.

use super::Store;
use crate::Float;
use nalgebra::SMatrix;

/// The sum of values of one shape, as in a residual connection `y = f(x) + x`.
///
/// # Shapes
/// Every input and the output `(N, B)`.
///
/// # Computation
/// `y = Σ_i x_i`; backward, every input receives `dL/dy` unchanged.
///
/// ```
/// use sinew::{layers::{Add, Store}, SMatrix};
///
/// let (a, b) = (SMatrix::<f64, 2, 1>::new(1.0, 2.0), SMatrix::<f64, 2, 1>::new(10.0, 20.0));
/// let mut y = SMatrix::<f64, 2, 1>::zeros();
/// Add::forward(&[&a, &b], &mut y);
/// assert_eq!(y, SMatrix::<f64, 2, 1>::new(11.0, 22.0));
/// let mut da = SMatrix::<f64, 2, 1>::new(1.0, 1.0);
/// Add::backward(&y, &mut da, Store::Add);
/// assert_eq!(da, SMatrix::<f64, 2, 1>::new(12.0, 23.0));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Add;

impl Add {
    /// `y = Σ inputs`.
    ///
    /// # Panics
    /// If `inputs` is empty.
    pub fn forward<T: Float, const N: usize, const B: usize>(
        inputs: &[&SMatrix<T, N, B>],
        y: &mut SMatrix<T, N, B>,
    ) {
        let (first, rest) = inputs.split_first().expect("`Add` needs at least one input");
        y.copy_from(first);
        for x in rest {
            *y += *x;
        }
    }

    /// One input's gradient: `dL/dx_i = dL/dy`, written or added to `input_grad` as
    /// `store` says.
    pub fn backward<T: Float, const N: usize, const B: usize>(
        grad: &SMatrix<T, N, B>,
        input_grad: &mut SMatrix<T, N, B>,
        store: Store,
    ) {
        match store {
            Store::Overwrite => input_grad.copy_from(grad),
            Store::Add => *input_grad += grad,
        }
    }
}

/// Values stacked along their first axis: images along channels (NCHW columns, so the
/// channels of the second input follow those of the first), feature vectors along
/// features. GoogLeNet's Inception module and U-Net's skip connections.
///
/// # Shapes
/// Input `i` is `(N_i, B)`, placed at rows `offset_i .. offset_i + N_i` of the `(N, B)`
/// output, with `N = Σ N_i`.
///
/// # Computation
/// `y[offset_i + r] = x_i[r]`; backward, `dL/dx_i` is the matching rows of `dL/dy`.
///
/// ```
/// use sinew::{layers::{Concat, Store}, SMatrix};
///
/// let (a, b) = (SMatrix::<f64, 1, 2>::new(1.0, 2.0), SMatrix::<f64, 2, 2>::new(3.0, 4.0, 5.0, 6.0));
/// let mut y = SMatrix::<f64, 3, 2>::zeros();
/// Concat::forward(&a, 0, &mut y);
/// Concat::forward(&b, 1, &mut y);
/// assert_eq!(y, SMatrix::<f64, 3, 2>::new(1.0, 2.0, 3.0, 4.0, 5.0, 6.0));
/// let mut db = SMatrix::<f64, 2, 2>::zeros();
/// Concat::backward(&y, 1, &mut db, Store::Overwrite);
/// assert_eq!(db, b);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Concat;

impl Concat {
    /// Copies `x` into rows `offset .. offset + P` of `y`.
    ///
    /// # Panics
    /// If the rows do not fit (`offset + P > N`).
    pub fn forward<T: Float, const P: usize, const N: usize, const B: usize>(
        x: &SMatrix<T, P, B>,
        offset: usize,
        y: &mut SMatrix<T, N, B>,
    ) {
        y.fixed_rows_mut::<P>(offset).copy_from(x);
    }

    /// `dL/dx` for the input at `offset`: rows `offset .. offset + P` of `dL/dy`, written or
    /// added to `input_grad` as `store` says.
    ///
    /// # Panics
    /// If the rows do not fit (`offset + P > N`).
    pub fn backward<T: Float, const P: usize, const N: usize, const B: usize>(
        grad: &SMatrix<T, N, B>,
        offset: usize,
        input_grad: &mut SMatrix<T, P, B>,
        store: Store,
    ) {
        let rows = grad.fixed_rows::<P>(offset);
        match store {
            Store::Overwrite => input_grad.copy_from(&rows),
            Store::Add => *input_grad += rows,
        }
    }
}
