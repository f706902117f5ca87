// A `Concat` of images whose height and width differ.
use sinew::prelude::*;

network! {
    pub struct Skip {
        input: [1, 8, 8],
        down: Conv2d(4, kernel = 3, stride = 2, padding = 1),
        up: Conv2d(4, kernel = 1, from = input),
        cat: Concat(up, down),
        pool: GlobalAvgPool,
        out: Dense(2),
    }
}

fn main() {}
