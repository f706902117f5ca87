//! Training runs in a few lines: the [`Fit`] loop (epochs, mini-batches, learning-rate
//! schedule, evaluation on a dev split, early stopping that restores the best weights,
//! progress bar, history, checkpoints), [`evaluate`](Fit::evaluate), [`cross_validate`]
//! and [`random_search`].
//!
//! ```no_run
//! use sinew::prelude::*;
//! use sinew::{data::Dataset, metrics::Metric, train::{EarlyStopping, Fit}};
//!
//! network! {
//!     pub struct Digits {
//!         input: 64,
//!         hidden: Dense(32) -> Relu,
//!         out: Dense(10),
//!     }
//! }
//!
//! # fn demo(train: &Dataset<f32, 64>, dev: &Dataset<f32, 64>) {
//! let mut rng = sinew::rng(0);
//! let mut net = Digits::<f32>::boxed_init(&mut rng);
//! let mut adam = Adam::<f32, Digits>::boxed(AdamConfig::with_lr(1e-3));
//! // Batches of 32, trained in chunks of 8 on every core.
//! let fit = Fit::<32, 8> {
//!     epochs: 100,
//!     metric: Metric::Accuracy,
//!     early_stopping: Some(EarlyStopping { patience: 10, min_delta: 0.0 }),
//!     ..Fit::default()
//! };
//! let history = fit.run(&mut *net, &mut *adam, &SoftmaxCrossEntropy, train, Some(dev), &mut rng).unwrap();
//! println!("best dev accuracy {:?} at epoch {:?}", history.best_score, history.best_epoch);
//! # }
//! ```

use crate::data::{DataError, Dataset, Fold, Target, shuffle};
use crate::io::{WeightError, WeightFile, WeightWriter};
use crate::loss::Loss;
use crate::metrics::{ClassCounts, Metric, predicted_class, write_table};
use crate::model::{Model, TrainsHead, head::Head};
use crate::optim::{InvalidHyperparameter, Optimizer, OptimizerState, Schedule, check_learning_rate};
use crate::params::{Parameters, Trainable};
use crate::{Float, Rng};
use bytemuck::Zeroable;
use rayon::prelude::*;
use std::boxed::Box;
use std::fmt;
use std::path::{Path, PathBuf};
use std::prelude::rust_2024::*;
use std::time::Instant;

mod parallel;
pub use parallel::DataParallel;

/// Stop when the dev metric has not improved for `patience` epochs, and restore the
/// weights of the best epoch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EarlyStopping {
    /// Epochs without improvement before stopping.
    pub patience: usize,
    /// An improvement must exceed this.
    pub min_delta: f64,
}

/// Where and how often [`Fit::run`] saves checkpoints.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoints {
    /// The checkpoint file (overwritten atomically each time).
    pub path: PathBuf,
    /// Save after every `every` epochs (and after the last).
    pub every: usize,
}

/// A training run's settings, with mini-batches of `B` samples trained in chunks of `C`
/// (`C = B` unless given; `B = 0`, `C = 0` or a `C` that does not divide `B` is a compile
/// error).
///
/// # Every core
/// With `C < B` (`Fit::<32, 8>`), each mini-batch is cut into `B / C` chunks that are
/// trained in parallel, each on its own copy of the network, and their gradients are
/// reduced in chunk order before one optimizer step ([`DataParallel`]): the weights are bit
/// for bit the same whatever the number of threads. Without batch norm the step is the
/// whole-batch step up to rounding; with batch norm each chunk is normalised with its own
/// statistics. [`threads`](Self::threads) sets the pool's size (default: every available
/// core, or the pool the call already runs in). Evaluation on the dev data is spread over
/// the same threads in every case.
///
/// The learning rate is the optimizer's own (`AdamConfig::with_lr(0.01)`, `Sgd::new(0.1)`):
/// each epoch the optimizer gets `schedule.rate(lr0, epoch)` with `lr0` its rate when
/// [`run`](Self::run) starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Fit<const B: usize, const C: usize = B> {
    /// Epochs (full passes over the training data).
    pub epochs: usize,
    /// The learning-rate schedule, applied to the optimizer's own rate.
    pub schedule: Schedule,
    /// The single number that judges the model on the dev data. Anything but
    /// [`Metric::Loss`] needs class targets (class indices, or 0/1 targets of a
    /// one-output binary classifier); otherwise `run` is an error.
    pub metric: Metric,
    /// Early stopping on `metric` (needs dev data).
    pub early_stopping: Option<EarlyStopping>,
    /// Reshuffle the training data every epoch.
    pub shuffle: bool,
    /// Show a progress bar (only ever drawn on a terminal, with the `progress` feature).
    pub progress: bool,
    /// Save checkpoints while training.
    pub checkpoints: Option<Checkpoints>,
    /// Resume from a checkpoint written by an earlier run with the same settings.
    pub resume_from: Option<PathBuf>,
    /// Random changes to the images of every training batch (shifts, flips, scaling,
    /// brightness, contrast), drawn from the run's generator: the same seed gives the same
    /// changes, and a resumed run continues them exactly (the generator is in the
    /// checkpoint). The dev data is never changed. Nothing is allocated in a step.
    pub augment: Option<crate::augment::Augment>,
    /// Threads for the chunks and the evaluation: `None` for the pool the call runs in, or
    /// one thread per available core; `Some(n)` for a pool of `n` (at least 1) made for the
    /// run. The results do not depend on it.
    pub threads: Option<usize>,
}

impl<const B: usize, const C: usize> Default for Fit<B, C> {
    fn default() -> Self {
        Self {
            epochs: 10,
            schedule: Schedule::Constant,
            metric: Metric::Accuracy,
            early_stopping: None,
            shuffle: true,
            progress: true,
            checkpoints: None,
            resume_from: None,
            augment: None,
            threads: None,
        }
    }
}

/// One epoch of a [`History`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochRecord {
    /// 1-based epoch number.
    pub epoch: usize,
    /// The learning rate used.
    pub learning_rate: f64,
    /// Mean training loss over the epoch's batches (weighted by their real samples). This
    /// is the data loss only, the value the loss function returns: weight decay's penalty
    /// `λ/2 ‖W‖²` is not included (it is applied by the optimizer, as in PyTorch).
    pub train_loss: f64,
    /// Loss on the dev data after the epoch (the data loss, as `train_loss`).
    pub dev_loss: Option<f64>,
    /// The chosen metric on the dev data after the epoch.
    pub dev_score: Option<f64>,
    /// Accuracy on the dev data after the epoch (class targets only).
    pub dev_accuracy: Option<f64>,
    /// Wall time of the epoch, evaluation included.
    pub seconds: f64,
}

