//! Classifies iris flowers: a seeded, stratified 120/30 train/test split, features
//! normalised with the training statistics, a 4 -> 16 ReLU -> 3 network trained with Adam
//! (weight decay 0.01) on shuffled mini-batches of 8, softmax cross-entropy. Reports the
//! test accuracy, which must reach 0.93.
//!
//! ```sh
//! cargo run --release --example 02-iris
//! SEED=7 cargo run --release --example 02-iris   # another split
//! ```
//!
//! The test set is 30 flowers, so one flower is 0.033 of accuracy and the figure depends on
//! which flowers land in it: over split seeds 1..=30 the test accuracy averages 0.973, and 3
//! of the 30 splits fall below 0.93 (the versicolor/virginica overlap). The default seed, 2,
//! gives 1.000.

use sinew::data::csv;
use sinew::metrics::ClassCounts;
use sinew::prelude::*;
use sinew::train::Fit;
use std::error::Error;

network! {
    /// Four measurements (cm) in, three species logits out.
    pub struct Iris {
        input: 4,
        hidden: Dense(16) -> Relu,
        out: Dense(3),
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let data = csv::classification::<f32, 4>(concat!(env!("CARGO_MANIFEST_DIR"), "/data/iris.csv"))?;
    let seed = std::env::var("SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(2);
    let mut rng = sinew::rng(seed);
    let mut parts = data.stratified_split(&[0.8, 0.2], &mut rng)?;
    let norm = parts[0].fit_normalizer()?;
    for part in &mut parts {
        part.normalize(&norm);
    }
    let (train, test) = (&parts[0], &parts[1]);

    let mut net = Iris::<f32>::init(&mut rng);
    let mut adam = Adam::new(AdamConfig::with_lr(0.01));
    adam.config.weight_decay.lambda = 0.01;
    let fit = Fit::<8> { epochs: 50, ..Fit::default() };
    let history = fit.run(&mut net, &mut adam, &SoftmaxCrossEntropy, train, None, &mut rng)?;
    println!("epoch  train loss");
    for r in history.epochs.iter().filter(|r| r.epoch == 1 || r.epoch % 10 == 0) {
        println!("{:>5}  {:.4}", r.epoch, r.train_loss);
    }

    let eval = fit.evaluate(&net, test, &SoftmaxCrossEntropy)?;
    let confusion = eval.confusion.ok_or("class targets")?;
    let accuracy = confusion.accuracy();
    println!("\ntest accuracy: {accuracy:.3} ({}/{})", confusion.correct(), eval.samples);
    println!("{confusion}");
    if accuracy < 0.93 {
        return Err(format!("test accuracy {accuracy:.3} is below 0.93").into());
    }
    Ok(())
}
