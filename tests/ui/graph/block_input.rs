// A block whose input does not fit what feeds it: the error points at the use.
use sinew::prelude::*;

network! {
    block Res(channels) {
        c1: Conv2d(channels, kernel = 3, padding = same, bias = false),
        n1: BatchNorm -> Relu,
        sum: Add(n1, input) -> Relu,
    }

    pub struct Net {
        input: [1, 8, 8],
        stem: Conv2d(8, kernel = 3, padding = same),
        b1: Res(16),
        pool: GlobalAvgPool,
        out: Dense(2),
    }
}

fn main() {}
