use super::{
    InvalidHyperparameter, Optimizer, OptimizerState, WeightDecay, check_learning_rate, check_nonnegative,
    trainable,
};
use crate::Float;
use crate::params::{Parameters, Trainable};
use bytemuck::Zeroable;

impl<T: Float> MomentumConfig<T> {
    /// Checks the settings: lr, `μ`, `dampening` and `λ` finite and `≥ 0`.
    ///
    /// # Errors
    /// [`InvalidHyperparameter`] naming the first one out of range.
    pub fn check(&self) -> Result<(), InvalidHyperparameter> {
        check_learning_rate(self.lr.as_f64())?;
        check_nonnegative("momentum μ", self.momentum.as_f64())?;
        check_nonnegative("dampening", self.dampening.as_f64())?;
        self.weight_decay.check()
    }
}

/// Plain (mini-batch) stochastic gradient descent: `w -= lr (g + λ w)`.
///
/// ```
/// use sinew::{layers::Dense, optim::{Optimizer, Sgd}};
/// let mut layer = Dense::<f64, 1, 1>::zeroed();
/// let mut grads = Dense::<f64, 1, 1>::zeroed();
/// grads.weight[0] = 2.0;
/// Sgd::new(0.1).step(&mut layer, &grads);
/// assert_eq!(layer.weight[0], -0.2);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sgd<T: Float> {
    /// Learning rate.
    pub lr: T,
    /// Weight decay.
    pub weight_decay: WeightDecay<T>,
    steps: u64,
}

impl<T: Float> Sgd<T> {
    /// SGD with learning rate `lr` and no weight decay.
    pub fn new(lr: T) -> Self {
        Self { lr, weight_decay: WeightDecay::default(), steps: 0 }
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }
}

/// Plain SGD has no per-parameter state.
impl<T: Float, M: Trainable<T>> OptimizerState<T, M> for Sgd<T> {
    const SLOTS: &'static [&'static str] = &[];
    fn slot(&self, index: usize) -> &M::Grads {
        panic!("`Sgd` has no state slot {index}")
    }
    fn slot_mut(&mut self, index: usize) -> &mut M::Grads {
        panic!("`Sgd` has no state slot {index}")
    }
    fn steps(&self) -> u64 {
        self.steps
    }
    fn set_steps(&mut self, steps: u64) {
        self.steps = steps;
    }
}

impl<T: Float, M: Trainable<T>> Optimizer<T, M> for Sgd<T> {
    fn step(&mut self, params: &mut M, grads: &M::Grads) {
        self.steps = self.steps.saturating_add(1);
        let lr = self.lr;
        trainable::<T, M::Grads>(|i, info| {
            let lambda = self.weight_decay.lambda_for(info);
            for (w, &g) in params.trainable_mut(i).iter_mut().zip(grads.tensor(i)) {
                *w -= lr * (g + lambda * *w);
            }
        });
    }
    fn learning_rate(&self) -> T {
        self.lr
    }
    fn set_learning_rate(&mut self, lr: T) {
        self.lr = lr;
    }
    fn check(&self) -> Result<(), InvalidHyperparameter> {
        check_learning_rate(self.lr.as_f64())?;
        self.weight_decay.check()
    }
}

/// Settings of [`Momentum`]; `Default` is PyTorch's `SGD(momentum=0.9)` with lr 0.01.
#[derive(Clone, Copy, Debug, PartialEq, Zeroable)]
#[zeroable(bound = "T: Float")]
pub struct MomentumConfig<T> {
    /// Learning rate.
    pub lr: T,
    /// `μ`, the momentum factor.
    pub momentum: T,
    /// Dampening of new gradients: `v = μ v + (1 − dampening) g`. With
    /// `dampening = momentum` this is the "exponentially weighted average" form.
    pub dampening: T,
    /// Nesterov momentum.
    pub nesterov: bool,
    /// Weight decay.
    pub weight_decay: WeightDecay<T>,
}

impl<T: Float> Default for MomentumConfig<T> {
    fn default() -> Self {
        Self {
            lr: T::cast(0.01),
            momentum: T::cast(0.9),
            dampening: T::zero(),
            nesterov: false,
            weight_decay: WeightDecay::default(),
        }
    }
}

/// SGD with momentum, as PyTorch's `torch.optim.SGD(momentum=μ)`: the first step sets
/// `v = g`, later steps `v = μ v + (1 − dampening) g`; then `w -= lr v`
/// (Nesterov: `w -= lr (g + μ v)`). The velocity `v` is a value of type `P`.
/// A velocity below the smallest normal number is set to 0 ([`Float::flush`]).
#[derive(Clone, Debug, PartialEq, Zeroable)]
#[zeroable(bound = "T: Float, P: Zeroable")]
pub struct Momentum<T: Float, P> {
    /// Settings.
    pub config: MomentumConfig<T>,
    velocity: P,
    steps: u64,
}

impl<T: Float, P: Parameters<T> + Zeroable> Momentum<T, P> {
    /// A fresh optimizer (zero velocity), built by value: for small networks and `static`s.
    pub fn new(config: MomentumConfig<T>) -> Self {
        Self { config, velocity: P::zeroed(), steps: 0 }
    }

    /// A fresh optimizer on the heap, never passing the velocity through the stack.
    #[cfg(feature = "host")]
    pub fn boxed(config: MomentumConfig<T>) -> std::boxed::Box<Self> {
        let mut this: std::boxed::Box<Self> = bytemuck::zeroed_box();
        this.config = config;
        this
    }

    /// The velocity.
    pub fn velocity(&self) -> &P {
        &self.velocity
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }
}

impl<T: Float, M: Trainable<T, Grads = G>, G: Parameters<T> + Zeroable> Optimizer<T, M> for Momentum<T, G> {
    fn step(&mut self, params: &mut M, grads: &G) {
        let MomentumConfig { lr, momentum, dampening, nesterov, weight_decay } = self.config;
        let first = self.steps == 0;
        self.steps = self.steps.saturating_add(1);
        let velocity = &mut self.velocity;
        trainable::<T, G>(|i, info| {
            let lambda = weight_decay.lambda_for(info);
            let w = params.trainable_mut(i);
            let v = velocity.tensor_mut(i);
            for ((w, v), &g) in w.iter_mut().zip(v).zip(grads.tensor(i)) {
                let g = g + lambda * *w;
                *v = if first { g } else { (momentum * *v + (T::one() - dampening) * g).flush() };
                let d = if nesterov { g + momentum * *v } else { *v };
                *w -= lr * d;
            }
        });
    }
    fn learning_rate(&self) -> T {
        self.config.lr
    }
    fn set_learning_rate(&mut self, lr: T) {
        self.config.lr = lr;
    }
    fn check(&self) -> Result<(), InvalidHyperparameter> {
        self.config.check()
    }
}

impl<T: Float, M: Trainable<T, Grads = G>, G: Parameters<T> + Zeroable> OptimizerState<T, M>
    for Momentum<T, G>
{
    const SLOTS: &'static [&'static str] = &["momentum_buffer"];
    fn slot(&self, index: usize) -> &G {
        assert_eq!(index, 0, "`Momentum` has one state slot");
        &self.velocity
    }
    fn slot_mut(&mut self, index: usize) -> &mut G {
        assert_eq!(index, 0, "`Momentum` has one state slot");
        &mut self.velocity
    }
    fn steps(&self) -> u64 {
        self.steps
    }
    fn set_steps(&mut self, steps: u64) {
        self.steps = steps;
    }
}
