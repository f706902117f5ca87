//! Classification metrics from a confusion matrix, and the single-number [`Metric`] a
//! training run is judged by.
//!
//! With `C[a][p]` the number of samples of actual class `a` predicted as `p`:
//!
//! | metric | formula |
//! |---|---|
//! | accuracy | `Σ_c C[c][c] / Σ C` |
//! | precision of `c` | `C[c][c] / Σ_a C[a][c]` (0 if `c` is never predicted) |
//! | recall of `c` | `C[c][c] / Σ_p C[c][p]` (0 if `c` never occurs) |
//! | F1 of `c` | `2 P R / (P + R)` (0 if both are 0) |
//! | macro P, R, F1 | unweighted means over the classes |
//!
//! Binary metrics are those of the positive class (usually 1). Everything here works
//! without `std` and allocates nothing.

use crate::Float;
use nalgebra::SMatrix;

/// Counts of (actual, predicted) pairs over `classes()` classes, and the metrics derived
/// from them.
pub trait ClassCounts {
    /// The number of classes.
    fn classes(&self) -> usize;
    /// Samples of class `actual` predicted as `predicted`.
    fn count(&self, actual: usize, predicted: usize) -> u64;

    /// All samples counted.
    fn total(&self) -> u64 {
        (0..self.classes())
            .flat_map(|a| (0..self.classes()).map(move |p| (a, p)))
            .map(|(a, p)| self.count(a, p))
            .sum()
    }

    /// Samples predicted correctly.
    fn correct(&self) -> u64 {
        (0..self.classes()).map(|c| self.count(c, c)).sum()
    }

    /// Fraction predicted correctly (0 when empty).
    fn accuracy(&self) -> f64 {
        ratio(self.correct(), self.total())
    }

    /// Precision of class `c`.
    fn precision(&self, c: usize) -> f64 {
        ratio(self.count(c, c), (0..self.classes()).map(|a| self.count(a, c)).sum())
    }

    /// Recall of class `c`.
    fn recall(&self, c: usize) -> f64 {
        ratio(self.count(c, c), (0..self.classes()).map(|p| self.count(c, p)).sum())
    }

    /// F1 score of class `c`.
    fn f1(&self, c: usize) -> f64 {
        let (p, r) = (self.precision(c), self.recall(c));
        if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) }
    }

    /// Mean precision over the classes.
    fn macro_precision(&self) -> f64 {
        mean(self.classes(), |c| self.precision(c))
    }

    /// Mean recall over the classes.
    fn macro_recall(&self) -> f64 {
        mean(self.classes(), |c| self.recall(c))
    }

    /// Mean F1 over the classes.
    fn macro_f1(&self) -> f64 {
        mean(self.classes(), |c| self.f1(c))
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

fn mean(n: usize, f: impl Fn(usize) -> f64) -> f64 {
    if n == 0 { 0.0 } else { (0..n).map(f).sum::<f64>() / n as f64 }
}

/// The class a network output predicts: the index of the largest value, or for a single
/// output, whether it exceeds `threshold` (0 for a logit, 0.5 for a probability).
///
/// ```
/// use sinew::metrics::predicted_class;
/// assert_eq!(predicted_class(&[0.1_f32, 0.7, 0.2], 0.0), 1);
/// assert_eq!(predicted_class(&[-0.3_f32], 0.0), 0);
/// ```
pub fn predicted_class<T: Float>(output: &[T], threshold: T) -> usize {
    match output {
        [single] => usize::from(*single > threshold),
        _ => {
            let mut best = 0;
            for (i, &v) in output.iter().enumerate() {
                if v > output[best] {
                    best = i;
                }
            }
            best
        }
    }
}

/// A `K × K` confusion matrix, rows actual classes, columns predicted ones; no heap.
///
/// ```
/// use sinew::metrics::{ClassCounts, ConfusionMatrix};
/// let mut cm = ConfusionMatrix::<2>::new();
/// for (actual, predicted) in [(1, 1), (1, 1), (1, 0), (0, 1), (0, 0)] {
///     cm.add(actual, predicted);
/// }
/// assert_eq!(cm.accuracy(), 0.6);
/// assert_eq!(cm.precision(1), 2.0 / 3.0);
/// assert_eq!(cm.recall(1), 2.0 / 3.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConfusionMatrix<const K: usize> {
    counts: [[u64; K]; K],
}

