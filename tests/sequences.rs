//! Sequence networks declared with `network!` against PyTorch (`tests/fixtures/gru_seq.*`,
//! `lstm_seq2seq.*`, `embed_rnn.*`), their parameters loaded by PyTorch's names
//! (`rnn.weight_ih_l0`, ...): output, loss, every gradient, the input gradient and three
//! Adam steps, to 1e-10 (f64) and 1e-5 (f32); and gradient checks of stacked recurrent
//! layers through the generated backward pass.

mod common;

use common::{Tensor, check_fixture, classes, matrix};
use sinew::gradcheck::check_gradients;
use sinew::loss::{StepCrossEntropy, StepTargets};
use sinew::prelude::*;
use std::collections::HashMap;

network! {
    /// `gru_seq`: a GRU's last state, then a dense layer.
    pub struct GruSeq {
        input: Sequence(4, 3),
        rnn: Gru(5, steps = last),
        out: Dense(3),
    }
}

network! {
    /// `lstm_seq2seq`: an LSTM, then a dense layer at every step.
    pub struct LstmSeq {
        input: Sequence(5, 3),
        rnn: Lstm(4),
        out: Dense(2, steps = all),
    }
}

network! {
    /// `embed_rnn`: token ids, an embedding, a tanh RNN, a dense layer at every step.
    pub struct EmbedRnn {
        input: Tokens(4, vocab = 7),
        emb: Embedding(3),
        rnn: Rnn(5),
        out: Dense(7, steps = all),
    }
}

fn masked<T: Float>(tensors: &HashMap<String, Tensor>) -> StepTargets<T, 4, 4> {
    let read = |name: &str| SMatrix::from_iterator(tensors[name].data.iter().map(|&v| T::cast(v)));
    StepTargets { classes: read("y"), mask: read("mask") }
}

#[test]
fn gru_last_state_f64() {
    check_fixture::<GruSeq<f64>, f64, _, _, 12, 3, 4>(
        "gru_seq.f64.safetensors",
        SoftmaxCrossEntropy,
        classes,
        1e-10,
    );
}

#[test]
fn gru_last_state_f32() {
    check_fixture::<GruSeq<f32>, f32, _, _, 12, 3, 4>(
        "gru_seq.f32.safetensors",
        SoftmaxCrossEntropy,
        classes,
        1e-5,
    );
}

#[test]
fn lstm_every_step_f64() {
    check_fixture::<LstmSeq<f64>, f64, _, _, 15, 10, 4>("lstm_seq2seq.f64.safetensors", L2, matrix, 1e-10);
}

#[test]
fn lstm_every_step_f32() {
    check_fixture::<LstmSeq<f32>, f32, _, _, 15, 10, 4>("lstm_seq2seq.f32.safetensors", L2, matrix, 1e-5);
}

#[test]
fn embedding_rnn_masked_cross_entropy_f64() {
    check_fixture::<EmbedRnn<f64>, f64, _, _, 4, 28, 4>(
        "embed_rnn.f64.safetensors",
        StepCrossEntropy,
        masked,
        1e-10,
    );
}

#[test]
fn embedding_rnn_masked_cross_entropy_f32() {
    check_fixture::<EmbedRnn<f32>, f32, _, _, 4, 28, 4>(
        "embed_rnn.f32.safetensors",
        StepCrossEntropy,
        masked,
        1e-5,
    );
}

#[test]
fn parameters_carry_pytorch_names_and_shapes() {
    let tensors: Vec<(&str, &[usize])> =
        <EmbedRnn<f64> as Parameters<f64>>::TENSORS.iter().map(|t| (t.name, t.shape)).collect();
    assert_eq!(
        tensors,
        [
            ("emb.weight", &[7, 3][..]),
            ("rnn.weight_ih_l0", &[5, 3][..]),
            ("rnn.weight_hh_l0", &[5, 5][..]),
            ("rnn.bias_ih_l0", &[5][..]),
            ("rnn.bias_hh_l0", &[5][..]),
            ("out.weight", &[7, 5][..]),
            ("out.bias", &[7][..]),
        ]
    );
    assert_eq!(GruSeq::<f64>::PARAMETERS, 15 * 3 + 15 * 5 + 2 * 15 + 5 * 3 + 3);
}

