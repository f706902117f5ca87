// A branch computed and never used: an error, since its parameters would never train.
use sinew::prelude::*;

network! {
    pub struct Branches {
        input: 8,
        left: Dense(8) -> Relu,
        right: Dense(8, from = input) -> Relu,
        out: Dense(2, from = left),
    }
}

fn main() {}
