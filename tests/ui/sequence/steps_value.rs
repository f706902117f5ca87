use sinew::network;

network! {
    /// `steps` is `all` or `last`.
    pub struct Net {
        input: Sequence(5, 3),
        rnn: Gru(8, steps = first),
        out: Dense(2),
    }
}

fn main() {}
