use sinew::network;

network! {
    /// Softmax over a whole sequence of logits.
    pub struct Net {
        input: Sequence(5, 3),
        rnn: Gru(8),
        out: Dense(4, steps = all) -> Softmax,
    }
}

fn main() {}
