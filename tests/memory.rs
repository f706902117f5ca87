//! Memory accounting: the byte-count consts against hand-computed sizes, and `#[budget]`
//! on networks of every layer kind (the macro's own arithmetic, which decides whether a
//! budget is exceeded, is asserted at compile time to equal `size_of` of the generated
//! types: these declarations would not compile otherwise).

use sinew::optim::{Adam, AdamConfig, Momentum, RmsProp};
use sinew::prelude::*;
use std::mem::size_of;

network! {
    /// The digits MLP of the firmware, with the hidden layer frozen: training needs 9,640
    /// bytes of parameters, 4,012 of training buffers and 2,640 of Adam state.
    #[budget(flash = 10K, ram = 16K, batch = 8, optimizer = Adam)]
    pub struct Frozen {
        input: 64,
        #[frozen]
        hidden: Dense(32) -> Relu,
        out: Dense(10),
    }
}

network! {
    /// The same network, all trained: training it needs 41,252 bytes (Frozen: 16,292).
    #[budget(flash = 10K, ram = 41K, batch = 8, optimizer = Adam)]
    pub struct Full {
        input: 64,
        hidden: Dense(32) -> Relu,
        out: Dense(10),
    }
}

network! {
    /// Every buffer kind: im2col columns, dropout masks, max-pool indices, batch-norm
    /// statistics, a transposed convolution, a layer without bias.
    #[budget(flash = 8K, ram = 128K, batch = 4, optimizer = Momentum)]
    pub struct Everything {
        input: [1, 8, 8],
        c1: Conv2d(4, kernel = 3, padding = 1, bias = false),
        bn: BatchNorm -> Relu,
        pool: MaxPool2d(2),
        up: ConvTranspose2d(2, kernel = 2, stride = 2),
        avg: AvgPool2d(4),
        flat: Flatten,
        drop: Dropout(keep = 0.5),
        #[frozen]
        d1: Dense(6) -> Tanh,
        out: Dense(3),
    }
}

network! {
    block Res(channels) {
        c: Conv2d(channels, kernel = 3, padding = same, bias = false),
        n: BatchNorm,
        sum: Add(n, input) -> Relu,
    }

    /// A graph: two branches concatenated, a residual block, global pooling (the macro's
    /// byte counts of `Add`, `Concat` and `GlobalAvgPool` are asserted against `size_of`).
    #[budget(flash = 4K, ram = 64K, batch = 2, optimizer = Adam)]
    pub struct Graph {
        input: [1, 4, 4],
        a: Conv2d(2, kernel = 1),
        b: Conv2d(2, kernel = 3, padding = 1, from = input),
        both: Concat(a, b),
        r: Res(4),
        pool: GlobalAvgPool,
        out: Dense(3),
    }
}

network! {
    /// A budget with room to spare, at batch 1 (the default).
    #[budget(flash = 1M, ram = 1K)]
    pub struct Tiny {
        input: 2,
        hidden: Dense(4) -> Tanh,
        out: Dense(1),
    }
}

#[test]
fn byte_counts_of_a_network_with_a_frozen_layer() {
    // 64·32 + 32 and 32·10 + 10 values.
    let (hidden, out) = ((64 * 32 + 32) * 4, (32 * 10 + 10) * 4);
    assert_eq!(Frozen::<f32>::PARAMETER_BYTES, hidden + out);
    assert_eq!(Frozen::<f64>::PARAMETER_BYTES, 2 * (hidden + out));
    // The frozen layer has no gradient and no optimizer state.
    assert_eq!(Frozen::<f32>::GRADIENT_BYTES, out);
    assert_eq!(Frozen::<f32>::ADAM_STATE_BYTES, 2 * out);
    assert_eq!(Frozen::<f32>::MOMENTUM_STATE_BYTES, out);
    assert_eq!(Frozen::<f32>::RMSPROP_STATE_BYTES, out);
    assert_eq!(Frozen::<f32>::SGD_STATE_BYTES, 0);
    assert_eq!(Frozen::<f32>::PARAMETERS, 64 * 32 + 32 + 32 * 10 + 10);
    assert_eq!(Frozen::<f32>::TRAINABLE_PARAMETERS, 32 * 10 + 10);
    assert_eq!(Full::<f32>::GRADIENT_BYTES, hidden + out);
    assert_eq!(Full::<f32>::ADAM_STATE_BYTES, 2 * (hidden + out));
    assert_eq!(Full::<f32>::TRAINABLE_PARAMETERS, Full::<f32>::PARAMETERS);

    // Workspaces: one value per output per sample; training adds the gradients of the
    // outputs, the parameter gradients and the sample count.
    assert_eq!(FrozenWorkspace::<8>::BYTES, (32 + 10) * 8 * 4);
    assert_eq!(FrozenWorkspace::<8, f64>::BYTES, (32 + 10) * 8 * 8);
    assert_eq!(FrozenTrainWorkspace::<8>::BYTES, 2 * (32 + 10) * 8 * 4 + out + 4);
    assert_eq!(FullTrainWorkspace::<8>::BYTES, 2 * (32 + 10) * 8 * 4 + hidden + out + 4);

    // The optimizer values: their state plus a few bytes of settings.
    for (value, state) in [
        (size_of::<Adam<f32, FrozenGrads>>(), Frozen::<f32>::ADAM_STATE_BYTES),
        (size_of::<Momentum<f32, FrozenGrads>>(), Frozen::<f32>::MOMENTUM_STATE_BYTES),
        (size_of::<RmsProp<f32, FrozenGrads>>(), Frozen::<f32>::RMSPROP_STATE_BYTES),
        (size_of::<Adam<f32, Full>>(), Full::<f32>::ADAM_STATE_BYTES),
    ] {
        assert!(value >= state && value <= state + 64, "{value} vs {state}");
    }
    let _ = Adam::<f32, FrozenGrads>::new(AdamConfig::default());
}

