//! Training behaviour against closed forms and invariants: the least-squares gradient,
//! convergence to the normal-equations solution, seeded determinism, padding in partial
//! batches, NaN handling, optimizers against their textbook updates.

use sinew::optim::WeightDecay;
use sinew::prelude::*;

network! {
    /// Linear regression: one dense layer, no activation.
    pub struct Linear {
        input: 3,
        out: Dense(2),
    }
}

network! {
    /// XOR.
    pub struct Xor {
        input: 2,
        hidden: Dense(8) -> Tanh,
        out: Dense(1),
    }
}

network! {
    /// A network with dropout, for determinism.
    pub struct Dropped {
        input: 6,
        a: Dense(16) -> Relu,
        drop: Dropout(keep = 0.5),
        out: Dense(3),
    }
}

fn sample_batch<const N: usize, const B: usize>(seed: u64) -> SMatrix<f64, N, B> {
    let mut x = SMatrix::<f64, N, B>::zeros();
    sinew::init::Init::Xavier.fill(x.as_mut_slice(), 1, 1, &mut sinew::rng(seed));
    x
}

/// For `ŷ = W x + b` and `J = (1/m) Σ ½‖ŷ − y‖²`: `dJ/dW = (1/m) R Xᵀ`, `dJ/db = (1/m) R 1`,
/// `dJ/dX = (1/m) Wᵀ R`, with `R = W X + b 1ᵀ − Y`.
#[test]
fn linear_l2_gradient_is_the_least_squares_gradient() {
    let mut net = Linear::<f64>::init(&mut sinew::rng(3));
    let x = sample_batch::<3, 7>(1);
    let y = sample_batch::<2, 7>(2);
    let mut tw = LinearTrainWorkspace::<7, f64>::zeroed();
    net.forward_train(&x, &mut tw, &mut sinew::rng(0));
    let value = L2.gradient(&tw.out.value, &y, &mut tw.out.grad);
    let mut dx = SMatrix::<f64, 3, 7>::zeros();
    net.backward(&x, &mut tw, Some(&mut dx));

    let w = net.out.weight;
    let b = net.out.bias;
    let residual = w * x + b * SMatrix::<f64, 1, 7>::repeat(1.0) - y;
    let m = 7.0;
    let want_value = 0.5 * residual.norm_squared() / m;
    let want_dw = residual * x.transpose() / m;
    let want_db = residual.column_sum() / m;
    let want_dx = w.transpose() * residual / m;
    assert!((value - want_value).abs() < 1e-14);
    assert!((tw.grads.out.weight - want_dw).abs().max() < 1e-14);
    assert!((tw.grads.out.bias - want_db).abs().max() < 1e-14);
    assert!((dx - want_dx).abs().max() < 1e-14);
}

/// Full-batch gradient descent on a linear model converges to the normal-equations
/// solution `[W b] = Y Aᵀ (A Aᵀ)⁻¹` with `A = [X; 1ᵀ]`.
#[test]
fn gradient_descent_reaches_the_normal_equations_solution() {
    let x = sample_batch::<3, 16>(4) * 3.0;
    let truth_w = SMatrix::<f64, 2, 3>::new(1.0, -2.0, 0.5, 0.3, 0.7, -1.1);
    let noise = sample_batch::<2, 16>(5) * 0.1;
    let y = truth_w * x + noise;

    let mut a = SMatrix::<f64, 4, 16>::repeat(1.0);
    a.fixed_rows_mut::<3>(0).copy_from(&x);
    let solution = y * a.transpose() * (a * a.transpose()).try_inverse().unwrap();

    let mut net = Linear::<f64>::zeroed();
    let mut sgd = Sgd::new(0.1);
    let mut tw = LinearTrainWorkspace::<16, f64>::zeroed();
    let mut rng = sinew::rng(0);
    for _ in 0..3000 {
        net.train_step(&x, &y, &L2, &mut sgd, &mut tw, &mut rng).unwrap();
    }
    assert!((net.out.weight - solution.fixed_columns::<3>(0)).abs().max() < 1e-9);
    assert!((net.out.bias - solution.column(3)).abs().max() < 1e-9);
}

