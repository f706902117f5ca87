//! Shared weights and the metric-learning losses: one network applied to anchors,
//! positives and negatives with its gradients summed over the uses
//! (`sinew::model::train_step_shared`), against PyTorch (`tests/fixtures/triplet.*`:
//! outputs, per-triplet terms, loss, summed parameter gradients, input gradients and three
//! Adam steps, to 1e-10 in f64 and 1e-5 in f32); and central-difference checks of the
//! triplet loss (with a triplet at the hinge), the contrastive loss and a network used
//! three times.

mod common;

use common::{Tensor, as_f64, fixture, rel_inf};
use sinew::loss::{ContrastiveLoss, TripletLoss};
use sinew::model::{add_gradients, train_step_shared};
use sinew::prelude::*;
use std::collections::HashMap;

network! {
    /// PyTorch's `f = nn.Sequential(Linear(6, 5), ReLU(), Linear(5, 3))`.
    pub struct Embed {
        input: 6,
        f0: Dense(5) -> Relu,
        f2: Dense(3),
    }
}

/// The fixture's names: `f.0.weight` for `f0.weight` (PyTorch numbers the ReLU too).
fn torch_name(name: &str) -> String {
    name.replacen('f', "f.", 1)
}

fn cast<T: Float>(values: &[f64]) -> Vec<T> {
    values.iter().map(|&v| T::cast(v)).collect()
}

fn load<T: Float>(net: &mut Embed<T>, f: &HashMap<String, Tensor>, prefix: &str) {
    for (i, info) in Embed::<T>::TENSORS.iter().enumerate() {
        let t = &f[&format!("{prefix}{}", torch_name(info.name))];
        info.from_row_major(&cast::<T>(&t.data), net.tensor_mut(i));
    }
}

/// `net`'s tensors against the fixture's `<prefix><name>`. Gradients that are exactly zero
/// in exact arithmetic (`f.2.bias`, which cancels in both distances; a hidden unit no
/// triplet reaches) are PyTorch's rounding noise in the fixture, and Adam turns noise into
/// steps of about `lr g / (|g| + ε)`: after Adam, those entries are compared to 1e-8
/// absolute in f64 and not at all in f32, as the fixture's README says.
fn compare<T: Float>(net: &Embed<T>, f: &HashMap<String, Tensor>, prefix: &str, tol: f64) {
    let f64_run = tol < 1e-6;
    for (i, info) in Embed::<T>::TENSORS.iter().enumerate() {
        let name = format!("{prefix}{}", torch_name(info.name));
        let mut row_major = vec![T::zero(); info.len()];
        info.to_row_major(net.tensor(i), &mut row_major);
        let (got, want) = (as_f64(&row_major), &f[&name].data);
        let grad = &f[&format!("grad.{}", torch_name(info.name))].data;
        let scale = grad.iter().fold(0.0f64, |m, g| m.max(g.abs()));
        let noise = |e: usize| grad[e].abs() <= 1e-12 * scale.max(1e-300) || scale < 1e-12;
        let (mut kept_got, mut kept_want) = (Vec::new(), Vec::new());
        for e in 0..got.len() {
            if prefix == "adam3." && noise(e) {
                if f64_run {
                    assert!((got[e] - want[e]).abs() < 1e-8, "{name}[{e}]: {} vs {}", got[e], want[e]);
                }
            } else if prefix == "grad." && scale < 1e-12 {
                assert!(got[e].abs() < 1e-6, "{name}[{e}] should be 0: {}", got[e]);
            } else {
                kept_got.push(got[e]);
                kept_want.push(want[e]);
            }
        }
        if !kept_got.is_empty() {
            let err = rel_inf(&kept_got, &kept_want);
            assert!(err < tol, "{name}: {err:e}");
        }
    }
}

