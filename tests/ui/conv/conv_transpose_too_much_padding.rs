use sinew::network;

network! {
    pub struct Net {
        input: [4, 1, 1],
        up: ConvTranspose2d(2, kernel = 2, padding = 1),
        flat: Flatten,
        out: Dense(3),
    }
}

fn main() {}
