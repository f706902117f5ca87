use sinew::prelude::*;

network! {
    #[budget(batch = 4)]
    pub struct Mlp {
        input: 4,
        hidden: Dense(8) -> Relu,
        out: Dense(2),
    }
}

fn main() {}
