//! W6: one training step of a residual block with batch norm (ResNet's basic block: 16
//! channels, 14 x 14, batch 32, L2 loss, SGD with momentum), against a hand-written
//! nalgebra version measured in the same run. The hand-written block is what one writes
//! with nalgebra: an im2col index table, static matrix products per sample, batch norm and
//! its backward pass written out, the momentum update in place.
//!
//! ```sh
//! cargo bench --bench resnet
//! ```

use criterion::{Criterion, criterion_group, criterion_main};
use nalgebra::{SMatrix, SVector};
use sinew::prelude::*;
use std::hint::black_box;

network! {
    /// The basic block: y = relu(bn2(conv2(relu(bn1(conv1(x))))) + x).
    pub struct Residual {
        input: [16, 14, 14],
        c1: Conv2d(16, kernel = 3, padding = same, bias = false),
        n1: BatchNorm -> Relu,
        c2: Conv2d(16, kernel = 3, padding = same, bias = false),
        n2: BatchNorm,
        sum: Add(n2, input) -> Relu,
    }
}

const C: usize = 16;
/// Positions per channel.
const S: usize = 14 * 14;
/// Values under one 3 x 3 window: `C · 9`.
const K: usize = C * 9;
const B: usize = 32;
const EPS: f32 = 1e-5;
const LR: f32 = 0.01;
const MU: f32 = 0.9;

/// One sample's feature maps: column `o` is channel `o`'s 196 positions (NCHW bytes).
type Maps = SMatrix<f32, S, C>;
/// One sample's unfolding: row `p` is the window at position `p`.
type Cols = SMatrix<f32, S, K>;

/// A 3 x 3 "same" convolution without bias, its batch norm, and their training state.
struct ConvBn {
    /// Weights as `(K, C)`: PyTorch's `(co, ci, 3, 3)` bytes.
    w: SMatrix<f32, K, C>,
    gamma: SVector<f32, C>,
    beta: SVector<f32, C>,
    mean: SVector<f32, C>,
    var: SVector<f32, C>,
    vw: SMatrix<f32, K, C>,
    vgamma: SVector<f32, C>,
    vbeta: SVector<f32, C>,
    /// Per sample: the unfolded input, the normalised values.
    cols: Box<[Cols; B]>,
    xhat: Box<[Maps; B]>,
    inv_std: SVector<f32, C>,
    /// Scratch for the input gradient of one sample.
    dcols: Box<Cols>,
}

/// Heap arrays built in place (they are megabytes).
fn boxed<T: Copy, const N: usize>(value: T) -> Box<[T; N]> {
    vec![value; N].into_boxed_slice().try_into().unwrap_or_else(|_| unreachable!())
}

impl ConvBn {
    fn new(w: &[f32]) -> Self {
        ConvBn {
            w: SMatrix::from_column_slice(w),
            gamma: SVector::repeat(1.0),
            beta: SVector::zeros(),
            mean: SVector::zeros(),
            var: SVector::repeat(1.0),
            vw: SMatrix::zeros(),
            vgamma: SVector::zeros(),
            vbeta: SVector::zeros(),
            cols: boxed(Cols::zeros()),
            xhat: boxed(Maps::zeros()),
            inv_std: SVector::zeros(),
            dcols: Box::new(Cols::zeros()),
        }
    }