impl<const K: usize> Default for ConfusionMatrix<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const K: usize> ConfusionMatrix<K> {
    /// All counts zero.
    pub const fn new() -> Self {
        Self { counts: [[0; K]; K] }
    }

    /// Counts one sample.
    ///
    /// # Panics
    /// If a class is `>= K`.
    pub fn add(&mut self, actual: usize, predicted: usize) {
        self.counts[actual][predicted] += 1;
    }

    /// Counts the first `samples` columns of a batch of network outputs (`K ≥ 2` outputs,
    /// argmax) against their labels.
    pub fn add_batch<T: Float, const B: usize>(
        &mut self,
        outputs: &SMatrix<T, K, B>,
        labels: &[usize; B],
        samples: usize,
    ) {
        for (column, &label) in outputs.as_slice().chunks_exact(K).zip(labels).take(samples) {
            self.add(label, predicted_class(column, T::zero()));
        }
    }

    /// The raw counts, `[actual][predicted]`.
    pub fn counts(&self) -> &[[u64; K]; K] {
        &self.counts
    }
}

impl<const K: usize> ClassCounts for ConfusionMatrix<K> {
    fn classes(&self) -> usize {
        K
    }
    fn count(&self, actual: usize, predicted: usize) -> u64 {
        self.counts[actual][predicted]
    }
}

/// Writes a confusion matrix as a text table: rows actual classes, columns predicted.
pub fn write_table(counts: &impl ClassCounts, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
    let n = counts.classes();
    let width = (0..n)
        .flat_map(|a| (0..n).map(move |p| (a, p)))
        .map(|(a, p)| digits(counts.count(a, p)))
        .chain(core::iter::once(digits(n as u64)))
        .max()
        .unwrap_or(1)
        .max(2);
    write!(f, "{:>8}", "actual\\")?;
    for p in 0..n {
        write!(f, " {p:>width$}")?;
    }
    writeln!(f, "   <- predicted")?;
    for a in 0..n {
        write!(f, "{a:>8}")?;
        for p in 0..n {
            write!(f, " {:>width$}", counts.count(a, p))?;
        }
        writeln!(f)?;
    }
    Ok(())
}

fn digits(mut v: u64) -> usize {
    let mut d = 1;
    while v >= 10 {
        v /= 10;
        d += 1;
    }
    d
}

impl<const K: usize> core::fmt::Display for ConfusionMatrix<K> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write_table(self, f)
    }
}

/// The single number that judges a model ("single evaluation metric"): what early
/// stopping watches, what hyperparameter search ranks by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Metric {
    /// The loss on the evaluated data (lower is better).
    Loss,
    /// Accuracy.
    #[default]
    Accuracy,
    /// Macro-averaged F1.
    MacroF1,
    /// Macro-averaged precision.
    MacroPrecision,
    /// Macro-averaged recall.
    MacroRecall,
    /// F1 of one class (binary F1 with `positive: 1`).
    F1 {
        /// The positive class.
        positive: usize,
    },
    /// Precision of one class.
    Precision {
        /// The positive class.
        positive: usize,
    },
    /// Recall of one class.
    Recall {
        /// The positive class.
        positive: usize,
    },
}

impl Metric {
    /// Whether larger values are better (everything but the loss).
    pub fn higher_is_better(self) -> bool {
        self != Metric::Loss
    }

