use sinew::network;

network! {
    pub struct Net {
        input: [1, 4, 4],
        c: Conv2d(3, kernel = 3) -> Softmax,
        flat: Flatten,
        out: Dense(3),
    }
}

fn main() {}
