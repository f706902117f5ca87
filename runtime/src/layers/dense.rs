use super::{Buffers, Element, Layer, Shape, Store, Value, Values};
use crate::Float;
use crate::init::Init;
use crate::linalg::{self, Gemm, Op, gemm};
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

/// The shape of a [`DenseSteps`]: `STEPS` steps of `INPUTS` features in (`IN = T·I`), of
/// `OUTPUTS` out (`OUT = T·O`). `network!` writes one per layer.
pub trait DenseStepsShape: Shape {
    /// `T`, the steps.
    const STEPS: usize;
    /// `I`, the features of a step in.
    const INPUTS: usize;
    /// `O`, the features of a step out.
    const OUTPUTS: usize;
    /// `W`, `(O, I)`.
    type Weight<E: Element>: Values<E>;
    /// `b`, `(O, 1)`.
    type Bias<E: Element>: Values<E>;
}

/// A dense layer applied at every step of a sequence, with the same weights at every
/// step: `z_t = W x_t + b`, PyTorch's `Linear` on a `(batch, T, features)` tensor (the
/// many-to-many output of a recurrent network).
///
/// # Shapes
/// `weight` `(O, I)` and `bias` `(O)` as [`Dense`]; input `(T·I, B)`, output `(T·O, B)`,
/// sequences in sinew's layout (see [`Recurrent`](super::Recurrent)). Seen as `(I, B·T)`
/// and `(O, B·T)`, each step of each sample is a column, so every pass is one product.
///
/// # Gradients
/// With `G = dL/dz` over every step: `dL/dW = G xᵀ` and `dL/db = Σ G`, summed over the steps
/// as over the samples, and `dL/dx = Wᵀ G`.
#[derive(Clone, Debug, PartialEq, Zeroable)]
#[zeroable(bound = "T: Float, S: DenseStepsShape")]
pub struct DenseSteps<T: Float, S: DenseStepsShape> {
    /// `W`, `(O, I)`.
    pub weight: S::Weight<T>,
    /// `b`, `(O, 1)`.
    pub bias: S::Bias<T>,
}

/// Checks, once per shape type, that its sizes agree.
const fn check_steps<S: DenseStepsShape>() {
    assert!(
        S::IN == S::STEPS * S::INPUTS
            && S::OUT == S::STEPS * S::OUTPUTS
            && size_of::<S::Weight<u8>>() == S::INPUTS * S::OUTPUTS
            && size_of::<S::Bias<u8>>() == S::OUTPUTS,
        "DenseStepsShape: sizes disagree"
    );
}

impl<T: Float, S: DenseStepsShape> DenseSteps<T, S> {
    /// All weights and biases zero.
    pub fn zeroed() -> Self {
        Zeroable::zeroed()
    }

    /// Draws `W` with `init` and sets `b = 0`.
    pub fn init<R: Rng + ?Sized>(&mut self, init: Init, rng: &mut R) {
        init.fill(self.weight.values_mut(), S::INPUTS, S::OUTPUTS, rng);
        self.bias.values_mut().fill(T::zero());
    }

    /// `z = W x + b` for every step of every sample; `n` is `B·T`.
    fn affine(&self, x: &[T], z: &mut [T], n: usize) {
        const { check_steps::<S>() };
        for column in z.chunks_exact_mut(S::OUTPUTS) {
            column.copy_from_slice(self.bias.values());
        }
        let desc = Gemm { m: S::OUTPUTS, n, k: S::INPUTS, a: Op::N, b: Op::N, accumulate: true };
        gemm(desc, self.weight.values(), x, z);
    }
}

impl<T: Float, S: DenseStepsShape, const B: usize> Layer<T, B> for DenseSteps<T, S> {
    type Input = S::Input<T, B>;
    type Output = S::Output<T, B>;
    type Inference = Value<S::Output<T, B>>;
    type Training = Buffers<S::Output<T, B>>;

    fn forward(&self, x: &Self::Input, ws: &mut Self::Inference) {
        self.affine(x.values(), ws.value.values_mut(), B * S::STEPS);
    }

    fn forward_train<R: Rng + ?Sized>(
        &mut self,
        x: &Self::Input,
        tw: &mut Self::Training,
        _: usize,
        _: &mut R,
    ) {
        self.affine(x.values(), tw.value.values_mut(), B * S::STEPS);
    }

    fn backward(
        &self,
        x: &Self::Input,
        tw: &mut Self::Training,
        grads: Option<&mut Self>,
        dx: Option<(&mut Self::Input, Store)>,
        _: usize,
    ) {
        let (i, o, n) = (S::INPUTS, S::OUTPUTS, B * S::STEPS);
        if let Some(grads) = grads {
            let desc = Gemm { m: o, n: i, k: n, a: Op::N, b: Op::T, accumulate: false };
            gemm(desc, tw.grad.values(), x.values(), grads.weight.values_mut());
            let bias = grads.bias.values_mut();
            bias.fill(T::zero());
            for column in tw.grad.values().chunks_exact(o) {
                bias.iter_mut().zip(column).for_each(|(b, &g)| *b += g);
            }
        }
        if let Some((dx, store)) = dx {
            let desc = Gemm { m: i, n, k: o, a: Op::T, b: Op::N, accumulate: store == Store::Add };
            gemm(desc, self.weight.values(), tw.grad.values(), dx.values_mut());
        }
    }
}

// Tensors `weight` (PyTorch's `(out, in)`) and `bias`, as `Dense`'s.
weight_and_bias!(
    [T: Float, S: DenseStepsShape] DenseSteps<T, S>, "DenseSteps",
    weight: &[S::OUTPUTS, S::INPUTS], Layout::ColumnMajor,
    bias: &[S::OUTPUTS]
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
