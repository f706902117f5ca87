//! LeNet-5 on 5,000 real MNIST digits: the network is declared inline, trained with Adam
//! on a seeded stratified split (4,000 train / 500 dev / 500 test) with early stopping on
//! dev accuracy, then evaluated on the test digits.
//!
//! ```sh
//! cargo run --release --example mnist                          # the full run
//! cargo run --release --example mnist -- --epochs 1 --subset 800   # a quick check
//! cargo run --release --example mnist -- --augment             # with random shifts
//! cargo run --release --example mnist -- --threads 1           # on one core
//! ```
//!
//! `--augment` shifts every training digit by up to 2 pixels on each axis, drawn anew every
//! epoch (the background fills what comes in).
//!
//! Prints the time per epoch, the test accuracy and confusion matrix; writes
//! `out/lenet.safetensors` (PyTorch `state_dict` names) and `out/lenet-history.png`.

use sinew::augment::Augment;
use sinew::io::WeightWriter;
use sinew::metrics::{ClassCounts, Metric};
use sinew::prelude::*;
use std::error::Error;
use std::time::Instant;

network! {
    /// LeNet-5 (LeCun et al., 1998) with ReLU and max pooling, for 28 x 28 digits.
    pub struct LeNet {
        input: [1, 28, 28],
        c1: Conv2d(6, kernel = 5, padding = 2) -> Relu,   // [6, 28, 28]
        s2: MaxPool2d(2),                                 // [6, 14, 14]
        c3: Conv2d(16, kernel = 5) -> Relu,               // [16, 10, 10]
        s4: MaxPool2d(2) => [16, 5, 5],
        flat: Flatten => 400,
        f5: Dense(120) -> Relu,
        f6: Dense(84) -> Relu,
        out: Dense(10),
    }
}

#[path = "shared/mnist.rs"]
mod mnist;

const BATCH: usize = 32;
const CHUNK: usize = 16;

fn main() -> Result<(), Box<dyn Error>> {
    let mnist::Args { epochs, subset, augment, threads } = mnist::args_with_augment(30)?;
    let mut rng = sinew::rng(mnist::SEED);
    let (parts, mean, std, total) = mnist::load(subset, &mut rng)?;
    let (train, dev, test) = (&parts[0], &parts[1], &parts[2]);
    println!(
        "{total} MNIST digits: {} train, {} dev, {} test (pixels standardised: mean {mean:.4}, std {std:.4})",
        train.len(),
        dev.len(),
        test.len()
    );
    println!("\n{}\n", LeNet::<f32>::SUMMARY);

    let mut net = LeNet::<f32>::boxed_init(&mut rng);
    let mut adam = Adam::<f32, LeNet>::boxed(AdamConfig::with_lr(1e-3));
    // Each batch of 32 is trained in 2 chunks of 16, in parallel; the weights do not depend
    // on the number of cores (`--threads N` to choose it).
    let fit = Fit::<BATCH, CHUNK> {
        epochs,
        threads,
        metric: Metric::Accuracy,
        early_stopping: Some(EarlyStopping { patience: 5, min_delta: 0.0 }),
        // Background pixels are 0 before standardisation.
        augment: augment.then_some(Augment {
            shift: 2,
            fill: f64::from(-mean / std),
            ..Augment::none([1, 28, 28])
        }),
        ..Fit::default()
    };
    let started = Instant::now();
    let history = fit.run(&mut *net, &mut *adam, &SoftmaxCrossEntropy, train, Some(dev), &mut rng)?;
    let seconds = started.elapsed().as_secs_f64();

    mnist::report(&history, seconds);

    let eval = fit.evaluate(&*net, test, &SoftmaxCrossEntropy)?;
    let confusion = eval.confusion.as_ref().ok_or("class targets")?;
    println!(
        "\ntest accuracy: {:.4} ({}/{}), macro F1 {:.4}",
        confusion.accuracy(),
        confusion.correct(),
        eval.samples,
        confusion.macro_f1()
    );
    println!("confusion matrix (rows: actual digit, columns: predicted):\n{confusion}");

    std::fs::create_dir_all("out")?;
    WeightWriter::new()
        .add("", &*net)
        .metadata("pixel_mean", &mean.to_string())
        .metadata("pixel_std", &std.to_string())
        .save("out/lenet.safetensors")?;
    sinew::plot::history_chart(
        &history,
        &format!("LeNet-5 on MNIST ({} training digits)", train.len()),
        "out/lenet-history.png",
        (1000, 720),
    )?;
    println!("wrote out/lenet.safetensors and out/lenet-history.png");

    if subset.is_none() && epochs >= 10 && confusion.accuracy() < 0.97 {
        return Err(format!("test accuracy {:.4} is below 0.97", confusion.accuracy()).into());
    }
    Ok(())
}
