use super::{Buffers, Layer, Shape, Store, Value, Values, samples};
use crate::Float;
use core::marker::PhantomData;
use rand_core::Rng;

/// Global average pooling, as PyTorch's `AdaptiveAvgPool2d(1)` followed by `flatten(1)`: the
/// mean of each channel over all its positions, the head of ResNet and Inception.
///
/// # Shapes
/// Its [`Shape`] `S` reads `(C·P, B)` (each column one sample in NCHW order, `P = h·w`
/// positions per channel) and writes `(C, B)`: `S::OUT` is the channel count and
/// `P = S::IN / S::OUT`.
///
/// # Computation
/// `y[c] = (1/P) Σ_p x[c·P + p]`; backward `dx[c·P + p] = dy[c] / P`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GlobalAvgPool<S>(PhantomData<S>);

impl<S> GlobalAvgPool<S> {
    /// The layer (it has no parameters).
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<S: Shape> GlobalAvgPool<S> {
    /// Positions per channel.
    const SPATIAL: usize = {
        assert!(
            S::OUT > 0 && S::IN > 0 && S::IN.is_multiple_of(S::OUT),
            "GlobalAvgPool: IN must be OUT · positions"
        );
        S::IN / S::OUT
    };

    /// `y = mean over positions`, per channel and sample.
    fn pool<T: Float>(x: &[T], y: &mut [T]) {
        let spatial = Self::SPATIAL;
        let scale = T::one() / T::cast(spatial as f64);
        for (xs, ys) in samples(x, S::IN, y, S::OUT) {
            for (plane, out) in xs.chunks_exact(spatial).zip(ys) {
                *out = super::sum(plane) * scale;
            }
        }
    }
}

impl<T: Float, S: Shape, const B: usize> Layer<T, B> for GlobalAvgPool<S> {
    type Input = S::Input<T, B>;
    type Output = S::Output<T, B>;
    type Inference = Value<S::Output<T, B>>;
    type Training = Buffers<S::Output<T, B>>;

    fn forward(&self, x: &Self::Input, ws: &mut Self::Inference) {
        Self::pool(x.values(), ws.value.values_mut());
    }

    fn forward_train<R: Rng + ?Sized>(
        &mut self,
        x: &Self::Input,
        tw: &mut Self::Training,
        _: usize,
        _: &mut R,
    ) {
        Self::pool(x.values(), tw.value.values_mut());
    }

    /// Each channel's gradient spread evenly over its positions.
    fn backward(
        &self,
        _: &Self::Input,
        tw: &mut Self::Training,
        _: Option<&mut Self>,
        dx: Option<(&mut Self::Input, Store)>,
        _: usize,
    ) {
        let Some((dx, store)) = dx else { return };
        let spatial = Self::SPATIAL;
        let scale = T::one() / T::cast(spatial as f64);
        for (gs, dxs) in samples(tw.grad.values(), S::OUT, dx.values_mut(), S::IN) {
            for (&g, plane) in gs.iter().zip(dxs.chunks_exact_mut(spatial)) {
                let share = g * scale;
                match store {
                    Store::Overwrite => plane.fill(share),
                    Store::Add => plane.iter_mut().for_each(|v| *v += share),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::{Element, Training};
    use bytemuck::Zeroable;
    use nalgebra::SMatrix;

    /// 2 channels of 2 positions.
    #[derive(Clone, Copy, Debug, Default, PartialEq)]
    struct Two;
    impl Shape for Two {
        const IN: usize = 4;
        const OUT: usize = 2;
        type Input<E: Element, const B: usize> = SMatrix<E, 4, B>;
        type Output<E: Element, const B: usize> = SMatrix<E, 2, B>;
    }

    #[test]
    fn means_and_spreads_by_hand() {
        let x = SMatrix::<f64, 4, 1>::from_column_slice(&[1.0, 3.0, 10.0, 20.0]);
        let mut pool = GlobalAvgPool::<Two>::new();
        let mut tw = Training::<f64, GlobalAvgPool<Two>, 1>::zeroed();
        Layer::<f64, 1>::forward_train(&mut pool, &x, &mut tw, 1, &mut crate::rng(0));
        assert_eq!(tw.value.as_slice(), &[2.0, 15.0]);
        tw.grad = SMatrix::<f64, 2, 1>::new(1.0, 4.0);
        let mut dx = SMatrix::<f64, 4, 1>::repeat(1.0);
        Layer::<f64, 1>::backward(&pool, &x, &mut tw, None, Some((&mut dx, Store::Overwrite)), 1);
        assert_eq!(dx.as_slice(), &[0.5, 0.5, 2.0, 2.0]);
        Layer::<f64, 1>::backward(&pool, &x, &mut tw, None, Some((&mut dx, Store::Add)), 1);
        assert_eq!(dx.as_slice(), &[1.0, 1.0, 4.0, 4.0]);
    }
}
