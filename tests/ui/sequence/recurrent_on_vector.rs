use sinew::network;

network! {
    /// A recurrent layer reading a flat vector.
    pub struct Net {
        input: 10,
        rnn: Rnn(8),
        out: Dense(2, steps = all),
    }
}

fn main() {}
