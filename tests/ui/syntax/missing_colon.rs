use sinew::network;

network! {
    pub struct Mlp {
        input 784,
        hidden Dense(128) -> Relu,
        out: Dense(10) Relu,
    }
}

fn main() {}
