use sinew::network;

network! {
    pub struct Net {
        input: [1, 28, 28],
        c1: Conv2d(6, kernel = 5) -> Relu,
        s2: MaxPool2d(2),
        c3: Conv2d(16, kernel = 5) -> Relu,
        s4: MaxPool2d(2),
        c5: Conv2d(32, kernel = 5),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
