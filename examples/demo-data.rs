//! The host side of the browser demo (`demo/`, `scripts/demo.sh`):
//!
//! ```sh
//! cargo run --release --example demo-data -- write demo/model.json
//! cargo run --release --example demo-data -- check demo/model.json page-results.json
//! ```
//!
//! `write` reads the main job's `out/lenet.safetensors` (weights and pixel statistics) and
//! writes what the page needs beside its module: the pixel mean and standard deviation, and
//! 10 held-out test digits (the main job's test split, pixels in [0, 1]) with the host's
//! classes and probabilities for them and the host's time per inference (batch 1).
//!
//! `check` reads what the page computed for the same 10 digits in a browser (the JSON the
//! page writes into `<pre id="results">` in test mode, extracted from the DOM) and fails
//! unless every class is the host's and every probability is within 1e-5 of it.

use serde_json::{Value, json};
use sinew::prelude::*;
use std::error::Error;
use std::time::Instant;

network! {
    /// LeNet-5 (LeCun et al., 1998) with ReLU and max pooling, for 28 x 28 digits.
    pub struct LeNet {
        input: [1, 28, 28],
        c1: Conv2d(6, kernel = 5, padding = 2) -> Relu,
        s2: MaxPool2d(2),
        c3: Conv2d(16, kernel = 5) -> Relu,
        s4: MaxPool2d(2) => [16, 5, 5],
        flat: Flatten => 400,
        f5: Dense(120) -> Relu,
        f6: Dense(84) -> Relu,
        out: Dense(10),
    }
}

#[path = "shared/mnist.rs"]
mod mnist;

/// Digits shown to the page.
const DIGITS: usize = 10;
/// Largest difference allowed between the page's and the host's probabilities.
const TOLERANCE: f64 = 1e-5;

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["write", out] => write(out),
        ["check", model, page] => check(model, page),
        _ => Err("usage: demo-data write MODEL_JSON | demo-data check MODEL_JSON PAGE_RESULTS_JSON".into()),
    }
}

/// The standardised pixels of one digit, as the main job (and the page) computes them.
fn standardise(pixels: &[f32], mean: f32, std: f32) -> SMatrix<f32, 784, 1> {
    SMatrix::from_fn(|i, _| (pixels[i] - mean) / std)
}

fn write(out: &str) -> Result<(), Box<dyn Error>> {
    let weights = "out/lenet.safetensors";
    let file = sinew::io::WeightFile::read(weights)
        .map_err(|e| format!("{weights}: {e} (run `cargo run --release --example mnist` first)"))?;
    let stat = |key: &str| -> Result<f32, Box<dyn Error>> {
        Ok(file.metadata(key).ok_or(format!("{weights} has no `{key}`"))?.parse()?)
    };
    let (mean, std) = (stat("pixel_mean")?, stat("pixel_std")?);
    let mut net = LeNet::<f32>::boxed_zeroed();
    sinew::io::load(weights, &mut *net)?;

    let split = mnist::raw_split(&mut sinew::rng(mnist::SEED))?;
    let test = &split[2];
    let mut ws = LeNetWorkspace::<1>::boxed();
    let mut digits = Vec::new();
    for i in 0..DIGITS {
        let pixels = &test.samples()[i];
        let mut p = [0.0f32; 10];
        p.copy_from_slice(net.forward(&standardise(pixels, mean, std), &mut ws).as_slice());
        sinew::activation::softmax_in_place(&mut p);
        digits.push(json!({
            "label": test.targets()[i],
            "pixels": pixels.to_vec(),
            "class": sinew::metrics::predicted_class(&p, 0.5),
            "probabilities": p.to_vec(),
        }));
    }
    // The host's time per inference, batch 1, as the page measures it (softmax included).
    let x = standardise(&test.samples()[0], mean, std);
    let runs = 2000;
    let started = Instant::now();
    for _ in 0..runs {
        let mut p = [0.0f32; 10];
        p.copy_from_slice(net.forward(std::hint::black_box(&x), &mut ws).as_slice());
        sinew::activation::softmax_in_place(&mut p);
        std::hint::black_box(p);
    }
    let host_micros = started.elapsed().as_secs_f64() * 1e6 / f64::from(runs);
    let model = json!({
        "pixel_mean": mean,
        "pixel_std": std,
        "host_micros_per_inference": host_micros,
        "digits": digits,
    });
    std::fs::write(out, serde_json::to_string(&model)?)?;
    println!("wrote {out}: {DIGITS} held-out digits, host {host_micros:.1} µs per inference");
    Ok(())
}

fn check(model: &str, page: &str) -> Result<(), Box<dyn Error>> {
    let model: Value = serde_json::from_str(&std::fs::read_to_string(model)?)?;
    let page: Value = serde_json::from_str(&std::fs::read_to_string(page)?)?;
    let host = model["digits"].as_array().ok_or("model.json has no digits")?;
    let seen = page["digits"].as_array().ok_or("the page reported no digits")?;
    if seen.len() != host.len() {
        return Err(format!("the page classified {} digits, the host {}", seen.len(), host.len()).into());
    }
    let mut worst = 0.0f64;
    for (i, (h, p)) in host.iter().zip(seen).enumerate() {
        if h["class"] != p["class"] {
            return Err(format!("digit {i}: the page says {}, the host {}", p["class"], h["class"]).into());
        }
        let (hp, pp) = (h["probabilities"].as_array(), p["probabilities"].as_array());
        let (Some(hp), Some(pp)) = (hp, pp) else {
            return Err(format!("digit {i}: no probabilities").into());
        };
        if hp.len() != 10 || pp.len() != 10 {
            return Err(format!("digit {i}: {} probabilities from the page", pp.len()).into());
        }
        for (a, b) in hp.iter().zip(pp) {
            let (a, b) = (a.as_f64().ok_or("not a number")?, b.as_f64().ok_or("not a number")?);
            worst = worst.max((a - b).abs());
        }
    }
    if worst.is_nan() || worst > TOLERANCE {
        return Err(format!(
            "the page's probabilities differ from the host's by {worst:e} (> {TOLERANCE:e})"
        )
        .into());
    }
    let browser = page["micros_per_inference"].as_f64().unwrap_or(f64::NAN);
    let host_micros = model["host_micros_per_inference"].as_f64().unwrap_or(f64::NAN);
    println!(
        "the page agrees with the host on {} digits: same classes, probabilities within {worst:.1e}",
        host.len()
    );
    println!("time per inference: {browser:.1} µs in the browser, {host_micros:.1} µs on the host");
    Ok(())
}
