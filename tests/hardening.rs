//! Issue 8's regression tests: every hostile input found by the adversarial run (and every
//! first-use trap a new user hit) is a clear error or correct behaviour, and a failed
//! operation leaves the state as it was. Each test names its item.

use sinew::data::{DataError, Dataset};
use sinew::io::{self, WeightError};
use sinew::metrics::Metric;
use sinew::prelude::*;
use sinew::train::{Checkpoints, EarlyStopping, Fit, FitError, Focus, cross_validate};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

network! {
    /// Three classes from two features.
    pub struct Small {
        input: 2,
        hidden: Dense(8) -> Tanh,
        out: Dense(3),
    }
}

network! {
    /// `Small` with a wider hidden layer: a different, larger network.
    pub struct Wider {
        input: 2,
        hidden: Dense(16) -> Tanh,
        out: Dense(3),
    }
}

network! {
    /// The course's binary classifier: one logit.
    pub struct Binary {
        input: 2,
        hidden: Dense(8) -> Tanh,
        out: Dense(1),
    }
}

network! {
    /// `y = w x + b`.
    pub struct Line {
        input: 1,
        out: Dense(1),
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sinew-hardening-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Three clusters in the plane; class `i % 3`.
fn blobs(n: usize, seed: u64) -> Dataset<f32, 2> {
    let mut rng = sinew::rng(seed);
    let centers = [[0.0, 1.0], [-1.0, -0.5], [1.0, -0.5]];
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for i in 0..n {
        let mut noise = [0.0f32; 2];
        sinew::init::Init::Xavier.fill(&mut noise, 8, 8, &mut rng);
        xs.push([centers[i % 3][0] + noise[0] * 0.5, centers[i % 3][1] + noise[1] * 0.5]);
        ys.push(i % 3);
    }
    Dataset::new(xs, ys).unwrap()
}

fn bits(net: &impl Parameters<f32>) -> Vec<u32> {
    let mut v = Vec::new();
    net.for_each_tensor(|_, t| v.extend(t.iter().map(|x| x.to_bits())));
    v
}

// ---------------------------------------------------------------------------------------
// Checkpoints

/// A 2-epoch checkpoint of `Small` with Adam and early stopping.
fn checkpoint(name: &str) -> (PathBuf, Dataset<f32, 2>) {
    let data = blobs(30, 1);
    let path = scratch(name);
    let fit = Fit::<8> {
        epochs: 2,
        checkpoints: Some(Checkpoints { path: path.clone(), every: 1 }),
        early_stopping: Some(EarlyStopping { patience: 10, min_delta: 0.0 }),
        progress: false,
        ..Fit::default()
    };
    let mut net = Small::<f32>::init(&mut sinew::rng(1));
    let mut adam = Adam::new(AdamConfig::with_lr(0.01));
    fit.run(&mut net, &mut adam, &SoftmaxCrossEntropy, &data, Some(&data), &mut sinew::rng(2)).unwrap();
    (path, data)
}

/// Rewrites a checkpoint: `edit` changes its metadata and tensors (name → (shape, f32 data)).
fn rewrite(
    path: &Path,
    edit: impl FnOnce(&mut HashMap<String, String>, &mut HashMap<String, (Vec<usize>, Vec<u8>)>),
) -> PathBuf {
    let bytes = std::fs::read(path).unwrap();
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let mut metadata = meta.metadata().clone().unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut tensors: HashMap<String, (Vec<usize>, Vec<u8>)> =
        file.tensors().into_iter().map(|(n, v)| (n, (v.shape().to_vec(), v.data().to_vec()))).collect();
    edit(&mut metadata, &mut tensors);
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = tensors
        .iter()
        .map(|(n, (shape, data))| {
            (
                n.clone(),
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), data).unwrap(),
            )
        })
        .collect();
    let out = path.with_extension("edited.safetensors");
    std::fs::write(&out, safetensors::serialize(views, Some(metadata)).unwrap()).unwrap();
    out
}

