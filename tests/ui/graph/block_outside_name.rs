// A block reads only its input and its own layers.
use sinew::prelude::*;

network! {
    block Res {
        c1: Conv2d(4, kernel = 3, padding = same),
        sum: Add(c1, stem) -> Relu,
    }

    pub struct Net {
        input: [4, 8, 8],
        stem: Conv2d(4, kernel = 1),
        b1: Res,
        pool: GlobalAvgPool,
        out: Dense(2),
    }
}

fn main() {}