/// What a training run did, epoch by epoch.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// The metric of `dev_score`.
    pub metric: Metric,
    /// Every epoch run (across resumes).
    pub epochs: Vec<EpochRecord>,
    /// The epoch with the best dev score (1-based).
    pub best_epoch: Option<usize>,
    /// The best dev score.
    pub best_score: Option<f64>,
    /// Whether early stopping ended the run.
    pub stopped_early: bool,
}

/// Why a training run failed. Whatever the error, nothing learned is thrown away: settings
/// and data are checked before anything is changed, and a run that diverges hands back its
/// history and leaves the network at its best weights.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FitError {
    /// The loss became NaN or infinite. With early stopping and a best epoch so far the
    /// network holds that epoch's weights (as early stopping promises); otherwise the
    /// weights before the failing step.
    #[error(
        "the loss became {loss} at epoch {epoch}, step {step}{}; lower the learning rate, normalise the inputs or check the data for NaN",
        match history.best_epoch { Some(b) => format!(" (the network keeps the weights of epoch {b}, the best)"), None => String::new() }
    )]
    NonFinite {
        /// 1-based epoch.
        epoch: usize,
        /// 1-based step (batch) within the epoch.
        step: usize,
        /// The loss value.
        loss: f64,
        /// The epochs completed before it, with the best epoch and score.
        history: Box<History>,
    },
    /// Reading or writing a checkpoint failed; on a failed resume nothing was changed.
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] WeightError),
    /// The data does not fit the network (a class index beyond its outputs, ...).
    #[error(transparent)]
    Data(#[from] DataError),
    /// A hyperparameter (or a rate the schedule produces) is out of range.
    #[error(transparent)]
    Hyperparameter(#[from] InvalidHyperparameter),
    /// The settings or data cannot work (e.g. early stopping without dev data).
    #[error("{0}")]
    Invalid(String),
}

/// A confusion matrix of any size, on the heap (see [`crate::metrics`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Confusion {
    classes: usize,
    counts: Vec<u64>,
}

impl Confusion {
    /// All zero, for `classes` classes.
    pub fn new(classes: usize) -> Self {
        Self { classes, counts: vec![0; classes * classes] }
    }

    /// Counts one sample.
    ///
    /// # Panics
    /// If a class is out of range.
    pub fn add(&mut self, actual: usize, predicted: usize) {
        assert!(actual < self.classes && predicted < self.classes, "class out of range");
        self.counts[actual * self.classes + predicted] += 1;
    }
}

impl ClassCounts for Confusion {
    fn classes(&self) -> usize {
        self.classes
    }
    fn count(&self, actual: usize, predicted: usize) -> u64 {
        self.counts[actual * self.classes + predicted]
    }
}

impl fmt::Display for Confusion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_table(self, f)
    }
}

/// A model's loss and, for class targets, its confusion matrix on some data.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// Mean loss.
    pub loss: f64,
    /// Counts of (actual, predicted) classes; `None` unless every target has a class
    /// (class indices, or 0/1 targets of a one-output network).
    pub confusion: Option<Confusion>,
    /// Samples evaluated.
    pub samples: usize,
}

impl Evaluation {
    /// The value of `metric`; `None` for a class metric without class targets (never a
    /// silent substitute).
    pub fn score(&self, metric: Metric) -> Option<f64> {
        match (&self.confusion, metric) {
            (_, Metric::Loss) => Some(self.loss),
            (Some(c), _) => Some(metric.value(c, self.loss)),
            (None, _) => None,
        }
    }

    /// Error rate `1 − accuracy`, for class targets.
    pub fn error(&self) -> Option<f64> {
        self.confusion.as_ref().map(|c| 1.0 - c.accuracy())
    }
}

/// The number of classes a network with `out` outputs predicts: `out`, or 2 for one
/// output (a binary classifier: logit or probability against a threshold).
const fn classes(out: usize) -> usize {
    if out < 2 { 2 } else { out }
}

/// Checks that `data` fits a network with `OUT` outputs and that `metric` can be
/// computed on it.
fn check_data<T: Float, Y: Target<T>, const N: usize, const OUT: usize>(
    data: &Dataset<T, N, Y>,
    metric: Option<Metric>,
    what: &str,
) -> Result<(), FitError> {
    if data.has_classes() {
        data.check_classes(classes(OUT))?;
    } else if let Some(m) = metric.filter(|&m| m != Metric::Loss) {
        return Err(FitError::Invalid(format!(
            "the metric {} needs class targets, but the {what} targets are not class indices (or 0/1 for a one-output classifier); use `Metric::Loss`",
            m.name()
        )));
    }
    if let Some(Metric::F1 { positive } | Metric::Precision { positive } | Metric::Recall { positive }) =
        metric
        && positive >= classes(OUT)
    {
        return Err(FitError::Invalid(format!(
            "the metric's positive class is {positive}, but the network predicts only {} classes (0 to {})",
            classes(OUT),
            classes(OUT) - 1
        )));
    }
    Ok(())
}

/// Buffers for evaluation, reused across epochs: one inference workspace per thread of
/// the pool it is made in.
struct Evaluator<T: Float, M: Model<T, IN, OUT>, const IN: usize, const OUT: usize, const B: usize> {
    workspaces: Vec<Box<M::Workspace<B>>>,
    _scalar: core::marker::PhantomData<T>,
}

