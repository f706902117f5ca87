//! Classifies 8x8 handwritten digits: 5-fold cross-validation of an MLP on the training
//! pool, a random search of the learning rate and weight decay on a dev split, then a final
//! fit with early stopping, evaluated on a held-out test split. Prints per-fold and mean
//! accuracy and macro F1, the search trials, the test confusion matrix, and writes the
//! weights (with the input normaliser) and a chart of the training history.
//!
//! ```sh
//! cargo run --release --example 03-digits
//! ```
//!
//! Outputs go to `out/digits.safetensors` and `out/digits-history.png`.

use sinew::data::{Dataset, csv};
use sinew::io::WeightWriter;
use sinew::metrics::{ClassCounts, Metric};
use sinew::prelude::*;
use sinew::train::{EarlyStopping, Fit, FitError, Range, cross_validate, random_search};
use std::error::Error;

network! {
    /// 64 pixels in, 10 digit logits out.
    pub struct Digits {
        input: 64,
        hidden: Dense(96) -> Relu,
        drop: Dropout(keep = 0.8),
        out: Dense(10),
    }
}

const BATCH: usize = 32;

/// Normalises `train` and `others` with statistics of `train` only.
fn normalized(
    train: &Dataset<f32, 64>,
    others: &[&Dataset<f32, 64>],
) -> Result<(sinew::data::Normalizer<f32, 64>, Vec<Dataset<f32, 64>>), sinew::data::DataError> {
    let norm = train.fit_normalizer()?;
    let mut out = vec![train.clone()];
    out.extend(others.iter().map(|d| (*d).clone()));
    for d in &mut out {
        d.normalize(&norm);
    }
    Ok((norm, out))
}

