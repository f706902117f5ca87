//! Convolutional workloads, each against a hand-written nalgebra LeNet (direct
//! convolution loops and static matrix products, as one writes it by hand) measured in the
//! same run:
//!
//! - W3: LeNet-5 (the `mnist` example's), batch 32, one SGD-momentum training step
//!   (forward, backward, update);
//! - W5: its inference forward pass at batch 1 and at batch 32.
//!
//! ```sh
//! cargo bench --bench lenet
//! ```

use criterion::{Criterion, criterion_group, criterion_main};
use nalgebra::{SMatrix, SVector};
use sinew::prelude::*;
use std::hint::black_box;

network! {
    /// LeNet-5.
    pub struct LeNet {
        input: [1, 28, 28],
        c1: Conv2d(6, kernel = 5, padding = 2) -> Relu,
        s2: MaxPool2d(2),
        c3: Conv2d(16, kernel = 5) -> Relu,
        s4: MaxPool2d(2),
        flat: Flatten,
        f5: Dense(120) -> Relu,
        f6: Dense(84) -> Relu,
        out: Dense(10),
    }
}

/// A direct convolution of one sample: `x` is `ci × h × w`, `w` is `(co, ci, k, k)`.
#[allow(clippy::too_many_arguments)]
fn conv(
    x: &[f32],
    ci: usize,
    h: usize,
    w: usize,
    k: &[f32],
    b: &[f32],
    co: usize,
    ks: usize,
    pad: usize,
    y: &mut [f32],
) {
    let (ho, wo) = (h + 2 * pad - ks + 1, w + 2 * pad - ks + 1);
    for o in 0..co {
        for oy in 0..ho {
            for ox in 0..wo {
                let mut s = b[o];
                for c in 0..ci {
                    for ky in 0..ks {
                        let yy = (oy + ky) as isize - pad as isize;
                        if yy < 0 || yy >= h as isize {
                            continue;
                        }
                        for kx in 0..ks {
                            let xx = (ox + kx) as isize - pad as isize;
                            if xx < 0 || xx >= w as isize {
                                continue;
                            }
                            s += k[((o * ci + c) * ks + ky) * ks + kx]
                                * x[(c * h + yy as usize) * w + xx as usize];
                        }
                    }
                }
                y[(o * ho + oy) * wo + ox] = s.max(0.0);
            }
        }
    }
}

/// The gradients of [`conv`] (with its ReLU): `dy` is with respect to the output.
#[allow(clippy::too_many_arguments)]
fn conv_backward(
    x: &[f32],
    ci: usize,
    h: usize,
    w: usize,
    k: &[f32],
    y: &[f32],
    dy: &mut [f32],
    co: usize,
    ks: usize,
    pad: usize,
    dk: &mut [f32],
    db: &mut [f32],
    dx: Option<&mut [f32]>,
) {
    let (ho, wo) = (h + 2 * pad - ks + 1, w + 2 * pad - ks + 1);
    for (d, &v) in dy.iter_mut().zip(y) {
        if v <= 0.0 {
            *d = 0.0;
        }
    }
    let mut dx = dx;
    if let Some(dx) = dx.as_deref_mut() {
        dx.fill(0.0);
    }
    for o in 0..co {
        for oy in 0..ho {
            for ox in 0..wo {
                let g = dy[(o * ho + oy) * wo + ox];
                if g == 0.0 {
                    continue;
                }
                db[o] += g;
                for c in 0..ci {
                    for ky in 0..ks {
                        let yy = (oy + ky) as isize - pad as isize;
                        if yy < 0 || yy >= h as isize {
                            continue;
                        }
                        for kx in 0..ks {
                            let xx = (ox + kx) as isize - pad as isize;
                            if xx < 0 || xx >= w as isize {
                                continue;
                            }
                            let xi = (c * h + yy as usize) * w + xx as usize;
                            let ki = ((o * ci + c) * ks + ky) * ks + kx;
                            dk[ki] += g * x[xi];
                            if let Some(dx) = dx.as_deref_mut() {
                                dx[xi] += g * k[ki];
                            }
                        }
                    }
                }
            }
        }
    }
}

