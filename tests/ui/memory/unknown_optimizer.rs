use sinew::prelude::*;

network! {
    #[budget(ram = 64K, optimizer = Adamw)]
    pub struct Mlp {
        input: 4,
        hidden: Dense(8) -> Relu,
        out: Dense(2),
    }
}

fn main() {}
