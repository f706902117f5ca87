//! The phases of W2's training step (784 -> 128 ReLU -> 10, batch 32) timed separately,
//! to see where the step's time goes:
//!
//! ```sh
//! cargo bench --bench parts
//! ```

use criterion::{Criterion, criterion_group, criterion_main};
use sinew::prelude::*;

network! {
    /// W2.
    pub struct W2 {
        input: 784,
        hidden: Dense(128) -> Relu,
        out: Dense(10),
    }
}

fn parts(c: &mut Criterion) {
    let mut rng = sinew::rng(3);
    let mut net = W2::<f32>::boxed_init(&mut rng);
    let mut adam = Adam::<f32, W2>::boxed(AdamConfig::default());
    let mut tw = W2TrainWorkspace::<32>::boxed();
    let mut x = Box::new(SMatrix::<f32, 784, 32>::zeros());
    for v in x.iter_mut() {
        *v = (sinew::data::below(&mut rng, 256) as f32) / 255.0;
    }
    let y: [usize; 32] = std::array::from_fn(|i| i % 10);
    net.train_step(&*x, &y, &SoftmaxCrossEntropy, &mut *adam, &mut tw, &mut rng).unwrap();
    let mut group = c.benchmark_group("W2 phases");
    group.bench_function("forward_train", |b| b.iter(|| *net.forward_train(&*x, &mut tw, &mut rng)));
    group.bench_function("loss gradient", |b| {
        b.iter(|| SoftmaxCrossEntropy.gradient(&tw.out.value, &y, &mut tw.out.grad))
    });
    group.bench_function("backward", |b| b.iter(|| net.backward(&*x, &mut tw, None)));
    let grads = tw.grads.clone();
    group.bench_function("adam step", |b| b.iter(|| adam.step(&mut *net, &grads)));
    let mut sgd = Sgd::new(0.01);
    group.bench_function("sgd step", |b| b.iter(|| sgd.step(&mut *net, &grads)));
    group.finish();
}

criterion_group!(benches, parts);
criterion_main!(benches);