#[test]
fn same_seed_same_weights_bit_for_bit() {
    let a = Dropped::<f32>::init(&mut sinew::rng(42));
    let b = Dropped::<f32>::init(&mut sinew::rng(42));
    let c = Dropped::<f32>::init(&mut sinew::rng(43));
    assert_eq!(a, b);
    assert_ne!(a, c);
    let heap = Dropped::<f32>::boxed_init(&mut sinew::rng(42));
    assert_eq!(*heap, a);

    // ... and the same training run (dropout masks included) gives the same bits.
    let train = |seed: u64| {
        let mut rng = sinew::rng(seed);
        let mut net = Dropped::<f32>::init(&mut rng);
        let mut adam = Adam::new(AdamConfig::with_lr(0.01));
        let mut tw = DroppedTrainWorkspace::<4, f32>::zeroed();
        let x = sample_batch::<6, 4>(1).cast::<f32>();
        for _ in 0..20 {
            net.train_step(&x, &[0, 1, 2, 0], &SoftmaxCrossEntropy, &mut adam, &mut tw, &mut rng).unwrap();
        }
        net
    };
    let (p, q) = (train(7), train(7));
    let bits = |n: &Dropped<f32>| {
        let mut v = Vec::new();
        n.for_each_tensor(|_, t| v.extend(t.iter().map(|x| x.to_bits())));
        v
    };
    assert_eq!(bits(&p), bits(&q));
    assert_ne!(bits(&p), bits(&train(8)));
}

#[test]
fn f32_and_f64_initialise_to_the_same_values() {
    let a = Xor::<f32>::init(&mut sinew::rng(5));
    let b = Xor::<f64>::init(&mut sinew::rng(5));
    for i in 0..4 {
        for (x, y) in a.tensor(i).iter().zip(b.tensor(i)) {
            assert_eq!(*x, *y as f32);
        }
    }
}

#[test]
fn xor_loss_decreases_and_is_learned() {
    let x = SMatrix::<f32, 2, 4>::from_column_slice(&[0., 0., 0., 1., 1., 0., 1., 1.]);
    let y = SMatrix::<f32, 1, 4>::from_column_slice(&[0., 1., 1., 0.]);
    let mut rng = sinew::rng(1);
    let mut net = Xor::<f32>::init(&mut rng);
    let mut adam = Adam::new(AdamConfig::with_lr(0.05));
    let mut tw = XorTrainWorkspace::<4>::zeroed();
    let mut losses = Vec::new();
    for _ in 0..400 {
        losses
            .push(net.train_step(&x, &y, &SigmoidBinaryCrossEntropy, &mut adam, &mut tw, &mut rng).unwrap());
    }
    // Mean loss over successive windows of 50 steps decreases monotonically.
    let windows: Vec<f32> = losses.chunks(50).map(|c| c.iter().sum::<f32>() / 50.0).collect();
    for w in windows.windows(2) {
        assert!(w[1] < w[0], "{windows:?}");
    }
    assert!(*losses.last().unwrap() < 0.05);
    let mut ws = XorWorkspace::<4>::zeroed();
    let out = net.forward(&x, &mut ws);
    assert_eq!(out.map(|z| u8::from(z > 0.0)).as_slice(), &[0, 1, 1, 0]);
}

/// Padding columns of a partial batch change neither the loss nor the gradients: a batch
/// of 5 columns holding 3 samples gives exactly the results of a batch of 3.
#[test]
fn partial_batch_padding_is_ignored() {
    let mut net = Dropped::<f64>::init(&mut sinew::rng(9));
    let small = sample_batch::<6, 3>(1);
    let mut padded = sample_batch::<6, 5>(2) * 1e3; // garbage padding
    padded.fixed_columns_mut::<3>(0).copy_from(&small);

    let mut tw3 = DroppedTrainWorkspace::<3, f64>::zeroed();
    let mut tw5 = DroppedTrainWorkspace::<5, f64>::zeroed();
    // Masks are drawn column by column, so the same seed gives the real columns of both
    // batches the same masks.
    let y3 = [2, 0, 1];
    let y5 = [2, 0, 1, 1, 1];
    let mut rng3 = sinew::rng(4);
    let mut rng5 = sinew::rng(4);
    net.forward_train(&small, &mut tw3, &mut rng3);
    net.forward_train(&padded, &mut tw5, &mut rng5);
    for j in 0..3 {
        assert_eq!(tw3.drop.mask.column(j), tw5.drop.mask.column(j));
    }
    let l3 = SoftmaxCrossEntropy.gradient(&tw3.out.value, &y3, &mut tw3.out.grad);
    let l5 = SoftmaxCrossEntropy.gradient_partial(&tw5.out.value, &y5, 3, &mut tw5.out.grad);
    assert!((l3 - l5).abs() < 1e-15);
    net.backward(&small, &mut tw3, None);
    net.backward(&padded, &mut tw5, None);
    for i in 0..4 {
        let (a, b) = (tw3.grads.tensor(i), tw5.grads.tensor(i));
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-13, "tensor {i}: {x} vs {y}");
        }
    }
}

