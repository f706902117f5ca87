//! Large networks are built on the heap and never overflow a 2 MiB thread stack, even in
//! a debug build: the W2 network (784 -> 128 ReLU -> 10, 407 KB of f32 parameters) with
//! Adam (two more copies) and a batch-32 training workspace (which holds a third copy for
//! the gradients) is built and trained on such a thread.

use sinew::prelude::*;

network! {
    /// W2.
    pub struct W2 {
        input: 784,
        hidden: Dense(128) -> Relu,
        out: Dense(10),
    }
}

#[test]
fn w2_trains_with_adam_on_a_2_mib_stack() {
    let handle = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(|| {
            let mut rng = sinew::rng(1);
            let mut net = W2::<f32>::boxed_init(&mut rng);
            let mut adam = Adam::<f32, W2>::boxed(AdamConfig::with_lr(1e-3));
            let mut tw = W2TrainWorkspace::<32>::boxed();
            let mut ws = W2Workspace::<32>::boxed();
            let mut x = Box::new(SMatrix::<f32, 784, 32>::zeros());
            sinew::init::Init::Xavier.fill(x.as_mut_slice(), 1, 1, &mut rng);
            let y: [usize; 32] = std::array::from_fn(|i| i % 10);
            let first = net.train_step(&*x, &y, &SoftmaxCrossEntropy, &mut *adam, &mut tw, &mut rng).unwrap();
            let mut last = first;
            for _ in 0..20 {
                last = net.train_step(&*x, &y, &SoftmaxCrossEntropy, &mut *adam, &mut tw, &mut rng).unwrap();
            }
            assert!(last < first, "loss {first} -> {last}");
            let out = net.forward(&*x, &mut ws);
            assert!(out.iter().all(|v| v.is_finite()));
        })
        .unwrap();
    handle.join().expect("the training thread overflowed its stack or panicked");
}