network! {
    /// Two GRU layers stacked, an LSTM's last state, a dense head: every recurrent path.
    pub struct Stacked {
        input: Sequence(3, 2),
        g1: Gru(3),
        g2: Gru(2),
        l: Lstm(3, steps = last),
        out: Dense(2),
    }
}

network! {
    /// Embedding, two RNNs, a dense layer at every step with a per-step loss.
    pub struct Language {
        input: Tokens(3, vocab = 5),
        emb: Embedding(4),
        r1: Rnn(3),
        r2: Gru(3),
        out: Dense(5, steps = all),
    }
}

#[test]
fn stacked_recurrent_layers_pass_a_gradient_check() {
    let mut net = Stacked::<f64>::init(&mut sinew::rng(4));
    let x = SMatrix::<f64, 6, 3>::from_fn(|i, j| ((i * 7 + j * 3) as f64 * 0.37).sin());
    let y = [1, 0, 1];
    let mut tw = StackedTrainWorkspace::<3, f64>::zeroed();
    let report = check_gradients(&mut net, &x, &y, &SoftmaxCrossEntropy, 1, 1e-6, &mut tw);
    assert!(report.max_relative_error() < 1e-6, "{report:?}");
}

#[test]
fn a_masked_language_model_passes_a_gradient_check() {
    let mut net = Language::<f64>::init(&mut sinew::rng(5));
    let ids = SMatrix::<f64, 3, 2>::from_column_slice(&[1.0, 4.0, 0.0, 2.0, 2.0, 3.0]);
    let targets = StepTargets {
        classes: SMatrix::<f64, 3, 2>::from_column_slice(&[4.0, 0.0, 1.0, 2.0, 3.0, 3.0]),
        mask: SMatrix::<f64, 3, 2>::from_column_slice(&[1.0, 1.0, 0.0, 1.0, 1.0, 1.0]),
    };
    let mut tw = LanguageTrainWorkspace::<2, f64>::zeroed();
    let report = check_gradients(&mut net, &ids, &targets, &StepCrossEntropy, 2, 1e-6, &mut tw);
    assert!(report.max_relative_error() < 1e-6, "{report:?}");
}