#[test]
fn a_nan_loss_is_an_error_and_changes_nothing() {
    let mut net = Xor::<f32>::init(&mut sinew::rng(1));
    let before = net.clone();
    let mut x = SMatrix::<f32, 2, 4>::zeros();
    x[(0, 2)] = f32::NAN;
    let y = SMatrix::<f32, 1, 4>::zeros();
    let mut adam = Adam::new(AdamConfig::default());
    let mut tw = XorTrainWorkspace::<4>::zeroed();
    let err = net.train_step(&x, &y, &L2, &mut adam, &mut tw, &mut sinew::rng(0)).unwrap_err();
    assert!(err.value.is_nan());
    assert!(err.to_string().contains("not finite"));
    assert_eq!(net, before);
    assert_eq!(adam.steps(), 0);
}

/// SGD, momentum, RMSprop and Adam against their update rules written out by hand for
/// one scalar weight with gradients 1, 2, 3.
#[test]
fn optimizers_follow_their_textbook_updates() {
    let grads = [1.0, 2.0, 3.0];
    let run = |opt: &mut dyn Optimizer<f64, sinew::layers::Dense<f64, 1, 1>>| {
        let mut p = sinew::layers::Dense::<f64, 1, 1>::zeroed();
        p.weight[0] = 1.0;
        let mut g = sinew::layers::Dense::<f64, 1, 1>::zeroed();
        let mut out = Vec::new();
        for &gi in &grads {
            g.weight[0] = gi;
            opt.step(&mut p, &g);
            out.push(p.weight[0]);
        }
        out
    };
    // SGD with weight decay 0.1: w -= lr (g + 0.1 w).
    let mut sgd = Sgd::new(0.5);
    sgd.weight_decay = WeightDecay { lambda: 0.1, decay_biases: false };
    let mut w = 1.0;
    let want: Vec<f64> = grads
        .iter()
        .map(|g| {
            w -= 0.5 * (g + 0.1 * w);
            w
        })
        .collect();
    assert_eq!(run(&mut sgd), want);

    // Momentum (PyTorch): v1 = g1; v = 0.9 v + g.
    let mut momentum = Momentum::new(MomentumConfig { lr: 0.1, ..Default::default() });
    let (mut w, mut v) = (1.0, 0.0);
    let want: Vec<f64> = grads
        .iter()
        .enumerate()
        .map(|(t, g)| {
            v = if t == 0 { *g } else { 0.9 * v + g };
            w -= 0.1 * v;
            w
        })
        .collect();
    assert_eq!(run(&mut momentum), want);

    // RMSprop: s = 0.99 s + 0.01 g²; w -= lr g / (√s + ε).
    let mut rms = RmsProp::new(RmsPropConfig::default());
    let (mut w, mut s) = (1.0_f64, 0.0_f64);
    let want: Vec<f64> = grads
        .iter()
        .map(|g| {
            s = 0.99 * s + 0.01 * g * g;
            w -= 0.01 * g / (s.sqrt() + 1e-8);
            w
        })
        .collect();
    let got = run(&mut rms);
    for (a, b) in got.iter().zip(&want) {
        assert!((a - b).abs() < 1e-15);
    }

    // Adam with bias correction: second moment corrected by beta2.
    let mut adam = Adam::new(AdamConfig::with_lr(0.1));
    let (mut w, mut m1, mut m2) = (1.0_f64, 0.0_f64, 0.0_f64);
    let want: Vec<f64> = grads
        .iter()
        .enumerate()
        .map(|(t, g)| {
            let t = t as i32 + 1;
            m1 = 0.9 * m1 + 0.1 * g;
            m2 = 0.999 * m2 + 0.001 * g * g;
            let (mh, sh) = (m1 / (1.0 - 0.9_f64.powi(t)), m2 / (1.0 - 0.999_f64.powi(t)));
            w -= 0.1 * mh / (sh.sqrt() + 1e-8);
            w
        })
        .collect();
    let got = run(&mut adam);
    for (a, b) in got.iter().zip(&want) {
        assert!((a - b).abs() < 1e-14, "{got:?} vs {want:?}");
    }
}

