use super::{DataError, Normalizer, shuffle};
use crate::Float;
use bytemuck::Zeroable;
use nalgebra::SMatrix;
use rand_core::Rng;
use std::path::{Path, PathBuf};
use std::prelude::rust_2024::*;
use std::sync::Arc;
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

/// Vector targets. A single target that is exactly 0 or 1 (a one-output binary
/// classifier's, `map_targets(|&c| [c as f32])`) is also class 0 or 1, so accuracy,
/// precision, recall, F1 and the confusion matrix work for it; any other value has no
/// class.
impl<T: Float, const K: usize> Target<T> for [T; K] {
    type Batch<const B: usize> = SMatrix<T, K, B>;

    fn put<const B: usize>(&self, batch: &mut SMatrix<T, K, B>, column: usize) {
        batch.as_mut_slice()[column * K..(column + 1) * K].copy_from_slice(self);
    }

    fn class(&self) -> Option<usize> {
        match self.as_slice() {
            [v] if *v == T::zero() => Some(0),
            [v] if *v == T::one() => Some(1),
            _ => None,
        }
    }
}

/// A class at each of `S` steps of a sequence, and how many of the steps count: a
/// variable-length sequence padded to `S`, whose steps from `len` on are padding (the mask
/// [`StepCrossEntropy`](crate::loss::StepCrossEntropy) takes is `len` ones, then zeros).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepClasses<const S: usize> {
    /// The class of every step (padding steps: any, usually 0).
    pub classes: [usize; S],
    /// The steps that count, `0..=S`.
    pub len: usize,
}

impl<T: Float, const S: usize> Target<T> for StepClasses<S> {
    type Batch<const B: usize> = crate::loss::StepTargets<T, S, B>;

    fn put<const B: usize>(&self, batch: &mut Self::Batch<B>, column: usize) {
        for (t, &class) in self.classes.iter().enumerate() {
            batch.classes[(t, column)] = T::cast(class as f64);
            batch.mask[(t, column)] = if t < self.len { T::one() } else { T::zero() };
        }
    }

    /// None: a sequence has a class per step, not one.
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
/// use sinew::data::Dataset;
/// let data = Dataset::<f32, 2>::new(vec![[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], vec![1, 1, 0]).unwrap();
/// assert_eq!(data.len(), 3);
/// assert_eq!(data.class_counts(2), vec![1, 2]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset<T, const N: usize, Y = usize> {
    samples: Vec<[T; N]>,
    targets: Vec<Y>,
    origin: Option<Origin>,
}

