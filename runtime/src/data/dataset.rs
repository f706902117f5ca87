use super::{DataError, Normalizer, shuffle};
use crate::Float;
use bytemuck::Zeroable;
use nalgebra::SMatrix;
use rand_core::Rng;
use std::prelude::rust_2024::*;
use std::vec::Vec;

/// What a dataset holds per sample besides its features: a class index (`usize`) or a
/// vector of `K` target values (`[T; K]`).
pub trait Target<T: Float>: Clone {
    /// The targets of a batch of `B` samples, as the losses take them: `[usize; B]` class
    /// indices, or an `SMatrix<T, K, B>` with one column per sample.
    type Batch<const B: usize>: Zeroable + Clone + core::fmt::Debug;

    /// Writes this target into column `column` of a batch.
    fn put<const B: usize>(&self, batch: &mut Self::Batch<B>, column: usize);

    /// The class index, for classification targets.
    fn class(&self) -> Option<usize>;
}

impl<T: Float> Target<T> for usize {
    type Batch<const B: usize> = [usize; B];

    fn put<const B: usize>(&self, batch: &mut [usize; B], column: usize) {
        batch[column] = *self;
    }

    fn class(&self) -> Option<usize> {
        Some(*self)
    }
}

impl<T: Float, const K: usize> Target<T> for [T; K] {
    type Batch<const B: usize> = SMatrix<T, K, B>;

    fn put<const B: usize>(&self, batch: &mut SMatrix<T, K, B>, column: usize) {
        batch.as_mut_slice()[column * K..(column + 1) * K].copy_from_slice(self);
    }

    fn class(&self) -> Option<usize> {
        None
    }
}

/// `B` samples as a network takes them: features one column per sample, and targets.
/// Only the first `samples` columns are real; the rest are zero padding, which
/// [`Loss::gradient_partial`](crate::loss::Loss::gradient_partial) and the metrics ignore.
#[derive(Clone, Debug, Zeroable)]
#[zeroable(bound = "T: Float, Y: Target<T>")]
pub struct Batch<T: Float, const N: usize, const B: usize, Y: Target<T>> {
    /// Features, `(N, B)`.
    pub x: SMatrix<T, N, B>,
    /// Targets.
    pub y: Y::Batch<B>,
    /// How many columns are real samples (`1..=B`).
    pub samples: usize,
}

impl<T: Float, const N: usize, const B: usize, Y: Target<T>> Batch<T, N, B, Y> {
    /// An empty batch on the heap (a `784 × 32` batch is 100 KB: keep it off the stack).
    pub fn boxed() -> std::boxed::Box<Self> {
        bytemuck::zeroed_box()
    }
}

/// Samples with `N` features each and their targets, in memory.
///
/// Features are stored one sample after another (`Vec<[T; N]>`), i.e. as a column-major
/// `N × len` matrix with one column per sample, so a batch is a copy of whole columns.
///
/// ```
/// use sinew_runtime::data::Dataset;
/// let data = Dataset::<f32, 2>::new(vec![[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], vec![1, 1, 0]).unwrap();
/// assert_eq!(data.len(), 3);
/// assert_eq!(data.class_counts(2), vec![1, 2]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset<T, const N: usize, Y = usize> {
    samples: Vec<[T; N]>,
    targets: Vec<Y>,
}

