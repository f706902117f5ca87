use sinew::network;

network! {
    pub struct Mlp {
        input: 0,
        hidden: Dense(0) -> Relu,
        out: Dense(16 => 0),
    }
}

fn main() {}
