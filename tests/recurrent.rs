//! The recurrent layers and the embedding on their own (`sinew::layers::Recurrent`,
//! `Embedding`), with shape types written out as `network!` writes them:
//! - against PyTorch (`tests/fixtures/gru_seq.*`, `lstm_seq2seq.*`, `embed_rnn.*`): output,
//!   loss, every parameter gradient and the input gradient, to 1e-10 (f64) and 1e-5 (f32)
//!   relative to each tensor's largest entry;
//! - against central differences in f64, for every cell, with every step's state out and
//!   with the last one's only, parameters and inputs alike.

mod common;

use common::{Tensor, as_f64, fixture, rel_inf};
use sinew::layers::{
    Cell, Dense, Element, Embedding, EmbeddingShape, Layer, Recurrent, RecurrentShape, Shape, Store, Training,
};
use sinew::{Float, Parameters, SMatrix, Zeroable};
use std::collections::HashMap;

/// A `RecurrentShape` with its sizes written out: `gh` = G·H, and the per-batch sizes
/// `gates` = G·H·T, `states` = H·T, `extra` = H·T for the GRU and the LSTM (0 for the RNN).
macro_rules! recurrent_shape {
    ($name:ident: $cell:expr, t $t:literal, f $f:literal, h $h:literal, every $every:literal,
     in $in:literal, out $out:literal, gh $gh:literal, gates $gates:literal, states $states:literal,
     extra $extra:literal) => {
        #[derive(Clone, Copy, Debug, Default, PartialEq)]
        struct $name;
        impl Shape for $name {
            const IN: usize = $in;
            const OUT: usize = $out;
            type Input<E: Element, const B: usize> = SMatrix<E, $in, B>;
            type Output<E: Element, const B: usize> = SMatrix<E, $out, B>;
        }
        impl RecurrentShape for $name {
            const CELL: Cell = $cell;
            const STEPS: usize = $t;
            const FEATURES: usize = $f;
            const HIDDEN: usize = $h;
            const EVERY_STEP: bool = $every;
            type WeightIh<E: Element> = SMatrix<E, $f, $gh>;
            type WeightHh<E: Element> = SMatrix<E, $h, $gh>;
            type Bias<E: Element> = SMatrix<E, $gh, 1>;
            type Gates<E: Element, const B: usize> = SMatrix<E, $gates, B>;
            type States<E: Element, const B: usize> = SMatrix<E, $states, B>;
            type Extra<E: Element, const B: usize> = SMatrix<E, $extra, B>;
            type Step<E: Element, const B: usize> = SMatrix<E, $gh, B>;
            type State<E: Element, const B: usize> = SMatrix<E, $h, B>;
        }
    };
}

// The fixtures' layers.
recurrent_shape!(GruSeq: Cell::Gru, t 4, f 3, h 5, every false, in 12, out 5, gh 15, gates 60, states 20, extra 20);
recurrent_shape!(LstmSeq: Cell::Lstm, t 5, f 3, h 4, every true, in 15, out 20, gh 16, gates 80, states 20, extra 20);
recurrent_shape!(RnnSeq: Cell::Rnn, t 4, f 3, h 5, every true, in 12, out 20, gh 5, gates 20, states 20, extra 0);

/// `emb: Embedding(7, 3)` over 4 steps.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Emb;
impl Shape for Emb {
    const IN: usize = 4;
    const OUT: usize = 12;
    type Input<E: Element, const B: usize> = SMatrix<E, 4, B>;
    type Output<E: Element, const B: usize> = SMatrix<E, 12, B>;
}
impl EmbeddingShape for Emb {
    const VOCAB: usize = 7;
    const DIM: usize = 3;
    const STEPS: usize = 4;
    type Weight<E: Element> = SMatrix<E, 3, 7>;
}

fn cast<T: Float>(values: &[f64]) -> Vec<T> {
    values.iter().map(|&v| T::cast(v)).collect()
}

