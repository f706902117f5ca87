//! Semantic segmentation, U-Net style: every pixel of a 32 x 64 canvas holding two MNIST
//! digits is classified as background or as one of the ten digits (11 classes). The network
//! downsamples twice, upsamples twice with transposed convolutions, and concatenates each
//! upsampled map with the encoder's map of the same size (the skip connections). Trained with
//! the per-pixel cross-entropy on 4,000 canvases drawn from the main job's training digits
//! (seed 2024); tested on 500 from its test digits.
//!
//! ```sh
//! cargo run --release --example 11-segment [-- --epochs 12]
//! ```
//!
//! Reports pixel accuracy and the mean IoU over the 11 classes; draws 4 test canvases and, below
//! each, its predicted mask (a colour per digit) into `out/segment.png`.

use sinew::data::Dataset;
use sinew::data::synthetic::segmentation;
use sinew::loss::PixelCrossEntropy;
use sinew::metrics::Metric;
use sinew::plot::{ImagePanel, image_panels};
use sinew::prelude::*;
use std::error::Error;
use std::time::Instant;

#[path = "shared/mnist.rs"]
mod mnist;

network! {
    /// A canvas to 11 logits per pixel.
    pub struct UNet {
        input: [1, 32, 64],
        e1: Conv2d(8, kernel = 3, padding = same) -> Relu,
        p1: MaxPool2d(2),
        e2: Conv2d(16, kernel = 3, padding = same) -> Relu,
        p2: MaxPool2d(2),
        mid: Conv2d(32, kernel = 3, padding = same) -> Relu => [32, 8, 16],
        u2: ConvTranspose2d(16, kernel = 2, stride = 2) -> Relu,
        cat2: Concat(u2, e2),
        d2: Conv2d(16, kernel = 3, padding = same) -> Relu,
        u1: ConvTranspose2d(8, kernel = 2, stride = 2) -> Relu,
        cat1: Concat(u1, e1) => [16, 32, 64],
        d1: Conv2d(8, kernel = 3, padding = same) -> Relu,
        out: Conv2d(11, kernel = 1),
    }
}

const BATCH: usize = 16;
const PIXELS: usize = 32 * 64;
const CLASSES: usize = 11;

/// Pixel accuracy and the IoU of each class over `data`.
fn evaluate(net: &UNet, data: &Dataset<f32, PIXELS, [f32; PIXELS]>) -> (f64, [f64; CLASSES]) {
    let mut ws = UNetWorkspace::<BATCH>::boxed();
    let mut x = Box::new(SMatrix::<f32, PIXELS, BATCH>::zeros());
    let (mut right, mut total) = (0usize, 0usize);
    let (mut inter, mut union) = ([0usize; CLASSES], [0usize; CLASSES]);
    for (chunk, targets) in data.samples().chunks(BATCH).zip(data.targets().chunks(BATCH)) {
        for (j, sample) in chunk.iter().enumerate() {
            x.column_mut(j).copy_from_slice(sample);
        }
        let y = net.forward(&*x, &mut *ws);
        for (j, labels) in targets.iter().enumerate() {
            let logits = y.column(j);
            for (p, &label) in labels.iter().enumerate() {
                let predicted = (0..CLASSES)
                    .max_by(|&a, &b| logits[a * PIXELS + p].total_cmp(&logits[b * PIXELS + p]))
                    .unwrap_or(0);
                let label = label as usize;
                right += usize::from(predicted == label);
                total += 1;
                if predicted == label {
                    inter[label] += 1;
                    union[label] += 1;
                } else {
                    union[label] += 1;
                    union[predicted] += 1;
                }
            }
        }
    }
    let iou = std::array::from_fn(|c| if union[c] == 0 { 1.0 } else { inter[c] as f64 / union[c] as f64 });
    (right as f64 / total as f64, iou)
}

/// Four test canvases and their predicted masks.
fn draw(net: &UNet, test: &Dataset<f32, PIXELS, [f32; PIXELS]>) -> Result<(), Box<dyn Error>> {
    let mut ws = UNetWorkspace::<1>::boxed();
    let canvases = &test.samples()[..4];
    let masks: Vec<Vec<u8>> = canvases
        .iter()
        .map(|canvas| {
            let y = net.forward(&SMatrix::<f32, PIXELS, 1>::from_column_slice(canvas), &mut *ws);
            (0..PIXELS)
                .map(|p| {
                    (0..CLASSES).max_by(|&a, &b| y[a * PIXELS + p].total_cmp(&y[b * PIXELS + p])).unwrap_or(0)
                        as u8
                })
                .collect()
        })
        .collect();
    let mut panels = Vec::new();
    for row in [false, true] {
        for (canvas, mask) in canvases.iter().zip(&masks) {
            let mask = row.then_some(mask.as_slice());
            panels.push(ImagePanel { pixels: canvas, height: 32, width: 64, boxes: &[], mask });
        }
    }
    std::fs::create_dir_all("out")?;
    image_panels("out/segment.png", &panels, 4, 3)?;
    println!("wrote out/segment.png");
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let epochs: usize = match args.iter().skip_while(|a| *a != "--epochs").nth(1) {
        Some(n) => n.parse()?,
        None => 12,
    };
    // The main job's split of the digits, pixels kept in [0, 1].
    let mut rng = sinew::rng(mnist::SEED);
    let parts = mnist::raw_split(&mut rng)?;
    let train = segmentation(&parts[0], 4000, &mut rng)?;
    let dev = segmentation(&parts[1], 500, &mut rng)?;
    let test = segmentation(&parts[2], 500, &mut rng)?;
    println!("segmentation canvases: {} train, {} dev, {} test", train.len(), dev.len(), test.len());
    println!("\n{}\n", UNet::<f32>::SUMMARY);

    let mut net = UNet::<f32>::boxed_init(&mut rng);
    let mut adam = Adam::<f32, UNet>::boxed(AdamConfig::with_lr(3e-3));
    let fit = Fit::<BATCH> { epochs, metric: Metric::Loss, progress: false, ..Fit::default() };
    let started = Instant::now();
    let history = fit.run(&mut *net, &mut *adam, &PixelCrossEntropy, &train, Some(&dev), &mut rng)?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "trained {} epochs in {seconds:.1} s ({:.2} s per epoch)",
        history.epochs.len(),
        seconds / epochs.max(1) as f64
    );

    let (accuracy, iou) = evaluate(&net, &test);
    let mean_iou = iou.iter().sum::<f64>() / CLASSES as f64;
    println!("test: pixel accuracy {accuracy:.3}, mean IoU over {CLASSES} classes {mean_iou:.3}");
    println!("IoU per class (background, then digits 0 to 9): {}", iou.map(|v| format!("{v:.2}")).join(" "));
    draw(&net, &test)?;
    if epochs >= 12 && (accuracy < 0.94 || mean_iou < 0.45) {
        return Err("below the targets 0.94 / 0.45".into());
    }
    Ok(())
}
