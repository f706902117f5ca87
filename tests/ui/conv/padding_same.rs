// `padding = same` keeps the size only for a convolution of stride 1 with an odd kernel.
sinew::network! {
    pub struct Strided {
        input: [3, 16, 16],
        c: Conv2d(8, kernel = 3, stride = 2, padding = same),
    }
}

sinew::network! {
    pub struct Even {
        input: [3, 16, 16],
        c: Conv2d(8, kernel = (3, 4), padding = same),
    }
}

sinew::network! {
    pub struct Pool {
        input: [3, 16, 16],
        p: MaxPool2d(3, stride = 1, padding = same),
    }
}

fn main() {}
