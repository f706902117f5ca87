use sinew::network;

network! {
    /// A dense layer straight after every step of an LSTM, without saying which steps.
    pub struct Net {
        input: Sequence(5, 3),
        rnn: Lstm(8),
        out: Dense(2),
    }
}

fn main() {}
