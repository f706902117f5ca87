use sinew::network;

network! {
    pub struct LeNetHead {
        input: 400,
        f5: Dense(120) -> Relu,
        f6: Dense(64 => 84) -> Relu,
        out: Dense(10),
    }
}

fn main() {}
