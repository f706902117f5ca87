use sinew::network;

network! {
    /// `Gru(4 => 8)` on 3 features per step.
    pub struct Net {
        input: Sequence(5, 3),
        rnn: Gru(4 => 8, steps = last),
        out: Dense(2),
    }
}

fn main() {}