/// Resumes `Small` + Adam from `path` for `epochs`. On failure, also says whether the
/// network, the optimizer and the generator were left exactly as they were.
fn resume(
    path: PathBuf,
    data: &Dataset<f32, 2>,
    epochs: usize,
) -> Result<sinew::train::History, (FitError, bool)> {
    let fit = Fit::<8> {
        epochs,
        resume_from: Some(path),
        early_stopping: Some(EarlyStopping { patience: 10, min_delta: 0.0 }),
        progress: false,
        ..Fit::default()
    };
    let mut net = Small::<f32>::init(&mut sinew::rng(5));
    let before = net.clone();
    let mut adam = Adam::<f32, Small>::new(AdamConfig::with_lr(0.01));
    let adam_before = adam.clone();
    let mut rng = sinew::rng(6);
    fit.run(&mut net, &mut adam, &SoftmaxCrossEntropy, data, Some(data), &mut rng).map_err(|e| {
        let unchanged = bits(&net) == bits(&before) && adam == adam_before && rng == sinew::rng(6);
        (e, unchanged)
    })
}

/// Resuming from `path` fails and changes nothing; returns the error.
fn resume_fails(path: PathBuf, data: &Dataset<f32, 2>) -> FitError {
    let (e, unchanged) = resume(path, data, 4).expect_err("resuming should fail");
    assert!(unchanged, "the network, optimizer or generator changed although resuming failed: {e}");
    e
}

/// Item: a checkpoint whose generator state is all zeros made `Fit::run` loop forever.
#[test]
fn checkpoint_with_an_all_zero_generator_is_an_error() {
    let (path, data) = checkpoint("zero-rng.safetensors");
    let bad = rewrite(&path, |meta, _| {
        let rng: serde_json::Value = serde_json::from_str(&meta["rng"]).unwrap();
        let zeroed = serde_json::to_string(&zero_json(rng)).unwrap();
        meta.insert("rng".into(), zeroed);
    });
    let e = resume_fails(bad, &data);
    assert!(e.to_string().contains("all zeros"), "{e}");
}

/// Every number of a JSON value set to 0.
fn zero_json(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Number(_) => serde_json::json!(0),
        serde_json::Value::Array(a) => serde_json::Value::Array(a.into_iter().map(zero_json).collect()),
        serde_json::Value::Object(o) => {
            serde_json::Value::Object(o.into_iter().map(|(k, v)| (k, zero_json(v))).collect())
        }
        other => other,
    }
}

/// Item: resume wrote the weights, then failed on a missing optimizer or `best.` tensor,
/// leaving a half-restored run. It is all or nothing now.
#[test]
fn resume_is_all_or_nothing() {
    let (path, data) = checkpoint("partial.safetensors");
    for missing in ["optimizer.exp_avg_sq.out.bias", "best.out.weight", "optimizer.exp_avg.hidden.weight"] {
        let bad = rewrite(&path, |_, tensors| {
            assert!(tensors.remove(missing).is_some(), "{missing}");
        });
        let e = resume_fails(bad, &data);
        assert!(matches!(&e, FitError::Checkpoint(WeightError::Missing { name }) if name == missing), "{e}");
    }
}

/// Item: a checkpoint of a different, larger network resumed with no error.
#[test]
fn checkpoint_of_another_network_is_refused() {
    let data = blobs(30, 1);
    let path = scratch("wider.safetensors");
    let fit = Fit::<8> {
        epochs: 1,
        checkpoints: Some(Checkpoints { path: path.clone(), every: 1 }),
        progress: false,
        ..Fit::default()
    };
    let mut wide = Wider::<f32>::init(&mut sinew::rng(1));
    fit.run(
        &mut wide,
        &mut Adam::new(AdamConfig::default()),
        &SoftmaxCrossEntropy,
        &data,
        None,
        &mut sinew::rng(2),
    )
    .unwrap();
    let e = resume_fails(path.clone(), &data);
    assert!(matches!(e, FitError::Checkpoint(WeightError::Shape { .. })), "{e}");

    // Extra tensors (here: another layer's) are refused too, not ignored.
    let (small, _) = checkpoint("extra.safetensors");
    let bad = rewrite(&small, |_, tensors| {
        let extra = tensors["out.bias"].clone();
        tensors.insert("extra.bias".into(), extra);
    });
    let e = resume_fails(bad, &data);
    assert!(
        matches!(&e, FitError::Checkpoint(WeightError::Unexpected { names }) if names == &["extra.bias"]),
        "{e}"
    );
}

