use sinew::network;

network! {
    pub struct Net {
        input: 784,
        c1: Conv2d(6, kernel = 5) -> Relu,
        out: Dense(10),
    }
}

fn main() {}
