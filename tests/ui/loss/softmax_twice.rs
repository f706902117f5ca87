use sinew::prelude::*;

network! {
    /// The last layer applies softmax, and so does the fused loss.
    pub struct Classifier {
        input: 4,
        hidden: Dense(8) -> Relu,
        out: Dense(3) -> Softmax,
    }
}

fn main() {
    let mut rng = sinew::rng(0);
    let mut net = Classifier::<f32>::init(&mut rng);
    let mut tw = ClassifierTrainWorkspace::<2>::zeroed();
    let mut sgd = Sgd::new(0.1);
    let x = SMatrix::<f32, 4, 2>::zeros();
    let _ = net.train_step(&x, &[0, 1], &SoftmaxCrossEntropy, &mut sgd, &mut tw, &mut rng);
}