impl<T: Float, const N: usize, Y: Target<T>> Dataset<T, N, Y> {
    /// A dataset from samples and their targets.
    ///
    /// # Errors
    /// [`DataError::CountMismatch`] if the two differ in length.
    pub fn new(samples: Vec<[T; N]>, targets: Vec<Y>) -> Result<Self, DataError> {
        if samples.len() != targets.len() {
            return Err(DataError::CountMismatch { samples: samples.len(), targets: targets.len() });
        }
        Ok(Self { samples, targets })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// The features of every sample.
    pub fn samples(&self) -> &[[T; N]] {
        &self.samples
    }

    /// The targets of every sample.
    pub fn targets(&self) -> &[Y] {
        &self.targets
    }

    /// The samples at `indices`, in that order.
    ///
    /// # Panics
    /// If an index is out of range.
    pub fn subset(&self, indices: &[usize]) -> Self {
        Self {
            samples: indices.iter().map(|&i| self.samples[i]).collect(),
            targets: indices.iter().map(|&i| self.targets[i].clone()).collect(),
        }
    }

    /// The dataset in a seeded random order.
    pub fn shuffled<R: Rng + ?Sized>(&self, rng: &mut R) -> Self {
        let mut order: Vec<usize> = (0..self.len()).collect();
        shuffle(&mut order, rng);
        self.subset(&order)
    }

    /// Standardises every sample with `normalizer`.
    pub fn normalize(&mut self, normalizer: &Normalizer<T, N>) {
        for x in &mut self.samples {
            normalizer.apply(x);
        }
    }

    /// Fits a [`Normalizer`] on this dataset (use it on the training split only).
    ///
    /// # Panics
    /// If the dataset is empty.
    pub fn fit_normalizer(&self) -> Normalizer<T, N> {
        Normalizer::fit(self.samples.iter())
    }

    /// Shuffles with `rng`, then cuts into consecutive parts of the given fractions of
    /// the samples (e.g. `[0.8, 0.1, 0.1]` for train, dev and test). The last part takes
    /// what rounding leaves.
    ///
    /// # Panics
    /// If a fraction is negative or they sum to more than 1 (+1e-9).
    pub fn split<R: Rng + ?Sized>(&self, fractions: &[f64], rng: &mut R) -> Vec<Self> {
        let mut order: Vec<usize> = (0..self.len()).collect();
        shuffle(&mut order, rng);
        cut(&order, fractions).into_iter().map(|part| self.subset(part)).collect()
    }

    /// Like [`split`](Self::split), but every class is divided in the same proportions,
    /// so each part has the class balance of the whole (e.g. 500 digits of each class
    /// give exactly 400 / 50 / 50 of each class for `[0.8, 0.1, 0.1]`). Each part is
    /// shuffled.
    ///
    /// # Panics
    /// If a target has no class (regression targets), or as [`split`](Self::split).
    pub fn stratified_split<R: Rng + ?Sized>(&self, fractions: &[f64], rng: &mut R) -> Vec<Self> {
        let classes = self.targets.iter().map(|t| class_of(t) + 1).max().unwrap_or(0);
        let mut parts: Vec<Vec<usize>> = vec![Vec::new(); fractions.len()];
        for class in 0..classes {
            let mut members: Vec<usize> =
                (0..self.len()).filter(|&i| class_of(&self.targets[i]) == class).collect();
            shuffle(&mut members, rng);
            for (part, piece) in parts.iter_mut().zip(cut(&members, fractions)) {
                part.extend_from_slice(piece);
            }
        }
        parts
            .into_iter()
            .map(|mut part| {
                shuffle(&mut part, rng);
                self.subset(&part)
            })
            .collect()
    }

    /// `k` folds for cross-validation: the samples are shuffled once, cut into `k` parts of
    /// sizes differing by at most one, and fold `i` validates on part `i` and trains on the
    /// others. Every sample is validated on exactly once.
    ///
    /// # Panics
    /// If `k < 2` or `k` exceeds the number of samples.
    pub fn folds<R: Rng + ?Sized>(&self, k: usize, rng: &mut R) -> Vec<Fold<T, N, Y>> {
        assert!(k >= 2 && k <= self.len(), "{k} folds of {} samples", self.len());
        let mut order: Vec<usize> = (0..self.len()).collect();
        shuffle(&mut order, rng);
        let bounds: Vec<usize> = (0..=k).map(|i| i * self.len() / k).collect();
        (0..k)
            .map(|i| {
                let validation: Vec<usize> = order[bounds[i]..bounds[i + 1]].to_vec();
                let train: Vec<usize> =
                    order[..bounds[i]].iter().chain(&order[bounds[i + 1]..]).copied().collect();
                Fold { train: self.subset(&train), validation: self.subset(&validation) }
            })
            .collect()
    }

    /// Samples per class, for classification targets (classes `0..classes`).
    ///
    /// # Panics
    /// If a target has no class, or a class is `>= classes`.
    pub fn class_counts(&self, classes: usize) -> Vec<usize> {
        let mut counts = vec![0; classes];
        for t in &self.targets {
            counts[class_of(t)] += 1;
        }
        counts
    }

    /// Copies the samples at `indices` (at most `B`) into `batch`, padding the remaining
    /// columns with zeros, and sets `batch.samples`.
    ///
    /// # Panics
    /// If `indices` is empty, longer than `B`, or holds an index out of range.
    pub fn fill_batch<const B: usize>(&self, indices: &[usize], batch: &mut Batch<T, N, B, Y>) {
        assert!(
            !indices.is_empty() && indices.len() <= B,
            "a batch of {B} columns cannot take {} samples",
            indices.len()
        );
        let columns = batch.x.as_mut_slice().chunks_exact_mut(N);
        for (j, column) in columns.enumerate() {
            match indices.get(j) {
                Some(&i) => {
                    column.copy_from_slice(&self.samples[i]);
                    self.targets[i].put(&mut batch.y, j);
                }
                None => column.fill(T::zero()),
            }
        }
        batch.samples = indices.len();
    }

    /// Mini-batches of `B` samples in the given order (all samples in order with
    /// `order = None`); the last batch may be partial and is zero-padded. One batch buffer
    /// is allocated (on the heap) when the iterator is made and reused for every batch.
    ///
    /// ```
    /// use sinew_runtime::data::Dataset;
    /// let data = Dataset::<f32, 1>::new((0..10).map(|i| [i as f32]).collect(), vec![0; 10]).unwrap();
    /// let mut batches = data.batches::<4>(None);
    /// let mut sizes = Vec::new();
    /// while let Some(batch) = batches.next() {
    ///     sizes.push(batch.samples);
    /// }
    /// assert_eq!(sizes, [4, 4, 2]);
    /// ```
    pub fn batches<const B: usize>(&self, order: Option<&[usize]>) -> Batches<'_, T, N, B, Y> {
        let order = order.map_or_else(|| (0..self.len()).collect(), <[usize]>::to_vec);
        Batches { data: self, order, next: 0, batch: Batch::boxed() }
    }

