//! Dense-network workloads, each against a hand-written nalgebra version of the same
//! network measured in the same run:
//!
//! - W1: MLP 16 -> 32 tanh -> 32 tanh -> 4, one sample, inference;
//! - W2: MLP 784 -> 128 ReLU -> 10, softmax cross-entropy, batch 32, one Adam training step;
//! - W4: W2's network, inference, batch 32.
//!
//! ```sh
//! cargo bench --bench dense
//! ```

use criterion::{Criterion, criterion_group, criterion_main};
use nalgebra::{SMatrix, SVector};
use sinew::prelude::*;
use std::hint::black_box;

network! {
    /// W1.
    pub struct W1 {
        input: 16,
        a: Dense(32) -> Tanh,
        b: Dense(32) -> Tanh,
        out: Dense(4),
    }
}

network! {
    /// W2 and W4.
    pub struct W2 {
        input: 784,
        hidden: Dense(128) -> Relu,
        out: Dense(10),
    }
}

/// W1 by hand: nalgebra's static products and the standard library's `tanh`.
struct HandW1 {
    w1: SMatrix<f32, 32, 16>,
    b1: SVector<f32, 32>,
    w2: SMatrix<f32, 32, 32>,
    b2: SVector<f32, 32>,
    w3: SMatrix<f32, 4, 32>,
    b3: SVector<f32, 4>,
}

impl HandW1 {
    fn from(net: &W1<f32>) -> Self {
        HandW1 {
            w1: net.a.weight,
            b1: net.a.bias,
            w2: net.b.weight,
            b2: net.b.bias,
            w3: net.out.weight,
            b3: net.out.bias,
        }
    }

    fn forward(&self, x: &SVector<f32, 16>) -> SVector<f32, 4> {
        let h1 = (self.w1 * x + self.b1).map(f32::tanh);
        let h2 = (self.w2 * h1 + self.b2).map(f32::tanh);
        self.w3 * h2 + self.b3
    }

    /// The same with sinew's fast tanh, to separate the products from the activation.
    fn forward_fast_tanh(&self, x: &SVector<f32, 16>) -> SVector<f32, 4> {
        let h1 = (self.w1 * x + self.b1).map(sinew::fastmath::tanh);
        let h2 = (self.w2 * h1 + self.b2).map(sinew::fastmath::tanh);
        self.w3 * h2 + self.b3
    }
}

/// W1 as a tight loop over plain arrays, as one writes it for a microcontroller-sized
/// network: each layer `y = b + Σ_j W[:, j] x_j` column by column (the order that
/// vectorises), then sinew's fast `tanh`; no matrix library.
struct LoopW1 {
    w1: [[f32; 32]; 16],
    b1: [f32; 32],
    w2: [[f32; 32]; 32],
    b2: [f32; 32],
    w3: [[f32; 4]; 32],
    b3: [f32; 4],
}

impl LoopW1 {
    fn from(net: &W1<f32>) -> Self {
        // nalgebra stores (out, in) column-major: column j is the weights from input j.
        fn columns<const O: usize, const I: usize>(w: &SMatrix<f32, O, I>) -> [[f32; O]; I] {
            std::array::from_fn(|j| std::array::from_fn(|i| w[(i, j)]))
        }
        LoopW1 {
            w1: columns(&net.a.weight),
            b1: net.a.bias.into(),
            w2: columns(&net.b.weight),
            b2: net.b.bias.into(),
            w3: columns(&net.out.weight),
            b3: net.out.bias.into(),
        }
    }

    #[inline(always)]
    fn layer<const O: usize, const I: usize>(w: &[[f32; O]; I], b: &[f32; O], x: &[f32; I]) -> [f32; O] {
        let mut y = *b;
        for (column, &xj) in w.iter().zip(x) {
            for (yi, &wij) in y.iter_mut().zip(column) {
                *yi += wij * xj;
            }
        }
        y
    }

    fn forward(&self, x: &[f32; 16]) -> [f32; 4] {
        let h1 = Self::layer(&self.w1, &self.b1, x).map(sinew::fastmath::tanh);
        let h2 = Self::layer(&self.w2, &self.b2, &h1).map(sinew::fastmath::tanh);
        Self::layer(&self.w3, &self.b3, &h2)
    }
}