/// Loads every tensor of `layer` from the fixture, under `prefix`.
fn load<T: Float, P: Parameters<T>>(layer: &mut P, f: &HashMap<String, Tensor>, prefix: &str) {
    for (i, info) in P::TENSORS.iter().enumerate() {
        let t = &f[&format!("{prefix}.{}", info.name)];
        assert_eq!(t.shape, info.shape, "{prefix}.{}", info.name);
        info.from_row_major(&cast::<T>(&t.data), layer.tensor_mut(i));
    }
}

/// Asserts every tensor of `grads` against the fixture's `grad.<prefix>.<name>`.
fn check_grads<T: Float, P: Parameters<T>>(grads: &P, f: &HashMap<String, Tensor>, prefix: &str, tol: f64) {
    for (i, info) in P::TENSORS.iter().enumerate() {
        let mut row_major = vec![T::zero(); info.len()];
        info.to_row_major(grads.tensor(i), &mut row_major);
        let name = format!("grad.{prefix}.{}", info.name);
        let err = rel_inf(&as_f64(&row_major), &f[&name].data);
        assert!(err < tol, "{name}: {err:e}");
    }
}

/// Softmax cross-entropy over the columns of `logits` (`k` rows each), with `targets` and
/// per-column `weights`, divided by `m`: the loss and its gradient.
fn softmax_ce(logits: &[f64], k: usize, targets: &[f64], weights: &[f64], m: f64) -> (f64, Vec<f64>) {
    let mut loss = 0.0;
    let mut grad = vec![0.0; logits.len()];
    for (j, (column, g)) in logits.chunks_exact(k).zip(grad.chunks_exact_mut(k)).enumerate() {
        let max = column.iter().copied().fold(f64::MIN, f64::max);
        let sum: f64 = column.iter().map(|v| (v - max).exp()).sum();
        let y = targets[j] as usize;
        loss += weights[j] * -((column[y] - max) - sum.ln());
        for (c, (gv, &v)) in g.iter_mut().zip(column).enumerate() {
            let p = (v - max).exp() / sum;
            *gv = weights[j] * (p - if c == y { 1.0 } else { 0.0 }) / m;
        }
    }
    (loss / m, grad)
}

/// `gru_seq`: GRU, the last state, a dense layer, softmax cross-entropy.
fn gru_seq<T: Float>(file: &str, tol: f64) {
    let f = fixture(file);
    let mut rnn = Recurrent::<T, GruSeq>::zeroed();
    let mut out = Dense::<T, 5, 3>::zeroed();
    load(&mut rnn, &f, "rnn");
    load(&mut out, &f, "out");
    let x = SMatrix::<T, 12, 4>::from_column_slice(&cast(&f["x"].data));
    let mut rng = sinew::rng(0);
    let mut tw = Training::<T, Recurrent<T, GruSeq>, 4>::zeroed();
    Layer::<T, 4>::forward_train(&mut rnn, &x, &mut tw, 4, &mut rng);
    let mut ow = Training::<T, Dense<T, 5, 3>, 4>::zeroed();
    Layer::<T, 4>::forward_train(&mut out, &tw.value, &mut ow, 4, &mut rng);
    assert!(rel_inf(&as_f64(ow.value.as_slice()), &f["out"].data) < tol, "out");
    let (loss, grad) = softmax_ce(&as_f64(ow.value.as_slice()), 3, &f["y"].data, &[1.0; 4], 4.0);
    assert!((loss - f["loss"].data[0]).abs() < tol * loss.abs(), "loss {loss} vs {}", f["loss"].data[0]);
    ow.grad.as_mut_slice().copy_from_slice(&cast(&grad));
    let mut out_grads = Dense::<T, 5, 3>::zeroed();
    Layer::<T, 4>::backward(
        &out,
        &tw.value,
        &mut ow,
        Some(&mut out_grads),
        Some((&mut tw.grad, Store::Overwrite)),
        4,
    );
    let mut rnn_grads = Recurrent::<T, GruSeq>::zeroed();
    let mut dx = SMatrix::<T, 12, 4>::zeros();
    Layer::<T, 4>::backward(&rnn, &x, &mut tw, Some(&mut rnn_grads), Some((&mut dx, Store::Overwrite)), 4);
    check_grads(&out_grads, &f, "out", tol);
    check_grads(&rnn_grads, &f, "rnn", tol);
    assert!(rel_inf(&as_f64(dx.as_slice()), &f["grad.x"].data) < tol, "grad.x");
}