fn main() -> Result<(), Box<dyn Error>> {
    let data = csv::classification::<f32, 64>(concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits.csv"))?;
    let mut rng = sinew::rng(7);
    let parts = data.stratified_split(&[0.8, 0.2], &mut rng)?;
    let (pool, test) = (&parts[0], &parts[1]);
    println!(
        "{} digits: {} for training and cross-validation, {} held out for the test",
        data.len(),
        pool.len(),
        test.len()
    );
    println!("\n{}\n", Digits::<f32>::SUMMARY);

    // 5-fold cross-validation, each fold a fresh network trained for a fixed 40 epochs; the
    // folds run in parallel (one per core), so their lines are printed afterwards, in order.
    let fit = Fit::<BATCH> { epochs: 40, progress: false, ..Fit::default() };
    let folds = std::sync::Mutex::new(Vec::new());
    let cv = cross_validate(pool, 5, &mut rng, |i, fold| {
        let (_, sets) = normalized(&fold.train, &[&fold.validation])?;
        let mut fold_rng = sinew::rng(100 + i as u64);
        let mut net = Digits::<f32>::boxed_init(&mut fold_rng);
        let mut adam = Adam::<f32, Digits>::boxed(AdamConfig::default());
        fit.run(&mut *net, &mut *adam, &SoftmaxCrossEntropy, &sets[0], None, &mut fold_rng)?;
        let eval = fit.evaluate(&*net, &sets[1], &SoftmaxCrossEntropy)?;
        let confusion = eval.confusion.as_ref().expect("class targets");
        let (accuracy, f1) = (confusion.accuracy(), confusion.macro_f1());
        folds.lock().map_err(|_| FitError::Invalid("a fold panicked".into()))?.push((
            i,
            accuracy,
            f1,
            eval.samples,
        ));
        Ok::<f64, sinew::train::FitError>(accuracy)
    })?;
    let mut folds = folds.into_inner().map_err(|_| "a fold panicked")?;
    folds.sort_by_key(|f| f.0);
    for (i, accuracy, f1, samples) in &folds {
        println!("fold {}: accuracy {accuracy:.4}, macro F1 {f1:.4} ({samples} digits)", i + 1);
    }
    let f1s: Vec<f64> = folds.iter().map(|f| f.2).collect();
    let mean_f1 = f1s.iter().sum::<f64>() / f1s.len() as f64;
    println!(
        "cross-validation: accuracy {:.4} ± {:.4} (mean ± sample std over 5 folds), macro F1 {mean_f1:.4}",
        cv.mean, cv.std
    );

    // Random search of the learning rate and weight decay (both on a log scale), judged by
    // accuracy on a stratified dev split of the pool.
    let split = pool.stratified_split(&[0.9, 0.1], &mut rng)?;
    let (norm, sets) = normalized(&split[0], &[&split[1], test])?;
    let (train, dev, test) = (&sets[0], &sets[1], &sets[2]);
    let search_fit = Fit::<BATCH> { epochs: 30, progress: false, ..Fit::default() };
    let search = random_search(
        8,
        Metric::Accuracy,
        &mut rng,
        |rng| {
            (
                Range::Log { low: 1e-4, high: 3e-2 }.sample(rng),
                Range::Log { low: 1e-6, high: 1e-2 }.sample(rng),
            )
        },
        |&(lr, decay)| {
            let mut trial_rng = sinew::rng(1234);
            let mut net = Digits::<f32>::boxed_init(&mut trial_rng);
            let mut adam = Adam::<f32, Digits>::boxed(AdamConfig::with_lr(lr as f32));
            adam.config.weight_decay.lambda = decay as f32;
            search_fit.run(&mut *net, &mut *adam, &SoftmaxCrossEntropy, train, None, &mut trial_rng)?;
            let eval = search_fit.evaluate(&*net, dev, &SoftmaxCrossEntropy)?;
            eval.score(Metric::Accuracy)
                .ok_or_else(|| FitError::Invalid("the digits have class targets".into()))
        },
    )?;
    println!(
        "
random search (8 trials, 30 epochs each):"
    );
    for t in &search.trials {
        let score = t.score.map_or("diverged".to_string(), |s| format!("{s:.4}"));
        println!("  lr {:.2e}, weight decay {:.2e}: dev accuracy {score}", t.params.0, t.params.1);
    }
    let best = search.best_trial().ok_or("every trial diverged")?;
    let (lr, decay) = best.params;
    println!("best: lr {lr:.2e}, weight decay {decay:.2e}");

    // Final model with the chosen settings and early stopping on the dev loss (with 144 dev
    // digits, accuracy moves in steps of 0.007 and ties often; the loss is smoother).
    let mut net = Digits::<f32>::boxed_init(&mut rng);
    let mut adam = Adam::<f32, Digits>::boxed(AdamConfig::with_lr(lr as f32));
    adam.config.weight_decay.lambda = decay as f32;
    let fit = Fit::<BATCH> {
        epochs: 200,
        metric: Metric::Loss,
        early_stopping: Some(EarlyStopping { patience: 15, min_delta: 0.0 }),
        ..Fit::default()
    };
    let history = fit.run(&mut *net, &mut *adam, &SoftmaxCrossEntropy, train, Some(dev), &mut rng)?;
    let seconds: f64 = history.epochs.iter().map(|r| r.seconds).sum();
    println!(
        "\nfinal fit: {} epochs ({:.2} s){}, best dev loss {:.4} at epoch {}",
        history.epochs.len(),
        seconds,
        if history.stopped_early { ", stopped early" } else { "" },
        history.best_score.unwrap_or(f64::NAN),
        history.best_epoch.unwrap_or(0)
    );
    let eval = fit.evaluate(&*net, test, &SoftmaxCrossEntropy)?;
    let confusion = eval.confusion.as_ref().expect("class targets");
    println!(
        "test: accuracy {:.4}, macro F1 {:.4} on {} digits",
        confusion.accuracy(),
        confusion.macro_f1(),
        eval.samples
    );
    println!("confusion matrix (rows: actual digit, columns: predicted):\n{confusion}");

    std::fs::create_dir_all("out")?;
    WeightWriter::new()
        .add("", &*net)
        .add("normalizer.", &norm)
        .metadata("example", "03-digits")
        .save("out/digits.safetensors")?;
    sinew::plot::history_chart(
        &history,
        "Digits MLP: 64 -> 96 ReLU -> 10",
        "out/digits-history.png",
        (1000, 720),
    )?;
    println!("wrote out/digits.safetensors and out/digits-history.png");

    if cv.mean < 0.95 {
        return Err(format!("mean cross-validation accuracy {:.4} is below 0.95", cv.mean).into());
    }
    Ok(())
}
