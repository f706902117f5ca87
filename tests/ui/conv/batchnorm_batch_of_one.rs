use sinew::prelude::*;

network! {
    pub struct Net {
        input: 4,
        a: Dense(8),
        bn: BatchNorm -> Relu,
        out: Dense(2),
    }
}

fn main() {
    let mut net = Net::<f32>::init(&mut sinew::rng(0));
    let mut tw = NetTrainWorkspace::<1>::zeroed();
    let x = NetInput::<1>::zeros();
    net.forward_train(&x, &mut tw, &mut sinew::rng(1));
}
