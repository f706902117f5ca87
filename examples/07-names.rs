//! A character-level model of first names: an embedding of 16 features and a GRU of 64 units
//! read a name one letter at a time and predict the next letter, trained on a seeded 90/10
//! split of `data/names.txt` (5,163 names from the 1990 US Census lists). Prints the dev
//! loss per character in nats (a model that ignored context, with letter frequencies only,
//! scores 2.81) and 10 names sampled one letter at a time.
//!
//! ```sh
//! cargo run --release --example 07-names [-- --epochs 15] [--export PATH]
//! cargo run --release --example 07-names -- --check FIRMWARE_OUTPUT WEIGHTS
//! ```
//!
//! `--export` also writes the trained weights (the firmware's `names` binary embeds them);
//! `--check` compares the names the firmware printed under QEMU with those the host samples
//! from the same weights and seed, and fails unless they are identical.
//!
//! Tokens: 0 marks the start and the end of a name, 1..=26 are `a..=z`. A name of `n`
//! letters is the input `0 c1 .. cn` and the target `c1 .. cn 0`, padded to 12 steps; the
//! padding is masked out of the loss (`StepClasses::len`).

use sinew::data::{Dataset, StepClasses};
use sinew::generate::Generator;
use sinew::loss::{StepCrossEntropy, step_accuracy};
use sinew::optim::ClipGradNorm;
use sinew::prelude::*;
use std::error::Error;
use std::time::Instant;

/// Steps: the longest name (11 letters) and the end mark.
const STEPS: usize = 12;
/// The end mark and 26 letters.
const VOCAB: usize = 27;
const BATCH: usize = 32;

network! {
    /// Reads a name letter by letter and gives, at every step, the logits of the next one.
    pub struct Names {
        input: Tokens(12, vocab = 27),
        emb: Embedding(16),
        rnn: Gru(64),
        out: Dense(27, steps = all),
    }
}

/// The training pairs of one name.
fn encode(name: &str) -> Option<([f32; STEPS], StepClasses<STEPS>)> {
    let letters: Vec<usize> = name.bytes().map(|b| usize::from(b.wrapping_sub(b'a')) + 1).collect();
    if letters.len() >= STEPS || letters.iter().any(|&c| c >= VOCAB) {
        return None;
    }
    let mut input = [0.0; STEPS];
    let mut target = StepClasses { classes: [0; STEPS], len: letters.len() + 1 };
    for (t, &c) in letters.iter().enumerate() {
        input[t + 1] = c as f32;
        target.classes[t] = c;
    }
    Some((input, target))
}

/// The mean loss per character over `data` (every masked-in step, end marks included),
/// in nats, and the per-step accuracy of the most likely letter.
fn per_character(net: &Names, data: &Dataset<f32, STEPS, StepClasses<STEPS>>) -> (f64, f64) {
    let mut ws = NamesWorkspace::<BATCH>::boxed();
    let (mut nats, mut steps, mut right) = (0.0, 0usize, 0usize);
    let mut batches = data.batches::<BATCH>(None);
    while let Some(batch) = batches.next() {
        let out = net.forward(&batch.x, &mut *ws);
        let loss: f32 = StepCrossEntropy.value_partial(out, &batch.y, batch.samples);
        let (ok, counted) = step_accuracy(out, &batch.y, batch.samples);
        nats += f64::from(loss) * batch.samples as f64;
        steps += counted;
        right += ok;
    }
    (nats / steps as f64, right as f64 / steps as f64)
}

/// The 10 names sampled at temperature 1 with seed 2026, as the firmware samples them.
fn sample_names(net: &Names) -> Vec<String> {
    let mut generator = Generator::new();
    let mut letters = [0usize; STEPS];
    let mut rng = sinew::rng(2026);
    (0..10)
        .map(|_| {
            let len = generator.generate(&net.emb, &net.rnn, &net.out, 0, 0, 1.0, &mut letters, &mut rng);
            letters[..len].iter().map(|&c| char::from(b'a' + (c - 1) as u8)).collect()
        })
        .collect()
}

/// `--check OUTPUT WEIGHTS`: the firmware's names against the host's.
fn check(output: &str, weights: &str) -> Result<(), Box<dyn Error>> {
    let mut net = Names::<f32>::boxed_zeroed();
    sinew::io::load(weights, &mut *net)?;
    let printed: Vec<String> = std::fs::read_to_string(output)?
        .lines()
        .filter_map(|l| l.strip_prefix("name ")?.split(' ').next().map(String::from))
        .collect();
    let host = sample_names(&net);
    println!(
        "firmware: {}
host:     {}",
        printed.join(", "),
        host.join(", ")
    );
    if printed != host {
        return Err("the firmware's names differ from the host's".into());
    }
    println!("the firmware's 10 names are the host's");
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, output, weights] = args.as_slice()
        && flag == "--check"
    {
        return check(output, weights);
    }
    let value = |name: &str| args.iter().skip_while(|a| *a != name).nth(1);
    let epochs = match value("--epochs") {
        Some(n) => n.parse()?,
        None => 15,
    };
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/names.txt"))?;
    let (inputs, targets): (Vec<_>, Vec<_>) = text.lines().filter_map(encode).unzip();
    let data = Dataset::new(inputs, targets)?;
    let mut rng = sinew::rng(7);
    let parts = data.split(&[0.9, 0.1], &mut rng)?;
    let (train, dev) = (&parts[0], &parts[1]);
    println!("{} names: {} train, {} dev", data.len(), train.len(), dev.len());
    println!("\n{}\n", Names::<f32>::SUMMARY);

    let mut net = Names::<f32>::boxed_init(&mut rng);
    let mut optimizer = ClipGradNorm::new(Adam::<f32, Names>::new(AdamConfig::with_lr(3e-3)), 5.0);
    let fit = Fit::<BATCH> { epochs, metric: Metric::Loss, progress: false, ..Fit::default() };
    let started = Instant::now();
    let history = fit.run(&mut *net, &mut optimizer, &StepCrossEntropy, train, Some(dev), &mut rng)?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "trained {} epochs in {seconds:.1} s ({:.2} s per epoch)",
        history.epochs.len(),
        seconds / history.epochs.len().max(1) as f64
    );
    let (train_loss, _) = per_character(&net, train);
    let (dev_loss, dev_accuracy) = per_character(&net, dev);
    println!("loss per character: train {train_loss:.3} nats, dev {dev_loss:.3} nats");
    println!("dev accuracy of the next letter: {dev_accuracy:.3}");

    println!("10 names sampled at temperature 1 (seed 2026): {}", sample_names(&net).join(", "));
    if let Some(path) = value("--export") {
        sinew::io::save(path, &*net)?;
        println!("wrote {path}");
    }

    if dev_loss > 2.0 {
        return Err(format!("dev loss {dev_loss:.3} nats per character is above 2.0").into());
    }
    Ok(())
}
