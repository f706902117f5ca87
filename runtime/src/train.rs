//! Training runs in a few lines: the [`Fit`] loop (epochs, mini-batches, learning-rate
//! schedule, evaluation on a dev split, early stopping that restores the best weights,
//! progress bar, history, checkpoints), [`evaluate`](Fit::evaluate), [`cross_validate`]
//! and [`random_search`].
//!
//! ```no_run
//! # use sinew_runtime::{data::Dataset, train::{Fit, EarlyStopping}, metrics::Metric, optim::*, loss::*, Model, Trainable};
//! # fn demo<M: Model<f32, 64, 10> + bytemuck::Zeroable>(net: &mut M, train: &Dataset<f32, 64>, dev: &Dataset<f32, 64>)
//! # where M::TrainWorkspace<32>: bytemuck::Zeroable, M::Workspace<32>: bytemuck::Zeroable, SoftmaxCrossEntropy: sinew_runtime::TrainsHead<M::Head> {
//! let mut adam = Adam::<f32, M::Grads>::boxed(AdamConfig::default());
//! let fit = Fit::<32> {
//!     epochs: 100,
//!     learning_rate: 1e-3,
//!     metric: Metric::Accuracy,
//!     early_stopping: Some(EarlyStopping { patience: 10, min_delta: 0.0 }),
//!     ..Fit::default()
//! };
//! let history = fit.run(net, &mut *adam, &SoftmaxCrossEntropy, train, Some(dev), &mut sinew_runtime::rng(0)).unwrap();
//! println!("best dev accuracy {:?} at epoch {:?}", history.best_score, history.best_epoch);
//! # }
//! ```

use crate::data::{Dataset, Fold, Target, shuffle};
use crate::io::{WeightError, WeightFile, WeightWriter};
use crate::loss::Loss;
use crate::metrics::{ClassCounts, Metric, predicted_class, write_table};
use crate::model::{Model, TrainsHead, head::Head};
use crate::optim::{Optimizer, OptimizerState, Schedule};
use crate::params::Trainable;
use crate::{Float, Rng};
use bytemuck::Zeroable;
use std::boxed::Box;
use std::fmt;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::prelude::rust_2024::*;
use std::time::Instant;

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

/// A training run's settings, with mini-batches of `B` samples.
#[derive(Clone, Debug, PartialEq)]
pub struct Fit<const B: usize> {
    /// Epochs (full passes over the training data).
    pub epochs: usize,
    /// The initial learning rate `lr0`; each epoch the optimizer gets
    /// `schedule.rate(lr0, epoch)`.
    pub learning_rate: f64,
    /// The learning-rate schedule.
    pub schedule: Schedule,
    /// The single number that judges the model on the dev data.
    pub metric: Metric,
    /// Early stopping on `metric` (needs dev data).
    pub early_stopping: Option<EarlyStopping>,
    /// Reshuffle the training data every epoch.
    pub shuffle: bool,
    /// Show a progress bar (only ever drawn on a terminal).
    pub progress: bool,
    /// Save checkpoints while training.
    pub checkpoints: Option<Checkpoints>,
    /// Resume from a checkpoint written by an earlier run with the same settings.
    pub resume_from: Option<PathBuf>,
}

