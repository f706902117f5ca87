use sinew::network;

network! {
    pub struct Mlp {
        hidden: Dense(128) -> Relu,
        input: 784,
        out: Dense(10),
    }
}

fn main() {}