    /// The targets, mapped (e.g. class indices to `[T; 1]` targets for a one-output
    /// binary network trained with `SigmoidBinaryCrossEntropy`).
    pub fn map_targets<Z: Target<T>>(&self, f: impl Fn(&Y) -> Z) -> Dataset<T, N, Z> {
        Dataset { samples: self.samples.clone(), targets: self.targets.iter().map(f).collect() }
    }
}

/// A lending iterator over the mini-batches of a [`Dataset`] (see [`Dataset::batches`]):
/// `while let Some(batch) = batches.next() { ... }`.
pub struct Batches<'a, T: Float, const N: usize, const B: usize, Y: Target<T>> {
    data: &'a Dataset<T, N, Y>,
    order: Vec<usize>,
    next: usize,
    batch: std::boxed::Box<Batch<T, N, B, Y>>,
}

impl<T: Float, const N: usize, const B: usize, Y: Target<T>> Batches<'_, T, N, B, Y> {
    /// The next batch, or `None` at the end. Allocates nothing.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<&Batch<T, N, B, Y>> {
        let chunk = self.order.get(self.next..)?.get(..B.min(self.order.len() - self.next))?;
        if chunk.is_empty() {
            return None;
        }
        self.data.fill_batch(chunk, &mut self.batch);
        self.next += chunk.len();
        Some(&self.batch)
    }

    /// The dataset indices of the samples in the batch last returned.
    pub fn indices(&self) -> &[usize] {
        &self.order[self.next - self.batch.samples..self.next]
    }

    /// Starts again from the first batch, in a new order (same samples).
    ///
    /// # Panics
    /// If `order` does not have as many indices as the iterator had.
    pub fn restart(&mut self, order: &[usize]) {
        assert_eq!(order.len(), self.order.len(), "a new order must keep the number of samples");
        self.order.copy_from_slice(order);
        self.next = 0;
    }

    /// Batches per pass.
    pub fn len(&self) -> usize {
        self.order.len().div_ceil(B)
    }

    /// Whether there are no batches.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

/// One cross-validation fold: train on `train`, validate on `validation`.
#[derive(Clone, Debug)]
pub struct Fold<T, const N: usize, Y> {
    /// The samples to train on.
    pub train: Dataset<T, N, Y>,
    /// The held-out samples.
    pub validation: Dataset<T, N, Y>,
}