/// 2 × 2 max pooling of `c` planes of `h × w`, recording the winners.
fn pool(x: &[f32], c: usize, h: usize, w: usize, y: &mut [f32], arg: &mut [usize]) {
    let (ho, wo) = (h / 2, w / 2);
    for ch in 0..c {
        for oy in 0..ho {
            for ox in 0..wo {
                let mut best = (ch * h + 2 * oy) * w + 2 * ox;
                for (dy, dx) in [(0, 1), (1, 0), (1, 1)] {
                    let i = (ch * h + 2 * oy + dy) * w + 2 * ox + dx;
                    if x[i] > x[best] {
                        best = i;
                    }
                }
                let o = (ch * ho + oy) * wo + ox;
                y[o] = x[best];
                arg[o] = best;
            }
        }
    }
}

/// LeNet by hand: flat kernels, nalgebra matrices for the dense part.
#[derive(Clone)]
struct Hand {
    k1: Vec<f32>,
    b1: Vec<f32>,
    k3: Vec<f32>,
    b3: Vec<f32>,
    w5: SMatrix<f32, 120, 400>,
    b5: SVector<f32, 120>,
    w6: SMatrix<f32, 84, 120>,
    b6: SVector<f32, 84>,
    w7: SMatrix<f32, 10, 84>,
    b7: SVector<f32, 10>,
}

/// Activations of one sample.
struct Tape {
    a1: Vec<f32>,
    p2: Vec<f32>,
    arg2: Vec<usize>,
    a3: Vec<f32>,
    p4: SVector<f32, 400>,
    arg4: Vec<usize>,
    a5: SVector<f32, 120>,
    a6: SVector<f32, 84>,
    z7: SVector<f32, 10>,
}

impl Hand {
    fn from(net: &LeNet<f32>) -> Self {
        Hand {
            k1: net.c1.weight.as_slice().to_vec(),
            b1: net.c1.bias.as_slice().to_vec(),
            k3: net.c3.weight.as_slice().to_vec(),
            b3: net.c3.bias.as_slice().to_vec(),
            w5: net.f5.weight,
            b5: net.f5.bias,
            w6: net.f6.weight,
            b6: net.f6.bias,
            w7: net.out.weight,
            b7: net.out.bias,
        }
    }

    fn zeros() -> Self {
        Hand {
            k1: vec![0.0; 150],
            b1: vec![0.0; 6],
            k3: vec![0.0; 2400],
            b3: vec![0.0; 16],
            w5: SMatrix::zeros(),
            b5: SVector::zeros(),
            w6: SMatrix::zeros(),
            b6: SVector::zeros(),
            w7: SMatrix::zeros(),
            b7: SVector::zeros(),
        }
    }

    fn forward(&self, x: &[f32]) -> Tape {
        let mut t = Tape {
            a1: vec![0.0; 6 * 28 * 28],
            p2: vec![0.0; 6 * 14 * 14],
            arg2: vec![0; 6 * 14 * 14],
            a3: vec![0.0; 16 * 10 * 10],
            p4: SVector::zeros(),
            arg4: vec![0; 400],
            a5: SVector::zeros(),
            a6: SVector::zeros(),
            z7: SVector::zeros(),
        };
        conv(x, 1, 28, 28, &self.k1, &self.b1, 6, 5, 2, &mut t.a1);
        pool(&t.a1, 6, 28, 28, &mut t.p2, &mut t.arg2);
        conv(&t.p2, 6, 14, 14, &self.k3, &self.b3, 16, 5, 0, &mut t.a3);
        pool(&t.a3, 16, 10, 10, t.p4.as_mut_slice(), &mut t.arg4);
        t.a5 = (self.w5 * t.p4 + self.b5).map(|v| v.max(0.0));
        t.a6 = (self.w6 * t.a5 + self.b6).map(|v| v.max(0.0));
        t.z7 = self.w7 * t.a6 + self.b7;
        t
    }

