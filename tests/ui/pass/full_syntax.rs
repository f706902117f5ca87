//! Every piece of the dense syntax, in a crate that forbids unsafe code and requires docs.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use sinew::prelude::*;

network! {
    /// Docs and attributes pass through to the struct.
    #[derive(Clone)]
    #[allow(dead_code)]
    pub struct Everything {
        input: 10,
        /// The first hidden layer.
        a: Dense(16) -> Relu,
        b: Dense(16 => 12) -> LeakyRelu,
        c: Dense(8) -> LeakyRelu(0.2),
        d: Dense(8) -> LeakyRelu(slope = 0.1),
        drop: Dropout(keep = 0.5),
        e: Dense(6) -> Tanh,
        f: Dense(6) -> Sigmoid,
        g: Dense(5) -> Identity,
        keep_all: Dropout(keep = 1),
        out: Dense(4) -> Softmax,
    }
}

network! {
    struct Private {
        input: 3,
        out: Dense(1),
    }
}

fn main() {
    let mut rng = sinew::rng(0);
    let net = Everything::<f64>::init(&mut rng);
    let copy = net.clone();
    assert_eq!(net, copy);
    assert_eq!(Everything::<f32>::INPUT, 10);
    assert_eq!(Everything::<f32>::OUTPUT, 4);
    let mut ws = EverythingWorkspace::<3, f64>::zeroed();
    let x: EverythingInput<3, f64> = SMatrix::zeros();
    let out: &EverythingOutput<3, f64> = net.forward(&x, &mut ws);
    assert!((out.row_sum() - SMatrix::<f64, 1, 3>::repeat(1.0)).abs().max() < 1e-12);
    let p = Private::<f32>::zeroed();
    let mut pws = PrivateWorkspace::<1>::zeroed();
    assert_eq!(p.forward(&SMatrix::zeros(), &mut pws)[0], 0.0);
}
