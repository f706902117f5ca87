use sinew::prelude::*;

network! {
    #[budget(flash = 64K, ram = 64K, batch = 16, optimizer = Adam)]
    pub struct Trained {
        input: 64,
        hidden: Dense(128) -> Relu,
        out: Dense(10),
    }
}

fn main() {}
