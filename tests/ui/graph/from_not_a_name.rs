// `from` takes a layer name.
use sinew::prelude::*;

network! {
    pub struct Net {
        input: 4,
        a: Dense(4, from = 3),
        out: Dense(2),
    }
}

fn main() {}
