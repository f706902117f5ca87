//! Frozen layers: never updated, no gradient buffer or optimizer state, and the backward
//! pass stops below the last trained layer unless the caller asks for `dL/dx`. The
//! gradients themselves are checked by finite differences in `gradient_check.rs`.

use sinew::optim::{Adam, AdamConfig, Momentum, MomentumConfig, Optimizer, Sgd};
use sinew::prelude::*;
use sinew::{Parameters, Trainable};

network! {
    /// Trained end to end first.
    pub struct Full {
        input: 4,
        hidden: Dense(16) -> Tanh,
        out: Dense(3),
    }
}

network! {
    /// The same layers, `hidden` frozen: transfer learning of the output layer.
    pub struct Head {
        input: 4,
        #[frozen]
        hidden: Dense(16) -> Tanh,
        out: Dense(3),
    }
}

network! {
    /// A frozen layer between two trained ones.
    pub struct Sandwich {
        input: 4,
        first: Dense(6) -> Relu,
        #[frozen]
        middle: Dense(6) -> Tanh,
        out: Dense(2),
    }
}

/// Three well-separated classes in 4 dimensions.
fn task(seed: u64) -> (SMatrix<f32, 4, 30>, [usize; 30]) {
    let mut rng = sinew::rng(seed);
    let mut x = SMatrix::<f32, 4, 30>::zeros();
    sinew::init::Init::Xavier.fill(x.as_mut_slice(), 1, 1, &mut rng);
    let mut y = [0; 30];
    for (j, label) in y.iter_mut().enumerate() {
        *label = j % 3;
        x[(*label, j)] += 2.0;
    }
    (x, y)
}

#[test]
fn the_gradient_type_holds_only_the_trained_layers() {
    let names: Vec<&str> = <HeadGrads as Parameters<f32>>::TENSORS.iter().map(|t| t.name).collect();
    assert_eq!(names, ["out.weight", "out.bias"]);
    let names: Vec<&str> = <SandwichGrads as Parameters<f32>>::TENSORS.iter().map(|t| t.name).collect();
    assert_eq!(names, ["first.weight", "first.bias", "out.weight", "out.bias"]);
    // The network itself still has (and saves, and loads) every tensor.
    assert_eq!(<Head as Parameters<f32>>::TENSORS.len(), 4);
    // `trainable_mut(i)` is the network tensor of gradient `i`.
    let mut net = Sandwich::<f32>::init(&mut sinew::rng(1));
    let out_bias = net.out.bias.as_slice().to_vec();
    assert_eq!(net.trainable_mut(3), &out_bias[..]);
    let first_weight = net.first.weight.as_slice().to_vec();
    assert_eq!(net.trainable_mut(0), &first_weight[..]);
    // Gradients that skip the frozen layer cost less memory.
    assert!(std::mem::size_of::<HeadGrads>() < std::mem::size_of::<Head>());
}

#[test]
fn transfer_learning_trains_the_head_and_never_touches_the_frozen_layer() {
    // Train the whole network on one task.
    let (x, y) = task(1);
    let mut full = Full::<f32>::init(&mut sinew::rng(2));
    let mut adam = Adam::new(AdamConfig::with_lr(0.05));
    let mut tw = FullTrainWorkspace::<30>::zeroed();
    for _ in 0..100 {
        full.train_step(&x, &y, &SoftmaxCrossEntropy, &mut adam, &mut tw, &mut sinew::rng(0)).unwrap();
    }
    // Move its weights into the frozen-hidden declaration, then retrain a fresh head on
    // a permuted task.
    let bytes = sinew::io::WeightWriter::new().add("", &full).to_bytes().unwrap();
    let mut head = Head::<f32>::zeroed();
    let mut file = sinew::io::WeightFile::from_bytes(bytes).unwrap();
    file.load_into("", &mut head).unwrap();
    file.ensure_all_used().unwrap();
    assert_eq!(head.hidden, full.hidden);
    head.out = sinew::layers::Dense::zeroed();
    let hidden_before = head.hidden.clone();
    let permuted: [usize; 30] = y.map(|c| (c + 1) % 3);
    let mut adam = Adam::new(AdamConfig::with_lr(0.05));
    let mut tw = HeadTrainWorkspace::<30>::zeroed();
    let first =
        head.train_step(&x, &permuted, &SoftmaxCrossEntropy, &mut adam, &mut tw, &mut sinew::rng(0)).unwrap();
    let mut last = first;
    for _ in 0..200 {
        last = head
            .train_step(&x, &permuted, &SoftmaxCrossEntropy, &mut adam, &mut tw, &mut sinew::rng(0))
            .unwrap();
    }
    assert!(last < 0.1 * first, "loss {first} -> {last}");
    // Bit for bit unchanged.
    assert_eq!(head.hidden, hidden_before);
    assert_eq!(adam.steps(), 201);
}