/// Items: `optimizer_steps` of `u64::MAX` (a panic or NaN), `bad_epochs` of `u64::MAX` (an
/// overflow) and counters that contradict each other are refused.
#[test]
fn absurd_checkpoint_counters_are_refused() {
    let (path, data) = checkpoint("counters.safetensors");
    for (key, value, expect) in [
        ("optimizer_steps", u64::MAX.to_string(), "optimizer_steps"),
        ("optimizer_steps", (1u64 << 31).to_string(), "optimizer_steps"),
        ("bad_epochs", u64::MAX.to_string(), "bad_epochs"),
        ("bad_epochs", "3".into(), "bad_epochs"),
        ("epochs_done", "7".into(), "history"),
        ("epochs_done", "-1".into(), "epochs_done"),
        ("best_epoch", "9".into(), "best_epoch"),
        ("best_score", "null".into(), "best_epoch"),
        ("format", "sinew-checkpoint-0".into(), "format"),
    ] {
        let bad = rewrite(&path, |meta, _| {
            meta.insert(key.into(), value.clone());
        });
        let e = resume_fails(bad, &data);
        assert!(
            matches!(&e, FitError::Checkpoint(WeightError::Metadata { key, .. }) if key == expect),
            "{key} = {value}: {e}"
        );
    }
}

/// Item: at 2^31 steps `steps as i32` wrapped and the next Adam step was NaN.
#[test]
fn adam_survives_any_step_count() {
    for steps in [(1u64 << 31) - 1, 1 << 31, 1 << 40, u64::MAX] {
        let mut net = Line::<f64>::init(&mut sinew::rng(1));
        let mut grads = Line::<f64>::zeroed();
        grads.out.weight[0] = 0.5;
        let mut adam = Adam::<f64, Line<f64>>::new(AdamConfig::with_lr(0.1));
        sinew::optim::OptimizerState::<f64, Line<f64>>::set_steps(&mut adam, steps);
        let w = net.out.weight[0];
        adam.step(&mut net, &grads);
        // Bias corrections are 1 this late: the step is lr (1 − β₁) g / √((1 − β₂) g²).
        let expected = w - 0.1 * 0.1 / 0.001f64.sqrt();
        assert!((net.out.weight[0] - expected).abs() < 1e-6, "steps {steps}: {}", net.out.weight[0]);
        assert_eq!(adam.steps(), steps.saturating_add(1));
    }
}