impl<T, M, const IN: usize, const OUT: usize, const B: usize> Evaluator<T, M, IN, OUT, B>
where
    T: Float,
    M: Model<T, IN, OUT> + Sync,
    M::Workspace<B>: Zeroable + Send,
{
    fn new() -> Self {
        let threads = rayon::current_num_threads().max(1);
        Self {
            workspaces: (0..threads).map(|_| bytemuck::zeroed_box()).collect(),
            _scalar: core::marker::PhantomData,
        }
    }

    /// The data must have passed `check_data`. The batches are shared out in contiguous
    /// runs, one per workspace; the loss is summed in batch order, so the result does not
    /// depend on the number of threads.
    fn evaluate<Y, L>(&mut self, net: &M, data: &Dataset<T, IN, Y>, loss: &L) -> Evaluation
    where
        Y: Target<T> + Sync,
        L: Loss<T, OUT, B, Y::Batch<B>> + Sync,
    {
        let batches = data.len().div_ceil(B);
        let mut losses = vec![0.0f64; batches];
        let runs = self.workspaces.len().min(batches).max(1);
        let per_run = batches.div_ceil(runs).max(1);
        let order: Vec<usize> = (0..data.len()).collect();
        let has_classes = data.has_classes();
        let confusions: Vec<Option<Confusion>> = self
            .workspaces
            .par_iter_mut()
            .zip(losses.par_chunks_mut(per_run))
            .enumerate()
            .map(|(run, (ws, losses))| {
                let first = run * per_run * B;
                let last = (first + losses.len() * B).min(data.len());
                let mut confusion = has_classes.then(|| Confusion::new(classes(OUT)));
                let threshold = T::cast(M::Head::THRESHOLD);
                let mut batches = data.batches::<B>(Some(&order[first..last]));
                let mut value = losses.iter_mut();
                while let Some(batch) = batches.next() {
                    let out = net.forward(&batch.x, ws);
                    if let Some(v) = value.next() {
                        *v = loss.value_partial(out, &batch.y, batch.samples).as_f64() * batch.samples as f64;
                    }
                    if let Some(confusion) = &mut confusion {
                        for (column, &i) in out.as_slice().chunks_exact(OUT).zip(batches.indices()) {
                            if let Some(actual) = data.targets()[i].class() {
                                confusion.add(actual, predicted_class(column, threshold));
                            }
                        }
                    }
                }
                confusion
            })
            .collect();
        let mut confusion = has_classes.then(|| Confusion::new(classes(OUT)));
        if let Some(all) = &mut confusion {
            for part in confusions.iter().flatten() {
                for (a, b) in all.counts.iter_mut().zip(&part.counts) {
                    *a += b;
                }
            }
        }
        let total: f64 = losses.iter().sum();
        Evaluation { loss: total / data.len().max(1) as f64, confusion, samples: data.len() }
    }
}

/// The early-stopping bookkeeping, saved in checkpoints.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Progress {
    epochs_done: usize,
    best_score: Option<f64>,
    best_epoch: Option<usize>,
    bad_epochs: usize,
}

impl<const B: usize, const C: usize> Fit<B, C> {
    const BATCH_IS_NOT_EMPTY: () = {
        assert!(B > 0, "`Fit::<0>`: a mini-batch needs at least one sample");
        assert!(
            C > 0 && C <= B && B.is_multiple_of(C),
            "`Fit::<B, C>`: the chunk size C must divide the batch size B (`Fit::<32, 8>`: 4 chunks of 8)"
        );
    };

    /// The loss and confusion matrix of `net` on `data`, in batches of `B` (inference
    /// mode: dropout off), spread over [`threads`](Self::threads).
    ///
    /// # Errors
    /// [`FitError::Data`] if a class index is not below the network's number of classes
    /// (its outputs, or 2 for one output).
    pub fn evaluate<T, M, L, Y, const IN: usize, const OUT: usize>(
        &self,
        net: &M,
        data: &Dataset<T, IN, Y>,
        loss: &L,
    ) -> Result<Evaluation, FitError>
    where
        T: Float,
        M: Model<T, IN, OUT> + Sync,
        M::Workspace<B>: Zeroable + Send,
        L: Loss<T, OUT, B, Y::Batch<B>> + Sync,
        Y: Target<T> + Sync,
    {
        let () = Self::BATCH_IS_NOT_EMPTY;
        check_data::<T, Y, IN, OUT>(data, None, "evaluated")?;
        parallel::in_pool(self.threads, || Evaluator::<T, M, IN, OUT, B>::new().evaluate(net, data, loss))
            .map_err(|e| FitError::Invalid(format!("cannot start the evaluation threads: {e}")))
    }

    /// Checks everything `run` needs before it changes anything.
    fn check<T, Y, O, M, const IN: usize, const OUT: usize>(
        &self,
        optimizer: &O,
        train: &Dataset<T, IN, Y>,
        dev: Option<&Dataset<T, IN, Y>>,
    ) -> Result<f64, FitError>
    where
        T: Float,
        Y: Target<T>,
        M: Trainable<T>,
        O: Optimizer<T, M>,
    {
        if train.is_empty() {
            return Err(FitError::Invalid("the training data is empty".into()));
        }
        if self.threads == Some(0) {
            return Err(FitError::Invalid("`threads: Some(0)`: training needs at least one thread".into()));
        }
        if let Some(augment) = &self.augment {
            if let Some(problem) = augment.invalid() {
                return Err(FitError::Invalid(problem.into()));
            }
            if augment.image_len() != IN {
                return Err(FitError::Invalid(format!(
                    "augmentation is set for images of {:?} ({} values), but the network takes {IN}",
                    augment.shape,
                    augment.image_len()
                )));
            }
        }
        if self.early_stopping.is_some() && dev.is_none_or(|d| d.is_empty()) {
            return Err(FitError::Invalid("early stopping needs dev data to watch".into()));
        }
        if let Some(e) = self.early_stopping
            && !(e.min_delta.is_finite() && e.min_delta >= 0.0)
        {
            return Err(InvalidHyperparameter {
                name: "early stopping's min_delta",
                value: e.min_delta,
                expected: "finite and ≥ 0",
            }
            .into());
        }
        optimizer.check()?;
        self.schedule.check()?;
        // With `k, γ ≥ 0` every schedule is monotone in the epoch, so the first and last
        // rates bound all the others.
        let lr0 = optimizer.learning_rate().as_f64();
        for epoch in [0, self.epochs.saturating_sub(1)] {
            self.rate(lr0, epoch)?;
        }
        check_data::<T, Y, IN, OUT>(train, None, "training")?;
        if let Some(dev) = dev {
            check_data::<T, Y, IN, OUT>(dev, Some(self.metric), "dev")?;
        }
        Ok(lr0)
    }