    /// `out = bn(conv(x))` over the batch, in training mode.
    fn forward(&mut self, table: &[u32], x: &[Maps; B], out: &mut [Maps; B]) {
        for j in 0..B {
            let src = x[j].as_slice();
            for (c, &i) in self.cols[j].as_mut_slice().iter_mut().zip(table) {
                *c = if i == u32::MAX { 0.0 } else { src[i as usize] };
            }
            out[j].gemm(1.0, &self.cols[j], &self.w, 0.0);
        }
        let n = (B * S) as f32;
        for o in 0..C {
            let (mut sum, mut sq) = (0.0f32, 0.0f32);
            for z in out.iter() {
                for &v in z.column(o).iter() {
                    sum += v;
                    sq += v * v;
                }
            }
            let mean = sum / n;
            let var = (sq / n - mean * mean).max(0.0);
            let inv = 1.0 / (var + EPS).sqrt();
            self.inv_std[o] = inv;
            self.mean[o] = 0.9 * self.mean[o] + 0.1 * mean;
            self.var[o] = 0.9 * self.var[o] + 0.1 * var * n / (n - 1.0);
            let (g, b) = (self.gamma[o], self.beta[o]);
            for (z, h) in out.iter_mut().zip(self.xhat.iter_mut()) {
                for (v, hv) in z.column_mut(o).iter_mut().zip(h.column_mut(o).iter_mut()) {
                    *hv = (*v - mean) * inv;
                    *v = g * *hv + b;
                }
            }
        }
    }

    /// From `dy` (in place: it becomes `dL/dz`), the parameter gradients, the momentum
    /// update, and `dL/dx` into `dx` if asked.
    fn backward(&mut self, table: &[u32], dy: &mut [Maps; B], dx: Option<&mut [Maps; B]>) {
        let n = (B * S) as f32;
        let mut dgamma = SVector::<f32, C>::zeros();
        let mut dbeta = SVector::<f32, C>::zeros();
        for o in 0..C {
            let (mut sum_dy, mut sum_dy_xhat) = (0.0f32, 0.0f32);
            for (d, h) in dy.iter().zip(self.xhat.iter()) {
                for (&dv, &hv) in d.column(o).iter().zip(h.column(o).iter()) {
                    sum_dy += dv;
                    sum_dy_xhat += dv * hv;
                }
            }
            dgamma[o] = sum_dy_xhat;
            dbeta[o] = sum_dy;
            let k = self.gamma[o] * self.inv_std[o] / n;
            for (d, h) in dy.iter_mut().zip(self.xhat.iter()) {
                for (dv, &hv) in d.column_mut(o).iter_mut().zip(h.column(o).iter()) {
                    *dv = k * (n * *dv - sum_dy - hv * sum_dy_xhat);
                }
            }
        }
        let mut dw = SMatrix::<f32, K, C>::zeros();
        for (cols, d) in self.cols.iter().zip(dy.iter()) {
            dw.gemm_tr(1.0, cols, d, 1.0);
        }
        if let Some(dx) = dx {
            let wt = self.w.transpose();
            for (d, x) in dy.iter().zip(dx.iter_mut()) {
                self.dcols.gemm(1.0, d, &wt, 0.0);
                let out = x.as_mut_slice();
                out.fill(0.0);
                for (&d, &i) in self.dcols.as_slice().iter().zip(table) {
                    if i != u32::MAX {
                        out[i as usize] += d;
                    }
                }
            }
        }
        self.vw = self.vw * MU + dw;
        self.w -= self.vw * LR;
        self.vgamma = self.vgamma * MU + dgamma;
        self.gamma -= self.vgamma * LR;
        self.vbeta = self.vbeta * MU + dbeta;
        self.beta -= self.vbeta * LR;
    }
}

/// The hand-written block.
struct Hand {
    /// For each unfolded value (row-major `(S, K)` as stored by `Cols`, i.e. column `k`
    /// after column), the input index it copies, or `u32::MAX` in the padding.
    table: Vec<u32>,
    c1: ConvBn,
    c2: ConvBn,
    a1: Box<[Maps; B]>,
    out: Box<[Maps; B]>,
    /// `dL/d out` (then `dL/dz` of the second convolution), and `dL/d a1`.
    d1: Box<[Maps; B]>,
    da1: Box<[Maps; B]>,
}

