use sinew::network;

network! {
    pub struct LeNet {
        input: [1, 28, 28],
        c1: Conv2d(6, kernel = 5) -> Relu => [6, 28, 28],
        s2: MaxPool2d(2) => [6, 12, 12],
        flat: Flatten => 864,
        out: Dense(10) => 12,
    }
}

fn main() {}
