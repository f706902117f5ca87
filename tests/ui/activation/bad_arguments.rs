use sinew::network;

network! {
    pub struct Mlp {
        input: 784,
        hidden: Dense(128) -> Relu(0.1),
        more: Dense(64) -> LeakyRelu(-0.2),
        last: Dense(32) -> LeakyRelu(alpha = 0.2),
        out: Dense(10),
    }
}

fn main() {}