fn triplet<T: Float>(file: &str, tol: f64) {
    let f = fixture(file);
    let mut net = Embed::<T>::zeroed();
    load(&mut net, &f, "");
    let x = |name: &str| SMatrix::<T, 6, 4>::from_column_slice(&cast(&f[name].data));
    let (xa, xp, xn) = (x("xa"), x("xp"), x("xn"));
    let loss = TripletLoss { margin: 0.2 };
    let mut tws: [EmbedTrainWorkspace<4, T>; 3] = std::array::from_fn(|_| EmbedTrainWorkspace::zeroed());
    let mut rng = sinew::rng(0);
    for (x, tw) in [&xa, &xp, &xn].into_iter().zip(tws.iter_mut()) {
        net.forward_train(x, tw, &mut rng);
    }
    for (tw, name) in tws.iter_mut().zip(["out.a", "out.p", "out.n"]) {
        let (out, _) = <Embed<T> as Model<T, 6, 3>>::output_and_grad(tw);
        assert!(rel_inf(&as_f64(out.as_slice()), &f[name].data) < tol, "{name}");
    }
    let [(a, ga), (p, gp), (n, gn)] =
        tws.each_mut().map(|tw| <Embed<T> as Model<T, 6, 3>>::output_and_grad(tw));
    let value = loss.gradient(a, p, n, 4, ga, gp, gn).as_f64();
    assert!((value - f["loss"].data[0]).abs() < tol * f["loss"].data[0], "loss {value}");
    let mut dxs = [SMatrix::<T, 6, 4>::zeros(); 3];
    for ((x, tw), dx) in [&xa, &xp, &xn].into_iter().zip(tws.iter_mut()).zip(dxs.iter_mut()) {
        net.backward(x, tw, Some(dx));
    }
    for (dx, name) in dxs.iter().zip(["grad.xa", "grad.xp", "grad.xn"]) {
        assert!(rel_inf(&as_f64(dx.as_slice()), &f[name].data) < tol, "{name}");
    }
    let (first, rest) = tws.split_at_mut(1);
    for tw in rest.iter() {
        add_gradients(&mut first[0].grads, &tw.grads);
    }
    compare(&first[0].grads, &f, "grad.", tol);

    // Three Adam steps through `train_step_shared`.
    let mut adam = Adam::<T, Embed<T>>::new(AdamConfig::with_lr(T::cast(0.01)));
    for _ in 0..3 {
        train_step_shared(
            &mut net,
            [&xa, &xp, &xn],
            &mut tws,
            |[(a, ga), (p, gp), (n, gn)]| loss.gradient(a, p, n, 4, ga, gp, gn),
            &mut adam,
            &mut rng,
        )
        .unwrap();
    }
    compare(&net, &f, "adam3.", tol);
}

#[test]
fn shared_network_with_triplet_loss_matches_pytorch_f64() {
    triplet::<f64>("triplet.f64.safetensors", 1e-10);
}

#[test]
fn shared_network_with_triplet_loss_matches_pytorch_f32() {
    triplet::<f32>("triplet.f32.safetensors", 1e-5);
}

/// Central differences of `loss(θ)` against `analytic`, tensor by tensor.
fn check_parameters(net: &mut Embed<f64>, analytic: &Embed<f64>, loss: impl Fn(&mut Embed<f64>) -> f64) {
    for i in 0..Embed::<f64>::TENSORS.len() {
        for e in 0..net.tensor(i).len() {
            let v = net.tensor(i)[e];
            net.tensor_mut(i)[e] = v + 1e-6;
            let up = loss(net);
            net.tensor_mut(i)[e] = v - 1e-6;
            let down = loss(net);
            net.tensor_mut(i)[e] = v;
            let numeric = (up - down) / 2e-6;
            let want = analytic.tensor(i)[e];
            let err = (numeric - want).abs() / numeric.abs().max(want.abs()).max(1e-3);
            assert!(err < 1e-6, "tensor {i} entry {e}: {want} vs {numeric}");
        }
    }
}

