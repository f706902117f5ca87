use sinew::network;

// Every mistake is reported, not just the first.
network! {
    pub struct Mlp {
        input: 784,
        hidden: Dense(100 => 128) -> Rleu,
        drop: Dropout(keep = 2.0),
        hidden: Dense(64) -> Tanh,
        extra: Dens(32),
        out: Dense(0),
    }
}

fn main() {}
