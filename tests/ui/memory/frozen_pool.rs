use sinew::prelude::*;

network! {
    pub struct Cnn {
        input: [1, 8, 8],
        c1: Conv2d(2, kernel = 3),
        #[frozen]
        pool: MaxPool2d(2),
        flat: Flatten,
        out: Dense(2),
    }
}

fn main() {}
