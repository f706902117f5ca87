use sinew::network;

network! {
    pub struct Mlp {
        input: 784,
        hidden: Dense(128, bias = false) -> Relu,
        drop: Dropout(kep = 0.5),
        out: Dense(10),
    }
}

fn main() {}
