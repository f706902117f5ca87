use sinew::prelude::*;

network! {
    /// 64·128 + 128 + 128·10 + 10 = 9,610 values: 38,440 bytes.
    #[budget(flash = 32K)]
    pub struct Big {
        input: 64,
        hidden: Dense(128) -> Relu,
        out: Dense(10),
    }
}

fn main() {}