/// Where each sample of a dataset read from a file came from, for error messages.
#[derive(Clone, Debug, PartialEq)]
struct Origin {
    path: Arc<Path>,
    /// Per sample: the 1-based line (CSV) or 0-based item (IDX).
    positions: Vec<u64>,
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
        Ok(Self { samples, targets, origin: None })
    }

    /// The same dataset, remembering that sample `i` came from `positions[i]` of `path`
    /// (used by the loaders, so that errors about a sample name its file and line).
    pub(crate) fn with_origin(mut self, path: &Path, positions: Vec<u64>) -> Self {
        debug_assert_eq!(positions.len(), self.samples.len());
        self.origin = Some(Origin { path: Arc::from(path), positions });
        self
    }

    /// The file and line (CSV, 1-based) or item (IDX, 0-based) sample `i` was read
    /// from, if it was read from a file.
    pub fn origin(&self, i: usize) -> Option<(PathBuf, u64)> {
        let origin = self.origin.as_ref()?;
        Some((origin.path.to_path_buf(), *origin.positions.get(i)?))
    }

    /// Checks that every target is a class index below `classes`.
    ///
    /// # Errors
    /// [`DataError::NotAClass`] for a target without a class, [`DataError::ClassOutOfRange`]
    /// naming the first sample whose class is too large (and its file and line when it
    /// was read from a file).
    pub fn check_classes(&self, classes: usize) -> Result<(), DataError> {
        for (sample, target) in self.targets.iter().enumerate() {
            let class = target.class().ok_or(DataError::NotAClass { sample, needed: "a class check" })?;
            if class >= classes {
                return Err(DataError::ClassOutOfRange {
                    sample,
                    class,
                    classes,
                    origin: self.origin(sample),
                });
            }
        }
        Ok(())
    }

    /// Whether every target is a class index (class targets, or 0/1 single targets).
    pub fn has_classes(&self) -> bool {
        self.targets.iter().all(|t| t.class().is_some())
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
            origin: self.origin.as_ref().map(|o| Origin {
                path: o.path.clone(),
                positions: indices.iter().map(|&i| o.positions[i]).collect(),
            }),
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
    /// # Errors
    /// [`DataError::NoSamples`] if the dataset is empty.
    pub fn fit_normalizer(&self) -> Result<Normalizer<T, N>, DataError> {
        Normalizer::fit(self.samples.iter()).ok_or(DataError::NoSamples { what: "fitting a normaliser" })
    }

    /// Shuffles with `rng`, then cuts into consecutive parts of the given fractions of
    /// the samples (e.g. `[0.8, 0.1, 0.1]` for train, dev and test). The fractions must
    /// sum to 1 (within 1e-6), so that no sample is silently dropped; the last part takes
    /// what rounding leaves.
    ///
    /// # Errors
    /// [`DataError::BadFractions`] if there are none, one is negative, NaN or infinite,
    /// or they do not sum to 1. Nothing is drawn from `rng` then.
    pub fn split<R: Rng + ?Sized>(&self, fractions: &[f64], rng: &mut R) -> Result<Vec<Self>, DataError> {
        check_fractions(fractions)?;
        let mut order: Vec<usize> = (0..self.len()).collect();
        shuffle(&mut order, rng);
        Ok(cut(&order, fractions).into_iter().map(|part| self.subset(part)).collect())
    }

    /// Like [`split`](Self::split), but every class is divided in the same proportions,
    /// so each part has the class balance of the whole (e.g. 500 digits of each class
    /// give exactly 400 / 50 / 50 of each class for `[0.8, 0.1, 0.1]`). Each part is
    /// shuffled.
    ///
    /// Classes are visited in increasing order, only those present: the work is
    /// `O(n log n)` whatever the labels' values.
    ///
    /// # Errors
    /// [`DataError::NotAClass`] if a target has no class (regression targets), or as
    /// [`split`](Self::split).
    pub fn stratified_split<R: Rng + ?Sized>(
        &self,
        fractions: &[f64],
        rng: &mut R,
    ) -> Result<Vec<Self>, DataError> {
        check_fractions(fractions)?;
        let mut by_class: Vec<(usize, usize)> = Vec::with_capacity(self.len());
        for (sample, target) in self.targets.iter().enumerate() {
            let class =
                target.class().ok_or(DataError::NotAClass { sample, needed: "a stratified split" })?;
            by_class.push((class, sample));
        }
        by_class.sort_unstable();
        let mut parts: Vec<Vec<usize>> = vec![Vec::new(); fractions.len()];
        for group in by_class.chunk_by(|a, b| a.0 == b.0) {
            let mut members: Vec<usize> = group.iter().map(|&(_, sample)| sample).collect();
            shuffle(&mut members, rng);
            for (part, piece) in parts.iter_mut().zip(cut(&members, fractions)) {
                part.extend_from_slice(piece);
            }
        }
        Ok(parts
            .into_iter()
            .map(|mut part| {
                shuffle(&mut part, rng);
                self.subset(&part)
            })
            .collect())
    }

    /// `k` folds for cross-validation: the samples are shuffled once, cut into `k` parts of
    /// sizes differing by at most one, and fold `i` validates on part `i` and trains on the
    /// others. Every sample is validated on exactly once.
    ///
    /// # Errors
    /// [`DataError::BadFolds`] if `k < 2` or `k` exceeds the number of samples.
    pub fn folds<R: Rng + ?Sized>(&self, k: usize, rng: &mut R) -> Result<Vec<Fold<T, N, Y>>, DataError> {
        if k < 2 || k > self.len() {
            return Err(DataError::BadFolds { k, samples: self.len() });
        }
        let mut order: Vec<usize> = (0..self.len()).collect();
        shuffle(&mut order, rng);
        let bounds: Vec<usize> = (0..=k).map(|i| i * self.len() / k).collect();
        Ok((0..k)
            .map(|i| {
                let validation: Vec<usize> = order[bounds[i]..bounds[i + 1]].to_vec();
                let train: Vec<usize> =
                    order[..bounds[i]].iter().chain(&order[bounds[i + 1]..]).copied().collect();
                Fold { train: self.subset(&train), validation: self.subset(&validation) }
            })
            .collect())
    }

    /// Samples per class, for classification targets (classes `0..classes`).
    ///
    /// Targets without a class, or with a class `>= classes`, are not counted (use
    /// [`check_classes`](Self::check_classes) to reject them).
    pub fn class_counts(&self, classes: usize) -> Vec<usize> {
        let mut counts = vec![0; classes];
        for class in self.targets.iter().filter_map(Target::class) {
            if let Some(count) = counts.get_mut(class) {
                *count += 1;
            }
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
    /// use sinew::data::Dataset;
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
        Dataset {
            samples: self.samples.clone(),
            targets: self.targets.iter().map(f).collect(),
            origin: self.origin.clone(),
        }
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

/// Fractions a split can use: at least one, each finite and non-negative, summing to 1.
fn check_fractions(fractions: &[f64]) -> Result<(), DataError> {
    let bad = |problem| Err(DataError::BadFractions { fractions: fractions.to_vec(), problem });
    if fractions.is_empty() {
        return bad("are empty: give at least one fraction, e.g. [0.8, 0.2]");
    }
    if fractions.iter().any(|f| !f.is_finite() || *f < 0.0) {
        return bad("must each be finite and non-negative");
    }
    let sum: f64 = fractions.iter().sum();
    if (sum - 1.0).abs() > 1e-6 {
        return bad(if sum < 1.0 {
            "sum to less than 1: samples would be dropped silently; make the last fraction take the rest"
        } else {
            "sum to more than 1"
        });
    }
    Ok(())
}

/// Consecutive pieces of `items` of the given fractions (checked by `check_fractions`);
/// the last piece takes the rest.
fn cut<'a>(items: &'a [usize], fractions: &[f64]) -> Vec<&'a [usize]> {
    let n = items.len();
    let mut pieces = Vec::with_capacity(fractions.len());
    let mut start = 0;
    let mut acc = 0.0;
    for (i, f) in fractions.iter().enumerate() {
        acc += f;
        let end = if i + 1 == fractions.len() {
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
        let parts = data.split(&[0.8, 0.1, 0.1], &mut rng(1)).unwrap();
        assert_eq!(parts.iter().map(Dataset::len).collect::<Vec<_>>(), [82, 10, 11]);
        let mut seen: Vec<f32> = parts.iter().flat_map(|p| p.samples().iter().map(|s| s[0])).collect();
        seen.sort_by(f32::total_cmp);
        assert_eq!(seen, (0..103).map(|i| i as f32).collect::<Vec<_>>());
    }

    #[test]
    fn stratified_split_keeps_class_balance() {
        let data = toy(5000, 10);
        let parts = data.stratified_split(&[0.8, 0.1, 0.1], &mut rng(2)).unwrap();
        assert_eq!(parts[0].class_counts(10), vec![400; 10]);
        assert_eq!(parts[1].class_counts(10), vec![50; 10]);
        assert_eq!(parts[2].class_counts(10), vec![50; 10]);
    }

    /// 10 samples in 3 folds: validation sizes 3, 3, 4; each sample validated once;
    /// train and validation disjoint.
    #[test]
    fn folds_partition_the_samples() {
        let data = toy(10, 2);
        let folds = data.folds(3, &mut rng(3)).unwrap();
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

    /// Issue 8: a label of 1e10 made `stratified_split` loop over every possible class,
    /// and `usize::MAX` overflowed (debug) or dropped the sample (release).
    #[test]
    fn stratified_split_with_huge_labels_is_fast_and_keeps_every_sample() {
        let data = Dataset::<f32, 1>::new(
            (0..6).map(|i| [i as f32]).collect(),
            vec![0, 10_000_000_000, usize::MAX, 0, usize::MAX, 10_000_000_000],
        )
        .unwrap();
        let parts = data.stratified_split(&[0.5, 0.5], &mut rng(4)).unwrap();
        assert_eq!(parts[0].len() + parts[1].len(), 6);
        assert_eq!(parts[0].len(), 3, "one of each class in each half");
    }

    /// Issue 8: fractions summing to less than 1 silently dropped samples; NaN, negative
    /// and > 1 sums panicked. All are errors now, and nothing is drawn from the generator.
    #[test]
    fn bad_split_fractions_are_errors() {
        let data = toy(10, 2);
        for fractions in [&[0.5, 0.3][..], &[f64::NAN, 1.0], &[-0.5, 1.5], &[0.7, 0.7], &[], &[f64::INFINITY]]
        {
            let mut r = rng(1);
            let e = data.split(fractions, &mut r).unwrap_err();
            assert!(matches!(e, DataError::BadFractions { .. }), "{e}");
            assert_eq!(r, rng(1), "the generator was not touched");
            assert!(data.stratified_split(fractions, &mut r).is_err());
        }
        assert!(data.split(&[0.8, 0.2], &mut rng(1)).unwrap().iter().map(Dataset::len).sum::<usize>() == 10);
    }

    /// Issue 8: `folds` (and so `cross_validate`) panicked for k of 0, 1 or more than n.
    #[test]
    fn bad_fold_counts_are_errors() {
        let data = toy(5, 2);
        for k in [0, 1, 6] {
            assert!(matches!(data.folds(k, &mut rng(1)), Err(DataError::BadFolds { .. })), "k = {k}");
        }
        assert_eq!(data.folds(5, &mut rng(1)).unwrap().len(), 5);
    }

    /// Issue 8: `fit_normalizer` on empty data panicked.
    #[test]
    fn normaliser_of_no_samples_is_an_error() {
        let empty = Dataset::<f32, 2>::new(vec![], vec![]).unwrap();
        assert!(matches!(empty.fit_normalizer(), Err(DataError::NoSamples { .. })));
    }

    #[test]
    fn class_check_names_the_sample_and_its_line() {
        let data = toy(4, 4).with_origin(Path::new("d.csv"), vec![2, 3, 4, 5]);
        let e = data.check_classes(3).unwrap_err();
        assert!(
            matches!(
                &e,
                DataError::ClassOutOfRange { sample: 3, class: 3, classes: 3, origin: Some((_, 5)) }
            ),
            "{e}"
        );
        assert!(e.to_string().starts_with("d.csv:5: sample 3 has class 3"), "{e}");
        let shuffled = data.subset(&[3, 0]);
        assert_eq!(shuffled.origin(0), Some((PathBuf::from("d.csv"), 5)));
        assert!(data.check_classes(4).is_ok());
    }

    #[test]
    fn binary_single_targets_have_classes() {
        let data = toy(4, 2).map_targets(|&c| [c as f32]);
        assert!(data.has_classes());
        assert_eq!(data.class_counts(2), vec![2, 2]);
        assert!(!toy(4, 2).map_targets(|&c| [c as f32 + 0.5]).has_classes());
    }
}
