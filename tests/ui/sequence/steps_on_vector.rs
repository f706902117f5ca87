use sinew::network;

network! {
    /// `steps = all` on a dense layer that reads a vector.
    pub struct Net {
        input: Sequence(5, 3),
        rnn: Gru(8, steps = last),
        out: Dense(2, steps = all),
    }
}

fn main() {}
