//! W7: one training step of a GRU (28 steps of 28 features, 64 units, the last state into
//! a dense layer of 10, softmax cross-entropy, batch 32, Adam), the network of
//! `08-sequential-mnist`, against a hand-written nalgebra version measured in the same run.
//! The hand-written GRU is what one writes with nalgebra: per step, the gate pre-activations
//! of the batch as two static matrix products, the gates and states of every step kept for
//! backpropagation through time, and Adam written out.
//!
//! ```sh
//! cargo bench --bench gru
//! ```

use criterion::{Criterion, criterion_group, criterion_main};
use nalgebra::{SMatrix, SVector};
use sinew::prelude::*;
use std::hint::black_box;

network! {
    /// 28 rows of 28 pixels in, 10 logits out.
    pub struct RowGru {
        input: Sequence(28, 28),
        rnn: Gru(64, steps = last),
        out: Dense(10),
    }
}

const T: usize = 28;
const F: usize = 28;
const H: usize = 64;
const G: usize = 3 * H;
const K: usize = 10;
const B: usize = 32;

type Gates = SMatrix<f32, G, B>;
type States = SMatrix<f32, H, B>;

fn sigmoid(v: f32) -> f32 {
    1.0 / (1.0 + (-v).exp())
}

/// A parameter and its Adam moments.
struct Param<const R: usize, const C: usize> {
    w: SMatrix<f32, R, C>,
    g: SMatrix<f32, R, C>,
    m: SMatrix<f32, R, C>,
    v: SMatrix<f32, R, C>,
}

impl<const R: usize, const C: usize> Param<R, C> {
    fn new(w: SMatrix<f32, R, C>) -> Box<Self> {
        Box::new(Param { w, g: SMatrix::zeros(), m: SMatrix::zeros(), v: SMatrix::zeros() })
    }

    /// PyTorch's Adam (lr 1e-3, β 0.9 / 0.999, ε 1e-8) at step `t`.
    fn adam(&mut self, t: i32) {
        let (b1, b2, lr, eps) = (0.9f32, 0.999f32, 1e-3f32, 1e-8f32);
        let (c1, c2) = (1.0 - b1.powi(t), 1.0 - b2.powi(t));
        for (((w, &g), m), v) in
            self.w.iter_mut().zip(self.g.iter()).zip(self.m.iter_mut()).zip(self.v.iter_mut())
        {
            *m = b1 * *m + (1.0 - b1) * g;
            *v = b2 * *v + (1.0 - b2) * g * g;
            *w -= lr / c1 * *m / ((*v).sqrt() / c2.sqrt() + eps);
        }
    }
}

/// The hand-written GRU classifier.
struct Hand {
    w_ih: Box<Param<G, F>>,
    w_hh: Box<Param<G, H>>,
    b_ih: Box<Param<G, 1>>,
    b_hh: Box<Param<G, 1>>,
    w_out: Box<Param<K, H>>,
    b_out: Box<Param<K, 1>>,
    /// Per step: the inputs, the previous states, the gates r, z, n and `W_hn h + b_hn`.
    xs: Box<[SMatrix<f32, F, B>; T]>,
    hs: Box<[States; T + 1]>,
    gates: Box<[Gates; T]>,
    hn: Box<[States; T]>,
    steps: i32,
}

impl Hand {
    fn from(net: &RowGru) -> Self {
        // sinew stores PyTorch's row-major weights: `(G, F)` row-major is `(F, G)` here.
        let w_ih = SMatrix::<f32, F, G>::from_column_slice(net.rnn.weight_ih.as_slice()).transpose();
        let w_hh = SMatrix::<f32, H, G>::from_column_slice(net.rnn.weight_hh.as_slice()).transpose();
        Hand {
            w_ih: Param::new(w_ih),
            w_hh: Param::new(w_hh),
            b_ih: Param::new(SMatrix::from_column_slice(net.rnn.bias_ih.as_slice())),
            b_hh: Param::new(SMatrix::from_column_slice(net.rnn.bias_hh.as_slice())),
            w_out: Param::new(net.out.weight),
            b_out: Param::new(net.out.bias),
            xs: Box::new([SMatrix::zeros(); T]),
            hs: Box::new([States::zeros(); T + 1]),
            gates: Box::new([Gates::zeros(); T]),
            hn: Box::new([States::zeros(); T]),
            steps: 0,
        }
    }