impl<const B: usize> Default for Fit<B> {
    fn default() -> Self {
        Self {
            epochs: 10,
            learning_rate: 1e-3,
            schedule: Schedule::Constant,
            metric: Metric::Accuracy,
            early_stopping: None,
            shuffle: true,
            progress: true,
            checkpoints: None,
            resume_from: None,
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
    /// Mean training loss over the epoch's batches (weighted by their real samples).
    pub train_loss: f64,
    /// Loss on the dev data after the epoch.
    pub dev_loss: Option<f64>,
    /// The chosen metric on the dev data after the epoch.
    pub dev_score: Option<f64>,
    /// Accuracy on the dev data after the epoch (class targets only).
    pub dev_accuracy: Option<f64>,
    /// Wall time of the epoch, evaluation included.
    pub seconds: f64,
}

/// What a training run did, epoch by epoch.
#[derive(Clone, Debug, PartialEq)]
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

/// Why a training run failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum FitError {
    /// The loss became NaN or infinite; the parameters are those before that step.
    NonFinite {
        /// 1-based epoch.
        epoch: usize,
        /// 1-based step (batch) within the epoch.
        step: usize,
        /// The loss value.
        loss: f64,
    },
    /// Reading or writing a checkpoint failed.
    Checkpoint(WeightError),
    /// The settings or data cannot work (e.g. early stopping without dev data).
    Invalid(String),
}

impl fmt::Display for FitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FitError::NonFinite { epoch, step, loss } => write!(
                f,
                "the loss became {loss} at epoch {epoch}, step {step}; lower the learning rate, normalise the inputs or check the data for NaN"
            ),
            FitError::Checkpoint(e) => write!(f, "checkpoint: {e}"),
            FitError::Invalid(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for FitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FitError::Checkpoint(e) => Some(e),
            _ => None,
        }
    }
}

impl From<WeightError> for FitError {
    fn from(e: WeightError) -> Self {
        FitError::Checkpoint(e)
    }
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
    /// Counts of (actual, predicted) classes; `None` for regression targets.
    pub confusion: Option<Confusion>,
    /// Samples evaluated.
    pub samples: usize,
}

impl Evaluation {
    /// The value of `metric` (the loss for regression targets whatever the metric).
    pub fn score(&self, metric: Metric) -> f64 {
        match &self.confusion {
            Some(c) => metric.value(c, self.loss),
            None => self.loss,
        }
    }
}

/// Buffers for evaluation, reused across epochs.
struct Evaluator<T: Float, M: Model<T, IN, OUT>, const IN: usize, const OUT: usize, const B: usize> {
    ws: Box<M::Workspace<B>>,
    _scalar: core::marker::PhantomData<T>,
}