#[test]
fn byte_counts_of_every_buffer_kind() {
    // Parameters: c1 4·1·3·3 (+ a zero bias of 4), bn 4 × 4, up 4·2·2·2 + 2, d1 8·6 + 6
    // (the average pool leaves [2, 2, 2]), out 6·3 + 3; d1 is frozen.
    let values = (36 + 4) + 16 + (32 + 2) + (8 * 6 + 6) + (6 * 3 + 3);
    assert_eq!(Everything::<f32>::PARAMETER_BYTES, values * 4);
    assert_eq!(Everything::<f32>::GRADIENT_BYTES, (values - (8 * 6 + 6)) * 4);
    // Inference at B = 4: c1 [4, 8, 8] + its 64 positions × 9 patch values, bn [4, 8, 8],
    // pool [4, 4, 4], up [2, 8, 8] + its adjoint columns (4·4 positions × 2·2·2), avg
    // [2, 2, 2], d1 6, out 3.
    let b = 4;
    let ws = (256 * b + 64 * 9) + 256 * b + 64 * b + (128 * b + 16 * 8) + 8 * b + 6 * b + 3 * b;
    assert_eq!(EverythingWorkspace::<4>::BYTES, ws * 4);
    // Training: every output and its gradient; c1 keeps the columns of every sample and
    // one column gradient, bn its normalised values and 1/σ per channel, max pooling one
    // `u32` index per output, dropout its mask, the transposed convolution one column
    // buffer; then the gradients of the trained layers and the sample count.
    let tw = (2 * 256 * b + 576 * b + 576)
        + (3 * 256 * b + 4)
        + 3 * 64 * b
        + (2 * 128 * b + 128)
        + 2 * 8 * b
        + 3 * 8 * b
        + 2 * 6 * b
        + 2 * 3 * b
        + (values - (8 * 6 + 6))
        + 1;
    assert_eq!(EverythingTrainWorkspace::<4>::BYTES, tw * 4);
}

#[test]
fn byte_counts_of_a_graph() {
    // a 2·1 + 2, b 2·9 + 2, r.c 4·4·9 (+ a zero bias of 4), r.n 4 × 4, out 3·4 + 3.
    let values = (2 + 2) + (18 + 2) + (144 + 4) + 16 + 15;
    assert_eq!(Graph::<f32>::PARAMETER_BYTES, values * 4);
    // Inference at B = 2: a, b [2, 4, 4], both, r.c, r.n, r.sum [4, 4, 4], pool 4, out 3,
    // plus the unfolded columns of a (16 positions × 1), b (16 × 9) and r.c (16 × 36).
    let b = 2;
    let ws = (32 * b + 16) + (32 * b + 144) + 64 * b + (64 * b + 576) + 64 * b + 64 * b + 4 * b + 3 * b;
    assert_eq!(GraphWorkspace::<2>::BYTES, ws * 4);
}

network! {
    /// Sequences: the macro's byte counts of an embedding, a GRU, an LSTM and a dense layer at
    /// every step are asserted equal to `size_of` of the generated types at compile time.
    #[budget(flash = 64K, ram = 256K, batch = 4, optimizer = Adam)]
    pub struct Sequences {
        input: Tokens(6, vocab = 11),
        emb: Embedding(5),
        gru: Gru(7),
        lstm: Lstm(3, steps = all),
        out: Dense(11, steps = all),
    }
}

#[test]
fn byte_counts_of_sequence_layers() {
    // emb 11·5; gru 3·7 (5 + 7 + 2); lstm 4·3 (7 + 3 + 2); out 11·3 + 11.
    let values = 55 + 21 * 14 + 12 * 12 + 44;
    assert_eq!(Sequences::<f32>::PARAMETER_BYTES, values * 4);
    // Inference at B = 1: emb 6·5; each recurrent layer its output (6·H), input projections
    // and states of every step (6·G·H, 6·H, and 6·H more for the GRU's and the LSTM's extra
    // values) and one step's projections (G·H); out 6·11.
    let gru = 6 * 7 + 6 * 21 + 6 * 7 + 6 * 7 + 21;
    let lstm = 6 * 3 + 6 * 12 + 6 * 3 + 6 * 3 + 12;
    assert_eq!(SequencesWorkspace::<1>::BYTES, (30 + gru + lstm + 66) * 4);
}

#[test]
fn tiny_fits() {
    assert_eq!(Tiny::<f32>::PARAMETER_BYTES, (2 * 4 + 4 + 4 + 1) * 4);
    assert_eq!(TinyWorkspace::<1>::BYTES, 5 * 4);
}
