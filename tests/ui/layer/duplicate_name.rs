use sinew::network;

network! {
    pub struct Mlp {
        input: 784,
        hidden: Dense(128) -> Relu,
        hidden: Dense(64) -> Relu,
        out: Dense(10),
    }
}

fn main() {}