    /// One SGD-momentum step (PyTorch's form, μ = 0.9) on a batch; returns the mean loss.
    fn train_step(&mut self, xs: &[f32], labels: &[usize], velocity: &mut Hand, lr: f32) -> f32 {
        let m = labels.len() as f32;
        let mut g = Hand::zeros();
        let mut loss = 0.0;
        for (x, &label) in xs.chunks_exact(784).zip(labels) {
            let t = self.forward(x);
            let max = t.z7.max();
            let sum: f32 = t.z7.iter().map(|v| (v - max).exp()).sum();
            loss += max + sum.ln() - t.z7[label];
            let mut d7 = t.z7.map(|v| (v - max).exp() / sum);
            d7[label] -= 1.0;
            d7 /= m;
            g.w7 += d7 * t.a6.transpose();
            g.b7 += d7;
            let d6 = (self.w7.transpose() * d7).zip_map(&t.a6, |d, a| if a > 0.0 { d } else { 0.0 });
            g.w6 += d6 * t.a5.transpose();
            g.b6 += d6;
            let d5 = (self.w6.transpose() * d6).zip_map(&t.a5, |d, a| if a > 0.0 { d } else { 0.0 });
            g.w5 += d5 * t.p4.transpose();
            g.b5 += d5;
            let dp4 = self.w5.transpose() * d5;
            let mut da3 = vec![0.0; 1600];
            for (o, &i) in t.arg4.iter().enumerate() {
                da3[i] += dp4[o];
            }
            let mut dp2 = vec![0.0; 6 * 14 * 14];
            conv_backward(
                &t.p2,
                6,
                14,
                14,
                &self.k3,
                &t.a3,
                &mut da3,
                16,
                5,
                0,
                &mut g.k3,
                &mut g.b3,
                Some(&mut dp2),
            );
            let mut da1 = vec![0.0; 6 * 28 * 28];
            for (o, &i) in t.arg2.iter().enumerate() {
                da1[i] += dp2[o];
            }
            conv_backward(x, 1, 28, 28, &self.k1, &t.a1, &mut da1, 6, 5, 2, &mut g.k1, &mut g.b1, None);
        }
        let update = |p: &mut [f32], v: &mut [f32], g: &[f32]| {
            for ((p, v), g) in p.iter_mut().zip(v).zip(g) {
                *v = 0.9 * *v + g;
                *p -= lr * *v;
            }
        };
        update(&mut self.k1, &mut velocity.k1, &g.k1);
        update(&mut self.b1, &mut velocity.b1, &g.b1);
        update(&mut self.k3, &mut velocity.k3, &g.k3);
        update(&mut self.b3, &mut velocity.b3, &g.b3);
        update(self.w5.as_mut_slice(), velocity.w5.as_mut_slice(), g.w5.as_slice());
        update(self.b5.as_mut_slice(), velocity.b5.as_mut_slice(), g.b5.as_slice());
        update(self.w6.as_mut_slice(), velocity.w6.as_mut_slice(), g.w6.as_slice());
        update(self.b6.as_mut_slice(), velocity.b6.as_mut_slice(), g.b6.as_slice());
        update(self.w7.as_mut_slice(), velocity.w7.as_mut_slice(), g.w7.as_slice());
        update(self.b7.as_mut_slice(), velocity.b7.as_mut_slice(), g.b7.as_slice());
        loss / m
    }
}

fn batch(seed: u64) -> (Box<SMatrix<f32, 784, 32>>, [usize; 32]) {
    let mut rng = sinew::rng(seed);
    let mut x = Box::new(SMatrix::<f32, 784, 32>::zeros());
    for v in x.iter_mut() {
        *v = (sinew::data::below(&mut rng, 256) as f32) / 255.0 - 0.13;
    }
    (x, std::array::from_fn(|i| i % 10))
}

fn w3(c: &mut Criterion) {
    let (x, y) = batch(1);
    let mut rng = sinew::rng(2);
    let mut net = LeNet::<f32>::boxed_init(&mut rng);
    let mut hand = Hand::from(&net);
    let mut velocity = Hand::zeros();
    let config = MomentumConfig { lr: 0.01, ..MomentumConfig::default() };
    let mut momentum = Momentum::<f32, LeNet>::boxed(config);
    let mut tw = LeNetTrainWorkspace::<32>::boxed();
    // The same losses for the first steps: both compute the same thing.
    for _ in 0..3 {
        let a = net.train_step(&*x, &y, &SoftmaxCrossEntropy, &mut *momentum, &mut tw, &mut rng).unwrap();
        let b = hand.train_step(x.as_slice(), &y, &mut velocity, 0.01);
        assert!((a - b).abs() < 1e-4 * a.abs().max(1.0), "{a} vs {b}");
    }
    let mut group = c.benchmark_group("W3 LeNet-5, batch 32, SGD-momentum training step");
    group.bench_function("sinew", |b| {
        b.iter(|| {
            net.train_step(black_box(&*x), &y, &SoftmaxCrossEntropy, &mut *momentum, &mut tw, &mut rng)
                .unwrap()
        })
    });
    group.bench_function("hand-written nalgebra", |b| {
        b.iter(|| hand.train_step(black_box(x.as_slice()), &y, &mut velocity, 0.01))
    });
    group.finish();
}

