// A block used with the wrong number of parameters.
use sinew::prelude::*;

network! {
    block Res(channels) {
        c1: Conv2d(channels, kernel = 3, padding = same),
        sum: Add(c1, input) -> Relu,
    }

    pub struct Net {
        input: [4, 8, 8],
        b1: Res(4, 8),
        pool: GlobalAvgPool,
        out: Dense(2),
    }
}

fn main() {}
