// Issue 8: a wrong number of labels for the batch names the labels and both counts.
use sinew::prelude::*;

network! {
    pub struct Mlp {
        input: 3,
        out: Dense(3),
    }
}

fn main() {
    let mut rng = sinew::rng(0);
    let mut net = Mlp::<f32>::init(&mut rng);
    let mut tw = MlpTrainWorkspace::<8>::zeroed();
    let mut sgd = Sgd::new(0.1);
    let x = MlpInput::<8>::zeros();
    let labels = [0usize; 6];
    net.train_step(&x, &labels, &SoftmaxCrossEntropy, &mut sgd, &mut tw, &mut rng).unwrap();
}
