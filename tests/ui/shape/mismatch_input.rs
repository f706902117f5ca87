use sinew::network;

network! {
    pub struct Mlp {
        input: 784,
        hidden: Dense(100 => 128) -> Relu,
        out: Dense(10),
    }
}

fn main() {}
