use super::{Buffers, Layer, Store, Value};
use crate::Float;
use crate::init::Init;
use crate::linalg;
use crate::params::Layout;
use bytemuck::Zeroable;
use nalgebra::{SMatrix, SVector};
use rand_core::Rng;

/// A fully connected layer: `z = W x + b`.
///
/// # Shapes
/// - `weight` `W`: `(O, I)`, PyTorch's `Linear.weight` (`(out_features, in_features)`);
/// - `bias` `b`: `(O, 1)`;
/// - input `x`: `(I, B)`, one column per sample; output `z`: `(O, B)`.
///
/// # Gradients
/// With `G = dL/dz` (`(O, B)`): `dL/dW = G xᵀ`, `dL/db = Σ_samples G`, `dL/dx = Wᵀ G`.
///
/// ```
/// use sinew::{layers::Dense, SMatrix};
/// let mut layer = Dense::<f64, 2, 1>::zeroed();
/// layer.weight = SMatrix::<f64, 1, 2>::new(1.0, 2.0);
/// layer.bias[0] = 0.5;
/// let x = SMatrix::<f64, 2, 1>::new(3.0, 4.0);
/// let mut z = SMatrix::<f64, 1, 1>::zeros();
/// layer.forward(&x, &mut z);
/// assert_eq!(z[0], 1.0 * 3.0 + 2.0 * 4.0 + 0.5);
/// ```
#[derive(Clone, Debug, PartialEq, Zeroable)]
#[zeroable(bound = "T: Float")]
pub struct Dense<T: Float, const I: usize, const O: usize> {
    /// `W`, `(O, I)`.
    pub weight: SMatrix<T, O, I>,
    /// `b`, `(O, 1)`.
    pub bias: SVector<T, O>,
}

impl<T: Float, const I: usize, const O: usize> Dense<T, I, O> {
    /// Inputs per sample.
    pub const INPUTS: usize = I;
    /// Outputs per sample.
    pub const OUTPUTS: usize = O;
    /// Trainable values: `O·I + O`.
    pub const PARAMETERS: usize = O * I + O;

    /// All weights and biases zero.
    pub fn zeroed() -> Self {
        Zeroable::zeroed()
    }

    /// Draws `W` with `init` and sets `b = 0`.
    pub fn init<R: Rng + ?Sized>(&mut self, init: Init, rng: &mut R) {
        init.fill(self.weight.as_mut_slice(), I, O, rng);
        self.bias.fill(T::zero());
    }

    /// `z = W x + b` for every column of `x`.
    #[inline]
    pub fn forward<const B: usize>(&self, x: &SMatrix<T, I, B>, z: &mut SMatrix<T, O, B>) {
        for column in z.as_mut_slice().chunks_exact_mut(O) {
            column.copy_from_slice(self.bias.as_slice());
        }
        linalg::matmul(&self.weight, x, z, true);
    }

    /// Parameter gradients `dL/dW = G xᵀ`, `dL/db = Σ G`, written (not added) into `grads`.
    #[inline]
    pub fn backward_params<const B: usize>(x: &SMatrix<T, I, B>, grad: &SMatrix<T, O, B>, grads: &mut Self) {
        linalg::matmul_nt(grad, x, &mut grads.weight, false);
        let bias = grads.bias.as_mut_slice();
        bias.fill(T::zero());
        for column in grad.as_slice().chunks_exact(O) {
            for (b, &g) in bias.iter_mut().zip(column) {
                *b += g;
            }
        }
    }

    /// The input gradient `dL/dx = Wᵀ G`, written or added to `input_grad` as `store`
    /// says.
    #[inline]
    pub fn backward_input<const B: usize>(
        &self,
        grad: &SMatrix<T, O, B>,
        input_grad: &mut SMatrix<T, I, B>,
        store: Store,
    ) {
        linalg::matmul_tn(&self.weight, grad, input_grad, store == Store::Add);
    }
}

