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
//! which flowers land in it: over split seeds 1..=30 it averages 0.970, and 4 of those 30
//! splits give 0.900 (the versicolor/virginica overlap). The default seed, 2, gives 0.967.

use sinew::prelude::*;
use std::error::Error;

network! {
    /// Four measurements (cm) in, three species logits out.
    pub struct Iris {
        input: 4,
        hidden: Dense(16) -> Relu,
        out: Dense(3),
    }
}

const BATCH: usize = 8;
const EPOCHS: usize = 50;

/// One flower: four measurements and its species.
type Flower = ([f32; 4], usize);

/// Reads `data/iris.csv`: four features, then the label.
fn load() -> Result<Vec<Flower>, Box<dyn Error>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/iris.csv");
    let mut rows = Vec::new();
    for record in csv::Reader::from_path(path)?.records() {
        let record = record?;
        let f = |i: usize| record[i].parse::<f32>();
        rows.push(([f(0)?, f(1)?, f(2)?, f(3)?], record[4].parse::<usize>()?));
    }
    Ok(rows)
}

fn main() -> Result<(), Box<dyn Error>> {
    let rows = load()?;
    let seed = std::env::var("SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(2);
    let mut rng = sinew::rng(seed);
    // Stratified split: shuffle each class, then 40 of every class train and 10 test.
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for class in 0..3 {
        let mut members: Vec<_> = rows.iter().filter(|(_, label)| *label == class).copied().collect();
        sinew::data::shuffle(&mut members, &mut rng);
        test.extend_from_slice(&members[..10]);
        train.extend_from_slice(&members[10..]);
    }
    let (train, test) = (&train[..], &test[..]);

    // Normalise with statistics of the training split only.
    let mut mean = [0.0_f32; 4];
    let mut std = [0.0_f32; 4];
    for (x, _) in train {
        for i in 0..4 {
            mean[i] += x[i] / train.len() as f32;
        }
    }
    for (x, _) in train {
        for i in 0..4 {
            std[i] += (x[i] - mean[i]).powi(2) / train.len() as f32;
        }
    }
    let std = std.map(f32::sqrt);
    let normalise = |x: &[f32; 4]| std::array::from_fn::<f32, 4, _>(|i| (x[i] - mean[i]) / std[i]);

    let mut net = Iris::<f32>::init(&mut rng);
    let mut adam = Adam::new(AdamConfig::with_lr(0.01));
    adam.config.weight_decay.lambda = 0.01;
    let mut tw = IrisTrainWorkspace::<BATCH>::zeroed();
    let mut order: Vec<usize> = (0..train.len()).collect();
    println!("epoch  train loss");
    for epoch in 1..=EPOCHS {
        sinew::data::shuffle(&mut order, &mut rng);
        let mut total = 0.0;
        for batch in order.chunks(BATCH) {
            let mut x = IrisInput::<BATCH>::zeros();
            let mut y = [0usize; BATCH];
            for (j, &i) in batch.iter().enumerate() {
                x.set_column(j, &SVector::from(normalise(&train[i].0)));
                y[j] = train[i].1;
            }
            let loss = net.train_step_partial(
                &x,
                &y,
                batch.len(),
                &SoftmaxCrossEntropy,
                &mut adam,
                &mut tw,
                &mut rng,
            )?;
            total += loss * batch.len() as f32;
        }
        if epoch == 1 || epoch % 10 == 0 {
            println!("{epoch:>5}  {:.4}", total / train.len() as f32);
        }
    }

    let mut ws = IrisWorkspace::<1>::zeroed();
    let correct = test
        .iter()
        .filter(|(x, label)| {
            let logits = net.forward(&IrisInput::<1>::from(normalise(x)), &mut ws);
            argmax(logits)[0] == *label
        })
        .count();
    let accuracy = correct as f64 / test.len() as f64;
    println!("\ntest accuracy: {accuracy:.3} ({correct}/{})", test.len());
    if accuracy < 0.93 {
        return Err(format!("test accuracy {accuracy:.3} is below 0.93").into());
    }
    Ok(())
}