#[test]
fn gru_last_state_matches_pytorch_f64() {
    gru_seq::<f64>("gru_seq.f64.safetensors", 1e-10);
}

#[test]
fn gru_last_state_matches_pytorch_f32() {
    gru_seq::<f32>("gru_seq.f32.safetensors", 1e-5);
}

/// `lstm_seq2seq`: LSTM, a dense layer at every step, L2 summed over steps, divided by the
/// batch size.
fn lstm_seq2seq<T: Float>(file: &str, tol: f64) {
    let f = fixture(file);
    let mut rnn = Recurrent::<T, LstmSeq>::zeroed();
    let mut out = Dense::<T, 4, 2>::zeroed();
    load(&mut rnn, &f, "rnn");
    load(&mut out, &f, "out");
    let x = SMatrix::<T, 15, 4>::from_column_slice(&cast(&f["x"].data));
    let mut rng = sinew::rng(0);
    let mut tw = Training::<T, Recurrent<T, LstmSeq>, 4>::zeroed();
    Layer::<T, 4>::forward_train(&mut rnn, &x, &mut tw, 4, &mut rng);
    // The dense layer at every step: the (T·H, B) states seen as (H, B·T), one column per
    // step of each sample.
    let states = SMatrix::<T, 4, 20>::from_column_slice(tw.value.as_slice());
    let mut ow = Training::<T, Dense<T, 4, 2>, 20>::zeroed();
    Layer::<T, 20>::forward_train(&mut out, &states, &mut ow, 20, &mut rng);
    let logits = as_f64(ow.value.as_slice());
    assert!(rel_inf(&logits, &f["out"].data) < tol, "out");
    let y = &f["y"].data;
    let loss: f64 = logits.iter().zip(y).map(|(o, y)| 0.5 * (o - y) * (o - y)).sum::<f64>() / 4.0;
    assert!((loss - f["loss"].data[0]).abs() < tol * loss.abs(), "loss {loss} vs {}", f["loss"].data[0]);
    let grad: Vec<f64> = logits.iter().zip(y).map(|(o, y)| (o - y) / 4.0).collect();
    ow.grad.as_mut_slice().copy_from_slice(&cast(&grad));
    let mut out_grads = Dense::<T, 4, 2>::zeroed();
    let mut dstates = SMatrix::<T, 4, 20>::zeros();
    Layer::<T, 20>::backward(
        &out,
        &states,
        &mut ow,
        Some(&mut out_grads),
        Some((&mut dstates, Store::Overwrite)),
        20,
    );
    tw.grad.as_mut_slice().copy_from_slice(dstates.as_slice());
    let mut rnn_grads = Recurrent::<T, LstmSeq>::zeroed();
    let mut dx = SMatrix::<T, 15, 4>::zeros();
    Layer::<T, 4>::backward(&rnn, &x, &mut tw, Some(&mut rnn_grads), Some((&mut dx, Store::Overwrite)), 4);
    check_grads(&out_grads, &f, "out", tol);
    check_grads(&rnn_grads, &f, "rnn", tol);
    assert!(rel_inf(&as_f64(dx.as_slice()), &f["grad.x"].data) < tol, "grad.x");
}

#[test]
fn lstm_every_step_matches_pytorch_f64() {
    lstm_seq2seq::<f64>("lstm_seq2seq.f64.safetensors", 1e-10);
}

#[test]
fn lstm_every_step_matches_pytorch_f32() {
    lstm_seq2seq::<f32>("lstm_seq2seq.f32.safetensors", 1e-5);
}

