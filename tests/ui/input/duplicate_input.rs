use sinew::network;

network! {
    pub struct Mlp {
        input: 784,
        input: 28,
        out: Dense(10),
    }
}

fn main() {}
