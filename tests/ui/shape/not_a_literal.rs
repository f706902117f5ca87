use sinew::network;

const HIDDEN: usize = 32;

network! {
    pub struct Mlp {
        input: 8,
        hidden: Dense(HIDDEN) -> Relu,
        out: Dense(-3),
        last: Dense(2.5),
    }
}

fn main() {}