    /// Trains `net` on `train`, evaluating on `dev` after each epoch.
    ///
    /// Each epoch: the learning rate is set from the schedule, the training data is
    /// shuffled with `rng`, and every mini-batch (the last may be partial: its padding
    /// counts in neither loss nor gradient) takes one [`train_step`](crate::model::train_step).
    /// With early stopping, the best weights on `dev` are restored at the end. Nothing is
    /// allocated per step.
    ///
    /// Before anything is changed, the settings, the optimizer's hyperparameters, the
    /// targets (every class index below the network's number of classes) and the metric
    /// are checked, and a checkpoint to resume from is read and checked whole: a failed
    /// call leaves the network, the optimizer and `rng` as they were.
    ///
    /// # Errors
    /// [`FitError::NonFinite`] naming the epoch and step where the loss stopped being
    /// finite, with the history so far (the network keeps its best weights with early
    /// stopping, otherwise the weights before that step); [`FitError::Checkpoint`] if a
    /// checkpoint cannot be written or read or does not belong to this network and
    /// optimizer; [`FitError::Data`] for targets the network cannot have;
    /// [`FitError::Hyperparameter`] for a rate or setting out of range;
    /// [`FitError::Invalid`] for settings that cannot work.
    #[allow(clippy::too_many_arguments)]
    pub fn run<T, M, O, L, Y, const IN: usize, const OUT: usize>(
        &self,
        net: &mut M,
        optimizer: &mut O,
        loss: &L,
        train: &Dataset<T, IN, Y>,
        dev: Option<&Dataset<T, IN, Y>>,
        rng: &mut Rng,
    ) -> Result<History, FitError>
    where
        T: Float,
        M: Model<T, IN, OUT> + Zeroable + Send + Sync,
        M::Workspace<B>: Zeroable + Send,
        M::TrainWorkspace<B>: Zeroable,
        M::TrainWorkspace<C>: Zeroable + Send + Sync,
        O: Optimizer<T, M> + OptimizerState<T, M> + Send,
        L: Loss<T, OUT, B, Y::Batch<B>> + Loss<T, OUT, C, Y::Batch<C>> + TrainsHead<M::Head> + Sync,
        Y: Target<T> + Sync,
        Y::Batch<C>: Send + Sync,
    {
        let () = Self::BATCH_IS_NOT_EMPTY;
        let lr0 = self.check::<T, Y, O, M, IN, OUT>(optimizer, train, dev)?;
        parallel::in_pool(self.threads, || self.run_in_pool(net, optimizer, loss, train, dev, rng, lr0))
            .map_err(|e| FitError::Invalid(format!("cannot start the training threads: {e}")))?
    }

    /// [`run`](Self::run) after its checks, on the pool's threads.
    #[allow(clippy::too_many_arguments)]
    fn run_in_pool<T, M, O, L, Y, const IN: usize, const OUT: usize>(
        &self,
        net: &mut M,
        optimizer: &mut O,
        loss: &L,
        train: &Dataset<T, IN, Y>,
        dev: Option<&Dataset<T, IN, Y>>,
        rng: &mut Rng,
        lr0: f64,
    ) -> Result<History, FitError>
    where
        T: Float,
        M: Model<T, IN, OUT> + Zeroable + Send + Sync,
        M::Workspace<B>: Zeroable + Send,
        M::TrainWorkspace<B>: Zeroable,
        M::TrainWorkspace<C>: Zeroable + Send + Sync,
        O: Optimizer<T, M> + OptimizerState<T, M>,
        L: Loss<T, OUT, B, Y::Batch<B>> + Loss<T, OUT, C, Y::Batch<C>> + TrainsHead<M::Head> + Sync,
        Y: Target<T> + Sync,
        Y::Batch<C>: Send + Sync,
    {
        // One chunk: the whole batch in one workspace on this thread; several: a copy of
        // the network and a workspace per chunk.
        let mut whole: Option<(Box<M::TrainWorkspace<B>>, _)> =
            (C == B).then(|| (bytemuck::zeroed_box(), train.batches::<B>(None)));
        let mut chunked = (C < B).then(|| DataParallel::<T, M, Y, IN, OUT, C>::new(B / C));
        let steps_per_epoch = train.len().div_ceil(B);
        let mut evaluator = Evaluator::<T, M, IN, OUT, B>::new();
        let mut best: Option<Box<M>> = self.early_stopping.map(|_| bytemuck::zeroed_box());
        let mut history = History {
            metric: self.metric,
            epochs: Vec::new(),
            best_epoch: None,
            best_score: None,
            stopped_early: false,
        };
        let mut progress = Progress { epochs_done: 0, best_score: None, best_epoch: None, bad_epochs: 0 };

        if let Some(path) = &self.resume_from {
            let file = WeightFile::read(path)?;
            let restored = Restored::<T, M>::read::<O>(file, best.is_some(), steps_per_epoch)?;
            progress = restored.apply(net, optimizer, best.as_deref_mut(), rng, &mut history);
        }

        let bar = Bar::new(self.progress, steps_per_epoch, self.epochs);
        let mut order: Vec<usize> = Vec::with_capacity(train.len());
        // The augmented batch and one image of scratch, made once.
        let mut augmented: Option<(Box<nalgebra::SMatrix<T, IN, B>>, Vec<T>)> =
            self.augment.map(|a| (bytemuck::zeroed_box(), vec![T::zero(); a.image_len()]));
        for epoch in progress.epochs_done..self.epochs {
            let started = Instant::now();
            let lr = self.rate(lr0, epoch)?;
            optimizer.set_learning_rate(T::cast(lr));
            order.clear();
            order.extend(0..train.len());
            if self.shuffle {
                shuffle(&mut order, rng);
            }
            let mut total = 0.0;
            for step in 1..=steps_per_epoch {
                let indices = &order[(step - 1) * B..(step * B).min(order.len())];
                let value = match (&mut whole, &mut chunked) {
                    (Some((tw, batches)), _) => {
                        if step == 1 {
                            batches.restart(&order);
                        }
                        let Some(batch) = batches.next() else { break };
                        let x = match (&self.augment, &mut augmented) {
                            (Some(augment), Some((x, scratch))) => {
                                x.copy_from(&batch.x);
                                augment.batch(x.as_mut_slice(), batch.samples, scratch, rng);
                                &**x
                            }
                            _ => &batch.x,
                        };
                        crate::model::train_step(
                            net,
                            x,
                            &batch.y,
                            batch.samples,
                            loss,
                            optimizer,
                            &mut **tw,
                            rng,
                        )
                    }
                    (None, Some(chunks)) => {
                        chunks.load(train, indices);
                        if let (Some(augment), Some((_, scratch))) = (&self.augment, &mut augmented) {
                            for batch in chunks.loaded_mut() {
                                augment.batch(batch.x.as_mut_slice(), batch.samples, scratch, rng);
                            }
                        }
                        chunks.step(net, loss, optimizer, rng)
                    }
                    (None, None) => unreachable!("C divides B"),
                };
                let value = match value {
                    Ok(v) => v,
                    Err(e) => {
                        // Early stopping promised the best weights: keep them.
                        keep_best(net, best.as_deref(), progress, &mut history);
                        return Err(FitError::NonFinite {
                            epoch: epoch + 1,
                            step,
                            loss: e.value,
                            history: Box::new(history),
                        });
                    }
                };
                total += value.as_f64() * indices.len() as f64;
                bar.inc();
            }
            let train_loss = total / train.len() as f64;
            let evaluation = dev.map(|d| evaluator.evaluate(net, d, loss));
            let dev_score = evaluation.as_ref().and_then(|e| e.score(self.metric));
            history.epochs.push(EpochRecord {
                epoch: epoch + 1,
                learning_rate: lr,
                train_loss,
                dev_loss: evaluation.as_ref().map(|e| e.loss),
                dev_score,
                dev_accuracy: evaluation
                    .as_ref()
                    .and_then(|e| e.confusion.as_ref())
                    .map(ClassCounts::accuracy),
                seconds: started.elapsed().as_secs_f64(),
            });
            bar.message(|| match dev_score {
                Some(s) => format!(
                    "epoch {}/{}: loss {train_loss:.4}, dev {} {s:.4}",
                    epoch + 1,
                    self.epochs,
                    self.metric.name()
                ),
                None => format!("epoch {}/{}: loss {train_loss:.4}", epoch + 1, self.epochs),
            });

            progress.epochs_done = epoch + 1;
            let mut stop = false;
            if let Some(score) = dev_score {
                let improved =
                    progress.best_score.is_none_or(|b| self.metric.improves(score, b, self.min_delta()));
                if improved {
                    progress.best_score = Some(score);
                    progress.best_epoch = Some(epoch + 1);
                    progress.bad_epochs = 0;
                    if let Some(best) = &mut best {
                        Parameters::copy_from(&mut **best, net);
                    }
                } else {
                    progress.bad_epochs = progress.bad_epochs.saturating_add(1);
                    stop = self.early_stopping.is_some_and(|e| progress.bad_epochs >= e.patience);
                }
            }
            if let Some(c) = &self.checkpoints
                && (progress.epochs_done.is_multiple_of(c.every.max(1))
                    || stop
                    || progress.epochs_done == self.epochs)
            {
                save_checkpoint(&c.path, net, optimizer, best.as_deref(), rng, &history, progress)?;
            }
            if stop {
                history.stopped_early = true;
                break;
            }
        }
        bar.finish();
        keep_best(net, best.as_deref(), progress, &mut history);
        Ok(history)
    }

