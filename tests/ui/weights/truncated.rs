use sinew::prelude::*;

network! {
    #[weights("truncated.safetensors")]
    pub struct Mlp {
        input: 4,
        hidden: Dense(8) -> Relu,
        out: Dense(2),
    }
}

fn main() {}
