use super::{
    InvalidHyperparameter, Optimizer, OptimizerState, WeightDecay, check, check_learning_rate,
    check_nonnegative, trainable,
};
use crate::Float;
use crate::params::{Parameters, Trainable};
use bytemuck::Zeroable;

/// Settings of [`RmsProp`]; `Default` is PyTorch's (lr 0.01, α 0.99, ε 1e-8).
#[derive(Clone, Copy, Debug, PartialEq, Zeroable)]
#[zeroable(bound = "T: Float")]
pub struct RmsPropConfig<T> {
    /// Learning rate.
    pub lr: T,
    /// `α`, the decay of the squared-gradient average.
    pub alpha: T,
    /// `ε`, added to the root mean square.
    pub eps: T,
    /// Weight decay.
    pub weight_decay: WeightDecay<T>,
}

impl<T: Float> Default for RmsPropConfig<T> {
    fn default() -> Self {
        Self {
            lr: T::cast(0.01),
            alpha: T::cast(0.99),
            eps: T::cast(1e-8),
            weight_decay: WeightDecay::default(),
        }
    }
}

impl<T: Float> RmsPropConfig<T> {
    /// Checks the settings: lr finite and `≥ 0`, `α` in `[0, 1]`, `ε` and `λ` finite and
    /// `≥ 0`.
    ///
    /// # Errors
    /// [`InvalidHyperparameter`] naming the first one out of range.
    pub fn check(&self) -> Result<(), InvalidHyperparameter> {
        check_learning_rate(self.lr.as_f64())?;
        let alpha = self.alpha.as_f64();
        check("α", alpha, (0.0..=1.0).contains(&alpha), "in [0, 1]")?;
        check_nonnegative("ε", self.eps.as_f64())?;
        self.weight_decay.check()
    }
}

/// RMSprop: `s = α s + (1 − α) g²`, `w -= lr g / (√s + ε)`, as PyTorch's
/// `torch.optim.RMSprop`. The average `s` is a value of type `P`.
///
/// An average below the smallest normal number is set to 0 ([`Float::flush`](crate::Float::flush)).
#[derive(Clone, Debug, PartialEq, Zeroable)]
#[zeroable(bound = "T: Float, P: Zeroable")]
pub struct RmsProp<T: Float, P> {
    /// Settings.
    pub config: RmsPropConfig<T>,
    square_avg: P,
    steps: u64,
}

impl<T: Float, P: Parameters<T> + Zeroable> RmsProp<T, P> {
    /// A fresh optimizer, built by value.
    pub fn new(config: RmsPropConfig<T>) -> Self {
        Self { config, square_avg: P::zeroed(), steps: 0 }
    }

    /// A fresh optimizer on the heap, never passing its state through the stack.
    #[cfg(feature = "host")]
    pub fn boxed(config: RmsPropConfig<T>) -> std::boxed::Box<Self> {
        let mut this: std::boxed::Box<Self> = bytemuck::zeroed_box();
        this.config = config;
        this
    }

    /// The running average of squared gradients.
    pub fn square_avg(&self) -> &P {
        &self.square_avg
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }
}

impl<T: Float, M: Trainable<T, Grads = G>, G: Parameters<T> + Zeroable> Optimizer<T, M> for RmsProp<T, G> {
    fn step(&mut self, params: &mut M, grads: &G) {
        let RmsPropConfig { lr, alpha, eps, weight_decay } = self.config;
        self.steps = self.steps.saturating_add(1);
        let state = &mut self.square_avg;
        trainable::<T, G>(|i, info| {
            let lambda = weight_decay.lambda_for(info);
            let w = params.trainable_mut(i);
            let s = state.tensor_mut(i);
            for ((w, s), &g) in w.iter_mut().zip(s).zip(grads.tensor(i)) {
                let g = g + lambda * *w;
                *s = (alpha * *s + (T::one() - alpha) * g * g).flush();
                *w -= lr * g / (s.sqrt() + eps);
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
    for RmsProp<T, G>
{
    const SLOTS: &'static [&'static str] = &["square_avg"];
    fn slot(&self, index: usize) -> &G {
        assert_eq!(index, 0, "`RmsProp` has one state slot");
        &self.square_avg
    }
    fn slot_mut(&mut self, index: usize) -> &mut G {
        assert_eq!(index, 0, "`RmsProp` has one state slot");
        &mut self.square_avg
    }
    fn steps(&self) -> u64 {
        self.steps
    }
    fn set_steps(&mut self, steps: u64) {
        self.steps = steps;
    }
}
