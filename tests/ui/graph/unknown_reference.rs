// A reference to a layer that does not exist gets a "did you mean".
use sinew::prelude::*;

network! {
    pub struct Residual {
        input: 8,
        hidden: Dense(8) -> Relu,
        sum: Add(hiden, input),
        out: Dense(2),
    }
}

fn main() {}