    fn min_delta(&self) -> f64 {
        self.early_stopping.map_or(0.0, |e| e.min_delta)
    }

    /// The schedule's rate at `epoch`, which must be finite and `≥ 0`.
    fn rate(&self, lr0: f64, epoch: usize) -> Result<f64, InvalidHyperparameter> {
        let lr = self.schedule.rate(lr0, epoch);
        check_learning_rate(lr)
            .map_err(|e| InvalidHyperparameter { name: "learning rate the schedule gives", ..e })?;
        Ok(lr)
    }
}

/// The end of a run, finished or diverged: the network takes the best weights (when early
/// stopping kept them and there was a best epoch) and the history records the best epoch.
fn keep_best<T: Float, M: Parameters<T>>(
    net: &mut M,
    best: Option<&M>,
    progress: Progress,
    history: &mut History,
) {
    if let (Some(best), Some(_)) = (best, progress.best_epoch) {
        net.copy_from(best);
    }
    history.best_epoch = progress.best_epoch;
    history.best_score = progress.best_score;
}

/// The progress bar: drawn only on a terminal, with the `progress` feature.
struct Bar {
    #[cfg(feature = "progress")]
    bar: indicatif::ProgressBar,
}

impl Bar {
    #[cfg_attr(not(feature = "progress"), allow(unused_variables))]
    fn new(show: bool, steps_per_epoch: usize, epochs: usize) -> Self {
        #[cfg(feature = "progress")]
        {
            use std::io::IsTerminal;
            if !show || !std::io::stderr().is_terminal() {
                return Self { bar: indicatif::ProgressBar::hidden() };
            }
            let bar = indicatif::ProgressBar::new(total_steps(steps_per_epoch, epochs));
            let style = indicatif::ProgressStyle::with_template(
                "{bar:30.cyan/blue} {pos:>6}/{len:6} {elapsed_precise} {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            bar.set_style(style);
            Self { bar }
        }
        #[cfg(not(feature = "progress"))]
        Self {}
    }

    fn inc(&self) {
        #[cfg(feature = "progress")]
        self.bar.inc(1);
    }

    #[cfg_attr(not(feature = "progress"), allow(unused_variables))]
    fn message(&self, text: impl FnOnce() -> String) {
        #[cfg(feature = "progress")]
        if !self.bar.is_hidden() {
            self.bar.set_message(text());
        }
    }

    fn finish(&self) {
        #[cfg(feature = "progress")]
        self.bar.finish();
    }
}

/// Steps of a whole run, for the progress bar (saturating: `epochs` may be huge).
#[cfg(feature = "progress")]
fn total_steps(steps_per_epoch: usize, epochs: usize) -> u64 {
    (steps_per_epoch as u64).saturating_mul(epochs as u64)
}

/// Checkpoint format: the model's tensors under their own names, optimizer state under
/// `optimizer.<slot>.`, the best weights so far under `best.`, and in the metadata the
/// epoch, optimizer steps, generator state, history and early-stopping counters.
const FORMAT: &str = "sinew-checkpoint-1";

fn save_checkpoint<T: Float, M: Trainable<T>, O: OptimizerState<T, M>>(
    path: &Path,
    net: &M,
    optimizer: &O,
    best: Option<&M>,
    rng: &Rng,
    history: &History,
    progress: Progress,
) -> Result<(), FitError> {
    let mut writer = WeightWriter::new().add("", net);
    for (i, slot) in O::SLOTS.iter().enumerate() {
        writer = writer.add(&format!("optimizer.{slot}."), optimizer.slot(i));
    }
    if let Some(best) = best {
        writer = writer.add("best.", best);
    }
    let records: Vec<serde_json::Value> = history
        .epochs
        .iter()
        .map(|r| {
            serde_json::json!([
                r.epoch,
                r.learning_rate,
                r.train_loss,
                r.dev_loss,
                r.dev_score,
                r.dev_accuracy,
                r.seconds
            ])
        })
        .collect();
    let json = |v: serde_json::Value| v.to_string();
    writer
        .metadata("format", FORMAT)
        .metadata("epochs_done", &progress.epochs_done.to_string())
        .metadata("optimizer_steps", &optimizer.steps().to_string())
        .metadata("rng", &json(serde_json::to_value(rng).map_err(|e| FitError::Invalid(e.to_string()))?))
        .metadata("history", &json(serde_json::Value::Array(records)))
        .metadata("best_score", &json(serde_json::json!(progress.best_score)))
        .metadata("best_epoch", &json(serde_json::json!(progress.best_epoch)))
        .metadata("bad_epochs", &progress.bad_epochs.to_string())
        .save(path)?;
    Ok(())
}

/// A checkpoint read and checked whole, not yet applied: resuming is all or nothing.
struct Restored<T: Float, M: Trainable<T>> {
    net: Box<M>,
    slots: Vec<Box<M::Grads>>,
    best: Option<Box<M>>,
    steps: u64,
    rng: Rng,
    history: Vec<EpochRecord>,
    progress: Progress,
    _scalar: core::marker::PhantomData<T>,
}

impl<T: Float, M: Trainable<T> + Zeroable> Restored<T, M> {
    /// Parses and checks everything: the format, every counter (consistent with each
    /// other and with `batches_per_epoch`), the generator state (not all zero), every
    /// tensor's name, dtype and shape, and that the file holds nothing this network and
    /// optimizer do not have (a checkpoint of another network is refused).
    fn read<O: OptimizerState<T, M>>(
        mut file: WeightFile,
        keep_best: bool,
        batches_per_epoch: usize,
    ) -> Result<Self, FitError> {
        let meta = |key: &str| -> Result<String, WeightError> {
            file.metadata(key)
                .ok_or_else(|| WeightError::Metadata { key: key.into(), message: "missing".into() })
        };
        let bad = |key: &str, e: &dyn fmt::Display| WeightError::Metadata {
            key: key.into(),
            message: e.to_string(),
        };
        if meta("format")? != FORMAT {
            return Err(bad("format", &format!("expected `{FORMAT}`")).into());
        }
        let number = |key: &str| -> Result<usize, WeightError> {
            meta(key)?.parse::<usize>().map_err(|e| bad(key, &e))
        };
        let parse = |key: &str| -> Result<serde_json::Value, WeightError> {
            serde_json::from_str(&meta(key)?).map_err(|e| bad(key, &e))
        };
        let epochs_done = number("epochs_done")?;
        let steps: u64 = meta("optimizer_steps")?.parse().map_err(|e| bad("optimizer_steps", &e))?;
        let bad_epochs = number("bad_epochs")?;
        let rng: Rng = serde_json::from_value(parse("rng")?).map_err(|e| bad("rng", &e))?;
        let best_score: Option<f64> =
            serde_json::from_value(parse("best_score")?).map_err(|e| bad("best_score", &e))?;
        let best_epoch: Option<usize> =
            serde_json::from_value(parse("best_epoch")?).map_err(|e| bad("best_epoch", &e))?;
        type Row = (usize, f64, f64, Option<f64>, Option<f64>, Option<f64>, f64);
        let rows: Vec<Row> = serde_json::from_value(parse("history")?).map_err(|e| bad("history", &e))?;

        // The counters must describe one run: as many history rows as epochs done, epochs
        // numbered 1, 2, ..., at most one optimizer step per batch, no more bad epochs than
        // epochs, a best epoch among those done with a finite score.
        if rows.len() != epochs_done || rows.iter().enumerate().any(|(i, r)| r.0 != i + 1) {
            return Err(bad("history", &format!("does not list epochs 1 to {epochs_done}")).into());
        }
        let max_steps = (epochs_done as u64).saturating_mul(batches_per_epoch as u64);
        if steps > max_steps {
            return Err(bad(
                "optimizer_steps",
                &format!(
                    "{steps} steps cannot come from {epochs_done} epochs of {batches_per_epoch} batches"
                ),
            )
            .into());
        }
        if bad_epochs > epochs_done {
            return Err(bad(
                "bad_epochs",
                &format!("{bad_epochs} is more than the {epochs_done} epochs done"),
            )
            .into());
        }
        if best_epoch.is_some_and(|b| b == 0 || b > epochs_done)
            || best_epoch.is_some() != best_score.is_some()
            || best_score.is_some_and(|s| !s.is_finite())
        {
            return Err(bad("best_epoch", &"is not an epoch done with a finite score").into());
        }
        // xoshiro's all-zero state is a fixed point: it would only ever return 0 and
        // the shuffle would never end.
        let mut probe = rng.clone();
        if (0..4).all(|_| rand_core::Rng::next_u64(&mut probe) == 0) {
            return Err(bad("rng", &"the generator state is all zeros, which xoshiro cannot leave").into());
        }

        let mut net: Box<M> = bytemuck::zeroed_box();
        file.load_into("", &mut *net)?;
        let mut slots = Vec::with_capacity(O::SLOTS.len());
        for slot in O::SLOTS {
            let mut state: Box<M::Grads> = bytemuck::zeroed_box();
            file.load_into(&format!("optimizer.{slot}."), &mut *state)?;
            slots.push(state);
        }
        let best = match (keep_best, best_epoch) {
            (true, Some(_)) => {
                let mut best: Box<M> = bytemuck::zeroed_box();
                file.load_into("best.", &mut *best)?;
                Some(best)
            }
            _ => None,
        };
        let unexpected: Vec<String> =
            file.unused().into_iter().filter(|n| keep_best || !n.starts_with("best.")).collect();
        if !unexpected.is_empty() {
            return Err(WeightError::Unexpected { names: unexpected }.into());
        }
        let history = rows
            .into_iter()
            .map(|(epoch, learning_rate, train_loss, dev_loss, dev_score, dev_accuracy, seconds)| {
                EpochRecord { epoch, learning_rate, train_loss, dev_loss, dev_score, dev_accuracy, seconds }
            })
            .collect();
        Ok(Self {
            net,
            slots,
            best,
            steps,
            rng,
            history,
            progress: Progress { epochs_done, best_score, best_epoch, bad_epochs },
            _scalar: core::marker::PhantomData,
        })
    }

