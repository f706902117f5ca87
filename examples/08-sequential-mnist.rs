//! Digits read as sequences: a GRU of 64 units reads each 28 x 28 MNIST digit row by row
//! (28 steps of 28 pixels, the top row first) and a dense layer classifies its last state.
//! Same split as the main job (`mnist`): 4,000 train / 500 dev / 500 test, seed 2024.
//!
//! ```sh
//! cargo run --release --example 08-sequential-mnist                              # the full run
//! cargo run --release --example 08-sequential-mnist -- --epochs 1 --subset 800   # a quick check
//! ```
//!
//! A digit's 784 pixels are already a sequence in sinew's layout: row `t` is step `t`
//! (`x[28 t + i]`), so the data needs no reshaping. Gradients are clipped to a global norm
//! of 5. Prints the time per epoch and the test accuracy.

use sinew::metrics::Metric;
use sinew::optim::ClipGradNorm;
use sinew::prelude::*;
use std::error::Error;
use std::time::Instant;

#[path = "shared/mnist.rs"]
mod mnist;

network! {
    /// 28 rows of 28 pixels in, 10 digit logits out.
    pub struct RowGru {
        input: Sequence(28, 28),
        rnn: Gru(64, steps = last),
        out: Dense(10),
    }
}

const BATCH: usize = 32;

fn main() -> Result<(), Box<dyn Error>> {
    let (epochs, subset) = mnist::args(30)?;
    let mut rng = sinew::rng(mnist::SEED);
    let (parts, _, _, total) = mnist::load(subset, &mut rng)?;
    let (train, dev, test) = (&parts[0], &parts[1], &parts[2]);
    println!("{total} MNIST digits: {} train, {} dev, {} test", train.len(), dev.len(), test.len());
    println!("\n{}\n", RowGru::<f32>::SUMMARY);

    let mut net = RowGru::<f32>::boxed_init(&mut rng);
    let mut optimizer = ClipGradNorm::new(Adam::<f32, RowGru>::new(AdamConfig::with_lr(3e-3)), 5.0);
    let fit = Fit::<BATCH> {
        epochs,
        metric: Metric::Accuracy,
        schedule: Schedule::Exponential { gamma: 0.95 },
        ..Fit::default()
    };
    let started = Instant::now();
    let history = fit.run(&mut *net, &mut optimizer, &SoftmaxCrossEntropy, train, Some(dev), &mut rng)?;
    let seconds = started.elapsed().as_secs_f64();
    mnist::report(&history, seconds);

    let eval = fit.evaluate(&*net, test, &SoftmaxCrossEntropy)?;
    let confusion = eval.confusion.as_ref().ok_or("class targets")?;
    println!("\ntest accuracy: {:.4} ({}/{})", confusion.accuracy(), confusion.correct(), eval.samples);
    if subset.is_none() && epochs >= 30 && confusion.accuracy() < 0.96 {
        return Err(format!("test accuracy {:.4} is below 0.96", confusion.accuracy()).into());
    }
    Ok(())
}
