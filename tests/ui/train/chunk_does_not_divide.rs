// `Fit::<B, C>` trains a batch of B in chunks of C: a chunk size that does not divide the
// batch is a compile error, not a ragged last chunk in every batch.
use sinew::prelude::*;

network! {
    pub struct Mlp {
        input: 2,
        out: Dense(2),
    }
}

fn main() {
    let data = Dataset::<f32, 2>::new(vec![[0.0; 2]], vec![1]).unwrap();
    let mut net = Mlp::<f32>::zeroed();
    let _ = Fit::<32, 5>::default().run(&mut net, &mut Sgd::new(0.1), &SoftmaxCrossEntropy, &data, None, &mut sinew::rng(0));
}