/// A dense layer reads `(I, B)` and writes `(O, B)`; it keeps nothing else for backward.
impl<T: Float, const I: usize, const O: usize, const B: usize> Layer<T, B> for Dense<T, I, O> {
    type Input = SMatrix<T, I, B>;
    type Output = SMatrix<T, O, B>;
    type Inference = Value<SMatrix<T, O, B>>;
    type Training = Buffers<SMatrix<T, O, B>>;

    #[inline]
    fn forward(&self, x: &Self::Input, ws: &mut Self::Inference) {
        Dense::forward(self, x, &mut ws.value);
    }

    #[inline]
    fn forward_train<R: Rng + ?Sized>(
        &mut self,
        x: &Self::Input,
        tw: &mut Self::Training,
        _: usize,
        _: &mut R,
    ) {
        Dense::forward(self, x, &mut tw.value);
    }

    #[inline]
    fn backward(
        &self,
        x: &Self::Input,
        tw: &mut Self::Training,
        grads: Option<&mut Self>,
        dx: Option<(&mut Self::Input, Store)>,
        _: usize,
    ) {
        if let Some(grads) = grads {
            Self::backward_params(x, &tw.grad, grads);
        }
        if let Some((dx, store)) = dx {
            self.backward_input(&tw.grad, dx, store);
        }
    }
}

// The layer on its own: tensors `weight` (PyTorch's `(out, in)`) and `bias`.
weight_and_bias!(
    [T: Float, const I: usize, const O: usize] Dense<T, I, O>, "Dense",
    weight: &[O, I], Layout::ColumnMajor,
    bias: &[O]
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng;

    #[test]
    fn literal_forward_and_backward() {
        // W = [[1, 2], [3, 4], [5, 6]], b = [1, 0, -1]
        let mut layer = Dense::<f64, 2, 3>::zeroed();
        layer.weight = SMatrix::<f64, 3, 2>::new(1.0, 2.0, 3.0, 4.0, 5.0, 6.0);
        layer.bias = SVector::<f64, 3>::new(1.0, 0.0, -1.0);
        // two samples: [1, 1] and [2, -1]
        let x = SMatrix::<f64, 2, 2>::new(1.0, 2.0, 1.0, -1.0);
        let mut z = SMatrix::<f64, 3, 2>::zeros();
        layer.forward(&x, &mut z);
        assert_eq!(z, SMatrix::<f64, 3, 2>::new(4.0, 1.0, 7.0, 2.0, 10.0, 3.0));

        let g = SMatrix::<f64, 3, 2>::new(1.0, 0.0, 0.0, 1.0, 1.0, 1.0);
        let mut grads = Dense::<f64, 2, 3>::zeroed();
        Dense::backward_params(&x, &g, &mut grads);
        // G xᵀ
        assert_eq!(grads.weight, g * x.transpose());
        assert_eq!(grads.bias, SVector::<f64, 3>::new(1.0, 1.0, 2.0));
        let mut dx = SMatrix::<f64, 2, 2>::zeros();
        layer.backward_input(&g, &mut dx, Store::Overwrite);
        assert_eq!(dx, layer.weight.transpose() * g);
        layer.backward_input(&g, &mut dx, Store::Add);
        assert_eq!(dx, layer.weight.transpose() * g * 2.0);
        layer.backward_input(&g, &mut dx, Store::Overwrite);
        assert_eq!(dx, layer.weight.transpose() * g);
    }

    #[test]
    fn init_is_seeded_and_scaled() {
        let mut a = Dense::<f32, 400, 300>::zeroed();
        let mut b = Dense::<f32, 400, 300>::zeroed();
        a.init(Init::He { negative_slope: 0.0 }, &mut rng(1));
        b.init(Init::He { negative_slope: 0.0 }, &mut rng(1));
        assert_eq!(a, b);
        let n = a.weight.len() as f64;
        let var = a.weight.iter().map(|&w| f64::from(w) * f64::from(w)).sum::<f64>() / n;
        assert!((var - 2.0 / 400.0).abs() < 0.05 * 2.0 / 400.0, "variance {var}");
        assert!(a.bias.iter().all(|&b| b == 0.0));
    }
}
