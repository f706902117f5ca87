//! The MNIST subset as every MNIST example uses it: the same seeded stratified split
//! (4,000 train / 500 dev / 500 test), pixels standardised with the training mean and
//! standard deviation, and the same command-line flags.

// Each example uses the parts it needs.
#![allow(dead_code)]

use sinew::data::{Dataset, idx};
use sinew::train::History;
use std::error::Error;

/// The seed of the split (and of everything after it).
pub const SEED: u64 = 2024;

/// The flags of the MNIST examples.
pub struct Args {
    /// `--epochs N`.
    pub epochs: usize,
    /// `--subset N`: at most N training digits, and a tenth of that for dev and test.
    pub subset: Option<usize>,
    /// `--augment`: random shifts of the training digits.
    pub augment: bool,
    /// `--threads N`: training threads (default: one per core).
    pub threads: Option<usize>,
}

/// `--epochs N` (default `epochs`) and `--subset N` (use at most N training digits, and a
/// tenth of that for dev and test; default all).
pub fn args(epochs: usize) -> Result<(usize, Option<usize>), String> {
    parse(epochs, false).map(|a| (a.epochs, a.subset))
}

/// [`args`], `--augment` (random shifts of the training digits) and `--threads N`.
pub fn args_with_augment(epochs: usize) -> Result<Args, String> {
    parse(epochs, true)
}

fn parse(epochs: usize, full: bool) -> Result<Args, String> {
    let mut parsed = Args { epochs, subset: None, augment: false, threads: None };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = |name: &str| -> Result<usize, String> {
            let v = args.next().ok_or(format!("{name} needs a number"))?;
            v.parse().map_err(|_| format!("{name}: `{v}` is not a number"))
        };
        match flag.as_str() {
            "--epochs" => parsed.epochs = value("--epochs")?,
            "--subset" => parsed.subset = Some(value("--subset")?),
            "--augment" if full => parsed.augment = true,
            "--threads" if full => parsed.threads = Some(value("--threads")?),
            other => return Err(format!("unknown argument `{other}`; use --epochs N and --subset N")),
        }
    }
    Ok(parsed)
}

/// The data: `[train, dev, test]`, the pixel mean and standard deviation, and the total
/// number of digits. `rng` draws the split.
pub type Split = (Vec<Dataset<f32, 784>>, f32, f32, usize);

/// Loads `data/mnist5k-*`, splits it 80/10/10 (stratified), optionally keeps a subset, and
/// standardises every pixel with the mean and standard deviation of all training pixels.
pub fn load(subset: Option<usize>, rng: &mut sinew::Rng) -> Result<Split, Box<dyn Error>> {
    let mut parts = raw_split(rng)?;
    let total = parts.iter().map(Dataset::len).sum();
    if let Some(n) = subset {
        for (i, part) in parts.iter_mut().enumerate() {
            let keep: Vec<usize> = (0..part.len().min(if i == 0 { n } else { n.div_ceil(10) })).collect();
            *part = part.subset(&keep);
        }
    }
    let pixels = || parts[0].samples().iter().flatten().map(|&p| f64::from(p));
    let n = (parts[0].len() * 784) as f64;
    let mean = pixels().sum::<f64>() / n;
    let std = (pixels().map(|p| (p - mean) * (p - mean)).sum::<f64>() / n).sqrt();
    let mut norm = sinew::data::Normalizer::<f32, 784>::identity();
    norm.mean.fill(mean as f32);
    norm.std.fill(std as f32);
    for part in parts.iter_mut() {
        part.normalize(&norm);
    }
    Ok((parts, mean as f32, std as f32, total))
}

/// Loads `data/mnist5k-*` and splits it 80/10/10 (stratified) with `rng`, the pixels kept
/// in `[0, 1]` (for the examples that paste digits onto canvases).
pub fn raw_split(rng: &mut sinew::Rng) -> Result<Vec<Dataset<f32, 784>>, Box<dyn Error>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/data");
    let data = idx::mnist::<f32, 784>(
        format!("{dir}/mnist5k-images.idx3-ubyte"),
        format!("{dir}/mnist5k-labels.idx1-ubyte"),
    )?;
    Ok(data.stratified_split(&[0.8, 0.1, 0.1], rng)?)
}

/// Prints the per-epoch table and a summary line: epochs, `seconds` in all, the mean per
/// epoch (evaluation included), whether training stopped early, the epoch kept.
pub fn report(history: &History, seconds: f64) {
    println!("epoch  train loss  dev loss  dev accuracy  seconds");
    for r in &history.epochs {
        println!(
            "{:>5}  {:>10.4}  {:>8.4}  {:>12.4}  {:>7.2}",
            r.epoch,
            r.train_loss,
            r.dev_loss.unwrap_or(f64::NAN),
            r.dev_score.unwrap_or(f64::NAN),
            r.seconds
        );
    }
    let per_epoch =
        history.epochs.iter().map(|r| r.seconds).sum::<f64>() / history.epochs.len().max(1) as f64;
    println!(
        "\ntrained {} epochs in {seconds:.1} s ({per_epoch:.2} s per epoch, evaluation included){}; kept epoch {} (dev accuracy {:.4})",
        history.epochs.len(),
        if history.stopped_early { ", stopped early" } else { "" },
        history.best_epoch.unwrap_or(0),
        history.best_score.unwrap_or(f64::NAN)
    );
}
