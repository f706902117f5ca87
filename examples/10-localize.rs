//! Object localization, the course's way: a small CNN looks at a 40 x 40 canvas that holds
//! one MNIST digit at a random place (or, one time in five, nothing) and outputs
//! `[P_c, x1, y1, x2, y2, c_0 .. c_9]`: whether there is a digit, its box and its class. The
//! multi-part loss scores the presence everywhere, and the box and the class only where a
//! digit is present. The canvases are drawn from the main job's split of the digits (seed
//! 2024): 8,000 from the training digits, 1,000 from the test digits.
//!
//! ```sh
//! cargo run --release --example 10-localize [-- --epochs 15]
//! ```
//!
//! Reports presence accuracy, class accuracy (on canvases with a digit), the mean IoU of the
//! predicted and true boxes, and the share of boxes with IoU above 0.5; draws the first 12
//! test canvases with their true (green) and predicted (red) boxes into `out/localize.png`.

use sinew::boxes::iou;
use sinew::data::Dataset;
use sinew::data::synthetic::{Localization, localization};
use sinew::loss::{MultiPart, Part, PartLoss};
use sinew::metrics::Metric;
use sinew::plot::{ImagePanel, image_panels};
use sinew::prelude::*;
use std::error::Error;
use std::time::Instant;

#[path = "shared/mnist.rs"]
mod mnist;

network! {
    /// A canvas to presence, box and class.
    pub struct Localizer {
        input: [1, 40, 40],
        c1: Conv2d(8, kernel = 3, padding = same) -> Relu,
        p1: MaxPool2d(2),
        c2: Conv2d(16, kernel = 3, padding = same) -> Relu,
        p2: MaxPool2d(2),
        c3: Conv2d(32, kernel = 3, padding = same) -> Relu,
        p3: MaxPool2d(2) => [32, 5, 5],
        flat: Flatten,
        fc: Dense(128) -> Relu,
        out: Dense(15),
    }
}

const BATCH: usize = 32;

/// Presence (1 logit), the box (4 corners), the class (10 logits).
const HEAD: MultiPart<3> = MultiPart {
    parts: [
        Part {
            name: "presence",
            outputs: 1,
            loss: PartLoss::SigmoidBce,
            weight: 1.0,
            only_if_present: false,
        },
        Part { name: "box", outputs: 4, loss: PartLoss::L2, weight: 20.0, only_if_present: true },
        Part { name: "class", outputs: 10, loss: PartLoss::SoftmaxCe, weight: 1.0, only_if_present: true },
    ],
};

/// Presence accuracy, class accuracy and box IoUs on `data`.
fn evaluate(net: &Localizer, data: &Dataset<f32, 1600, Localization>) -> (f64, f64, Vec<f64>) {
    let mut ws = LocalizerWorkspace::<BATCH>::boxed();
    let mut x = Box::new(SMatrix::<f32, 1600, BATCH>::zeros());
    let (mut presence, mut classes, mut present, mut ious) = (0, 0, 0, Vec::new());
    for (chunk, targets) in data.samples().chunks(BATCH).zip(data.targets().chunks(BATCH)) {
        for (j, sample) in chunk.iter().enumerate() {
            x.column_mut(j).copy_from_slice(sample);
        }
        let y = net.forward(&*x, &mut *ws);
        for (j, t) in targets.iter().enumerate() {
            let out = y.column(j);
            presence += usize::from((out[0] > 0.0) == t.present);
            if t.present {
                present += 1;
                let class = (0..10).max_by(|&a, &b| out[5 + a].total_cmp(&out[5 + b])).unwrap_or(0);
                classes += usize::from(class == t.class);
                let predicted = [out[1], out[2], out[3], out[4]].map(f64::from);
                ious.push(iou(&predicted, &t.bbox));
            }
        }
    }
    (presence as f64 / data.len() as f64, classes as f64 / present.max(1) as f64, ious)
}

/// The first 12 test canvases, true boxes in green, predicted ones (when the network sees a
/// digit) in red.
fn draw(net: &Localizer, test: &Dataset<f32, 1600, Localization>) -> Result<(), Box<dyn Error>> {
    let mut ws = LocalizerWorkspace::<1>::boxed();
    let mut boxes = Vec::new();
    for (canvas, t) in test.samples().iter().zip(test.targets()).take(12) {
        let out = *net.forward(&SMatrix::<f32, 1600, 1>::from_column_slice(canvas), &mut *ws);
        let mut drawn = Vec::new();
        if t.present {
            drawn.push((t.bbox, (0, 170, 0)));
        }
        if out[0] > 0.0 {
            drawn.push(([out[1], out[2], out[3], out[4]].map(f64::from), (220, 0, 0)));
        }
        boxes.push(drawn);
    }
    let panels: Vec<ImagePanel> = test
        .samples()
        .iter()
        .zip(&boxes)
        .map(|(canvas, b)| ImagePanel { pixels: canvas, height: 40, width: 40, boxes: b, mask: None })
        .collect();
    std::fs::create_dir_all("out")?;
    image_panels("out/localize.png", &panels, 6, 3)?;
    println!("wrote out/localize.png");
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let epochs: usize = match args.iter().skip_while(|a| *a != "--epochs").nth(1) {
        Some(n) => n.parse()?,
        None => 15,
    };
    // The main job's split of the digits, pixels kept in [0, 1].
    let mut rng = sinew::rng(mnist::SEED);
    let parts = mnist::raw_split(&mut rng)?;
    let train = localization(&parts[0], 8000, &mut rng)?;
    let dev = localization(&parts[1], 1000, &mut rng)?;
    let test = localization(&parts[2], 1000, &mut rng)?;
    println!("localization canvases: {} train, {} dev, {} test", train.len(), dev.len(), test.len());
    println!("\n{}\n", Localizer::<f32>::SUMMARY);

    let mut net = Localizer::<f32>::boxed_init(&mut rng);
    let mut adam = Adam::<f32, Localizer>::boxed(AdamConfig::with_lr(1e-3));
    let fit = Fit::<BATCH> { epochs, metric: Metric::Loss, progress: false, ..Fit::default() };
    let started = Instant::now();
    let history = fit.run(&mut *net, &mut *adam, &HEAD, &train, Some(&dev), &mut rng)?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "trained {} epochs in {seconds:.1} s ({:.2} s per epoch)",
        history.epochs.len(),
        seconds / epochs.max(1) as f64
    );

    let (presence, class, ious) = evaluate(&net, &test);
    let mean_iou = ious.iter().sum::<f64>() / ious.len().max(1) as f64;
    let above = ious.iter().filter(|&&v| v > 0.5).count() as f64 / ious.len().max(1) as f64;
    println!(
        "test: presence accuracy {presence:.3}, class accuracy {class:.3}, mean IoU {mean_iou:.3}, IoU > 0.5 for {above:.3}"
    );
    draw(&net, &test)?;
    if epochs >= 15 && (presence < 0.98 || class < 0.90 || mean_iou < 0.60 || above < 0.85) {
        return Err("below the targets 0.98 / 0.90 / 0.60 / 0.85".into());
    }
    Ok(())
}
