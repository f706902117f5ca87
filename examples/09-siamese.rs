//! Face verification's recipe on digits: a convolutional network maps each 28 x 28 digit to
//! 16 numbers, scaled to unit length as FaceNet's embeddings are, and trained with the
//! triplet loss (anchor and positive of one digit, negative of another; margin 0.2, squared
//! distances) so that digits of one class land close together.
//! One network and one optimizer serve the three uses (`train_step_shared`: the gradients are
//! summed over them). Same split as the main job (`mnist`): 4,000 train / 500 dev / 500 test.
//! Reports the nearest-neighbour test accuracy with the training images as the gallery.
//!
//! ```sh
//! cargo run --release --example 09-siamese [-- --steps 3000]
//! ```

use sinew::data::Dataset;
use sinew::loss::TripletLoss;
use sinew::model::train_step_shared;
use sinew::prelude::*;
use std::error::Error;
use std::time::Instant;

#[path = "shared/mnist.rs"]
mod mnist;

network! {
    /// A digit to 16 numbers.
    pub struct Embedder {
        input: [1, 28, 28],
        c1: Conv2d(8, kernel = 5, padding = 2) -> Relu,
        p1: MaxPool2d(2),
        c2: Conv2d(16, kernel = 5) -> Relu,
        p2: MaxPool2d(2),
        flat: Flatten,
        fc: Dense(64) -> Relu,
        out: Dense(16),
    }
}

const BATCH: usize = 32;

type Embeddings = SMatrix<f32, 16, BATCH>;

/// The triplet loss of the unit-length embeddings `x / ‖x‖`, and its gradient with respect to
/// the network's outputs `x` through the scaling: `dx = (g − u (u · g)) / ‖x‖`, with `u` the unit
/// vector and `g` the loss's gradient with respect to it. `unit` and `grads` are scratch.
fn unit_triplet(
    loss: &TripletLoss,
    outputs: [(&Embeddings, &mut Embeddings); 3],
    unit: &mut [Embeddings; 3],
    grads: &mut [Embeddings; 3],
) -> f32 {
    for (u, (x, _)) in unit.iter_mut().zip(&outputs) {
        for j in 0..BATCH {
            let norm = x.column(j).norm().max(1e-12);
            u.set_column(j, &(x.column(j) / norm));
        }
    }
    let [ua, up, un] = &*unit;
    let [g0, g1, g2] = grads;
    let value = loss.gradient(ua, up, un, BATCH, g0, g1, g2);
    for ((x, dx), (u, g)) in outputs.into_iter().zip(unit.iter().zip(grads.iter())) {
        for j in 0..BATCH {
            let norm = x.column(j).norm().max(1e-12);
            let along = u.column(j).dot(&g.column(j));
            dx.set_column(j, &((g.column(j) - u.column(j) * along) / norm));
        }
    }
    value
}

/// One batch of triplets: for each column an anchor and a positive of one random class (two
/// different digits) and a negative of another class.
fn triplets(
    data: &Dataset<f32, 784>,
    by_class: &[Vec<usize>],
    rng: &mut sinew::Rng,
    batch: &mut [SMatrix<f32, 784, BATCH>; 3],
) {
    let mut below = |n: usize| sinew::data::below(rng, n);
    for j in 0..BATCH {
        let class = below(10);
        let other = (class + 1 + below(9)) % 10;
        let same = &by_class[class];
        let a = below(same.len());
        let p = (a + 1 + below(same.len() - 1)) % same.len();
        let n = below(by_class[other].len());
        for (slot, index) in batch.iter_mut().zip([same[a], same[p], by_class[other][n]]) {
            slot.column_mut(j).copy_from_slice(&data.samples()[index]);
        }
    }
}

/// The embeddings of every sample of `data`, one after the other.
fn embed(net: &Embedder, data: &Dataset<f32, 784>) -> Vec<[f32; 16]> {
    let mut ws = EmbedderWorkspace::<BATCH>::boxed();
    let mut x = Box::new(SMatrix::<f32, 784, BATCH>::zeros());
    let mut out = Vec::with_capacity(data.len());
    for chunk in data.samples().chunks(BATCH) {
        for (j, sample) in chunk.iter().enumerate() {
            x.column_mut(j).copy_from_slice(sample);
        }
        let y = net.forward(&*x, &mut *ws);
        out.extend((0..chunk.len()).map(|j| std::array::from_fn(|i| y[(i, j)])));
    }
    out
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let steps: usize = match args.iter().skip_while(|a| *a != "--steps").nth(1) {
        Some(n) => n.parse()?,
        None => 3000,
    };
    let mut rng = sinew::rng(mnist::SEED);
    let (parts, _, _, total) = mnist::load(None, &mut rng)?;
    let (train, test) = (&parts[0], &parts[2]);
    println!("{total} MNIST digits: {} train (and gallery), {} test", train.len(), test.len());
    println!("\n{}\n", Embedder::<f32>::SUMMARY);

    let mut by_class = vec![Vec::new(); 10];
    for (i, &label) in train.targets().iter().enumerate() {
        by_class[label].push(i);
    }
    let mut net = Embedder::<f32>::boxed_init(&mut rng);
    let mut adam = Adam::<f32, Embedder>::boxed(AdamConfig::with_lr(1e-3));
    let mut tws = Box::new([(); 3].map(|()| EmbedderTrainWorkspace::<BATCH>::zeroed()));
    let mut batch = Box::new([SMatrix::<f32, 784, BATCH>::zeros(); 3]);
    let loss = TripletLoss { margin: 0.2 };
    let (mut unit, mut grads) = ([Embeddings::zeros(); 3], [Embeddings::zeros(); 3]);
    let started = Instant::now();
    let mut recent = 0.0;
    for step in 1..=steps {
        triplets(train, &by_class, &mut rng, &mut batch);
        let [a, p, n] = &*batch;
        let value = train_step_shared(
            &mut *net,
            [a, p, n],
            &mut tws,
            |outputs| unit_triplet(&loss, outputs, &mut unit, &mut grads),
            &mut *adam,
            &mut rng,
        )?;
        recent += value / 100.0;
        if step % 500 == 0 {
            println!("step {step:>5}: mean triplet loss over the last 100 steps {recent:.4}");
        }
        if step % 100 == 0 {
            recent = 0.0;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "trained {steps} steps of {BATCH} triplets in {seconds:.1} s ({:.2} ms per step)",
        1e3 * seconds / steps as f64
    );

    // Nearest neighbour in the embedding, the training digits as the gallery.
    let (gallery, queries) = (embed(&net, train), embed(&net, test));
    // Distances between unit vectors, as trained.
    let unit = |v: &[f32; 16]| {
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
        v.map(|x| x / norm)
    };
    let (gallery, queries): (Vec<_>, Vec<_>) =
        (gallery.iter().map(unit).collect(), queries.iter().map(unit).collect());
    let distance =
        |a: &[f32; 16], b: &[f32; 16]| a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f32>();
    let correct = queries
        .iter()
        .zip(test.targets())
        .filter(|&(q, &label)| {
            let nearest = (0..gallery.len())
                .min_by(|&i, &j| distance(q, &gallery[i]).total_cmp(&distance(q, &gallery[j])));
            nearest.map(|i| train.targets()[i]) == Some(label)
        })
        .count();
    let accuracy = correct as f64 / test.len() as f64;
    println!("nearest-neighbour test accuracy: {accuracy:.4} ({correct}/{})", test.len());
    if steps >= 3000 && accuracy < 0.95 {
        return Err(format!("nearest-neighbour accuracy {accuracy:.4} is below 0.95").into());
    }
    Ok(())
}