    /// Applies what `read` checked; cannot fail.
    fn apply<O: OptimizerState<T, M>>(
        self,
        net: &mut M,
        optimizer: &mut O,
        best: Option<&mut M>,
        rng: &mut Rng,
        history: &mut History,
    ) -> Progress {
        net.copy_from(&self.net);
        for (i, state) in self.slots.iter().enumerate() {
            optimizer.slot_mut(i).copy_from(state);
        }
        if let (Some(best), Some(saved)) = (best, &self.best) {
            best.copy_from(saved);
        }
        optimizer.set_steps(self.steps);
        *rng = self.rng;
        history.epochs = self.history;
        self.progress
    }
}

/// The bias/variance diagnosis of a classifier: its error (`1 − accuracy`) on the data it
/// was trained on, on a *train-dev* set (drawn like the training data, not trained on) and
/// on the dev data, against a stated human-level error (a proxy for the Bayes error).
///
/// | gap | formula | what it means |
/// |---|---|---|
/// | avoidable bias | `train − human` | the model underfits |
/// | variance | `train-dev − train` (without a train-dev set: `dev − train`) | it overfits |
/// | data mismatch | `dev − train-dev` | the dev data differ from the training data |
///
/// ```text
/// let diagnosis = fit.diagnose(&net, &SoftmaxCrossEntropy, train, Some(train_dev), dev, 0.01)?;
/// println!("{diagnosis}");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Diagnosis {
    /// The human-level error given.
    pub human_error: f64,
    /// Error on the training data.
    pub train_error: f64,
    /// Error on the train-dev data, if given.
    pub train_dev_error: Option<f64>,
    /// Error on the dev data.
    pub dev_error: f64,
}