/// A fuzz of resume: random edits of a checkpoint's counters and tensors never panic, never
/// hang, and either resume or fail leaving everything as it was.
mod resume_fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
        #[test]
        fn edited_checkpoints_resume_or_fail_cleanly(
            key in prop::sample::select(vec!["epochs_done", "optimizer_steps", "bad_epochs", "best_epoch", "best_score", "history", "rng"]),
            value in prop::sample::select(vec!["0", "1", "2", "3", "18446744073709551615", "-1", "null", "[]", "1e308", "\"x\"", "{}"]),
            drop in prop::option::of(0usize..12),
        ) {
            let (path, data) = checkpoint(&format!("fuzz-{key}-{}-{drop:?}.safetensors", value.len()));
            let edited = rewrite(&path, |meta, tensors| {
                meta.insert(key.into(), value.into());
                if let Some(i) = drop {
                    let mut names: Vec<String> = tensors.keys().cloned().collect();
                    names.sort();
                    tensors.remove(&names[i % names.len()]);
                }
            });
            match resume(edited, &data, 3) {
                Ok(history) => prop_assert!(history.epochs.len() <= 3),
                Err((e, unchanged)) => prop_assert!(unchanged, "{}", e),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Training and data

/// Item: a class index ≥ the number of outputs panicked inside `Fit::run`; the error now
/// names the sample, and its file and line when it came from a file.
#[test]
fn a_class_beyond_the_outputs_names_the_sample_and_line() {
    let path = scratch("labels.csv");
    std::fs::write(&path, "a,b,class\n0.1,0.2,0\n0.3,0.4,2\n0.5,0.6,3\n0.7,0.8,1\n").unwrap();
    let data = sinew::data::csv::classification::<f32, 2>(&path).unwrap();
    let mut net = Small::<f32>::init(&mut sinew::rng(1));
    let before = net.clone();
    let fit = Fit::<2> { epochs: 1, progress: false, ..Fit::default() };
    let e = fit
        .run(&mut net, &mut Sgd::new(0.1), &SoftmaxCrossEntropy, &data, None, &mut sinew::rng(0))
        .unwrap_err();
    assert!(
        matches!(
            &e,
            FitError::Data(DataError::ClassOutOfRange {
                sample: 2,
                class: 3,
                classes: 3,
                origin: Some((_, 4))
            })
        ),
        "{e}"
    );
    assert!(e.to_string().contains("labels.csv:4: sample 2 has class 3"), "{e}");
    assert_eq!(net, before);
    // Evaluation too.
    assert!(matches!(fit.evaluate(&net, &data, &SoftmaxCrossEntropy), Err(FitError::Data(_))));
}

/// Item: `Metric::F1 { positive }` out of range panicked (index out of bounds).
#[test]
fn a_positive_class_out_of_range_is_an_error() {
    let data = blobs(12, 1);
    for metric in
        [Metric::F1 { positive: 3 }, Metric::Precision { positive: 9 }, Metric::Recall { positive: 3 }]
    {
        let fit = Fit::<4> { epochs: 1, metric, progress: false, ..Fit::default() };
        let e = fit
            .run(
                &mut Small::<f32>::zeroed(),
                &mut Sgd::new(0.1),
                &SoftmaxCrossEntropy,
                &data,
                Some(&data),
                &mut sinew::rng(0),
            )
            .unwrap_err();
        assert!(matches!(&e, FitError::Invalid(m) if m.contains("positive class")), "{e}");
    }
}

/// Item: NaN, infinite or negative learning rates (or a schedule producing one) were
/// accepted, destroyed the network, and the error blamed the data.
#[test]
fn bad_hyperparameters_are_refused_before_training() {
    let data = blobs(12, 1);
    let fit = Fit::<4> { epochs: 3, progress: false, ..Fit::default() };
    let check = |e: FitError, name: &str| {
        assert!(matches!(&e, FitError::Hyperparameter(h) if h.name.contains(name)), "{e}");
    };
    for lr in [f32::NAN, f32::INFINITY, -0.1] {
        let mut net = Small::<f32>::init(&mut sinew::rng(1));
        let before = net.clone();
        let e = fit
            .run(&mut net, &mut Sgd::new(lr), &SoftmaxCrossEntropy, &data, None, &mut sinew::rng(0))
            .unwrap_err();
        check(e, "learning rate");
        assert_eq!(net, before);
        let e = fit
            .run(
                &mut net,
                &mut Adam::new(AdamConfig::with_lr(lr)),
                &SoftmaxCrossEntropy,
                &data,
                None,
                &mut sinew::rng(0),
            )
            .unwrap_err();
        check(e, "learning rate");
        assert_eq!(net, before);
    }
    let mut adam = Adam::<f32, Small>::new(AdamConfig { beta2: 1.0, ..AdamConfig::default() });
    check(
        fit.run(&mut Small::zeroed(), &mut adam, &SoftmaxCrossEntropy, &data, None, &mut sinew::rng(0))
            .unwrap_err(),
        "β₂",
    );
    let mut momentum =
        Momentum::<f32, Small>::new(MomentumConfig { momentum: f32::NAN, ..MomentumConfig::default() });
    check(
        fit.run(&mut Small::zeroed(), &mut momentum, &SoftmaxCrossEntropy, &data, None, &mut sinew::rng(0))
            .unwrap_err(),
        "momentum",
    );
    let mut decayed = Sgd::new(0.1);
    decayed.weight_decay.lambda = -1.0;
    check(
        fit.run(&mut Small::zeroed(), &mut decayed, &SoftmaxCrossEntropy, &data, None, &mut sinew::rng(0))
            .unwrap_err(),
        "λ",
    );
    // Schedules: a negative factor, and rates that overflow by the last epoch.
    for schedule in [
        Schedule::InverseTime { k: -1.0 },
        Schedule::Exponential { gamma: f64::NAN },
        Schedule::Exponential { gamma: 1e300 },
        Schedule::Step { every: 1, gamma: 1e200 },
    ] {
        let fit = Fit::<4> { epochs: 3, schedule, progress: false, ..Fit::default() };
        let mut net = Small::<f32>::init(&mut sinew::rng(1));
        let before = net.clone();
        let e = fit
            .run(&mut net, &mut Sgd::new(0.1), &SoftmaxCrossEntropy, &data, None, &mut sinew::rng(0))
            .unwrap_err();
        assert!(matches!(e, FitError::Hyperparameter(_)), "{schedule:?}: {e}");
        assert_eq!(net, before, "{schedule:?}");
    }
}

/// Item: a run that reached its best dev score and later diverged returned an error and
/// threw away the best weights and the history.
#[test]
fn divergence_keeps_the_best_weights_and_the_history() {
    let xs: Vec<[f64; 1]> = (0..8).map(|i| [i as f64 / 4.0 - 1.0]).collect();
    let ys = xs.iter().map(|x| [2.0 * x[0] + 1.0]).collect();
    let data = Dataset::new(xs, ys).unwrap();
    // Three good epochs at 0.1, then a rate of 1e99 blows the weights up.
    let fit = Fit::<4> {
        epochs: 6,
        schedule: Schedule::Step { every: 3, gamma: 1e100 },
        metric: Metric::Loss,
        early_stopping: Some(EarlyStopping { patience: 100, min_delta: 0.0 }),
        shuffle: false,
        progress: false,
        ..Fit::default()
    };
    let mut net = Line::<f64>::zeroed();
    let e = fit.run(&mut net, &mut Sgd::new(0.1), &L2, &data, Some(&data), &mut sinew::rng(3)).unwrap_err();
    let FitError::NonFinite { history, .. } = &e else { panic!("{e}") };
    assert_eq!(history.best_epoch, Some(3), "{history:#?}");
    assert!(history.epochs.len() >= 3);
    assert!(e.to_string().contains("keeps the weights of epoch 3"), "{e}");

    // The network holds exactly the weights of a clean 3-epoch run.
    let mut reference = Line::<f64>::zeroed();
    Fit::<4> { epochs: 3, ..fit.clone() }
        .run(&mut reference, &mut Sgd::new(0.1), &L2, &data, Some(&data), &mut sinew::rng(3))
        .unwrap();
    assert_eq!(net, reference);
}

/// Items: splits, folds and normalisers of bad or empty data were panics, loops or silent
/// losses; they are errors (see also the unit tests of `Dataset`).
#[test]
fn bad_splits_folds_and_empty_data_are_errors() {
    let data = blobs(10, 1);
    assert!(matches!(data.split(&[0.5, 0.3], &mut sinew::rng(0)), Err(DataError::BadFractions { .. })));
    assert!(matches!(
        data.stratified_split(&[f64::NAN, 1.0], &mut sinew::rng(0)),
        Err(DataError::BadFractions { .. })
    ));
    for k in [0, 1, 11] {
        let cv = cross_validate(&data, k, &mut sinew::rng(0), |_, _| Ok::<f64, DataError>(1.0));
        assert!(matches!(cv, Err(DataError::BadFolds { .. })), "k = {k}");
        let cv = cross_validate(&data, k, &mut sinew::rng(0), |_, _| Ok::<f64, FitError>(1.0));
        assert!(matches!(cv, Err(FitError::Data(DataError::BadFolds { .. }))), "k = {k}");
    }
    let empty = Dataset::<f32, 2>::new(vec![], vec![]).unwrap();
    assert!(empty.fit_normalizer().is_err());
    // A stratified split over labels up to usize::MAX takes no time and drops nothing.
    let huge = data.map_targets(|&c| if c == 0 { usize::MAX } else { c * 10_000_000_000 });
    let parts = huge.stratified_split(&[0.5, 0.5], &mut sinew::rng(0)).unwrap();
    assert_eq!(parts[0].len() + parts[1].len(), 10);
}

/// Item: `idx::mnist::<_, 0>` panicked.
#[test]
fn mnist_with_zero_features_is_an_error() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/data");
    let e = sinew::data::idx::mnist::<f32, 0>(
        format!("{dir}/mnist5k-images.idx3-ubyte"),
        format!("{dir}/mnist5k-labels.idx1-ubyte"),
    )
    .unwrap_err();
    assert!(matches!(e, DataError::WrongWidth { expected: 0, found: 784, .. }), "{e}");
}

// ---------------------------------------------------------------------------------------
// Usability

/// Item: a one-output binary classifier with 0/1 targets had no confusion matrix, its
/// accuracy silently fell back to the loss, and early stopping maximised the loss.
#[test]
fn binary_classifiers_get_binary_metrics() {
    let data = blobs(60, 4).map_targets(|&c| [f32::from(u8::from(c == 0))]);
    let (train, dev) =
        (data.subset(&(0..40).collect::<Vec<_>>()), data.subset(&(40..60).collect::<Vec<_>>()));
    let mut net = Binary::<f32>::init(&mut sinew::rng(1));
    let fit = Fit::<8> {
        epochs: 30,
        metric: Metric::Accuracy,
        early_stopping: Some(EarlyStopping { patience: 30, min_delta: 0.0 }),
        progress: false,
        ..Fit::default()
    };
    let mut adam = Adam::new(AdamConfig::with_lr(0.05));
    let history = fit
        .run(&mut net, &mut adam, &SigmoidBinaryCrossEntropy, &train, Some(&dev), &mut sinew::rng(2))
        .unwrap();
    let scores: Vec<f64> = history.epochs.iter().map(|r| r.dev_score.unwrap()).collect();
    assert!(scores.iter().all(|s| (0.0..=1.0).contains(s)), "accuracy, not a loss: {scores:?}");
    assert_eq!(
        history.best_score,
        scores.iter().copied().reduce(f64::max),
        "the best is the highest accuracy"
    );
    let eval = fit.evaluate(&net, &dev, &SigmoidBinaryCrossEntropy).unwrap();
    let confusion = eval.confusion.clone().expect("a confusion matrix for 0/1 targets");
    assert_eq!(sinew::metrics::ClassCounts::classes(&confusion), 2);
    assert!(eval.score(Metric::F1 { positive: 1 }).unwrap() > 0.9, "{confusion}");
    assert!(sinew::metrics::ClassCounts::accuracy(&confusion) > 0.9, "{confusion}");

    // Targets that are not classes cannot be judged by accuracy: an error, not a fallback.
    let regression = blobs(20, 4).map_targets(|&c| [c as f32 * 0.3]);
    let e = Fit::<8> { epochs: 1, progress: false, ..Fit::default() }
        .run(
            &mut Binary::<f32>::zeroed(),
            &mut Sgd::new(0.1),
            &L2,
            &regression,
            Some(&regression),
            &mut sinew::rng(0),
        )
        .unwrap_err();
    assert!(matches!(&e, FitError::Invalid(m) if m.contains("needs class targets")), "{e}");
    let eval = fit.evaluate(&Binary::<f32>::zeroed(), &regression, &L2).unwrap();
    assert_eq!(eval.score(Metric::Accuracy), None);
    assert_eq!(eval.score(Metric::Loss), Some(eval.loss));
}

/// Item: `Fit::learning_rate` (default 1e-3) overrode the optimizer's own: Adam configured
/// at 0.5 ran at 0.001. The optimizer's rate is the only one.
#[test]
fn the_optimizers_learning_rate_is_used() {
    let data = blobs(12, 1);
    let fit = Fit::<4> {
        epochs: 2,
        schedule: Schedule::Exponential { gamma: 0.5 },
        progress: false,
        ..Fit::default()
    };
    let mut adam = Adam::new(AdamConfig::with_lr(0.5));
    let history = fit
        .run(
            &mut Small::<f32>::init(&mut sinew::rng(1)),
            &mut adam,
            &SoftmaxCrossEntropy,
            &data,
            None,
            &mut sinew::rng(0),
        )
        .unwrap();
    assert_eq!(history.epochs[0].learning_rate, 0.5);
    assert_eq!(history.epochs[1].learning_rate, 0.25);
}

/// Item: the reported training loss left out the L2 penalty without saying so. It is the
/// data loss, as documented: with a huge weight decay and learning rate 0 it is exactly
/// the data loss computed by hand.
#[test]
fn the_reported_loss_is_the_data_loss() {
    let xs: Vec<[f64; 1]> = (0..4).map(|i| [i as f64]).collect();
    let data = Dataset::new(xs, vec![[1.0]; 4]).unwrap();
    let mut net = Line::<f64>::zeroed();
    net.out.weight[0] = 2.0;
    let mut sgd = Sgd::new(0.0);
    sgd.weight_decay.lambda = 1e6;
    let history = Fit::<4> { epochs: 1, progress: false, ..Fit::default() }
        .run(&mut net, &mut sgd, &L2, &data, None, &mut sinew::rng(0))
        .unwrap();
    let by_hand = (0..4).map(|i| 0.5 * (2.0 * i as f64 - 1.0).powi(2)).sum::<f64>() / 4.0;
    assert!((history.epochs[0].train_loss - by_hand).abs() < 1e-12, "{history:?}");
}

/// Item: loading a trained body into a network with a new head took strict and lenient
/// loading in a circle; it is one call with a report.
#[test]
fn partial_loading_reports_what_was_loaded_and_kept() {
    let path = scratch("body.safetensors");
    let trained = Small::<f32>::init(&mut sinew::rng(1));
    io::WeightWriter::new().add("hidden.", &trained.hidden).save(&path).unwrap();

    let mut fresh = Small::<f32>::init(&mut sinew::rng(2));
    let head = fresh.out.clone();
    let report = io::load_partial(&path, &mut fresh).unwrap();
    assert_eq!(report.loaded, ["hidden.weight", "hidden.bias"]);
    assert_eq!(report.kept, ["out.weight", "out.bias"]);
    assert!(report.unused.is_empty());
    assert_eq!(fresh.hidden, trained.hidden);
    assert_eq!(fresh.out, head);
    assert!(report.to_string().contains("kept 2 tensors as they were: out.weight, out.bias"), "{report}");

    // A tensor present with the wrong shape is an error, and nothing is loaded.
    let mut wider = Wider::<f32>::init(&mut sinew::rng(3));
    let before = wider.clone();
    assert!(matches!(io::load_partial(&path, &mut wider), Err(WeightError::Shape { .. })));
    assert_eq!(wider, before);
    // No tensor in common: an error, never a silent no-op.
    let other = scratch("other.safetensors");
    io::WeightWriter::new().add("encoder.", &trained.hidden).save(&other).unwrap();
    assert!(matches!(io::load_partial(&other, &mut fresh), Err(WeightError::NothingToLoad { .. })));
}

/// Item: the course's bias/variance diagnosis, as a report.
#[test]
fn bias_variance_diagnosis() {
    let data = blobs(90, 7);
    let idx = |r: std::ops::Range<usize>| data.subset(&r.collect::<Vec<_>>());
    let (train, train_dev, dev) = (idx(0..60), idx(60..75), idx(75..90));
    let fit = Fit::<8> { epochs: 1, progress: false, ..Fit::default() };
    // An untrained network underfits: its training error is far above the human level.
    let net = Small::<f32>::zeroed();
    let d = fit.diagnose(&net, &SoftmaxCrossEntropy, &train, Some(&train_dev), &dev, 0.0).unwrap();
    assert!((d.train_error - 2.0 / 3.0).abs() < 1e-12, "{d}"); // all predicted class 0
    assert_eq!(d.focus(), Focus::Bias);
    assert!((d.avoidable_bias() - d.train_error).abs() < 1e-15);
    assert_eq!(d.data_mismatch(), Some(d.dev_error - d.train_dev_error.unwrap()));
    assert!(d.to_string().contains("focus on bias"), "{d}");
    assert!(fit.diagnose(&net, &SoftmaxCrossEntropy, &train, None, &dev, 1.5).is_err());
    // The gaps by hand.
    let by_hand = sinew::train::Diagnosis {
        human_error: 0.01,
        train_error: 0.02,
        train_dev_error: Some(0.10),
        dev_error: 0.11,
    };
    assert_eq!(by_hand.focus(), Focus::Variance);
    let mismatch = sinew::train::Diagnosis { train_dev_error: Some(0.03), ..by_hand };
    assert_eq!(mismatch.focus(), Focus::DataMismatch);
}

// ---------------------------------------------------------------------------------------
// Saving

/// Item: two threads saving to one path shared a temporary name and the destination was
/// corrupt in 31 of 100 rounds while every save returned Ok.
#[test]
fn concurrent_saves_to_one_path_never_corrupt_it() {
    let path = scratch("concurrent.safetensors");
    let nets: Vec<Wider<f32>> = (0..4).map(|i| Wider::<f32>::init(&mut sinew::rng(i))).collect();
    for _ in 0..25 {
        std::thread::scope(|s| {
            for net in &nets {
                s.spawn(|| io::save(&path, net).unwrap());
            }
        });
        let mut loaded = Wider::<f32>::zeroed();
        io::load(&path, &mut loaded).expect("a whole file");
        assert!(nets.contains(&loaded));
    }
    assert_eq!(leftovers(path.parent().unwrap()), Vec::<String>::new());
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(io::TEMP_PREFIX))
        .collect()
}

