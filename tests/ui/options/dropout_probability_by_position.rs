use sinew::network;

network! {
    pub struct Mlp {
        input: 784,
        hidden: Dense(128) -> Relu,
        drop: Dropout(0.5),
        missing: Dropout,
        out: Dense(10),
    }
}

fn main() {}
