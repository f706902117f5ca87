use sinew::network;

network! {
    pub struct Net {
        input: [3, 32, 32],
        c1: Conv2d(8, kernel = 3, stride = 0),
        c2: Conv2d(8, kernel = (0, 3)),
        p: MaxPool2d(0),
        flat: Flatten,
        out: Dense(10),
    }
}

fn main() {}
