use sinew::network;

network! {
    pub struct Net {
        input: [2, 9, 9],
        p1: MaxPool2d(2, padding = 2),
        p2: AvgPool2d(kernal = 2),
        p3: MaxPool2d(),
        flat: Flatten,
        out: Dense(3),
    }
}

fn main() {}
