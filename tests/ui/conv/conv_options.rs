use sinew::network;

network! {
    pub struct Net {
        input: [1, 8, 8],
        c1: Conv2d(kernel = 3),
        c2: Conv2d(4, kernal = 3),
        c3: Conv2d(4, 8, kernel = 3),
        c4: Conv2d(4, kernel = (3, 3, 3), bias = 0),
        flat: Flatten,
        out: Dense(3),
    }
}

fn main() {}
