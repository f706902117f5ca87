use sinew::network;

network! {
    /// Token ids fed to a dense layer.
    pub struct Net {
        input: Tokens(12, vocab = 27),
        hidden: Dense(16),
    }
}

fn main() {}
