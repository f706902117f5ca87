use sinew::network;

network! {
    /// Token ids fed straight to a GRU.
    pub struct Net {
        input: Tokens(12, vocab = 27),
        rnn: Gru(16),
        out: Dense(27, steps = all),
    }
}

fn main() {}
