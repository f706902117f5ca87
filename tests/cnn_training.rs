//! End-to-end sanity of the convolutional layers: a small CNN fits a tiny batch to 100 %
//! (backward is wired through every layer), batch norm ignores the padding of a partial
//! batch, and PyTorch's `num_batches_tracked` counters load without complaint.

use sinew::prelude::*;

network! {
    /// A small CNN with every image layer.
    pub struct Tiny {
        input: [1, 8, 8],
        c1: Conv2d(4, kernel = 3, padding = 1, bias = false),
        bn1: BatchNorm -> Relu,
        p1: MaxPool2d(2),
        c2: Conv2d(8, kernel = 3) -> LeakyRelu,
        p2: AvgPool2d(2),
        flat: Flatten,
        out: Dense(4),
    }
}

/// Eight random 8 × 8 images with four arbitrary labels: nothing to learn but memorise,
/// which only works if gradients reach every layer.
#[test]
fn a_small_cnn_overfits_a_tiny_batch() {
    let mut rng = sinew::rng(5);
    let mut x = SMatrix::<f32, 64, 8>::zeros();
    sinew::init::Init::Xavier.fill(x.as_mut_slice(), 1, 1, &mut rng);
    let y = [0, 1, 2, 3, 3, 2, 1, 0];
    let mut net = Tiny::<f32>::init(&mut rng);
    let mut adam = Adam::new(AdamConfig::with_lr(0.01));
    let mut tw = TinyTrainWorkspace::<8>::zeroed();
    let first = net.train_step(&x, &y, &SoftmaxCrossEntropy, &mut adam, &mut tw, &mut rng).unwrap();
    let mut last = first;
    for _ in 0..300 {
        last = net.train_step(&x, &y, &SoftmaxCrossEntropy, &mut adam, &mut tw, &mut rng).unwrap();
    }
    assert!(last < 0.01 * first, "loss {first} -> {last}");
    // In training mode (batch statistics) every sample is right...
    let out = *net.forward_train(&x, &mut tw, &mut rng);
    assert_eq!(argmax(&out), y);
    // ...and inference with the running statistics agrees on (nearly) every sample.
    let mut ws = TinyWorkspace::<8>::zeroed();
    let eval = *net.forward(&x, &mut ws);
    let right = argmax(&eval).iter().zip(&y).filter(|(a, b)| a == b).count();
    assert!(right >= 7, "inference mode (running statistics): {right}/8");
}

/// A batch of 5 columns holding 3 samples gives the loss and gradients of a batch of 3:
/// the batch statistics and the backward pass ignore the padding.
#[test]
fn batch_norm_ignores_padding() {
    let net = Tiny::<f64>::init(&mut sinew::rng(2));
    let mut small = SMatrix::<f64, 64, 3>::zeros();
    sinew::init::Init::Xavier.fill(small.as_mut_slice(), 1, 1, &mut sinew::rng(3));
    let mut padded = SMatrix::<f64, 64, 5>::repeat(100.0);
    padded.fixed_columns_mut::<3>(0).copy_from(&small);
    let (mut a, mut b) = (net.clone(), net.clone());
    let mut tw3 = TinyTrainWorkspace::<3, f64>::zeroed();
    let mut tw5 = TinyTrainWorkspace::<5, f64>::zeroed();
    a.forward_train(&small, &mut tw3, &mut sinew::rng(0));
    b.forward_train_partial(&padded, 3, &mut tw5, &mut sinew::rng(0));
    let l3 = SoftmaxCrossEntropy.gradient(&tw3.out.value, &[1, 2, 3], &mut tw3.out.grad);
    let l5 = SoftmaxCrossEntropy.gradient_partial(&tw5.out.value, &[1, 2, 3, 0, 0], 3, &mut tw5.out.grad);
    assert!((l3 - l5).abs() < 1e-14);
    a.backward(&small, &mut tw3, None);
    b.backward(&padded, &mut tw5, None);
    for i in 0..Tiny::<f64>::TENSORS.len() {
        for (x, y) in tw3.grads.tensor(i).iter().zip(tw5.grads.tensor(i)) {
            assert!((x - y).abs() < 1e-12, "{}: {x} vs {y}", Tiny::<f64>::TENSORS[i].name);
        }
    }
    // The running statistics moved by the same amount too.
    assert!((a.bn1.running_mean - b.bn1.running_mean).abs().max() < 1e-14);
    assert!((a.bn1.running_var - b.bn1.running_var).abs().max() < 1e-14);
}

/// PyTorch saves an integer `num_batches_tracked` with every batch norm; sinew's strict
/// loading accepts it (and nothing else that is unexpected).
#[test]
fn pytorch_batch_norm_counters_load() {
    let net = Tiny::<f32>::init(&mut sinew::rng(1));
    let dir = std::env::temp_dir().join(format!("sinew-cnn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bn.safetensors");
    let mut tensors: Vec<(String, safetensors::Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
    net.for_each_tensor(|info, values| {
        let mut row_major = vec![0.0f32; info.len()];
        info.to_row_major(values, &mut row_major);
        tensors.push((
            info.name.into(),
            safetensors::Dtype::F32,
            info.shape.to_vec(),
            bytemuck_bytes(&row_major),
        ));
    });
    tensors.push((
        "bn1.num_batches_tracked".into(),
        safetensors::Dtype::I64,
        vec![],
        7i64.to_le_bytes().to_vec(),
    ));
    let views: Vec<(&str, safetensors::tensor::TensorView)> = tensors
        .iter()
        .map(|(n, d, s, b)| (n.as_str(), safetensors::tensor::TensorView::new(*d, s.clone(), b).unwrap()))
        .collect();
    safetensors::serialize_to_file(views, None, &path).unwrap();
    let mut back = Tiny::<f32>::zeroed();
    sinew::io::load(&path, &mut back).unwrap();
    assert_eq!(back, net);
}

fn bytemuck_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}
