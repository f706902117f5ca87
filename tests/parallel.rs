//! Data-parallel training (`Fit::<B, C>`, `DataParallel`), parallel evaluation, folds and
//! trials: the weights do not depend on the number of threads, bit for bit, and a chunked
//! step is the whole-batch step up to rounding when samples do not interact.

use sinew::augment::Augment;
use sinew::data::Dataset;
use sinew::metrics::Metric;
use sinew::prelude::*;
use sinew::train::{DataParallel, Fit, FitError, cross_validate};

network! {
    /// Everything that makes chunks differ: batch norm (per-chunk statistics, running
    /// statistics reduced), dropout (a generator per chunk), convolution and pooling.
    pub struct Noisy {
        input: [1, 8, 8],
        conv: Conv2d(4, kernel = 3, padding = same),
        bn: BatchNorm -> Relu,
        pool: MaxPool2d(2),
        flat: Flatten,
        hidden: Dense(16) -> Tanh,
        drop: Dropout(keep = 0.8),
        out: Dense(3),
    }
}

network! {
    /// Samples that do not interact: a chunked step is the whole-batch step.
    pub struct Plain {
        input: [1, 8, 8],
        conv: Conv2d(4, kernel = 3, padding = same) -> Relu,
        pool: MaxPool2d(2),
        flat: Flatten,
        hidden: Dense(16) -> Tanh,
        out: Dense(3),
    }
}

/// `n` 8 × 8 images of three classes: a bright row, column or diagonal, with noise.
fn images(n: usize, seed: u64) -> Dataset<f64, 64> {
    let mut rng = sinew::rng(seed);
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for i in 0..n {
        let class = i % 3;
        let mut x = [0.0f64; 64];
        sinew::init::Init::Xavier.fill(&mut x, 20, 20, &mut rng);
        for j in 0..8 {
            let at = match class {
                0 => 3 * 8 + j,
                1 => j * 8 + 4,
                _ => j * 8 + j,
            };
            x[at] += 1.0;
        }
        xs.push(x);
        ys.push(class);
    }
    Dataset::new(xs, ys).unwrap()
}

fn bits<M: sinew::Parameters<f64>>(net: &M) -> Vec<u64> {
    let mut all = Vec::new();
    net.for_each_tensor(|_, t| all.extend(t.iter().map(|v| v.to_bits())));
    all
}

/// Two epochs of `Fit::<16, 4>` (four chunks; 50 samples, so the last batch has one
/// partial chunk) with batch norm, dropout and augmentation: 1, 2 and 16 threads give the
/// same weights, running statistics, optimizer state and history, bit for bit.
#[test]
fn weights_do_not_depend_on_the_number_of_threads() {
    let data = images(50, 1);
    let dev = images(21, 2);
    let train = |threads: usize| {
        let mut rng = sinew::rng(3);
        let mut net = Noisy::<f64>::boxed_init(&mut rng);
        let mut adam = Adam::<f64, Noisy<f64>>::boxed(AdamConfig::with_lr(1e-2));
        let fit = Fit::<16, 4> {
            epochs: 2,
            progress: false,
            threads: Some(threads),
            augment: Some(Augment { shift: 1, ..Augment::none([1, 8, 8]) }),
            ..Fit::default()
        };
        let history =
            fit.run(&mut *net, &mut *adam, &SoftmaxCrossEntropy, &data, Some(&dev), &mut rng).unwrap();
        let losses: Vec<(u64, u64)> =
            history.epochs.iter().map(|e| (e.train_loss.to_bits(), e.dev_loss.unwrap().to_bits())).collect();
        (bits(&*net), adam, losses, rng)
    };
    let one = train(1);
    assert!(one.0.iter().any(|&b| b != 0));
    for threads in [2, 16] {
        let other = train(threads);
        assert!(one.0 == other.0, "weights differ between 1 and {threads} threads");
        assert!(*one.1 == *other.1, "Adam's moments differ between 1 and {threads} threads");
        assert_eq!(one.2, other.2, "losses differ between 1 and {threads} threads");
        assert_eq!(one.3, other.3, "the generator ends elsewhere with {threads} threads");
    }
}

/// Without batch norm or dropout, one epoch in chunks of 4 (the last batch of 50 samples
/// holding 2) takes the same steps as one epoch of whole batches, up to rounding: the
/// reduction weights each chunk by its share of the batch's samples.
#[test]
fn chunked_steps_are_whole_batch_steps() {
    let data = images(50, 4);
    let run = |chunked: bool| {
        let mut rng = sinew::rng(5);
        let mut net = Plain::<f64>::boxed_init(&mut rng);
        let mut sgd = Sgd::new(0.5);
        if chunked {
            let fit = Fit::<16, 4> { epochs: 1, progress: false, ..Fit::default() };
            fit.run(&mut *net, &mut sgd, &SoftmaxCrossEntropy, &data, None, &mut rng).unwrap();
        } else {
            let fit = Fit::<16> { epochs: 1, progress: false, ..Fit::default() };
            fit.run(&mut *net, &mut sgd, &SoftmaxCrossEntropy, &data, None, &mut rng).unwrap();
        }
        net
    };
    let (chunked, whole) = (run(true), run(false));
    let mut moved = 0.0f64;
    let initial = Plain::<f64>::boxed_init(&mut sinew::rng(5));
    for i in 0..<Plain<f64> as sinew::Parameters<f64>>::TENSORS.len() {
        for ((a, b), c) in chunked.tensor(i).iter().zip(whole.tensor(i)).zip(initial.tensor(i)) {
            assert!((a - b).abs() < 1e-12, "tensor {i}: {a} vs {b}");
            moved = moved.max((b - c).abs());
        }
    }
    assert!(moved > 1e-3, "training moved the weights by only {moved}");
}