/// W2's four tensors (weights and biases of both layers), for gradients and Adam moments.
type W2Tensors = (SMatrix<f32, 128, 784>, SVector<f32, 128>, SMatrix<f32, 10, 128>, SVector<f32, 10>);

/// W2 by hand: nalgebra products into preallocated buffers, Adam written out.
struct HandW2 {
    w1: Box<SMatrix<f32, 128, 784>>,
    b1: SVector<f32, 128>,
    w2: SMatrix<f32, 10, 128>,
    b2: SVector<f32, 10>,
    grads: Box<W2Tensors>,
    m: Box<W2Tensors>,
    v: Box<W2Tensors>,
    t: i32,
    h: Box<SMatrix<f32, 128, 32>>,
    z2: Box<SMatrix<f32, 10, 32>>,
}

impl HandW2 {
    fn from(net: &W2<f32>) -> Self {
        let zeros = || Box::new((SMatrix::zeros(), SVector::zeros(), SMatrix::zeros(), SVector::zeros()));
        HandW2 {
            w1: Box::new(net.hidden.weight),
            b1: net.hidden.bias,
            w2: net.out.weight,
            b2: net.out.bias,
            grads: zeros(),
            m: zeros(),
            v: zeros(),
            t: 0,
            h: Box::new(SMatrix::zeros()),
            z2: Box::new(SMatrix::zeros()),
        }
    }

    fn forward(&mut self, x: &SMatrix<f32, 784, 32>) -> &SMatrix<f32, 10, 32> {
        self.w1.mul_to(x, &mut self.h);
        for mut c in self.h.column_iter_mut() {
            c += self.b1;
            c.apply(|v| *v = v.max(0.0));
        }
        self.w2.mul_to(&self.h, &mut self.z2);
        for mut c in self.z2.column_iter_mut() {
            c += self.b2;
        }
        &self.z2
    }

    fn train_step(&mut self, x: &SMatrix<f32, 784, 32>, y: &[usize; 32]) -> f32 {
        self.forward(x);
        // softmax cross-entropy gradient
        let mut dz2 = *self.z2;
        let mut loss = 0.0;
        for (j, mut c) in dz2.column_iter_mut().enumerate() {
            let max = c.max();
            let sum: f32 = c.iter().map(|v| (v - max).exp()).sum();
            loss += max + sum.ln() - c[y[j]];
            c.apply(|v| *v = (*v - max).exp() / sum);
            c[y[j]] -= 1.0;
        }
        dz2 /= 32.0;
        let g = &mut *self.grads;
        dz2.mul_to(&self.h.transpose(), &mut g.2);
        g.3 = dz2.column_sum();
        let mut dh = self.w2.transpose() * dz2;
        dh.zip_apply(&*self.h, |d, h| {
            if h <= 0.0 {
                *d = 0.0
            }
        });
        g.0.gemm(1.0, &dh, &x.transpose(), 0.0);
        g.1 = dh.column_sum();
        // Adam
        self.t += 1;
        let (b1, b2, lr, eps) = (0.9f32, 0.999f32, 1e-3f32, 1e-8f32);
        let c1 = 1.0 - b1.powi(self.t);
        let c2 = 1.0 - b2.powi(self.t);
        let update = |w: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]| {
            for i in 0..w.len() {
                m[i] = b1 * m[i] + (1.0 - b1) * g[i];
                v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
                w[i] -= lr * (m[i] / c1) / ((v[i] / c2).sqrt() + eps);
            }
        };
        let (m, v) = (&mut *self.m, &mut *self.v);
        update(self.w1.as_mut_slice(), g.0.as_slice(), m.0.as_mut_slice(), v.0.as_mut_slice());
        update(self.b1.as_mut_slice(), g.1.as_slice(), m.1.as_mut_slice(), v.1.as_mut_slice());
        update(self.w2.as_mut_slice(), g.2.as_slice(), m.2.as_mut_slice(), v.2.as_mut_slice());
        update(self.b2.as_mut_slice(), g.3.as_slice(), m.3.as_mut_slice(), v.3.as_mut_slice());
        loss / 32.0
    }
}

