use sinew::network;

network! {
    pub enum Mlp {
        input: 784,
    }
}

fn main() {}
