//! The host side of the firmware in `firmware/`: it includes the firmware's own network
//! declarations (`firmware/src/model.rs`), so both sides run the same code.
//!
//! ```sh
//! cargo run --release --example 04-firmware -- export      # train, write the files the firmware embeds
//! cargo run --release --example 04-firmware -- reference   # what the firmware must print
//! cargo run --release --example 04-firmware -- check INFER_OUTPUT TRAIN_OUTPUT
//! cargo run --release --example 04-firmware -- big-weights PATH   # a 101,770-parameter MLP
//! ```
//!
//! `export` trains the digits MLP on the training part of `data/digits.csv` (inputs scaled
//! to [0, 1]) and writes `firmware/weights/digits.safetensors`, 50 held-out test digits
//! (`firmware/data/heldout.bin`) and 100 training digits for on-device fine-tuning
//! (`firmware/data/finetune.bin`). Those files are committed: CI does not retrain.
//!
//! `check` compares what the firmware printed under QEMU with the same computation on the
//! host: identical classes, probabilities within 1e-5, fine-tuning losses within 1e-3
//! (relative) and falling. It exits with an error on any mismatch.

use sinew::data::csv;
use sinew::prelude::*;
use sinew::train::Fit;
use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod model {
    include!("../firmware/src/model.rs");
}
use model::*;

sinew::network! {
    /// The 100k-parameter network whose firmware build time CI measures (`firmware/src/bin/big.rs`).
    pub struct Big {
        input: 784,
        hidden: Dense(128) -> Relu,
        out: Dense(10),
    }
}

/// Largest difference allowed between a probability printed by the firmware and the host's.
const PROBABILITY_TOLERANCE: f64 = 1e-5;
/// Largest relative difference allowed between fine-tuning losses.
const LOSS_TOLERANCE: f64 = 1e-3;

fn firmware_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("firmware")
}

fn heldout() -> &'static [u8] {
    include_bytes!("../firmware/data/heldout.bin")
}

fn finetune_set() -> &'static [u8] {
    include_bytes!("../firmware/data/finetune.bin")
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["export"] => export(),
        ["reference"] => {
            let (infer, train) = reference();
            println!("{}\n{}", infer.join("\n"), train.join("\n"));
            Ok(())
        }
        ["check", infer, train] => check(Path::new(infer), Path::new(train)),
        ["big-weights", path] => sinew::io::save(path, &*Big::<f32>::boxed_init(&mut sinew::rng(1)))
            .map_err(Into::into)
            .map(|()| println!("wrote {path}: {} parameters", Big::<f32>::PARAMETERS)),
        _ => {
            Err("usage: 04-firmware export | reference | check INFER_OUTPUT TRAIN_OUTPUT | big-weights PATH"
                .into())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Trains the digits MLP and writes the weights and the two sample files.
fn export() -> Result<(), Box<dyn Error>> {
    let data = csv::classification::<f32, 64>(concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits.csv"))?;
    let mut rng = sinew::rng(7);
    let parts = data.stratified_split(&[0.8, 0.2], &mut rng)?;
    let (pool, test) = (&parts[0], &parts[1]);
    let scaled = |d: &sinew::data::Dataset<f32, 64>| {
        let samples = d.samples().iter().map(|s| s.map(|v| v / 16.0)).collect();
        sinew::data::Dataset::new(samples, d.targets().to_vec())
    };
    let (train, test_scaled) = (scaled(pool)?, scaled(test)?);
    let mut net = Digits::<f32>::init(&mut rng);
    let mut adam = Adam::<f32, Digits>::new(AdamConfig::with_lr(2e-3));
    let fit = Fit::<32> { epochs: 60, ..Fit::default() };
    fit.run(&mut net, &mut adam, &SoftmaxCrossEntropy, &train, None, &mut rng)?;
    let eval = fit.evaluate(&net, &test_scaled, &SoftmaxCrossEntropy)?;
    let accuracy = eval.confusion.as_ref().map_or(0.0, |c| c.accuracy());
    println!("test accuracy {accuracy:.4} on {} held-out digits", test.len());

    let dir = firmware_dir();
    sinew::io::save(dir.join("weights/digits.safetensors"), &net)?;
    write_samples(&dir.join("data/heldout.bin"), test, 5)?;
    write_samples(&dir.join("data/finetune.bin"), pool, 10)?;
    println!("wrote {}", dir.join("weights/digits.safetensors").display());
    Ok(())
}

/// The first `per_class` samples of each class, interleaved (0, 1, …, 9, 0, 1, …), as
/// label byte + 64 pixel bytes each.
fn write_samples(
    path: &Path,
    data: &sinew::data::Dataset<f32, 64>,
    per_class: usize,
) -> Result<(), Box<dyn Error>> {
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); 10];
    for (i, &y) in data.targets().iter().enumerate() {
        if by_class[y].len() < per_class {
            by_class[y].push(i);
        }
    }
    let mut bytes = Vec::new();
    for k in 0..per_class {
        for (class, indices) in by_class.iter().enumerate() {
            let i = *indices.get(k).ok_or("too few samples of a class")?;
            bytes.push(class as u8);
            bytes.extend(data.samples()[i].iter().map(|&v| v as u8));
        }
    }
    sinew::io::write_atomic(path, |w| std::io::Write::write_all(w, &bytes))?;
    Ok(())
}