/// Weight decay leaves biases alone unless asked.
#[test]
fn weight_decay_skips_biases_by_default() {
    let mut p = sinew::layers::Dense::<f64, 1, 1>::zeroed();
    p.weight[0] = 1.0;
    p.bias[0] = 1.0;
    let g = sinew::layers::Dense::<f64, 1, 1>::zeroed();
    let mut sgd = Sgd::new(0.5);
    sgd.weight_decay.lambda = 0.2;
    sgd.step(&mut p, &g);
    assert_eq!((p.weight[0], p.bias[0]), (0.9, 1.0));
    sgd.weight_decay.decay_biases = true;
    sgd.step(&mut p, &g);
    assert_eq!((p.weight[0], p.bias[0]), (0.9 * 0.9, 0.9));
}

/// Dropout is the identity at inference and keeps the expected activation in training.
#[test]
fn dropout_is_off_at_inference() {
    let net = Dropped::<f64>::init(&mut sinew::rng(2));
    let x = sample_batch::<6, 4>(3);
    let mut ws = DroppedWorkspace::<4, f64>::zeroed();
    let a = *net.forward(&x, &mut ws);
    let b = *net.forward(&x, &mut ws);
    assert_eq!(a, b);
    // The same computation by hand, without dropout.
    let h = (net.a.weight * x + net.a.bias * SMatrix::<f64, 1, 4>::repeat(1.0)).map(|v| v.max(0.0));
    let out = net.out.weight * h + net.out.bias * SMatrix::<f64, 1, 4>::repeat(1.0);
    assert!((a - out).abs().max() < 1e-14);
}

network! {
    /// The iris classifier of `examples/02-iris.rs`.
    pub struct Iris {
        input: 4,
        hidden: Dense(16) -> Relu,
        out: Dense(3),
    }
}

/// On the real iris data (`data/iris.csv`), full-batch training lowers the loss epoch
/// after epoch and fits the training set.
#[test]
fn iris_loss_decreases() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/iris.csv");
    let mut x = SMatrix::<f32, 4, 150>::zeros();
    let mut y = [0usize; 150];
    let mut reader = csv::Reader::from_path(path).unwrap();
    for (j, record) in reader.records().enumerate() {
        let record = record.unwrap();
        for i in 0..4 {
            x[(i, j)] = record[i].parse().unwrap();
        }
        y[j] = record[4].parse().unwrap();
    }
    // Standardise each feature.
    for mut row in x.row_iter_mut() {
        let mean = row.mean();
        let std = (row.map(|v| (v - mean) * (v - mean)).mean()).sqrt();
        row.apply(|v| *v = (*v - mean) / std);
    }
    let mut rng = sinew::rng(11);
    let mut net = Iris::<f32>::boxed_init(&mut rng);
    let mut adam = Adam::new(AdamConfig::with_lr(0.01));
    let mut tw = IrisTrainWorkspace::<150>::boxed();
    let mut losses = Vec::new();
    for _ in 0..300 {
        losses.push(net.train_step(&x, &y, &SoftmaxCrossEntropy, &mut adam, &mut tw, &mut rng).unwrap());
    }
    for w in losses.chunks(30).collect::<Vec<_>>().windows(2) {
        assert!(w[1].iter().sum::<f32>() < w[0].iter().sum::<f32>(), "loss did not decrease: {losses:?}");
    }
    assert!(losses[0] > 0.8 && *losses.last().unwrap() < 0.1, "{} -> {}", losses[0], losses.last().unwrap());
    let mut ws = IrisWorkspace::<150>::boxed();
    let predicted = argmax(net.forward(&x, &mut ws));
    let correct = predicted.iter().zip(&y).filter(|(p, t)| p == t).count();
    assert!(correct >= 145, "training accuracy {correct}/150");
}
