use super::{
    InvalidHyperparameter, Optimizer, OptimizerState, WeightDecay, check_decay, check_learning_rate,
    check_nonnegative, trainable,
};
use crate::Float;
use crate::params::{Parameters, Trainable};
use bytemuck::Zeroable;

/// Settings of [`Adam`]; `Default` is PyTorch's (lr 1e-3, β₁ 0.9, β₂ 0.999, ε 1e-8).
#[derive(Clone, Copy, Debug, PartialEq, Zeroable)]
#[zeroable(bound = "T: Float")]
pub struct AdamConfig<T> {
    /// Learning rate.
    pub lr: T,
    /// `β₁`, decay of the first moment.
    pub beta1: T,
    /// `β₂`, decay of the second moment.
    pub beta2: T,
    /// `ε`, added to `√ŝ`.
    pub eps: T,
    /// Weight decay: L2 (added to the gradient) unless `decoupled`.
    pub weight_decay: WeightDecay<T>,
    /// Decoupled weight decay (AdamW): `w -= lr λ w` before the Adam update, instead of
    /// adding `λ w` to the gradient.
    pub decoupled: bool,
}

impl<T: Float> Default for AdamConfig<T> {
    fn default() -> Self {
        Self {
            lr: T::cast(1e-3),
            beta1: T::cast(0.9),
            beta2: T::cast(0.999),
            eps: T::cast(1e-8),
            weight_decay: WeightDecay::default(),
            decoupled: false,
        }
    }
}

impl<T: Float> AdamConfig<T> {
    /// The defaults with learning rate `lr`.
    pub fn with_lr(lr: T) -> Self {
        Self { lr, ..Self::default() }
    }

    /// Checks the settings: lr finite and `≥ 0`, `β₁` and `β₂` in `[0, 1)`, `ε` and `λ`
    /// finite and `≥ 0`.
    ///
    /// # Errors
    /// [`InvalidHyperparameter`] naming the first one out of range.
    pub fn check(&self) -> Result<(), InvalidHyperparameter> {
        check_learning_rate(self.lr.as_f64())?;
        check_decay("β₁", self.beta1.as_f64())?;
        check_decay("β₂", self.beta2.as_f64())?;
        check_nonnegative("ε", self.eps.as_f64())?;
        self.weight_decay.check()
    }
}

/// Adam with bias correction, as PyTorch's `torch.optim.Adam`:
///
/// ```text
/// v = β₁ v + (1 − β₁) g          s = β₂ s + (1 − β₂) g²
/// w -= lr · (v / (1 − β₁ᵗ)) / (√(s / (1 − β₂ᵗ)) + ε)
/// ```
///
/// Note the second moment is corrected by `β₂`, not `β₁`. The moments are values of
/// type `P`, allocated once.
///
/// ```
/// use sinew::{layers::Dense, optim::{Adam, AdamConfig, Optimizer}};
/// let mut layer = Dense::<f64, 1, 1>::zeroed();
/// let mut grads = Dense::<f64, 1, 1>::zeroed();
/// grads.weight[0] = 0.5;
/// let mut adam = Adam::new(AdamConfig::with_lr(0.1));
/// adam.step(&mut layer, &grads);
/// // the first bias-corrected step moves each weight by lr, whatever the gradient's size
/// assert!((layer.weight[0] + 0.1).abs() < 1e-6);
/// ```
#[derive(Clone, Debug, PartialEq, Zeroable)]
#[zeroable(bound = "T: Float, P: Zeroable")]
pub struct Adam<T: Float, P> {
    /// Settings.
    pub config: AdamConfig<T>,
    moment1: P,
    moment2: P,
    steps: u64,
}

impl<T: Float, P: Parameters<T> + Zeroable> Adam<T, P> {
    /// A fresh optimizer (zero moments), built by value: for small networks and `static`s.
    pub fn new(config: AdamConfig<T>) -> Self {
        Self { config, moment1: P::zeroed(), moment2: P::zeroed(), steps: 0 }
    }

    /// A fresh optimizer on the heap, never passing the moments through the stack.
    #[cfg(feature = "host")]
    pub fn boxed(config: AdamConfig<T>) -> std::boxed::Box<Self> {
        let mut this: std::boxed::Box<Self> = bytemuck::zeroed_box();
        this.config = config;
        this
    }

    /// The first moment `v`.
    pub fn moment1(&self) -> &P {
        &self.moment1
    }

    /// The second moment `s`.
    pub fn moment2(&self) -> &P {
        &self.moment2
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }
}