/// Clipping by global norm: the step of `Sgd(lr = 1)` wrapped in `ClipGradNorm` moves every
/// parameter by exactly `−g · max / (‖g‖ + 10⁻⁶)`, with `g` from central differences
/// (PyTorch's `clip_grad_norm_`), and leaves gradients under the threshold alone.
#[test]
fn clipping_scales_the_central_difference_gradient() {
    use sinew::optim::{ClipGradNorm, Sgd, global_norm};
    let net0 = Stacked::<f64>::init(&mut sinew::rng(8));
    let x = SMatrix::<f64, 6, 3>::from_fn(|i, j| ((i * 5 + j * 11) as f64 * 0.29).cos());
    let y = [0, 1, 1];
    // Central differences of the loss, tensor by tensor.
    let loss_at = |net: &mut Stacked<f64>| {
        let mut tw = StackedTrainWorkspace::<3, f64>::zeroed();
        let out = *net.forward_train(&x, &mut tw, &mut sinew::rng(0));
        SoftmaxCrossEntropy.value(&out, &y)
    };
    let mut numeric = Stacked::<f64>::zeroed();
    let mut net = net0.clone();
    for i in 0..Stacked::<f64>::TENSORS.len() {
        for e in 0..net.tensor(i).len() {
            let v = net.tensor(i)[e];
            net.tensor_mut(i)[e] = v + 1e-6;
            let up = loss_at(&mut net);
            net.tensor_mut(i)[e] = v - 1e-6;
            let down = loss_at(&mut net);
            net.tensor_mut(i)[e] = v;
            numeric.tensor_mut(i)[e] = (up - down) / 2e-6;
        }
    }
    let norm = global_norm(&numeric);
    assert!(norm > 0.05, "the test needs a gradient to clip ({norm})");
    let max = norm / 4.0;
    let mut clipped = ClipGradNorm::new(Sgd::new(1.0), max);
    let mut net = net0.clone();
    let mut tw = StackedTrainWorkspace::<3, f64>::zeroed();
    net.train_step(&x, &y, &SoftmaxCrossEntropy, &mut clipped, &mut tw, &mut sinew::rng(0)).unwrap();
    assert!((clipped.last_norm() - norm).abs() < 1e-6 * norm, "{} vs {norm}", clipped.last_norm());
    let scale = max / (norm + 1e-6);
    for i in 0..Stacked::<f64>::TENSORS.len() {
        for e in 0..net.tensor(i).len() {
            let step = net0.tensor(i)[e] - net.tensor(i)[e];
            let want = numeric.tensor(i)[e] * scale;
            assert!((step - want).abs() < 1e-6 * norm * scale, "tensor {i} entry {e}: {step} vs {want}");
        }
    }
    // Under the threshold, the inner optimizer sees the gradients as they are.
    let mut loose = ClipGradNorm::new(Sgd::new(1.0), 10.0 * norm);
    let mut plain = Sgd::new(1.0);
    let (mut a, mut b) = (net0.clone(), net0.clone());
    a.train_step(&x, &y, &SoftmaxCrossEntropy, &mut loose, &mut tw, &mut sinew::rng(0)).unwrap();
    b.train_step(&x, &y, &SoftmaxCrossEntropy, &mut plain, &mut tw, &mut sinew::rng(0)).unwrap();
    assert_eq!(a, b);
    // A norm that means nothing is refused before training.
    assert!(
        sinew::optim::Optimizer::<f64, Stacked<f64>>::check(&ClipGradNorm::<_, Stacked<f64>>::new(
            Sgd::new(1.0),
            f64::NAN
        ))
        .is_err()
    );
}

network! {
    /// A character model with a GRU.
    pub struct CharGru {
        input: Tokens(6, vocab = 5),
        emb: Embedding(3),
        rnn: Gru(4),
        out: Dense(5, steps = all),
    }
}

network! {
    /// A character model with an LSTM.
    pub struct CharLstm {
        input: Tokens(6, vocab = 5),
        emb: Embedding(3),
        rnn: Lstm(4),
        out: Dense(5, steps = all),
    }
}

/// Stepping the generator through a sequence gives the logits of the whole network's
/// forward pass at every step: the carried state is the layer's.
macro_rules! stepping_matches_forward {
    ($net:ident, $workspace:ident) => {{
        let net = $net::<f64>::init(&mut sinew::rng(3));
        let tokens = [0usize, 3, 1, 4, 4, 2];
        let x = SMatrix::<f64, 6, 1>::from_iterator(tokens.iter().map(|&t| t as f64));
        let mut ws = $workspace::<1, f64>::zeroed();
        let logits = *net.forward(&x, &mut ws);
        let mut generator = sinew::generate::Generator::new();
        for (t, &token) in tokens.iter().enumerate() {
            generator.next(&net.emb, &net.rnn, &net.out, token, 1.0, &mut sinew::rng(0));
            for (a, b) in generator.logits().iter().zip(&logits.as_slice()[t * 5..][..5]) {
                assert!((a - b).abs() < 1e-12, "step {t}: {a} vs {b}");
            }
        }
        // The same seed draws the same sequence; another seed, most likely another.
        let mut names = [[0usize; 6]; 2];
        let lens: Vec<usize> = (0..2)
            .map(|i| {
                generator.generate(&net.emb, &net.rnn, &net.out, 0, 0, 1.0, &mut names[i], &mut sinew::rng(9))
            })
            .collect();
        assert_eq!((lens[0], names[0]), (lens[1], names[1]));
    }};
}

#[test]
fn generation_steps_through_the_network_s_own_arithmetic() {
    stepping_matches_forward!(CharGru, CharGruWorkspace);
    stepping_matches_forward!(CharLstm, CharLstmWorkspace);
}