impl Hand {
    fn from(net: &Residual<f32>) -> Self {
        let mut table = vec![u32::MAX; S * K];
        for c in 0..C {
            for ky in 0..3 {
                for kx in 0..3 {
                    let k = (c * 3 + ky) * 3 + kx;
                    for oy in 0..14 {
                        for ox in 0..14 {
                            let (y, x) = (oy + ky, ox + kx);
                            if (1..15).contains(&y) && (1..15).contains(&x) {
                                table[k * S + oy * 14 + ox] = (c * S + (y - 1) * 14 + (x - 1)) as u32;
                            }
                        }
                    }
                }
            }
        }
        Hand {
            table,
            c1: ConvBn::new(net.c1.weight.as_slice()),
            c2: ConvBn::new(net.c2.weight.as_slice()),
            a1: boxed(Maps::zeros()),
            out: boxed(Maps::zeros()),
            d1: boxed(Maps::zeros()),
            da1: boxed(Maps::zeros()),
        }
    }

    fn train_step(&mut self, x: &[Maps; B], y: &[Maps; B]) -> f32 {
        self.c1.forward(&self.table, x, &mut self.a1);
        self.a1.iter_mut().for_each(|a| a.apply(|v| *v = v.max(0.0)));
        self.c2.forward(&self.table, &self.a1, &mut self.out);
        let mut loss = 0.0;
        for j in 0..B {
            self.out[j] += x[j];
            self.out[j].apply(|v| *v = v.max(0.0));
            // L2: (1/m) Σ ½ (out − y)², gradient (out − y) / m through the ReLU.
            for ((o, &t), d) in self.out[j].iter_mut().zip(y[j].iter()).zip(self.d1[j].iter_mut()) {
                let e = *o - t;
                loss += 0.5 * e * e;
                *d = if *o > 0.0 { e / B as f32 } else { 0.0 };
            }
        }
        // The output gradient reaches bn2 unchanged (the sum passes it on); the input
        // needs none.
        self.c2.backward(&self.table, &mut self.d1, Some(&mut self.da1));
        for (d, a) in self.da1.iter_mut().zip(self.a1.iter()) {
            d.zip_apply(a, |dv, av| {
                if av <= 0.0 {
                    *dv = 0.0
                }
            });
        }
        self.c1.backward(&self.table, &mut self.da1, None);
        loss / B as f32
    }
}

fn w6(c: &mut Criterion) {
    let mut rng = sinew::rng(6);
    let mut net = Residual::<f32>::boxed_init(&mut rng);
    let mut x = Box::new(SMatrix::<f32, 3136, B>::zeros());
    let mut y = Box::new(SMatrix::<f32, 3136, B>::zeros());
    sinew::init::Init::Xavier.fill(x.as_mut_slice(), 1, 1, &mut rng);
    sinew::init::Init::Xavier.fill(y.as_mut_slice(), 1, 1, &mut rng);
    let maps = |m: &SMatrix<f32, 3136, B>| -> Box<[Maps; B]> {
        let mut out = boxed(Maps::zeros());
        for (o, column) in out.iter_mut().zip(m.as_slice().chunks_exact(3136)) {
            o.copy_from_slice(column);
        }
        out
    };
    let (hx, hy) = (maps(&x), maps(&y));
    let mut hand = Hand::from(&net);
    let config = MomentumConfig { lr: LR, momentum: MU, ..MomentumConfig::default() };
    let mut momentum = Momentum::<f32, Residual>::boxed(config);
    let mut tw = ResidualTrainWorkspace::<B>::boxed();
    // Both compute the same steps: the same losses, step after step.
    for _ in 0..3 {
        let a = net.train_step(&*x, &*y, &L2, &mut *momentum, &mut tw, &mut rng).unwrap();
        let b = hand.train_step(&hx, &hy);
        assert!((a - b).abs() < 1e-4 * a.abs().max(1.0), "{a} vs {b}");
    }
    let mut group =
        c.benchmark_group("W6 residual block with BN, 16 x 14 x 14, batch 32, SGD-momentum training step");
    group.bench_function("sinew", |b| {
        b.iter(|| net.train_step(black_box(&*x), &*y, &L2, &mut *momentum, &mut tw, &mut rng).unwrap())
    });
    group.bench_function("hand-written nalgebra", |b| b.iter(|| hand.train_step(black_box(&hx), &hy)));
    group.finish();
}

criterion_group!(benches, w6);
criterion_main!(benches);
