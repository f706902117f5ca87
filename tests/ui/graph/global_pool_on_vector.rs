// `GlobalAvgPool` needs an image.
use sinew::prelude::*;

network! {
    pub struct Net {
        input: 16,
        a: Dense(8),
        pool: GlobalAvgPool,
        out: Dense(2),
    }
}

fn main() {}
