use sinew::prelude::*;

network! {
    /// The last layer applies the sigmoid, and so does the fused loss.
    pub struct Detector {
        input: 4,
        out: Dense(2) -> Sigmoid,
    }
}

fn main() {
    let mut rng = sinew::rng(0);
    let mut net = Detector::<f32>::init(&mut rng);
    let mut tw = DetectorTrainWorkspace::<1>::zeroed();
    let mut sgd = Sgd::new(0.1);
    let x = SMatrix::<f32, 4, 1>::zeros();
    let y = SMatrix::<f32, 2, 1>::zeros();
    let _ = net.train_step(&x, &y, &SigmoidBinaryCrossEntropy, &mut sgd, &mut tw, &mut rng);
}