fn w1(c: &mut Criterion) {
    let mut rng = sinew::rng(1);
    let net = W1::<f32>::init(&mut rng);
    let hand = HandW1::from(&net);
    let mut x = SVector::<f32, 16>::zeros();
    sinew::init::Init::Xavier.fill(x.as_mut_slice(), 1, 1, &mut rng);
    let mut ws = W1Workspace::<1>::zeroed();
    // Same answers before timing anything.
    let ours = *net.forward(&x, &mut ws);
    assert!((ours - hand.forward(&x)).abs().max() < 1e-5);
    let tight = LoopW1::from(&net);
    let xs: [f32; 16] = x.into();
    assert!((ours - SVector::<f32, 4>::from(tight.forward(&xs))).abs().max() < 1e-5);

    let mut group = c.benchmark_group("W1 16-32-32-4 tanh, 1 sample, inference");
    group.bench_function("sinew", |b| b.iter(|| *net.forward(black_box(&x), &mut ws)));
    group.bench_function("hand-written nalgebra", |b| b.iter(|| hand.forward(black_box(&x))));
    group.bench_function("hand-written nalgebra, fast tanh", |b| {
        b.iter(|| hand.forward_fast_tanh(black_box(&x)))
    });
    group.bench_function("hand-written loop, fast tanh", |b| b.iter(|| tight.forward(black_box(&xs))));
    group.finish();
}

fn w2_data() -> (Box<SMatrix<f32, 784, 32>>, [usize; 32]) {
    let mut rng = sinew::rng(2);
    let mut x = Box::new(SMatrix::<f32, 784, 32>::zeros());
    // MNIST-like: pixels in [0, 1].
    for v in x.iter_mut() {
        *v = (sinew::data::below(&mut rng, 256) as f32) / 255.0;
    }
    (x, std::array::from_fn(|i| i % 10))
}

fn w2(c: &mut Criterion) {
    let (x, y) = w2_data();
    let mut rng = sinew::rng(3);
    let mut net = W2::<f32>::boxed_init(&mut rng);
    let mut hand = HandW2::from(&net);
    let mut adam = Adam::<f32, W2>::boxed(AdamConfig::default());
    let mut tw = W2TrainWorkspace::<32>::boxed();
    // Same losses for the first steps.
    for _ in 0..3 {
        let a = net.train_step(&*x, &y, &SoftmaxCrossEntropy, &mut *adam, &mut tw, &mut rng).unwrap();
        let b = hand.train_step(&x, &y);
        assert!((a - b).abs() < 1e-4 * a.abs().max(1.0), "{a} vs {b}");
    }

    let mut group = c.benchmark_group("W2 784-128-10 relu, batch 32, Adam training step");
    group.bench_function("sinew", |b| {
        b.iter(|| {
            net.train_step(black_box(&*x), &y, &SoftmaxCrossEntropy, &mut *adam, &mut tw, &mut rng).unwrap()
        })
    });
    group.bench_function("hand-written nalgebra", |b| b.iter(|| hand.train_step(black_box(&x), &y)));
    group.finish();
}

fn w4(c: &mut Criterion) {
    let (x, _) = w2_data();
    let net = W2::<f32>::boxed_init(&mut sinew::rng(4));
    let mut hand = HandW2::from(&net);
    let mut ws = W2Workspace::<32>::boxed();
    let ours = *net.forward(&*x, &mut ws);
    assert!((ours - hand.forward(&x)).abs().max() < 1e-4);

    let mut group = c.benchmark_group("W4 784-128-10 relu, batch 32, inference");
    group.bench_function("sinew", |b| b.iter(|| *net.forward(black_box(&*x), &mut ws)));
    group.bench_function("hand-written nalgebra", |b| b.iter(|| *hand.forward(black_box(&x))));
    group.finish();
}

criterion_group!(benches, w1, w2, w4);
criterion_main!(benches);