/// `embed_rnn`: embedding, tanh RNN, a dense layer at every step, masked per-step softmax
/// cross-entropy divided by the batch size.
fn embed_rnn<T: Float>(file: &str, tol: f64) {
    let f = fixture(file);
    let mut emb = Embedding::<T, Emb>::zeroed();
    let mut rnn = Recurrent::<T, RnnSeq>::zeroed();
    let mut out = Dense::<T, 5, 7>::zeroed();
    load(&mut emb, &f, "emb");
    load(&mut rnn, &f, "rnn");
    load(&mut out, &f, "out");
    let ids = SMatrix::<T, 4, 4>::from_column_slice(&cast(&f["x"].data));
    let mut rng = sinew::rng(0);
    let mut ew = Training::<T, Embedding<T, Emb>, 4>::zeroed();
    Layer::<T, 4>::forward_train(&mut emb, &ids, &mut ew, 4, &mut rng);
    let mut tw = Training::<T, Recurrent<T, RnnSeq>, 4>::zeroed();
    Layer::<T, 4>::forward_train(&mut rnn, &ew.value, &mut tw, 4, &mut rng);
    let states = SMatrix::<T, 5, 16>::from_column_slice(tw.value.as_slice());
    let mut ow = Training::<T, Dense<T, 5, 7>, 16>::zeroed();
    Layer::<T, 16>::forward_train(&mut out, &states, &mut ow, 16, &mut rng);
    let logits = as_f64(ow.value.as_slice());
    assert!(rel_inf(&logits, &f["out"].data) < tol, "out");
    let (loss, grad) = softmax_ce(&logits, 7, &f["y"].data, &f["mask"].data, 4.0);
    assert!((loss - f["loss"].data[0]).abs() < tol * loss.abs(), "loss {loss} vs {}", f["loss"].data[0]);
    ow.grad.as_mut_slice().copy_from_slice(&cast(&grad));
    let mut out_grads = Dense::<T, 5, 7>::zeroed();
    let mut dstates = SMatrix::<T, 5, 16>::zeros();
    Layer::<T, 16>::backward(
        &out,
        &states,
        &mut ow,
        Some(&mut out_grads),
        Some((&mut dstates, Store::Overwrite)),
        16,
    );
    tw.grad.as_mut_slice().copy_from_slice(dstates.as_slice());
    let mut rnn_grads = Recurrent::<T, RnnSeq>::zeroed();
    Layer::<T, 4>::backward(
        &rnn,
        &ew.value,
        &mut tw,
        Some(&mut rnn_grads),
        Some((&mut ew.grad, Store::Overwrite)),
        4,
    );
    let mut emb_grads = Embedding::<T, Emb>::zeroed();
    let mut dids = SMatrix::<T, 4, 4>::repeat(T::one());
    Layer::<T, 4>::backward(
        &emb,
        &ids,
        &mut ew,
        Some(&mut emb_grads),
        Some((&mut dids, Store::Overwrite)),
        4,
    );
    check_grads(&out_grads, &f, "out", tol);
    check_grads(&rnn_grads, &f, "rnn", tol);
    check_grads(&emb_grads, &f, "emb", tol);
    // Token ids have no gradient.
    assert!(dids.iter().all(|&v| v == T::zero()));
}

#[test]
fn embedding_and_rnn_with_a_mask_match_pytorch_f64() {
    embed_rnn::<f64>("embed_rnn.f64.safetensors", 1e-10);
}

#[test]
fn embedding_and_rnn_with_a_mask_match_pytorch_f32() {
    embed_rnn::<f32>("embed_rnn.f32.safetensors", 1e-5);
}

// Small layers for the gradient checks: 3 steps of 2 features, 3 hidden units, batch 2.
recurrent_shape!(RnnEvery: Cell::Rnn, t 3, f 2, h 3, every true, in 6, out 9, gh 3, gates 9, states 9, extra 0);
recurrent_shape!(RnnLast: Cell::Rnn, t 3, f 2, h 3, every false, in 6, out 3, gh 3, gates 9, states 9, extra 0);
recurrent_shape!(GruEvery: Cell::Gru, t 3, f 2, h 3, every true, in 6, out 9, gh 9, gates 27, states 9, extra 9);
recurrent_shape!(GruLast: Cell::Gru, t 3, f 2, h 3, every false, in 6, out 3, gh 9, gates 27, states 9, extra 9);
recurrent_shape!(LstmEvery: Cell::Lstm, t 3, f 2, h 3, every true, in 6, out 9, gh 12, gates 36, states 9, extra 9);
recurrent_shape!(LstmLast: Cell::Lstm, t 3, f 2, h 3, every false, in 6, out 3, gh 12, gates 36, states 9, extra 9);

