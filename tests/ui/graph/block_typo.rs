// A misspelt name inside a block gets a suggestion among the block's own names.
use sinew::prelude::*;

network! {
    block Res {
        conv: Conv2d(4, kernel = 3, padding = same),
        sum: Add(cnov, input) -> Relu,
    }

    pub struct Net {
        input: [4, 8, 8],
        b1: Res,
        pool: GlobalAvgPool,
        out: Dense(2),
    }
}

fn main() {}
