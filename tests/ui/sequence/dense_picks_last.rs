use sinew::network;

network! {
    /// A dense layer cannot pick the last step.
    pub struct Net {
        input: Sequence(5, 3),
        rnn: Gru(8),
        out: Dense(2, steps = last),
    }
}

fn main() {}
