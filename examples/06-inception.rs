//! One Inception module (Szegedy et al., 2015) in a small network on the 8 x 8 digits
//! (1,797 scikit-learn digits, 64 pixels each): four branches on the same input (1x1,
//! 1x1 then 3x3, 1x1 then 5x5, 3x3 max pooling then 1x1), concatenated along channels,
//! then 2x2 max pooling and a dense layer. Prints the time per epoch and the test
//! accuracy.
//!
//! ```sh
//! cargo run --release --example 06-inception
//! ```

use sinew::data::csv;
use sinew::metrics::Metric;
use sinew::prelude::*;
use std::error::Error;
use std::time::Instant;

network! {
    /// A 1x1 reduction, then a k x k convolution with "same" padding.
    block Reduced(reduce, out, k) {
        reduce: Conv2d(reduce, kernel = 1) -> Relu,
        conv: Conv2d(out, kernel = k, padding = same) -> Relu,
    }

    /// GoogLeNet's module: four branches, concatenated along channels.
    block Inception(c1, c3r, c3, c5r, c5, cp) {
        b1: Conv2d(c1, kernel = 1) -> Relu,
        b3: Reduced(c3r, c3, 3, from = input),
        b5: Reduced(c5r, c5, 5, from = input),
        pool: MaxPool2d(3, stride = 1, padding = 1, from = input),
        bp: Conv2d(cp, kernel = 1) -> Relu,
        cat: Concat(b1, b3, b5, bp),
    }

    /// A stem, one Inception module, pooling, a dense layer.
    pub struct InceptionNet {
        input: [1, 8, 8],
        stem: Conv2d(16, kernel = 3, padding = same, bias = false),
        bn: BatchNorm -> Relu,
        inc: Inception(16, 16, 24, 4, 8, 8) => [56, 8, 8],
        pool: MaxPool2d(2),
        flat: Flatten,
        drop: Dropout(keep = 0.7),
        fc: Dense(10),
    }
}

const BATCH: usize = 32;

fn main() -> Result<(), Box<dyn Error>> {
    let mut data = csv::classification::<f32, 64>(concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits.csv"))?;
    // Pixels are 0 to 16: scale them to [0, 1].
    let mut scale = sinew::data::Normalizer::<f32, 64>::identity();
    scale.std.fill(16.0);
    data.normalize(&scale);
    let mut rng = sinew::rng(7);
    let parts = data.stratified_split(&[0.7, 0.15, 0.15], &mut rng)?;
    let (train, dev, test) = (&parts[0], &parts[1], &parts[2]);
    println!("{} digits: {} train, {} dev, {} test", data.len(), train.len(), dev.len(), test.len());
    println!("\n{}\n", InceptionNet::<f32>::SUMMARY);

    let mut net = InceptionNet::<f32>::boxed_init(&mut rng);
    let mut adam = Adam::<f32, InceptionNet>::boxed(AdamConfig::with_lr(3e-3));
    let fit = Fit::<BATCH> {
        epochs: 30,
        metric: Metric::Accuracy,
        schedule: Schedule::Exponential { gamma: 0.9 },
        ..Fit::default()
    };
    let started = Instant::now();
    let history = fit.run(&mut *net, &mut *adam, &SoftmaxCrossEntropy, train, Some(dev), &mut rng)?;
    let seconds = started.elapsed().as_secs_f64();
    let per_epoch =
        history.epochs.iter().map(|r| r.seconds).sum::<f64>() / history.epochs.len().max(1) as f64;
    println!(
        "trained {} epochs in {seconds:.1} s ({per_epoch:.3} s per epoch); kept epoch {} (dev accuracy {:.4})",
        history.epochs.len(),
        history.best_epoch.unwrap_or(0),
        history.best_score.unwrap_or(f64::NAN)
    );
    let eval = fit.evaluate(&*net, test, &SoftmaxCrossEntropy)?;
    let confusion = eval.confusion.as_ref().ok_or("class targets")?;
    println!("test accuracy: {:.4} ({}/{})", confusion.accuracy(), confusion.correct(), eval.samples);
    if confusion.accuracy() < 0.95 {
        return Err(format!("test accuracy {:.4} is below 0.95", confusion.accuracy()).into());
    }
    Ok(())
}
