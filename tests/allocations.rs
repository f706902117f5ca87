//! The hot paths allocate nothing: with a counting global allocator, `forward`, the
//! training forward pass with `backward`, the optimizer step and the one-call training
//! step allocate zero bytes once the network, workspaces and optimizer exist (W2: MLP
//! 784 -> 128 ReLU -> 10, softmax cross-entropy, batch 32, Adam; then every layer kind,
//! a graph with branches, `Concat`, residual blocks and global pooling, and the
//! data-parallel step on two threads).

use sinew::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static BYTES: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        BYTES.fetch_add(layout.size(), Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        BYTES.fetch_add(layout.size(), Ordering::SeqCst);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        BYTES.fetch_add(new_size, Ordering::SeqCst);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations and bytes allocated while running `f`.
fn count(f: impl FnOnce()) -> (usize, usize) {
    let (a0, b0) = (ALLOCATIONS.load(Ordering::SeqCst), BYTES.load(Ordering::SeqCst));
    f();
    (ALLOCATIONS.load(Ordering::SeqCst) - a0, BYTES.load(Ordering::SeqCst) - b0)
}

network! {
    /// W2.
    pub struct W2 {
        input: 784,
        hidden: Dense(128) -> Relu,
        out: Dense(10),
    }
}

network! {
    /// Every layer kind and activation, with dropout.
    pub struct Everything {
        input: 64,
        a: Dense(48) -> LeakyRelu,
        drop: Dropout(keep = 0.9),
        b: Dense(32) -> Tanh,
        c: Dense(16) -> Sigmoid,
        out: Dense(10) -> Softmax,
    }
}

network! {
    /// LeNet-5 with batch norm and a transposed convolution added, to cover every layer.
    pub struct Conv {
        input: [1, 28, 28],
        c1: Conv2d(6, kernel = 5, padding = 2, bias = false),
        bn: BatchNorm -> Relu,
        s2: MaxPool2d(2),
        c3: Conv2d(16, kernel = 5) -> Relu,
        s4: AvgPool2d(2),
        up: ConvTranspose2d(4, kernel = 2, stride = 2) -> Tanh,
        flat: Flatten,
        f5: Dense(120) -> Relu,
        out: Dense(10),
    }
}

network! {
    /// A language model over token ids: embedding, a GRU and an LSTM stacked, a dense layer at
    /// every step.
    pub struct Chars {
        input: Tokens(12, vocab = 27),
        emb: Embedding(8),
        gru: Gru(16),
        lstm: Lstm(16),
        out: Dense(27, steps = all),
    }
}

network! {
    /// A character model that generates: embedding, LSTM, a dense layer at every step.
    pub struct Speller {
        input: Tokens(12, vocab = 27),
        emb: Embedding(8),
        rnn: Lstm(16),
        out: Dense(27, steps = all),
    }
}

network! {
    /// A tanh RNN's last state over a sequence of features.
    pub struct Rows {
        input: Sequence(8, 4),
        rnn: Rnn(8, steps = last),
        out: Dense(3),
    }
}

// One test function: the counters are global, and tests run on parallel threads.
#[test]
fn hot_paths_allocate_nothing() {
    let mut rng = sinew::rng(1);
    let mut net = W2::<f32>::boxed_init(&mut rng);
    let mut ws = W2Workspace::<32>::boxed();
    let mut tw = W2TrainWorkspace::<32>::boxed();
    let mut adam = Adam::<f32, W2>::boxed(AdamConfig::default());
    let mut x = SMatrix::<f32, 784, 32>::zeros();
    sinew::init::Init::Xavier.fill(x.as_mut_slice(), 1, 1, &mut rng);
    let y: [usize; 32] = std::array::from_fn(|i| i % 10);
    // Warm-up: anything lazily set up on first use (e.g. per-thread GEMM buffers) happens here.
    net.train_step(&x, &y, &SoftmaxCrossEntropy, &mut *adam, &mut tw, &mut rng).unwrap();
    net.forward(&x, &mut ws);

    let forward = count(|| {
        std::hint::black_box(net.forward(&x, &mut ws));
    });
    assert_eq!(forward, (0, 0), "forward allocated");

    let backward = count(|| {
        net.forward_train(&x, &mut tw, &mut rng);
        SoftmaxCrossEntropy.gradient(&tw.out.value, &y, &mut tw.out.grad);
        net.backward(&x, &mut tw, None);
    });
    assert_eq!(backward, (0, 0), "training forward + backward allocated");

    let step = count(|| adam.step(&mut net, &tw.grads));
    assert_eq!(step, (0, 0), "optimizer step allocated");

    let train = count(|| {
        for _ in 0..3 {
            net.train_step(&x, &y, &SoftmaxCrossEntropy, &mut *adam, &mut tw, &mut rng).unwrap();
        }
    });
    assert_eq!(train, (0, 0), "train_step allocated");

    // Every other layer kind, activation and optimizer.
    let mut net = Everything::<f32>::boxed_init(&mut rng);
    let mut tw = EverythingTrainWorkspace::<8>::boxed();
    let mut momentum = Momentum::<f32, Everything>::boxed(MomentumConfig::default());
    let mut rms = RmsProp::<f32, Everything>::boxed(RmsPropConfig::default());
    let mut sgd = Sgd::new(0.01);
    let x = SMatrix::<f32, 64, 8>::repeat(0.1);
    let y = SMatrix::<f32, 10, 8>::repeat(0.1);
    net.train_step(&x, &y, &L2, &mut *momentum, &mut tw, &mut rng).unwrap();
    let others = count(|| {
        net.train_step(&x, &y, &L2, &mut *momentum, &mut tw, &mut rng).unwrap();
        net.train_step(&x, &y, &L1, &mut *rms, &mut tw, &mut rng).unwrap();
        net.train_step(&x, &y, &L2, &mut sgd, &mut tw, &mut rng).unwrap();
    });
    assert_eq!(others, (0, 0), "other layers or optimizers allocated");

    // Convolutions, pooling, batch norm, transposed convolution (batch 32 workspaces are
    // megabytes: built on the heap).
    let mut net = Conv::<f32>::boxed_init(&mut rng);
    let mut ws = ConvWorkspace::<32>::boxed();
    let mut tw = ConvTrainWorkspace::<32>::boxed();
    let mut momentum = Momentum::<f32, Conv>::boxed(MomentumConfig::default());
    let x = Box::new(SMatrix::<f32, 784, 32>::repeat(0.5));
    let y: [usize; 32] = std::array::from_fn(|i| i % 10);
    net.train_step(&*x, &y, &SoftmaxCrossEntropy, &mut *momentum, &mut tw, &mut rng).unwrap();
    net.forward(&*x, &mut ws);
    let conv = count(|| {
        std::hint::black_box(net.forward(&*x, &mut ws));
        net.train_step(&*x, &y, &SoftmaxCrossEntropy, &mut *momentum, &mut tw, &mut rng).unwrap();
        net.train_step_partial(&*x, &y, 7, &SoftmaxCrossEntropy, &mut *momentum, &mut tw, &mut rng).unwrap();
    });
    assert_eq!(conv, (0, 0), "convolutional layers allocated");

    // The data-parallel step (`Fit::<B, C>`'s): four chunks of 8 with batch norm, each
    // on its own copy of the network, on a pool of two threads, as `Fit` runs it (its whole
    // loop inside the pool). The copies and workspaces are made once, outside the count.
    let samples: Vec<[f32; 784]> =
        (0..32).map(|i| std::array::from_fn(|j| ((i * 31 + j) % 17) as f32 / 17.0)).collect();
    let data = sinew::data::Dataset::<f32, 784>::new(samples, (0..32).map(|i| i % 10).collect()).unwrap();
    let indices: Vec<usize> = (0..32).collect();
    let mut chunks = sinew::train::DataParallel::<f32, Conv<f32>, usize, 784, 10, 8>::new(4);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    let parallel = pool.install(|| {
        chunks.load(&data, &indices);
        chunks.step(&mut net, &SoftmaxCrossEntropy, &mut *momentum, &mut rng).unwrap();
        count(|| {
            for _ in 0..100 {
                chunks.load(&data, &indices[..27]);
                chunks.step(&mut net, &SoftmaxCrossEntropy, &mut *momentum, &mut rng).unwrap();
            }
        })
    });
    assert_eq!(parallel, (0, 0), "the data-parallel step allocated");

    // A graph: branches, `Concat`, residual blocks with fan-out, global pooling, with Adam.
    let mut net = sinew::example::Residual::<f32>::boxed_init(&mut rng);
    let mut ws = sinew::example::ResidualWorkspace::<16>::boxed();
    let mut tw = sinew::example::ResidualTrainWorkspace::<16>::boxed();
    let mut adam = Adam::<f32, sinew::example::Residual>::boxed(AdamConfig::default());
    let x = Box::new(SMatrix::<f32, 64, 16>::repeat(0.5));
    let y: [usize; 16] = std::array::from_fn(|i| i % 10);
    let mut dx = Box::new(SMatrix::<f32, 64, 16>::zeros());
    net.train_step(&*x, &y, &SoftmaxCrossEntropy, &mut *adam, &mut tw, &mut rng).unwrap();
    net.forward(&*x, &mut ws);
    let graph = count(|| {
        std::hint::black_box(net.forward(&*x, &mut ws));
        net.train_step(&*x, &y, &SoftmaxCrossEntropy, &mut *adam, &mut tw, &mut rng).unwrap();
        net.backward(&*x, &mut tw, Some(&mut *dx));
    });
    assert_eq!(graph, (0, 0), "a graph network allocated");

    // Sequences: embedding, stacked recurrent layers, per-step dense and loss with a mask,
    // backpropagation through time, clipped Adam; and generation, one token at a time.
    let mut net = Chars::<f32>::boxed_init(&mut rng);
    let mut ws = CharsWorkspace::<16>::boxed();
    let mut tw = CharsTrainWorkspace::<16>::boxed();
    let mut clipped = sinew::optim::ClipGradNorm::new(Adam::<f32, Chars>::new(AdamConfig::default()), 1e-3);
    let ids = Box::new(SMatrix::<f32, 12, 16>::from_fn(|t, j| ((t * 5 + j * 3) % 27) as f32));
    let targets = sinew::loss::StepTargets {
        classes: SMatrix::<f32, 12, 16>::from_fn(|t, j| ((t * 7 + j) % 27) as f32),
        mask: SMatrix::<f32, 12, 16>::from_fn(|t, j| if t < 4 + j % 8 { 1.0 } else { 0.0 }),
    };
    let loss = sinew::loss::StepCrossEntropy;
    net.train_step(&*ids, &targets, &loss, &mut clipped, &mut tw, &mut rng).unwrap();
    net.forward(&*ids, &mut ws);
    let speller = Speller::<f32>::boxed_init(&mut rng);
    let mut generator = sinew::generate::Generator::new();
    let mut letters = [0usize; 12];
    let sequences = count(|| {
        std::hint::black_box(net.forward(&*ids, &mut ws));
        net.train_step(&*ids, &targets, &loss, &mut clipped, &mut tw, &mut rng).unwrap();
        let n =
            generator.generate(&speller.emb, &speller.rnn, &speller.out, 0, 0, 1.0, &mut letters, &mut rng);
        std::hint::black_box(n);
    });
    assert_eq!(sequences, (0, 0), "sequence layers, clipping or generation allocated");
    assert!(clipped.last_norm() > 1e-3, "the gradients were clipped");
    let mut net = Rows::<f32>::boxed_init(&mut rng);
    let mut tw = RowsTrainWorkspace::<4>::boxed();
    let mut sgd = Sgd::new(0.01);
    let x = SMatrix::<f32, 32, 4>::repeat(0.3);
    let y = [0, 1, 2, 0];
    net.train_step(&x, &y, &SoftmaxCrossEntropy, &mut sgd, &mut tw, &mut rng).unwrap();
    let rnn = count(|| {
        net.train_step(&x, &y, &SoftmaxCrossEntropy, &mut sgd, &mut tw, &mut rng).unwrap();
    });
    assert_eq!(rnn, (0, 0), "a tanh RNN allocated");

    // Shared weights (a triplet step), augmentation of a batch, box utilities.
    let mut net = Everything::<f32>::boxed_init(&mut rng);
    let mut tws = Box::new([(); 3].map(|()| EverythingTrainWorkspace::<8>::zeroed()));
    let mut adam = Adam::<f32, Everything>::boxed(AdamConfig::default());
    let xs = Box::new([0.1f32, 0.2, 0.3].map(SMatrix::<f32, 64, 8>::repeat));
    let triplet = sinew::loss::TripletLoss { margin: 0.2 };
    let augment = sinew::augment::Augment {
        shift: 2,
        flip: true,
        scale: 0.1,
        brightness: 0.1,
        contrast: 0.1,
        ..sinew::augment::Augment::none([1, 28, 28])
    };
    let mut batch = Box::new(SMatrix::<f32, 784, 8>::repeat(0.5));
    let mut scratch = vec![0.0f32; 784];
    let boxes = [[0.0f32, 0.0, 1.0, 1.0], [0.1, 0.0, 1.1, 1.0], [2.0, 2.0, 3.0, 3.0]];
    let (mut order, mut keep, mut ious) = ([0usize; 3], [0usize; 3], [0.0f32; 9]);
    let step = |net: &mut Everything,
                tws: &mut [EverythingTrainWorkspace<8>; 3],
                adam: &mut Adam<f32, Everything>,
                rng: &mut sinew::Rng| {
        let [a, p, n] = &*xs;
        sinew::model::train_step_shared(
            net,
            [a, p, n],
            tws,
            |[(a, ga), (p, gp), (n, gn)]| triplet.gradient(a, p, n, 8, ga, gp, gn),
            adam,
            rng,
        )
        .unwrap();
    };
    step(&mut net, &mut tws, &mut adam, &mut rng);
    let vision = count(|| {
        step(&mut net, &mut tws, &mut adam, &mut rng);
        augment.batch(batch.as_mut_slice(), 8, &mut scratch, &mut rng);
        sinew::boxes::iou_matrix(&boxes, &boxes, &mut ious);
        std::hint::black_box(sinew::boxes::nms(&boxes, &[0.9, 0.8, 0.7], 0.5, &mut order, &mut keep));
    });
    assert_eq!(vision, (0, 0), "shared weights, augmentation or box utilities allocated");

    // The counter itself works.
    let boxed = count(|| {
        std::hint::black_box(Box::new(1u64));
    });
    assert_eq!(boxed, (1, 8));
}
