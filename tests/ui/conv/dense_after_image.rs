use sinew::network;

network! {
    pub struct LeNet {
        input: [1, 28, 28],
        c1: Conv2d(6, kernel = 5, padding = 2) -> Relu,
        s2: MaxPool2d(2),
        f3: Dense(120) -> Relu,
        out: Dense(10),
    }
}

fn main() {}
