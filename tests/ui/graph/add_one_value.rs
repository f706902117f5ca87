// `Add` with a single value adds nothing.
use sinew::prelude::*;

network! {
    pub struct Net {
        input: 4,
        a: Dense(4),
        sum: Add(a),
        out: Dense(2),
    }
}

fn main() {}
