// Issue 8: a batch of 16 with buffers made for 8 was a type mismatch blamed on the
// workspace argument; the error now says the batch sizes differ and names the input's.
use sinew::prelude::*;

network! {
    pub struct Mlp {
        input: 4,
        out: Dense(2),
    }
}

fn main() {
    let net = Mlp::<f32>::zeroed();
    let mut ws = MlpWorkspace::<8>::zeroed();
    let x = MlpInput::<16>::zeros();
    net.forward(&x, &mut ws);
}
