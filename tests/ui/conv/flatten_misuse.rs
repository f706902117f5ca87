use sinew::network;

network! {
    pub struct Net {
        input: [1, 4, 4],
        flat: Flatten,
        again: Flatten,
        out: Dense(3),
        img: MaxPool2d(2),
    }
}

fn main() {}
