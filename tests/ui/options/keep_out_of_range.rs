use sinew::network;

network! {
    pub struct Mlp {
        input: 784,
        hidden: Dense(128) -> Relu,
        drop1: Dropout(keep = 1.5),
        more: Dense(64) -> Relu,
        drop2: Dropout(keep = 0),
        out: Dense(10),
    }
}

fn main() {}
