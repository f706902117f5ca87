//! A small ResNet (He et al., 2016) on the MNIST subset, declared with blocks: a stem
//! convolution, residual blocks with batch norm, strided downsampling stages whose shortcut
//! is a 1x1 projection, and global average pooling. Same split as the main job (`mnist`):
//! 4,000 train / 500 dev / 500 test, seed 2024.
//!
//! ```sh
//! cargo run --release --example 05-resnet                              # the full run
//! cargo run --release --example 05-resnet -- --epochs 1 --subset 800   # a quick check
//! ```
//!
//! Parameter names follow torchvision's ResNet (`layer2.0.conv1.weight`,
//! `layer2.0.downsample.0.weight`), so the weights it writes load into the equivalent
//! PyTorch module. Prints the time per epoch and the test accuracy.

use sinew::io::WeightWriter;
use sinew::metrics::Metric;
use sinew::prelude::*;
use std::error::Error;
use std::time::Instant;

#[path = "shared/mnist.rs"]
mod mnist;

network! {
    /// torchvision's `BasicBlock`: two 3x3 convolutions with batch norm, plus the input.
    block Basic(channels) {
        conv1: Conv2d(channels, kernel = 3, padding = same, bias = false),
        bn1: BatchNorm -> Relu,
        conv2: Conv2d(channels, kernel = 3, padding = same, bias = false),
        bn2: BatchNorm,
        sum: Add(bn2, input) -> Relu,
    }

    /// A `BasicBlock` that halves the height and width and changes the channels: its
    /// shortcut is a strided 1x1 projection with batch norm (`downsample`).
    block Down(channels) {
        conv1: Conv2d(channels, kernel = 3, stride = 2, padding = 1, bias = false),
        bn1: BatchNorm -> Relu,
        conv2: Conv2d(channels, kernel = 3, padding = same, bias = false),
        bn2: BatchNorm,
        downsample: [Conv2d(channels, kernel = 1, stride = 2, bias = false, from = input), BatchNorm],
        sum: Add(bn2, downsample) -> Relu,
    }

    /// A ResNet for 28 x 28 digits: 8, 16 and 32 channels at 14 x 14, 7 x 7 and 4 x 4.
    pub struct ResNet {
        input: [1, 28, 28],
        conv1: Conv2d(8, kernel = 3, padding = same, bias = false),
        bn1: BatchNorm -> Relu,
        maxpool: MaxPool2d(2) => [8, 14, 14],
        layer1: [Basic(8)],
        layer2: [Down(16), Basic(16)] => [16, 7, 7],
        layer3: [Down(32)] => [32, 4, 4],
        avgpool: GlobalAvgPool,
        fc: Dense(10),
    }
}

const BATCH: usize = 32;

fn main() -> Result<(), Box<dyn Error>> {
    let (epochs, subset) = mnist::args(15)?;
    let mut rng = sinew::rng(mnist::SEED);
    let (parts, _, _, total) = mnist::load(subset, &mut rng)?;
    let (train, dev, test) = (&parts[0], &parts[1], &parts[2]);
    println!("{total} MNIST digits: {} train, {} dev, {} test", train.len(), dev.len(), test.len());
    println!("\n{}\n", ResNet::<f32>::SUMMARY);

    let mut net = ResNet::<f32>::boxed_init(&mut rng);
    let mut adam = Adam::<f32, ResNet>::boxed(AdamConfig::with_lr(2e-3));
    let fit = Fit::<BATCH> {
        epochs,
        metric: Metric::Accuracy,
        schedule: Schedule::Exponential { gamma: 0.8 },
        ..Fit::default()
    };
    let started = Instant::now();
    let history = fit.run(&mut *net, &mut *adam, &SoftmaxCrossEntropy, train, Some(dev), &mut rng)?;
    let seconds = started.elapsed().as_secs_f64();
    mnist::report(&history, seconds);

    let eval = fit.evaluate(&*net, test, &SoftmaxCrossEntropy)?;
    let confusion = eval.confusion.as_ref().ok_or("class targets")?;
    println!("\ntest accuracy: {:.4} ({}/{})", confusion.accuracy(), confusion.correct(), eval.samples);

    std::fs::create_dir_all("out")?;
    WeightWriter::new().add("", &*net).save("out/resnet.safetensors")?;
    println!("wrote out/resnet.safetensors");
    if subset.is_none() && epochs >= 15 && confusion.accuracy() < 0.975 {
        return Err(format!("test accuracy {:.4} is below 0.975", confusion.accuracy()).into());
    }
    Ok(())
}
