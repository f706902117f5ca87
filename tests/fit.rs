//! The fit loop, evaluation, cross-validation, random search, checkpoints and charts,
//! each against an answer computed by hand.

use sinew::data::Dataset;
use sinew::metrics::{ClassCounts, Metric};
use sinew::prelude::*;
use sinew::train::{Checkpoints, EarlyStopping, Fit, FitError, Range, cross_validate, random_search};
use std::path::PathBuf;

network! {
    /// `y = w x + b`.
    pub struct Line {
        input: 1,
        out: Dense(1),
    }
}

network! {
    /// A small classifier with dropout.
    pub struct Small {
        input: 2,
        hidden: Dense(8) -> Tanh,
        drop: Dropout(keep = 0.75),
        out: Dense(3),
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sinew-fit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// `y = 2x + 1` at `n` points spread over [-1, 1].
fn line_data(n: usize) -> Dataset<f64, 1, [f64; 1]> {
    let xs: Vec<[f64; 1]> = (0..n).map(|i| [2.0 * i as f64 / (n - 1) as f64 - 1.0]).collect();
    let ys = xs.iter().map(|x| [2.0 * x[0] + 1.0]).collect();
    Dataset::new(xs, ys).unwrap()
}

/// Three clusters in the plane.
fn blobs(n: usize, seed: u64) -> Dataset<f32, 2> {
    let mut rng = sinew::rng(seed);
    let centers = [[0.0, 1.0], [-1.0, -0.5], [1.0, -0.5]];
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for i in 0..n {
        let c = i % 3;
        let mut noise = [0.0f32; 2];
        sinew::init::Init::Xavier.fill(&mut noise, 8, 8, &mut rng);
        xs.push([centers[c][0] + noise[0], centers[c][1] + noise[1]]);
        ys.push(c);
    }
    Dataset::new(xs, ys).unwrap()
}

/// With a learning rate of 0 the dev score never changes, so the run stops after the
/// first epoch plus `patience` epochs without improvement, and the best epoch is 1.
#[test]
fn early_stopping_without_progress_stops_after_patience() {
    let data = blobs(30, 1);
    let mut net = Small::<f32>::init(&mut sinew::rng(1));
    let mut sgd = Sgd::new(0.0);
    let fit = Fit::<8> {
        epochs: 50,
        early_stopping: Some(EarlyStopping { patience: 3, min_delta: 0.0 }),
        ..Fit::default()
    };
    let history =
        fit.run(&mut net, &mut sgd, &SoftmaxCrossEntropy, &data, Some(&data), &mut sinew::rng(2)).unwrap();
    assert_eq!(history.epochs.len(), 4);
    assert!(history.stopped_early);
    assert_eq!(history.best_epoch, Some(1));
}

/// Five epochs of SGD at 0.1 fit a line; then the schedule multiplies the rate by 100 and
/// the dev loss climbs. With patience 2 the run stops after epoch 7 and restores the
/// weights of epoch 5, which are bit for bit those of a plain 5-epoch run.
#[test]
fn early_stopping_restores_the_best_weights() {
    let data = line_data(8);
    let settings = |epochs, early_stopping| Fit::<4> {
        epochs,
        schedule: Schedule::Step { every: 5, gamma: 100.0 },
        metric: Metric::Loss,
        early_stopping,
        ..Fit::default()
    };
    let mut net = Line::<f64>::zeroed();
    let history = settings(50, Some(EarlyStopping { patience: 2, min_delta: 0.0 }))
        .run(&mut net, &mut Sgd::new(0.1), &L2, &data, Some(&data), &mut sinew::rng(3))
        .unwrap();
    assert_eq!(history.epochs.len(), 7, "{history:#?}");
    assert_eq!(history.best_epoch, Some(5));
    let losses: Vec<f64> = history.epochs.iter().map(|r| r.dev_loss.unwrap()).collect();
    assert!(losses[5] > losses[4] && losses[6] > losses[4], "{losses:?}");
    assert_eq!(history.epochs[5].learning_rate, 10.0);

    let mut reference = Line::<f64>::zeroed();
    settings(5, None)
        .run(&mut reference, &mut Sgd::new(0.1), &L2, &data, Some(&data), &mut sinew::rng(3))
        .unwrap();
    assert_eq!(net, reference);
}

/// A NaN in sample 6, batches of 4, no shuffling: the loss goes bad in epoch 1, step 2;
/// the error says so and the network keeps the weights from before that step.
#[test]
fn a_non_finite_loss_names_epoch_and_step() {
    let mut xs: Vec<[f64; 1]> = (0..10).map(|i| [i as f64 / 10.0]).collect();
    xs[6][0] = f64::NAN;
    let data = Dataset::new(xs, vec![[0.0]; 10]).unwrap();
    let mut net = Line::<f64>::init(&mut sinew::rng(1));
    let fit = Fit::<4> { epochs: 3, shuffle: false, ..Fit::default() };
    let e = fit.run(&mut net, &mut Sgd::new(0.1), &L2, &data, None, &mut sinew::rng(0)).unwrap_err();
    assert!(matches!(e, FitError::NonFinite { epoch: 1, step: 2, .. }), "{e}");
    assert!(e.to_string().contains("at epoch 1, step 2"), "{e}");
    assert!(net.out.weight[0].is_finite() && net.out.bias[0].is_finite());
}

/// With 10 samples and batches of 4 the last batch holds 2 samples and 2 columns of
/// padding. At learning rate 0 the epoch's training loss must be exactly the mean of the
/// 10 per-sample losses: padding counts for nothing.
#[test]
fn padding_counts_in_neither_the_loss_nor_the_gradient() {
    let data = line_data(10);
    let net0 = Line::<f64>::init(&mut sinew::rng(4));
    let (w, b) = (net0.out.weight[0], net0.out.bias[0]);
    let by_hand: f64 = data
        .samples()
        .iter()
        .zip(data.targets())
        .map(|(x, y)| 0.5 * (w * x[0] + b - y[0]).powi(2))
        .sum::<f64>()
        / 10.0;
    let mut net = net0.clone();
    let fit = Fit::<4> { epochs: 1, ..Fit::default() };
    let history = fit.run(&mut net, &mut Sgd::new(0.0), &L2, &data, None, &mut sinew::rng(5)).unwrap();
    assert!(
        (history.epochs[0].train_loss - by_hand).abs() < 1e-14,
        "{} vs {by_hand}",
        history.epochs[0].train_loss
    );

    // One step on 3 samples in a batch of 4: the closed-form full-batch gradient step.
    let small = line_data(3);
    let mut net = net0.clone();
    let fit = Fit::<4> { epochs: 1, shuffle: false, ..Fit::default() };
    fit.run(&mut net, &mut Sgd::new(0.5), &L2, &small, None, &mut sinew::rng(6)).unwrap();
    let (mut gw, mut gb) = (0.0, 0.0);
    for (x, y) in small.samples().iter().zip(small.targets()) {
        let r = w * x[0] + b - y[0];
        gw += r * x[0] / 3.0;
        gb += r / 3.0;
    }
    assert!((net.out.weight[0] - (w - 0.5 * gw)).abs() < 1e-15);
    assert!((net.out.bias[0] - (b - 0.5 * gb)).abs() < 1e-15);
}

/// Three folds of six samples: each sample is validated exactly once, and fold scores
/// 1, 2, 3 give a mean of 2 and a sample standard deviation of 1.
#[test]
fn k_fold_cross_validation() {
    let data = Dataset::<f32, 1>::new((0..6).map(|i| [i as f32]).collect(), vec![0; 6]).unwrap();
    let validated = std::sync::Mutex::new(Vec::new());
    let cv = cross_validate(&data, 3, &mut sinew::rng(7), |i, fold| {
        assert_eq!((fold.train.len(), fold.validation.len()), (4, 2));
        validated.lock().unwrap().extend(fold.validation.samples().iter().map(|s| s[0]));
        Ok::<_, sinew::data::DataError>(i as f64 + 1.0)
    })
    .unwrap();
    assert_eq!(cv.scores, [1.0, 2.0, 3.0]);
    assert_eq!((cv.mean, cv.std), (2.0, 1.0));
    let mut validated = validated.into_inner().unwrap();
    validated.sort_by(f32::total_cmp);
    assert_eq!(validated, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
}

/// A network that always predicts class 2 scores the share of class 2 as accuracy, and
/// precision and recall follow by hand.
#[test]
fn evaluation_metrics_by_hand() {
    let data = Dataset::<f32, 2>::new(vec![[0.0, 0.0]; 10], vec![0, 1, 2, 2, 2, 1, 0, 2, 1, 2]).unwrap();
    let mut net = Small::<f32>::zeroed();
    net.out.bias[2] = 1.0;
    let eval = Fit::<4>::default().evaluate(&net, &data, &SoftmaxCrossEntropy).unwrap();
    let confusion = eval.confusion.unwrap();
    assert_eq!(confusion.accuracy(), 0.5);
    assert_eq!(confusion.precision(2), 0.5);
    assert_eq!(confusion.recall(2), 1.0);
    assert_eq!(confusion.recall(0), 0.0);
    let e = std::f64::consts::E;
    let loss = -(1.0 / (2.0 + e)).ln() * 0.5 - (e / (2.0 + e)).ln() * 0.5;
    assert!((eval.loss - loss).abs() < 1e-6, "{} vs {loss}", eval.loss);
    assert_eq!(Metric::MacroF1.value(&confusion, 0.0), (2.0 / 3.0) / 3.0);
}

/// Interrupting a run after 3 epochs and resuming from its checkpoint gives, bit for bit,
/// the weights and history of an uninterrupted 6-epoch run (shuffling, dropout masks,
/// Adam's moments and early-stopping state all carry over).
#[test]
fn resuming_from_a_checkpoint_is_exact() {
    let (train, dev) = (blobs(60, 8), blobs(30, 9));
    let fit = |epochs: usize, checkpoints: Option<Checkpoints>, resume_from: Option<PathBuf>| Fit::<8> {
        epochs,
        schedule: Schedule::InverseTime { k: 0.1 },
        metric: Metric::MacroF1,
        early_stopping: Some(EarlyStopping { patience: 100, min_delta: 0.0 }),
        checkpoints,
        resume_from,
        ..Fit::default()
    };
    let run = |fit: Fit<8>, net: &mut Small<f32>, adam: &mut Adam<f32, Small>, rng: &mut sinew::Rng| {
        fit.run(net, adam, &SoftmaxCrossEntropy, &train, Some(&dev), rng).unwrap()
    };

    let mut rng = sinew::rng(10);
    let mut net_a = Small::<f32>::init(&mut rng);
    let start = net_a.clone();
    let mut adam_a = Adam::new(AdamConfig::with_lr(0.01));
    let full = run(fit(6, None, None), &mut net_a, &mut adam_a, &mut rng.clone());

    let path = scratch("resume.safetensors");
    let mut net_b = start.clone();
    let mut adam_b = Adam::new(AdamConfig::with_lr(0.01));
    run(
        fit(3, Some(Checkpoints { path: path.clone(), every: 1 }), None),
        &mut net_b,
        &mut adam_b,
        &mut rng.clone(),
    );

    // A fresh process: new network, optimizer and generator, all restored from the file.
    let mut net_c = Small::<f32>::zeroed();
    let mut adam_c = Adam::new(AdamConfig::with_lr(0.01));
    let mut rng_c = sinew::rng(999);
    let resumed = run(fit(6, None, Some(path)), &mut net_c, &mut adam_c, &mut rng_c);

    let bits = |n: &Small<f32>| {
        let mut v = Vec::new();
        n.for_each_tensor(|_, t| v.extend(t.iter().map(|x| x.to_bits())));
        v
    };
    assert_eq!(bits(&net_c), bits(&net_a));
    assert_eq!(adam_c, adam_a);
    assert_eq!(resumed.epochs.len(), 6);
    for (a, b) in resumed.epochs.iter().zip(&full.epochs) {
        assert_eq!(
            (a.epoch, a.train_loss, a.dev_loss, a.dev_score, a.learning_rate),
            (b.epoch, b.train_loss, b.dev_loss, b.dev_score, b.learning_rate)
        );
    }
    assert_eq!((resumed.best_epoch, resumed.best_score), (full.best_epoch, full.best_score));
}

#[test]
fn a_corrupt_checkpoint_is_an_error() {
    let path = scratch("not-a-checkpoint.safetensors");
    sinew::io::save(&path, &Small::<f32>::zeroed()).unwrap();
    let fit = Fit::<8> { epochs: 2, resume_from: Some(path), ..Fit::default() };
    let data = blobs(9, 1);
    let e = fit
        .run(
            &mut Small::<f32>::zeroed(),
            &mut Adam::new(AdamConfig::default()),
            &SoftmaxCrossEntropy,
            &data,
            None,
            &mut sinew::rng(0),
        )
        .unwrap_err();
    assert!(matches!(e, FitError::Checkpoint(sinew::io::WeightError::Metadata { .. })), "{e}");
}

#[test]
fn early_stopping_needs_dev_data() {
    let fit =
        Fit::<8> { early_stopping: Some(EarlyStopping { patience: 1, min_delta: 0.0 }), ..Fit::default() };
    let data = blobs(9, 1);
    let e = fit
        .run(
            &mut Small::<f32>::zeroed(),
            &mut Sgd::new(0.1),
            &SoftmaxCrossEntropy,
            &data,
            None,
            &mut sinew::rng(0),
        )
        .unwrap_err();
    assert!(matches!(e, FitError::Invalid(_)));
}

/// Learning rates drawn on a log scale stay in range and cover the decades evenly; the
/// search keeps the best trial and survives a diverging one.
#[test]
fn random_search_on_a_log_scale() {
    let range = Range::Log { low: 1e-4, high: 1e-1 };
    let mut rng = sinew::rng(11);
    let draws: Vec<f64> = (0..3000).map(|_| range.sample(&mut rng)).collect();
    assert!(draws.iter().all(|d| (1e-4..1e-1).contains(d)));
    for decade in [1e-4, 1e-3, 1e-2] {
        let share = draws.iter().filter(|&&d| d >= decade && d < decade * 10.0).count() as f64 / 3000.0;
        assert!((share - 1.0 / 3.0).abs() < 0.04, "decade {decade}: {share}");
    }

    let search = random_search(
        20,
        Metric::Loss,
        &mut sinew::rng(12),
        |rng| range.sample(rng),
        |&lr| {
            if lr > 0.05 {
                Err(FitError::NonFinite { epoch: 1, step: 1, loss: f64::NAN, history: Default::default() })
            } else {
                Ok((lr.log10() + 2.0).abs())
            }
        },
    )
    .unwrap();
    assert_eq!(search.trials.len(), 20);
    let best = search.best_trial().unwrap();
    let closest = search.trials.iter().filter_map(|t| t.score).fold(f64::INFINITY, f64::min);
    assert_eq!(best.score, Some(closest));
    assert!(search.trials.iter().all(|t| t.score.is_some() == (t.params <= 0.05)));
}

/// The chart is a PNG of the requested size.
#[test]
fn history_chart_is_a_png() {
    let data = blobs(30, 2);
    let mut net = Small::<f32>::init(&mut sinew::rng(1));
    let fit = Fit::<8> { epochs: 5, ..Fit::default() };
    let history = fit
        .run(
            &mut net,
            &mut Adam::new(AdamConfig::with_lr(0.01)),
            &SoftmaxCrossEntropy,
            &data,
            Some(&data),
            &mut sinew::rng(2),
        )
        .unwrap();
    let path = scratch("history.png");
    sinew::plot::history_chart(&history, "test", &path, (640, 480)).unwrap();
    let png = std::fs::read(&path).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let (width, height) = (
        u32::from_be_bytes(png[16..20].try_into().unwrap()),
        u32::from_be_bytes(png[20..24].try_into().unwrap()),
    );
    assert_eq!((width, height), (640, 480));
}