/// W3 by phase: each convolution's training forward pass and backward pass alone (its
/// buffers filled by a whole step first), and the whole step; the rest of the step
/// (activations, pooling, dense layers, loss, update) is the difference.
fn w3_phases(c: &mut Criterion) {
    use sinew::layers::{Layer, Store};
    let (x, y) = batch(1);
    let mut rng = sinew::rng(2);
    let mut net = LeNet::<f32>::boxed_init(&mut rng);
    let mut momentum =
        Momentum::<f32, LeNet>::boxed(MomentumConfig { lr: 0.01, ..MomentumConfig::default() });
    let mut tw = LeNetTrainWorkspace::<32>::boxed();
    net.train_step(&*x, &y, &SoftmaxCrossEntropy, &mut *momentum, &mut tw, &mut rng).unwrap();
    let mut grads = LeNet::<f32>::boxed_zeroed();
    let mut group = c.benchmark_group("W3 phases");
    group.bench_function("c1 forward (1 -> 6, 5 x 5, 28 x 28)", |b| {
        b.iter(|| Layer::<f32, 32>::forward_train(&mut net.c1, black_box(&*x), &mut tw.c1, 32, &mut rng))
    });
    group.bench_function("c1 backward (weights)", |b| {
        b.iter(|| {
            Layer::<f32, 32>::backward(&net.c1, black_box(&*x), &mut tw.c1, Some(&mut grads.c1), None, 32)
        })
    });
    let s2 = tw.s2.value;
    group.bench_function("c3 forward (6 -> 16, 5 x 5, 14 x 14)", |b| {
        b.iter(|| Layer::<f32, 32>::forward_train(&mut net.c3, black_box(&s2), &mut tw.c3, 32, &mut rng))
    });
    let mut ds2 = tw.s2.grad;
    group.bench_function("c3 backward (weights and input)", |b| {
        b.iter(|| {
            Layer::<f32, 32>::backward(
                &net.c3,
                black_box(&s2),
                &mut tw.c3,
                Some(&mut grads.c3),
                Some((&mut ds2, Store::Overwrite)),
                32,
            )
        })
    });
    group.bench_function("c3 backward (input only)", |b| {
        b.iter(|| {
            Layer::<f32, 32>::backward(
                &net.c3,
                black_box(&s2),
                &mut tw.c3,
                None,
                Some((&mut ds2, Store::Overwrite)),
                32,
            )
        })
    });
    group.bench_function("whole step", |b| {
        b.iter(|| {
            net.train_step(black_box(&*x), &y, &SoftmaxCrossEntropy, &mut *momentum, &mut tw, &mut rng)
                .unwrap()
        })
    });
    group.finish();
}

fn w5(c: &mut Criterion) {
    let (x, _) = batch(3);
    let net = LeNet::<f32>::boxed_init(&mut sinew::rng(4));
    let hand = Hand::from(&net);
    let mut ws1 = LeNetWorkspace::<1>::boxed();
    let mut ws32 = LeNetWorkspace::<32>::boxed();
    let x1 = SMatrix::<f32, 784, 1>::from_column_slice(&x.as_slice()[..784]);
    let ours = *net.forward(&x1, &mut ws1);
    assert!((ours - hand.forward(x1.as_slice()).z7).abs().max() < 1e-4);

    let mut group = c.benchmark_group("W5 LeNet-5 inference");
    group.bench_function("sinew, batch 1", |b| b.iter(|| *net.forward(black_box(&x1), &mut ws1)));
    group.bench_function("hand-written nalgebra, batch 1", |b| {
        b.iter(|| hand.forward(black_box(x1.as_slice())).z7)
    });
    group.bench_function("sinew, batch 32", |b| b.iter(|| *net.forward(black_box(&*x), &mut ws32)));
    group.bench_function("hand-written nalgebra, batch 32", |b| {
        b.iter(|| x.as_slice().chunks_exact(784).map(|s| hand.forward(black_box(s)).z7[0]).sum::<f32>())
    });
    group.finish();
}

criterion_group!(benches, w3, w3_phases, w5);
criterion_main!(benches);