/// The scalars of one Adam update of one tensor, with the bias corrections folded in:
///
/// ```text
/// g' = g + l2 w
/// v = beta1 v + (1 − beta1) g'          s = beta2 s + (1 − beta2) g'²
/// w = shrink w − step_size v / (√s · inv_sqrt_c2 + eps)
/// ```
///
/// `step_size = lr / (1 − β₁ᵗ)`, `inv_sqrt_c2 = 1 / √(1 − β₂ᵗ)`; `l2` is the coupled weight
/// decay and `shrink = 1 − lr λ` the decoupled one (AdamW). Moments below the smallest
/// normal number are set to 0 ([`Float::flush`](crate::Float::flush)).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamUpdate<T> {
    /// `β₁`.
    pub beta1: T,
    /// `β₂`.
    pub beta2: T,
    /// `lr / (1 − β₁ᵗ)`.
    pub step_size: T,
    /// `1 / √(1 − β₂ᵗ)`.
    pub inv_sqrt_c2: T,
    /// `ε`.
    pub eps: T,
    /// Coupled weight decay `λ` (0 if none or decoupled).
    pub l2: T,
    /// Decoupled weight decay factor `1 − lr λ` (1 if none or coupled).
    pub shrink: T,
}

impl<T: Float> AdamUpdate<T> {
    /// Applies the update to one tensor: weights `w`, moments `v` and `s`, gradient `g`.
    /// This is the portable loop; the optimizer uses a SIMD one for `f32` on the host.
    ///
    /// # Panics
    /// If the slices have different lengths.
    pub fn apply(&self, w: &mut [T], v: &mut [T], s: &mut [T], g: &[T]) {
        assert!(v.len() == w.len() && s.len() == w.len() && g.len() == w.len(), "tensors of different sizes");
        let AdamUpdate { beta1, beta2, step_size, inv_sqrt_c2, eps, l2, shrink } = *self;
        for (((w, v), s), &g) in w.iter_mut().zip(v).zip(s).zip(g) {
            let g = g + l2 * *w;
            *v = (beta1 * *v + (T::one() - beta1) * g).flush();
            *s = (beta2 * *s + (T::one() - beta2) * g * g).flush();
            *w = *w * shrink - step_size * *v / (s.sqrt() * inv_sqrt_c2 + eps);
        }
    }
}

/// One tensor's update with the fastest kernel for `T`: SIMD for `f32` on the host, the
/// portable loop otherwise.
#[inline]
fn update_tensor<T: Float>(update: &AdamUpdate<T>, w: &mut [T], v: &mut [T], s: &mut [T], g: &[T]) {
    #[cfg(feature = "host")]
    {
        use crate::float::{as_f32, as_f32_mut};
        if let (Some(w), Some(v), Some(s), Some(g)) = (as_f32_mut(w), as_f32_mut(v), as_f32_mut(s), as_f32(g))
        {
            // `T` is `f32`: the conversions are exact.
            let AdamUpdate { beta1, beta2, step_size, inv_sqrt_c2, eps, l2, shrink } = *update;
            let [beta1, beta2, step_size, inv_sqrt_c2, eps, l2, shrink] =
                [beta1, beta2, step_size, inv_sqrt_c2, eps, l2, shrink].map(|x| x.as_f64() as f32);
            let update = AdamUpdate { beta1, beta2, step_size, inv_sqrt_c2, eps, l2, shrink };
            return super::adam_simd::adam_f32(&update, w, v, s, g);
        }
    }
    update.apply(w, v, s, g);
}

impl<T: Float, M: Trainable<T, Grads = G>, G: Parameters<T> + Zeroable> Optimizer<T, M> for Adam<T, G> {
    fn step(&mut self, params: &mut M, grads: &G) {
        let AdamConfig { lr, beta1, beta2, eps, weight_decay, decoupled } = self.config;
        self.steps = self.steps.saturating_add(1);
        // β^t is 0 in floating point long before t reaches i32::MAX (β < 1).
        let t = i32::try_from(self.steps).unwrap_or(i32::MAX);
        let correction1 = T::one() - beta1.powi(t);
        let correction2 = T::one() - beta2.powi(t);
        let step_size = lr / correction1;
        let inv_sqrt_c2 = T::one() / correction2.sqrt();
        let (m1, m2) = (&mut self.moment1, &mut self.moment2);
        trainable::<T, G>(|i, info| {
            let lambda = weight_decay.lambda_for(info);
            let (l2, shrink) =
                if decoupled { (T::zero(), T::one() - lr * lambda) } else { (lambda, T::one()) };
            let update = AdamUpdate { beta1, beta2, step_size, inv_sqrt_c2, eps, l2, shrink };
            update_tensor(
                &update,
                params.trainable_mut(i),
                m1.tensor_mut(i),
                m2.tensor_mut(i),
                grads.tensor(i),
            );
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

impl<T: Float, M: Trainable<T, Grads = G>, G: Parameters<T> + Zeroable> OptimizerState<T, M> for Adam<T, G> {
    const SLOTS: &'static [&'static str] = &["exp_avg", "exp_avg_sq"];
    fn slot(&self, index: usize) -> &G {
        match index {
            0 => &self.moment1,
            1 => &self.moment2,
            _ => panic!("`Adam` has 2 state slots, not {}", index + 1),
        }
    }
    fn slot_mut(&mut self, index: usize) -> &mut G {
        match index {
            0 => &mut self.moment1,
            1 => &mut self.moment2,
            _ => panic!("`Adam` has 2 state slots, not {}", index + 1),
        }
    }
    fn steps(&self) -> u64 {
        self.steps
    }
    fn set_steps(&mut self, steps: u64) {
        self.steps = steps;
    }
}