/// What a [`Diagnosis`] says to work on first: its largest gap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Focus {
    /// Avoidable bias: a bigger network, longer training, a better optimizer or
    /// architecture, less regularisation.
    Bias,
    /// Variance: more training data, regularisation (weight decay, dropout, data
    /// augmentation), early stopping, a smaller network.
    Variance,
    /// Data mismatch: make the training data more like the dev data (collect or synthesise
    /// similar samples), or study how they differ.
    DataMismatch,
}

impl Diagnosis {
    /// `train − human`.
    pub fn avoidable_bias(&self) -> f64 {
        self.train_error - self.human_error
    }

    /// `train-dev − train`, or `dev − train` without a train-dev set.
    pub fn variance(&self) -> f64 {
        self.train_dev_error.unwrap_or(self.dev_error) - self.train_error
    }

    /// `dev − train-dev` (needs a train-dev set).
    pub fn data_mismatch(&self) -> Option<f64> {
        self.train_dev_error.map(|td| self.dev_error - td)
    }

    /// The largest of the gaps.
    pub fn focus(&self) -> Focus {
        let mut focus = (Focus::Bias, self.avoidable_bias());
        if self.variance() > focus.1 {
            focus = (Focus::Variance, self.variance());
        }
        if let Some(m) = self.data_mismatch()
            && m > focus.1
        {
            focus = (Focus::DataMismatch, m);
        }
        focus.0
    }
}

impl fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pct = |v: f64| format!("{:>6.2} %", 100.0 * v);
        writeln!(f, "human-level error  {}", pct(self.human_error))?;
        writeln!(
            f,
            "training error     {}   avoidable bias {}",
            pct(self.train_error),
            pct(self.avoidable_bias())
        )?;
        if let Some(td) = self.train_dev_error {
            writeln!(f, "train-dev error    {}   variance       {}", pct(td), pct(self.variance()))?;
            let mismatch = self.data_mismatch().unwrap_or(0.0);
            writeln!(f, "dev error          {}   data mismatch  {}", pct(self.dev_error), pct(mismatch))?;
        } else {
            writeln!(
                f,
                "dev error          {}   variance       {}",
                pct(self.dev_error),
                pct(self.variance())
            )?;
        }
        f.write_str(match self.focus() {
            Focus::Bias => "focus on bias: a bigger network, longer training, a better optimizer or architecture",
            Focus::Variance => {
                "focus on variance: more data, regularisation (weight decay, dropout, augmentation), early stopping"
            }
            Focus::DataMismatch => "focus on data mismatch: make the training data more like the dev data",
        })
    }
}

impl<const B: usize, const C: usize> Fit<B, C> {
    /// The [`Diagnosis`] of a trained classifier: its errors on `train`, `train_dev` (if
    /// given) and `dev`, in inference mode, against `human_error` (a fraction in `[0, 1]`).
    ///
    /// # Errors
    /// [`FitError::Hyperparameter`] if `human_error` is not in `[0, 1]`,
    /// [`FitError::Invalid`] if a dataset is empty or has no class targets, and the errors
    /// of [`evaluate`](Self::evaluate).
    #[allow(clippy::too_many_arguments)]
    pub fn diagnose<T, M, L, Y, const IN: usize, const OUT: usize>(
        &self,
        net: &M,
        loss: &L,
        train: &Dataset<T, IN, Y>,
        train_dev: Option<&Dataset<T, IN, Y>>,
        dev: &Dataset<T, IN, Y>,
        human_error: f64,
    ) -> Result<Diagnosis, FitError>
    where
        T: Float,
        M: Model<T, IN, OUT> + Sync,
        M::Workspace<B>: Zeroable + Send,
        L: Loss<T, OUT, B, Y::Batch<B>> + Sync,
        Y: Target<T> + Sync,
    {
        if !(0.0..=1.0).contains(&human_error) {
            return Err(InvalidHyperparameter {
                name: "human-level error",
                value: human_error,
                expected: "in [0, 1]",
            }
            .into());
        }
        let error = |data: &Dataset<T, IN, Y>, what: &str| -> Result<f64, FitError> {
            if data.is_empty() || !data.has_classes() {
                return Err(FitError::Invalid(format!(
                    "the diagnosis needs {what} data with class targets, and it is empty or has none"
                )));
            }
            let evaluation = self.evaluate::<T, M, L, Y, IN, OUT>(net, data, loss)?;
            evaluation.error().ok_or_else(|| FitError::Invalid(format!("{what} data without classes")))
        };
        Ok(Diagnosis {
            human_error,
            train_error: error(train, "training")?,
            train_dev_error: train_dev.map(|d| error(d, "train-dev")).transpose()?,
            dev_error: error(dev, "dev")?,
        })
    }
}

