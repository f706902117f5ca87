use crate::Float;
use crate::params::{Layout, Parameters, Role, TensorInfo};
use bytemuck::Zeroable;
use nalgebra::{SMatrix, SVector};

/// Standardisation `x' = (x − mean) / σ` per feature, with statistics fitted on the
/// training split only and reused unchanged on dev, test and inference data.
///
/// σ is the population standard deviation (as scikit-learn's `StandardScaler`); a feature
/// that is constant in the training data gets σ = 1, so it maps to 0 instead of NaN.
///
/// As a [`Parameters`] value (tensors `mean` and `std`, both buffers) it is saved and
/// loaded with the network's weights.
///
/// ```
/// use sinew::data::Normalizer;
/// let train = [[1.0_f32, 5.0], [3.0, 5.0]];
/// let norm = Normalizer::<f32, 2>::fit(train.iter()).unwrap();
/// let mut x = [2.0, 7.0];
/// norm.apply(&mut x);
/// assert_eq!(x, [0.0, 2.0]); // mean 2, σ 1; the constant feature keeps σ = 1
/// ```
#[derive(Clone, Debug, PartialEq, Zeroable)]
#[zeroable(bound = "T: Float")]
pub struct Normalizer<T: Float, const N: usize> {
    /// Per-feature mean of the training data.
    pub mean: SVector<T, N>,
    /// Per-feature standard deviation (1 where the feature is constant).
    pub std: SVector<T, N>,
}

impl<T: Float, const N: usize> Normalizer<T, N> {
    /// The identity transform (mean 0, σ 1).
    pub fn identity() -> Self {
        Self { mean: SVector::zeros(), std: SVector::repeat(T::one()) }
    }

    /// Fits mean and σ on `samples` (accumulated in `f64`); `None` if there are none
    /// (a mean of nothing is undefined).
    pub fn fit<'a>(samples: impl IntoIterator<Item = &'a [T; N]> + Clone) -> Option<Self> {
        let mut n = 0usize;
        let mut sum = [0.0f64; N];
        for x in samples.clone() {
            n += 1;
            for (s, v) in sum.iter_mut().zip(x) {
                *s += v.as_f64();
            }
        }
        if n == 0 {
            return None;
        }
        let mean = sum.map(|s| s / n as f64);
        let mut var = [0.0f64; N];
        for x in samples {
            for ((q, v), m) in var.iter_mut().zip(x).zip(&mean) {
                *q += (v.as_f64() - m) * (v.as_f64() - m);
            }
        }
        let std = var.map(|q| {
            let s = nalgebra::ComplexField::sqrt(q / n as f64);
            if s > 1e-12 { s } else { 1.0 }
        });
        Some(Self { mean: SVector::from(mean.map(T::cast)), std: SVector::from(std.map(T::cast)) })
    }

    /// Standardises one sample in place.
    #[inline]
    pub fn apply(&self, x: &mut [T; N]) {
        for ((v, &m), &s) in x.iter_mut().zip(self.mean.iter()).zip(self.std.iter()) {
            *v = (*v - m) / s;
        }
    }

    /// Standardises every column (sample) of a batch in place.
    pub fn apply_batch<const B: usize>(&self, x: &mut SMatrix<T, N, B>) {
        for column in x.as_mut_slice().chunks_exact_mut(N) {
            for ((v, &m), &s) in column.iter_mut().zip(self.mean.iter()).zip(self.std.iter()) {
                *v = (*v - m) / s;
            }
        }
    }

    /// Undoes [`apply`](Self::apply).
    pub fn invert(&self, x: &mut [T; N]) {
        for ((v, &m), &s) in x.iter_mut().zip(self.mean.iter()).zip(self.std.iter()) {
            *v = *v * s + m;
        }
    }
}

impl<T: Float, const N: usize> Parameters<T> for Normalizer<T, N> {
    const TENSORS: &'static [TensorInfo] = &[
        TensorInfo { name: "mean", shape: &[N], role: Role::Buffer, layout: Layout::RowMajor },
        TensorInfo { name: "std", shape: &[N], role: Role::Buffer, layout: Layout::RowMajor },
    ];

    fn tensor(&self, index: usize) -> &[T] {
        match index {
            0 => self.mean.as_slice(),
            1 => self.std.as_slice(),
            _ => panic!("`Normalizer` has 2 tensors, not {}", index + 1),
        }
    }

    fn tensor_mut(&mut self, index: usize) -> &mut [T] {
        match index {
            0 => self.mean.as_mut_slice(),
            1 => self.std.as_mut_slice(),
            _ => panic!("`Normalizer` has 2 tensors, not {}", index + 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_and_round_trip() {
        let data = [[1.0_f64, 10.0, 3.0], [2.0, 20.0, 3.0], [3.0, 60.0, 3.0]];
        let n = Normalizer::<f64, 3>::fit(data.iter()).unwrap();
        assert_eq!(n.mean, SVector::<f64, 3>::new(2.0, 30.0, 3.0));
        assert!((n.std[0] - (2.0_f64 / 3.0).sqrt()).abs() < 1e-15);
        assert_eq!(n.std[2], 1.0);
        // standardised training data has mean 0 and σ 1 (constant feature: 0)
        let mut z = data;
        for x in z.iter_mut() {
            n.apply(x);
        }
        let m = Normalizer::<f64, 3>::fit(z.iter()).unwrap();
        assert!(m.mean.abs().max() < 1e-15);
        assert!((m.std[0] - 1.0).abs() < 1e-15 && (m.std[1] - 1.0).abs() < 1e-15);
        let mut back = z[1];
        n.invert(&mut back);
        assert!((back[1] - 20.0).abs() < 1e-12);
        let mut batch = SMatrix::<f64, 3, 2>::from_column_slice(&[1.0, 10.0, 3.0, 3.0, 60.0, 3.0]);
        n.apply_batch(&mut batch);
        assert_eq!(batch.column(0).iter().copied().collect::<std::vec::Vec<_>>(), z[0].to_vec());
    }

    /// Issue 8: fitting on no samples was a panic; it is `None`.
    #[test]
    fn fitting_on_nothing_is_none() {
        assert!(Normalizer::<f32, 2>::fit([].iter()).is_none());
    }
}
