//! Optimizers and learning-rate schedules.
//!
//! An optimizer updates every trainable tensor of a [`Parameters`] value from the
//! gradients, a value of the same type. Its state (momenta, squared averages) is also a
//! value of that type, allocated once when the optimizer is made; [`Optimizer::step`]
//! allocates nothing.
//!
//! | optimizer | update (with `g` the gradient plus weight decay) | defaults |
//! |---|---|---|
//! | [`Sgd`] | `w -= lr g` | — |
//! | [`Momentum`] | `v = μ v + (1 − dampening) g`; `w -= lr v` (Nesterov: `lr (g + μ v)`) | μ = 0.9 |
//! | [`RmsProp`] | `s = α s + (1 − α) g²`; `w -= lr g / (√s + ε)` | lr 0.01, α 0.99, ε 1e-8 |
//! | [`Adam`] | `v = β₁ v + (1 − β₁) g`, `s = β₂ s + (1 − β₂) g²`, `w -= lr v̂ / (√ŝ + ε)` with `v̂ = v / (1 − β₁ᵗ)`, `ŝ = s / (1 − β₂ᵗ)` | lr 1e-3, β₁ 0.9, β₂ 0.999, ε 1e-8 |
//!
//! These follow PyTorch's `torch.optim` exactly (the first momentum step takes `v = g`),
//! so results can be compared number for number.
//!
//! **Gradient clipping** by global norm wraps any of them: [`ClipGradNorm`].
//!
//! **Weight decay** (L2 regularisation) adds `λ/2 ‖W‖²` to the loss, i.e. `λ W` to the
//! gradient of every [`Role::Weight`] tensor; biases are decayed only with
//! `decay_biases`. [`Adam`] can instead decay decoupled from the gradient (AdamW).

mod adam;
#[cfg(feature = "host")]
mod adam_simd;
mod clip;
mod rmsprop;
mod schedule;

mod sgd;

pub use adam::{Adam, AdamConfig, AdamUpdate};
pub use clip::{ClipGradNorm, global_norm};
pub use rmsprop::{RmsProp, RmsPropConfig};
pub use schedule::Schedule;
pub use sgd::{Momentum, MomentumConfig, Sgd};

use crate::Float;
use crate::params::{Parameters, Role, TensorInfo, Trainable};

/// Updates the trainable tensors of `M` from their gradients (`M::Grads`, the network's
/// own type unless it has frozen layers).
pub trait Optimizer<T: Float, M: Trainable<T>> {
    /// One update of every trainable tensor. Allocates nothing.
    fn step(&mut self, params: &mut M, grads: &M::Grads);
    /// The current learning rate.
    fn learning_rate(&self) -> T;
    /// Sets the learning rate (used by schedules).
    fn set_learning_rate(&mut self, lr: T);
    /// Checks every hyperparameter (the learning rate finite and `≥ 0`, decay factors in
    /// their ranges, `ε ≥ 0`, `λ ≥ 0`): a NaN or negative rate would silently destroy
    /// the network. [`Fit::run`](crate::train::Fit) calls it before training.
    ///
    /// # Errors
    /// [`InvalidHyperparameter`] naming the first one out of range.
    fn check(&self) -> Result<(), InvalidHyperparameter>;
}

/// A hyperparameter outside the range where it means anything (a NaN, infinite or
/// negative learning rate, a decay factor outside `[0, 1)`, ...).
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
#[error("the {name} is {value}, but it must be {expected}")]
pub struct InvalidHyperparameter {
    /// Which hyperparameter.
    pub name: &'static str,
    /// Its value.
    pub value: f64,
    /// The range it must be in.
    pub expected: &'static str,
}

/// Checks a learning rate: finite and `≥ 0`.
///
/// # Errors
/// [`InvalidHyperparameter`] otherwise.
pub fn check_learning_rate(lr: f64) -> Result<(), InvalidHyperparameter> {
    check("learning rate", lr, lr.is_finite() && lr >= 0.0, "finite and ≥ 0")
}

pub(crate) fn check(
    name: &'static str,
    value: f64,
    ok: bool,
    expected: &'static str,
) -> Result<(), InvalidHyperparameter> {
    if ok { Ok(()) } else { Err(InvalidHyperparameter { name, value, expected }) }
}

/// `[0, 1)`, where an exponential average forgets.
pub(crate) fn check_decay(name: &'static str, v: f64) -> Result<(), InvalidHyperparameter> {
    check(name, v, (0.0..1.0).contains(&v), "in [0, 1)")
}

/// Finite and `≥ 0`.
pub(crate) fn check_nonnegative(name: &'static str, v: f64) -> Result<(), InvalidHyperparameter> {
    check(name, v, v.is_finite() && v >= 0.0, "finite and ≥ 0")
}

/// An optimizer's state as values of the gradient type, for checkpoints. Slot names
/// follow PyTorch's `optimizer.state_dict()` (`exp_avg`, `exp_avg_sq`, `momentum_buffer`,
/// `square_avg`).
pub trait OptimizerState<T: Float, M: Trainable<T>> {
    /// The names of the per-parameter state values.
    const SLOTS: &'static [&'static str];
    /// The `index`-th state value.
    ///
    /// # Panics
    /// If `index >= Self::SLOTS.len()`.
    fn slot(&self, index: usize) -> &M::Grads;
    /// The `index`-th state value, mutably.
    ///
    /// # Panics
    /// If `index >= Self::SLOTS.len()`.
    fn slot_mut(&mut self, index: usize) -> &mut M::Grads;
    /// Steps taken.
    fn steps(&self) -> u64;
    /// Sets the number of steps taken (when restoring a checkpoint).
    fn set_steps(&mut self, steps: u64);
}

/// Weight decay settings shared by all optimizers.
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Zeroable)]
#[zeroable(bound = "T: Float")]
pub struct WeightDecay<T> {
    /// `λ`: `λ W` is added to the gradient of weights.
    pub lambda: T,
    /// Also decay biases.
    pub decay_biases: bool,
}

impl<T: Float> Default for WeightDecay<T> {
    fn default() -> Self {
        Self { lambda: T::zero(), decay_biases: false }
    }
}

impl<T: Float> WeightDecay<T> {
    /// Checks `λ`: finite and `≥ 0`.
    ///
    /// # Errors
    /// [`InvalidHyperparameter`] otherwise.
    pub fn check(&self) -> Result<(), InvalidHyperparameter> {
        check_nonnegative("weight decay λ", self.lambda.as_f64())
    }

    /// `λ` for a tensor, or 0 if it is not decayed.
    #[inline]
    pub fn lambda_for(&self, info: &TensorInfo) -> T {
        match info.role {
            Role::Weight => self.lambda,
            Role::Bias if self.decay_biases => self.lambda,
            _ => T::zero(),
        }
    }
}

/// Calls `f(index, info)` for every trained tensor of the gradient type `G` (buffers such
/// as batch norm's running statistics are not trained).
#[inline]
fn trainable<T: Float, G: Parameters<T>>(mut f: impl FnMut(usize, &TensorInfo)) {
    for (i, info) in G::TENSORS.iter().enumerate() {
        if info.role != Role::Buffer {
            f(i, info);
        }
    }
}
