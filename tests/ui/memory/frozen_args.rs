use sinew::prelude::*;

network! {
    pub struct Mlp {
        input: 4,
        #[frozen(true)]
        hidden: Dense(8) -> Relu,
        out: Dense(2),
    }
}

fn main() {}
