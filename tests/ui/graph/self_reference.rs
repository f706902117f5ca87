// A layer that reads itself.
use sinew::prelude::*;

network! {
    pub struct Loop {
        input: 8,
        a: Dense(8) -> Relu,
        b: Add(a, b),
        out: Dense(2),
    }
}

fn main() {}
