use sinew::network;

network! {
    pub struct Net {
        input: 16,
        a: Dense(8),
        bn: BatchNorm(eps = 0, momentum = 1.5, affine = false),
        out: Dense(2),
    }
}

fn main() {}
