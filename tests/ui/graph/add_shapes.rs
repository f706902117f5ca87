// An `Add` of values whose shapes differ: both layers and both shapes are named.
use sinew::prelude::*;

network! {
    pub struct Residual {
        input: [8, 14, 14],
        c1: Conv2d(16, kernel = 3, padding = same) -> Relu,
        c2: Conv2d(16, kernel = 3, padding = same),
        sum: Add(c2, input) -> Relu,
        pool: GlobalAvgPool,
        out: Dense(10),
    }
}

fn main() {}