/// The lines the two firmwares print, computed on the host: `(inference, fine-tuning)`.
/// Ticks differ by nature and are left out (`ticks -`).
fn reference() -> (Vec<String>, Vec<String>) {
    let net = Digits::EMBEDDED;
    let mut ws = DigitsWorkspace::<1>::zeroed();
    let mut infer = Vec::new();
    for (i, sample) in heldout().chunks_exact(SAMPLE_BYTES).take(10).enumerate() {
        let (class, p) = classify(&net, &mut ws, sample);
        let p: Vec<String> = p.iter().map(|v| format!("{v:e}")).collect();
        infer.push(format!("sample {i} label {} class {class} ticks - p {}", label(sample), p.join(" ")));
    }
    let n = heldout().len() / SAMPLE_BYTES;
    infer.push(format!("accuracy {}/{n}", correct(&net, &mut ws, heldout())));

    let mut head = DigitsHead::EMBEDDED;
    let mut head_ws = DigitsHeadWorkspace::<1>::zeroed();
    let mut train = Vec::new();
    let mut adam = Adam::new(AdamConfig::with_lr(LEARNING_RATE));
    let mut tw = DigitsHeadTrainWorkspace::<BATCH>::boxed();
    let mut losses = Vec::new();
    finetune(&mut head, &mut adam, &mut tw, finetune_set(), |epoch, loss| losses.push((epoch, loss)))
        .expect("fine-tuning diverged on the host");
    train.push(format!("before {}/{n}", correct(&DigitsHead::EMBEDDED, &mut head_ws, heldout())));
    train.extend(losses.iter().map(|(epoch, loss)| format!("epoch {epoch} loss {loss:e}")));
    train.push(format!("after {}/{n}", correct(&head, &mut head_ws, heldout())));
    (infer, train)
}

/// The lines of `text` that start with one of `keys`, split into words.
fn lines<'a>(text: &'a str, keys: &[&str]) -> Vec<Vec<&'a str>> {
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|w| w.first().is_some_and(|k| keys.contains(k)))
        .collect()
}

fn number(word: &str) -> Result<f64, Box<dyn Error>> {
    word.parse::<f64>().map_err(|e| format!("`{word}` is not a number: {e}").into())
}

/// Compares the firmware's outputs with the host's; `Err` on the first mismatch.
fn check(infer_path: &Path, train_path: &Path) -> Result<(), Box<dyn Error>> {
    let (want_infer, want_train) = reference();
    let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()));
    let (infer, train) = (read(infer_path)?, read(train_path)?);
    for (text, path) in [(&infer, infer_path), (&train, train_path)] {
        if !text.lines().any(|l| l.trim() == "done") {
            return Err(format!("{}: the firmware did not finish (no `done` line)", path.display()).into());
        }
    }

    // Inference: same classes, probabilities within the tolerance, same accuracy.
    let got = lines(&infer, &["sample", "accuracy"]);
    let want = lines_owned(&want_infer);
    if got.len() != want.len() {
        return Err(format!("inference: {} result lines, expected {}", got.len(), want.len()).into());
    }
    let mut worst = 0.0f64;
    for (g, w) in got.iter().zip(&want) {
        let mismatch = || format!("inference: `{}` instead of `{}`", g.join(" "), w.join(" "));
        if w[0] == "accuracy" {
            if g != w {
                return Err(mismatch().into());
            }
            continue;
        }
        // `sample i label l class c ticks t p p0 … p9`: all but the ticks must agree.
        if g.len() != w.len() || g[..6] != w[..6] {
            return Err(mismatch().into());
        }
        for (a, b) in g[9..].iter().zip(&w[9..]) {
            let d = (number(a)? - number(b)?).abs();
            worst = worst.max(d);
            if d > PROBABILITY_TOLERANCE {
                return Err(format!("inference: probability {a} instead of {b} in `{}`", g.join(" ")).into());
            }
        }
    }
    println!(
        "inference: {} samples, same classes as the host, probabilities within {worst:.1e} (tolerance {PROBABILITY_TOLERANCE:e})",
        got.len() - 1
    );

    // Fine-tuning: the same losses within the tolerance, falling.
    let got = lines(&train, &["before", "epoch", "after"]);
    let want = lines_owned(&want_train);
    if got.len() != want.len() {
        return Err(format!("fine-tuning: {} result lines, expected {}", got.len(), want.len()).into());
    }
    let mut losses = Vec::new();
    for (g, w) in got.iter().zip(&want) {
        if w[0] == "epoch" {
            let (a, b) = (number(g[3])?, number(&w[3])?);
            if g[1] != w[1] || (a - b).abs() > LOSS_TOLERANCE * b.abs() {
                return Err(format!("fine-tuning: `{}` instead of `{}`", g.join(" "), w.join(" ")).into());
            }
            losses.push(a);
        } else if g[0] == "before" && g != w {
            return Err(format!("fine-tuning: `{}` instead of `{}`", g.join(" "), w.join(" ")).into());
        }
    }
    let (first, last) = (losses[0], losses[losses.len() - 1]);
    if last > 0.5 * first {
        return Err(format!("fine-tuning: the loss went from {first} to {last} only").into());
    }
    let after = got.last().map(|g| g.join(" ")).unwrap_or_default();
    let want_after = want.last().map(|w| w.join(" ")).unwrap_or_default();
    println!(
        "fine-tuning: {} epochs, loss {first:.4} -> {last:.4}, within {LOSS_TOLERANCE:e} of the host; `{after}` (host: `{want_after}`)",
        losses.len()
    );
    Ok(())
}

fn lines_owned(text: &[String]) -> Vec<Vec<String>> {
    text.iter().map(|l| l.split_whitespace().map(str::to_string).collect()).collect()
}
