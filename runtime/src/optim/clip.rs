//! Gradient clipping by global norm, for any optimizer.

use super::{InvalidHyperparameter, Optimizer, OptimizerState, trainable};
use crate::Float;
use crate::params::{Parameters, Trainable};
use bytemuck::Zeroable;

/// Any optimizer, with the gradients clipped by their global norm first, as PyTorch's
/// `torch.nn.utils.clip_grad_norm_`: with `‖g‖` the Euclidean norm of every trained
/// gradient together, a step uses `g · max_norm / (‖g‖ + 10⁻⁶)` when `‖g‖ > max_norm`, and
/// `g` unchanged otherwise. Recurrent networks need it: backpropagation through time can
/// multiply a gradient many times over.
///
/// The scaled gradients go into a copy made once with the optimizer (one more
/// gradient-sized value, like a momentum), so a step allocates nothing and the caller's
/// gradients are left as they were. Checkpoints hold the inner optimizer's state.
///
/// ```
/// use sinew::{layers::Dense, optim::{ClipGradNorm, Optimizer, Sgd}};
/// let mut layer = Dense::<f64, 1, 1>::zeroed();
/// let mut grads = Dense::<f64, 1, 1>::zeroed();
/// grads.weight[0] = 3.0;
/// grads.bias[0] = 4.0; // ‖g‖ = 5
/// let mut sgd = ClipGradNorm::new(Sgd::new(1.0), 1.0);
/// sgd.step(&mut layer, &grads);
/// assert!((layer.weight[0] + 0.6).abs() < 1e-6 && (layer.bias[0] + 0.8).abs() < 1e-6);
/// assert_eq!(sgd.last_norm(), 5.0);
/// ```
#[derive(Clone, Debug)]
pub struct ClipGradNorm<O, G> {
    /// The optimizer that takes the clipped step.
    pub inner: O,
    /// The largest global norm a step uses.
    pub max_norm: f64,
    scratch: G,
    last_norm: f64,
}

impl<O, G: Zeroable> ClipGradNorm<O, G> {
    /// Clips `inner`'s gradients to a global norm of at most `max_norm`.
    pub fn new(inner: O, max_norm: f64) -> Self {
        Self { inner, max_norm, scratch: G::zeroed(), last_norm: 0.0 }
    }

    /// The global norm of the gradients of the last step, before clipping (as PyTorch's
    /// `clip_grad_norm_` returns it).
    pub fn last_norm(&self) -> f64 {
        self.last_norm
    }
}

/// The Euclidean norm of every trained tensor of `grads` together, in `f64`.
pub fn global_norm<T: Float, G: Parameters<T>>(grads: &G) -> f64 {
    let mut sum = 0.0;
    trainable::<T, G>(|i, _| {
        sum += grads.tensor(i).iter().map(|g| g.as_f64() * g.as_f64()).sum::<f64>();
    });
    nalgebra::ComplexField::sqrt(sum)
}

impl<T, M, G, O> Optimizer<T, M> for ClipGradNorm<O, G>
where
    T: Float,
    M: Trainable<T, Grads = G>,
    G: Parameters<T> + Zeroable,
    O: Optimizer<T, M>,
{
    fn step(&mut self, params: &mut M, grads: &G) {
        let norm = global_norm(grads);
        self.last_norm = norm;
        if norm <= self.max_norm {
            return self.inner.step(params, grads);
        }
        let scale = T::cast(self.max_norm / (norm + 1e-6));
        let scratch = &mut self.scratch;
        trainable::<T, G>(|i, _| {
            for (s, &g) in scratch.tensor_mut(i).iter_mut().zip(grads.tensor(i)) {
                *s = g * scale;
            }
        });
        self.inner.step(params, &self.scratch);
    }

    fn learning_rate(&self) -> T {
        self.inner.learning_rate()
    }

    fn set_learning_rate(&mut self, lr: T) {
        self.inner.set_learning_rate(lr);
    }

    /// The inner optimizer's checks, and `max_norm` finite and positive.
    fn check(&self) -> Result<(), InvalidHyperparameter> {
        if !(self.max_norm.is_finite() && self.max_norm > 0.0) {
            return Err(InvalidHyperparameter {
                name: "gradient clipping norm",
                value: self.max_norm,
                expected: "finite and > 0",
            });
        }
        self.inner.check()
    }
}

impl<T, M, G, O> OptimizerState<T, M> for ClipGradNorm<O, G>
where
    T: Float,
    M: Trainable<T, Grads = G>,
    O: OptimizerState<T, M>,
{
    const SLOTS: &'static [&'static str] = O::SLOTS;
    fn slot(&self, index: usize) -> &G {
        self.inner.slot(index)
    }
    fn slot_mut(&mut self, index: usize) -> &mut G {
        self.inner.slot_mut(index)
    }
    fn steps(&self) -> u64 {
        self.inner.steps()
    }
    fn set_steps(&mut self, steps: u64) {
        self.inner.set_steps(steps);
    }
}
