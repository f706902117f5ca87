// An `Add` of an image and a vector.
use sinew::prelude::*;

network! {
    pub struct Mixed {
        input: [2, 4, 4],
        c: Conv2d(2, kernel = 1),
        flat: Flatten,
        d: Dense(32),
        sum: Add(d, c),
        out: Dense(3),
    }
}

fn main() {}
