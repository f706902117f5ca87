use sinew::network;

network! {
    pub struct Net {
        input: [1, 8, 8],
        c1: Conv2d(4, kernel = 3, bias = false),
        bn1: BatchNorm,
        bn2: BatchNorm -> Relu,
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