/// Items: a failed save leaves no temporary file and the previous file intact; temporary
/// files are recognisable; a legal 250-character file name can be saved.
#[test]
fn saves_clean_up_and_take_long_names() {
    let dir = scratch("names").parent().unwrap().to_path_buf();
    let long = dir.join(format!("{}.safetensors", "n".repeat(250 - ".safetensors".len())));
    let net = Small::<f32>::init(&mut sinew::rng(1));
    io::save(&long, &net).unwrap();
    let mut back = Small::<f32>::zeroed();
    io::load(&long, &mut back).unwrap();
    assert_eq!(back, net);

    // A saved file gets the permissions of any file the program creates (not tempfile's
    // private 0o600).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let plain = dir.join("plain.bin");
        std::fs::write(&plain, b"x").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&long), mode(&plain));
    }

    let target = dir.join("kept.bin");
    std::fs::write(&target, b"previous").unwrap();
    let e = io::write_atomic(&target, |f| {
        use std::io::Write;
        f.write_all(b"half")?;
        Err(std::io::Error::other("interrupted"))
    });
    assert!(e.is_err());
    assert_eq!(std::fs::read(&target).unwrap(), b"previous");
    assert_eq!(leftovers(&dir), Vec::<String>::new());
}

/// Item: `plot::history_chart` with a huge size panicked in plotters or aborted allocating
/// 4 GB; sizes are capped with an error.
#[test]
fn huge_charts_are_an_error() {
    let history = sinew::train::History::default();
    let path = scratch("chart.png");
    for size in [(100_000, 100_000), (u32::MAX, 10), (0, 480), (640, 1)] {
        let e = sinew::plot::history_chart(&history, "t", &path, size).unwrap_err();
        assert!(e.to_string().contains("each side must be"), "{size:?}: {e}");
    }
    assert!(!path.exists());
}

