// The networks of the firmware, shared with the host: `examples/04-firmware.rs` includes
// this file, so the host trains, exports and checks exactly these declarations.
//
// `#[weights]` is relative to this file. Both networks embed the same file: `Digits`
// classifies, `DigitsHead` fine-tunes its output layer on the device with the hidden layer
// frozen. The budgets are checked when the crate compiles (f32, counted by the macro).

sinew::network! {
    /// The digits classifier: 8×8 images with pixels 0–16, scaled to [0, 1], to 10 logits.
    #[weights("../weights/digits.safetensors")]
    #[budget(flash = 10K, ram = 1K, batch = 1)]
    pub struct Digits {
        input: 64,
        hidden: Dense(32) -> Relu,
        out: Dense(10),
    }
}

sinew::network! {
    /// The same network for on-device fine-tuning: `hidden` stays as trained on the host
    /// (no gradient, no optimizer state), `out` is retrained with Adam.
    #[weights("../weights/digits.safetensors")]
    #[budget(flash = 10K, ram = 20K, batch = 10, optimizer = Adam)]
    pub struct DigitsHead {
        input: 64,
        #[frozen]
        hidden: Dense(32) -> Relu,
        out: Dense(10),
    }
}

/// Samples per fine-tuning batch.
pub const BATCH: usize = 10;
/// Bytes per sample in `data/*.bin`: the label, then 64 pixels (0–16) row by row.
pub const SAMPLE_BYTES: usize = 65;
/// Fine-tuning epochs.
pub const EPOCHS: usize = 15;
/// Adam's learning rate for fine-tuning.
pub const LEARNING_RATE: f32 = 0.01;

/// The network input of one sample: pixels scaled to [0, 1].
pub fn pixels(sample: &[u8]) -> sinew::SMatrix<f32, 64, 1> {
    sinew::SMatrix::<f32, 64, 1>::from_fn(|r, _| sample[1 + r] as f32 / 16.0)
}

/// The label of one sample.
pub fn label(sample: &[u8]) -> usize {
    sample[0] as usize
}

/// The class probabilities of one sample (softmax of the logits) and the predicted class.
pub fn classify(net: &Digits, ws: &mut DigitsWorkspace<1>, sample: &[u8]) -> (usize, [f32; 10]) {
    let mut p = [0.0f32; 10];
    p.copy_from_slice(net.forward(&pixels(sample), ws).as_slice());
    sinew::activation::Activation::forward(&sinew::activation::Softmax, &mut p, 10);
    (sinew::metrics::predicted_class(&p, 0.5), p)
}

/// Correctly classified samples of `data` (any network with this input and output).
pub fn correct<M: sinew::Model<f32, 64, 10>>(net: &M, ws: &mut M::Workspace<1>, data: &[u8]) -> usize {
    data.chunks_exact(SAMPLE_BYTES)
        .filter(|s| sinew::metrics::predicted_class(net.forward(&pixels(s), ws).as_slice(), 0.5) == label(s))
        .count()
}

/// Fine-tunes the output layer of `net` on `data` (whole batches of [`BATCH`], in file
/// order) for [`EPOCHS`] epochs, starting from zero (softmax regression on the frozen
/// features is convex, so zero is a good start). Calls `epoch_done(epoch, mean loss)`.
pub fn finetune(
    net: &mut DigitsHead,
    adam: &mut sinew::optim::Adam<f32, DigitsHeadGrads>,
    tw: &mut DigitsHeadTrainWorkspace<BATCH>,
    data: &[u8],
    mut epoch_done: impl FnMut(usize, f32),
) -> Result<(), sinew::NonFiniteLoss> {
    net.out = sinew::layers::Dense::zeroed();
    let mut rng = sinew::rng(0); // no dropout: unused, but every training step takes one
    for epoch in 1..=EPOCHS {
        let (mut total, mut batches) = (0.0f32, 0u32);
        for chunk in data.chunks_exact(SAMPLE_BYTES * BATCH) {
            let mut x = sinew::SMatrix::<f32, 64, BATCH>::zeros();
            let mut y = [0usize; BATCH];
            for (j, sample) in chunk.chunks_exact(SAMPLE_BYTES).enumerate() {
                x.set_column(j, &pixels(sample));
                y[j] = label(sample);
            }
            total += net.train_step(&x, &y, &sinew::loss::SoftmaxCrossEntropy, adam, tw, &mut rng)?;
            batches += 1;
        }
        epoch_done(epoch, total / batches as f32);
    }
    Ok(())
}