/// Deterministic values in about [−1, 1].
fn values(n: usize, seed: u64) -> Vec<f64> {
    (0..n).map(|i| ((i as f64 + 1.0) * 0.7381 + seed as f64 * 1.618).sin()).collect()
}

/// `L = Σ c ⊙ y` for the layer's output `y`, with fixed weights `c`.
fn objective<S: RecurrentShape>(layer: &mut Recurrent<f64, S>, x: &S::Input<f64, 2>, c: &[f64]) -> f64 {
    let mut tw = Training::<f64, Recurrent<f64, S>, 2>::zeroed();
    Layer::<f64, 2>::forward_train(layer, x, &mut tw, 2, &mut sinew::rng(0));
    tw.value.values().iter().zip(c).map(|(y, c)| y * c).sum()
}

use sinew::layers::Values;

/// Every parameter and input gradient of a recurrent layer against central differences.
fn gradient_check<S: RecurrentShape>() {
    let mut layer = Recurrent::<f64, S>::zeroed();
    for i in 0..4 {
        let n = layer.tensor(i).len();
        layer
            .tensor_mut(i)
            .copy_from_slice(&values(n, i as u64 + 1).iter().map(|v| 0.8 * v).collect::<Vec<_>>());
    }
    let mut x = S::Input::<f64, 2>::zeroed();
    let n_in = x.values().len();
    x.values_mut().copy_from_slice(&values(n_in, 9));
    let c = values(S::OUT * 2, 5);
    let mut tw = Training::<f64, Recurrent<f64, S>, 2>::zeroed();
    Layer::<f64, 2>::forward_train(&mut layer, &x, &mut tw, 2, &mut sinew::rng(0));
    tw.grad.values_mut().copy_from_slice(&c);
    let mut grads = Recurrent::<f64, S>::zeroed();
    let mut dx = S::Input::<f64, 2>::zeroed();
    Layer::<f64, 2>::backward(&layer, &x, &mut tw, Some(&mut grads), Some((&mut dx, Store::Overwrite)), 2);
    let eps = 1e-6;
    let mut worst: f64 = 0.0;
    for i in 0..4 {
        for j in 0..layer.tensor(i).len() {
            let v = layer.tensor(i)[j];
            layer.tensor_mut(i)[j] = v + eps;
            let up = objective(&mut layer, &x, &c);
            layer.tensor_mut(i)[j] = v - eps;
            let down = objective(&mut layer, &x, &c);
            layer.tensor_mut(i)[j] = v;
            let numeric = (up - down) / (2.0 * eps);
            let analytic = grads.tensor(i)[j];
            worst = worst.max((numeric - analytic).abs() / numeric.abs().max(analytic.abs()).max(1e-3));
        }
    }
    for j in 0..n_in {
        let v = x.values()[j];
        x.values_mut()[j] = v + eps;
        let up = objective(&mut layer, &x, &c);
        x.values_mut()[j] = v - eps;
        let down = objective(&mut layer, &x, &c);
        x.values_mut()[j] = v;
        let numeric = (up - down) / (2.0 * eps);
        worst =
            worst.max((numeric - dx.values()[j]).abs() / numeric.abs().max(dx.values()[j].abs()).max(1e-3));
    }
    assert!(worst < 1e-6, "{:?}: worst relative error {worst:e}", S::CELL);
    // Adding to a gradient adds.
    let mut twice = dx.clone();
    Layer::<f64, 2>::forward_train(&mut layer, &x, &mut tw, 2, &mut sinew::rng(0));
    tw.grad.values_mut().copy_from_slice(&c);
    Layer::<f64, 2>::backward(&layer, &x, &mut tw, None, Some((&mut twice, Store::Add)), 2);
    for (a, b) in twice.values().iter().zip(dx.values()) {
        assert!((a - 2.0 * b).abs() < 1e-12);
    }
}