/// The optimizers' decaying state never enters the subnormal range, where x86 arithmetic
/// is tens of times slower: after one gradient of 1 and then only zero gradients, every
/// velocity and moment is, after every step, either normal or exactly 0 (values below
/// `f32::MIN_POSITIVE` are flushed). Without the flush each would pass through hundreds of
/// subnormal steps on its way to 0.
#[test]
fn optimizer_state_is_never_subnormal() {
    fn subnormals(state: &[&Small<f32>]) -> usize {
        let mut n = 0;
        for s in state {
            s.for_each_tensor(|_, t| n += t.iter().filter(|v| v.is_subnormal()).count());
        }
        n
    }
    let mut ones = Small::<f32>::zeroed();
    ones.for_each_tensor_mut(|_, t| t.fill(1.0));
    let zeros = Small::<f32>::zeroed();
    let start = Small::<f32>::init(&mut sinew::rng(1));

    let mut net = start.clone();
    let mut momentum =
        Momentum::<f32, Small>::boxed(MomentumConfig { lr: 1e-3, ..MomentumConfig::default() });
    momentum.step(&mut net, &ones);
    for step in 0..2000 {
        momentum.step(&mut net, &zeros);
        assert_eq!(subnormals(&[momentum.velocity()]), 0, "momentum, step {step}");
    }
    assert!(momentum.velocity().hidden.weight.iter().all(|&v| v == 0.0));

    let mut net = start.clone();
    let mut config = AdamConfig::with_lr(1e-3);
    config.beta2 = 0.9;
    let mut adam = Adam::<f32, Small>::boxed(config);
    adam.step(&mut net, &ones);
    for step in 0..2000 {
        adam.step(&mut net, &zeros);
        assert_eq!(subnormals(&[adam.moment1(), adam.moment2()]), 0, "adam, step {step}");
    }
    assert!(adam.moment2().hidden.weight.iter().all(|&v| v == 0.0));

    let mut net = start.clone();
    let mut rms = RmsProp::<f32, Small>::boxed(RmsPropConfig::default());
    rms.step(&mut net, &ones);
    for step in 0..12000 {
        rms.step(&mut net, &zeros);
        assert_eq!(subnormals(&[rms.square_avg()]), 0, "rmsprop, step {step}");
    }
    assert!(rms.square_avg().hidden.weight.iter().all(|&v| v == 0.0));
}
