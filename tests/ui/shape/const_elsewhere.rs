// A constant the macro cannot see, and a size expression it cannot evaluate: each error says
// what to do.
use sinew::prelude::*;

mod config {
    pub const WIDTH: usize = 8;
}

network! {
    const HIDDEN: usize = 16;
    /// Fine to declare (the program may use it), but not a size the macro can check.
    const BYTES: usize = core::mem::size_of::<u64>();

    pub struct Net {
        input: 4,
        a: Dense(config::WIDTH + 1),
        b: Dense(HIDDEN / 0),
        c: Dense(HIDDEN * WIDTH),
        d: Dense(BYTES),
        e: Dense(BYTES + 1),
        out: Dense(2),
    }
}

fn main() {}
