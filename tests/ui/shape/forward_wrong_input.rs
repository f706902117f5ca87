use sinew::prelude::*;

network! {
    pub struct Mlp {
        input: 4,
        out: Dense(2),
    }
}

fn main() {
    let net = Mlp::<f32>::zeroed();
    let mut ws = MlpWorkspace::<1>::zeroed();
    let x = SMatrix::<f32, 5, 1>::zeros();
    net.forward(&x, &mut ws);
}