/// A step directly: four chunks of 2 against one whole batch of 8, the loss and every
/// gradient-driven weight; a non-finite loss changes nothing.
#[test]
fn data_parallel_step_matches_the_whole_batch_and_refuses_nan() {
    let data = images(7, 6);
    let indices: Vec<usize> = (0..7).collect();
    let mut net = Plain::<f64>::boxed_init(&mut sinew::rng(7));
    let mut whole = net.clone();
    let mut dp = DataParallel::<f64, Plain<f64>, usize, 64, 3, 2>::new(4);
    assert_eq!(dp.load(&data, &indices), 4);
    let value = dp.step(&mut net, &SoftmaxCrossEntropy, &mut Sgd::new(0.1), &mut sinew::rng(8)).unwrap();

    let mut batches = data.batches::<8>(None);
    let batch = batches.next().unwrap();
    let mut tw = PlainTrainWorkspace::<8, f64>::boxed();
    let want = sinew::model::train_step(
        &mut *whole,
        &batch.x,
        &batch.y,
        7,
        &SoftmaxCrossEntropy,
        &mut Sgd::new(0.1),
        &mut *tw,
        &mut sinew::rng(8),
    )
    .unwrap();
    assert!((value - want).abs() < 1e-14, "{value} vs {want}");
    for i in 0..<Plain<f64> as sinew::Parameters<f64>>::TENSORS.len() {
        for (a, b) in net.tensor(i).iter().zip(whole.tensor(i)) {
            assert!((a - b).abs() < 1e-14, "tensor {i}: {a} vs {b}");
        }
    }

    let mut bad = images(7, 6);
    let mut samples = bad.samples().to_vec();
    samples[5][0] = f64::NAN;
    bad = Dataset::new(samples, bad.targets().to_vec()).unwrap();
    let before = net.clone();
    dp.load(&bad, &indices);
    let e = dp.step(&mut net, &SoftmaxCrossEntropy, &mut Sgd::new(0.1), &mut sinew::rng(8)).unwrap_err();
    assert!(e.value.is_nan());
    assert!(*net == *before, "a failed step changed the network");
}

/// `threads: Some(0)` is refused before anything changes.
#[test]
fn zero_threads_is_an_error() {
    let data = images(10, 9);
    let mut rng = sinew::rng(10);
    let mut net = Plain::<f64>::boxed_init(&mut rng);
    let before = net.clone();
    let fit = Fit::<4, 2> { epochs: 1, progress: false, threads: Some(0), ..Fit::default() };
    let e = fit.run(&mut *net, &mut Sgd::new(0.1), &SoftmaxCrossEntropy, &data, None, &mut rng).unwrap_err();
    assert!(matches!(e, FitError::Invalid(ref m) if m.contains("thread")), "{e}");
    assert!(*net == *before);
    assert!(fit.evaluate(&*net, &data, &SoftmaxCrossEntropy).is_err());
}

/// Evaluation spread over threads gives the serial loss bit for bit, and parallel folds
/// give their scores in fold order.
#[test]
fn evaluation_and_folds_do_not_depend_on_threads() {
    let data = images(101, 11);
    let net = Plain::<f64>::boxed_init(&mut sinew::rng(12));
    let serial =
        Fit::<8> { threads: Some(1), ..Fit::default() }.evaluate(&*net, &data, &SoftmaxCrossEntropy).unwrap();
    for threads in [2, 3, 16] {
        let other = Fit::<8> { threads: Some(threads), ..Fit::default() }
            .evaluate(&*net, &data, &SoftmaxCrossEntropy)
            .unwrap();
        assert_eq!(serial.loss.to_bits(), other.loss.to_bits(), "{threads} threads");
        assert_eq!(serial.confusion, other.confusion, "{threads} threads");
    }
    let fold_score = |i: usize, fold: &sinew::data::Fold<f64, 64, usize>| {
        let mut rng = sinew::rng(i as u64);
        let mut net = Plain::<f64>::boxed_init(&mut rng);
        let fit = Fit::<8, 4> { epochs: 2, progress: false, ..Fit::default() };
        fit.run(&mut *net, &mut Sgd::new(0.1), &SoftmaxCrossEntropy, &fold.train, None, &mut rng)?;
        let eval = fit.evaluate(&*net, &fold.validation, &SoftmaxCrossEntropy)?;
        Ok::<f64, FitError>(eval.score(Metric::Loss).unwrap())
    };
    let cv = cross_validate(&data, 5, &mut sinew::rng(13), fold_score).unwrap();
    let serial = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| cross_validate(&data, 5, &mut sinew::rng(13), fold_score))
        .unwrap();
    assert_eq!(cv, serial);
}