#[test]
fn every_optimizer_leaves_a_frozen_middle_layer_alone() {
    let (x, y) = task(3);
    let y = y.map(|c| c % 2);
    let start = Sandwich::<f32>::init(&mut sinew::rng(4));
    let mut sgd_net = start.clone();
    let mut momentum_net = start.clone();
    let mut tw = SandwichTrainWorkspace::<30>::zeroed();
    let mut sgd = Sgd::new(0.1);
    let mut momentum = Momentum::new(MomentumConfig { lr: 0.05, ..MomentumConfig::default() });
    for _ in 0..20 {
        sgd_net.train_step(&x, &y, &SoftmaxCrossEntropy, &mut sgd, &mut tw, &mut sinew::rng(0)).unwrap();
        momentum_net
            .train_step(&x, &y, &SoftmaxCrossEntropy, &mut momentum, &mut tw, &mut sinew::rng(0))
            .unwrap();
    }
    for net in [&sgd_net, &momentum_net] {
        assert_eq!(net.middle, start.middle);
        assert_ne!(net.first, start.first, "the layer below the frozen one trains");
        assert_ne!(net.out, start.out);
    }
}

#[test]
fn backward_stops_below_the_last_trained_layer_unless_dx_is_asked_for() {
    let net = Head::<f32>::init(&mut sinew::rng(5));
    let (x, y) = task(6);
    let mut tw = HeadTrainWorkspace::<30>::zeroed();
    let forward_and_loss = |tw: &mut HeadTrainWorkspace<30>| {
        let mut net = net.clone();
        net.forward_train(&x, tw, &mut sinew::rng(0));
        let _ = SoftmaxCrossEntropy.gradient(&tw.out.value, &y, &mut tw.out.grad);
        net
    };
    // Nothing below `out` is trained: the gradient into `hidden` is not computed.
    let net = forward_and_loss(&mut tw);
    tw.hidden.grad.fill(f32::NAN);
    net.backward(&x, &mut tw, None);
    assert!(tw.hidden.grad.iter().all(|v| v.is_nan()), "backward went below the last trained layer");
    assert!(tw.grads.out.weight.iter().all(|v| v.is_finite()) && tw.grads.out.weight.norm() > 0.0);
    // Asked for dL/dx, it goes all the way down.
    let mut dx = SMatrix::<f32, 4, 30>::from_element(f32::NAN);
    net.backward(&x, &mut tw, Some(&mut dx));
    assert!(tw.hidden.grad.iter().all(|v| v.is_finite()));
    assert!(dx.iter().all(|v| v.is_finite()) && dx.norm() > 0.0);
}

#[test]
fn optimizers_step_boxed_networks() {
    let mut net = Head::<f32>::boxed_init(&mut sinew::rng(7));
    let before = net.hidden.clone();
    let grads = HeadGrads::<f32>::zeroed();
    let mut adam = Adam::<f32, HeadGrads>::boxed(AdamConfig::default());
    adam.step(&mut net, &grads);
    let mut sgd = Sgd::new(0.1);
    Optimizer::<f32, _>::step(&mut sgd, &mut net, &grads);
    assert_eq!(net.hidden, before);
}

/// The fit loop trains a network with a frozen layer, and its checkpoints hold optimizer
/// state for the trained layers only, and resume to the same result.
#[test]
fn fit_and_checkpoints_with_a_frozen_layer() {
    use sinew::train::{Checkpoints, Fit};
    let (x, y) = task(8);
    let samples: Vec<[f32; 4]> = x.column_iter().map(|c| [c[0], c[1], c[2], c[3]]).collect();
    let data = sinew::data::Dataset::new(samples, y.to_vec()).unwrap();
    let dir = std::env::temp_dir().join(format!("sinew-frozen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("frozen.safetensors");
    let fit = |epochs, checkpoints, resume_from| Fit::<8> {
        epochs,
        checkpoints,
        resume_from,
        progress: false,
        ..Fit::default()
    };
    let start = Head::<f32>::init(&mut sinew::rng(9));

    let mut full = start.clone();
    let mut adam = Adam::<f32, HeadGrads>::new(AdamConfig::with_lr(0.02));
    let history =
        fit(4, None, None).run(&mut full, &mut adam, &SoftmaxCrossEntropy, &data, None, &mut sinew::rng(3));
    let history = history.unwrap();
    assert!(history.epochs[3].train_loss < history.epochs[0].train_loss);
    assert_eq!(full.hidden, start.hidden);

    let mut half = start.clone();
    let mut adam = Adam::<f32, HeadGrads>::new(AdamConfig::with_lr(0.02));
    let checkpoints = Some(Checkpoints { path: path.clone(), every: 1 });
    fit(2, checkpoints, None)
        .run(&mut half, &mut adam, &SoftmaxCrossEntropy, &data, None, &mut sinew::rng(3))
        .unwrap();
    let names = sinew::io::WeightFile::read(&path).unwrap().names();
    assert!(names.iter().any(|n| n == "optimizer.exp_avg.out.weight"), "{names:?}");
    assert!(!names.iter().any(|n| n.starts_with("optimizer.") && n.contains("hidden")), "{names:?}");

    let mut resumed = Head::<f32>::zeroed();
    let mut adam = Adam::<f32, HeadGrads>::new(AdamConfig::with_lr(0.02));
    fit(4, None, Some(path))
        .run(&mut resumed, &mut adam, &SoftmaxCrossEntropy, &data, None, &mut sinew::rng(77))
        .unwrap();
    assert_eq!(resumed, full);
}
