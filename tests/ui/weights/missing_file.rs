use sinew::prelude::*;

network! {
    #[weights("no_such_file.safetensors")]
    pub struct Mlp {
        input: 4,
        hidden: Dense(8) -> Relu,
        out: Dense(2),
    }
}

fn main() {}
