use sinew::network;

network! {
    /// An embedding whose vocabulary differs from the input's.
    pub struct Net {
        input: Tokens(12, vocab = 27),
        emb: Embedding(26 => 16),
        rnn: Gru(32),
        out: Dense(27, steps = all),
    }
}

fn main() {}