impl<T, M, const IN: usize, const OUT: usize, const B: usize> Evaluator<T, M, IN, OUT, B>
where
    T: Float,
    M: Model<T, IN, OUT>,
    M::Workspace<B>: Zeroable,
{
    fn new() -> Self {
        Self { ws: bytemuck::zeroed_box(), _scalar: core::marker::PhantomData }
    }

    fn evaluate<Y: Target<T>, L: Loss<T, OUT, B, Y::Batch<B>>>(
        &mut self,
        net: &M,
        data: &Dataset<T, IN, Y>,
        loss: &L,
    ) -> Evaluation {
        let classes = data.targets().first().and_then(Target::class).map(|_| OUT.max(2));
        let mut confusion = classes.map(Confusion::new);
        let threshold = T::cast(M::Head::THRESHOLD);
        let mut total = 0.0;
        let mut batches = data.batches::<B>(None);
        while let Some(batch) = batches.next() {
            let out = net.forward(&batch.x, &mut self.ws);
            total += loss.value_partial(out, &batch.y, batch.samples).as_f64() * batch.samples as f64;
            if let Some(confusion) = &mut confusion {
                for (column, &i) in out.as_slice().chunks_exact(OUT).zip(batches.indices()) {
                    if let Some(actual) = data.targets()[i].class() {
                        confusion.add(actual, predicted_class(column, threshold));
                    }
                }
            }
        }
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

impl<const B: usize> Fit<B> {
    /// The loss and confusion matrix of `net` on `data`, in batches of `B` (inference
    /// mode: dropout off).
    pub fn evaluate<T, M, L, Y, const IN: usize, const OUT: usize>(
        &self,
        net: &M,
        data: &Dataset<T, IN, Y>,
        loss: &L,
    ) -> Evaluation
    where
        T: Float,
        M: Model<T, IN, OUT>,
        M::Workspace<B>: Zeroable,
        L: Loss<T, OUT, B, Y::Batch<B>>,
        Y: Target<T>,
    {
        Evaluator::<T, M, IN, OUT, B>::new().evaluate(net, data, loss)
    }

    /// Trains `net` on `train`, evaluating on `dev` after each epoch.
    ///
    /// Each epoch: the learning rate is set from the schedule, the training data is
    /// shuffled with `rng`, and every mini-batch (the last may be partial: its padding
    /// counts in neither loss nor gradient) takes one [`train_step`](crate::model::train_step).
    /// With early stopping, the best weights on `dev` are restored at the end. Nothing is
    /// allocated per step.
    ///
    /// # Errors
    /// [`FitError::NonFinite`] naming the epoch and step where the loss stopped being
    /// finite (the network keeps the weights before that step), [`FitError::Checkpoint`]
    /// if a checkpoint cannot be written or read, [`FitError::Invalid`] for settings that
    /// cannot work.
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
        M: Model<T, IN, OUT> + Zeroable,
        M::Workspace<B>: Zeroable,
        M::TrainWorkspace<B>: Zeroable,
        O: Optimizer<T, M> + OptimizerState<T, M>,
        L: Loss<T, OUT, B, Y::Batch<B>> + TrainsHead<M::Head>,
        Y: Target<T>,
    {
        if train.is_empty() {
            return Err(FitError::Invalid("the training data is empty".into()));
        }
        if self.early_stopping.is_some() && dev.is_none_or(|d| d.is_empty()) {
            return Err(FitError::Invalid("early stopping needs dev data to watch".into()));
        }
        let mut tw: Box<M::TrainWorkspace<B>> = bytemuck::zeroed_box();
        let mut batches = train.batches::<B>(None);
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
            progress = restore(file, net, optimizer, best.as_deref_mut(), rng, &mut history)?;
        }

        let bar = self.progress_bar(batches.len());
        let mut order: Vec<usize> = Vec::with_capacity(train.len());
        for epoch in progress.epochs_done..self.epochs {
            let started = Instant::now();
            let lr = self.schedule.rate(self.learning_rate, epoch);
            optimizer.set_learning_rate(T::cast(lr));
            order.clear();
            order.extend(0..train.len());
            if self.shuffle {
                shuffle(&mut order, rng);
            }
            batches.restart(&order);
            let (mut total, mut step) = (0.0, 0);
            while let Some(batch) = batches.next() {
                step += 1;
                let value = crate::model::train_step(
                    net,
                    &batch.x,
                    &batch.y,
                    batch.samples,
                    loss,
                    optimizer,
                    &mut tw,
                    rng,
                )
                .map_err(|e| FitError::NonFinite {
                    epoch: epoch + 1,
                    step,
                    loss: e.value,
                })?;
                total += value.as_f64() * batch.samples as f64;
                bar.inc(1);
            }
            let train_loss = total / train.len() as f64;
            let evaluation = dev.map(|d| evaluator.evaluate(net, d, loss));
            let dev_score = evaluation.as_ref().map(|e| e.score(self.metric));
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
            bar.set_message(match dev_score {
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
                        best.copy_from(net);
                    }
                } else {
                    progress.bad_epochs += 1;
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
        if let (Some(best), Some(_)) = (&best, progress.best_epoch) {
            net.copy_from(best);
        }
        history.best_epoch = progress.best_epoch;
        history.best_score = progress.best_score;
        Ok(history)
    }

    fn min_delta(&self) -> f64 {
        self.early_stopping.map_or(0.0, |e| e.min_delta)
    }

    fn progress_bar(&self, steps_per_epoch: usize) -> indicatif::ProgressBar {
        if !self.progress || !std::io::stderr().is_terminal() {
            return indicatif::ProgressBar::hidden();
        }
        let bar = indicatif::ProgressBar::new((steps_per_epoch * self.epochs) as u64);
        let style = indicatif::ProgressStyle::with_template(
            "{bar:30.cyan/blue} {pos:>6}/{len:6} {elapsed_precise} {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        bar.set_style(style);
        bar
    }
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

fn restore<T: Float, M: Trainable<T>, O: OptimizerState<T, M>>(
    mut file: WeightFile,
    net: &mut M,
    optimizer: &mut O,
    best: Option<&mut M>,
    rng: &mut Rng,
    history: &mut History,
) -> Result<Progress, FitError> {
    let meta = |key: &str| -> Result<String, WeightError> {
        file.metadata(key).ok_or_else(|| WeightError::Metadata { key: key.into(), message: "missing".into() })
    };
    let bad =
        |key: &str, e: &dyn fmt::Display| WeightError::Metadata { key: key.into(), message: e.to_string() };
    if meta("format")? != FORMAT {
        return Err(bad("format", &format!("expected `{FORMAT}`")).into());
    }
    let number =
        |key: &str| -> Result<u64, WeightError> { meta(key)?.parse::<u64>().map_err(|e| bad(key, &e)) };
    let parse = |key: &str| -> Result<serde_json::Value, WeightError> {
        serde_json::from_str(&meta(key)?).map_err(|e| bad(key, &e))
    };
    let epochs_done = number("epochs_done")? as usize;
    let steps = number("optimizer_steps")?;
    let bad_epochs = number("bad_epochs")? as usize;
    let restored_rng: Rng = serde_json::from_value(parse("rng")?).map_err(|e| bad("rng", &e))?;
    let best_score: Option<f64> =
        serde_json::from_value(parse("best_score")?).map_err(|e| bad("best_score", &e))?;
    let best_epoch: Option<usize> =
        serde_json::from_value(parse("best_epoch")?).map_err(|e| bad("best_epoch", &e))?;
    type Row = (usize, f64, f64, Option<f64>, Option<f64>, Option<f64>, f64);
    let rows: Vec<Row> = serde_json::from_value(parse("history")?).map_err(|e| bad("history", &e))?;

    // Everything parsed: now load tensors (each load checks before it writes).
    file.load_into("", net)?;
    for (i, slot) in O::SLOTS.iter().enumerate() {
        file.load_into(&format!("optimizer.{slot}."), optimizer.slot_mut(i))?;
    }
    if let Some(best) = best
        && best_epoch.is_some()
    {
        file.load_into("best.", best)?;
    }
    optimizer.set_steps(steps);
    *rng = restored_rng;
    history.epochs =
        rows.into_iter()
            .map(|(epoch, learning_rate, train_loss, dev_loss, dev_score, dev_accuracy, seconds)| {
                EpochRecord { epoch, learning_rate, train_loss, dev_loss, dev_score, dev_accuracy, seconds }
            })
            .collect();
    Ok(Progress { epochs_done, best_score, best_epoch, bad_epochs })
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
/// # Errors
/// The first error `run` returns.
pub fn cross_validate<T: Float, const N: usize, Y: Target<T>, E>(
    data: &Dataset<T, N, Y>,
    k: usize,
    rng: &mut Rng,
    mut run: impl FnMut(usize, &Fold<T, N, Y>) -> Result<f64, E>,
) -> Result<CrossValidation, E> {
    let folds = data.folds(k, rng);
    let mut scores = Vec::with_capacity(k);
    for (i, fold) in folds.iter().enumerate() {
        scores.push(run(i, fold)?);
    }
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
    /// use sinew_runtime::train::Range;
    /// let mut rng = sinew_runtime::rng(1);
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
/// # Errors
/// Any other [`FitError`] from `run`.
pub fn random_search<P>(
    trials: usize,
    metric: Metric,
    rng: &mut Rng,
    mut sample: impl FnMut(&mut Rng) -> P,
    mut run: impl FnMut(&P) -> Result<f64, FitError>,
) -> Result<Search<P>, FitError> {
    let mut search = Search { trials: Vec::with_capacity(trials), best: None };
    for i in 0..trials {
        let params = sample(rng);
        let score = match run(&params) {
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