#[test]
fn rnn_gradients_match_central_differences() {
    gradient_check::<RnnEvery>();
    gradient_check::<RnnLast>();
}

#[test]
fn gru_gradients_match_central_differences() {
    gradient_check::<GruEvery>();
    gradient_check::<GruLast>();
}

#[test]
fn lstm_gradients_match_central_differences() {
    gradient_check::<LstmEvery>();
    gradient_check::<LstmLast>();
}

#[test]
fn embedding_gradient_matches_central_differences() {
    let mut emb = Embedding::<f64, Emb>::zeroed();
    emb.weight.as_mut_slice().copy_from_slice(&values(21, 3));
    // Two samples of 4 steps; id 2 appears three times, 6 never.
    let ids = SMatrix::<f64, 4, 2>::from_column_slice(&[2.0, 0.0, 2.0, 5.0, 1.0, 2.0, 3.0, 4.0]);
    let c = values(24, 4);
    let objective = |emb: &mut Embedding<f64, Emb>| -> f64 {
        let mut tw = Training::<f64, Embedding<f64, Emb>, 2>::zeroed();
        Layer::<f64, 2>::forward_train(emb, &ids, &mut tw, 2, &mut sinew::rng(0));
        tw.value.iter().zip(&c).map(|(y, c)| y * c).sum()
    };
    let mut tw = Training::<f64, Embedding<f64, Emb>, 2>::zeroed();
    Layer::<f64, 2>::forward_train(&mut emb, &ids, &mut tw, 2, &mut sinew::rng(0));
    tw.grad.as_mut_slice().copy_from_slice(&c);
    let mut grads = Embedding::<f64, Emb>::zeroed();
    Layer::<f64, 2>::backward(&emb, &ids, &mut tw, Some(&mut grads), None, 2);
    for j in 0..21 {
        let v = emb.weight[j];
        emb.weight[j] = v + 1e-6;
        let up = objective(&mut emb);
        emb.weight[j] = v - 1e-6;
        let down = objective(&mut emb);
        emb.weight[j] = v;
        let numeric = (up - down) / 2e-6;
        assert!((numeric - grads.weight[j]).abs() < 1e-8, "entry {j}: {numeric} vs {}", grads.weight[j]);
    }
    // Column 6 (an id no step reads) has no gradient.
    assert!(grads.weight.column(6).iter().all(|&g| g == 0.0));
}

#[test]
#[should_panic(expected = "token id 7 is not an integer below the vocabulary size 7")]
fn an_id_outside_the_vocabulary_panics_with_its_value() {
    let emb = Embedding::<f64, Emb>::zeroed();
    let ids = SMatrix::<f64, 4, 1>::from_column_slice(&[0.0, 1.0, 7.0, 2.0]);
    let mut ws = sinew::layers::Inference::<f64, Embedding<f64, Emb>, 1>::zeroed();
    Layer::<f64, 1>::forward(&emb, &ids, &mut ws);
}

#[test]
fn inference_equals_training_forward() {
    let mut layer = Recurrent::<f64, LstmEvery>::zeroed();
    for i in 0..4 {
        let n = layer.tensor(i).len();
        layer.tensor_mut(i).copy_from_slice(&values(n, i as u64 + 11));
    }
    let x = SMatrix::<f64, 6, 2>::from_column_slice(&values(12, 2));
    let mut ws = sinew::layers::Inference::<f64, Recurrent<f64, LstmEvery>, 2>::zeroed();
    Layer::<f64, 2>::forward(&layer, &x, &mut ws);
    let mut tw = Training::<f64, Recurrent<f64, LstmEvery>, 2>::zeroed();
    Layer::<f64, 2>::forward_train(&mut layer, &x, &mut tw, 2, &mut sinew::rng(0));
    assert_eq!(ws.value, tw.value);
}
