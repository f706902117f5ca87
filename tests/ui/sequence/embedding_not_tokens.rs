use sinew::network;

network! {
    /// An embedding reading a sequence of features.
    pub struct Net {
        input: Sequence(12, 4),
        emb: Embedding(16),
        rnn: Gru(32, steps = last),
        out: Dense(2),
    }
}

fn main() {}