    /// A short name for tables and charts.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Loss => "loss",
            Metric::Accuracy => "accuracy",
            Metric::MacroF1 => "macro F1",
            Metric::MacroPrecision => "macro precision",
            Metric::MacroRecall => "macro recall",
            Metric::F1 { .. } => "F1",
            Metric::Precision { .. } => "precision",
            Metric::Recall { .. } => "recall",
        }
    }

    /// The metric's value, from the counts of an evaluation and its mean loss.
    pub fn value(self, counts: &impl ClassCounts, loss: f64) -> f64 {
        match self {
            Metric::Loss => loss,
            Metric::Accuracy => counts.accuracy(),
            Metric::MacroF1 => counts.macro_f1(),
            Metric::MacroPrecision => counts.macro_precision(),
            Metric::MacroRecall => counts.macro_recall(),
            Metric::F1 { positive } => counts.f1(positive),
            Metric::Precision { positive } => counts.precision(positive),
            Metric::Recall { positive } => counts.recall(positive),
        }
    }

    /// Whether `a` is better than `b` by more than `min_delta`.
    pub fn improves(self, a: f64, b: f64, min_delta: f64) -> bool {
        if self.higher_is_better() { a > b + min_delta } else { a < b - min_delta }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3-class example worked by hand:
    ///
    /// ```text
    ///            predicted 0  1  2
    /// actual 0             5  1  0
    /// actual 1             2  3  1
    /// actual 2             0  0  4
    /// ```
    #[test]
    fn three_class_metrics_by_hand() {
        let mut cm = ConfusionMatrix::<3>::new();
        for (a, p, n) in [(0, 0, 5), (0, 1, 1), (1, 0, 2), (1, 1, 3), (1, 2, 1), (2, 2, 4)] {
            for _ in 0..n {
                cm.add(a, p);
            }
        }
        assert_eq!(cm.total(), 16);
        assert_eq!(cm.accuracy(), 12.0 / 16.0);
        assert_eq!(cm.precision(0), 5.0 / 7.0);
        assert_eq!(cm.precision(2), 4.0 / 5.0);
        assert_eq!(cm.recall(1), 3.0 / 6.0);
        assert_eq!(cm.recall(2), 1.0);
        let f1_1 = 2.0 * (3.0 / 4.0) * 0.5 / (3.0 / 4.0 + 0.5);
        assert!((cm.f1(1) - f1_1).abs() < 1e-15);
        let p = [5.0 / 7.0, 3.0 / 4.0, 4.0 / 5.0];
        let r = [5.0 / 6.0, 3.0 / 6.0, 1.0];
        let f: [f64; 3] = core::array::from_fn(|c| 2.0 * p[c] * r[c] / (p[c] + r[c]));
        assert!((cm.macro_precision() - p.iter().sum::<f64>() / 3.0).abs() < 1e-15);
        assert!((cm.macro_recall() - r.iter().sum::<f64>() / 3.0).abs() < 1e-15);
        assert!((cm.macro_f1() - f.iter().sum::<f64>() / 3.0).abs() < 1e-15);
        assert_eq!(Metric::Recall { positive: 2 }.value(&cm, 9.0), 1.0);
        assert_eq!(Metric::Loss.value(&cm, 9.0), 9.0);
    }

    #[test]
    fn empty_and_never_predicted_classes_score_zero() {
        let mut cm = ConfusionMatrix::<2>::new();
        assert_eq!(cm.accuracy(), 0.0);
        cm.add(0, 0);
        assert_eq!(cm.precision(1), 0.0);
        assert_eq!(cm.recall(1), 0.0);
        assert_eq!(cm.f1(1), 0.0);
    }

    #[test]
    fn batches_use_argmax_and_skip_padding() {
        let out = SMatrix::<f32, 3, 3>::from_column_slice(&[0.1, 0.9, 0.0, 0.8, 0.1, 0.1, 0.0, 0.0, 1.0]);
        let mut cm = ConfusionMatrix::<3>::new();
        cm.add_batch(&out, &[1, 1, 2], 2);
        assert_eq!(cm.total(), 2);
        assert_eq!(cm.count(1, 1), 1);
        assert_eq!(cm.count(1, 0), 1);
    }

    #[test]
    fn comparisons_follow_the_direction() {
        assert!(Metric::Accuracy.improves(0.9, 0.8, 0.0));
        assert!(!Metric::Accuracy.improves(0.85, 0.8, 0.1));
        assert!(Metric::Loss.improves(0.1, 0.2, 0.0));
        assert!(!Metric::Loss.improves(0.3, 0.2, 0.0));
    }
}
