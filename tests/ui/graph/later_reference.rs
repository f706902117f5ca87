// A reference to a later layer would be a cycle.
use sinew::prelude::*;

network! {
    pub struct Cycle {
        input: 8,
        a: Dense(8, from = b) -> Relu,
        b: Dense(8) -> Relu,
        out: Dense(2),
    }
}

fn main() {}