fn class_of<T: Float, Y: Target<T>>(target: &Y) -> usize {
    target.class().expect("stratifying needs class targets")
}

/// Consecutive pieces of `items` of the given fractions; the last piece takes the rest.
fn cut<'a>(items: &'a [usize], fractions: &[f64]) -> Vec<&'a [usize]> {
    assert!(fractions.iter().all(|&f| f >= 0.0), "negative fraction in {fractions:?}");
    assert!(fractions.iter().sum::<f64>() <= 1.0 + 1e-9, "fractions {fractions:?} sum to more than 1");
    let n = items.len();
    let mut pieces = Vec::with_capacity(fractions.len());
    let mut start = 0;
    let mut acc = 0.0;
    for (i, f) in fractions.iter().enumerate() {
        acc += f;
        let end = if i + 1 == fractions.len() && (acc - 1.0).abs() < 1e-9 {
            n
        } else {
            // Floor of the cumulative boundary (with a tolerance for 0.8 + 0.1 != 0.9).
            ((acc * n as f64 + 1e-9).floor() as usize).min(n)
        };
        pieces.push(&items[start..end.max(start)]);
        start = end.max(start);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng;

    fn toy(n: usize, classes: usize) -> Dataset<f32, 2> {
        Dataset::new((0..n).map(|i| [i as f32, 0.0]).collect(), (0..n).map(|i| i % classes).collect())
            .unwrap()
    }

    #[test]
    fn splits_cover_every_sample_once() {
        let data = toy(103, 3);
        let parts = data.split(&[0.8, 0.1, 0.1], &mut rng(1));
        assert_eq!(parts.iter().map(Dataset::len).collect::<Vec<_>>(), [82, 10, 11]);
        let mut seen: Vec<f32> = parts.iter().flat_map(|p| p.samples().iter().map(|s| s[0])).collect();
        seen.sort_by(f32::total_cmp);
        assert_eq!(seen, (0..103).map(|i| i as f32).collect::<Vec<_>>());
    }

    #[test]
    fn stratified_split_keeps_class_balance() {
        let data = toy(5000, 10);
        let parts = data.stratified_split(&[0.8, 0.1, 0.1], &mut rng(2));
        assert_eq!(parts[0].class_counts(10), vec![400; 10]);
        assert_eq!(parts[1].class_counts(10), vec![50; 10]);
        assert_eq!(parts[2].class_counts(10), vec![50; 10]);
    }

    /// 10 samples in 3 folds: validation sizes 3, 3, 4; each sample validated once;
    /// train and validation disjoint.
    #[test]
    fn folds_partition_the_samples() {
        let data = toy(10, 2);
        let folds = data.folds(3, &mut rng(3));
        assert_eq!(folds.iter().map(|f| f.validation.len()).collect::<Vec<_>>(), [3, 3, 4]);
        let mut validated: Vec<f32> =
            folds.iter().flat_map(|f| f.validation.samples().iter().map(|s| s[0])).collect();
        validated.sort_by(f32::total_cmp);
        assert_eq!(validated, (0..10).map(|i| i as f32).collect::<Vec<_>>());
        for f in &folds {
            assert_eq!(f.train.len() + f.validation.len(), 10);
            for s in f.validation.samples() {
                assert!(!f.train.samples().contains(s));
            }
        }
    }

    #[test]
    fn partial_batches_are_padded_with_zeros() {
        let data = toy(5, 5);
        let mut batch = Batch::<f32, 2, 4, usize>::zeroed();
        batch.x.fill(9.0);
        data.fill_batch(&[4, 2], &mut batch);
        assert_eq!(batch.samples, 2);
        assert_eq!(batch.x.as_slice(), &[4.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(batch.y[..2], [4, 2]);
        let regression = data.map_targets(|&c| [c as f32 * 10.0]);
        let mut rb = Batch::<f32, 2, 4, [f32; 1]>::zeroed();
        regression.fill_batch(&[3], &mut rb);
        assert_eq!(rb.y[0], 30.0);
    }

    #[test]
    fn mismatched_lengths_are_an_error() {
        let err = Dataset::<f32, 1>::new(vec![[0.0]], vec![]).unwrap_err();
        assert!(matches!(err, DataError::CountMismatch { samples: 1, targets: 0 }));
    }
}
