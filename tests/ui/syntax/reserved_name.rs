use sinew::prelude::*;

network! {
    pub struct B {
        input: 4,
        out: Dense(2),
    }
}

fn main() {}
