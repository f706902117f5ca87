// Issue 8: a layer named like a generated field (`grads`, `samples`) is one clear error.
sinew::network! {
    pub struct Mlp {
        input: 4,
        grads: Dense(8) -> Relu,
        samples: Dense(2),
    }
}

fn main() {}
