use sinew::network;

network! {
    pub struct Nothing {
        input: 784,
    }
}

fn main() {}
