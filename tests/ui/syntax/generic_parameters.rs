use sinew::network;

network! {
    pub struct Mlp<T> {
        input: 784,
        out: Dense(10),
    }
}

fn main() {}
