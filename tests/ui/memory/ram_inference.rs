use sinew::prelude::*;

network! {
    /// (128 + 10) values × 64 samples × 4 bytes = 35,328 bytes of workspace.
    #[budget(ram = 32K, batch = 64)]
    pub struct Batched {
        input: 64,
        hidden: Dense(128) -> Relu,
        out: Dense(10),
    }
}

fn main() {}