#[test]
fn a_network_used_three_times_with_the_triplet_loss_passes_a_gradient_check() {
    let mut net = Embed::<f64>::init(&mut sinew::rng(5));
    let x = |seed: usize| SMatrix::<f64, 6, 3>::from_fn(|i, j| ((i * 7 + j * 5 + seed) as f64 * 0.53).sin());
    let (xa, xp, xn) = (x(0), x(1), x(2));
    // The first triplet far inside the margin (inactive), the others active.
    let xn = {
        let mut xn = xn;
        xn.set_column(0, &(xa.column(0) * 40.0));
        xn
    };
    let loss = TripletLoss { margin: 5.0 };
    let value = |net: &mut Embed<f64>| {
        let mut ws = EmbedWorkspace::<3, f64>::zeroed();
        let a = *net.forward(&xa, &mut ws);
        let p = *net.forward(&xp, &mut ws);
        let n = *net.forward(&xn, &mut ws);
        let (mut ga, mut gp, mut gn) = (SMatrix::zeros(), SMatrix::zeros(), SMatrix::zeros());
        loss.gradient(&a, &p, &n, 3, &mut ga, &mut gp, &mut gn)
    };
    let mut tws: [EmbedTrainWorkspace<3, f64>; 3] = std::array::from_fn(|_| EmbedTrainWorkspace::zeroed());
    let mut sgd = Sgd::new(0.0); // a step that changes nothing: the gradients stay in `tws`
    let mut active = [false; 3];
    train_step_shared(
        &mut net,
        [&xa, &xp, &xn],
        &mut tws,
        |[(a, ga), (p, gp), (n, gn)]| {
            let v = loss.gradient(a, p, n, 3, ga, gp, gn);
            for (j, act) in active.iter_mut().enumerate() {
                *act = ga.column(j).norm() > 0.0;
            }
            v
        },
        &mut sgd,
        &mut sinew::rng(0),
    )
    .unwrap();
    assert_eq!(active, [false, true, true], "one triplet at the hinge, two active");
    let analytic = tws[0].grads.clone();
    check_parameters(&mut net, &analytic, value);
}

#[test]
fn the_losses_pass_central_difference_checks_on_their_inputs() {
    let a = SMatrix::<f64, 3, 4>::from_fn(|i, j| ((i + 3 * j) as f64 * 0.7).sin());
    let p = SMatrix::<f64, 3, 4>::from_fn(|i, j| ((2 * i + j) as f64 * 0.3).cos());
    let mut n = SMatrix::<f64, 3, 4>::from_fn(|i, j| ((i * j + 1) as f64 * 0.9).sin());
    n.set_column(3, &(a.column(3) + SMatrix::<f64, 3, 1>::repeat(5.0))); // an inactive triplet
    let triplet = TripletLoss { margin: 0.3 };
    let contrastive = ContrastiveLoss { margin: 1.5 };
    let same = [true, false, false, true];
    let value = |a: &SMatrix<f64, 3, 4>, p: &SMatrix<f64, 3, 4>, n: &SMatrix<f64, 3, 4>| {
        let (mut g1, mut g2, mut g3) = (SMatrix::zeros(), SMatrix::zeros(), SMatrix::zeros());
        triplet.gradient(a, p, n, 4, &mut g1, &mut g2, &mut g3)
            + contrastive.gradient(a, n, &same, 4, &mut g1, &mut g3)
    };
    let (mut ga, mut gp, mut gn) = (SMatrix::zeros(), SMatrix::zeros(), SMatrix::zeros());
    triplet.gradient(&a, &p, &n, 4, &mut ga, &mut gp, &mut gn);
    let (mut ca, mut cn) = (SMatrix::zeros(), SMatrix::zeros());
    contrastive.gradient(&a, &n, &same, 4, &mut ca, &mut cn);
    let analytic = [ga + ca, gp, gn + cn];
    let mut inputs = [a, p, n];
    for which in 0..3 {
        for e in 0..12 {
            let v = inputs[which][e];
            inputs[which][e] = v + 1e-6;
            let up = value(&inputs[0], &inputs[1], &inputs[2]);
            inputs[which][e] = v - 1e-6;
            let down = value(&inputs[0], &inputs[1], &inputs[2]);
            inputs[which][e] = v;
            let numeric = (up - down) / 2e-6;
            let want = analytic[which][e];
            assert!(
                (numeric - want).abs() < 1e-6 * numeric.abs().max(1.0),
                "input {which} entry {e}: {want} vs {numeric}"
            );
        }
    }
    // The inactive triplet has no gradient at all.
    assert!(gn.column(3).iter().chain(ga.column(3).iter()).all(|&g| g == 0.0));
}
