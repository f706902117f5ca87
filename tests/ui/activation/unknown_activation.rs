use sinew::network;

network! {
    pub struct Mlp {
        input: 784,
        hidden: Dense(128) -> Rleu,
        more: Dense(64) -> relu,
        out: Dense(10) -> Swish,
    }
}

fn main() {}
