use super::{Layer, Shape, Store, Values};
use crate::Float;
use bytemuck::Zeroable;
use core::marker::PhantomData;
use rand_core::Rng;

/// Inverted dropout: during training each unit is kept with probability `keep` and
/// scaled by `1 / keep`, so that the expected activation is unchanged; at inference the
/// layer is the identity (the generated code reads through it).
///
/// `keep` is the probability of *keeping* a unit (PyTorch's `p` is `1 - keep`), a constant
/// of the layer's [`DropoutShape`]; the macro checks that it lies in `(0, 1]`.
///
/// # Shapes
/// Input, output and mask: `(N, B)`.
///
/// ```
/// use sinew::{layers::{Dropout, DropoutShape, Element, Layer, Shape, Training}, rng, SMatrix, Zeroable};
///
/// #[derive(Clone, Copy, Debug, Default, PartialEq)]
/// struct Keep80;
/// impl Shape for Keep80 {
///     const IN: usize = 1000;
///     const OUT: usize = 1000;
///     type Input<E: Element, const B: usize> = SMatrix<E, 1000, B>;
///     type Output<E: Element, const B: usize> = SMatrix<E, 1000, B>;
/// }
/// impl DropoutShape for Keep80 {
///     const KEEP: f64 = 0.8;
/// }
///
/// let x = SMatrix::<f32, 1000, 1>::repeat(1.0);
/// let mut tw = Training::<f32, Dropout<Keep80>, 1>::zeroed();
/// Layer::<f32, 1>::forward_train(&mut Dropout::<Keep80>::new(), &x, &mut tw, 1, &mut rng(3));
/// let kept = tw.value.iter().filter(|&&v| v != 0.0).count();
/// assert!((750..850).contains(&kept));
/// assert!(tw.value.iter().all(|&v| v == 0.0 || v == 1.25));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Dropout<S>(PhantomData<S>);

/// The shape and setting of a [`Dropout`]: `IN = OUT` units, kept with probability `KEEP`.
pub trait DropoutShape: Shape {
    /// Probability of keeping a unit, in `(0, 1]`.
    const KEEP: f64;
}

impl<S> Dropout<S> {
    /// The layer (it has no parameters).
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<T: Float, S: DropoutShape, const B: usize> Layer<T, B> for Dropout<S> {
    type Input = S::Input<T, B>;
    type Output = S::Input<T, B>;
    /// None: at inference the layer is the identity.
    type Inference = ();
    type Training = DropoutBuffers<S::Input<T, B>>;

    /// The identity: nothing to compute (the generated code reads `x` instead).
    fn forward(&self, _: &Self::Input, _: &mut ()) {}

    /// Draws a fresh mask and applies it: `y = x ⊙ mask`, with `mask ∈ {0, 1/keep}`.
    fn forward_train<R: Rng + ?Sized>(
        &mut self,
        x: &Self::Input,
        tw: &mut Self::Training,
        _: usize,
        rng: &mut R,
    ) {
        const {
            assert!(
                S::IN == S::OUT && S::KEEP > 0.0 && S::KEEP <= 1.0,
                "DropoutShape: keep must be in (0, 1]"
            )
        };
        // P(u < threshold) = keep for u uniform on [0, 2^32).
        let threshold = (S::KEEP * 4_294_967_296.0) as u64;
        let scale = T::one() / T::cast(S::KEEP);
        for m in tw.mask.values_mut() {
            *m = if u64::from(rng.next_u32()) < threshold { scale } else { T::zero() };
        }
        for ((y, &x), &m) in tw.value.values_mut().iter_mut().zip(x.values()).zip(tw.mask.values()) {
            *y = x * m;
        }
    }

    /// `dL/dx = dL/dy ⊙ mask`.
    fn backward(
        &self,
        _: &Self::Input,
        tw: &mut Self::Training,
        _: Option<&mut Self>,
        dx: Option<(&mut Self::Input, Store)>,
        _: usize,
    ) {
        let Some((dx, store)) = dx else { return };
        let pairs = dx.values_mut().iter_mut().zip(tw.grad.values().iter().zip(tw.mask.values()));
        match store {
            Store::Overwrite => pairs.for_each(|(d, (&g, &m))| *d = g * m),
            Store::Add => pairs.for_each(|(d, (&g, &m))| *d += g * m),
        }
    }
}

/// The buffers of a dropout layer: output, gradient and the mask of the last training
/// pass, each `Y`.
#[derive(Clone, Debug, PartialEq, Zeroable)]
#[zeroable(bound = "Y: Zeroable")]
pub struct DropoutBuffers<Y> {
    /// The layer's output.
    pub value: Y,
    /// The gradient with respect to the output.
    pub grad: Y,
    /// `1 / keep` where a unit was kept, 0 where it was dropped.
    pub mask: Y,
}
