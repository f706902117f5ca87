use sinew::network;

network! {
    pub struct Mlp {
        input: 784,
        hidden: Dense(128),
        drop: Dropout(keep = 0.5) -> Relu,
        out: Dense(10),
    }
}

fn main() {}