    fn train_step(&mut self, x: &SMatrix<f32, { T * F }, B>, y: &[usize; B]) -> f32 {
        // Forward through time.
        for t in 0..T {
            for b in 0..B {
                self.xs[t].column_mut(b).copy_from_slice(&x.column(b).as_slice()[t * F..(t + 1) * F]);
            }
            let mut gi = self.w_ih.w * self.xs[t];
            let mut gh = self.w_hh.w * self.hs[t];
            for b in 0..B {
                gi.column_mut(b).zip_apply(&self.b_ih.w.column(0), |v, bias| *v += bias);
                gh.column_mut(b).zip_apply(&self.b_hh.w.column(0), |v, bias| *v += bias);
            }
            let (gates, hn) = (&mut self.gates[t], &mut self.hn[t]);
            let (before, after) = self.hs.split_at_mut(t + 1);
            let (previous, next) = (&before[t], &mut after[0]);
            for b in 0..B {
                for u in 0..H {
                    let r = sigmoid(gi[(u, b)] + gh[(u, b)]);
                    let z = sigmoid(gi[(H + u, b)] + gh[(H + u, b)]);
                    let n = (gi[(2 * H + u, b)] + r * gh[(2 * H + u, b)]).tanh();
                    gates[(u, b)] = r;
                    gates[(H + u, b)] = z;
                    gates[(2 * H + u, b)] = n;
                    hn[(u, b)] = gh[(2 * H + u, b)];
                    next[(u, b)] = (1.0 - z) * n + z * previous[(u, b)];
                }
            }
        }
        // The head and the loss: (1/m) Σ −log softmax(z)[y].
        let mut logits = self.w_out.w * self.hs[T];
        let mut loss = 0.0;
        for b in 0..B {
            let mut column = logits.column_mut(b);
            column += self.b_out.w.column(0);
            let max = column.max();
            let sum: f32 = column.iter().map(|v| (v - max).exp()).sum();
            loss += max + sum.ln() - column[y[b]];
            column.apply(|v| *v = (*v - max).exp() / sum / B as f32);
            column[y[b]] -= 1.0 / B as f32;
        }
        self.w_out.g = logits * self.hs[T].transpose();
        self.b_out.g = logits.column_sum();
        let mut dh = self.w_out.w.transpose() * logits;
        // Backward through time.
        for p in [&mut self.w_ih.g as &mut dyn AsZero, &mut self.w_hh.g, &mut self.b_ih.g, &mut self.b_hh.g] {
            p.zero();
        }
        let (mut dgi, mut dgh) = (Gates::zeros(), Gates::zeros());
        for t in (0..T).rev() {
            let (gates, hn, previous) = (&self.gates[t], &self.hn[t], &self.hs[t]);
            for b in 0..B {
                for u in 0..H {
                    let (r, z, n) = (gates[(u, b)], gates[(H + u, b)], gates[(2 * H + u, b)]);
                    let d = dh[(u, b)];
                    let dn = d * (1.0 - z) * (1.0 - n * n);
                    let dz = d * (previous[(u, b)] - n) * z * (1.0 - z);
                    let dr = dn * hn[(u, b)] * r * (1.0 - r);
                    dgi[(u, b)] = dr;
                    dgi[(H + u, b)] = dz;
                    dgi[(2 * H + u, b)] = dn;
                    dgh[(u, b)] = dr;
                    dgh[(H + u, b)] = dz;
                    dgh[(2 * H + u, b)] = dn * r;
                    dh[(u, b)] = d * z;
                }
            }
            self.w_ih.g += dgi * self.xs[t].transpose();
            self.w_hh.g += dgh * previous.transpose();
            self.b_ih.g += dgi.column_sum();
            self.b_hh.g += dgh.column_sum();
            dh += self.w_hh.w.transpose() * dgh;
        }
        self.steps += 1;
        self.w_ih.adam(self.steps);
        self.w_hh.adam(self.steps);
        self.b_ih.adam(self.steps);
        self.b_hh.adam(self.steps);
        self.w_out.adam(self.steps);
        self.b_out.adam(self.steps);
        loss / B as f32
    }
}

/// Zeroing a gradient of any size.
trait AsZero {
    fn zero(&mut self);
}

impl<const R: usize, const C: usize> AsZero for SMatrix<f32, R, C> {
    fn zero(&mut self) {
        self.fill(0.0);
    }
}

fn w7(c: &mut Criterion) {
    let mut rng = sinew::rng(7);
    let mut net = RowGru::<f32>::boxed_init(&mut rng);
    let mut x = Box::new(SMatrix::<f32, { T * F }, B>::zeros());
    sinew::init::Init::Xavier.fill(x.as_mut_slice(), 1, 1, &mut rng);
    let y: [usize; B] = std::array::from_fn(|i| (i * 7) % K);
    let mut hand = Hand::from(&net);
    let mut adam = Adam::<f32, RowGru>::boxed(AdamConfig::default());
    let mut tw = RowGruTrainWorkspace::<B>::boxed();
    // Both compute the same steps: the same losses, step after step.
    for _ in 0..3 {
        let a = net.train_step(&*x, &y, &SoftmaxCrossEntropy, &mut *adam, &mut tw, &mut rng).unwrap();
        let b = hand.train_step(&x, &y);
        assert!((a - b).abs() < 1e-4 * a.abs().max(1.0), "{a} vs {b}");
    }
    let _: &SVector<f32, K> = &net.out.bias;
    let mut group =
        c.benchmark_group("W7 GRU 28 steps x 28 features, 64 units, batch 32, Adam training step");
    group.bench_function("sinew", |b| {
        b.iter(|| {
            net.train_step(black_box(&*x), &y, &SoftmaxCrossEntropy, &mut *adam, &mut tw, &mut rng).unwrap()
        })
    });
    group.bench_function("hand-written nalgebra", |b| b.iter(|| hand.train_step(black_box(&x), &y)));
    group.finish();
}

criterion_group!(benches, w7);
criterion_main!(benches);
