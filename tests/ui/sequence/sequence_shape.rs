use sinew::network;

network! {
    /// A sequence shape needs steps and features.
    pub struct Net {
        input: Sequence(5),
        rnn: Gru(8, steps = last),
        out: Dense(2),
    }
}

fn main() {}
