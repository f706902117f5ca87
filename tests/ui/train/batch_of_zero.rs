// Issue 8: `Fit::<0>` divided by zero at run time; it is a compile error.
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
    let _ = Fit::<0>::default().run(&mut net, &mut Sgd::new(0.1), &SoftmaxCrossEntropy, &data, None, &mut sinew::rng(0));
}
