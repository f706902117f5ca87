use sinew::network;

network! {
    pub struct Mlp {
        hidden: Dense(128) -> Relu,
        out: Dense(10),
    }
}

fn main() {}