/// The result of [`cross_validate`].
#[derive(Clone, Debug, PartialEq)]
pub struct CrossValidation {
    /// The score of each fold.
    pub scores: Vec<f64>,
    /// Their mean.
    pub mean: f64,
    /// Their sample standard deviation (`n − 1` in the denominator).
    pub std: f64,
}

/// k-fold cross-validation: `run` trains a fresh model on each fold's training part and
/// returns its score on the fold's validation part (see [`Dataset::folds`]).
///
/// The folds run in parallel on rayon's pool (by default a thread per core; to choose,
/// call inside `rayon::ThreadPoolBuilder::new().num_threads(n).build()?.install(..)`). A
/// [`Fit::run`] inside `run` with `threads: None` shares that pool instead of making its
/// own. The scores are in fold order and do not depend on the number of threads.
///
/// # Errors
/// The error of the first fold (in fold order) whose `run` fails, or
/// [`DataError::BadFolds`] (converted into `E`) if `k` is below 2 or above the number of
/// samples.
pub fn cross_validate<T, const N: usize, Y, E>(
    data: &Dataset<T, N, Y>,
    k: usize,
    rng: &mut Rng,
    run: impl Fn(usize, &Fold<T, N, Y>) -> Result<f64, E> + Sync,
) -> Result<CrossValidation, E>
where
    T: Float,
    Y: Target<T> + Sync + Send,
    E: From<DataError> + Send,
{
    let folds = data.folds(k, rng)?;
    let results: Vec<Result<f64, E>> = folds.par_iter().enumerate().map(|(i, fold)| run(i, fold)).collect();
    let scores = results.into_iter().collect::<Result<Vec<f64>, E>>()?;
    let (mean, std) = mean_std(&scores);
    Ok(CrossValidation { scores, mean, std })
}

/// Mean and sample standard deviation.
fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = if values.len() > 1 {
        values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (mean, var.sqrt())
}

/// How to draw one hyperparameter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Range {
    /// Uniform on `[low, high)`.
    Linear {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// `10^U(log10 low, log10 high)`: uniform in the exponent, for learning rates and
    /// weight decays, whose effect scales with their order of magnitude.
    Log {
        /// Lower bound (> 0).
        low: f64,
        /// Upper bound.
        high: f64,
    },
}

impl Range {
    /// One draw.
    ///
    /// ```
    /// use sinew::train::Range;
    /// let mut rng = sinew::rng(1);
    /// let lr = Range::Log { low: 1e-4, high: 1e-1 }.sample(&mut rng);
    /// assert!((1e-4..1e-1).contains(&lr));
    /// ```
    pub fn sample<R: rand_core::Rng + ?Sized>(self, rng: &mut R) -> f64 {
        let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        match self {
            Range::Linear { low, high } => low + u * (high - low),
            Range::Log { low, high } => 10f64.powf(low.log10() + u * (high.log10() - low.log10())),
        }
    }
}

/// One trial of a [`random_search`].
#[derive(Clone, Debug, PartialEq)]
pub struct Trial<P> {
    /// The hyperparameters.
    pub params: P,
    /// The dev score, or `None` if the run diverged (non-finite loss).
    pub score: Option<f64>,
}

/// The result of a [`random_search`].
#[derive(Clone, Debug, PartialEq)]
pub struct Search<P> {
    /// Every trial, in order.
    pub trials: Vec<Trial<P>>,
    /// The index of the best trial, if any finished.
    pub best: Option<usize>,
}

impl<P> Search<P> {
    /// The best trial.
    pub fn best_trial(&self) -> Option<&Trial<P>> {
        self.best.map(|i| &self.trials[i])
    }
}

/// Random hyperparameter search: `trials` times, draw hyperparameters with `sample`, run
/// `run` (usually a [`Fit::run`] and an evaluation on dev data) and keep the score; the
/// best by `metric`'s direction wins. A trial whose loss becomes non-finite is recorded as
/// diverged and the search goes on.
///
/// Every trial's hyperparameters are drawn first, in order; the trials then run in
/// parallel on rayon's pool, as in [`cross_validate`]. The trials, their scores and the
/// best do not depend on the number of threads.
///
/// # Errors
/// Any other [`FitError`] from `run`: that of the first such trial, in trial order.
pub fn random_search<P: Send + Sync>(
    trials: usize,
    metric: Metric,
    rng: &mut Rng,
    mut sample: impl FnMut(&mut Rng) -> P,
    run: impl Fn(&P) -> Result<f64, FitError> + Sync,
) -> Result<Search<P>, FitError> {
    let params: Vec<P> = (0..trials).map(|_| sample(rng)).collect();
    let results: Vec<Result<f64, FitError>> = params.par_iter().map(&run).collect();
    let mut search = Search { trials: Vec::with_capacity(trials), best: None };
    for (i, (params, result)) in params.into_iter().zip(results).enumerate() {
        let score = match result {
            Ok(s) if s.is_finite() => Some(s),
            Ok(_) | Err(FitError::NonFinite { .. }) => None,
            Err(e) => return Err(e),
        };
        if let Some(s) = score {
            let better =
                search.best.and_then(|b| search.trials[b].score).is_none_or(|b| metric.improves(s, b, 0.0));
            if better {
                search.best = Some(i);
            }
        }
        search.trials.push(Trial { params, score });
    }
    Ok(search)
}

#[cfg(test)]
mod tests {
    /// Issue 8: `epochs = usize::MAX` with the progress bar on a terminal overflowed the
    /// bar's length.
    #[cfg(feature = "progress")]
    #[test]
    fn progress_bar_length_saturates() {
        assert_eq!(super::total_steps(100, usize::MAX), u64::MAX);
        assert_eq!(super::total_steps(125, 40), 5000);
    }
}
