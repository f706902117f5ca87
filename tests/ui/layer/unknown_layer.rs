use sinew::network;

network! {
    pub struct Mlp {
        input: 784,
        hidden: Dens(128) -> Relu,
        norm: Linear(10),
    }
}

fn main() {}
