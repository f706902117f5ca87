// A `Concat` of an image and a vector: flatten first.
use sinew::prelude::*;

network! {
    pub struct Mixed {
        input: [2, 3, 3],
        c: Conv2d(2, kernel = 1),
        flat: Flatten(from = input),
        d: Dense(4),
        cat: Concat(c, d),
        out: Dense(3),
    }
}

fn main() {}
